// SPDX-License-Identifier: MIT
// `nicsim run` end to end, through the real binary: the offload path, replay, reports, the
// kernel comparison, and the messages for bad input.
#include <gtest/gtest.h>

#include <jansson.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_runner.h"

extern "C" {
#include "nicsim/kref.h"
}

namespace
{

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

bool kernel_available(std::string *why)
{
    char err[256] = "";
    int rc = nicsim_kref__probe(err, sizeof(err));
    if (nicsim_kref__unavailable(rc)) {
        *why = err;
        return false;
    }
    return true;
}

// The run said the running kernel does not offer a helper the program calls (and went on
// without the comparison): some 6.18 kernels refuse bpf_xdp_adjust_meta to every XDP program.
bool kernel_lacks_helper(const Result &r)
{
    return r.err.find("--compare-kernel: kernel comparison unavailable") != std::string::npos &&
           r.err.find("does not let XDP programs use a helper") != std::string::npos;
}

json_t *load_json(const std::string &path)
{
    json_error_t e;
    json_t *j = json_load_file(path.c_str(), 0, &e);
    EXPECT_NE(j, nullptr) << path << ":" << e.line << ": " << e.text;
    return j;
}

// ---- The examples: offloaded, replayed, compared with the kernel, checked against their
// expectations.
// Each example as `nicsim demo` runs it: the program to pick where the object has several, and
// the map bytes derived from the clock that cannot equal the kernel's.
std::string example_extra(const std::string &name)
{
    if (name == "firewall")
        return " --ignore-bytes flows:0:8";
    if (name == "parser")
        return " --prog xdp_parser";
    return "";
}

class Example : public testing::TestWithParam<const char *>
{
};

TEST_P(Example, AgreesWithTheKernelAndItsExpectations)
{
    std::string name = GetParam(), why;
    bool kernel = kernel_available(&why);
    Tmp t;
    std::string args = obj(name) + " --pcap " + src("traces/" + name + ".pcap") + " --maps-dir " +
                       src(name + ".maps") + " --json " + t.path("report.json") + " --dump-maps " +
                       t.path("maps.json") + " --out-pcap " + t.path("out.pcapng") + " --events " +
                       t.path("events.jsonl") + " --no-progress --kernel-repeat 4" +
                       example_extra(name) + (kernel ? " --compare-kernel" : "");
    Result r = nicsim("run " + args);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    if (!kernel) {
        std::cerr << "kernel comparison skipped: bpf() unavailable: " << why << "\n";
    } else if (kernel_lacks_helper(r)) {
        std::cerr << "kernel comparison skipped: " << r.err;
        kernel = false; // the NIC's side is still checked against the expectations
    } else {
        EXPECT_NE(r.out.find("equal to the kernel's"), std::string::npos) << r.out;
    }

    json_t *rep = load_json(t.path("report.json"));
    json_t *exp = load_json(src(name + ".expect.json"));
    ASSERT_TRUE(rep && exp);
    json_t *pk = json_object_get(rep, "packets"), *ek = json_object_get(exp, "packets");
    ASSERT_EQ(json_array_size(pk), json_array_size(ek));
    for (size_t i = 0; i < json_array_size(pk); i++) {
        json_t *p = json_array_get(pk, i), *e = json_array_get(ek, i);
        SCOPED_TRACE("packet " + std::to_string(i) + ": " +
                     json_string_value(json_object_get(e, "why")));
        EXPECT_EQ(json_integer_value(json_object_get(p, "index")), (json_int_t)i);
        ASSERT_NE(json_object_get(p, "verdict"), nullptr) << "refused by the MAC";
        EXPECT_STREQ(json_string_value(json_object_get(p, "verdict")),
                     json_string_value(json_object_get(e, "verdict")));
        if (json_t *out = json_object_get(e, "out")) {
            EXPECT_STREQ(json_string_value(json_object_get(p, "data_out")), json_string_value(out));
        }
        if (json_t *meta = json_object_get(e, "meta")) {
            EXPECT_STREQ(json_string_value(json_object_get(p, "meta_out")),
                         json_string_value(meta));
        }
        EXPECT_GT(json_integer_value(json_object_get(p, "cycles")),
                  json_integer_value(json_object_get(p, "instructions")));
        if (kernel) {
            json_t *k = json_object_get(p, "kernel");
            ASSERT_NE(k, nullptr);
            EXPECT_TRUE(json_is_true(json_object_get(k, "match")));
        }
    }
    json_t *sum = json_object_get(rep, "summary");
    EXPECT_EQ(json_integer_value(json_object_get(sum, "packets")), (json_int_t)json_array_size(ek));
    if (kernel) {
        EXPECT_EQ(json_integer_value(json_object_get(json_object_get(sum, "kernel"), "mismatches")),
                  0);
    }
    json_decref(rep);
    json_decref(exp);

    json_t *maps = load_json(t.path("maps.json"));
    ASSERT_TRUE(json_is_object(maps));
    EXPECT_GT(json_object_size(maps), 0u);
    json_decref(maps);
    // pcapng output: a Section Header Block.
    std::string pcapng = slurp(t.path("out.pcapng"));
    ASSERT_GE(pcapng.size(), 28u);
    EXPECT_EQ(memcmp(pcapng.data(), "\x0a\x0d\x0d\x0a", 4), 0);
}

INSTANTIATE_TEST_SUITE_P(Examples, Example,
                         testing::Values("firewall", "l4lb", "ipip", "router", "parser"));

TEST(RunExamples, ParserEventsReachTheEventsFile)
{
    Tmp t;
    Result r = nicsim("run " + obj("parser") + " --pcap " + src("traces/parser.pcap") +
                      " --maps-dir " + src("parser.maps") + " --prog xdp_parser --events " +
                      t.path("ev.jsonl") + " --no-progress");
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *exp = load_json(src("parser.expect.json"));
    size_t want = 0;
    json_t *ek = json_object_get(exp, "packets");
    for (size_t i = 0; i < json_array_size(ek); i++) {
        want += json_integer_value(json_object_get(json_array_get(ek, i), "ringbuf"));
        want += json_integer_value(json_object_get(json_array_get(ek, i), "perf"));
    }
    json_decref(exp);
    std::string ev = slurp(t.path("ev.jsonl"));
    size_t lines = 0;
    for (char c : ev)
        lines += c == '\n';
    EXPECT_EQ(lines, want) << ev;
    EXPECT_GT(want, 0u);
}

// ---- Real-world objects built elsewhere (Debian's xdp-tools).
const char *kXdpTools = "/usr/lib/x86_64-linux-gnu/bpf";

class RealWorld : public testing::TestWithParam<const char *>
{
};

TEST_P(RealWorld, AgreesWithTheKernel)
{
    std::string o = std::string(kXdpTools) + "/" + GetParam(), why;
    if (access(o.c_str(), R_OK))
        GTEST_SKIP() << o << " is not installed (Debian package xdp-tools)";
    bool kernel = kernel_available(&why);
    std::string trace = std::string(NICSIM_SHARED_DIR) + "/pcaps/tcpreplay-test.pcap";
    // One kernel run per packet: xdpfilt's 65536-entry per-CPU array makes the kernel's
    // snapshot-and-restore around a repeated timing run cost seconds per packet.
    Result r = nicsim("run " + o + " --pcap " + trace + " --no-progress --kernel-repeat 1" +
                      (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("verdicts:"), std::string::npos) << r.out;
    if (!kernel)
        GTEST_SKIP() << "ran on the NIC only: bpf() unavailable: " << why;
}

INSTANTIATE_TEST_SUITE_P(XdpTools, RealWorld,
                         testing::Values("xdpfilt_alw_all.o", "xdpfilt_dny_all.o",
                                         "xdpfilt_alw_ip.o", "xdpfilt_dny_tcp.o",
                                         "xdpfilt_alw_eth.o", "xdpdump_xdp.o"),
                         [](const testing::TestParamInfo<const char *> &i) {
                             std::string s = i.param;
                             for (char &c : s)
                                 if (!isalnum((unsigned char)c))
                                     c = '_';
                             return s;
                         });

TEST(RealWorld, AfXdpProgramIsRefusedNamingTheMapType)
{
    std::string o = std::string(kXdpTools) + "/xsk_def_xdp_prog.o";
    if (access(o.c_str(), R_OK))
        GTEST_SKIP() << o << " is not installed";
    Result r = nicsim("run " + o + " --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("xskmap"), std::string::npos) << r.err;
}

// ---- Bad input: a clear message naming the thing, exit status 1 (2 for usage).
std::string fw_args()
{
    return obj("firewall") + " --pcap " + src("traces/firewall.pcap");
}

TEST(RunErrors, MissingObject)
{
    Result r = nicsim("run /nonexistent/x.o --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("/nonexistent/x.o"), std::string::npos) << r.err;
}

TEST(RunErrors, MissingTrace)
{
    Result r = nicsim("run " + obj("firewall") + " --pcap /nonexistent/t.pcap");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("/nonexistent/t.pcap"), std::string::npos) << r.err;
}

TEST(RunErrors, NoTraceOption)
{
    Result r = nicsim("run " + obj("firewall"));
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("--pcap"), std::string::npos) << r.err;
}

TEST(RunErrors, UnknownProgram)
{
    Result r = nicsim("run " + fw_args() + " --prog nosuch");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no program 'nosuch'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("xdp_firewall"), std::string::npos) << "lists the programs: " << r.err;
}

TEST(RunErrors, SeveralProgramsNeedAChoice)
{
    Result r = nicsim("run " + obj("parser") + " --pcap " + src("traces/parser.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--prog"), std::string::npos) << r.err;
}

TEST(RunErrors, UnknownMap)
{
    Tmp t;
    std::ofstream(t.path("m.json")) << "[]";
    Result r = nicsim("run " + fw_args() + " --map nosuch=" + t.path("m.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no map 'nosuch'"), std::string::npos) << r.err;
}

TEST(RunErrors, MalformedMapJsonNamesTheEntryAndField)
{
    Tmp t;
    std::ofstream(t.path("m.json"))
        << "[{\"key\": [\"0x01\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\"], "
           "\"value\": [\"0xzz\"]}]";
    Result r = nicsim("run " + fw_args() + " --map rules=" + t.path("m.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("rules"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("entry 0"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("value"), std::string::npos) << r.err;
}

TEST(RunErrors, KeyOfTheWrongSize)
{
    Tmp t;
    std::ofstream(t.path("m.json")) << "[{\"key\": [\"0x01\"], \"value\": [\"0x01\"]}]";
    Result r = nicsim("run " + fw_args() + " --map rules=" + t.path("m.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("key"), std::string::npos) << r.err;
}

TEST(RunErrors, MalformedObject)
{
    Tmp t;
    std::ofstream(t.path("bad.o")) << "\x7f"
                                      "ELF garbage";
    Result r = nicsim("run " + t.path("bad.o") + " --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("bad.o"), std::string::npos) << r.err;
}

// Classic pcap files written by hand: header, then records.
void write_pcap(const std::string &path, uint32_t linktype,
                const std::vector<std::pair<std::vector<uint8_t>, uint32_t>> &pkts,
                size_t truncate_last = 0)
{
    std::string s;
    auto put32 = [&](uint32_t v) { s.append((const char *)&v, 4); };
    auto put16 = [&](uint16_t v) { s.append((const char *)&v, 2); };
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(65535);
    put32(linktype);
    uint32_t ts = 1;
    for (auto &p : pkts) {
        put32(ts++);
        put32(0);
        put32((uint32_t)p.first.size());
        put32(p.second);
        s.append((const char *)p.first.data(), p.first.size());
    }
    if (truncate_last)
        s.resize(s.size() - truncate_last);
    std::ofstream(path, std::ios::binary) << s;
}

std::vector<uint8_t> ipv4_udp(size_t len)
{
    std::vector<uint8_t> f(len, 0);
    const uint8_t hdr[] = {2, 0, 0, 0, 0, 2,  2,  0, 0, 0,   0, 1, 0x08, 0x00, 0x45, 0,   0,
                           0, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1,    198,  51,   100, 7};
    memcpy(f.data(), hdr, std::min(len, sizeof(hdr)));
    return f;
}

TEST(RunErrors, OtherLinkTypeIsNamed)
{
    Tmp t;
    write_pcap(t.path("raw.pcap"), 101, {{ipv4_udp(60), 60}});
    Result r = nicsim("run " + obj("firewall") + " --pcap " + t.path("raw.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("RAW"), std::string::npos) << r.err;
}

TEST(RunErrors, TruncatedTraceIsReported)
{
    Tmp t;
    write_pcap(t.path("cut.pcap"), 1, {{ipv4_udp(60), 60}, {ipv4_udp(60), 60}}, 20);
    Result r = nicsim("run " + obj("firewall") + " --pcap " + t.path("cut.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cut.pcap"), std::string::npos) << r.err;
}

TEST(RunMac, RuntAndOversizeFramesAreMacErrors)
{
    Tmp t;
    write_pcap(
        t.path("mac.pcap"), 1,
        {{ipv4_udp(10), 10}, {ipv4_udp(60), 60}, {ipv4_udp(1600), 1600}, {ipv4_udp(60), 200}});
    Result r = nicsim("run " + obj("firewall") + " --pcap " + t.path("mac.pcap") + " --json " +
                      t.path("r.json") + " --no-progress --truncated refuse");
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *rep = load_json(t.path("r.json"));
    json_t *pk = json_object_get(rep, "packets");
    ASSERT_EQ(json_array_size(pk), 4u);
    EXPECT_STREQ(json_string_value(json_object_get(json_array_get(pk, 0), "error")), "runt");
    EXPECT_NE(json_object_get(json_array_get(pk, 1), "verdict"), nullptr);
    EXPECT_STREQ(json_string_value(json_object_get(json_array_get(pk, 2), "error")), "oversize");
    EXPECT_STREQ(json_string_value(json_object_get(json_array_get(pk, 3), "error")), "truncated");
    json_decref(rep);
}

TEST(RunReport, DumpMapsHasBpftoolForm)
{
    Tmp t;
    Result r = nicsim("run " + fw_args() + " --maps-dir " + src("firewall.maps") + " --dump-maps " +
                      t.path("d.json") + " --no-progress --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *d = load_json(t.path("d.json"));
    json_t *rules = json_object_get(d, "rules");
    ASSERT_TRUE(json_is_array(rules));
    ASSERT_GT(json_array_size(rules), 0u);
    json_t *e0 = json_array_get(rules, 0);
    EXPECT_TRUE(json_is_array(json_object_get(e0, "key")));
    EXPECT_TRUE(json_is_array(json_object_get(e0, "value")));
    // per-CPU map: one value per NIC core
    json_t *stats = json_object_get(d, "stats");
    ASSERT_TRUE(json_is_array(stats));
    json_t *s0 = json_array_get(stats, 0);
    EXPECT_EQ(json_array_size(json_object_get(s0, "values")), 4u);
    json_decref(d);
}

} // namespace

namespace
{

std::string test_obj(const std::string &name)
{
    return std::string(RUN_TEST_OBJ_DIR) + "/run_" + name + ".bpf.o";
}

TEST(RunRefusals, UnsupportedHelperIsNamedWithItsInstruction)
{
    Result r = nicsim("run " + test_obj("fib") + " --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("unsupported helper bpf_fib_lookup (69) at insn"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("xdp_fib"), std::string::npos) << r.err;
}

TEST(RunRefusals, UncheckedPacketReadIsRefusedByTheVerifier)
{
    Result r = nicsim("run " + test_obj("oob") + " --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("outside of the packet"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("refused at insn"), std::string::npos) << r.err;
}

TEST(RunRefusals, UnboundedLoopIsRefusedNotRun)
{
    Result r = nicsim("run " + test_obj("spin") + " --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("xdp_spin"), std::string::npos) << r.err;
}

TEST(RunRefusals, LoadReportsEveryProgramAndTheKernelsVerdict)
{
    Result r = nicsim("load " + test_obj("fib"));
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("program xdp_fib"), std::string::npos) << r.out;
    Result ok = nicsim("load " + obj("router"));
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("offloaded:"), std::string::npos) << ok.out;
    EXPECT_NE(ok.out.find("NIC map"), std::string::npos) << ok.out;
    std::string why;
    if (kernel_available(&why)) {
        EXPECT_NE(ok.out.find("host kernel verifier: agrees"), std::string::npos) << ok.out;
    }
}

} // namespace

namespace
{

TEST(RunReport, PlotIsAPng)
{
    Tmp t;
    Result r = nicsim("run " + fw_args() + " --maps-dir " + src("firewall.maps") + " --plot " +
                      t.path("p.png") + " --no-progress --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    std::string png = slurp(t.path("p.png"));
    ASSERT_GT(png.size(), 1000u);
    EXPECT_EQ(png.compare(0, 8, "\x89PNG\r\n\x1a\n", 8), 0);
}

} // namespace

namespace
{

// At a line rate the cores cannot sustain, frames queue: latency grows along the trace; with
// more cores it falls (frames of one flow still queue on their flow's core).
TEST(RunReport, LineRateArrivalsShowQueueing)
{
    auto p99 = [](const std::string &extra) {
        Tmp t;
        Result r = nicsim("run " + obj("l4lb") + " --pcap " + src("traces/l4lb.pcap") +
                          " --maps-dir " + src("l4lb.maps") + " --json " + t.path("r.json") +
                          " --no-progress --quiet " + extra);
        EXPECT_EQ(r.status, 0) << r.err;
        json_t *rep = load_json(t.path("r.json"));
        json_t *lat = json_object_get(json_object_get(rep, "summary"), "latency_ns");
        json_int_t v = json_integer_value(json_object_get(lat, "p99"));
        json_t *p0 = json_array_get(json_object_get(rep, "packets"), 0);
        EXPECT_NE(json_object_get(p0, "latency_ns"), nullptr);
        json_decref(rep);
        return v;
    };
    json_int_t slow = p99("--rate 10 --cores 2"), fast = p99("--rate 10 --cores 32");
    EXPECT_GT(slow, 4 * fast);
    EXPECT_GE(fast, 438 * 4) << "at least the slowest packet's run (438 cycles at 250 MHz)";
    Result bad = nicsim("run " + fw_args() + " --rate fast");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--rate"), std::string::npos);
}

} // namespace

namespace
{

TEST(RunReport, WatchdogAbortsWithAReportedReason)
{
    Tmp t;
    Result r = nicsim("run " + fw_args() + " --budget 10 --no-progress --json " + t.path("w.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("watchdog 43"), std::string::npos) << r.out;
    json_t *rep = load_json(t.path("w.json"));
    json_t *p = json_array_get(json_object_get(rep, "packets"), 2);
    EXPECT_STREQ(json_string_value(json_object_get(p, "verdict")), "XDP_ABORTED");
    json_t *trap = json_object_get(p, "trap");
    EXPECT_STREQ(json_string_value(json_object_get(trap, "kind")), "watchdog");
    EXPECT_NE(std::string(json_string_value(json_object_get(trap, "message"))).find("budget of 10"),
              std::string::npos);
    EXPECT_EQ(json_integer_value(json_object_get(p, "instructions")), 10);
    json_decref(rep);
}

} // namespace

namespace
{

// A regression gate for cycle counts: a packet that costs more than its baseline fails the run.
TEST(RunBaseline, CycleRegressionFailsTheRun)
{
    Tmp t;
    std::string args = "run " + obj("router") + " --pcap " + src("traces/router.pcap") +
                       " --maps-dir " + src("router.maps") + " --no-progress";
    ASSERT_EQ(nicsim(args + " --quiet --json " + t.path("base.json")).status, 0);
    Result same = nicsim(args + " --baseline " + t.path("base.json"));
    EXPECT_EQ(same.status, 0) << same.err;
    EXPECT_NE(same.out.find("65 packets compared, 0 over it"), std::string::npos) << same.out;

    // Pretend packet 5 used to cost 10% less than it does now.
    json_t *rep = load_json(t.path("base.json"));
    json_t *p5 = json_array_get(json_object_get(rep, "packets"), 5);
    json_int_t c = json_integer_value(json_object_get(p5, "cycles"));
    json_object_set_new(p5, "cycles", json_integer(c * 10 / 11));
    ASSERT_EQ(json_dump_file(rep, t.path("old.json").c_str(), 0), 0);
    json_decref(rep);
    Result worse = nicsim(args + " --baseline " + t.path("old.json"));
    EXPECT_EQ(worse.status, 4) << worse.out << worse.err;
    EXPECT_NE(worse.err.find("regression: packet 5"), std::string::npos) << worse.err;
    Result tolerated = nicsim(args + " --baseline " + t.path("old.json") + " --max-regression 15");
    EXPECT_EQ(tolerated.status, 0) << tolerated.err;

    std::ofstream(t.path("junk.json")) << "{\"x\": 1}";
    Result junk = nicsim(args + " --baseline " + t.path("junk.json"));
    EXPECT_EQ(junk.status, 1);
    EXPECT_NE(junk.err.find("not a `nicsim run --json` report"), std::string::npos) << junk.err;
}

} // namespace

namespace
{

TEST(RunTrace, OnePacketInstructionByInstruction)
{
    Result r =
        nicsim("run " + obj("parser") + " --prog xdp_parser --pcap " + src("traces/parser.pcap") +
               " --maps-dir " + src("parser.maps") + " --no-progress --quiet --trace-packet 0");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("program xdp_parser:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(tail_call)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("program parse_ipv4:"), std::string::npos) << r.out;
    // The running total of the last traced instruction is the packet's cycle count.
    size_t done = r.out.find("-> XDP_PASS on core");
    ASSERT_NE(done, std::string::npos) << r.out;
    unsigned long long insns = 0, cycles = 0;
    ASSERT_EQ(sscanf(r.out.c_str() + r.out.find(": ", done) + 2, "%llu instructions, %llu cycles",
                     &insns, &cycles),
              2);
    size_t last_nl = r.out.rfind('\n', r.out.rfind('\n', done) - 1);
    std::string last = r.out.substr(last_nl + 1, r.out.find('\n', last_nl + 1) - last_nl - 1);
    // "  pc  instruction  +cyc  cycle  result  (helper)": the running total precedes the result.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(last, m, std::regex(R"((\d+)\s+0x[0-9a-f]+(\s+\(.*\))?$)")))
        << last;
    EXPECT_EQ(strtoull(m[1].str().c_str(), nullptr, 10), cycles) << last;
    EXPECT_GT(insns, 20u);
}

} // namespace

namespace
{

TEST(RunPorts, TraceArrivesOnTheChosenPortAndTxLeavesThere)
{
    Tmp t;
    Result r = nicsim("run " + obj("ipip") + " --pcap " + src("traces/ipip.pcap") + " --maps-dir " +
                      src("ipip.maps") + " --ingress-port 1 --no-progress --quiet --json " +
                      t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *rep = load_json(t.path("r.json"));
    json_t *p0 = json_array_get(json_object_get(rep, "packets"), 0);
    EXPECT_EQ(json_integer_value(json_object_get(p0, "port")), 1);
    EXPECT_STREQ(json_string_value(json_object_get(p0, "verdict")), "XDP_TX");
    json_t *eg = json_object_get(p0, "egress");
    EXPECT_STREQ(json_string_value(json_object_get(eg, "dest")), "port");
    EXPECT_EQ(json_integer_value(json_object_get(eg, "port")), 1);
    json_decref(rep);
    Result bad =
        nicsim("run " + obj("ipip") + " --pcap " + src("traces/ipip.pcap") + " --ingress-port 2");
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("ports 0..1"), std::string::npos) << bad.err;
}

} // namespace

namespace
{

// Every object Debian's xdp-tools and libxdp ship: each program offloaded (its image reaching the
// firmware on attach, its maps answering from the NIC) and the host verifier agreeing, or the
// object refused with the precise reason.
TEST(RealWorld, EveryXdpToolsObjectOffloadsOrIsRefusedWithAReason)
{
    std::vector<std::string> objs;
    if (DIR *d = opendir(kXdpTools)) {
        while (dirent *e = readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 2 && n.compare(n.size() - 2, 2, ".o") == 0)
                objs.push_back(n);
        }
        closedir(d);
    }
    if (objs.empty())
        GTEST_SKIP() << kXdpTools << " holds no objects (Debian packages xdp-tools, libxdp1)";
    std::string why;
    bool kernel = kernel_available(&why);
    for (const std::string &n : objs) {
        SCOPED_TRACE(n);
        Result r = nicsim("load " + std::string(kXdpTools) + "/" + n);
        if (r.status == 0) {
            EXPECT_NE(r.out.find("offloaded:"), std::string::npos) << r.out;
            EXPECT_EQ(r.out.find("refused"), std::string::npos) << r.out;
            EXPECT_EQ(r.out.find("DISAGREES"), std::string::npos) << r.out;
            if (kernel) {
                EXPECT_NE(r.out.find("host kernel verifier: agrees"), std::string::npos) << r.out;
            }
        } else {
            EXPECT_EQ(r.status, 1) << r.out << r.err;
            std::string all = r.out + r.err;
            // (xdpdump_bpf.o, whose CO-RE relocations now resolve: its fentry/fexit programs)
            EXPECT_TRUE(all.find("not supported") != std::string::npos ||
                        all.find("cannot be offloaded") != std::string::npos ||
                        all.find("is not XDP: this kernel loads XDP programs only") !=
                            std::string::npos)
                << all;
        }
    }
}

} // namespace

namespace
{

// --prog-array replaces a slot on both sides: the TCP stage now runs the UDP parser, so TCP
// packets take another path, yet NIC and kernel still agree.
TEST(RunProgArray, SlotSetFromTheCommandLineOnBothSides)
{
    std::string why;
    bool kernel = kernel_available(&why);
    Tmp t;
    std::string base = "run " + obj("parser") + " --prog xdp_parser --pcap " +
                       src("traces/parser.pcap") + " --maps-dir " + src("parser.maps") +
                       " --no-progress --kernel-repeat 1";
    Result r = nicsim(base + " --prog-array jmp:2=parse_udp --json " + t.path("r.json") +
                      (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    if (kernel && !kernel_lacks_helper(r)) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    }
    ASSERT_EQ(nicsim(base + " --quiet --json " + t.path("plain.json")).status, 0);
    json_t *rep = load_json(t.path("r.json"));
    json_t *plain = load_json(t.path("plain.json"));
    json_t *p0 = json_array_get(json_object_get(rep, "packets"), 0); // IPv4 TCP
    json_t *q0 = json_array_get(json_object_get(plain, "packets"), 0);
    EXPECT_NE(json_integer_value(json_object_get(p0, "instructions")),
              json_integer_value(json_object_get(q0, "instructions")))
        << "the TCP stage should have run another program";
    json_decref(rep);
    json_decref(plain);

    Result no_map = nicsim(base + " --prog-array nosuch:0=parse_udp");
    EXPECT_EQ(no_map.status, 1);
    EXPECT_NE(no_map.err.find("no map 'nosuch'"), std::string::npos) << no_map.err;
    Result not_pa = nicsim(base + " --prog-array config:0=parse_udp");
    EXPECT_EQ(not_pa.status, 1);
    EXPECT_NE(not_pa.err.find("not a prog array"), std::string::npos) << not_pa.err;
    Result no_prog = nicsim(base + " --prog-array jmp:0=nosuch");
    EXPECT_EQ(no_prog.status, 1);
    EXPECT_NE(no_prog.err.find("no program 'nosuch'"), std::string::npos) << no_prog.err;
    Result bad = nicsim(base + " --prog-array jmp=parse_udp");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("MAP:INDEX=PROG"), std::string::npos) << bad.err;
    Result past = nicsim(base + " --prog-array jmp:9=parse_udp");
    EXPECT_EQ(past.status, 1);
    EXPECT_NE(past.err.find("jmp[9]"), std::string::npos) << past.err;
    EXPECT_NE(past.err.find("index 9 is past max_entries"), std::string::npos) << past.err;
}

} // namespace

namespace
{

TEST(RunErrors, IgnoreBytesNamesAMapOfTheObject)
{
    Result r = nicsim("run " + fw_args() + " --ignore-bytes nosuch:0:8");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no map 'nosuch'"), std::string::npos) << r.err;
    Result form = nicsim("run " + fw_args() + " --ignore-bytes flows:0");
    EXPECT_EQ(form.status, 2);
    EXPECT_NE(form.err.find("MAP:OFFSET:LEN"), std::string::npos) << form.err;
}

} // namespace

// ---- Issue 7: hostile and careless input on the command line.
namespace
{

// A word for sh, quoted so that the shell passes it through unchanged.
std::string q(const std::string &s)
{
    std::string o = "'";
    for (char c : s)
        o += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return o + "'";
}

// The command line in `dir` as the working directory, with extra environment.
Result sh_in(const std::string &dir, const std::string &cmd, const std::string &env = "")
{
    Tmp t;
    std::string full = "cd " + q(dir) + " && { " + env + " " + cmd + "; } > " + t.path("out") +
                       " 2> " + t.path("err") + " < /dev/null";
    int st = system(full.c_str());
    Result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(t.path("out"));
    r.err = slurp(t.path("err"));
    return r;
}

std::string plugin_path()
{
    std::string cli = NICSIM_CLI;
    return cli.substr(0, cli.rfind('/')) + "/nicsim-plugin";
}

bool exists(const std::string &p)
{
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

std::vector<std::string> dir_entries(const std::string &d)
{
    std::vector<std::string> v;
    if (DIR *dp = opendir(d.c_str())) {
        while (dirent *e = readdir(dp))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                v.push_back(e->d_name);
        closedir(dp);
    }
    return v;
}

// 1. A file name is data: quotes, backquotes, $() and gnuplot's `system` in the trace's name, the
// object's and the plot's must not run anything.
TEST(RunSecurity, FileNamesNeverBecomeGnuplotOrShellCode)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "gnuplot is not installed";
    Tmp t;
    const std::string evil = "x'; system 'touch PWNED1'; print \"`touch PWNED2`$(touch PWNED3)";
    const std::string trace = evil + ".pcap", png = evil + "'\".png";
    ASSERT_EQ(system(("cp " + q(src("traces/firewall.pcap")) + " " + q(t.path(trace))).c_str()), 0);
    Result r = sh_in(t.path(""), std::string(NICSIM_CLI) + " run " + q(obj("firewall")) +
                                     " --pcap " + q(trace) + " --plot " + q(png) + " --maps-dir " +
                                     q(src("firewall.maps")) + " --no-progress --quiet");
    EXPECT_EQ(r.status, 0) << r.err;
    for (const char *f : {"PWNED1", "PWNED2", "PWNED3"})
        EXPECT_FALSE(exists(t.path(f))) << f << " was created: a file name ran as code";
    std::string p = slurp(t.path(png));
    ASSERT_GT(p.size(), 1000u) << r.err;
    EXPECT_EQ(p.compare(0, 8, "\x89PNG\r\n\x1a\n", 8), 0);
}

// 2. Map arguments that made an error path return 1, taken for a map index: no crash, a message.
TEST(RunCrashes, MapArgumentsThatWereTakenForAMapIndex)
{
    Tmp t;
    std::ofstream(t.path("m.json")) << "[]";
    Result empty_name = nicsim("run " + fw_args() + " --map =" + t.path("m.json"));
    EXPECT_EQ(empty_name.status, 2) << empty_name.err;
    EXPECT_NE(empty_name.err.find("expected NAME=FILE"), std::string::npos) << empty_name.err;

    std::string longname(130, 'a');
    Result long_name = nicsim("run " + fw_args() + " --map " + longname + "=" + t.path("m.json"));
    EXPECT_EQ(long_name.status, 2) << long_name.err;
    EXPECT_NE(long_name.err.find("at most 127 characters"), std::string::npos) << long_name.err;

    ASSERT_EQ(mkdir(t.path("maps").c_str(), 0755), 0);
    std::ofstream(t.path("maps/" + longname + ".json")) << "[]";
    Result in_dir = nicsim("run " + fw_args() + " --maps-dir " + t.path("maps") +
                           " --map rules=" + t.path("m.json") + " --no-progress");
    EXPECT_EQ(in_dir.status, 1) << in_dir.err;
    EXPECT_NE(in_dir.err.find("--maps-dir"), std::string::npos) << in_dir.err;
    EXPECT_NE(in_dir.err.find("at most 127 characters"), std::string::npos) << in_dir.err;
}

// 5. Every reader stops at what its input can legally hold, and says so.
TEST(RunLimits, ReadersStopAtWhatTheInputCanHold)
{
    Tmp t;
    Result zero_map = sh_in(t.path(""), "timeout 60 " + std::string(NICSIM_CLI) + " run " +
                                            fw_args() + " --map rules=/dev/zero --no-progress");
    EXPECT_EQ(zero_map.status, 1);
    EXPECT_NE(zero_map.err.find("NUL byte at offset 0"), std::string::npos) << zero_map.err;

    // A dump of the 256-entry rules map cannot take 3 MB, whatever its spacing.
    {
        std::ofstream f(t.path("big.json"));
        f << "[" << std::string(3 << 20, ' ') << "]";
    }
    Result big = nicsim("run " + fw_args() + " --map rules=" + t.path("big.json"));
    EXPECT_EQ(big.status, 1);
    EXPECT_NE(big.err.find("the most a dump of map 'rules' can take"), std::string::npos)
        << big.err;

    Result dir = nicsim("run " + fw_args() + " --map rules=" + t.path(""));
    EXPECT_EQ(dir.status, 1);
    EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;

    Result exec0 = sh_in(t.path(""), "timeout 60 " + std::string(NICSIM_CLI) + " exec /dev/zero");
    EXPECT_EQ(exec0.status, 1);
    EXPECT_NE(exec0.err.find("/dev/zero:1: a NUL byte"), std::string::npos) << exec0.err;

    Result plug = sh_in(t.path(""), "timeout 60 " + plugin_path() + " < /dev/zero");
    EXPECT_EQ(plug.status, 1);
    EXPECT_NE(plug.err.find("NUL byte"), std::string::npos) << plug.err;
    Result plug_big = sh_in(t.path(""), "yes 'b7 00 00 00' | timeout 60 " + plugin_path());
    EXPECT_EQ(plug_big.status, 1);
    EXPECT_NE(plug_big.err.find("longer than 32000000 bytes"), std::string::npos) << plug_big.err;

    // A --baseline report: JSON text, at most 1 KiB per byte of the trace (and 1 MiB).
    Result bz = nicsim("run " + fw_args() + " --baseline /dev/zero");
    EXPECT_EQ(bz.status, 1);
    EXPECT_NE(bz.err.find("--baseline /dev/zero: a NUL byte at offset 0"), std::string::npos)
        << bz.err;
    Result bd = nicsim("run " + fw_args() + " --baseline " + t.path(""));
    EXPECT_EQ(bd.status, 1);
    EXPECT_NE(bd.err.find("is a directory"), std::string::npos) << bd.err;
    {
        std::ofstream f(t.path("huge.json"));
        f << "{\"packets\": [" << std::string(8 << 20, ' ') << "]}";
    }
    Result bh = nicsim("run " + fw_args() + " --baseline " + t.path("huge.json"));
    EXPECT_EQ(bh.status, 1);
    EXPECT_NE(bh.err.find("the most a --json report of"), std::string::npos) << bh.err;

    // Raw instructions: at most NICSIM_ISA_MAX_INSNS of them.
    {
        std::ofstream f(t.path("huge.bin"), std::ios::binary);
        f << std::string(8000008, '\0');
    }
    // Objects: regular files no larger than an XDP object can be.
    Result zobj = nicsim("run /dev/zero --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(zobj.status, 1);
    EXPECT_NE(zobj.err.find("/dev/zero: not a regular file"), std::string::npos) << zobj.err;
    {
        std::ofstream f(t.path("huge.o"));
    }
    ASSERT_EQ(truncate(t.path("huge.o").c_str(), 300ll << 20), 0);
    Result hobj = nicsim("load " + t.path("huge.o"));
    EXPECT_EQ(hobj.status, 1);
    EXPECT_NE(hobj.err.find("larger than the 268435456 bytes an XDP object file can take"),
              std::string::npos)
        << hobj.err;

    Result bin = nicsim("disasm " + t.path("huge.bin"));
    EXPECT_EQ(bin.status, 1);
    EXPECT_NE(bin.err.find("longer than 8000000 bytes"), std::string::npos) << bin.err;
}

// 6. bench replay: --packets range-checked; the generated trace never outlives the benchmark.
TEST(RunBench, ReplayPacketsAreCheckedAndTheTraceIsNeverLeftBehind)
{
    Result neg = nicsim("bench replay --packets -1");
    EXPECT_EQ(neg.status, 2);
    EXPECT_NE(neg.err.find("--packets: '-1' is negative"), std::string::npos) << neg.err;
    Result abc = nicsim("bench replay --packets abc");
    EXPECT_EQ(abc.status, 2);
    EXPECT_NE(abc.err.find("--packets: 'abc' is not a number"), std::string::npos) << abc.err;

    // The million-entry map benchmark's own check, on a small map.
    Result map = nicsim("bench map --entries 20000");
    EXPECT_EQ(map.status, 0) << map.err;
    EXPECT_NE(map.out.find("read and checked (no duplicate key)"), std::string::npos) << map.out;
    Result map0 = nicsim("bench map --entries 0");
    EXPECT_EQ(map0.status, 2);
    EXPECT_NE(map0.err.find("--entries: 0 is out of range"), std::string::npos) << map0.err;

    auto leftovers = [] {
        size_t n = 0;
        for (const std::string &e : dir_entries("/tmp"))
            n += e.rfind("nicsim-bench-", 0) == 0;
        return n;
    };
    size_t before = leftovers();
    Tmp t;
    // Killed while it replays: nothing may stay in /tmp.
    sh_in(t.path(""),
          "timeout -s KILL 2 " + std::string(NICSIM_CLI) + " bench replay --packets 3000000");
    EXPECT_EQ(leftovers(), before) << "a temporary trace was left in /tmp";
}

// 7. --budget: out of range or not a number is refused, for run, exec and the plugin.
TEST(RunOptions, BudgetIsRangeChecked)
{
    Result big = nicsim("run " + fw_args() + " --budget 99999999999999999999");
    EXPECT_EQ(big.status, 2);
    EXPECT_NE(big.err.find("--budget: 99999999999999999999 is out of range 1..10000000000"),
              std::string::npos)
        << big.err;
    Result abc = nicsim("run " + fw_args() + " --budget abc");
    EXPECT_EQ(abc.status, 2);
    EXPECT_NE(abc.err.find("--budget: 'abc' is not a number"), std::string::npos) << abc.err;
    Tmp t;
    std::ofstream(t.path("p.s")) << "mov %r0, 1\nexit\n";
    Result ex = nicsim("exec " + t.path("p.s") + " --budget 99999999999999999999");
    EXPECT_EQ(ex.status, 2);
    EXPECT_NE(ex.err.find("--budget"), std::string::npos) << ex.err;
    Result ex2 = nicsim("exec " + t.path("p.s") + " --budget abc");
    EXPECT_EQ(ex2.status, 2);
    EXPECT_NE(ex2.err.find("--budget: 'abc' is not a number"), std::string::npos) << ex2.err;
    Result pl = sh_in(t.path(""), "echo 'b7 00 00 00 01 00 00 00 95 00 00 00 00 00 00 00' | " +
                                      plugin_path() + " --budget 99999999999999999999");
    EXPECT_EQ(pl.status, 2);
    EXPECT_NE(pl.err.find("--budget"), std::string::npos) << pl.err;
    Result pl2 = sh_in(t.path(""), "echo 'b7 00 00 00 01 00 00 00 95 00 00 00 00 00 00 00' | " +
                                       plugin_path() + " --budget abc");
    EXPECT_EQ(pl2.status, 2);
    EXPECT_NE(pl2.err.find("--budget: 'abc' is not a number"), std::string::npos) << pl2.err;
}

// 8. The summary's median and p99 are the per-packet reports' own nearest-rank values, also
// above 65,536 (latencies under overload at a 1 MHz clock).
TEST(RunReport, SummaryStatisticsEqualThePerPacketReports)
{
    Tmp t;
    Result r =
        nicsim("run " + obj("l4lb") + " --pcap " + src("traces/l4lb.pcap") + " --maps-dir " +
               src("l4lb.maps") + " --clock-mhz 1 --rate 10000 --cores 1 --no-progress --json " +
               t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    json_t *rep = load_json(t.path("r.json"));
    json_t *pk = json_object_get(rep, "packets");
    std::vector<long long> lat, cyc;
    for (size_t i = 0; i < json_array_size(pk); i++) {
        json_t *p = json_array_get(pk, i);
        if (json_t *l = json_object_get(p, "latency_ns"))
            lat.push_back(json_integer_value(l));
        if (json_t *c = json_object_get(p, "cycles"))
            cyc.push_back(json_integer_value(c));
    }
    ASSERT_GT(lat.size(), 10u);
    auto rank = [](std::vector<long long> v, size_t pct) {
        std::sort(v.begin(), v.end());
        size_t k = (v.size() * pct + 99) / 100;
        return v[k ? k - 1 : 0];
    };
    EXPECT_GE(rank(lat, 50), 65536) << "the test needs values past the old histogram's exact part";
    json_t *sum = json_object_get(rep, "summary");
    json_t *sl = json_object_get(sum, "latency_ns");
    EXPECT_EQ(json_integer_value(json_object_get(sl, "median")), rank(lat, 50));
    EXPECT_EQ(json_integer_value(json_object_get(sl, "p99")), rank(lat, 99));
    json_t *sc = json_object_get(sum, "cycles");
    EXPECT_EQ(json_integer_value(json_object_get(sc, "median")), rank(cyc, 50));
    EXPECT_EQ(json_integer_value(json_object_get(sc, "p99")), rank(cyc, 99));
    std::string want = "median " + std::to_string(rank(lat, 50)) + " ns  p99 " +
                       std::to_string(rank(lat, 99)) + " ns";
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
    json_decref(rep);
}

// 9. An output is never an input (or another output): compared by device and inode.
TEST(RunOutputs, AnOutputIsNeverAnInput)
{
    Tmp t;
    ASSERT_EQ(system(("cp " + src("traces/firewall.pcap") + " " + t.path("t.pcap")).c_str()), 0);
    std::string orig = slurp(t.path("t.pcap"));
    std::string base = "run " + obj("firewall") + " --pcap " + t.path("t.pcap") + " --no-progress";
    Result same = nicsim(base + " --out-pcap " + t.path("t.pcap"));
    EXPECT_EQ(same.status, 2);
    EXPECT_NE(same.err.find("--out-pcap"), std::string::npos) << same.err;
    EXPECT_NE(same.err.find("--pcap"), std::string::npos) << same.err;
    EXPECT_EQ(slurp(t.path("t.pcap")), orig) << "the trace was overwritten";

    ASSERT_EQ(link(t.path("t.pcap").c_str(), t.path("hard.pcap").c_str()), 0);
    Result hard = nicsim(base + " --json " + t.path("hard.pcap"));
    EXPECT_EQ(hard.status, 2);
    EXPECT_NE(hard.err.find("--json"), std::string::npos) << hard.err;
    EXPECT_EQ(slurp(t.path("t.pcap")), orig);

    ASSERT_EQ(system(("cp " + obj("firewall") + " " + t.path("fw.o")).c_str()), 0);
    std::string o = slurp(t.path("fw.o"));
    Result objout = nicsim("run " + t.path("fw.o") + " --pcap " + t.path("t.pcap") +
                           " --no-progress --json " + t.path("sub/../fw.o"));
    EXPECT_NE(objout.status, 0);
    EXPECT_EQ(slurp(t.path("fw.o")), o) << "the object was overwritten";
    ASSERT_EQ(mkdir(t.path("sub").c_str(), 0755), 0);
    Result objout2 = nicsim("run " + t.path("fw.o") + " --pcap " + t.path("t.pcap") +
                            " --no-progress --json " + t.path("sub/../fw.o"));
    EXPECT_EQ(objout2.status, 2);
    EXPECT_NE(objout2.err.find("the object"), std::string::npos) << objout2.err;
    EXPECT_EQ(slurp(t.path("fw.o")), o) << "the object was overwritten";

    // Two outputs that do not exist yet, one file.
    Result two = nicsim(base + " --json " + t.path("x.json") + " --events " + t.path("x.json"));
    EXPECT_EQ(two.status, 2);
    EXPECT_NE(two.err.find("--json"), std::string::npos) << two.err;
    EXPECT_NE(two.err.find("--events"), std::string::npos) << two.err;
    EXPECT_FALSE(exists(t.path("x.json")));

    Result asm_self = nicsim("asm " + t.path("t.pcap") + " -o " + t.path("t.pcap"));
    EXPECT_EQ(asm_self.status, 2);
    EXPECT_EQ(slurp(t.path("t.pcap")), orig);
}

// A trace of n copies of a firewall frame, long enough to interrupt.
void long_trace(const std::string &path, size_t n)
{
    std::vector<std::pair<std::vector<uint8_t>, uint32_t>> v;
    for (size_t i = 0; i < n; i++)
        v.push_back({ipv4_udp(60), 60});
    write_pcap(path, 1, v);
}

// 10. Outputs appear whole or not at all: an interrupted run leaves nothing at the targets and
// says what it did not write; two runs on one target leave one run's whole file.
TEST(RunOutputs, InterruptedRunLeavesNoPartialFile)
{
    Tmp t;
    long_trace(t.path("long.pcap"), 1000000);
    ASSERT_EQ(mkdir(t.path("o").c_str(), 0755), 0);
    Result r = sh_in(t.path(""), "timeout --preserve-status -s INT 1 " + std::string(NICSIM_CLI) +
                                     " run " + obj("firewall") +
                                     " --pcap long.pcap --no-progress --json " +
                                     "o/r.json --out-pcap o/o.pcapng --events o/e.jsonl");
    EXPECT_EQ(r.status, 130) << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not written: --json o/r.json, --out-pcap o/o.pcapng, --events o/e.jsonl"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(dir_entries(t.path("o")).empty()) << "left: " << dir_entries(t.path("o")).front();
}

TEST(RunOutputs, TwoRunsOnOneTargetLeaveOneWholeFile)
{
    Tmp t;
    long_trace(t.path("long.pcap"), 60000);
    std::string cmd = std::string(NICSIM_CLI) + " run " + obj("firewall") +
                      " --pcap long.pcap --no-progress --quiet --json r.json";
    // Different clocks: different latencies in every packet's line, the first run's longer.
    Result r = sh_in(t.path(""), "(" + cmd + " --clock-mhz 1 & sleep 0.2; " + cmd + "; wait)");
    EXPECT_EQ(r.status, 0) << r.err;
    json_error_t e;
    json_t *j = json_load_file(t.path("r.json").c_str(), 0, &e);
    ASSERT_NE(j, nullptr) << "mixed file: line " << e.line << ": " << e.text;
    json_t *pk = json_object_get(j, "packets");
    EXPECT_EQ(json_array_size(pk), 60000u);
    json_int_t mhz =
        json_integer_value(json_object_get(json_object_get(j, "summary"), "clock_mhz"));
    EXPECT_TRUE(mhz == 250 || mhz == 1) << mhz;
    // Every packet's latency is the same run's: cycles at that run's clock.
    for (size_t i = 0; i < json_array_size(pk); i += 997) {
        json_t *p = json_array_get(pk, i);
        EXPECT_EQ(json_integer_value(json_object_get(p, "index")), (json_int_t)i);
    }
    json_decref(j);
    EXPECT_EQ(dir_entries(t.path("")).size(), 2u) << "temporary files left beside the target";
}

// 12. One parser: the option named as typed, ranges given, usage errors exit 2.
TEST(RunOptions, NumbersNameTheOptionAndTheRange)
{
    Result abc = nicsim("run " + fw_args() + " --ingress-port abc");
    EXPECT_EQ(abc.status, 2);
    EXPECT_NE(abc.err.find("--ingress-port: 'abc' is not a number"), std::string::npos) << abc.err;
    Result range = nicsim("run " + fw_args() + " --cores 99");
    EXPECT_EQ(range.status, 2);
    EXPECT_NE(range.err.find("--cores: 99 is out of range 1..64"), std::string::npos) << range.err;
    Result eq = nicsim("run " + fw_args() + " --kernel-repeat=0");
    EXPECT_EQ(eq.status, 2);
    EXPECT_NE(eq.err.find("--kernel-repeat: 0 is out of range 1..1000000"), std::string::npos)
        << eq.err;
    Result unknown = nicsim("run " + fw_args() + " --frobnicate");
    EXPECT_EQ(unknown.status, 2);
    EXPECT_NE(unknown.err.find("unknown option '--frobnicate'"), std::string::npos) << unknown.err;
    Result noobj = nicsim("run --pcap " + src("traces/firewall.pcap"));
    EXPECT_EQ(noobj.status, 2);
    Result reps = nicsim("bench --reps x");
    EXPECT_EQ(reps.status, 2);
    EXPECT_NE(reps.err.find("--reps: 'x' is not a number"), std::string::npos) << reps.err;
}

// 14. --mtu: the XDP buffer is the limit, said at the option.
TEST(RunOptions, MtuBeyondTheXdpBufferIsRefusedWithTheReason)
{
    Result r = nicsim("run " + fw_args() + " --mtu 9216");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--mtu: 9216 is out of range 68..3502"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("3520-byte XDP buffer"), std::string::npos) << r.err;
    Result ok = nicsim("run " + fw_args() + " --mtu 3502 --no-progress --quiet");
    EXPECT_EQ(ok.status, 0) << ok.err;
}

// 15. Output paths are checked before the replay; gnuplot's own failure is reported.
TEST(RunOutputs, UnwritableOutputsAreFoundBeforeTheReplay)
{
    for (const char *opt : {"--plot", "--dump-maps", "--json", "--out-pcap", "--events"}) {
        Result r = nicsim("run " + fw_args() + " --no-progress " + opt + " /nonexistent/x.out");
        EXPECT_EQ(r.status, 1) << opt;
        EXPECT_NE(r.err.find(std::string(opt) + " /nonexistent/x.out"), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("verdicts:"), std::string::npos) << opt << ": the replay ran first";
    }
    Tmp t;
    ASSERT_EQ(mkdir(t.path("bin").c_str(), 0755), 0);
    std::ofstream(t.path("bin/gnuplot")) << "#!/bin/sh\necho 'line 3: unknown terminal type' >&2\n"
                                            "exit 1\n";
    chmod(t.path("bin/gnuplot").c_str(), 0755);
    Result g = sh_in(t.path(""),
                     std::string(NICSIM_CLI) + " run " + fw_args() + " --no-progress --quiet " +
                         "--plot p.png",
                     "PATH=" + t.path("bin") + ":$PATH");
    EXPECT_EQ(g.status, 1);
    EXPECT_NE(g.err.find("unknown terminal type"), std::string::npos) << g.err;
    EXPECT_EQ(g.err.find("is gnuplot installed"), std::string::npos) << g.err;
    EXPECT_FALSE(exists(t.path("p.png")));
}

// E. The kernel comparison pins only its own runs: what the run starts afterwards (gnuplot)
// keeps every CPU the process was given.
TEST(RunKernel, CpuPinningIsUndoneAfterTheKernelRuns)
{
    std::string why;
    if (!kernel_available(&why))
        GTEST_SKIP() << why;
    cpu_set_t mine;
    ASSERT_EQ(sched_getaffinity(0, sizeof(mine), &mine), 0);
    if (CPU_COUNT(&mine) < 2)
        GTEST_SKIP() << "one CPU only";
    Tmp t;
    ASSERT_EQ(mkdir(t.path("bin").c_str(), 0755), 0);
    std::ofstream(t.path("bin/gnuplot"))
        << "#!/bin/sh\ngrep Cpus_allowed_list /proc/self/status > " << t.path("cpus") << "\n";
    chmod(t.path("bin/gnuplot").c_str(), 0755);
    Result r = sh_in(t.path(""),
                     std::string(NICSIM_CLI) + " run " + obj("router") + " --pcap " +
                         src("traces/router.pcap") + " --maps-dir " + src("router.maps") +
                         " --compare-kernel --kernel-repeat 1 --no-progress --quiet --plot p.png",
                     "PATH=" + t.path("bin") + ":$PATH");
    ASSERT_TRUE(exists(t.path("cpus"))) << r.err;
    std::string self = slurp("/proc/self/status");
    size_t at = self.find("Cpus_allowed_list");
    std::string want = self.substr(at, self.find('\n', at) - at + 1);
    EXPECT_EQ(slurp(t.path("cpus")), want);
}

// 16. The summary's MAC line has balanced brackets whatever errors occurred.
TEST(RunReport, MacRefusalLineIsBalanced)
{
    Tmp t;
    write_pcap(t.path("mac.pcap"), 1, {{ipv4_udp(1600), 1600}, {ipv4_udp(60), 200}});
    Result r =
        nicsim("run " + obj("firewall") + " --pcap " + t.path("mac.pcap") + " --no-progress");
    ASSERT_EQ(r.status, 0) << r.err;
    std::string line = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(std::count(line.begin(), line.end(), '('), std::count(line.begin(), line.end(), ')'))
        << line;
    EXPECT_NE(line.find("refused by the MAC (1 frame longer"), std::string::npos) << line;
}

// 17. The smaller messages.
TEST(RunErrors, SmallerMessagesSayWhatHappened)
{
    Tmp t;
    Result op = nicsim("run " + fw_args() + " --out-pcap /nonexistent/o.pcapng");
    EXPECT_NE(op.err.find("--out-pcap /nonexistent/o.pcapng"), std::string::npos) << op.err;

    {
        std::ofstream f(t.path("bad.bin"), std::ios::binary);
        const unsigned char b[16] = {0xb7, 0,    0,    0,    7,    0,    0,    0,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        f.write((const char *)b, 16);
    }
    Result dis = nicsim("disasm " + t.path("bad.bin"));
    EXPECT_EQ(dis.status, 1);
    EXPECT_NE(dis.err.find("instruction 1 (byte offset 8)"), std::string::npos) << dis.err;

    std::ofstream(t.path("p.s")) << "mov %r0, 1\nexit\n";
    Result odd = nicsim("exec " + t.path("p.s") + " --mem abc");
    EXPECT_NE(odd.err.find("odd number of hex digits"), std::string::npos) << odd.err;
    Result plug_odd = sh_in(t.path(""), "echo 'b7 0' | " + plugin_path());
    EXPECT_NE(plug_odd.err.find("odd number of hex digits"), std::string::npos) << plug_odd.err;

    {
        std::ofstream f(t.path("nul.s"), std::ios::binary);
        f << "mov %r0, 1\n" << '\0' << "exit\n";
    }
    Result nul = nicsim("exec " + t.path("nul.s"));
    EXPECT_EQ(nul.status, 1);
    EXPECT_NE(nul.err.find("nul.s:2: a NUL byte"), std::string::npos) << nul.err;
    std::ofstream(t.path("empty.s")) << "";
    Result empty = nicsim("exec " + t.path("empty.s"));
    EXPECT_EQ(empty.status, 1);
    EXPECT_EQ(empty.err.find(":-1"), std::string::npos) << empty.err;
    EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;

    Result past = nicsim("run " + fw_args() + " --no-progress --quiet --trace-packet 1000");
    EXPECT_EQ(past.status, 1);
    EXPECT_NE(past.err.find("--trace-packet 1000: the trace has 43 packets"), std::string::npos)
        << past.err;

    Result pneg = nicsim("run " + fw_args() + " --prog-array jmp:-1=parse_udp");
    EXPECT_EQ(pneg.status, 2);
    EXPECT_NE(pneg.err.find("INDEX: '-1' is negative"), std::string::npos) << pneg.err;

    Result neg = nicsim("run " + fw_args() + " --ignore-bytes flows:-1:8");
    EXPECT_EQ(neg.status, 2);
    EXPECT_NE(neg.err.find("negative"), std::string::npos) << neg.err;
    Result out = nicsim("run " + fw_args() + " --ignore-bytes flows:4:100");
    EXPECT_EQ(out.status, 1);
    EXPECT_NE(out.err.find("outside the"), std::string::npos) << out.err;
}

} // namespace
