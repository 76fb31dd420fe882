// SPDX-License-Identifier: MIT
// Real third-party program shapes (issue 8) through the real `nicsim run` binary and the kernel
// comparison: legacy section names, names of 16+ characters, several programs per object (a TC
// program with a kfunc call among them), truncated captures.
#include <gtest/gtest.h>

#include <jansson.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.h"

extern "C" {
#include "nicsim/kref.h"
#include "nicsim/mapjson.h"
#include "nicsim/obj.h"
#include "nicsim/printk.h"
}

namespace
{

using nicsim_test::nicsim;
using nicsim_test::Result;
using nicsim_test::slurp;
using nicsim_test::Tmp;

std::string obj(const std::string &name)
{
    return std::string(REAL_OBJ_DIR) + "/" + name + ".bpf.o";
}

bool kernel_available()
{
    char err[256] = "";
    return !nicsim_kref__unavailable(nicsim_kref__probe(err, sizeof(err)));
}

json_t *load_json(const std::string &path)
{
    json_error_t e;
    json_t *j = json_load_file(path.c_str(), 0, &e);
    EXPECT_NE(j, nullptr) << path << ":" << e.line << ": " << e.text;
    return j;
}

using Frame = std::vector<uint8_t>;

// Ethernet + IPv4 with protocol `proto`, `len` bytes in all.
Frame ipv4(uint8_t proto, size_t len)
{
    Frame f(len, 0);
    const uint8_t hdr[] = {2, 0, 0, 0, 0, 2,  2,     0, 0, 0,   0, 1, 0x08, 0x00, 0x45, 0,   0,
                           0, 0, 1, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1,    198,  51,   100, 7};
    memcpy(f.data(), hdr, std::min(len, sizeof(hdr)));
    uint16_t tot = (uint16_t)(len - 14);
    f[16] = (uint8_t)(tot >> 8);
    f[17] = (uint8_t)tot;
    return f;
}

// Classic pcap: records of (captured bytes, wire length).
void write_pcap(const std::string &path, const std::vector<std::pair<Frame, uint32_t>> &pkts,
                uint32_t snaplen = 65535)
{
    std::string s;
    auto put32 = [&](uint32_t v) { s.append((const char *)&v, 4); };
    auto put16 = [&](uint16_t v) { s.append((const char *)&v, 2); };
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(snaplen);
    put32(1);
    uint32_t ts = 1;
    for (auto &p : pkts) {
        put32(ts++);
        put32(0);
        put32((uint32_t)p.first.size());
        put32(p.second);
        s.append((const char *)p.first.data(), p.first.size());
    }
    std::ofstream(path, std::ios::binary) << s;
}

std::vector<std::pair<Frame, uint32_t>> udp_tcp_icmp()
{
    return {{ipv4(17, 60), 60}, {ipv4(6, 60), 60}, {ipv4(1, 98), 98}};
}

const char *verdict(json_t *rep, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(rep, "packets"), i), "verdict"));
}

// ---- several programs per object, legacy sections, long names ----

// xdp_count_protocol_func (23 characters, SEC("xdp_icmp")) tail-calls xdp_drop_udp_tail_func
// (SEC("xdp-test")); the object also holds a TC program calling a kfunc and SEC("prog").
TEST(RealPrograms, ChosenProgramAndItsTailCallRunBesideOthersTheNicCannotLoad)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                      " --prog xdp_count_protocol_func --prog-array "
                      "jmp_table:0=xdp_drop_udp_tail_func --no-progress --json " +
                      t.path("r.json") + (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    // the full name in the report, though the kernel (emulated and real) holds 15 characters
    EXPECT_NE(r.out.find("xdp_count_protocol_func: 3 packets"), std::string::npos) << r.out;
    // the others are skipped, each with why, and the kfunc program's reason names its insn
    EXPECT_NE(r.err.find("loaded program xdp_count_protocol_func, xdp_drop_udp_tail_func "
                         "(tail-call target); skipped 2 other programs"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("tc_rcu_kfunc_user (section tc: section 'tc' insn 0: call to kernel "
                         "function 'bpf_rcu_read_lock' (kfunc) is not supported)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("xdp_bounce_everything (section prog: not chosen"), std::string::npos)
        << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    EXPECT_STREQ(verdict(rep, 0), "XDP_DROP"); // UDP, dropped by the tail-call target
    EXPECT_STREQ(verdict(rep, 1), "XDP_PASS");
    EXPECT_STREQ(verdict(rep, 2), "XDP_PASS");
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("maps: final contents equal to the kernel's"), std::string::npos)
            << r.out;
    }
    json_decref(rep);
}

TEST(RealPrograms, LegacySectionProgramIsFoundBySectionNameAndComparedWithTheKernel)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                      " --prog prog --no-progress" + (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("verdicts: XDP_TX 3"), std::string::npos) << r.out;
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    }
}

TEST(RealPrograms, ProgramTheNicCannotLoadIsRefusedNamingProgramSectionAndReason)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                      " --prog tc_rcu_kfunc_user");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("program tc_rcu_kfunc_user (section tc) cannot be offloaded: section "
                         "'tc' insn 0: call to kernel function 'bpf_rcu_read_lock' (kfunc)"),
              std::string::npos)
        << r.err;
    r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no XDP program in the object"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("xdp_count_protocol_func (section xdp_icmp)"), std::string::npos) << r.err;
}

TEST(RealPrograms, ElfLoaderKeepsTheProgramsItCanLinkAndSaysWhyForTheOthers)
{
    char err[512] = "";
    nicsim_obj *o = nicsim_obj__open_file(obj("real_multi").c_str(), nullptr, err, sizeof(err));
    ASSERT_NE(o, nullptr) << err;
    ASSERT_EQ(nicsim_obj__n_progs(o), 4u);
    const nicsim_obj_prog *tc = nicsim_obj__find_prog(o, "tc_rcu_kfunc_user");
    ASSERT_NE(tc, nullptr);
    ASSERT_NE(tc->error, nullptr);
    EXPECT_STREQ(tc->error, "section 'tc' insn 0: call to kernel function 'bpf_rcu_read_lock' "
                            "(kfunc) is not supported");
    EXPECT_EQ(tc->n, 0u);
    EXPECT_EQ(tc->insns, nullptr);
    const nicsim_obj_prog *x = nicsim_obj__find_prog(o, "xdp_icmp");
    ASSERT_NE(x, nullptr);
    EXPECT_STREQ(x->name, "xdp_count_protocol_func");
    EXPECT_EQ(x->error, nullptr);
    EXPECT_GT(x->n, 0u);
    EXPECT_EQ(x->prog_type, 0u); // libbpf cannot type "xdp_icmp" either
    nicsim_obj__free(o);
}

// The kernel side alone: the chosen program of an untyped legacy section is loaded as XDP, the
// others are not loaded, and a wrong name lists what the object contains.
TEST(RealPrograms, KernelReferenceLoadsWhatTheNicLoads)
{
    char err[2048] = "";
    nicsim_kref_opts o = {};
    o.sz = sizeof(o);
    o.prog_name = "nope";
    EXPECT_EQ(nicsim_kref__open(obj("real_multi").c_str(), &o, err, sizeof(err)), nullptr);
    EXPECT_NE(std::string(err).find("no program named 'nope' (it has: xdp_count_protocol_func "
                                    "(section xdp_icmp), xdp_drop_udp_tail_func (section "
                                    "xdp-test), xdp_bounce_everything (section prog), "
                                    "tc_rcu_kfunc_user (section tc))"),
              std::string::npos)
        << err;
    o.prog_name = "tc_rcu_kfunc_user";
    EXPECT_EQ(nicsim_kref__open(obj("real_multi").c_str(), &o, err, sizeof(err)), nullptr);
    EXPECT_NE(std::string(err).find("is a sched_cls program, not XDP"), std::string::npos) << err;
    if (!kernel_available())
        GTEST_SKIP() << "bpf() unavailable";
    o.prog_name = "xdp_bounce_everything";
    nicsim_kref *k = nicsim_kref__open(obj("real_multi").c_str(), &o, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
    Frame f = ipv4(17, 60);
    nicsim_kref_result res;
    ASSERT_EQ(nicsim_kref__run(k, f.data(), (uint32_t)f.size(), nullptr, &res, err, sizeof(err)), 0)
        << err;
    EXPECT_EQ(res.verdict, (uint32_t)XDP_TX);
    nicsim_kref__close(k);
}

// ---- truncated captures ----

// A UDP frame of 300 bytes captured with a 96-byte snap length, then a whole TCP frame.
std::vector<std::pair<Frame, uint32_t>> snap96()
{
    Frame udp = ipv4(17, 300);
    udp.resize(96);
    return {{udp, 300}, {ipv4(6, 60), 60}};
}

struct TruncCase {
    const char *mode;    // --truncated MODE ("" for the default)
    const char *verdict; // of the cut frame; nullptr: refused by the MAC
};

class Truncated : public testing::TestWithParam<TruncCase>
{
};

TEST_P(Truncated, CutFramesRunAsTheOptionSaysAndTheKernelSeesTheSameBytes)
{
    const TruncCase &c = GetParam();
    Tmp t;
    write_pcap(t.path("t.pcap"), snap96(), 96);
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                      " --prog xdp_count_protocol_func --prog-array "
                      "jmp_table:0=xdp_drop_udp_tail_func --no-progress --json " +
                      t.path("r.json") + (c.mode[0] ? std::string(" --truncated ") + c.mode : "") +
                      (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    std::string mode = c.mode[0] ? c.mode : "pad";
    EXPECT_NE(r.out.find("truncated: 1 frames cut short by the capture"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("(--truncated " + mode + ")"), std::string::npos) << r.out;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    json_t *p0 = json_array_get(json_object_get(rep, "packets"), 0);
    if (c.verdict) {
        EXPECT_STREQ(json_string_value(json_object_get(p0, "verdict")), c.verdict);
        if (kernel) {
            EXPECT_TRUE(json_is_true(json_object_get(json_object_get(p0, "kernel"), "match")));
        }
    } else {
        EXPECT_STREQ(json_string_value(json_object_get(p0, "error")), "truncated");
    }
    EXPECT_STREQ(verdict(rep, 1), "XDP_PASS");
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    }
    json_decref(rep);
}

// The cut UDP frame is dropped by the tail-call target whether run as captured or padded, and
// refused by the MAC with `refuse`.
INSTANTIATE_TEST_SUITE_P(Modes, Truncated,
                         testing::Values(TruncCase{"", "XDP_DROP"}, TruncCase{"pad", "XDP_DROP"},
                                         TruncCase{"captured", "XDP_DROP"},
                                         TruncCase{"refuse", nullptr}),
                         [](const testing::TestParamInfo<TruncCase> &i) {
                             return std::string(i.param.mode[0] ? i.param.mode : "default");
                         });

// XDP_PASS keeps the frame: its bytes after the program tell which frame ran.
TEST(RealPrograms, PaddedFrameHasItsWireLengthAndCapturedFrameItsCapturedLength)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), snap96(), 96);
    for (auto [mode, len] : {std::pair<const char *, size_t>{"pad", 300}, {"captured", 96}}) {
        Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                          " --prog xdp_count_protocol_func --no-progress --truncated " + mode +
                          " --json " + t.path("r.json"));
        ASSERT_EQ(r.status, 0) << r.err;
        json_t *rep = load_json(t.path("r.json"));
        ASSERT_TRUE(rep);
        json_t *p0 = json_array_get(json_object_get(rep, "packets"), 0);
        EXPECT_STREQ(json_string_value(json_object_get(p0, "verdict")), "XDP_PASS") << mode;
        const char *hex = json_string_value(json_object_get(p0, "data_out"));
        ASSERT_NE(hex, nullptr);
        EXPECT_EQ(strlen(hex), 2 * len) << mode;
        if (!strcmp(mode, "pad")) { // the bytes past the capture are zeros
            EXPECT_EQ(std::string(hex + 2 * 96), std::string(2 * (300 - 96), '0'));
        }
        json_decref(rep);
    }
}

TEST(RealPrograms, BadTruncatedModeIsRefused)
{
    Result r = nicsim("run " + obj("real_multi") + " --pcap x.pcap --truncated zero");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("--truncated 'zero': one of refuse, captured, pad"), std::string::npos)
        << r.err;
}

// issue 7 item 11: a record whose captured length exceeds its wire length is not a frame as
// received; it is refused naming the packet and both lengths, not run as the longer frame.
TEST(RealPrograms, CapturedLengthPastTheWireLengthIsRefused)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), {{ipv4(6, 60), 60}, {ipv4(17, 120), 60}});
    Result r = nicsim("run " + obj("real_multi") + " --pcap " + t.path("t.pcap") +
                      " --prog prog --no-progress");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.err.find("t.pcap: packet 1: the record holds 120 captured bytes but says the "
                         "frame was 60 bytes on the wire"),
              std::string::npos)
        << r.err;
}

// ---- bpf_printk ----

std::vector<std::pair<Frame, uint32_t>> printk_frames()
{
    Frame shortf = ipv4(6, 20);
    Frame expired = ipv4(17, 60);
    expired[22] = 1; // ttl
    return {{shortf, 20}, {ipv4(6, 60), 60}, {expired, 60}};
}

// The lines trace_pipe would show, in packet order: %d of a length, %s of a .rodata string, %x,
// then flags and widths (%-4d, %05u) and a 64-bit %llx.
const char *const kPrintkLines[] = {
    "short frame: 20 bytes",
    "len 60 proto tcp ttl 40",
    "len 60 proto udp ttl 1",
    "ttl expired: 1   |00046|1122334455667788",
};

TEST(RealPrograms, PrintkLinesArePrintedWrittenAndComparedWithTheKernel)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), printk_frames());
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_printk") + " --pcap " + t.path("t.pcap") +
                      " --no-progress --events " + t.path("ev.jsonl") +
                      (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    size_t at = 0;
    for (const char *line : kPrintkLines) {
        size_t k = r.out.find(std::string("bpf_trace_printk: ") + line + "\n", at);
        ASSERT_NE(k, std::string::npos) << line << "\n" << r.out;
        at = k;
    }
    std::string ev = slurp(t.path("ev.jsonl"));
    const int packet_of[] = {0, 1, 2, 2};
    at = 0;
    for (size_t i = 0; i < 4; i++) {
        std::string want = "{\"packet\":" + std::to_string(packet_of[i]) + ",\"cpu\":";
        size_t k = ev.find(want, at);
        ASSERT_NE(k, std::string::npos) << ev;
        size_t txt = ev.find(std::string("\"trace_printk\":\"") + kPrintkLines[i] + "\"}", k);
        EXPECT_EQ(txt, ev.find('\n', k) - strlen(kPrintkLines[i]) - 18) << ev;
        at = k + 1;
    }
    if (kernel) {
        EXPECT_EQ(r.err.find("not compared"), std::string::npos) << r.err;
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out << r.err;
    }
}

// The format rules of the kernel's bpf_bprintf_prepare (3 arguments), and bstr_printf's output.
TEST(RealPrograms, PrintkFormatsFollowTheKernelsRules)
{
    int is_str[3];
    auto scan = [&](const std::string &f) {
        return nicsim_printk_scan(f.c_str(), f.size() + 1, is_str);
    };
    EXPECT_EQ(scan("no conversion, 100%%"), 0);
    EXPECT_EQ(scan("%d %s %llx"), 3);
    EXPECT_EQ(is_str[0], 0);
    EXPECT_EQ(is_str[1], 1);
    EXPECT_EQ(is_str[2], 0);
    EXPECT_EQ(scan("%-08lu %px %c"), 3);
    EXPECT_EQ(scan("%d%d%d%d"), -EINVAL); // a fourth argument
    EXPECT_EQ(scan("%q"), -EINVAL);
    EXPECT_EQ(scan("%lld%hd"), -EINVAL);
    EXPECT_EQ(scan("%pI4"), -EINVAL); // not modelled
    EXPECT_EQ(scan("bell\a"), -EINVAL);
    EXPECT_EQ(nicsim_printk_scan("abc", 3, is_str), -EINVAL); // not NUL-terminated in its size
    // a record: args, format, then the %s string
    std::string rec(24, '\0');
    uint64_t args[3] = {(uint64_t)-5, 0, 0xffffffff00000007ull};
    memcpy(&rec[0], args, sizeof(args));
    rec += std::string("[%4d] [%-3s] [%x] 100%%") + '\0' + "ab" + '\0';
    char out[128];
    ASSERT_EQ(nicsim_printk_format(rec.data(), rec.size(), out, sizeof(out)), 21);
    EXPECT_STREQ(out, "[  -5] [ab ] [7] 100%"); // %x without 'l' prints the low 32 bits
    EXPECT_EQ(nicsim_printk_format(rec.data(), rec.size() - 3, out, sizeof(out)), -EINVAL);
}

// Printing only from a subprogram: libbpf appends subprograms at load, and the runner must see the
// call there to read the kernel's lines.
TEST(RealPrograms, KernelReferenceReadsPrintkLinesOfSubprograms)
{
    if (!kernel_available())
        GTEST_SKIP() << "bpf() unavailable";
    char err[2048] = "";
    nicsim_kref *k = nicsim_kref__open(obj("real_printk_sub").c_str(), nullptr, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
    if (const char *why = nicsim_kref__trace_unavailable(k)) {
        nicsim_kref__close(k);
        GTEST_SKIP() << "trace buffer unavailable: " << why;
    }
    Frame f = ipv4(6, 60);
    nicsim_kref_result res;
    ASSERT_EQ(nicsim_kref__run(k, f.data(), (uint32_t)f.size(), nullptr, &res, err, sizeof(err)), 0)
        << err;
    EXPECT_TRUE(res.trace_read);
    ASSERT_EQ(res.n_trace, 1u);
    EXPECT_STREQ(res.trace[0], "frame of 60 bytes");
    nicsim_kref__close(k);
}

// A runner that never opened the trace buffer (no program prints, or never loaded) closes no
// descriptor of the process on close: `nicsim demo` runs example after example in one process,
// and a close(0) there took the next example's trace file with it.
TEST(RealPrograms, KernelReferenceClosesOnlyWhatItOpened)
{
    if (fcntl(0, F_GETFD) < 0) {
        ASSERT_EQ(open("/dev/null", O_RDONLY), 0);
    }
    char err[2048] = "";
    nicsim_kref_opts o = {};
    o.sz = sizeof(o);
    o.prog_name = "prog";
    nicsim_kref *k = nicsim_kref__open(obj("real_multi").c_str(), &o, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    nicsim_kref__close(k);
    EXPECT_GE(fcntl(0, F_GETFD), 0) << "descriptor 0 was closed";
}

// The kernel side: the lines the kernel wrote to the trace buffer for one test run.
TEST(RealPrograms, KernelReferenceReadsTheKernelsPrintkLines)
{
    if (!kernel_available())
        GTEST_SKIP() << "bpf() unavailable";
    char err[2048] = "";
    nicsim_kref *k = nicsim_kref__open(obj("real_printk").c_str(), nullptr, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
    if (const char *why = nicsim_kref__trace_unavailable(k)) {
        nicsim_kref__close(k);
        GTEST_SKIP() << "trace buffer unavailable: " << why;
    }
    auto frames = printk_frames();
    Frame &f = frames[2].first;
    nicsim_kref_run_opts ro = {};
    ro.sz = sizeof(ro);
    ro.repeat = 8; // the timing runs print too; only the single run's lines are returned
    nicsim_kref_result res;
    ASSERT_EQ(nicsim_kref__run(k, f.data(), (uint32_t)f.size(), &ro, &res, err, sizeof(err)), 0)
        << err;
    ASSERT_TRUE(res.trace_read);
    ASSERT_EQ(res.n_trace, 2u);
    EXPECT_STREQ(res.trace[0], kPrintkLines[2]);
    EXPECT_STREQ(res.trace[1], kPrintkLines[3]);
    ASSERT_EQ(nicsim_kref__run(k, f.data(), (uint32_t)f.size(), nullptr, &res, err, sizeof(err)), 0)
        << err;
    EXPECT_EQ(res.n_trace, 2u);
    nicsim_kref__close(k);
}

// ---- CO-RE (vmlinux.h-style types) and writes to rx_queue_index (offload samples' RSS) ----

// Ethernet + IPv4 from `src` to `dst` with protocol `proto` (60 bytes), or an IPv6 ethertype.
Frame ipv4_flow(uint32_t src, uint32_t dst, uint8_t proto = 17, uint16_t ethertype = 0x0800)
{
    Frame f = ipv4(proto, 60);
    f[12] = (uint8_t)(ethertype >> 8);
    f[13] = (uint8_t)ethertype;
    memcpy(&f[26], &src, 4); // as they lie in memory: the program reads them so
    memcpy(&f[30], &dst, 4);
    return f;
}

// Each IPv4 header shape takes its path through relocated field offsets, bitfields, enum values.
TEST(RealPrograms, CoreRelocatedProgramRunsAndAgreesWithTheKernel)
{
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    Tmp t;
    Frame opts = ipv4(17, 60), ttl1 = ipv4(17, 60), v6 = ipv4(17, 60);
    opts[14] = 0x46; // ihl 6
    ttl1[22] = 1;
    v6[12] = 0x86;
    v6[13] = 0xdd;
    write_pcap(t.path("t.pcap"), {{ipv4(17, 60), 60}, {opts, 60}, {ttl1, 60}, {v6, 60}});
    bool kernel = kernel_available();
    Result r =
        nicsim("run " + obj("real_core") + " --pcap " + t.path("t.pcap") +
               " --no-progress --json " + t.path("r.json") + (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    EXPECT_STREQ(verdict(rep, 0), "XDP_PASS");
    EXPECT_STREQ(verdict(rep, 1), "XDP_TX");
    EXPECT_STREQ(verdict(rep, 2), "XDP_ABORTED");
    EXPECT_STREQ(verdict(rep, 3), "XDP_DROP");
    json_decref(rep);
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    }
}

TEST(RealPrograms, PoisonedCoreRelocationIsRefusedNamingTheRelocation)
{
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    Result r = nicsim("run " + obj("real_core_poison") + " --pcap " + t.path("t.pcap"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("program core_poisoned (section xdp) refused at insn 3: CO-RE relocation "
                         "(field byte offset) of struct xdp_md___x.no_such_field___in_any_kernel "
                         "(access 0:3) matches nothing in the kernel's BTF"),
              std::string::npos)
        << r.err;
}

// The queue real_rss.bpf.c picks for an IPv4 flow.
uint32_t rss_queue(uint32_t src, uint32_t dst)
{
    uint32_t h = src ^ dst;
    h ^= h >> 16;
    h ^= h >> 8;
    return h % 4;
}

TEST(RealPrograms, RxQueueIndexWritesSteerPassedPacketsAndTheKernelRunsWithoutThem)
{
    Tmp t;
    std::vector<std::pair<Frame, uint32_t>> pkts;
    std::vector<std::pair<uint32_t, uint32_t>> flows;
    for (uint32_t i = 1; i <= 6; i++)
        flows.push_back({0x0a000000u + i * 0x01010101u, 0x0b000000u + i * 0x00030507u});
    for (auto &f : flows)
        pkts.push_back({ipv4_flow(f.first, f.second), 60});
    pkts.push_back({ipv4_flow(1, 2, 1), 60});          // ICMP: dropped
    pkts.push_back({ipv4_flow(1, 2, 17, 0x86dd), 60}); // not IPv4: its own queue
    write_pcap(t.path("t.pcap"), pkts);
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_rss") + " --pcap " + t.path("t.pcap") +
                      " --no-progress --json " + t.path("r.json") + " --out-pcap " +
                      t.path("o.pcapng") + (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    json_t *packets = json_object_get(rep, "packets");
    std::set<uint32_t> queues;
    for (size_t i = 0; i < flows.size(); i++) {
        json_t *p = json_array_get(packets, i);
        EXPECT_STREQ(verdict(rep, i), "XDP_PASS");
        json_t *q = json_object_get(json_object_get(p, "egress"), "rx_queue");
        ASSERT_TRUE(json_is_integer(q)) << i;
        EXPECT_EQ(json_integer_value(q), rss_queue(flows[i].first, flows[i].second)) << i;
        queues.insert((uint32_t)json_integer_value(q));
    }
    EXPECT_GT(queues.size(), 1u); // the flows spread
    EXPECT_STREQ(verdict(rep, 6), "XDP_DROP");
    EXPECT_EQ(json_object_get(json_object_get(json_array_get(packets, 6), "egress"), "rx_queue"),
              nullptr);
    json_t *last = json_array_get(packets, 7);
    EXPECT_EQ(json_integer_value(json_object_get(json_object_get(last, "egress"), "rx_queue")),
              json_integer_value(json_object_get(last, "core")));
    json_decref(rep);
    std::string pcap = slurp(t.path("o.pcapng"));
    EXPECT_NE(pcap.find("verdict=XDP_PASS egress=host0 ifindex=0 rx_queue=" +
                        std::to_string(rss_queue(flows[0].first, flows[0].second))),
              std::string::npos);
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("maps: final contents equal to the kernel's"), std::string::npos)
            << r.out;
        EXPECT_NE(r.err.find("--compare-kernel: the kernel runs xdp_rss without its 1 writes to "
                             "rx_queue_index (allowed only to offloaded programs)"),
                  std::string::npos)
            << r.err;
    }
    // `nicsim load`: offloaded; the host-program cross-check says why both verifiers refuse it
    Result l = nicsim("load " + obj("real_rss"));
    EXPECT_EQ(l.status, 0) << l.out << l.err;
    EXPECT_NE(l.out.find("program xdp_rss (section xdp, "), std::string::npos) << l.out;
    EXPECT_NE(l.out.find("offloaded:"), std::string::npos) << l.out;
    if (kernel) {
        EXPECT_NE(l.out.find("agrees (both refuse it unoffloaded: it writes rx_queue_index, which "
                             "only offloaded programs may)"),
                  std::string::npos)
            << l.out;
    }
}

// The CPU real_cpumap.bpf.c picks for an IPv4 flow (the same hash as real_rss.bpf.c).
uint32_t cpumap_cpu(uint32_t src, uint32_t dst)
{
    return rss_queue(src, dst);
}

// bpftool's JSON of a cpumap of 4 CPUs: qsize 2048 for the CPUs in `cpus`, bpf_prog id `prog_id`;
// the other slots as bpftool prints an empty one.
std::string cpumap_json(const std::set<uint32_t> &cpus, uint32_t prog_id = 0)
{
    std::string s = "[";
    for (uint32_t c = 0; c < 4; c++) {
        char e[200];
        if (cpus.count(c))
            snprintf(
                e, sizeof(e),
                "{\"key\":[\"0x%02x\",\"0x00\",\"0x00\",\"0x00\"],\"value\":[\"0x00\",\"0x08\","
                "\"0x00\",\"0x00\",\"0x%02x\",\"0x00\",\"0x00\",\"0x00\"]}",
                c, prog_id);
        else
            snprintf(e, sizeof(e),
                     "{\"key\":[\"0x%02x\",\"0x00\",\"0x00\",\"0x00\"],\"value\":{\"error\":\"No "
                     "such file or directory\"}}",
                     c);
        s += (c ? "," : "") + std::string(e);
    }
    return s + "]";
}

// Flows whose CPUs cover 0..3.
std::vector<std::pair<uint32_t, uint32_t>> cpumap_flows()
{
    std::vector<std::pair<uint32_t, uint32_t>> flows;
    std::set<uint32_t> seen;
    for (uint32_t i = 1; seen.size() < 4 && i < 1000; i++) {
        std::pair<uint32_t, uint32_t> f = {0x0a000000u + i * 0x01010101u, 0x0b000000u + i * 7u};
        flows.push_back(f);
        seen.insert(cpumap_cpu(f.first, f.second));
    }
    return flows;
}

// bpf_redirect_map into a cpumap: the host, on the receive queue of the CPU the entry names.
TEST(RealPrograms, CpumapRedirectSelectsTheHostCpuQueue)
{
    Tmp t;
    auto flows = cpumap_flows();
    std::vector<std::pair<Frame, uint32_t>> pkts;
    for (auto &f : flows)
        pkts.push_back({ipv4_flow(f.first, f.second), 60});
    write_pcap(t.path("t.pcap"), pkts);
    std::ofstream(t.path("cpu_map.json")) << cpumap_json({0, 1, 2, 3});
    Result r = nicsim("run " + obj("real_cpumap") + " --pcap " + t.path("t.pcap") +
                      " --map cpu_map=" + t.path("cpu_map.json") + " --no-progress --json " +
                      t.path("r.json") + " --out-pcap " + t.path("o.pcapng") + " --dump-maps " +
                      t.path("maps.json"));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    json_t *packets = json_object_get(rep, "packets");
    std::set<uint32_t> cpus;
    for (size_t i = 0; i < flows.size(); i++) {
        json_t *p = json_array_get(packets, i);
        EXPECT_STREQ(verdict(rep, i), "XDP_REDIRECT") << i;
        json_t *eg = json_object_get(p, "egress");
        uint32_t want = cpumap_cpu(flows[i].first, flows[i].second);
        EXPECT_STREQ(json_string_value(json_object_get(eg, "dest")), "host") << i;
        EXPECT_EQ(json_integer_value(json_object_get(eg, "cpu")), want) << i;
        EXPECT_EQ(json_integer_value(json_object_get(eg, "rx_queue")), want) << i;
        EXPECT_EQ(json_integer_value(json_object_get(json_object_get(p, "redirect"), "cpu")), want)
            << i;
        cpus.insert(want);
    }
    EXPECT_EQ(cpus.size(), 4u);
    json_decref(rep);
    std::string c0 = std::to_string(cpumap_cpu(flows[0].first, flows[0].second));
    EXPECT_NE(
        slurp(t.path("o.pcapng"))
            .find("verdict=XDP_REDIRECT egress=host0 ifindex=0 cpu=" + c0 + " rx_queue=" + c0),
        std::string::npos);

    // no entries: every redirect fails, and the flags' XDP_PASS is the verdict
    Result e = nicsim("run " + obj("real_cpumap") + " --pcap " + t.path("t.pcap") +
                      " --no-progress --json " + t.path("e.json"));
    ASSERT_EQ(e.status, 0) << e.out << e.err;
    rep = load_json(t.path("e.json"));
    ASSERT_TRUE(rep);
    for (size_t i = 0; i < flows.size(); i++)
        EXPECT_STREQ(verdict(rep, i), "XDP_PASS") << i;
    json_decref(rep);

    // an entry with a program: refused, naming the map, the CPU and why
    std::ofstream(t.path("prog.json")) << cpumap_json({1}, 7);
    Result p = nicsim("run " + obj("real_cpumap") + " --pcap " + t.path("t.pcap") +
                      " --map cpu_map=" + t.path("prog.json") + " --no-progress");
    EXPECT_NE(p.status, 0);
    EXPECT_NE(p.err.find("cpu_map"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("cpumap: CPU 1: bpf_prog.fd 7: the NIC cannot run a second program on "
                         "the host CPU"),
              std::string::npos)
        << p.err;
}

// The kernel's BPF_PROG_TEST_RUN returns XDP_REDIRECT for a redirect to a present cpumap entry
// (without live frames nothing is sent) and the flags' action for a missing one: the NIC agrees,
// and the cpumaps (qsize, bpf_prog.id) compare equal. Entries only for CPUs this machine has.
TEST(RealPrograms, CpumapRedirectAgreesWithTheKernel)
{
    if (!kernel_available())
        GTEST_SKIP() << "no kernel reference";
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    std::set<uint32_t> filled = {0};
    if (ncpu >= 2)
        filled.insert(1);
    Tmp t;
    auto flows = cpumap_flows();
    std::vector<std::pair<Frame, uint32_t>> pkts;
    for (auto &f : flows)
        pkts.push_back({ipv4_flow(f.first, f.second), 60});
    write_pcap(t.path("t.pcap"), pkts);
    std::ofstream(t.path("cpu_map.json")) << cpumap_json(filled);
    Result r = nicsim("run " + obj("real_cpumap") + " --pcap " + t.path("t.pcap") +
                      " --map cpu_map=" + t.path("cpu_map.json") +
                      " --no-progress --compare-kernel --json " + t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("maps: final contents equal to the kernel's"), std::string::npos) << r.out;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    for (size_t i = 0; i < flows.size(); i++) {
        bool present = filled.count(cpumap_cpu(flows[i].first, flows[i].second));
        EXPECT_STREQ(verdict(rep, i), present ? "XDP_REDIRECT" : "XDP_PASS") << i;
        json_t *k = json_object_get(json_array_get(json_object_get(rep, "packets"), i), "kernel");
        EXPECT_STREQ(json_string_value(json_object_get(k, "verdict")),
                     present ? "XDP_REDIRECT" : "XDP_PASS")
            << i;
    }
    json_decref(rep);
    if (ncpu < 4) { // the NIC's host has the CPUs, this machine has not: the kernel says so
        std::ofstream(t.path("all.json")) << cpumap_json({0, 1, 2, 3});
        Result all =
            nicsim("run " + obj("real_cpumap") + " --pcap " + t.path("t.pcap") +
                   " --map cpu_map=" + t.path("all.json") + " --no-progress --compare-kernel");
        EXPECT_EQ(all.status, 1);
        EXPECT_NE(all.err.find("map 'cpu_map': entry " + std::to_string(ncpu) +
                               ": the kernel refuses the update: No such device (a cpumap key is "
                               "a CPU: this machine has no such CPU)"),
                  std::string::npos)
            << all.err;
    }
}

// Which stores the kernel's copy loses: through the context pointer only, on any path, after a
// copy, a spill and fill, or in a subprogram given it.
TEST(RealPrograms, RxQueueWritesAreFoundThroughCopiesSpillsAndCalls)
{
    auto I = [](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        bpf_insn in = {};
        in.code = code;
        in.dst_reg = dst;
        in.src_reg = src;
        in.off = off;
        in.imm = imm;
        return in;
    };
    const uint8_t STXW = BPF_STX | BPF_MEM | BPF_W, STXDW = BPF_STX | BPF_MEM | BPF_DW,
                  LDXDW = BPF_LDX | BPF_MEM | BPF_DW, MOV = BPF_ALU64 | BPF_MOV | BPF_X,
                  MOVK = BPF_ALU64 | BPF_MOV | BPF_K, EXIT = BPF_JMP | BPF_EXIT;
    std::vector<bpf_insn> p = {
        I(MOV, 6, 1, 0, 0),                // 0: r6 = ctx
        I(STXDW, 10, 6, -8, 0),            // 1: spill
        I(MOVK, 2, 0, 0, 1),               // 2
        I(STXW, 6, 2, 16, 0),              // 3: ctx->rx_queue_index = 1   (found)
        I(LDXDW, 7, 10, -8, 0),            // 4: r7 = fill (ctx)
        I(STXW, 7, 2, 16, 0),              // 5: again                     (found)
        I(STXW, 10, 2, -16, 0),            // 6: stack, not ctx
        I(MOVK, 6, 0, 0, 0),               // 7: r6 is no longer ctx
        I(STXW, 6, 2, 16, 0),              // 8: not ctx (dead in a verifier's eyes)
        I(STXW, 7, 2, 12, 0),              // 9: another field
        I(MOV, 1, 7, 0, 0),                // 10: r1 = ctx
        I(BPF_JMP | BPF_CALL, 0, 1, 0, 2), // 11: call 14
        I(MOVK, 0, 0, 0, 2),               // 12
        I(EXIT, 0, 0, 0, 0),               // 13
        I(STXW, 1, 2, 16, 0),              // 14: subprogram, r1 = ctx   (found)
        I(EXIT, 0, 0, 0, 0),               // 15
    };
    std::vector<uint8_t> mark(p.size());
    EXPECT_EQ(nicsim_kref_rxq_writes(p.data(), p.size(), mark.data()), 3u);
    std::vector<uint8_t> want(p.size());
    want[3] = want[5] = want[14] = 1;
    EXPECT_EQ(mark, want);
    EXPECT_EQ(nicsim_kref_rxq_writes(p.data(), 3, nullptr), 0u);
}

// ---- maps of maps (Katran's balancer_ingress shape) ----

void write_file(const std::string &path, const std::string &text)
{
    std::ofstream(path) << text;
}

const char *kDaddr = R"(["0xc6","0x33","0x64","0x07"])"; // 198.51.100.7, the frames' destination

// stats_by_proto (array of maps) is set by its static initialiser; vips_by_proto (hash of maps)
// from bpftool-style JSON naming its inner maps; the inner maps from their own JSON.
void write_mim_maps(const Tmp &t)
{
    write_file(t.path("vips_tcp.json"), std::string("[{\"key\": ") + kDaddr +
                                            R"(, "value": ["0x01","0x00","0x00","0x00"]}])");
    write_file(t.path("vips_udp.json"), std::string("[{\"key\": ") + kDaddr +
                                            R"(, "value": ["0x03","0x00","0x00","0x00"]}])");
    write_file(t.path("outer.json"),
               R"([{"key": ["0x06","0x00","0x00","0x00"], "value": "vips_tcp"},
 {"key": ["0x11","0x00","0x00","0x00"], "value": "vips_udp"}])");
}

std::string mim_args(const Tmp &t)
{
    return " --map vips_tcp=" + t.path("vips_tcp.json") +
           " --map vips_udp=" + t.path("vips_udp.json") +
           " --map vips_by_proto=" + t.path("outer.json");
}

TEST(RealPrograms, MapsOfMapsLoadOffloadAndRunAsInTheKernel)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    write_mim_maps(t);
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_mim") + " --pcap " + t.path("t.pcap") + mim_args(t) +
                      " --no-progress --json " + t.path("r.json") + " --dump-maps " +
                      t.path("maps.json") + (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    EXPECT_STREQ(verdict(rep, 0), "XDP_TX");   // UDP: vips_by_proto[17] = vips_udp: 3
    EXPECT_STREQ(verdict(rep, 1), "XDP_DROP"); // TCP: vips_by_proto[6] = vips_tcp: 1
    EXPECT_STREQ(verdict(rep, 2), "XDP_PASS"); // ICMP: no inner map for protocol 1
    json_decref(rep);
    // the counters went to the inner maps the static initialiser put in stats_by_proto
    json_t *maps = load_json(t.path("maps.json"));
    ASSERT_TRUE(maps);
    auto count0 = [&](const char *map) {
        json_t *v = json_object_get(json_array_get(json_object_get(maps, map), 0), "value");
        return json_string_value(json_array_get(v, 0));
    };
    EXPECT_STREQ(count0("stats_tcp"), "0x01");
    EXPECT_STREQ(count0("stats_other"), "0x02");
    json_decref(maps);
    if (kernel) {
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("maps: final contents equal to the kernel's"), std::string::npos)
            << r.out;
    }
}

TEST(RealPrograms, MapOfMapsValuesNameMapsOfTheObject)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    write_mim_maps(t);
    write_file(t.path("bad_name.json"),
               R"([{"key": ["0x06","0x00","0x00","0x00"], "value": "no_such_map"}])");
    Result r = nicsim("run " + obj("real_mim") + " --pcap " + t.path("t.pcap") +
                      " --map vips_by_proto=" + t.path("bad_name.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("bad_name.json: entry 0: value 'no_such_map': "), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("has no map named 'no_such_map'"), std::string::npos) << r.err;
    write_file(
        t.path("bad_id.json"),
        R"([{"key": ["0x06","0x00","0x00","0x00"], "value": ["0xff","0x00","0x00","0x00"]}])");
    r = nicsim("run " + obj("real_mim") + " --pcap " + t.path("t.pcap") +
               " --map vips_by_proto=" + t.path("bad_id.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("entry 0: value 255 is the id of no map of"), std::string::npos) << r.err;
    // an inner map that does not match the template (a counters array in a hash of vips)
    write_file(t.path("bad_tmpl.json"),
               R"([{"key": ["0x06","0x00","0x00","0x00"], "value": "stats_tcp"}])");
    r = nicsim("run " + obj("real_mim") + " --pcap " + t.path("t.pcap") +
               " --map vips_by_proto=" + t.path("bad_tmpl.json"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--map: vips_by_proto = map stats_tcp: "), std::string::npos) << r.err;
}

// The kernel comparison's view of a map of maps: which of the object's maps each element holds
// (libbpf sets the static initialiser; nicsim_kref__set_inner_map the others), as the NIC's
// elements are compared with it by name.
TEST(RealPrograms, KernelReferenceDumpsMapsOfMapsByInnerMap)
{
    if (!kernel_available())
        GTEST_SKIP() << "bpf() unavailable";
    char err[2048] = "";
    nicsim_kref *k = nicsim_kref__open(obj("real_mim").c_str(), nullptr, err, sizeof(err));
    ASSERT_NE(k, nullptr) << err;
    uint32_t udp = 17;
    ASSERT_EQ(nicsim_kref__set_inner_map(k, "vips_by_proto", &udp, "vips_udp", err, sizeof(err)), 0)
        << err;
    EXPECT_EQ(nicsim_kref__set_inner_map(k, "vips_udp", &udp, "vips_tcp", err, sizeof(err)),
              -ENOENT);
    ASSERT_EQ(nicsim_kref__load(k, err, sizeof(err)), 0) << err;
    auto held = [&](const char *outer) {
        std::vector<std::pair<uint32_t, std::string>> v;
        nicsim_mapjson_entries e;
        int i = nicsim_kref__map_index(k, outer);
        EXPECT_GE(i, 0);
        EXPECT_EQ(nicsim_kref__outer_map_dump(k, (size_t)i, &e, err, sizeof(err)), 0) << err;
        for (size_t j = 0; j < e.count; j++) {
            uint32_t key, idx;
            nicsim_kref_map_info info;
            memcpy(&key, nicsim_mapjson_entries__key(&e, j), 4);
            memcpy(&idx, nicsim_mapjson_entries__value(&e, j), 4);
            EXPECT_EQ(nicsim_kref__map_info(k, idx, &info), 0);
            v.emplace_back(key, info.layout.name);
        }
        nicsim_mapjson_entries__free(&e);
        return v;
    };
    using V = std::vector<std::pair<uint32_t, std::string>>;
    EXPECT_EQ(held("stats_by_proto"), (V{{0, "stats_tcp"}, {1, "stats_other"}}));
    EXPECT_EQ(held("vips_by_proto"), (V{{17, "vips_udp"}}));
    nicsim_kref__close(k);
}


} // namespace

// ---- the receiving device: ctx->ingress_ifindex and rx_queue_index ----

// A program deciding on ctx->ingress_ifindex (drop unless from the loopback) sees the NIC port's
// ifindex and its core's rx queue, and so does the kernel's run of each packet: they agree on
// verdicts, printk lines and the map where the program keeps them.
TEST(RealPrograms, IngressIfindexAndRxQueueAreThePortsInTheNicAndTheKernel)
{
    Tmp t;
    std::vector<std::pair<Frame, uint32_t>> pkts;
    for (uint32_t i = 1; i <= 8; i++)
        pkts.push_back({ipv4_flow(0x0a000000u + i * 0x01010101u, 0x0b000000u + i * 0x00030507u),
                        60});
    write_pcap(t.path("t.pcap"), pkts);
    bool kernel = kernel_available();
    Result r = nicsim("run " + obj("real_ifindex") + " --pcap " + t.path("t.pcap") +
                      " --ingress-port 1 --no-progress --json " + t.path("r.json") +
                      (kernel ? " --compare-kernel" : ""));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    json_t *rep = load_json(t.path("r.json"));
    ASSERT_TRUE(rep);
    std::set<std::string> lines;
    for (size_t i = 0; i < pkts.size(); i++) {
        EXPECT_STREQ(verdict(rep, i), "XDP_DROP") << i; // a NIC port is not the loopback
        json_t *p = json_array_get(json_object_get(rep, "packets"), i);
        // the emulated kernel numbers devices as it registers them: lo 1, port 0 2, port 1 3
        std::string want = "ingress 3 queue " +
                           std::to_string(json_integer_value(json_object_get(p, "core")));
        EXPECT_NE(r.out.find("bpf_trace_printk: " + want + "\n"), std::string::npos)
            << want << "\n" << r.out;
        lines.insert(want);
    }
    EXPECT_GT(lines.size(), 1u); // the flows spread over cores, so over rx queues
    json_decref(rep);
    if (kernel) {
        EXPECT_EQ(r.err.find("not the NIC port's"), std::string::npos) << r.err;
        EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("maps: final contents equal to the kernel's"), std::string::npos)
            << r.out;
    }
}

// Programs for devmap/cpumap entries load (xdp_dm may read egress_ifindex) but, as in the
// kernel, cannot be attached to a device: `nicsim run --prog` of one is refused before the
// replay, naming program, section and the kernel's reason.
TEST(RealPrograms, DevmapAndCpumapProgramsAreRefusedAtAttach)
{
    Tmp t;
    write_pcap(t.path("t.pcap"), udp_tcp_icmp());
    bool kernel = kernel_available();
    const char *cases[][3] = {{"xdp_dm", "xdp/devmap", "BPF_XDP_DEVMAP"},
                              {"xdp_cm", "xdp.frags/cpumap", "BPF_XDP_CPUMAP"}};
    for (const auto &c : cases) {
        Result r = nicsim("run " + obj("real_devmap") + " --prog " + c[0] + " --pcap " +
                          t.path("t.pcap") + " --no-progress" +
                          (kernel ? " --compare-kernel" : ""));
        EXPECT_EQ(r.status, 1) << r.out << r.err;
        std::string want = obj("real_devmap") + ": program " + c[0] + " (section " + c[1] +
                           ") refused: attach to port 0 in HW mode: " + c[2] +
                           " programs can not be attached to a device";
        EXPECT_NE(r.err.find(want), std::string::npos) << want << "\n" << r.err;
        EXPECT_EQ(r.out.find("packets"), std::string::npos) << r.out;
    }
    Result ok = nicsim("run " + obj("real_devmap") + " --prog xdp_main --pcap " + t.path("t.pcap") +
                       " --no-progress" + (kernel ? " --compare-kernel" : ""));
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
}
