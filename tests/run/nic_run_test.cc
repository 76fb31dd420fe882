// `nicsim run` through the SystemC NIC (docs/nic-model.md), end to end: traces on several ports
// (--pcap PORT=FILE, pcapng interfaces), queue options and their drops, the VCD, determinism,
// and the options' errors. The traces are written here.
#include <gtest/gtest.h>
#include <jansson.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace {

using nicsim_test::nicsim;
using nicsim_test::Result;
using nicsim_test::slurp;
using nicsim_test::Tmp;

std::string obj(const std::string &name)
{
    return std::string(NICSIM_EXAMPLES_DIR) + "/" + name + ".bpf.o";
}
std::string src(const std::string &rel)
{
    return std::string(NICSIM_EXAMPLES_SOURCE_DIR) + "/" + rel;
}
std::string fw()
{
    return obj("firewall") + " --maps-dir " + src("firewall.maps");
}

// An Ethernet + IPv4 + UDP frame of 60 bytes from UDP source port `sport`.
std::vector<uint8_t> udp(uint16_t sport)
{
    std::vector<uint8_t> f(60, 0);
    const uint8_t hdr[] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, // eth
                           0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0,           // ip
                           10,   0, 0, 1, 10, 0, 0, 2};
    memcpy(f.data(), hdr, sizeof(hdr));
    f[34] = (uint8_t)(sport >> 8);
    f[35] = (uint8_t)sport;
    f[36] = 0;
    f[37] = 53;
    f[38] = 0;
    f[39] = 26;
    return f;
}

struct Rec {
    uint64_t ts_ns;
    std::vector<uint8_t> data;
    uint32_t iface = 0;
};

void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}

// pcap with nanosecond timestamps
void write_pcap(const std::string &path, const std::vector<Rec> &recs)
{
    FILE *f = fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    uint32_t hdr[6] = {0xa1b23c4d, 0x00040002, 0, 0, 65535, 1};
    fwrite(hdr, sizeof(hdr), 1, f);
    for (const Rec &r : recs) {
        put32(f, (uint32_t)(r.ts_ns / 1000000000));
        put32(f, (uint32_t)(r.ts_ns % 1000000000));
        put32(f, (uint32_t)r.data.size());
        put32(f, (uint32_t)r.data.size());
        fwrite(r.data.data(), r.data.size(), 1, f);
    }
    fclose(f);
}

// pcapng: one section, `n_if` Ethernet interfaces (microsecond timestamps), an EPB per record
void write_pcapng(const std::string &path, uint32_t n_if, const std::vector<Rec> &recs)
{
    FILE *f = fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    uint32_t shb[7] = {0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00000001, 0xffffffff, 0xffffffff, 28};
    fwrite(shb, sizeof(shb), 1, f);
    for (uint32_t i = 0; i < n_if; i++) {
        uint32_t idb[5] = {1, 20, 1 /* EN10MB, reserved 0 */, 65535, 20};
        fwrite(idb, sizeof(idb), 1, f);
    }
    for (const Rec &r : recs) {
        uint32_t len = (uint32_t)r.data.size(), padded = (len + 3) & ~3u;
        uint64_t us = r.ts_ns / 1000;
        uint32_t total = 32 + padded;
        uint32_t h[7] = {6, total, r.iface, (uint32_t)(us >> 32), (uint32_t)us, len, len};
        fwrite(h, sizeof(h), 1, f);
        fwrite(r.data.data(), len, 1, f);
        uint8_t zero[4] = {0, 0, 0, 0};
        fwrite(zero, padded - len, 1, f);
        put32(f, total);
    }
    fclose(f);
}

json_t *load_json(const std::string &path)
{
    json_error_t e;
    json_t *j = json_load_file(path.c_str(), 0, &e);
    EXPECT_NE(j, nullptr) << path << ":" << e.line << ": " << e.text;
    return j;
}

std::vector<long long> field(json_t *rep, const char *name)
{
    std::vector<long long> v;
    json_t *pk = json_object_get(rep, "packets");
    for (size_t i = 0; i < json_array_size(pk); i++)
        v.push_back(json_integer_value(json_object_get(json_array_get(pk, i), name)));
    return v;
}

// Two traces on two ports, merged by their timestamps.
TEST(NicRun, TracesOnTwoPortsAreMergedByTimestamp)
{
    Tmp t;
    std::vector<Rec> a, b;
    for (int i = 0; i < 3; i++) {
        a.push_back({(uint64_t)(2 * i) * 1000, udp((uint16_t)(1000 + i))});
        b.push_back({(uint64_t)(2 * i + 1) * 1000, udp((uint16_t)(2000 + i))});
    }
    write_pcap(t.path("a.pcap"), a);
    write_pcap(t.path("b.pcap"), b);
    Result r = nicsim("run " + fw() + " --pcap 0=" + t.path("a.pcap") + " --pcap 1=" +
                      t.path("b.pcap") + " --no-progress --json " + t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *rep = load_json(t.path("r.json"));
    EXPECT_EQ(field(rep, "port"), (std::vector<long long>{0, 1, 0, 1, 0, 1}));
    json_decref(rep);
    // a port the NIC does not have is named with the option
    Result bad = nicsim("run " + fw() + " --pcap 2=" + t.path("a.pcap"));
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--pcap 2="), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("ports 0..1"), std::string::npos) << bad.err;
    Result both = nicsim("run " + fw() + " --ingress-port 1 --pcap 0=" + t.path("a.pcap"));
    EXPECT_EQ(both.status, 2);
    EXPECT_NE(both.err.find("--ingress-port 1: the traces name their ports"), std::string::npos)
        << both.err;
    Result mixed = nicsim("run " + fw() + " --pcap " + t.path("a.pcap") + " --pcap 1=" +
                          t.path("b.pcap"));
    EXPECT_EQ(mixed.status, 2);
    EXPECT_NE(mixed.err.find("give every trace as PORT=FILE"), std::string::npos) << mixed.err;
}

// With --rate each trace arrives back to back on its own port: merged by those arrival times.
TEST(NicRun, RateArrivalsAreBackToBackOnEachPort)
{
    Tmp t;
    std::vector<Rec> a, b;
    for (int i = 0; i < 3; i++) {
        a.push_back({1000000000ull + (uint64_t)i, udp((uint16_t)(1000 + i))}); // a second later
        b.push_back({(uint64_t)i, udp((uint16_t)(2000 + i))});
    }
    write_pcap(t.path("a.pcap"), a);
    write_pcap(t.path("b.pcap"), b);
    std::string args = "run " + fw() + " --pcap 0=" + t.path("a.pcap") + " --pcap 1=" +
                       t.path("b.pcap") + " --no-progress --quiet --json " + t.path("r.json");
    ASSERT_EQ(nicsim(args + " --rate 10").status, 0);
    json_t *rep = load_json(t.path("r.json"));
    EXPECT_EQ(field(rep, "port"), (std::vector<long long>{0, 1, 0, 1, 0, 1}));
    json_decref(rep);
    ASSERT_EQ(nicsim(args).status, 0); // by the timestamps: all of b first
    rep = load_json(t.path("r.json"));
    EXPECT_EQ(field(rep, "port"), (std::vector<long long>{1, 1, 1, 0, 0, 0}));
    json_decref(rep);
}

// A pcapng file's interface i enters port (its port + i).
TEST(NicRun, PcapngInterfacesMapToPorts)
{
    Tmp t;
    std::vector<Rec> recs;
    const uint32_t ifaces[] = {1, 0, 0, 1, 1};
    for (int i = 0; i < 5; i++)
        recs.push_back({(uint64_t)i * 1000, udp((uint16_t)(3000 + i)), ifaces[i]});
    write_pcapng(t.path("t.pcapng"), 2, recs);
    Result r = nicsim("run " + fw() + " --pcap " + t.path("t.pcapng") + " --no-progress --json " +
                      t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *rep = load_json(t.path("r.json"));
    EXPECT_EQ(field(rep, "port"), (std::vector<long long>{1, 0, 0, 1, 1}));
    json_decref(rep);
    Result one = nicsim("run " + fw() + " --ports 1 --pcap " + t.path("t.pcapng"));
    EXPECT_EQ(one.status, 1);
    EXPECT_NE(one.err.find("pcapng interface 1"), std::string::npos) << one.err;
    EXPECT_NE(one.err.find("--ports"), std::string::npos) << one.err;
}

// Frames arriving faster than one core runs them fill a small receive buffer: drops by cause in
// the summary; the plain loop has none of it.
TEST(NicRun, ReceiveBufferDropsAreCountedByCause)
{
    std::string args = "run " + fw() + " --pcap " + src("traces/firewall.pcap") +
                       " --no-progress --rate 100 --cores 1";
    Result r = nicsim(args + " --rx-descriptors 4");
    ASSERT_EQ(r.status, 0) << r.err;
    size_t at = r.out.find("dropped: rx_buffer_full ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_GT(atoi(r.out.c_str() + at + strlen("dropped: rx_buffer_full ")), 0);
    EXPECT_NE(r.out.find("NIC queue maxima: rx buffer port0 4 frames"), std::string::npos)
        << r.out;
    // the refused frames never ran: no zero-cycle packets in the figures, no verdict
    EXPECT_EQ(r.out.find("cycles/packet:       min 0 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("core utilisation 100%"), std::string::npos) << r.out;
    {
        Tmp t;
        ASSERT_EQ(nicsim(args + " --rx-descriptors 4 --quiet --json " + t.path("r.json")).status,
                  0);
        json_t *doc = load_json(t.path("r.json"));
        json_t *pkts = json_object_get(doc, "packets");
        size_t refused = 0, i;
        json_t *p;
        json_array_foreach(pkts, i, p)
        {
            const char *drop = json_string_value(json_object_get(p, "drop"));
            if (drop && !strcmp(drop, "rx_buffer_full")) {
                refused++;
                EXPECT_EQ(json_object_get(p, "verdict"), nullptr);
                EXPECT_EQ(json_object_get(p, "cycles"), nullptr);
                EXPECT_NE(json_object_get(p, "arrival_ns"), nullptr);
            }
        }
        EXPECT_GT(refused, 0u);
        json_decref(doc);
    }
    Result deep = nicsim(args);
    ASSERT_EQ(deep.status, 0) << deep.err;
    EXPECT_EQ(deep.out.find("rx_buffer_full"), std::string::npos) << deep.out;
    Result plain = nicsim(args + " --nic plain");
    ASSERT_EQ(plain.status, 0) << plain.err;
    EXPECT_EQ(plain.out.find("NIC queue maxima"), std::string::npos) << plain.out;
}

// Where no queue fills, the SystemC NIC's report is the plain loop's.
TEST(NicRun, UnfilledQueuesReportWhatThePlainLoopDoes)
{
    Tmp t;
    std::string args = "run " + obj("l4lb") + " --maps-dir " + src("l4lb.maps") + " --pcap " +
                       src("traces/l4lb.pcap") + " --no-progress --quiet --rate 10 --cores 2";
    ASSERT_EQ(nicsim(args + " --json " + t.path("a.json")).status, 0);
    ASSERT_EQ(nicsim(args + " --nic plain --json " + t.path("b.json")).status, 0);
    json_t *a = load_json(t.path("a.json")), *b = load_json(t.path("b.json"));
    // departure (and with it latency_ns, arrival to departure) is where they differ: the plain
    // loop has no transmit serialisation or DMA
    for (const char *f : {"cycles", "core", "port", "arrival_ns", "start_ns", "end_ns"})
        EXPECT_EQ(field(a, f), field(b, f)) << f;
    EXPECT_GT(field(a, "cycles").size(), 10u);
    json_decref(a);
    json_decref(b);
}

// Same trace, same options: the same JSON, byte for byte.
TEST(NicRun, SameRunTwiceSameJson)
{
    Tmp t;
    std::string args = "run " + fw() + " --pcap " + src("traces/firewall.pcap") +
                       " --no-progress --quiet --rate 40 --cores 3 --dispatch rr "
                       "--rx-descriptors 6 --tx-queue 2 --line-rate 0=1 --json ";
    ASSERT_EQ(nicsim(args + t.path("a.json")).status, 0);
    ASSERT_EQ(nicsim(args + t.path("b.json")).status, 0);
    std::string a = slurp(t.path("a.json")), b = slurp(t.path("b.json"));
    EXPECT_GT(a.size(), 100u);
    EXPECT_EQ(a, b);
}

// --wave-nic: a VCD of queue depths, core busy and port activity, with changes over time.
TEST(NicRun, WaveNicWritesTheQueuesAndCores)
{
    Tmp t;
    Result r = nicsim("run " + fw() + " --pcap " + src("traces/firewall.pcap") +
                      " --no-progress --quiet --rate 100 --cores 2 --wave-nic " +
                      t.path("nic.vcd"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "") << "SystemC prints nothing of its own";
    std::string v = slurp(t.path("nic.vcd"));
    for (const char *s : {"port0_rx_buffer_frames", "port0_tx_queue_frames", "port0_rx_active",
                          "core0_busy", "core1_busy", "host_ring0_entries"})
        EXPECT_NE(v.find(s), std::string::npos) << s;
    size_t stamps = 0;
    for (size_t at = v.find("\n#"); at != std::string::npos; at = v.find("\n#", at + 1))
        stamps++;
    EXPECT_GT(stamps, 40u) << "changes at many times";
    Result plain = nicsim("run " + fw() + " --pcap " + src("traces/firewall.pcap") +
                          " --nic plain --wave-nic " + t.path("p.vcd"));
    EXPECT_EQ(plain.status, 2);
    EXPECT_NE(plain.err.find("--wave-nic needs the SystemC NIC"), std::string::npos) << plain.err;
}

// Every NIC option names itself and its range when refused.
TEST(NicRun, OptionsNameThemselvesWhenRefused)
{
    std::string base = "run " + fw() + " --pcap " + src("traces/firewall.pcap") + " ";
    const std::pair<const char *, const char *> cases[] = {
        {"--rx-buffer 10", "--rx-buffer"},
        {"--rx-descriptors 0", "--rx-descriptors"},
        {"--tx-queue 0", "--tx-queue"},
        {"--host-queues 65", "--host-queues"},
        {"--host-ring 0", "--host-ring"},
        {"--host-drain 0", "--host-drain"},
        {"--dispatch random", "--dispatch 'random': one of hash, rr"},
        {"--line-rate 0", "--line-rate '0'"},
        {"--line-rate 5=10", "--line-rate 5=10: port 5"},
        {"--line-rate 1=x", "--line-rate '1=x'"},
        {"--nic fast", "--nic 'fast': one of systemc, plain"},
    };
    for (const auto &c : cases) {
        Result r = nicsim(base + c.first);
        EXPECT_EQ(r.status, 2) << c.first;
        EXPECT_NE(r.err.find(c.second), std::string::npos) << c.first << ": " << r.err;
    }
}

} // namespace
