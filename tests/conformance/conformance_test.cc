// SPDX-License-Identifier: MIT
// The bpf_conformance suite on the C core model: each test file is its own test case.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "bpfconf.h"
#include "conformance_data.h"
#include "nicsim/isa.h"
}

namespace
{

std::string dir_of(const char *sub)
{
    return std::string(NICSIM_SHARED_DIR) + "/conformance/" + sub;
}

std::vector<std::string> list(const char *sub, const char *prefix = "")
{
    std::vector<std::string> v;
    DIR *d = opendir(dir_of(sub).c_str());
    if (!d)
        return v;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".data") == 0 &&
            n.compare(0, strlen(prefix), prefix) == 0)
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

// A loaded .data file, freed on scope exit.
struct Data {
    nicsim_conf_data d{};
    ~Data() { nicsim_conf_data_free(&d); }
    void load(const std::string &path)
    {
        nicsim_msg err{};
        ASSERT_EQ(nicsim_conf_data_load(path.c_str(), &d, &err), 0)
            << path << ": line " << err.index << ": " << err.msg;
    }
};

// Program bytes of a file: its raw section, else its assembled asm section.
struct Program {
    nicsim_insn *insns = nullptr;
    size_t n = 0;
    ~Program() { free(insns); }
};

int program_of(const nicsim_conf_data &d, Program &p, std::string &why)
{
    if (d.raw) {
        p.insns = (nicsim_insn *)malloc(d.raw_n * sizeof(nicsim_insn));
        memcpy(p.insns, d.raw, d.raw_n * sizeof(nicsim_insn));
        p.n = d.raw_n;
        return 0;
    }
    if (!d.asm_text) {
        why = "no program";
        return -1;
    }
    nicsim_msg err{};
    int rc = nicsim_asm(d.asm_text, &p.insns, &p.n, &err);
    if (rc)
        why = std::string("assembler: ") + err.msg;
    return rc;
}

class Conformance : public testing::TestWithParam<std::string>
{
};

TEST_P(Conformance, RunsOnTheCModel)
{
    Data f;
    f.load(dir_of("tests/") + GetParam());
    Program p;
    std::string why;
    ASSERT_EQ(program_of(f.d, p, why), 0) << why;
    nicsim_run run{};
    nicsim_msg err{};
    nicsim_bpfconf_opts o{};
    o.sz = sizeof(o);
    int rc = nicsim_bpfconf_run(p.insns, p.n, f.d.mem, f.d.mem_len, &o, &run, &err);
    if (f.d.error) {
        // The program must fail: refused at load or trapped at run time.
        EXPECT_NE(rc, 0) << "expected failure '" << f.d.error << "', got r0 = 0x" << std::hex
                         << run.r0;
        return;
    }
    ASSERT_EQ(rc, 0) << (rc == -EINVAL ? std::string("refused at insn ") +
                                             std::to_string(err.index) + ": " + err.msg
                                       : std::string("trap: ") + run.trap.msg);
    ASSERT_TRUE(f.d.has_result);
    EXPECT_EQ(run.r0, f.d.result) << std::hex << "r0 0x" << run.r0 << " expected 0x" << f.d.result;
    EXPECT_GT(run.cycles, 0u);
    EXPECT_GE(run.cycles, run.insns) << "single issue: at least one cycle per instruction";
}

INSTANTIATE_TEST_SUITE_P(Tests, Conformance, testing::ValuesIn(list("tests")), test_name);

TEST(ConformanceSuite, HasAllItsFiles)
{
    EXPECT_EQ(list("tests").size(), 313u) << "shared/conformance/tests is incomplete";
}

// unused-*: encodings with a non-zero reserved field, refused when the program is loaded.
class Unused : public testing::TestWithParam<std::string>
{
};

TEST_P(Unused, RefusedAtLoad)
{
    Data f;
    f.load(dir_of("negative/") + GetParam());
    Program p;
    std::string why;
    ASSERT_EQ(program_of(f.d, p, why), 0) << why;
    nicsim_msg err{};
    nicsim_bpfconf_opts o{};
    o.sz = sizeof(o);
    nicsim_bpfconf *env = nicsim_bpfconf__new(p.insns, p.n, f.d.mem, f.d.mem_len, &o, &err);
    EXPECT_EQ(env, nullptr) << "loaded a program with a non-zero reserved field";
    if (env) {
        nicsim_bpfconf__free(env);
        return;
    }
    EXPECT_GE(err.index, 0);
    EXPECT_GT(strlen(err.msg), 0u) << "a refusal gives its reason";
}

INSTANTIATE_TEST_SUITE_P(Negative, Unused, testing::ValuesIn(list("negative", "unused-")),
                         test_name);

// invalid_*: sources the assembler must not assemble.
class Invalid : public testing::TestWithParam<std::string>
{
};

TEST_P(Invalid, RefusedByTheAssembler)
{
    Data f;
    f.load(dir_of("negative/") + GetParam());
    ASSERT_NE(f.d.asm_text, nullptr);
    nicsim_insn *out = nullptr;
    size_t n = 0;
    nicsim_msg err{};
    EXPECT_NE(nicsim_asm(f.d.asm_text, &out, &n, &err), 0);
    EXPECT_GT(strlen(err.msg), 0u);
    free(out);
}

INSTANTIATE_TEST_SUITE_P(Negative, Invalid, testing::ValuesIn(list("negative", "invalid_")),
                         test_name);

TEST(ConformanceNegative, WrongStatedResultIsNotReproduced)
{
    Data f;
    f.load(dir_of("negative/incorrect_return_value_high_bits.data"));
    Program p;
    std::string why;
    ASSERT_EQ(program_of(f.d, p, why), 0) << why;
    nicsim_run run{};
    nicsim_msg err{};
    ASSERT_EQ(nicsim_bpfconf_run(p.insns, p.n, f.d.mem, f.d.mem_len, nullptr, &run, &err), 0);
    EXPECT_NE(run.r0, f.d.result);
    // ldxdw from offset 2 of "aa bb 11 22 .. 88": little-endian 0x8877665544332211.
    EXPECT_EQ(run.r0, 0x8877665544332211ull);
}

// ---- nicsim-plugin, driven as upstream's runner drives it.
struct PluginResult {
    int status = -1;
    std::string out, err;
};

PluginResult plugin(const std::string &args, const std::string &stdin_text)
{
    char in[] = "/tmp/nicsim-plugin-in-XXXXXX";
    int fd = mkstemp(in);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, stdin_text.data(), stdin_text.size()), (ssize_t)stdin_text.size());
    close(fd);
    std::string errf = std::string(in) + ".err";
    std::string cmd = std::string(NICSIM_PLUGIN_PATH) + " " + args + " < " + in + " 2> " + errf;
    PluginResult r;
    FILE *p = popen(cmd.c_str(), "r");
    char buf[256];
    while (p && fgets(buf, sizeof(buf), p))
        r.out += buf;
    int st = p ? pclose(p) : -1;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *e = fopen(errf.c_str(), "r");
    while (e && fgets(buf, sizeof(buf), e))
        r.err += buf;
    if (e)
        fclose(e);
    unlink(in);
    unlink(errf.c_str());
    return r;
}

std::string runner_hex(const nicsim_insn *insns, size_t n)
{
    std::string s;
    const uint8_t *b = (const uint8_t *)insns;
    char h[8];
    for (size_t i = 0; i < n * 8; i++) {
        snprintf(h, sizeof(h), "%02x  ", b[i]);
        s += h;
    }
    return s + "\n";
}

TEST(Plugin, AnswersR0InHexForEveryTestFile)
{
    size_t ran = 0;
    for (const std::string &name : list("tests")) {
        Data f;
        f.load(dir_of("tests/") + name);
        if (f.d.error || !f.d.has_result)
            continue;
        Program p;
        std::string why;
        ASSERT_EQ(program_of(f.d, p, why), 0) << name << ": " << why;
        std::string mem;
        char h[4];
        for (size_t i = 0; i < f.d.mem_len; i++) {
            snprintf(h, sizeof(h), "%02x", f.d.mem[i]);
            mem += h;
        }
        PluginResult r = plugin(mem.empty() ? "" : mem, runner_hex(p.insns, p.n));
        ASSERT_EQ(r.status, 0) << name << ": " << r.err;
        EXPECT_EQ(strtoull(r.out.c_str(), nullptr, 16), f.d.result) << name << ": " << r.out;
        ran++;
        if (ran >= 40 && getenv("NICSIM_PLUGIN_ALL") == nullptr)
            break; // a process per file: 40 files are enough for the protocol, the env var runs all
    }
    EXPECT_GE(ran, 40u);
}

TEST(Plugin, RefusesAnUnusedFieldWithAReason)
{
    // mov %r1, 0; exit: fine. exit with a non-zero immediate: a reserved field, refused.
    PluginResult ok =
        plugin("", "b7  01  00  00  00  00  00  00  95  00  00  00  00  00  00  00\n");
    EXPECT_EQ(ok.status, 0) << ok.err;
    PluginResult bad = plugin("", "95  00  00  00  01  00  00  00\n");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("insn 0"), std::string::npos) << bad.err;
}

TEST(Plugin, ChoosesTheModelAndRefusesUnknownOnes)
{
    std::string prog = "b7  00  00  00  2a  00  00  00  95  00  00  00  00  00  00  00\n";
    PluginResult c = plugin("--model c", prog);
    EXPECT_EQ(c.status, 0) << c.err;
    EXPECT_EQ(strtoull(c.out.c_str(), nullptr, 16), 0x2au);
    PluginResult rtl = plugin("--model verilator", prog);
    EXPECT_NE(rtl.status, 0);
    EXPECT_NE(rtl.err.find("verilator"), std::string::npos) << rtl.err;
}

TEST(Plugin, WatchdogEndsALoopWithAMessage)
{
    // ja -1: an endless loop.
    PluginResult r = plugin("--budget 1000", "05  00  ff  ff  00  00  00  00  95  00  00  00  00  "
                                             "00  00  00\n");
    EXPECT_NE(r.status, 0);
    EXPECT_FALSE(r.err.empty());
}

} // namespace

/* The one options rule (nicsim_opts_copy): a larger options struct only with a zero tail. */
TEST(ConformanceOptions, NonZeroTailIsRefused)
{
    const nicsim_insn prog[2] = {{0xb7, 0, 0, 0, 42}, {0x95, 0, 0, 0, 0}};
    struct {
        nicsim_bpfconf_opts o;
        uint64_t future;
    } big{};
    big.o.sz = sizeof(big);
    nicsim_msg err{};
    nicsim_bpfconf *env = nicsim_bpfconf__new(prog, 2, nullptr, 0, &big.o, &err);
    EXPECT_NE(env, nullptr) << err.msg;
    nicsim_bpfconf__free(env);
    big.future = 1;
    EXPECT_EQ(nicsim_bpfconf__new(prog, 2, nullptr, 0, &big.o, &err), nullptr);
    EXPECT_EQ(std::string(err.msg),
              "options: size " + std::to_string(sizeof(big)) + " with unknown non-zero fields");
}
