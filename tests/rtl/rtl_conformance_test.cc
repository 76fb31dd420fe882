// SPDX-License-Identifier: MIT
// The bpf_conformance suite on the RTL core (sim/rtl): every test file is its own test case,
// and each must give the C model's result, instruction count, cycle count, trap, and the same
// per-instruction trace (pc and retire cycle of every executed instruction).
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "bpfconf.h"
#include "conformance_data.h"
#include "nicsim/isa.h"
#include "rtl.h"
}

namespace
{

std::string dir_of(const char *sub)
{
    return std::string(NICSIM_SHARED_DIR) + "/conformance/" + sub;
}

std::vector<std::string> list_tests()
{
    std::vector<std::string> v;
    DIR *d = opendir(dir_of("tests").c_str());
    if (!d)
        return v;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".data") == 0)
            v.push_back(n);
    }
    closedir(d);
    std::sort(v.begin(), v.end());
    return v;
}

std::string test_name(const testing::TestParamInfo<std::string> &info)
{
    std::string s = info.param.substr(0, info.param.size() - 5);
    for (char &c : s)
        if (!isalnum((unsigned char)c))
            c = '_';
    return s;
}

struct Rec {
    uint32_t pc;
    uint64_t cycle;
    bool operator==(const Rec &o) const { return pc == o.pc && cycle == o.cycle; }
};

void collect(void *user, const struct nicsim_trace_rec *rec)
{
    static_cast<std::vector<Rec> *>(user)->push_back({rec->pc, rec->cycle});
}

class RtlConformance : public testing::TestWithParam<std::string>
{
};

TEST_P(RtlConformance, AgreesWithTheCModel)
{
    nicsim_conf_data d{};
    nicsim_isa_err err{};
    std::string path = dir_of("tests/") + GetParam();
    ASSERT_EQ(nicsim_conf_data_load(path.c_str(), &d, &err), 0) << path << ": " << err.msg;
    nicsim_insn *insns = nullptr;
    size_t n = 0;
    if (d.raw) {
        n = d.raw_n;
        insns = (nicsim_insn *)malloc(n * sizeof(nicsim_insn));
        memcpy(insns, d.raw, n * sizeof(nicsim_insn));
    } else {
        ASSERT_EQ(nicsim_asm(d.asm_text, &insns, &n, &err), 0) << err.msg;
    }

    std::vector<Rec> ct, rt;
    nicsim_bpfconf_opts o{};
    o.sz = sizeof(o);
    o.trace = collect;
    o.trace_user = &ct;
    nicsim_run c{}, r{};
    nicsim_isa_err ce{}, re{};
    int crc = nicsim_bpfconf_run(insns, n, d.mem, d.mem_len, &o, &c, &ce);

    nicsim_rtl *rtl = nicsim_rtl__new();
    ASSERT_NE(rtl, nullptr);
    int rrc = nicsim_rtl__run_conf(rtl, insns, n, d.mem, d.mem_len, nullptr, 0, nicsim_bpfconf_helpers(),
                                   collect, &rt, &r, &re);
    nicsim_rtl__free(rtl);
    free(insns);

    EXPECT_EQ(rrc, crc) << "C: " << (crc ? c.trap.msg : "ok") << " / RTL: " << r.trap.msg
                        << re.msg;
    if (d.error) {
        EXPECT_NE(rrc, 0) << "expected failure '" << d.error << "'";
    } else if (rrc == 0 && d.has_result) {
        EXPECT_EQ(r.r0, d.result) << std::hex << "RTL r0 0x" << r.r0;
    }
    if (crc != -EINVAL) {
        EXPECT_EQ(r.r0, c.r0);
        EXPECT_EQ(r.status, c.status);
        EXPECT_EQ(r.insns, c.insns);
        EXPECT_EQ(r.cycles, c.cycles) << "cycle count differs from the C model";
        EXPECT_EQ(0, memcmp(&r.stalls, &c.stalls, sizeof(r.stalls))) << "stall breakdown";
        EXPECT_EQ(r.trap.kind, c.trap.kind) << r.trap.msg;
        EXPECT_EQ(r.trap.pc, c.trap.pc) << r.trap.msg;
        ASSERT_EQ(rt.size(), ct.size()) << "trace length";
        for (size_t i = 0; i < ct.size(); i++) {
            ASSERT_EQ(rt[i].pc, ct[i].pc) << "trace record " << i;
            ASSERT_EQ(rt[i].cycle, ct[i].cycle) << "trace record " << i << " at pc " << ct[i].pc;
        }
    }
    nicsim_conf_data_free(&d);
}

INSTANTIATE_TEST_SUITE_P(Tests, RtlConformance, testing::ValuesIn(list_tests()), test_name);

TEST(RtlConformanceSuite, HasAllItsFiles)
{
    EXPECT_EQ(list_tests().size(), 313u) << "shared/conformance/tests is incomplete";
}

// nicsim-plugin --model rtl: the same protocol as the C model, on the RTL.
std::string plugin(const std::string &args, const std::string &prog_hex, int *status)
{
    char in[] = "/tmp/nicsim-rtl-plugin-XXXXXX";
    int fd = mkstemp(in);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, prog_hex.data(), prog_hex.size()), (ssize_t)prog_hex.size());
    close(fd);
    std::string cmd = std::string(NICSIM_PLUGIN_PATH) + " " + args + " < " + in + " 2>&1";
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    char buf[256];
    while (p && fgets(buf, sizeof(buf), p))
        out += buf;
    int st = p ? pclose(p) : -1;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    unlink(in);
    return out;
}

TEST(RtlPlugin, RunsTheProgramOnTheRtlWithTheCModelsCycles)
{
    // mov r0, 2; ldxw r0, [r1+0]... : r0 = 0x2a from memory, then exit
    std::string prog = "61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n";
    int st = -1;
    std::string rtl = plugin("2a000000 --model rtl --stats", prog, &st);
    ASSERT_EQ(st, 0) << rtl;
    std::string c = plugin("2a000000 --model c --stats", prog, &st);
    ASSERT_EQ(st, 0) << c;
    EXPECT_EQ(rtl, c) << "same r0 and the same instruction and cycle counts";
    EXPECT_NE(rtl.find("2a"), std::string::npos) << rtl;
    // a trap is reported with the failing instruction
    std::string bad = plugin("--model rtl", "61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n", &st);
    EXPECT_NE(st, 0);
    EXPECT_NE(bad.find("insn 0"), std::string::npos) << bad;
}

} // namespace
