// SPDX-License-Identifier: MIT
// Kernel reference runner: every example over its trace in the kernel, checked against the
// expectations in examples/<name>.expect.json (verdict per packet, exact output bytes where the
// program rewrites, metadata, ringbuf/perf records, final counters); and the runner's own
// behaviour: timing without side effects, global data, tail calls by name, dumps fed back as
// input, and its errors (short packets, verifier rejection, bpf() refused).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>
#include <string>
#include <vector>

#include <jansson.h>
#include <pcap/pcap.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicsim/kref.h"
#include "nicsim/mapjson.h"

namespace
{

using Bytes = std::vector<uint8_t>;

const char *kVerdicts[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};
constexpr uint32_t kMapTypeRingbuf = 27, kMapTypePerfEventArray = 4;

std::string VerdictName(uint32_t v)
{
    return v < 5 ? kVerdicts[v] : "XDP_UNKNOWN(" + std::to_string(v) + ")";
}

std::string Example(const std::string &file)
{
    return std::string(NICSIM_EXAMPLES_SOURCE_DIR) + "/" + file;
}

std::string Object(const std::string &name)
{
    return std::string(NICSIM_EXAMPLES_DIR) + "/" + name + ".bpf.o";
}

std::string Hex(const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        s += d[p[i] >> 4];
        s += d[p[i] & 15];
    }
    return s;
}

uint64_t LoadU64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint32_t LoadU32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

std::vector<Bytes> ReadPcap(const std::string &path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path.c_str(), errbuf);
    EXPECT_NE(p, nullptr) << errbuf;
    std::vector<Bytes> out;
    if (!p)
        return out;
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1)
        out.emplace_back(data, data + h->caplen);
    pcap_close(p);
    return out;
}

struct Json {
    json_t *j = nullptr;
    explicit Json(const std::string &path)
    {
        json_error_t e;
        j = json_load_file(path.c_str(), 0, &e);
        EXPECT_NE(j, nullptr) << path << ":" << e.line << ": " << e.text;
    }
    ~Json() { json_decref(j); }
};

std::string Str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

Bytes ByteArray(const json_t *arr)
{
    Bytes b;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) b.push_back((uint8_t)strtoul(json_string_value(v), nullptr, 16));
    return b;
}

// One's-complement sum of 16-bit big-endian words.
uint32_t Sum16(const uint8_t *p, size_t n, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

uint16_t Fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

// Checks the IPv4 header checksum at `off` (and of an IPIP inner header), and the TCP/UDP
// checksum of a complete, unfragmented datagram. Returns what is wrong, or "".
std::string CheckIpv4(const Bytes &pkt, size_t off)
{
    if (pkt.size() < off + 20)
        return "short IPv4 header";
    const uint8_t *ip = &pkt[off];
    size_t ihl = (ip[0] & 15) * 4u, tot = (size_t)(ip[2] << 8 | ip[3]);
    if ((ip[0] >> 4) != 4 || ihl < 20 || pkt.size() < off + tot || tot < ihl)
        return "not a whole IPv4 datagram";
    if (Fold(Sum16(ip, ihl)) != 0xffff)
        return "bad IPv4 header checksum";
    bool frag = (ip[6] & 0x3f) || ip[7];
    uint8_t proto = ip[9];
    if (proto == 4)
        return CheckIpv4(pkt, off + ihl);
    if (frag || (proto != 6 && proto != 17))
        return "";
    const uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    if (proto == 17 && l4len >= 8 && l4[6] == 0 && l4[7] == 0)
        return ""; // UDP without checksum
    uint32_t pseudo = Sum16(ip + 12, 8) + proto + (uint32_t)l4len;
    if (Fold(Sum16(l4, l4len, pseudo)) != 0xffff)
        return proto == 6 ? "bad TCP checksum" : "bad UDP checksum";
    return "";
}

class Runner
{
  public:
    nicsim_kref *k = nullptr;
    char err[2048] = "";

    Runner(const std::string &path, const char *prog = nullptr)
    {
        nicsim_kref_opts o = {};
        o.sz = sizeof(o);
        o.prog_name = prog;
        k = nicsim_kref__open(path.c_str(), &o, err, sizeof(err));
    }
    ~Runner() { nicsim_kref__close(k); }

    int MapIndex(const char *name) { return nicsim_kref__map_index(k, name); }

    // The u64 at `off` of map[key], summed over CPUs; -1 when the key is absent.
    int64_t U64(const char *map, const Bytes &key, size_t off = 0)
    {
        int idx = MapIndex(map);
        EXPECT_GE(idx, 0) << map;
        if (idx < 0)
            return -1;
        nicsim_kref_map_info info;
        nicsim_kref__map_info(k, (size_t)idx, &info);
        nicsim_mapjson_entries e;
        EXPECT_EQ(nicsim_kref__map_dump(k, (size_t)idx, &e, err, sizeof(err)), 0) << err;
        int64_t r = -1;
        long i = key.size() == e.key_size ? nicsim_mapjson_entries__find(&e, key.data()) : -1;
        if (i >= 0) {
            r = 0;
            uint32_t n = info.layout.per_cpu ? info.layout.ncpus : 1;
            for (uint32_t c = 0; c < n; c++)
                r += (int64_t)LoadU64(nicsim_mapjson_entries__value(&e, (size_t)i) +
                                      (size_t)c * info.layout.value_size + off);
        }
        nicsim_mapjson_entries__free(&e);
        return r;
    }

    int Run(const Bytes &pkt, nicsim_kref_result *res, uint32_t repeat = 0,
            const Bytes &meta_in = {})
    {
        nicsim_kref_run_opts ro = {};
        ro.sz = sizeof(ro);
        ro.repeat = repeat;
        ro.meta_in = meta_in.data();
        ro.meta_in_len = (uint32_t)meta_in.size();
        return nicsim_kref__run(k, pkt.data(), (uint32_t)pkt.size(), &ro, res, err, sizeof(err));
    }
};

Bytes Key32(uint32_t v)
{
    return Bytes{(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
}

// Every test needs the kernel: skipped, with the reason, when bpf() is refused.
class KrefTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        char err[512] = "";
        int rc = nicsim_kref__probe(err, sizeof(err));
        if (nicsim_kref__unavailable(rc))
            GTEST_SKIP() << err;
        ASSERT_EQ(rc, 0) << err;
    }
};

class ExampleTest : public KrefTest, public ::testing::WithParamInterface<std::string>
{
};

// Runs one example over its trace with its initial maps and checks everything its
// expect.json says.
TEST_P(ExampleTest, MatchesExpectationsInTheKernel)
{
    const std::string name = GetParam();
    Json expect(Example(name + ".expect.json"));
    ASSERT_NE(expect.j, nullptr);
    std::string prog = Str(expect.j, "program");
    Runner r(Object(name), prog.c_str());
    ASSERT_NE(r.k, nullptr) << r.err;
    EXPECT_EQ(std::string(nicsim_kref__prog_name(r.k)), prog);
    std::string maps = Str(expect.j, "maps");
    if (!maps.empty()) {
        ASSERT_EQ(nicsim_kref__map_set_dir(r.k, Example(maps).c_str(), r.err, sizeof(r.err)), 0)
            << r.err;
    }
    {
        int rc = nicsim_kref__load(r.k, r.err, sizeof(r.err));
        if (rc == -EOPNOTSUPP)
            GTEST_SKIP() << "this kernel cannot run the program: " << r.err;
        ASSERT_EQ(rc, 0) << r.err;
    }

    std::vector<Bytes> trace = ReadPcap(Example(Str(expect.j, "trace")));
    const json_t *packets = json_object_get(expect.j, "packets");
    ASSERT_EQ(trace.size(), json_array_size(packets)) << "trace and expectations disagree";

    std::map<std::string, int> want_counts, got_counts;
    for (size_t i = 0; i < trace.size(); i++) {
        const json_t *exp = json_array_get(packets, i);
        std::string why = "packet " + std::to_string(i) + " (" + Str(exp, "why") + ")";
        nicsim_kref_result res;
        ASSERT_EQ(r.Run(trace[i], &res), 0) << why << ": " << r.err;
        std::string verdict = VerdictName(res.verdict);
        want_counts[Str(exp, "verdict")]++;
        got_counts[verdict]++;
        EXPECT_EQ(verdict, Str(exp, "verdict")) << why;
        Bytes out(res.data, res.data + res.len);
        if (json_object_get(exp, "out")) {
            EXPECT_EQ(Hex(out.data(), out.size()), Str(exp, "out")) << why;
        }
        if (res.verdict == 3 || res.verdict == 4) { // TX, REDIRECT: what leaves must be valid
            EXPECT_EQ(CheckIpv4(out, 14), "") << why;
        }
        if (json_object_get(exp, "meta")) {
            EXPECT_EQ(Hex(res.meta, res.meta_len), Str(exp, "meta")) << why;
        }

        std::vector<const nicsim_kref_event *> rb, perf;
        for (size_t e = 0; e < res.n_events; e++) {
            nicsim_kref_map_info info;
            ASSERT_EQ(nicsim_kref__map_info(r.k, res.events[e].map, &info), 0);
            (info.type == kMapTypeRingbuf ? rb : perf).push_back(&res.events[e]);
            EXPECT_TRUE(info.type == kMapTypeRingbuf || info.type == kMapTypePerfEventArray);
        }
        if (const json_t *n = json_object_get(exp, "ringbuf")) {
            EXPECT_EQ(rb.size(), (size_t)json_integer_value(n)) << why;
        }
        if (const json_t *n = json_object_get(exp, "perf")) {
            EXPECT_EQ(perf.size(), (size_t)json_integer_value(n)) << why;
        }
        for (const nicsim_kref_event *ev : rb) {
            // struct sample: ts, cpu, pkt_len, l3_proto, l4_proto, vlans, ports, addresses
            ASSERT_EQ(ev->size, 56u) << why;
            EXPECT_EQ(LoadU32(ev->data + 12), trace[i].size()) << why;
            EXPECT_LT(LoadU32(ev->data + 8), nicsim_kref__ncpus(r.k)) << why;
            if (res.meta_len == 8) {
                EXPECT_EQ(Hex(ev->data + 16, 4), Hex(res.meta + 4, 4)) << why;
            }
        }
        if (const json_t *st = json_object_get(exp, "report_stage")) {
            ASSERT_EQ(perf.size(), 1u) << why;
            const nicsim_kref_event *ev = perf[0];
            size_t cap = trace[i].size() < 64 ? trace[i].size() : 64;
            ASSERT_GE(ev->size, 8 + cap) << why;
            EXPECT_EQ(LoadU32(ev->data), (uint32_t)json_integer_value(st)) << why;
            EXPECT_EQ(LoadU32(ev->data + 4), trace[i].size()) << why;
            EXPECT_EQ(Hex(ev->data + 8, cap), Hex(trace[i].data(), cap)) << why;
        }
    }
    EXPECT_EQ(got_counts, want_counts);

    const json_t *finals = json_object_get(expect.j, "final");
    size_t i;
    json_t *f;
    json_array_foreach(finals, i, f)
    {
        std::string map = Str(f, "map");
        Bytes key = ByteArray(json_object_get(f, "key"));
        size_t off = (size_t)json_integer_value(json_object_get(f, "offset"));
        int64_t got = r.U64(map.c_str(), key, off);
        std::string why = map + "[" + Hex(key.data(), key.size()) + "] (" + Str(f, "why") + ")";
        if (const json_t *present = json_object_get(f, "present")) {
            EXPECT_EQ(got >= 0, json_is_true(present)) << why;
            continue;
        }
        EXPECT_EQ(got, (int64_t)json_integer_value(json_object_get(f, "u64"))) << why;
    }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest,
                         ::testing::Values("firewall", "l4lb", "ipip", "router", "parser"),
                         [](const ::testing::TestParamInfo<std::string> &p) { return p.param; });

// The packets the runner tests use.
Bytes Eth(uint16_t type)
{
    return Bytes{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, (uint8_t)(type >> 8), (uint8_t)type};
}

// A TCP or UDP (or ICMP, no L4 header) IPv4 packet with valid checksums.
Bytes Ipv4(uint8_t proto, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
           uint16_t dport, uint8_t tcp_flags = 0x02, uint32_t seq = 0)
{
    Bytes p = Eth(0x0800);
    size_t l4 = proto == 6 ? 20 : 8;
    size_t tot = 20 + l4;
    Bytes ip = {0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, 0, 1, 0, 0, 64, proto, 0, 0};
    ip.insert(ip.end(), src, src + 4);
    ip.insert(ip.end(), dst, dst + 4);
    uint16_t c = (uint16_t)~Fold(Sum16(ip.data(), 20));
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    Bytes h(l4, 0);
    h[0] = (uint8_t)(sport >> 8);
    h[1] = (uint8_t)sport;
    h[2] = (uint8_t)(dport >> 8);
    h[3] = (uint8_t)dport;
    if (proto == 6) {
        for (int b = 0; b < 4; b++)
            h[4 + b] = (uint8_t)(seq >> (24 - 8 * b));
        h[12] = 0x50;
        h[13] = tcp_flags;
    } else if (proto == 17) {
        h[5] = 8;
    } else {
        h[0] = 8; // ICMP echo request
        h[1] = h[2] = h[3] = 0;
    }
    p.insert(p.end(), ip.begin(), ip.end());
    p.insert(p.end(), h.begin(), h.end());
    return p;
}

const uint8_t kClient[4] = {192, 168, 1, 100}, kServer[4] = {10, 0, 0, 10}, kDns[4] = {8, 8, 8, 8};

TEST_F(KrefTest, OpenRefusesUnknownProgramAndFile)
{
    Runner r(Object("firewall"), "xdp_nope");
    EXPECT_EQ(r.k, nullptr);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_NE(std::string(r.err).find("no program named 'xdp_nope' (it has: xdp_firewall (section xdp))"), std::string::npos)
        << r.err;
    Runner m("/nonexistent.bpf.o");
    EXPECT_EQ(m.k, nullptr);
    EXPECT_NE(std::string(m.err).find("/nonexistent.bpf.o: cannot open"), std::string::npos)
        << m.err;
}

TEST_F(KrefTest, DescribesMapsIncludingGlobalData)
{
    Runner r(Object("firewall"));
    ASSERT_NE(r.k, nullptr) << r.err;
    EXPECT_EQ(std::string(nicsim_kref__prog_name(r.k)), "xdp_firewall");
    std::map<std::string, nicsim_kref_map_info> by_name;
    for (size_t i = 0; i < nicsim_kref__map_count(r.k); i++) {
        nicsim_kref_map_info info;
        ASSERT_EQ(nicsim_kref__map_info(r.k, i, &info), 0);
        by_name[info.layout.name] = info;
    }
    ASSERT_EQ(by_name.size(), 4u);
    EXPECT_EQ(by_name["flows"].type, 9u); // BPF_MAP_TYPE_LRU_HASH
    EXPECT_EQ(by_name["flows"].layout.key_size, 16u);
    EXPECT_EQ(by_name["flows"].layout.value_size, 32u);
    EXPECT_EQ(by_name["flows"].max_entries, 4096u);
    EXPECT_TRUE(by_name["stats"].layout.per_cpu);
    EXPECT_EQ(by_name["stats"].layout.ncpus, nicsim_kref__ncpus(r.k));
    EXPECT_FALSE(by_name["rules"].layout.per_cpu);
    EXPECT_TRUE(by_name[".rodata"].global_data);
    EXPECT_TRUE(by_name[".rodata"].frozen);
    EXPECT_FALSE(by_name["rules"].global_data);
    EXPECT_EQ(r.MapIndex("nope"), -ENOENT);
}

// Timing re-runs the program `repeat` times; the maps must come out as the single run left them.
TEST_F(KrefTest, TimingLeavesMapsAsOneRunLeavesThem)
{
    Runner r(Object("firewall"));
    ASSERT_NE(r.k, nullptr) << r.err;
    ASSERT_EQ(nicsim_kref__map_set_dir(r.k, Example("firewall.maps").c_str(), r.err, sizeof(r.err)),
              0)
        << r.err;
    ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;
    Bytes q = Ipv4(17, kClient, kDns, 5353, 53);
    nicsim_kref_result res;
    ASSERT_EQ(r.Run(q, &res, 1000), 0) << r.err;
    EXPECT_EQ(res.verdict, 2u);
    EXPECT_EQ(res.runs, 1000u);
    EXPECT_GT(res.duration_ns, 0u);
    EXPECT_EQ(r.U64("stats", Key32(10)), 1); // STAT_NEW_FLOW
    EXPECT_EQ(r.U64("stats", Key32(11)), 0); // STAT_ESTABLISHED: the timed runs were undone
    Bytes flow = {192, 168, 1, 100, 8, 8, 8, 8, 0x14, 0xe9, 0, 53, 17, 0, 0, 0};
    EXPECT_EQ(r.U64("flows", flow, 8), 1);

    ASSERT_EQ(r.Run(q, &res), 0) << r.err;
    EXPECT_EQ(res.runs, 1u);
    EXPECT_EQ(r.U64("stats", Key32(11)), 1);
    EXPECT_EQ(r.U64("flows", flow, 8), 2);
}

TEST_F(KrefTest, SetsRodataBeforeLoadAndRefusesItAfter)
{
    Runner r(Object("firewall"));
    ASSERT_NE(r.k, nullptr) << r.err;
    int idx = r.MapIndex(".rodata");
    ASSERT_GE(idx, 0);
    nicsim_kref_map_info info;
    ASSERT_EQ(nicsim_kref__map_info(r.k, (size_t)idx, &info), 0);
    nicsim_mapjson_entries e;
    nicsim_mapjson_entries__init(&e, &info.layout);
    Bytes zero_key(4, 0), value(info.layout.value_size, 0); // allow_icmp = 0
    ASSERT_EQ(nicsim_mapjson_entries__append(&e, zero_key.data(), value.data()), 0);
    ASSERT_EQ(nicsim_kref__map_set(r.k, ".rodata", &e, r.err, sizeof(r.err)), 0) << r.err;
    ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;

    nicsim_kref_result res;
    ASSERT_EQ(r.Run(Ipv4(1, kClient, kServer, 0, 0), &res), 0) << r.err;
    EXPECT_EQ(res.verdict, 1u) << "ICMP must drop with allow_icmp = 0";
    EXPECT_EQ(r.U64("stats", Key32(4)), 1); // STAT_ICMP_DENIED

    EXPECT_EQ(nicsim_kref__map_set(r.k, ".rodata", &e, r.err, sizeof(r.err)), -EROFS);
    EXPECT_NE(std::string(r.err).find("read-only once loaded"), std::string::npos) << r.err;
    nicsim_mapjson_entries__free(&e);
}

TEST_F(KrefTest, MapSetAfterLoadTakesEffectAtOnce)
{
    Runner r(Object("firewall"));
    ASSERT_NE(r.k, nullptr) << r.err;
    ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;
    Bytes syn = Ipv4(6, kClient, kServer, 40000, 8080);
    nicsim_kref_result res;
    ASSERT_EQ(r.Run(syn, &res), 0) << r.err;
    EXPECT_EQ(res.verdict, 1u) << "no rule yet";

    nicsim_kref_map_info info;
    ASSERT_EQ(nicsim_kref__map_info(r.k, (size_t)r.MapIndex("rules"), &info), 0);
    nicsim_mapjson_entries e;
    ASSERT_EQ(nicsim_mapjson__parse(
                  R"([{"key":["0x0a","0x00","0x00","0x0a","0x1f","0x90","0x06","0x00"],
                       "value":["0x07","0x00","0x00","0x00","0x01","0x00","0x00","0x00"]}])",
                  &info.layout, &e, r.err, sizeof(r.err)),
              0)
        << r.err;
    ASSERT_EQ(nicsim_kref__map_set(r.k, "rules", &e, r.err, sizeof(r.err)), 0) << r.err;
    nicsim_mapjson_entries__free(&e);
    ASSERT_EQ(r.Run(syn, &res), 0) << r.err;
    EXPECT_EQ(res.verdict, 2u) << "allowed by the rule set after load";
}

TEST_F(KrefTest, DumpsFeedBackAsInitialMaps)
{
    Runner a(Object("firewall"));
    ASSERT_NE(a.k, nullptr) << a.err;
    ASSERT_EQ(nicsim_kref__map_set_dir(a.k, Example("firewall.maps").c_str(), a.err, sizeof(a.err)),
              0)
        << a.err;
    ASSERT_EQ(nicsim_kref__load(a.k, a.err, sizeof(a.err)), 0) << a.err;
    std::vector<Bytes> trace = ReadPcap(Example("traces/firewall.pcap"));
    ASSERT_GT(trace.size(), 10u);
    nicsim_kref_result res;
    for (size_t i = 0; i < 10; i++)
        ASSERT_EQ(a.Run(trace[i], &res), 0) << a.err;

    // Dump every map of a to JSON, read the JSON into b before load, dump b: same bytes.
    Runner b(Object("firewall"));
    ASSERT_NE(b.k, nullptr) << b.err;
    std::map<std::string, std::string> dumped;
    for (size_t i = 0; i < nicsim_kref__map_count(a.k); i++) {
        nicsim_kref_map_info info;
        nicsim_kref__map_info(a.k, i, &info);
        if (!info.dumpable)
            continue;
        nicsim_mapjson_entries e;
        ASSERT_EQ(nicsim_kref__map_dump(a.k, i, &e, a.err, sizeof(a.err)), 0) << a.err;
        char *json = nicsim_mapjson__format(&info.layout, &e, NICSIM_MAPJSON_PRETTY);
        ASSERT_NE(json, nullptr);
        dumped[info.layout.name] = json;
        free(json);
        nicsim_mapjson_entries__free(&e);
        nicsim_mapjson_entries in;
        ASSERT_EQ(nicsim_mapjson__parse(dumped[info.layout.name].c_str(), &info.layout, &in, b.err,
                                        sizeof(b.err)),
                  0)
            << b.err;
        ASSERT_EQ(nicsim_kref__map_set(b.k, info.layout.name, &in, b.err, sizeof(b.err)), 0)
            << b.err;
        nicsim_mapjson_entries__free(&in);
    }
    EXPECT_EQ(dumped.size(), 4u); // flows, rules, stats, .rodata
    EXPECT_GT(dumped["flows"].size(), 10u);
    ASSERT_EQ(nicsim_kref__load(b.k, b.err, sizeof(b.err)), 0) << b.err;
    for (size_t i = 0; i < nicsim_kref__map_count(b.k); i++) {
        nicsim_kref_map_info info;
        nicsim_kref__map_info(b.k, i, &info);
        if (!info.dumpable)
            continue;
        nicsim_mapjson_entries e;
        ASSERT_EQ(nicsim_kref__map_dump(b.k, i, &e, b.err, sizeof(b.err)), 0) << b.err;
        // Same entries; hash maps may list them in another order.
        nicsim_mapjson_entries want;
        ASSERT_EQ(nicsim_mapjson__parse(dumped[info.layout.name].c_str(), &info.layout, &want,
                                        b.err, sizeof(b.err)),
                  0);
        EXPECT_EQ(e.count, want.count) << info.layout.name;
        for (size_t j = 0; j < want.count; j++) {
            long at = nicsim_mapjson_entries__find(&e, nicsim_mapjson_entries__key(&want, j));
            ASSERT_GE(at, 0) << info.layout.name << " entry " << j;
            EXPECT_EQ(memcmp(nicsim_mapjson_entries__value(&e, (size_t)at),
                             nicsim_mapjson_entries__value(&want, j), e.value_stride),
                      0)
                << info.layout.name << " entry " << j;
        }
        nicsim_mapjson_entries__free(&want);
        nicsim_mapjson_entries__free(&e);
    }
}

TEST_F(KrefTest, SetsTailCallsByProgramName)
{
    Runner several(Object("parser"));
    EXPECT_EQ(several.k, nullptr);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_NE(std::string(several.err)
                  .find("5 XDP programs (parse_ipv4, parse_ipv6, parse_tcp, "
                        "parse_udp, xdp_parser): choose one by name"),
              std::string::npos)
        << several.err;
    Runner r(Object("parser"), "xdp_parser");
    ASSERT_NE(r.k, nullptr) << r.err;
    // TCP packets go to the UDP stage: it reads the TCP sequence number's top half as the UDP
    // length (0x0010 >= 8, so a valid UDP header) and counts UDP.
    ASSERT_EQ(nicsim_kref__set_tail_call(r.k, "jmp", 2, "parse_udp", r.err, sizeof(r.err)), 0)
        << r.err;
    EXPECT_EQ(nicsim_kref__set_tail_call(r.k, "jmp", 9, "parse_udp", r.err, sizeof(r.err)), -E2BIG);
    EXPECT_EQ(nicsim_kref__set_tail_call(r.k, "jmp", 2, "nope", r.err, sizeof(r.err)), -ENOENT);
    EXPECT_EQ(std::string(r.err).substr(std::string(r.err).find(": ")),
              ": no program named 'nope' (it has: parse_ipv4 (section xdp), parse_ipv6 (section "
              "xdp), parse_tcp (section xdp), parse_udp (section xdp), xdp_parser (section xdp))");
    EXPECT_EQ(nicsim_kref__set_tail_call(r.k, "config", 0, "parse_udp", r.err, sizeof(r.err)),
              -ENOENT);
    {
        int rc = nicsim_kref__load(r.k, r.err, sizeof(r.err));
        if (rc == -EOPNOTSUPP)
            GTEST_SKIP() << "this kernel cannot run the program: " << r.err;
        ASSERT_EQ(rc, 0) << r.err;
    }
    nicsim_kref_result res;
    ASSERT_EQ(r.Run(Ipv4(6, kClient, kServer, 1, 2, 0x02, 0x00100000), &res), 0) << r.err;
    EXPECT_EQ(res.verdict, 2u);
    EXPECT_EQ(r.U64(".bss", Key32(0), 8 * 3), 0); // counters[TCP]
    EXPECT_EQ(r.U64(".bss", Key32(0), 8 * 4), 1); // counters[UDP]

    // After load, at once: the TCP slot back to parse_tcp.
    ASSERT_EQ(nicsim_kref__set_tail_call(r.k, "jmp", 2, "parse_tcp", r.err, sizeof(r.err)), 0)
        << r.err;
    ASSERT_EQ(r.Run(Ipv4(6, kClient, kServer, 1, 2, 0x02, 0x00100000), &res), 0) << r.err;
    EXPECT_EQ(r.U64(".bss", Key32(0), 8 * 3), 1);
}

TEST_F(KrefTest, ReportsMetadataAroundThePacket)
{
    Runner r(Object("parser"), "xdp_parser");
    ASSERT_NE(r.k, nullptr) << r.err;
    {
        int rc = nicsim_kref__load(r.k, r.err, sizeof(r.err));
        if (rc == -EOPNOTSUPP)
            GTEST_SKIP() << "this kernel cannot run the program: " << r.err;
        ASSERT_EQ(rc, 0) << r.err;
    }
    Bytes pkt = Ipv4(17, kClient, kServer, 1, 2);
    nicsim_kref_result res;
    Bytes meta_in = {0xaa, 0xbb, 0xcc, 0xdd};
    ASSERT_EQ(r.Run(pkt, &res, 0, meta_in), 0) << r.err;
    ASSERT_EQ(res.meta_len, 12u); // the program's 8 bytes in front of the 4 given
    EXPECT_EQ(Hex(res.meta, 8), "0e00220000081100");
    EXPECT_EQ(Hex(res.meta + 8, 4), "aabbccdd");
    EXPECT_EQ(Hex(res.data, res.len), Hex(pkt.data(), pkt.size()));
    EXPECT_EQ(r.Run(pkt, &res, 0, Bytes{1, 2, 3}), -EINVAL);
    EXPECT_NE(std::string(r.err).find("multiple of 4"), std::string::npos) << r.err;
}

TEST_F(KrefTest, RefusesPacketsTheKernelCannotRun)
{
    Runner r(Object("firewall"));
    ASSERT_NE(r.k, nullptr) << r.err;
    nicsim_kref_result res;
    EXPECT_EQ(r.Run(Bytes(20, 0), &res), -EINVAL) << "not loaded yet";
    ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;
    EXPECT_EQ(r.Run(Bytes(13, 0), &res), -EINVAL);
    EXPECT_NE(std::string(r.err).find("shorter than 14 bytes"), std::string::npos) << r.err;
    ASSERT_EQ(r.Run(Bytes(3520, 0), &res), 0) << r.err;
    EXPECT_EQ(res.len, 3520u);
    EXPECT_EQ(res.linear_len, 3520u);
    // Past 3520 bytes: older kernels refuse the packet, newer ones put the rest in fragments.
    Bytes big(4000, 0);
    big[3999] = 0x5a;
    int rc = r.Run(big, &res);
    if (rc == -EINVAL) {
        EXPECT_NE(std::string(r.err).find("at most 3520 bytes"), std::string::npos) << r.err;
    } else {
        ASSERT_EQ(rc, 0) << r.err;
        EXPECT_EQ(res.len, 4000u);
        EXPECT_EQ(res.linear_len, 3520u);
        EXPECT_EQ(res.data[3999], 0x5a);
    }
    ASSERT_EQ(r.Run(Bytes(14, 0), &res), 0) << r.err;
    EXPECT_EQ(res.len, 14u);
}

TEST_F(KrefTest, RefusesJsonForProgArraysAndUnknownMapFiles)
{
    Runner r(Object("parser"), "xdp_parser");
    ASSERT_NE(r.k, nullptr) << r.err;
    nicsim_kref_map_info info;
    ASSERT_EQ(nicsim_kref__map_info(r.k, (size_t)r.MapIndex("jmp"), &info), 0);
    nicsim_mapjson_entries e;
    nicsim_mapjson_entries__init(&e, &info.layout);
    EXPECT_EQ(nicsim_kref__map_set(r.k, "jmp", &e, r.err, sizeof(r.err)), -EINVAL);
    EXPECT_NE(std::string(r.err).find("is a prog array"), std::string::npos) << r.err;
    EXPECT_EQ(nicsim_kref__map_set(r.k, "nope", &e, r.err, sizeof(r.err)), -ENOENT);

    char dir[] = "/tmp/nicsim_kref_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string file = std::string(dir) + "/nosuchmap.json";
    FILE *f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("[]\n", f);
    fclose(f);
    EXPECT_EQ(nicsim_kref__map_set_dir(r.k, dir, r.err, sizeof(r.err)), -ENOENT);
    EXPECT_NE(std::string(r.err).find("has no map named 'nosuchmap'"), std::string::npos) << r.err;
    unlink(file.c_str());
    rmdir(dir);
}

TEST_F(KrefTest, VerifierRejectionCarriesTheLog)
{
    Runner r(KREF_REJECT_OBJ);
    ASSERT_NE(r.k, nullptr) << r.err;
    int rc = nicsim_kref__load(r.k, r.err, sizeof(r.err));
    EXPECT_LT(rc, 0);
    EXPECT_FALSE(nicsim_kref__unavailable(rc)) << "a bad program is not a missing kernel";
    EXPECT_NE(std::string(r.err).find("the kernel refuses to load it"), std::string::npos) << r.err;
    EXPECT_NE(std::string(r.err).find("invalid access to packet"), std::string::npos) << r.err;
    EXPECT_NE(std::string(nicsim_kref__log(r.k)).find("invalid access to packet"),
              std::string::npos);
}

// A refusal that only says the kernel does not offer a helper to XDP programs is "this kernel
// cannot be the reference" (the caller runs on without the comparison), and names the helper.
TEST_F(KrefTest, MissingHelperIsAnUnavailableKernelNotABadProgram)
{
    Runner r(KREF_NOHELPER_OBJ);
    ASSERT_NE(r.k, nullptr) << r.err;
    int rc = nicsim_kref__load(r.k, r.err, sizeof(r.err));
    EXPECT_EQ(rc, -EOPNOTSUPP) << r.err;
    EXPECT_TRUE(nicsim_kref__unavailable(rc));
    EXPECT_NE(std::string(r.err).find("kernel comparison unavailable"), std::string::npos)
        << r.err;
    EXPECT_NE(std::string(r.err).find("bpf_get_socket_cookie#46"), std::string::npos) << r.err;
}

TEST_F(KrefTest, PinsNothingUnlessAsked)
{
    const char *pin = "/sys/fs/bpf/nicsim_kref_pin";
    unlink(pin); // a leftover of an interrupted run
    {
        Runner r(KREF_PIN_OBJ);
        ASSERT_NE(r.k, nullptr) << r.err;
        ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;
        EXPECT_NE(access(pin, F_OK), 0) << pin << " was pinned";
    }
    nicsim_kref_opts o = {};
    o.sz = sizeof(o);
    o.keep_pinning = true;
    char err[512] = "";
    nicsim_kref *k = nicsim_kref__open(KREF_PIN_OBJ, &o, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
    EXPECT_EQ(access(pin, F_OK), 0) << "keep_pinning: the object's pinning is honoured";
    nicsim_kref__close(k);
    unlink(pin);
}

// Given the NIC ports' ifindexes, the kernel's runs arrive on a device with the port's ifindex
// and on the rx queue asked for (the program returns ingress_ifindex * 16 + rx_queue_index);
// the devices live in a private network namespace of the thread (here a thread of its own), so
// none appears in the test's namespace. Without ifindexes, runs see the loopback's queue 0.
TEST_F(KrefTest, RunsOnTheNicPortsIfindexAndRxQueue)
{
    const uint32_t ifx[] = {5, 7};
    std::thread th([&] {
        nicsim_kref_opts o = {};
        o.sz = sizeof(o);
        o.ifindexes = ifx;
        o.n_ifindexes = 2;
        o.n_rx_queues = 4;
        char err[512] = "";
        nicsim_kref *k = nicsim_kref__open(KREF_IFINDEX_OBJ, &o, err, sizeof(err));
        ASSERT_NE(k, nullptr) << err;
        EXPECT_EQ(nicsim_kref__ifindex_unavailable(k), nullptr) << nicsim_kref__ifindex_unavailable(k);
        ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
        Bytes pkt = Ipv4(17, kClient, kDns, 5353, 53);
        const uint32_t runs[][2] = {{7, 3}, {5, 0}, {5, 2}, {0, 0}};
        for (const auto &want : runs) {
            nicsim_kref_run_opts ro = {};
            ro.sz = sizeof(ro);
            ro.ingress_ifindex = want[0];
            ro.rx_queue_index = want[1];
            nicsim_kref_result res;
            ASSERT_EQ(nicsim_kref__run(k, pkt.data(), (uint32_t)pkt.size(), &ro, &res, err,
                                       sizeof(err)),
                      0)
                << err;
            uint32_t ifindex = want[0] ? want[0] : 1; // 0: the loopback
            EXPECT_EQ(res.verdict, ifindex * 16 + want[1]) << want[0] << " queue " << want[1];
        }
        // a queue the device does not have is the kernel's EINVAL, explained
        nicsim_kref_run_opts ro = {};
        ro.sz = sizeof(ro);
        ro.ingress_ifindex = 7;
        ro.rx_queue_index = 4;
        nicsim_kref_result res;
        EXPECT_EQ(nicsim_kref__run(k, pkt.data(), (uint32_t)pkt.size(), &ro, &res, err,
                                   sizeof(err)),
                  -EINVAL);
        nicsim_kref__close(k);
        // a second runner of the same process reuses the devices
        k = nicsim_kref__open(KREF_IFINDEX_OBJ, &o, err, sizeof(err));
        ASSERT_NE(k, nullptr) << err;
        EXPECT_EQ(nicsim_kref__ifindex_unavailable(k), nullptr);
        nicsim_kref__close(k);
    });
    th.join();
    EXPECT_EQ(if_nametoindex("nicsim7"), 0u) << "a device leaked into the test's namespace";

    Runner r(KREF_IFINDEX_OBJ);
    ASSERT_NE(r.k, nullptr) << r.err;
    EXPECT_EQ(nicsim_kref__ifindex_unavailable(r.k), nullptr);
    ASSERT_EQ(nicsim_kref__load(r.k, r.err, sizeof(r.err)), 0) << r.err;
    nicsim_kref_result res;
    ASSERT_EQ(r.Run(Ipv4(17, kClient, kDns, 5353, 53), &res), 0) << r.err;
    EXPECT_EQ(res.verdict, 16u) << "ifindex 1 (lo), queue 0";
}

// Without CAP_SYS_ADMIN (kept: CAP_BPF, CAP_NET_ADMIN, enough to load and test-run XDP) there is
// no private network namespace: the runner says why and runs on the loopback's queue 0.
TEST_F(KrefTest, RunsOnTheLoopbackWhenThePortsDevicesCannotBeMade)
{
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct caps[2] = {};
        if (syscall(SYS_capget, &hdr, caps))
            _exit(10);
        caps[0].effective &= ~(1u << CAP_SYS_ADMIN);
        if (syscall(SYS_capset, &hdr, caps))
            _exit(11);
        const uint32_t ifx[] = {7};
        nicsim_kref_opts o = {};
        o.sz = sizeof(o);
        o.ifindexes = ifx;
        o.n_ifindexes = 1;
        char err[512] = "";
        nicsim_kref *k = nicsim_kref__open(KREF_IFINDEX_OBJ, &o, err, sizeof(err));
        if (!k)
            _exit(12);
        const char *why = nicsim_kref__ifindex_unavailable(k);
        if (!why || !strstr(why, "cannot create a private network namespace: unshare: "
                                 "Operation not permitted"))
            _exit(13);
        if (nicsim_kref__load(k, err, sizeof(err)))
            _exit(14);
        Bytes pkt = Ipv4(17, kClient, kDns, 5353, 53);
        nicsim_kref_run_opts ro = {};
        ro.sz = sizeof(ro);
        ro.ingress_ifindex = 7;
        ro.rx_queue_index = 2;
        nicsim_kref_result res;
        if (nicsim_kref__run(k, pkt.data(), (uint32_t)pkt.size(), &ro, &res, err, sizeof(err)))
            _exit(15);
        nicsim_kref__close(k);
        _exit(res.verdict == 16 && if_nametoindex("nicsim7") == 0 ? 0 : 16);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "see the exit codes in the child above";
}

// Without privileges (a child process that gave up root) bpf() is refused, and the runner says
// so with the distinct error.
TEST_F(KrefTest, RefusedBpfIsReportedAsUnavailable)
{
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(10);
        char err[512] = "";
        int rc = nicsim_kref__probe(err, sizeof(err));
        if (!nicsim_kref__unavailable(rc) || rc != -EPERM)
            _exit(11);
        if (!strstr(err, "kernel comparison unavailable"))
            _exit(12);
        nicsim_kref_opts o = {};
        o.sz = sizeof(o);
        nicsim_kref *k = nicsim_kref__open(Object("firewall").c_str(), &o, err, sizeof(err));
        if (!k)
            _exit(13);
        rc = nicsim_kref__load(k, err, sizeof(err));
        nicsim_kref__close(k);
        _exit(rc == -EPERM && strstr(err, "unavailable") ? 0 : 14);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "see the exit codes in the child above";
}

} // namespace

// The one options rule (nicsim_opts_copy): open and run options accept a larger struct only
// with a zero tail, saying so.
TEST_F(KrefTest, OptionsWithANonZeroTailAreRefused)
{
    struct {
        nicsim_kref_opts o;
        uint64_t future;
    } big{};
    big.o.sz = sizeof(big);
    big.future = 1;
    char err[256] = "";
    EXPECT_EQ(nicsim_kref__open(KREF_PIN_OBJ, &big.o, err, sizeof(err)), nullptr);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(std::string(err), "kref options: size " + std::to_string(sizeof(big)) +
                                    " with unknown non-zero fields");
    big.future = 0;
    nicsim_kref *k = nicsim_kref__open(KREF_PIN_OBJ, &big.o, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    struct {
        nicsim_kref_run_opts o;
        uint64_t future;
    } run{};
    run.o.sz = sizeof(run);
    run.future = 1;
    uint8_t pkt[64] = {};
    nicsim_kref_result res;
    EXPECT_EQ(nicsim_kref__run(k, pkt, sizeof(pkt), &run.o, &res, err, sizeof(err)), -EINVAL);
    EXPECT_EQ(std::string(err), "kref run options: size " + std::to_string(sizeof(run)) +
                                    " with unknown non-zero fields");
    nicsim_kref__close(k);
}
