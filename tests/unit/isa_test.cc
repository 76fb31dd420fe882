// SPDX-License-Identifier: MIT
// ISA library: decode/encode per instruction group, validation rules, op properties.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "nicsim/isa.h"

namespace
{

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

const nicsim_insn kExit = I(0x95, 0, 0, 0, 0);
const nicsim_insn kMov0 = I(0xb7, 0, 0, 0, 0); // mov %r0, 0

bool SameBytes(const nicsim_insn &a, const nicsim_insn &b)
{
    return !memcmp(&a, &b, sizeof(a));
}

struct DecodeResult {
    int rc;
    nicsim_msg err;
};

DecodeResult DecodeProgram(std::vector<nicsim_insn> prog,
                           std::vector<nicsim_isa_insn> *out = nullptr)
{
    std::vector<nicsim_isa_insn> dec(prog.size() + 1);
    DecodeResult r{};
    r.rc = nicsim_isa_decode(prog.data(), prog.size(), dec.data(), &r.err);
    if (out)
        *out = dec;
    return r;
}

// ---- known answers, one or more per group ----

struct Known {
    const char *what;
    nicsim_insn raw;
    nicsim_op op;
    uint8_t size;
};

const Known kKnown[] = {
    // base32 / base64
    {"add64 K", I(0x07, 1, 0, 0, 5), NICSIM_OP_ADD64_K, 0},
    {"add64 X", I(0x0f, 1, 2, 0, 0), NICSIM_OP_ADD64_X, 0},
    {"sub32 K", I(0x14, 3, 0, 0, -7), NICSIM_OP_SUB32_K, 0},
    {"xor32 X", I(0xac, 3, 4, 0, 0), NICSIM_OP_XOR32_X, 0},
    {"lsh64 K", I(0x67, 1, 0, 0, 63), NICSIM_OP_LSH64_K, 0},
    {"arsh32 X", I(0xcc, 1, 2, 0, 0), NICSIM_OP_ARSH32_X, 0},
    {"neg64", I(0x87, 9, 0, 0, 0), NICSIM_OP_NEG64, 0},
    {"neg32", I(0x84, 9, 0, 0, 0), NICSIM_OP_NEG32, 0},
    {"mov64 K", I(0xb7, 0, 0, 0, -1), NICSIM_OP_MOV64_K, 0},
    {"mov32 X", I(0xbc, 0, 10, 0, 0), NICSIM_OP_MOV32_X, 0},
    // divmul
    {"mul64 K", I(0x27, 1, 0, 0, 3), NICSIM_OP_MUL64_K, 0},
    {"div32 X", I(0x3c, 1, 2, 0, 0), NICSIM_OP_DIV32_X, 0},
    {"sdiv64 K", I(0x37, 1, 0, 1, -3), NICSIM_OP_SDIV64_K, 0},
    {"sdiv32 X", I(0x3c, 1, 2, 1, 0), NICSIM_OP_SDIV32_X, 0},
    {"mod64 X", I(0x9f, 1, 2, 0, 0), NICSIM_OP_MOD64_X, 0},
    {"smod64 X", I(0x9f, 1, 2, 1, 0), NICSIM_OP_SMOD64_X, 0},
    {"smod32 K", I(0x94, 1, 0, 1, 7), NICSIM_OP_SMOD32_K, 0},
    // cpu v4: sign-extending moves and loads, bswap, ja32
    {"movsx8 64", I(0xbf, 0, 1, 8, 0), NICSIM_OP_MOVSX8_64, 0},
    {"movsx16 64", I(0xbf, 0, 1, 16, 0), NICSIM_OP_MOVSX16_64, 0},
    {"movsx32 64", I(0xbf, 0, 1, 32, 0), NICSIM_OP_MOVSX32_64, 0},
    {"movsx8 32", I(0xbc, 0, 1, 8, 0), NICSIM_OP_MOVSX8_32, 0},
    {"movsx16 32", I(0xbc, 0, 1, 16, 0), NICSIM_OP_MOVSX16_32, 0},
    {"ldxsb", I(0x91, 0, 1, -1, 0), NICSIM_OP_LDXSB, 1},
    {"ldxsh", I(0x89, 0, 1, -2, 0), NICSIM_OP_LDXSH, 2},
    {"ldxsw", I(0x81, 0, 1, -4, 0), NICSIM_OP_LDXSW, 4},
    {"bswap16", I(0xd7, 2, 0, 0, 16), NICSIM_OP_BSWAP16, 0},
    {"bswap32", I(0xd7, 2, 0, 0, 32), NICSIM_OP_BSWAP32, 0},
    {"bswap64", I(0xd7, 2, 0, 0, 64), NICSIM_OP_BSWAP64, 0},
    {"le16", I(0xd4, 2, 0, 0, 16), NICSIM_OP_LE16, 0},
    {"le64", I(0xd4, 2, 0, 0, 64), NICSIM_OP_LE64, 0},
    {"be32", I(0xdc, 2, 0, 0, 32), NICSIM_OP_BE32, 0},
    {"ja32", I(0x06, 0, 0, 0, -70000), NICSIM_OP_JA32, 0},
    // jumps
    {"ja", I(0x05, 0, 0, -3, 0), NICSIM_OP_JA, 0},
    {"may_goto", I(0xe5, 0, 0, 2, 0), NICSIM_OP_MAY_GOTO, 0},
    {"jeq K", I(0x15, 1, 0, 2, 9), NICSIM_OP_JEQ_K, 0},
    {"jsle X", I(0xdd, 1, 2, 2, 0), NICSIM_OP_JSLE_X, 0},
    {"jlt32 K", I(0xa6, 1, 0, 2, 9), NICSIM_OP_JLT32_K, 0},
    {"jset32 X", I(0x4e, 1, 2, 2, 0), NICSIM_OP_JSET32_X, 0},
    // calls and exit
    {"call helper", I(0x85, 0, 0, 0, 5), NICSIM_OP_CALL_HELPER, 0},
    {"call local", I(0x85, 0, 1, 0, -4), NICSIM_OP_CALL_LOCAL, 0},
    {"call kfunc", I(0x85, 0, 2, 0, 1234), NICSIM_OP_CALL_KFUNC, 0},
    {"callx", I(0x8d, 2, 0, 0, 0), NICSIM_OP_CALLX, 0},
    {"exit", I(0x95, 0, 0, 0, 0), NICSIM_OP_EXIT, 0},
    // loads and stores
    {"ldxb", I(0x71, 0, 1, 3, 0), NICSIM_OP_LDXB, 1},
    {"ldxdw", I(0x79, 0, 1, 8, 0), NICSIM_OP_LDXDW, 8},
    {"sth", I(0x6a, 10, 0, -2, 0x1234), NICSIM_OP_STH, 2},
    {"stdw", I(0x7a, 10, 0, -8, -1), NICSIM_OP_STDW, 8},
    {"stxw", I(0x63, 10, 1, -4, 0), NICSIM_OP_STXW, 4},
    {"ldabsb", I(0x30, 0, 0, 0, 12), NICSIM_OP_LDABS_B, 1},
    {"ldabsh", I(0x28, 0, 0, 0, 12), NICSIM_OP_LDABS_H, 2},
    {"ldabsw", I(0x20, 0, 0, 0, 12), NICSIM_OP_LDABS_W, 4},
    {"ldindb", I(0x50, 0, 3, 0, 12), NICSIM_OP_LDIND_B, 1},
    {"ldindh", I(0x48, 0, 3, 0, 12), NICSIM_OP_LDIND_H, 2},
    {"ldindw", I(0x40, 0, 3, 0, 12), NICSIM_OP_LDIND_W, 4},
    // atomic32 / atomic64
    {"lock add32", I(0xc3, 10, 1, -4, 0x00), NICSIM_OP_AADD_W, 4},
    {"lock or32", I(0xc3, 10, 1, -4, 0x40), NICSIM_OP_AOR_W, 4},
    {"lock and32", I(0xc3, 10, 1, -4, 0x50), NICSIM_OP_AAND_W, 4},
    {"lock xor32", I(0xc3, 10, 1, -4, 0xa0), NICSIM_OP_AXOR_W, 4},
    {"lock fetch add32", I(0xc3, 10, 1, -4, 0x01), NICSIM_OP_AFADD_W, 4},
    {"lock fetch or32", I(0xc3, 10, 1, -4, 0x41), NICSIM_OP_AFOR_W, 4},
    {"lock fetch and32", I(0xc3, 10, 1, -4, 0x51), NICSIM_OP_AFAND_W, 4},
    {"lock fetch xor32", I(0xc3, 10, 1, -4, 0xa1), NICSIM_OP_AFXOR_W, 4},
    {"lock xchg32", I(0xc3, 10, 1, -4, 0xe1), NICSIM_OP_AXCHG_W, 4},
    {"lock cmpxchg32", I(0xc3, 10, 1, -4, 0xf1), NICSIM_OP_ACMPXCHG_W, 4},
    {"lock add", I(0xdb, 10, 1, -8, 0x00), NICSIM_OP_AADD_DW, 8},
    {"lock or", I(0xdb, 10, 1, -8, 0x40), NICSIM_OP_AOR_DW, 8},
    {"lock and", I(0xdb, 10, 1, -8, 0x50), NICSIM_OP_AAND_DW, 8},
    {"lock xor", I(0xdb, 10, 1, -8, 0xa0), NICSIM_OP_AXOR_DW, 8},
    {"lock fetch add", I(0xdb, 10, 1, -8, 0x01), NICSIM_OP_AFADD_DW, 8},
    {"lock fetch or", I(0xdb, 10, 1, -8, 0x41), NICSIM_OP_AFOR_DW, 8},
    {"lock fetch and", I(0xdb, 10, 1, -8, 0x51), NICSIM_OP_AFAND_DW, 8},
    {"lock fetch xor", I(0xdb, 10, 1, -8, 0xa1), NICSIM_OP_AFXOR_DW, 8},
    {"lock xchg", I(0xdb, 10, 1, -8, 0xe1), NICSIM_OP_AXCHG_DW, 8},
    {"lock cmpxchg", I(0xdb, 10, 1, -8, 0xf1), NICSIM_OP_ACMPXCHG_DW, 8},
};

TEST(IsaTest, DecodesEveryGroupAndEncodesBack)
{
    for (const Known &k : kKnown) {
        SCOPED_TRACE(k.what);
        nicsim_isa_insn d;
        nicsim_msg err{};
        ASSERT_EQ(nicsim_isa_decode_one(&k.raw, 1, &d, &err), 1) << err.msg;
        EXPECT_EQ(d.op, k.op) << nicsim_isa_op_name((nicsim_op)d.op);
        EXPECT_EQ(d.dst, k.raw.dst);
        EXPECT_EQ(d.src, k.raw.src);
        EXPECT_EQ(d.off, k.raw.off);
        EXPECT_EQ(d.imm, k.raw.imm);
        EXPECT_EQ(d.imm64, (uint64_t)(int64_t)k.raw.imm);
        EXPECT_EQ(d.size, k.size);

        nicsim_insn back{};
        ASSERT_EQ(nicsim_isa_encode(&d, 1, &back, &err), 0) << err.msg;
        EXPECT_TRUE(SameBytes(back, k.raw));
    }
}

TEST(IsaTest, LddwDecodesBothSlotsForEverySourceSubtype)
{
    for (uint8_t src = 0; src <= 6; src++) {
        SCOPED_TRACE(src);
        // MAP_FD (1) and MAP_IDX (5) require a zero upper half.
        int32_t hi = (src == 1 || src == 5) ? 0 : 0x11223344;
        std::vector<nicsim_insn> prog = {I(0x18, 3, src, 0, (int32_t)0x85667788), I(0, 0, 0, 0, hi),
                                         kExit};
        std::vector<nicsim_isa_insn> dec;
        DecodeResult r = DecodeProgram(prog, &dec);
        ASSERT_EQ(r.rc, 0) << r.err.msg;
        EXPECT_EQ(dec[0].op, NICSIM_OP_LDDW);
        EXPECT_EQ(dec[0].dst, 3);
        EXPECT_EQ(dec[0].src, src);
        EXPECT_EQ(dec[0].imm, (int32_t)0x85667788);
        EXPECT_EQ(dec[0].imm64, ((uint64_t)(uint32_t)hi << 32) | 0x85667788u);
        EXPECT_EQ(dec[1].op, NICSIM_OP_LDDW_HI);
        EXPECT_EQ(dec[1].imm, hi);
        EXPECT_EQ(nicsim_isa_op_class((nicsim_op)dec[1].op), NICSIM_CLASS_LDDW);

        std::vector<nicsim_insn> back(3);
        nicsim_msg err{};
        ASSERT_EQ(nicsim_isa_encode(dec.data(), 3, back.data(), &err), 0) << err.msg;
        for (size_t i = 0; i < 3; i++)
            EXPECT_TRUE(SameBytes(back[i], prog[i])) << i;
    }
    nicsim_isa_insn one;
    nicsim_insn two[2] = {I(0x18, 0, 0, 0, 1), I(0, 0, 0, 0, 2)};
    EXPECT_EQ(nicsim_isa_decode_one(two, 2, &one, nullptr), 2);
    EXPECT_EQ(one.imm64, 0x200000001ull);
}

// Every opcode byte with a spread of field values: whatever decodes must encode back to the same
// bytes, and between them the valid encodings must produce every op.
TEST(IsaTest, EveryValidEncodingRoundTripsAndEveryOpIsReachable)
{
    const uint8_t srcs[] = {0, 1, 2, 3, 11};
    const int16_t offs[] = {0, 1, 8, 16, 32, -8};
    const int32_t imms[] = {0,    16,   32,   64,   0x01, 0x40, 0x41, 0x50,
                            0x51, 0xa0, 0xa1, 0xe1, 0xf1, 5,    -1};
    std::set<unsigned> seen;
    size_t valid = 0;
    for (unsigned code = 0; code < 256; code++)
        for (uint8_t dst : {0, 1})
            for (uint8_t src : srcs)
                for (int16_t off : offs)
                    for (int32_t imm : imms) {
                        nicsim_insn raw[2] = {I((uint8_t)code, dst, src, off, imm),
                                              I(0, 0, 0, 0, 7)};
                        nicsim_isa_insn d[2];
                        nicsim_msg err{};
                        int rc = nicsim_isa_decode_one(raw, 2, &d[0], &err);
                        if (rc < 0) {
                            EXPECT_EQ(rc, -EINVAL);
                            EXPECT_EQ(err.index, -1);
                            EXPECT_NE(err.msg[0], 0);
                            continue;
                        }
                        valid++;
                        seen.insert(d[0].op);
                        if (rc == 2) {
                            d[1] = nicsim_isa_insn{};
                            d[1].op = NICSIM_OP_LDDW_HI;
                            d[1].imm = raw[1].imm;
                        }
                        nicsim_insn back[2] = {};
                        ASSERT_EQ(nicsim_isa_encode(d, (size_t)rc, back, &err), 0)
                            << "code 0x" << std::hex << code << ": " << err.msg;
                        for (int i = 0; i < rc; i++)
                            ASSERT_TRUE(SameBytes(back[i], raw[i]))
                                << "code 0x" << std::hex << code;
                    }
    for (unsigned op = 1; op < NICSIM_OP__COUNT; op++) {
        if (op != NICSIM_OP_LDDW_HI) {
            EXPECT_TRUE(seen.count(op))
                << "no encoding decodes to " << nicsim_isa_op_name((nicsim_op)op);
        }
    }
    EXPECT_GT(valid, 1000u);
}

// ---- validation ----

struct Refusal {
    const char *what;
    std::vector<nicsim_insn> prog;
    long index;
    const char *msg;
};

const Refusal kRefusals[] = {
    {"unknown opcode", {kMov0, I(0x8f, 0, 0, 0, 0), kExit}, 1, "insn 1: unknown opcode 0x8f"},
    {"unknown ALU op 0xe0", {I(0xe7, 0, 0, 0, 0), kExit}, 0, "insn 0: unknown opcode 0xe7"},
    {"JMP32 has no EXIT", {kMov0, I(0x96, 0, 0, 0, 0)}, 1, "insn 1: unknown opcode 0x96"},
    {"JMP32 has no CALL", {I(0x86, 0, 0, 0, 1), kExit}, 0, "insn 0: unknown opcode 0x86"},
    {"BSWAP has no X form", {I(0xdf, 0, 0, 0, 16), kExit}, 0, "insn 0: unknown opcode 0xdf"},
    {"no MEMSX DW", {I(0x99, 0, 1, 0, 0), kExit}, 0, "insn 0: unknown opcode 0x99"},
    {"no byte atomics", {I(0xd3, 10, 1, 0, 0), kExit}, 0, "insn 0: unknown opcode 0xd3"},
    {"no LD_ABS DW", {I(0x38, 0, 0, 0, 0), kExit}, 0, "insn 0: unknown opcode 0x38"},
    {"opcode 0", {I(0x00, 0, 0, 0, 0), kExit}, 0, "insn 0: unknown opcode 0x00"},
    {"ADD64_K off", {I(0x07, 0, 0, 1, 1), kExit}, 0, "insn 0: ADD64_K requires off == 0 (got 1)"},
    {"ADD64_K src", {I(0x07, 0, 1, 0, 1), kExit}, 0, "insn 0: ADD64_K requires src == 0 (got 1)"},
    {"ADD32_X imm", {I(0x0c, 0, 1, 0, 1), kExit}, 0, "insn 0: ADD32_X requires imm == 0 (got 1)"},
    {"DIV off 2",
     {I(0x3f, 0, 1, 2, 0), kExit},
     0,
     "insn 0: DIV64_X requires off == 0 (or 1 for SDIV64_X) (got 2)"},
    {"MOVSX32 in ALU32",
     {I(0xbc, 0, 1, 32, 0), kExit},
     0,
     "insn 0: MOV32_X requires off == 0, 8, 16 (got 32)"},
    {"MOV_K with off",
     {I(0xb7, 0, 0, 8, 0), kExit},
     0,
     "insn 0: MOV64_K requires off == 0 (got 8)"},
    {"NEG imm", {I(0x87, 0, 0, 0, 1), kExit}, 0, "insn 0: NEG64 requires imm == 0 (got 1)"},
    {"END width",
     {I(0xd4, 0, 0, 0, 8), kExit},
     0,
     "insn 0: LE requires imm == 16, 32 or 64 (got 8)"},
    {"END off", {I(0xdc, 0, 0, 1, 16), kExit}, 0, "insn 0: BE16 requires off == 0 (got 1)"},
    {"JA imm", {I(0x05, 0, 0, 0, 1), kExit}, 0, "insn 0: JA requires imm == 0 (got 1)"},
    {"JA32 off", {I(0x06, 0, 0, 1, 0), kExit}, 0, "insn 0: JA32 requires off == 0 (got 1)"},
    {"may_goto imm", {I(0xe5, 0, 0, 0, 1), kExit}, 0, "insn 0: MAY_GOTO requires imm == 0 (got 1)"},
    {"may_goto dst", {I(0xe5, 1, 0, 0, 0), kExit}, 0, "insn 0: MAY_GOTO requires dst == 0 (got 1)"},
    {"may_goto subtype",
     {I(0xe5, 0, 1, 0, 0), kExit},
     0,
     "insn 0: may_goto (opcode 0xe5) has unknown source subtype src == 1"},
    {"no may_goto X", {I(0xed, 0, 0, 0, 0), kExit}, 0, "insn 0: unknown opcode 0xed"},
    {"no JMP32 may_goto", {I(0xe6, 0, 0, 0, 0), kExit}, 0, "insn 0: unknown opcode 0xe6"},
    {"JEQ_K src", {I(0x15, 0, 1, 0, 0), kExit}, 0, "insn 0: JEQ_K requires src == 0 (got 1)"},
    {"JEQ_X imm", {I(0x1d, 0, 1, 0, 1), kExit}, 0, "insn 0: JEQ_X requires imm == 0 (got 1)"},
    {"CALL dst", {I(0x85, 1, 0, 0, 1), kExit}, 0, "insn 0: CALL_HELPER requires dst == 0 (got 1)"},
    {"CALL subtype",
     {I(0x85, 0, 3, 0, 1), kExit},
     0,
     "insn 0: CALL has unknown source subtype src == 3 (0 helper, 1 local, 2 kfunc)"},
    {"CALLX imm", {I(0x8d, 1, 0, 0, 1), kExit}, 0, "insn 0: CALLX requires imm == 0 (got 1)"},
    {"EXIT src", {kMov0, I(0x95, 0, 1, 0, 0)}, 1, "insn 1: EXIT requires src == 0 (got 1)"},
    {"LDX imm", {I(0x61, 0, 1, 0, 1), kExit}, 0, "insn 0: LDXW requires imm == 0 (got 1)"},
    {"ST src", {I(0x62, 10, 1, 0, 1), kExit}, 0, "insn 0: STW requires src == 0 (got 1)"},
    {"STX imm", {I(0x7b, 10, 1, 0, 1), kExit}, 0, "insn 0: STXDW requires imm == 0 (got 1)"},
    {"LD_ABS dst", {I(0x20, 1, 0, 0, 1), kExit}, 0, "insn 0: LDABS_W requires dst == 0 (got 1)"},
    {"atomic op",
     {I(0xdb, 10, 1, 0, 0x02), kExit},
     0,
     "insn 0: atomic (opcode 0xdb) has unknown operation imm == 0x2"},
    {"dst r11",
     {I(0xb7, 11, 0, 0, 0), kExit},
     0,
     "insn 0: MOV64_K uses dst register r11, which does not exist (r0..r10)"},
    {"src r15",
     {I(0xbf, 0, 15, 0, 0), kExit},
     0,
     "insn 0: MOV64_X uses src register r15, which does not exist (r0..r10)"},
    {"LDDW off",
     {I(0x18, 0, 0, 1, 0), I(0, 0, 0, 0, 0), kExit},
     0,
     "insn 0: LDDW requires off == 0 (got 1)"},
    {"LDDW subtype",
     {I(0x18, 0, 7, 0, 0), I(0, 0, 0, 0, 0), kExit},
     0,
     "insn 0: LDDW has unknown source subtype src == 7 (0..6)"},
    {"LDDW second slot",
     {I(0x18, 0, 0, 0, 0), I(0, 1, 0, 0, 0), kExit},
     0,
     "insn 0: LDDW second slot requires code, dst, src and off == 0 (got code 0x00 dst 1 src 0 "
     "off 0)"},
    {"LDDW map_fd hi",
     {I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 1), kExit},
     0,
     "insn 0: LDDW map_fd requires imm == 0 in the second slot (got 1)"},
    {"LDDW truncated",
     {kMov0, I(0x18, 0, 0, 0, 0)},
     1,
     "insn 1: LDDW is truncated: its second slot is missing"},
    {"jump past the end",
     {I(0x15, 1, 0, 1, 0), kExit},
     0,
     "insn 0: jeq target 2 is outside the program (0..1)"},
    {"jump before the start",
     {kMov0, I(0x05, 0, 0, -3, 0), kExit},
     1,
     "insn 1: ja target -1 is outside the program (0..2)"},
    {"ja32 outside",
     {I(0x06, 0, 0, 0, 5), kExit},
     0,
     "insn 0: ja32 target 6 is outside the program (0..1)"},
    {"local call outside",
     {I(0x85, 0, 1, 0, -2), kExit},
     0,
     "insn 0: call local target -1 is outside the program (0..1)"},
    {"jump into LDDW",
     {I(0x05, 0, 0, 1, 0), I(0x18, 0, 0, 0, 0), I(0, 0, 0, 0, 0), kExit},
     0,
     "insn 0: ja target 2 is the second slot of the LDDW at insn 1"},
    {"no final exit",
     {kMov0, kMov0},
     1,
     "insn 1: program must end with EXIT or an unconditional jump (last instruction is MOV64_K)"},
    {"ends with jcond",
     {kMov0, I(0x15, 0, 0, -2, 0)},
     1,
     "insn 1: program must end with EXIT or an unconditional jump (last instruction is JEQ_K)"},
    {"ends with LDDW",
     {kMov0, I(0x18, 0, 0, 0, 0), I(0, 0, 0, 0, 0)},
     1,
     "insn 1: program must end with EXIT or an unconditional jump (last instruction is LDDW)"},
    {"empty", {}, -1, "empty program"},
};

TEST(IsaTest, DecodeRefusesWithIndexAndReason)
{
    for (const Refusal &r : kRefusals) {
        SCOPED_TRACE(r.what);
        DecodeResult d = DecodeProgram(r.prog);
        EXPECT_EQ(d.rc, -EINVAL);
        EXPECT_EQ(d.err.index, r.index);
        EXPECT_STREQ(d.err.msg, r.msg);
    }
}

TEST(IsaTest, DecodeAcceptsProgramsEndingWithJumps)
{
    EXPECT_EQ(DecodeProgram({kMov0, I(0x05, 0, 0, -2, 0)}).rc, 0); // ja -2
    EXPECT_EQ(DecodeProgram({kMov0, I(0x06, 0, 0, 0, -2)}).rc, 0); // ja32 -2
    EXPECT_EQ(DecodeProgram({kExit}).rc, 0);
    // Jumps to the first and to the last slot, and a local call, are inside the program.
    EXPECT_EQ(DecodeProgram({I(0x15, 1, 0, 1, 0), I(0x85, 0, 1, 0, -2), kExit}).rc, 0);
    EXPECT_EQ(DecodeProgram({I(0x15, 1, 0, 2, 0), I(0x18, 0, 0, 0, 0), I(0, 0, 0, 0, 0), kExit}).rc,
              0);
}

TEST(IsaTest, DecodeRefusesOversizedProgramsAndAcceptsTheLimit)
{
    std::vector<nicsim_insn> prog(NICSIM_ISA_MAX_INSNS + 1, kMov0);
    std::vector<nicsim_isa_insn> out(prog.size());
    nicsim_msg err{};
    EXPECT_EQ(nicsim_isa_decode(prog.data(), prog.size(), out.data(), &err), -EINVAL);
    EXPECT_EQ(err.index, -1);
    EXPECT_STREQ(err.msg, "program has 1000001 slots, more than the limit of 1000000");

    prog[NICSIM_ISA_MAX_INSNS - 1] = kExit;
    EXPECT_EQ(nicsim_isa_decode(prog.data(), NICSIM_ISA_MAX_INSNS, out.data(), &err), 0) << err.msg;
}

TEST(IsaTest, NullArgumentsAreRefusedNotCrashed)
{
    nicsim_isa_insn d;
    nicsim_msg err{};
    EXPECT_EQ(nicsim_isa_decode_one(nullptr, 1, &d, &err), -EINVAL);
    EXPECT_EQ(nicsim_isa_decode_one(&kExit, 0, &d, &err), -EINVAL);
    EXPECT_EQ(nicsim_isa_decode(nullptr, 1, &d, &err), -EINVAL);
    EXPECT_EQ(nicsim_isa_decode(&kExit, 1, &d, nullptr), 0); // err is optional
    EXPECT_EQ(nicsim_isa_encode(nullptr, 1, nullptr, &err), -EINVAL);
    EXPECT_EQ(nicsim_isa_decode(&kMov0, 1, &d, nullptr), -EINVAL);
}

TEST(IsaTest, EncodeRefusesWhatCannotBeEncoded)
{
    nicsim_insn out[3];
    nicsim_msg err{};
    nicsim_isa_insn in[3] = {};

    in[0].op = NICSIM_OP_LDDW; // without its second slot
    EXPECT_EQ(nicsim_isa_encode(in, 1, out, &err), -EINVAL);
    EXPECT_EQ(err.index, 0);
    EXPECT_STREQ(err.msg, "insn 0: LDDW must be followed by its LDDW_HI slot");

    in[0].op = NICSIM_OP_LDDW_HI; // alone
    EXPECT_EQ(nicsim_isa_encode(in, 1, out, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "insn 0: LDDW_HI does not follow an LDDW");

    in[0].op = NICSIM_OP_EXIT;
    in[1].op = NICSIM_OP_MOV64_X;
    in[1].src = 11;
    EXPECT_EQ(nicsim_isa_encode(in, 2, out, &err), -EINVAL);
    EXPECT_EQ(err.index, 1);
    EXPECT_STREQ(err.msg, "insn 1: MOV64_X uses src register r11, which does not exist (r0..r10)");

    in[1].op = NICSIM_OP__COUNT;
    EXPECT_EQ(nicsim_isa_encode(in, 2, out, &err), -EINVAL);
    EXPECT_EQ(std::string(err.msg), "insn 1: invalid op " + std::to_string(NICSIM_OP__COUNT));

    in[1].op = NICSIM_OP_LDDW;
    in[1].src = 9;
    in[2].op = NICSIM_OP_LDDW_HI;
    EXPECT_EQ(nicsim_isa_encode(in, 3, out, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "insn 1: LDDW has unknown source subtype src == 9 (0..6)");
}

TEST(IsaTest, EncodeWritesTheFieldsTheOpFixes)
{
    // The decoded form's off/imm are ignored where the op fixes them: SDIV's off, END's width,
    // the atomic operation, the call subtype; LDDW's halves come from imm64.
    nicsim_isa_insn in[4] = {};
    in[0].op = NICSIM_OP_SDIV64_K;
    in[0].dst = 1;
    in[0].imm = -3;
    in[1].op = NICSIM_OP_BSWAP32;
    in[1].dst = 2;
    in[2].op = NICSIM_OP_LDDW;
    in[2].dst = 4;
    in[2].imm64 = 0x1122334455667788ull;
    in[3].op = NICSIM_OP_LDDW_HI;
    nicsim_insn out[4];
    nicsim_msg err{};
    ASSERT_EQ(nicsim_isa_encode(in, 4, out, &err), 0) << err.msg;
    EXPECT_TRUE(SameBytes(out[0], I(0x37, 1, 0, 1, -3)));
    EXPECT_TRUE(SameBytes(out[1], I(0xd7, 2, 0, 0, 32)));
    EXPECT_TRUE(SameBytes(out[2], I(0x18, 4, 0, 0, 0x55667788)));
    EXPECT_TRUE(SameBytes(out[3], I(0, 0, 0, 0, 0x11223344)));

    nicsim_isa_insn a = {};
    a.op = NICSIM_OP_ACMPXCHG_DW;
    a.dst = 10;
    a.src = 1;
    a.off = -8;
    a.imm = 0; // ignored
    ASSERT_EQ(nicsim_isa_encode(&a, 1, out, &err), 0) << err.msg;
    EXPECT_TRUE(SameBytes(out[0], I(0xdb, 10, 1, -8, 0xf1)));

    nicsim_isa_insn c = {};
    c.op = NICSIM_OP_CALL_LOCAL;
    c.imm = 7;
    ASSERT_EQ(nicsim_isa_encode(&c, 1, out, &err), 0) << err.msg;
    EXPECT_TRUE(SameBytes(out[0], I(0x85, 0, 1, 0, 7)));
}

// ---- op properties ----

TEST(IsaTest, OpNamesAreTheAssemblerMnemonics)
{
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_ADD32_K), "add32");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_ADD64_X), "add");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_MOVSX16_32), "movsx1632");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_AFXOR_W), "lock fetch xor32");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_CALL_LOCAL), "call local");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP_LDDW_HI), "lddw.hi");
    EXPECT_STREQ(nicsim_isa_op_name(NICSIM_OP__COUNT), "invalid");
    EXPECT_STREQ(nicsim_isa_op_name((nicsim_op)-1), "invalid");
}

TEST(IsaTest, OpClasses)
{
    const struct {
        nicsim_op op;
        nicsim_op_class cls;
    } cases[] = {
        {NICSIM_OP_INVALID, NICSIM_CLASS_NONE},
        {NICSIM_OP_ADD64_K, NICSIM_CLASS_ALU},
        {NICSIM_OP_MOVSX8_64, NICSIM_CLASS_ALU},
        {NICSIM_OP_BSWAP64, NICSIM_CLASS_ALU},
        {NICSIM_OP_NEG32, NICSIM_CLASS_ALU},
        {NICSIM_OP_MUL32_X, NICSIM_CLASS_MULDIV},
        {NICSIM_OP_SDIV64_K, NICSIM_CLASS_MULDIV},
        {NICSIM_OP_SMOD32_X, NICSIM_CLASS_MULDIV},
        {NICSIM_OP_JSLE32_X, NICSIM_CLASS_JCOND},
        {NICSIM_OP_MAY_GOTO, NICSIM_CLASS_JCOND},
        {NICSIM_OP_JA, NICSIM_CLASS_JA},
        {NICSIM_OP_JA32, NICSIM_CLASS_JA},
        {NICSIM_OP_CALL_HELPER, NICSIM_CLASS_CALL},
        {NICSIM_OP_CALL_KFUNC, NICSIM_CLASS_CALL},
        {NICSIM_OP_CALLX, NICSIM_CLASS_CALL},
        {NICSIM_OP_CALL_LOCAL, NICSIM_CLASS_CALL_LOCAL},
        {NICSIM_OP_EXIT, NICSIM_CLASS_EXIT},
        {NICSIM_OP_LDDW, NICSIM_CLASS_LDDW},
        {NICSIM_OP_LDDW_HI, NICSIM_CLASS_LDDW},
        {NICSIM_OP_LDIND_H, NICSIM_CLASS_LEGACY},
        {NICSIM_OP_LDXSW, NICSIM_CLASS_LOAD},
        {NICSIM_OP_STB, NICSIM_CLASS_STORE},
        {NICSIM_OP_STXDW, NICSIM_CLASS_STORE},
        {NICSIM_OP_AXCHG_W, NICSIM_CLASS_ATOMIC},
        {NICSIM_OP__COUNT, NICSIM_CLASS_NONE},
    };
    for (const auto &c : cases)
        EXPECT_EQ(nicsim_isa_op_class(c.op), c.cls) << nicsim_isa_op_name(c.op);
}

nicsim_isa_insn Decoded(nicsim_insn raw)
{
    nicsim_insn two[2] = {raw, I(0, 0, 0, 0, 0)};
    nicsim_isa_insn d{};
    nicsim_msg err{};
    EXPECT_GT(nicsim_isa_decode_one(two, 2, &d, &err), 0) << err.msg;
    return d;
}

constexpr uint16_t R(int n)
{
    return (uint16_t)(1u << n);
}

TEST(IsaTest, RegistersReadAndWritten)
{
    const struct {
        const char *what;
        nicsim_insn raw;
        uint16_t read, written;
    } cases[] = {
        {"add64 K", I(0x07, 3, 0, 0, 1), R(3), R(3)},
        {"add64 X", I(0x0f, 3, 4, 0, 0), R(3) | R(4), R(3)},
        {"mov64 K", I(0xb7, 3, 0, 0, 1), 0, R(3)},
        {"mov32 X", I(0xbc, 3, 4, 0, 0), R(4), R(3)},
        {"movsx", I(0xbf, 3, 4, 8, 0), R(4), R(3)},
        {"neg", I(0x87, 5, 0, 0, 0), R(5), R(5)},
        {"be16", I(0xdc, 5, 0, 0, 16), R(5), R(5)},
        {"jeq K", I(0x15, 2, 0, 0, 1), R(2), 0},
        {"jeq X", I(0x1d, 2, 7, 0, 0), R(2) | R(7), 0},
        {"ja", I(0x05, 0, 0, 0, 0), 0, 0},
        {"call helper", I(0x85, 0, 0, 0, 1), 0x3e, 0x3f},
        {"call local", I(0x85, 0, 1, 0, 1), 0x3e, 0x3f},
        {"callx", I(0x8d, 8, 0, 0, 0), 0x3e | R(8), 0x3f},
        {"exit", kExit, R(0), 0},
        {"lddw", I(0x18, 6, 0, 0, 1), 0, R(6)},
        {"ldabs", I(0x20, 0, 0, 0, 1), R(6), 0x3f},
        {"ldind", I(0x40, 0, 2, 0, 1), R(6) | R(2), 0x3f},
        {"ldxw", I(0x61, 1, 2, 0, 0), R(2), R(1)},
        {"stw", I(0x62, 10, 0, -4, 1), R(10), 0},
        {"stxw", I(0x63, 10, 3, -4, 0), R(10) | R(3), 0},
        {"lock add", I(0xdb, 10, 3, -8, 0x00), R(10) | R(3), 0},
        {"lock fetch or", I(0xdb, 10, 3, -8, 0x41), R(10) | R(3), R(3)},
        {"lock xchg", I(0xc3, 10, 3, -8, 0xe1), R(10) | R(3), R(3)},
        {"lock cmpxchg", I(0xdb, 10, 3, -8, 0xf1), R(10) | R(3) | R(0), R(0)},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.what);
        nicsim_isa_insn d = Decoded(c.raw);
        EXPECT_EQ(nicsim_isa_regs_read(&d), c.read);
        EXPECT_EQ(nicsim_isa_regs_written(&d), c.written);
    }
    nicsim_isa_insn hi{};
    hi.op = NICSIM_OP_LDDW_HI;
    EXPECT_EQ(nicsim_isa_regs_read(&hi), 0);
    EXPECT_EQ(nicsim_isa_regs_written(&hi), 0);
    EXPECT_EQ(nicsim_isa_regs_read(nullptr), 0);
}

TEST(IsaTest, BranchTargets)
{
    nicsim_isa_insn d = Decoded(I(0x05, 0, 0, -3, 0)); // ja -3
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), 8);
    d = Decoded(I(0x2d, 1, 2, 4, 0)); // jgt X +4
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), 15);
    d = Decoded(I(0x06, 0, 0, 0, 100000)); // ja32: the offset is in imm
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), 100011);
    d = Decoded(I(0x85, 0, 1, 0, -11)); // call local: pc-relative imm
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), 0);
    d = Decoded(I(0x85, 0, 0, 0, 5)); // helper: no fixed target
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), -1);
    d = Decoded(I(0x8d, 1, 0, 0, 0));
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), -1);
    d = Decoded(kExit);
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), -1);
    d = Decoded(I(0x07, 1, 0, 0, 5));
    EXPECT_EQ(nicsim_isa_branch_target(&d, 10), -1);
}

} // namespace

// The one message carrier (struct nicsim_msg, util.h) carries the ISA's errors.
TEST(IsaTest, ErrorsTravelInTheOneMessageCarrier)
{
    static_assert(std::is_same<nicsim_isa_err, nicsim_msg>::value, "isa errors are nicsim_msg");
    nicsim_msg m{};
    nicsim_msg_set(&m, 7, "insn %d: %s", 7, "bad");
    EXPECT_STREQ(m.msg, "insn 7: bad");
    EXPECT_EQ(m.index, 7);
    nicsim_msg_set(nullptr, 1, "nothing written");

    const nicsim_insn bad[1] = {{0xff, 0, 0, 0, 0}};
    nicsim_isa_insn out[1];
    nicsim_msg err{};
    ASSERT_LT(nicsim_isa_decode(bad, 1, out, &err), 0);
    EXPECT_EQ(err.index, 0);
    EXPECT_NE(err.msg[0], '\0');
}
