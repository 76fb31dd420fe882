// SPDX-License-Identifier: MIT
// Assembler and disassembler: byte-for-byte against the bpf_conformance suite (one ctest case per
// .data file), the suite's negatives, the syntax corners, and the .data file reader.
#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "conformance_data.h"
#include "nicsim/isa.h"

namespace
{

namespace fs = std::filesystem;

const std::string kSuite = std::string(NICSIM_SHARED_DIR) + "/conformance";

// ---- helpers ----

std::string Hex(const void *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    const uint8_t *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < len; i++) {
        s += digits[b[i] >> 4];
        s += digits[b[i] & 15];
    }
    return s;
}

std::string Hex(const std::vector<nicsim_insn> &v)
{
    return Hex(v.data(), v.size() * 8);
}

struct Assembled {
    int rc;
    std::vector<nicsim_insn> prog;
    nicsim_msg err;
};

Assembled Asm(const std::string &text)
{
    Assembled a{};
    nicsim_insn *out = nullptr;
    size_t n = 0;
    a.rc = nicsim_asm(text.c_str(), &out, &n, &a.err);
    if (a.rc == 0)
        a.prog.assign(out, out + n);
    free(out);
    return a;
}

// Hex of the assembled text, or "error: <msg>".
std::string AsmHex(const std::string &text)
{
    Assembled a = Asm(text);
    return a.rc ? std::string("error: ") + a.err.msg : Hex(a.prog);
}

std::string AsmError(const std::string &text)
{
    Assembled a = Asm(text);
    return a.rc ? a.err.msg : "assembled: " + Hex(a.prog);
}

std::string Disasm(std::vector<nicsim_insn> prog)
{
    char buf[160];
    int rc = nicsim_disasm_insn(prog.data(), prog.size(), buf, sizeof(buf));
    return rc < 0 ? "error " + std::to_string(rc) : std::string(buf);
}

nicsim_insn I(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    nicsim_insn r{};
    r.code = code;
    r.dst = dst & 15;
    r.src = src & 15;
    r.off = off;
    r.imm = imm;
    return r;
}

// What upstream's assembler and runner recorded for each file (tests.raw.jsonl and
// negative.raw.jsonl).
struct Upstream {
    std::string program, mem, result, expect, message;
    bool has_program = false;
};

std::map<std::string, Upstream> LoadJsonl(const std::string &path)
{
    std::map<std::string, Upstream> m;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        json_error_t jerr;
        json_t *j = json_loads(line.c_str(), 0, &jerr);
        if (!j) {
            ADD_FAILURE() << path << ": " << jerr.text;
            continue;
        }
        auto str = [&](const char *k) {
            const char *s = json_string_value(json_object_get(j, k));
            return std::string(s ? s : "");
        };
        Upstream u;
        u.program = str("program");
        u.has_program = json_object_get(j, "program") != nullptr;
        u.mem = str("mem");
        u.result = str("result");
        u.expect = str("expect");
        u.message = str("message");
        m[str("name")] = u;
        json_decref(j);
    }
    return m;
}

const std::map<std::string, Upstream> &Tests()
{
    static const auto m = LoadJsonl(kSuite + "/tests.raw.jsonl");
    return m;
}

const std::map<std::string, Upstream> &Negatives()
{
    static const auto m = LoadJsonl(kSuite + "/negative.raw.jsonl");
    return m;
}

std::vector<std::string> DataFiles(const std::string &dir, const std::string &prefix = "")
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (e.path().extension() == ".data" && name.compare(0, prefix.size(), prefix) == 0)
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string ParamName(const testing::TestParamInfo<std::string> &info)
{
    std::string s = info.param.substr(0, info.param.size() - 5); // drop ".data"
    for (char &c : s)
        if (!isalnum((unsigned char)c))
            c = '_';
    return s;
}

// A loaded .data file that frees itself.
struct Data : nicsim_conf_data {
    int rc;
    nicsim_msg err;
    explicit Data(const std::string &path) : nicsim_conf_data{}, err{}
    {
        rc = nicsim_conf_data_load(path.c_str(), this, &err);
    }
    ~Data() { nicsim_conf_data_free(this); }
};

// ---- the suite, one case per file ----

class AsmTestFile : public testing::TestWithParam<std::string>
{
};

TEST_P(AsmTestFile, AssemblesLikeUpstreamAndRoundTrips)
{
    const std::string name = GetParam();
    Data d(kSuite + "/tests/" + name);
    ASSERT_EQ(d.rc, 0) << d.err.msg;
    ASSERT_NE(d.asm_text, nullptr);
    auto it = Tests().find(name);
    ASSERT_NE(it, Tests().end()) << name << " missing from tests.raw.jsonl";
    const Upstream &up = it->second;

    Assembled a = Asm(d.asm_text);
    ASSERT_EQ(a.rc, 0) << a.err.msg;
    EXPECT_EQ(Hex(a.prog), up.program);
    if (d.raw) {
        EXPECT_EQ(Hex(d.raw, d.raw_n * 8), up.program) << "-- raw section";
    }
    EXPECT_EQ(Hex(d.mem, d.mem_len), up.mem);
    ASSERT_TRUE(d.has_result);
    EXPECT_EQ(d.result, strtoull(up.result.c_str(), nullptr, 0));

    // Every suite program is a valid program.
    std::vector<nicsim_isa_insn> dec(a.prog.size());
    nicsim_msg err{};
    EXPECT_EQ(nicsim_isa_decode(a.prog.data(), a.prog.size(), dec.data(), &err), 0) << err.msg;

    // Disassembly reassembles to the same bytes.
    char *text = nicsim_disasm(a.prog.data(), a.prog.size());
    ASSERT_NE(text, nullptr);
    Assembled again = Asm(text);
    EXPECT_EQ(again.rc, 0) << again.err.msg << "\n" << text;
    EXPECT_EQ(Hex(again.prog), Hex(a.prog)) << text;
    free(text);
}

INSTANTIATE_TEST_SUITE_P(Conformance, AsmTestFile, testing::ValuesIn(DataFiles(kSuite + "/tests")),
                         ParamName);

// ---- the negatives ----

class AsmTestInvalid : public testing::TestWithParam<std::string>
{
};

TEST_P(AsmTestInvalid, AssemblerRefuses)
{
    const std::string name = GetParam();
    Data d(kSuite + "/negative/" + name);
    ASSERT_EQ(d.rc, 0) << d.err.msg;
    auto it = Negatives().find(name);
    ASSERT_NE(it, Negatives().end()) << name << " missing from negative.raw.jsonl";

    Assembled a = Asm(d.asm_text ? d.asm_text : "");
    EXPECT_EQ(a.rc, -EINVAL) << "assembled: " << Hex(a.prog);
    if (it->second.expect == "assembler_error") {
        std::string want = it->second.message;
        // Upstream echoes the rest of the operand after the register: "+0x10000]".
        if (!want.empty() && want.back() == ']')
            want.pop_back();
        EXPECT_NE(std::string(a.err.msg).find(want), std::string::npos)
            << "got \"" << a.err.msg << "\", upstream says \"" << it->second.message << "\"";
        EXPECT_GE(a.err.index, 1) << "an assembler error names its source line";
        EXPECT_EQ(std::string(a.err.msg).rfind("line " + std::to_string(a.err.index) + ": ", 0), 0u)
            << a.err.msg;
    }
}

INSTANTIATE_TEST_SUITE_P(Negative, AsmTestInvalid,
                         testing::ValuesIn(DataFiles(kSuite + "/negative", "invalid_")), ParamName);

class AsmTestUnused : public testing::TestWithParam<std::string>
{
};

TEST_P(AsmTestUnused, DecodeRefusesReservedFields)
{
    const std::string name = GetParam();
    Data d(kSuite + "/negative/" + name);
    ASSERT_EQ(d.rc, 0) << d.err.msg;
    ASSERT_NE(d.raw, nullptr);
    auto it = Negatives().find(name);
    ASSERT_NE(it, Negatives().end());
    EXPECT_EQ(it->second.expect, "reject");
    EXPECT_EQ(Hex(d.raw, d.raw_n * 8), it->second.program);

    std::vector<nicsim_isa_insn> dec(d.raw_n);
    nicsim_msg err{};
    EXPECT_EQ(nicsim_isa_decode(d.raw, d.raw_n, dec.data(), &err), -EINVAL);
    EXPECT_EQ(err.index, 0);
    EXPECT_EQ(std::string(err.msg).rfind("insn 0: ", 0), 0u) << err.msg;
    EXPECT_NE(std::string(err.msg).find(" requires "), std::string::npos) << err.msg;

    // And the slot alone fails decode_one, without an index.
    nicsim_isa_insn one;
    EXPECT_EQ(nicsim_isa_decode_one(d.raw, d.raw_n, &one, &err), -EINVAL);
    EXPECT_EQ(err.index, -1);
}

INSTANTIATE_TEST_SUITE_P(Negative, AsmTestUnused,
                         testing::ValuesIn(DataFiles(kSuite + "/negative", "unused-")), ParamName);

TEST(AsmTest, SuiteAndJsonlAgree)
{
    std::vector<std::string> files = DataFiles(kSuite + "/tests");
    EXPECT_EQ(files.size(), 313u);
    EXPECT_EQ(Tests().size(), files.size());
    for (const std::string &f : files)
        EXPECT_TRUE(Tests().count(f)) << f;
    std::vector<std::string> neg = DataFiles(kSuite + "/negative");
    EXPECT_EQ(Negatives().size(), neg.size());
    for (const std::string &f : neg)
        EXPECT_TRUE(Negatives().count(f)) << f;
    EXPECT_EQ(DataFiles(kSuite + "/negative", "invalid_").size(), 11u);
    EXPECT_EQ(DataFiles(kSuite + "/negative", "unused-").size(), 45u);
}

TEST(AsmTest, MismatchNegativeAssemblesToUpstreamBytes)
{
    Data d(kSuite + "/negative/incorrect_return_value_high_bits.data");
    ASSERT_EQ(d.rc, 0) << d.err.msg;
    const Upstream &up = Negatives().at("incorrect_return_value_high_bits.data");
    EXPECT_EQ(up.expect, "mismatch");
    EXPECT_EQ(AsmHex(d.asm_text), up.program);
    EXPECT_EQ(Hex(d.mem, d.mem_len), up.mem);
}

// ---- syntax ----

TEST(AsmTest, LabelsCommentsAndRelativeTargets)
{
    const char *text = "# leading comment\n"
                       "start: mov %r0, 1   # trailing comment\n"
                       "\n"
                       "  jeq %r0, 1, done\n"
                       "loop:\n"
                       "\tadd %r0, -1\n"
                       "jne %r0, 0, loop\n"
                       "ja +0\n"
                       "ja -1\n"
                       "done: exit\n";
    EXPECT_EQ(AsmHex(text), Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, 1), I(0x15, 0, 0, 4, 1),
                                                         I(0x07, 0, 0, 0, -1), I(0x55, 0, 0, -2, 0),
                                                         I(0x05, 0, 0, 0, 0), I(0x05, 0, 0, -1, 0),
                                                         I(0x95, 0, 0, 0, 0)}));
    EXPECT_EQ(AsmHex("mov %r0, 1\r\nexit\r\n"),
              Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0)}));
}

TEST(AsmTest, ExitLabelNamesTheFirstExitUnlessDefined)
{
    // Implicit: the first exit.
    EXPECT_EQ(AsmHex("ja exit\nexit\nexit\n"),
              Hex(std::vector<nicsim_insn>{I(0x05, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
                                           I(0x95, 0, 0, 0, 0)}));
    // Explicit label wins.
    EXPECT_EQ(AsmHex("ja exit\nexit\nexit: exit\n"),
              Hex(std::vector<nicsim_insn>{I(0x05, 0, 0, 1, 0), I(0x95, 0, 0, 0, 0),
                                           I(0x95, 0, 0, 0, 0)}));
    EXPECT_EQ(AsmError("ja exit\n"), "line 1: Invalid label: exit");
}

TEST(AsmTest, ErrorsNameTheSourceLine)
{
    Assembled a = Asm("mov %r0, 1\n\n  foo %r1\nexit\n");
    EXPECT_EQ(a.rc, -EINVAL);
    EXPECT_EQ(a.err.index, 3);
    EXPECT_STREQ(a.err.msg, "line 3: Invalid mnemonic: foo");

    EXPECT_EQ(AsmError("a:\nexit\na: exit\n"),
              "line 3: Duplicate label: a (first defined at line 1)");
    EXPECT_EQ(AsmError("1abc: exit\n"), "line 1: Invalid label name: 1abc");
    EXPECT_EQ(AsmError("exit\njne %r0, 0, nowhere\n"), "line 2: Invalid label: nowhere");
    EXPECT_EQ(AsmError("mov %r0\n"), "line 1: Invalid number of operands for mnemonic: mov");
    EXPECT_EQ(AsmError("exit %r0\n"), "line 1: Invalid number of operands for mnemonic: exit");
    EXPECT_EQ(AsmError("mov %r0, 1, 2, 3, 4, 5, 6, 7, 8, 9\n"),
              "line 1: Invalid number of operands for mnemonic: mov");
    EXPECT_EQ(AsmError("mov %r11, 1\n"), "line 1: Invalid register: %r11");
    EXPECT_EQ(AsmError("mov r1, 1\n"), "line 1: Invalid register: r1");
    EXPECT_EQ(AsmError("mov %r0, foo\n"), "line 1: Invalid immediate: foo");
    EXPECT_EQ(AsmError("movsx864 %r0, 5\n"), "line 1: Invalid register: 5");
    EXPECT_EQ(AsmError("ldxw %r0, [%r1+x]\n"), "line 1: Invalid offset: +x");
    EXPECT_EQ(AsmError("ldxw %r0, [%r1+4\n"),
              "line 1: Failed to decode register and offset: [%r1+4");
    EXPECT_EQ(AsmError("lock fetch xchg [%r10-8], %r1\n"),
              "line 1: Invalid mnemonic: lock fetch xchg");
    EXPECT_EQ(AsmError("lock fetch\n"), "line 1: Invalid number of operands for lock");
    EXPECT_EQ(AsmError(""), "no instructions to assemble");
    EXPECT_EQ(AsmError("# nothing\nlabel:\n"), "no instructions to assemble");
}

TEST(AsmTest, ImmediateAndOffsetRanges)
{
    EXPECT_EQ(AsmHex("mov %r0, 0xffffffff"), Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, -1)}));
    EXPECT_EQ(AsmHex("mov %r0, -2147483648"),
              Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, INT32_MIN)}));
    EXPECT_EQ(AsmHex("mov %r0, 2147483647"),
              Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, INT32_MAX)}));
    EXPECT_EQ(AsmHex("mov %r0, -0x10"), Hex(std::vector<nicsim_insn>{I(0xb7, 0, 0, 0, -16)}));
    EXPECT_EQ(AsmError("mov %r0, 4294967295"), "line 1: Immediate out of 32-bit range: 4294967295");
    EXPECT_EQ(AsmError("mov %r0, -2147483649"),
              "line 1: Immediate out of 32-bit range: -2147483649");
    EXPECT_EQ(AsmError("mov %r0, 99999999999999999999999"),
              "line 1: Immediate out of 32-bit range: 99999999999999999999999");

    EXPECT_EQ(AsmHex("lddw %r1, -1"),
              Hex(std::vector<nicsim_insn>{I(0x18, 1, 0, 0, -1), I(0, 0, 0, 0, -1)}));
    EXPECT_EQ(AsmHex("lddw %r1, 18446744073709551615"), AsmHex("lddw %r1, 0xffffffffffffffff"));
    EXPECT_EQ(AsmError("lddw %r1, 0x10000000000000000"),
              "line 1: Immediate out of 64-bit range: 0x10000000000000000");
    EXPECT_EQ(AsmError("lddw %r1, -9223372036854775809"),
              "line 1: Immediate out of 64-bit range: -9223372036854775809");

    EXPECT_EQ(AsmHex("ldxb %r0, [%r1+32767]"),
              Hex(std::vector<nicsim_insn>{I(0x71, 0, 1, 32767, 0)}));
    EXPECT_EQ(AsmHex("stxb [%r1-0x8000], %r2"),
              Hex(std::vector<nicsim_insn>{I(0x73, 1, 2, -32768, 0)}));
    EXPECT_EQ(AsmHex("ldxb %r0, [ %r1 + 8 ]"), Hex(std::vector<nicsim_insn>{I(0x71, 0, 1, 8, 0)}));
    EXPECT_EQ(AsmHex("ldxb %r0, [%r1]"), Hex(std::vector<nicsim_insn>{I(0x71, 0, 1, 0, 0)}));
    EXPECT_EQ(AsmError("ldxb %r0, [%r1+32768]"), "line 1: Offset out of 16-bit range: +32768");
    EXPECT_EQ(AsmError("ja +32768"), "line 1: Offset out of 16-bit range: +32768");
    EXPECT_EQ(AsmHex("ja32 +100000"), Hex(std::vector<nicsim_insn>{I(0x06, 0, 0, 0, 100000)}));

    std::string far = "ja far\n";
    for (int i = 0; i < 32768; i++)
        far += "exit\n";
    far += "far: exit\n";
    EXPECT_EQ(AsmError(far), "line 1: Jump to far is out of 16-bit offset range (32768)");
    // ja32 reaches it.
    Assembled a = Asm("ja32 far\n" + far.substr(7));
    ASSERT_EQ(a.rc, 0) << a.err.msg;
    EXPECT_EQ(a.prog[0].imm, 32768);
}

TEST(AsmTest, CallForms)
{
    EXPECT_EQ(AsmHex("call 5"), Hex(std::vector<nicsim_insn>{I(0x85, 0, 0, 0, 5)}));
    EXPECT_EQ(AsmHex("call helper 5"), Hex(std::vector<nicsim_insn>{I(0x85, 0, 0, 0, 5)}));
    // callx: the register holding the helper number is in dst (as upstream assembles it).
    EXPECT_EQ(AsmHex("call %r2"), Hex(std::vector<nicsim_insn>{I(0x8d, 2, 0, 0, 0)}));
    EXPECT_EQ(AsmHex("callx %r2"), Hex(std::vector<nicsim_insn>{I(0x8d, 2, 0, 0, 0)}));
    EXPECT_EQ(AsmHex("call kfunc 77"), Hex(std::vector<nicsim_insn>{I(0x85, 0, 2, 0, 77)}));
    EXPECT_EQ(AsmHex("call runtime 77"), Hex(std::vector<nicsim_insn>{I(0x85, 0, 2, 0, 77)}));
    EXPECT_EQ(AsmHex("call local f\nexit\nf: exit"),
              Hex(std::vector<nicsim_insn>{I(0x85, 0, 1, 0, 1), I(0x95, 0, 0, 0, 0),
                                           I(0x95, 0, 0, 0, 0)}));
    EXPECT_EQ(AsmHex("call local -1"), Hex(std::vector<nicsim_insn>{I(0x85, 0, 1, 0, -1)}));
    EXPECT_EQ(AsmError("call bogus 1"), "line 1: Invalid call mode: bogus");
    EXPECT_EQ(AsmError("call"), "line 1: Invalid number of operands for mnemonic: call");
    EXPECT_EQ(AsmError("callx 5"), "line 1: Invalid register: 5");
}

TEST(AsmTest, AliasesAndCpuV4Forms)
{
    EXPECT_EQ(AsmHex("swap16 %r1"), AsmHex("bswap16 %r1"));
    EXPECT_EQ(AsmHex("swap64 %r1"), Hex(std::vector<nicsim_insn>{I(0xd7, 1, 0, 0, 64)}));
    EXPECT_EQ(AsmHex("movsx8 %r1, %r2"), AsmHex("movsx864 %r1, %r2"));
    EXPECT_EQ(AsmHex("movsx3264 %r1, %r2"), Hex(std::vector<nicsim_insn>{I(0xbf, 1, 2, 32, 0)}));
    EXPECT_EQ(AsmHex("movsx1632 %r1, %r2"), Hex(std::vector<nicsim_insn>{I(0xbc, 1, 2, 16, 0)}));
    EXPECT_EQ(AsmHex("sdiv32 %r1, 3"), Hex(std::vector<nicsim_insn>{I(0x34, 1, 0, 1, 3)}));
    EXPECT_EQ(AsmHex("smod %r1, %r2"), Hex(std::vector<nicsim_insn>{I(0x9f, 1, 2, 1, 0)}));
    EXPECT_EQ(AsmHex("ldxsh %r1, [%r2-2]"), Hex(std::vector<nicsim_insn>{I(0x89, 1, 2, -2, 0)}));
    EXPECT_EQ(AsmHex("le32 %r3"), Hex(std::vector<nicsim_insn>{I(0xd4, 3, 0, 0, 32)}));
    EXPECT_EQ(AsmHex("be64 %r3"), Hex(std::vector<nicsim_insn>{I(0xdc, 3, 0, 0, 64)}));
    EXPECT_EQ(AsmHex("lock fetch and32 [%r10-4], %r1"),
              Hex(std::vector<nicsim_insn>{I(0xc3, 10, 1, -4, 0x51)}));
    EXPECT_EQ(AsmHex("lock cmpxchg [%r10-8], %r1"),
              Hex(std::vector<nicsim_insn>{I(0xdb, 10, 1, -8, 0xf1)}));
    EXPECT_EQ(AsmHex("ldabsh 12\nldindw %r3, -4"),
              Hex(std::vector<nicsim_insn>{I(0x28, 0, 0, 0, 12), I(0x40, 0, 3, 0, -4)}));
}

TEST(AsmTest, LddwSourceSubtypes)
{
    EXPECT_EQ(AsmHex("lddw %r1, map_fd 3"),
              Hex(std::vector<nicsim_insn>{I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 0)}));
    EXPECT_EQ(AsmHex("lddw %r1, map_value 0x1000000003"),
              Hex(std::vector<nicsim_insn>{I(0x18, 1, 2, 0, 3), I(0, 0, 0, 0, 0x10)}));
    EXPECT_EQ(AsmHex("lddw %r1, map_idx_value 0x800000002"),
              Hex(std::vector<nicsim_insn>{I(0x18, 1, 6, 0, 2), I(0, 0, 0, 0, 8)}));
    EXPECT_EQ(AsmError("lddw %r1, map_fd 0x100000003"),
              "line 1: insn 0: LDDW map_fd requires imm == 0 in the second slot (got 1)");
    EXPECT_EQ(AsmError("lddw %r1, maps 3"), "line 1: Invalid lddw source kind: maps");
}

// The assembler is fed arbitrary text: long lines, many tokens, binary junk. It must answer 0
// or -EINVAL, never crash or overflow.
TEST(AsmTest, HostileInputIsRefusedCleanly)
{
    std::string long_word(1 << 20, 'a');
    EXPECT_EQ(AsmError(long_word).rfind("line 1: Invalid mnemonic: aaaa", 0), 0u);
    std::string long_reg = "mov %r" + std::string(100000, '1') + ", 1";
    EXPECT_EQ(AsmError(long_reg).rfind("line 1: Invalid register: %r111", 0), 0u);
    std::string many = "add %r0";
    for (int i = 0; i < 100000; i++)
        many += ", 1";
    EXPECT_EQ(AsmError(many), "line 1: Invalid number of operands for mnemonic: add");
    std::string labels;
    for (int i = 0; i < 20; i++)
        labels += "l" + std::to_string(i) + ": ";
    EXPECT_EQ(Asm(labels + "exit").rc, -EINVAL);
    std::string brackets = "ldxw %r0, [" + std::string(100000, '[') + "]";
    EXPECT_EQ(Asm(brackets).rc, -EINVAL);

    std::mt19937 rng(12345);
    const char alphabet[] = "%r0123456789abx[]+-,:# \t\nlockfetchaddmovjeqcallexitlddw";
    for (int round = 0; round < 3000; round++) {
        std::string text;
        int len = (int)(rng() % 200);
        for (int i = 0; i < len; i++)
            text +=
                (rng() % 16) ? alphabet[rng() % (sizeof(alphabet) - 1)] : (char)(rng() % 255 + 1);
        Assembled a = Asm(text);
        EXPECT_TRUE(a.rc == 0 || a.rc == -EINVAL) << a.rc;
        if (a.rc) {
            EXPECT_NE(a.err.msg[0], 0);
        }
    }
    EXPECT_EQ(nicsim_asm(nullptr, nullptr, nullptr, nullptr), -EINVAL);
}

// ---- disassembler ----

TEST(AsmTest, DisassemblesToTheSuiteSyntax)
{
    EXPECT_EQ(Disasm({I(0x04, 1, 0, 0, 5)}), "add32 %r1, 5");
    EXPECT_EQ(Disasm({I(0xb7, 1, 0, 0, -1)}), "mov %r1, -1");
    EXPECT_EQ(Disasm({I(0x57, 1, 0, 0, 0xffffff)}), "and %r1, 0xffffff");
    EXPECT_EQ(Disasm({I(0x37, 1, 0, 1, 3)}), "sdiv %r1, 3");
    EXPECT_EQ(Disasm({I(0xbf, 0, 1, 16, 0)}), "movsx1664 %r0, %r1");
    EXPECT_EQ(Disasm({I(0xdc, 3, 0, 0, 16)}), "be16 %r3");
    EXPECT_EQ(Disasm({I(0xd7, 3, 0, 0, 64)}), "bswap64 %r3");
    EXPECT_EQ(Disasm({I(0xd5, 1, 0, -1, -1)}), "jsle %r1, -1, -1");
    EXPECT_EQ(Disasm({I(0x2e, 1, 2, 3, 0)}), "jgt32 %r1, %r2, +3");
    EXPECT_EQ(Disasm({I(0x05, 0, 0, 0, 0)}), "ja +0");
    EXPECT_EQ(Disasm({I(0x06, 0, 0, 0, 100000)}), "ja32 +100000");
    EXPECT_EQ(Disasm({I(0x85, 0, 0, 0, 5)}), "call 5");
    EXPECT_EQ(Disasm({I(0x85, 0, 1, 0, -3)}), "call local -3");
    EXPECT_EQ(Disasm({I(0x85, 0, 2, 0, 9)}), "call kfunc 9");
    EXPECT_EQ(Disasm({I(0x8d, 2, 0, 0, 0)}), "call %r2");
    EXPECT_EQ(Disasm({I(0x95, 0, 0, 0, 0)}), "exit");
    EXPECT_EQ(Disasm({I(0x18, 0, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344)}),
              "lddw %r0, 0x1122334455667788");
    EXPECT_EQ(Disasm({I(0x18, 0, 0, 0, 42), I(0, 0, 0, 0, 0)}), "lddw %r0, 42");
    EXPECT_EQ(Disasm({I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 0)}), "lddw %r1, map_fd 3");
    EXPECT_EQ(Disasm({I(0x61, 0, 1, 4, 0)}), "ldxw %r0, [%r1+4]");
    EXPECT_EQ(Disasm({I(0x91, 0, 1, 0, 0)}), "ldxsb %r0, [%r1]");
    EXPECT_EQ(Disasm({I(0x62, 10, 0, -8, 7)}), "stw [%r10-8], 7");
    EXPECT_EQ(Disasm({I(0x7b, 10, 1, -8, 0)}), "stxdw [%r10-8], %r1");
    EXPECT_EQ(Disasm({I(0xc3, 10, 1, -4, 0x01)}), "lock fetch add32 [%r10-4], %r1");
    EXPECT_EQ(Disasm({I(0xdb, 10, 1, -8, 0xe1)}), "lock xchg [%r10-8], %r1");
    EXPECT_EQ(Disasm({I(0x30, 0, 0, 0, 12)}), "ldabsb 12");
    EXPECT_EQ(Disasm({I(0x48, 0, 3, 0, 12)}), "ldindh %r3, 12");
}

TEST(AsmTest, DisasmInsnReportsSlotsAndErrors)
{
    nicsim_insn lddw[2] = {I(0x18, 0, 0, 0, 1), I(0, 0, 0, 0, 0)};
    char buf[64];
    EXPECT_EQ(nicsim_disasm_insn(lddw, 2, buf, sizeof(buf)), 2);
    EXPECT_EQ(nicsim_disasm_insn(lddw, 1, buf, sizeof(buf)), -EINVAL); // truncated
    EXPECT_STREQ(buf, "<invalid: LDDW is truncated: its second slot is missing>");
    nicsim_insn bad = I(0x8f, 0, 0, 0, 0);
    EXPECT_EQ(nicsim_disasm_insn(&bad, 1, buf, sizeof(buf)), -EINVAL);
    EXPECT_STREQ(buf, "<invalid: unknown opcode 0x8f>");
    nicsim_insn add = I(0x07, 1, 0, 0, 5);
    EXPECT_EQ(nicsim_disasm_insn(&add, 1, buf, 5), -ENOSPC);
    EXPECT_EQ(nicsim_disasm_insn(&add, 1, nullptr, 0), -EINVAL);

    nicsim_insn prog[2] = {add, bad};
    errno = 0;
    EXPECT_EQ(nicsim_disasm(prog, 2), nullptr);
    EXPECT_EQ(errno, EINVAL);
    char *one = nicsim_disasm(prog, 1);
    ASSERT_NE(one, nullptr);
    EXPECT_STREQ(one, "add %r1, 5\n");
    free(one);
}

// Every valid encoding of every op disassembles to a line that assembles back to its bytes.
TEST(AsmTest, DisasmRoundTripsEveryValidEncoding)
{
    const int16_t offs[] = {0, 1, 8, 16, 32, -8, 32767, -32768};
    const int32_t imms[] = {0,    16,   32,   64, 0x01,  0x40,  0x41,   0x50,      0x51,     0xa0,
                            0xa1, 0xe1, 0xf1, -1, 65535, 65536, -65536, INT32_MIN, INT32_MAX};
    size_t checked = 0;
    for (unsigned code = 0; code < 256; code++)
        for (uint8_t dst : {0, 10})
            for (uint8_t src : {0, 1, 2, 6, 9})
                for (int16_t off : offs)
                    for (int32_t imm : imms) {
                        nicsim_insn raw[2] = {I((uint8_t)code, dst, src, off, imm),
                                              I(0, 0, 0, 0, src == 1 || src == 5 ? 0 : -7)};
                        char line[160];
                        int rc = nicsim_disasm_insn(raw, 2, line, sizeof(line));
                        if (rc < 0)
                            continue;
                        checked++;
                        Assembled a = Asm(line);
                        ASSERT_EQ(a.rc, 0) << line << ": " << a.err.msg;
                        ASSERT_EQ(Hex(a.prog), Hex(raw, 8 * (size_t)rc)) << line;
                    }
    EXPECT_GT(checked, 10000u);
}

// ---- the .data reader ----

TEST(AsmTest, ConformanceDataParsesEverySection)
{
    const char *text = "# Copyright header\n"
                       "-- asm\n"
                       "mov %r0, 1 # kept\n"
                       "exit\n"
                       "-- c\n"
                       "int main() { return 1; } # ignored\n"
                       "-- raw\n"
                       "0x00000001000000b7\n"
                       "95 00 00 00 00 00 00 00  # a comment\n"
                       "-- mem\n"
                       "00 01 ff\n"
                       "\n"
                       "aa\n"
                       "-- result\n"
                       "42\n"
                       "-- no register offset\n"
                       "call instruction\n"
                       "-- error\n"
                       "  Something failed  \n";
    nicsim_conf_data d;
    nicsim_msg err{};
    ASSERT_EQ(nicsim_conf_data_parse(text, &d, &err), 0) << err.msg;
    EXPECT_STREQ(d.asm_text, "mov %r0, 1 # kept\nexit\n");
    ASSERT_EQ(d.raw_n, 2u);
    EXPECT_EQ(Hex(d.raw, 16), "b70000000100000095000000"
                              "00000000");
    EXPECT_EQ(Hex(d.mem, d.mem_len), "0001ffaa");
    EXPECT_TRUE(d.has_result);
    EXPECT_EQ(d.result, 42u);
    EXPECT_STREQ(d.error, "Something failed");
    nicsim_conf_data_free(&d);
    EXPECT_EQ(d.asm_text, nullptr);
    nicsim_conf_data_free(&d); // twice is harmless

    ASSERT_EQ(nicsim_conf_data_parse("-- result\n0xFFFFFFFFFFFFFFFF\n-- error", &d, &err), 0);
    EXPECT_EQ(d.result, UINT64_MAX);
    EXPECT_EQ(d.asm_text, nullptr);
    EXPECT_EQ(d.raw, nullptr);
    EXPECT_EQ(d.mem, nullptr);
    EXPECT_STREQ(d.error, "");
    nicsim_conf_data_free(&d);

    ASSERT_EQ(nicsim_conf_data_parse("# only a header\n", &d, &err), 0);
    EXPECT_FALSE(d.has_result);
    EXPECT_EQ(d.error, nullptr);
    nicsim_conf_data_free(&d);
}

TEST(AsmTest, ConformanceDataRefusesMalformedLines)
{
    const struct {
        const char *text;
        long line;
    } bad[] = {
        {"-- mem\n00 01\nzz\n", 3}, {"-- mem\n123\n", 2},
        {"-- raw\n95 00 00\n", 2},  {"-- raw\n0x11223344556677889\n", 2},
        {"-- result\n0x1g\n", 2},   {"-- result\n1\n2\n", 3},
        {"-- result\n-1\n", 2},
    };
    for (const auto &b : bad) {
        SCOPED_TRACE(b.text);
        nicsim_conf_data d;
        nicsim_msg err{};
        EXPECT_EQ(nicsim_conf_data_parse(b.text, &d, &err), -EINVAL);
        EXPECT_EQ(err.index, b.line);
        EXPECT_EQ(d.mem, nullptr);
    }
    nicsim_conf_data d;
    nicsim_msg err{};
    EXPECT_EQ(nicsim_conf_data_load("/nonexistent/x.data", &d, &err), -ENOENT);
    EXPECT_NE(std::string(err.msg).find("/nonexistent/x.data"), std::string::npos);
}

TEST(AsmTest, ConformanceDataReadsNegativeRawBytes)
{
    Data d(kSuite + "/negative/unused-call-dst.data");
    ASSERT_EQ(d.rc, 0) << d.err.msg;
    EXPECT_EQ(d.asm_text, nullptr);
    ASSERT_EQ(d.raw_n, 2u);
    EXPECT_EQ(d.raw[0].code, 0x85);
    EXPECT_EQ(d.raw[0].dst, 1);
    EXPECT_STREQ(d.error, "");
    Data e(kSuite + "/negative/invalid_lock.data");
    EXPECT_STREQ(e.error, "Invalid number of operands for lock");
}

} // namespace
