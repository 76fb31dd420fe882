/* SPDX-License-Identifier: MIT */
/*
 * eBPF wire format <-> decoded form, per RFC 9669 and the Linux verifier's checks of reserved
 * fields: op properties, decode of one slot, decode and validation of a program, encode.
 */
#include "isa_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- op table --------------------------------------------------------------------------- */

#define OPI(name, code_, fmt_, cls_, ...)                                                          \
    [NICSIM_OP_##name] = {.code = (code_), .fmt = (fmt_), .cls = (cls_), .id = #name, __VA_ARGS__}

/* An ALU op with its immediate (_K) and register (_X) forms. */
#define ALU_PAIR(name, code_, cls_, ...)                                                           \
    OPI(name##_K, (code_) | BPF_K, FMT_ALU_K, cls_, __VA_ARGS__),                                  \
        OPI(name##_X, (code_) | BPF_X, FMT_ALU_X, cls_, __VA_ARGS__)

#define JMP_PAIR(name, code_)                                                                      \
    OPI(name##_K, (code_) | BPF_K, FMT_JCOND_K, NICSIM_CLASS_JCOND),                               \
        OPI(name##_X, (code_) | BPF_X, FMT_JCOND_X, NICSIM_CLASS_JCOND)

#define ALU    NICSIM_CLASS_ALU
#define MULDIV NICSIM_CLASS_MULDIV

/* Memory ops: class | mode | size. */
#define MEMOP(name, code_, fmt_, cls_, size_) OPI(name, code_, fmt_, cls_, .size = (size_))
#define ATOMIC_PAIR(w, dw, op_)                                                                    \
    OPI(w, BPF_STX | BPF_ATOMIC | BPF_W, FMT_ATOMIC, NICSIM_CLASS_ATOMIC, .size = 4,               \
        .imm = (op_)),                                                                             \
        OPI(dw, BPF_STX | BPF_ATOMIC | BPF_DW, FMT_ATOMIC, NICSIM_CLASS_ATOMIC, .size = 8,         \
            .imm = (op_))

const struct isa_opinfo nicsim_isa_ops[NICSIM_OP__COUNT] = {
    OPI(INVALID, 0, FMT_NONE, NICSIM_CLASS_NONE),
    /* 64-bit ALU */
    ALU_PAIR(ADD64, BPF_ALU64 | BPF_ADD, ALU),
    ALU_PAIR(SUB64, BPF_ALU64 | BPF_SUB, ALU),
    ALU_PAIR(MUL64, BPF_ALU64 | BPF_MUL, MULDIV),
    ALU_PAIR(DIV64, BPF_ALU64 | BPF_DIV, MULDIV),
    ALU_PAIR(SDIV64, BPF_ALU64 | BPF_DIV, MULDIV, .off = 1),
    ALU_PAIR(OR64, BPF_ALU64 | BPF_OR, ALU),
    ALU_PAIR(AND64, BPF_ALU64 | BPF_AND, ALU),
    ALU_PAIR(LSH64, BPF_ALU64 | BPF_LSH, ALU),
    ALU_PAIR(RSH64, BPF_ALU64 | BPF_RSH, ALU),
    OPI(NEG64, BPF_ALU64 | BPF_NEG, FMT_ALU_1, ALU),
    ALU_PAIR(MOD64, BPF_ALU64 | BPF_MOD, MULDIV),
    ALU_PAIR(SMOD64, BPF_ALU64 | BPF_MOD, MULDIV, .off = 1),
    ALU_PAIR(XOR64, BPF_ALU64 | BPF_XOR, ALU),
    ALU_PAIR(MOV64, BPF_ALU64 | BPF_MOV, ALU),
    OPI(MOVSX8_64, BPF_ALU64 | BPF_MOV | BPF_X, FMT_ALU_X, ALU, .off = 8),
    OPI(MOVSX16_64, BPF_ALU64 | BPF_MOV | BPF_X, FMT_ALU_X, ALU, .off = 16),
    OPI(MOVSX32_64, BPF_ALU64 | BPF_MOV | BPF_X, FMT_ALU_X, ALU, .off = 32),
    ALU_PAIR(ARSH64, BPF_ALU64 | BPF_ARSH, ALU),
    /* 32-bit ALU */
    ALU_PAIR(ADD32, BPF_ALU | BPF_ADD, ALU),
    ALU_PAIR(SUB32, BPF_ALU | BPF_SUB, ALU),
    ALU_PAIR(MUL32, BPF_ALU | BPF_MUL, MULDIV),
    ALU_PAIR(DIV32, BPF_ALU | BPF_DIV, MULDIV),
    ALU_PAIR(SDIV32, BPF_ALU | BPF_DIV, MULDIV, .off = 1),
    ALU_PAIR(OR32, BPF_ALU | BPF_OR, ALU),
    ALU_PAIR(AND32, BPF_ALU | BPF_AND, ALU),
    ALU_PAIR(LSH32, BPF_ALU | BPF_LSH, ALU),
    ALU_PAIR(RSH32, BPF_ALU | BPF_RSH, ALU),
    OPI(NEG32, BPF_ALU | BPF_NEG, FMT_ALU_1, ALU),
    ALU_PAIR(MOD32, BPF_ALU | BPF_MOD, MULDIV),
    ALU_PAIR(SMOD32, BPF_ALU | BPF_MOD, MULDIV, .off = 1),
    ALU_PAIR(XOR32, BPF_ALU | BPF_XOR, ALU),
    ALU_PAIR(MOV32, BPF_ALU | BPF_MOV, ALU),
    OPI(MOVSX8_32, BPF_ALU | BPF_MOV | BPF_X, FMT_ALU_X, ALU, .off = 8),
    OPI(MOVSX16_32, BPF_ALU | BPF_MOV | BPF_X, FMT_ALU_X, ALU, .off = 16),
    ALU_PAIR(ARSH32, BPF_ALU | BPF_ARSH, ALU),
    /* byte order: TO_LE shares the K bit, TO_BE the X bit; BSWAP is ALU64 | END | K */
    OPI(LE16, BPF_ALU | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 16),
    OPI(LE32, BPF_ALU | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 32),
    OPI(LE64, BPF_ALU | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 64),
    OPI(BE16, BPF_ALU | BPF_END | BPF_X, FMT_ALU_1, ALU, .imm = 16),
    OPI(BE32, BPF_ALU | BPF_END | BPF_X, FMT_ALU_1, ALU, .imm = 32),
    OPI(BE64, BPF_ALU | BPF_END | BPF_X, FMT_ALU_1, ALU, .imm = 64),
    OPI(BSWAP16, BPF_ALU64 | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 16),
    OPI(BSWAP32, BPF_ALU64 | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 32),
    OPI(BSWAP64, BPF_ALU64 | BPF_END | BPF_K, FMT_ALU_1, ALU, .imm = 64),
    /* 64-bit compare-and-jump */
    JMP_PAIR(JEQ, BPF_JMP | BPF_JEQ),
    JMP_PAIR(JGT, BPF_JMP | BPF_JGT),
    JMP_PAIR(JGE, BPF_JMP | BPF_JGE),
    JMP_PAIR(JSET, BPF_JMP | BPF_JSET),
    JMP_PAIR(JNE, BPF_JMP | BPF_JNE),
    JMP_PAIR(JSGT, BPF_JMP | BPF_JSGT),
    JMP_PAIR(JSGE, BPF_JMP | BPF_JSGE),
    JMP_PAIR(JLT, BPF_JMP | BPF_JLT),
    JMP_PAIR(JLE, BPF_JMP | BPF_JLE),
    JMP_PAIR(JSLT, BPF_JMP | BPF_JSLT),
    JMP_PAIR(JSLE, BPF_JMP | BPF_JSLE),
    /* 32-bit compare-and-jump */
    JMP_PAIR(JEQ32, BPF_JMP32 | BPF_JEQ),
    JMP_PAIR(JGT32, BPF_JMP32 | BPF_JGT),
    JMP_PAIR(JGE32, BPF_JMP32 | BPF_JGE),
    JMP_PAIR(JSET32, BPF_JMP32 | BPF_JSET),
    JMP_PAIR(JNE32, BPF_JMP32 | BPF_JNE),
    JMP_PAIR(JSGT32, BPF_JMP32 | BPF_JSGT),
    JMP_PAIR(JSGE32, BPF_JMP32 | BPF_JSGE),
    JMP_PAIR(JLT32, BPF_JMP32 | BPF_JLT),
    JMP_PAIR(JLE32, BPF_JMP32 | BPF_JLE),
    JMP_PAIR(JSLT32, BPF_JMP32 | BPF_JSLT),
    JMP_PAIR(JSLE32, BPF_JMP32 | BPF_JSLE),
    /* control transfer */
    OPI(JA, BPF_JMP | BPF_JA, FMT_JA, NICSIM_CLASS_JA),
    OPI(JA32, BPF_JMP32 | BPF_JA, FMT_JA32, NICSIM_CLASS_JA),
    OPI(CALL_HELPER, BPF_JMP | BPF_CALL | BPF_K, FMT_CALL_IMM, NICSIM_CLASS_CALL),
    OPI(CALL_LOCAL, BPF_JMP | BPF_CALL | BPF_K, FMT_CALL_LOCAL, NICSIM_CLASS_CALL_LOCAL,
        .src = BPF_PSEUDO_CALL),
    OPI(CALL_KFUNC, BPF_JMP | BPF_CALL | BPF_K, FMT_CALL_IMM, NICSIM_CLASS_CALL,
        .src = BPF_PSEUDO_KFUNC_CALL),
    OPI(CALLX, BPF_JMP | BPF_CALL | BPF_X, FMT_CALLX, NICSIM_CLASS_CALL),
    OPI(EXIT, BPF_JMP | BPF_EXIT, FMT_EXIT, NICSIM_CLASS_EXIT),
    /* loads and stores */
    OPI(LDDW, BPF_LD | BPF_IMM | BPF_DW, FMT_LDDW, NICSIM_CLASS_LDDW),
    OPI(LDDW_HI, 0, FMT_LDDW_HI, NICSIM_CLASS_LDDW),
    MEMOP(LDABS_B, BPF_LD | BPF_ABS | BPF_B, FMT_LDABS, NICSIM_CLASS_LEGACY, 1),
    MEMOP(LDABS_H, BPF_LD | BPF_ABS | BPF_H, FMT_LDABS, NICSIM_CLASS_LEGACY, 2),
    MEMOP(LDABS_W, BPF_LD | BPF_ABS | BPF_W, FMT_LDABS, NICSIM_CLASS_LEGACY, 4),
    MEMOP(LDIND_B, BPF_LD | BPF_IND | BPF_B, FMT_LDIND, NICSIM_CLASS_LEGACY, 1),
    MEMOP(LDIND_H, BPF_LD | BPF_IND | BPF_H, FMT_LDIND, NICSIM_CLASS_LEGACY, 2),
    MEMOP(LDIND_W, BPF_LD | BPF_IND | BPF_W, FMT_LDIND, NICSIM_CLASS_LEGACY, 4),
    MEMOP(LDXB, BPF_LDX | BPF_MEM | BPF_B, FMT_LDX, NICSIM_CLASS_LOAD, 1),
    MEMOP(LDXH, BPF_LDX | BPF_MEM | BPF_H, FMT_LDX, NICSIM_CLASS_LOAD, 2),
    MEMOP(LDXW, BPF_LDX | BPF_MEM | BPF_W, FMT_LDX, NICSIM_CLASS_LOAD, 4),
    MEMOP(LDXDW, BPF_LDX | BPF_MEM | BPF_DW, FMT_LDX, NICSIM_CLASS_LOAD, 8),
    MEMOP(LDXSB, BPF_LDX | BPF_MEMSX | BPF_B, FMT_LDX, NICSIM_CLASS_LOAD, 1),
    MEMOP(LDXSH, BPF_LDX | BPF_MEMSX | BPF_H, FMT_LDX, NICSIM_CLASS_LOAD, 2),
    MEMOP(LDXSW, BPF_LDX | BPF_MEMSX | BPF_W, FMT_LDX, NICSIM_CLASS_LOAD, 4),
    MEMOP(STB, BPF_ST | BPF_MEM | BPF_B, FMT_ST, NICSIM_CLASS_STORE, 1),
    MEMOP(STH, BPF_ST | BPF_MEM | BPF_H, FMT_ST, NICSIM_CLASS_STORE, 2),
    MEMOP(STW, BPF_ST | BPF_MEM | BPF_W, FMT_ST, NICSIM_CLASS_STORE, 4),
    MEMOP(STDW, BPF_ST | BPF_MEM | BPF_DW, FMT_ST, NICSIM_CLASS_STORE, 8),
    MEMOP(STXB, BPF_STX | BPF_MEM | BPF_B, FMT_STX, NICSIM_CLASS_STORE, 1),
    MEMOP(STXH, BPF_STX | BPF_MEM | BPF_H, FMT_STX, NICSIM_CLASS_STORE, 2),
    MEMOP(STXW, BPF_STX | BPF_MEM | BPF_W, FMT_STX, NICSIM_CLASS_STORE, 4),
    MEMOP(STXDW, BPF_STX | BPF_MEM | BPF_DW, FMT_STX, NICSIM_CLASS_STORE, 8),
    /* atomics */
    ATOMIC_PAIR(AADD_W, AADD_DW, BPF_ADD),
    ATOMIC_PAIR(AOR_W, AOR_DW, BPF_OR),
    ATOMIC_PAIR(AAND_W, AAND_DW, BPF_AND),
    ATOMIC_PAIR(AXOR_W, AXOR_DW, BPF_XOR),
    ATOMIC_PAIR(AFADD_W, AFADD_DW, BPF_ADD | BPF_FETCH),
    ATOMIC_PAIR(AFOR_W, AFOR_DW, BPF_OR | BPF_FETCH),
    ATOMIC_PAIR(AFAND_W, AFAND_DW, BPF_AND | BPF_FETCH),
    ATOMIC_PAIR(AFXOR_W, AFXOR_DW, BPF_XOR | BPF_FETCH),
    ATOMIC_PAIR(AXCHG_W, AXCHG_DW, BPF_XCHG),
    ATOMIC_PAIR(ACMPXCHG_W, ACMPXCHG_DW, BPF_CMPXCHG),
    OPI(MAY_GOTO, BPF_JMP | BPF_JCOND | BPF_K, FMT_JA, NICSIM_CLASS_JCOND),
};

static const char *const op_mnemonics[NICSIM_OP__COUNT] = {
#define NICSIM_ISA_MNEM_(name, mnem) [NICSIM_OP_##name] = mnem,
    NICSIM_ISA_OPS(NICSIM_ISA_MNEM_)
#undef NICSIM_ISA_MNEM_
};

int nicsim_isa_fail(struct nicsim_msg *err, long index, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nicsim_msg_vset(err, index, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *nicsim_isa_lddw_kind_name(unsigned src)
{
    static const char *const names[] = {
        [NICSIM_LDDW_MAP_FD] = "map_fd",   [NICSIM_LDDW_MAP_VALUE] = "map_value",
        [NICSIM_LDDW_BTF_ID] = "btf_id",   [NICSIM_LDDW_FUNC] = "func",
        [NICSIM_LDDW_MAP_IDX] = "map_idx", [NICSIM_LDDW_MAP_IDX_VALUE] = "map_idx_value",
    };
    return src < sizeof(names) / sizeof(names[0]) ? names[src] : NULL;
}

/* ---- op properties ---------------------------------------------------------------------- */

const char *nicsim_isa_op_name(enum nicsim_op op)
{
    return (unsigned)op < NICSIM_OP__COUNT ? op_mnemonics[op] : op_mnemonics[NICSIM_OP_INVALID];
}

enum nicsim_op_class nicsim_isa_op_class(enum nicsim_op op)
{
    return (enum nicsim_op_class)isa_info(op)->cls;
}

#define REG(n)   ((uint16_t)(1u << ((n)&15)))
#define R1_TO_R5 ((uint16_t)0x003e)
#define R0_TO_R5 ((uint16_t)0x003f)

static int is_mov(unsigned op)
{
    return op == NICSIM_OP_MOV64_K || op == NICSIM_OP_MOV64_X || op == NICSIM_OP_MOV32_K ||
           op == NICSIM_OP_MOV32_X || op == NICSIM_OP_MOVSX8_64 || op == NICSIM_OP_MOVSX16_64 ||
           op == NICSIM_OP_MOVSX32_64 || op == NICSIM_OP_MOVSX8_32 || op == NICSIM_OP_MOVSX16_32;
}

uint16_t nicsim_isa_regs_read(const struct nicsim_isa_insn *insn)
{
    if (!insn)
        return 0;
    const struct isa_opinfo *info = isa_info(insn->op);
    switch (info->fmt) {
    case FMT_ALU_K:
        return is_mov(insn->op) ? 0 : REG(insn->dst);
    case FMT_ALU_X:
        return (uint16_t)(REG(insn->src) | (is_mov(insn->op) ? 0 : REG(insn->dst)));
    case FMT_ALU_1:
    case FMT_JCOND_K:
    case FMT_ST:
        return REG(insn->dst);
    case FMT_JCOND_X:
    case FMT_STX:
        return (uint16_t)(REG(insn->dst) | REG(insn->src));
    case FMT_ATOMIC: {
        uint16_t r = (uint16_t)(REG(insn->dst) | REG(insn->src));
        if (info->imm == BPF_CMPXCHG)
            r |= REG(0);
        return r;
    }
    case FMT_CALL_IMM:
    case FMT_CALL_LOCAL:
        return R1_TO_R5;
    case FMT_CALLX:
        return (uint16_t)(R1_TO_R5 | REG(insn->dst));
    case FMT_EXIT:
        return REG(0);
    case FMT_LDABS: /* implicit context pointer in r6 */
        return REG(6);
    case FMT_LDIND:
        return (uint16_t)(REG(6) | REG(insn->src));
    case FMT_LDX:
        return REG(insn->src);
    default: /* JA, JA32, LDDW, LDDW_HI, INVALID */
        return 0;
    }
}

uint16_t nicsim_isa_regs_written(const struct nicsim_isa_insn *insn)
{
    if (!insn)
        return 0;
    const struct isa_opinfo *info = isa_info(insn->op);
    switch (info->fmt) {
    case FMT_ALU_K:
    case FMT_ALU_X:
    case FMT_ALU_1:
    case FMT_LDDW:
    case FMT_LDX:
        return REG(insn->dst);
    case FMT_CALL_IMM:
    case FMT_CALL_LOCAL:
    case FMT_CALLX:
    /* Legacy packet loads write r0 and, as in the kernel, leave r1-r5 clobbered. */
    case FMT_LDABS:
    case FMT_LDIND:
        return R0_TO_R5;
    case FMT_ATOMIC:
        if (info->imm == BPF_CMPXCHG)
            return REG(0);
        return (info->imm & BPF_FETCH) ? REG(insn->src) : 0;
    default: /* jumps, EXIT, stores, LDDW_HI, INVALID */
        return 0;
    }
}

long nicsim_isa_branch_target(const struct nicsim_isa_insn *insn, long pc)
{
    if (!insn)
        return -1;
    switch (isa_info(insn->op)->fmt) {
    case FMT_JCOND_K:
    case FMT_JCOND_X:
    case FMT_JA:
        return pc + 1 + insn->off;
    case FMT_JA32:
    case FMT_CALL_LOCAL:
        return pc + 1 + (long)insn->imm;
    default:
        return -1;
    }
}

/* ---- decode ----------------------------------------------------------------------------- */

/* ALU op per (class, source, code >> 4); INVALID where the opcode does not exist. NEG, END and
 * the signed variants (off = 1) and MOVSX are resolved by the decoder. */
static const uint16_t alu_ops[2][2][16] = {
    [0][0] = {NICSIM_OP_ADD32_K, NICSIM_OP_SUB32_K, NICSIM_OP_MUL32_K, NICSIM_OP_DIV32_K,
              NICSIM_OP_OR32_K, NICSIM_OP_AND32_K, NICSIM_OP_LSH32_K, NICSIM_OP_RSH32_K,
              NICSIM_OP_NEG32, NICSIM_OP_MOD32_K, NICSIM_OP_XOR32_K, NICSIM_OP_MOV32_K,
              NICSIM_OP_ARSH32_K},
    [0][1] = {NICSIM_OP_ADD32_X, NICSIM_OP_SUB32_X, NICSIM_OP_MUL32_X, NICSIM_OP_DIV32_X,
              NICSIM_OP_OR32_X, NICSIM_OP_AND32_X, NICSIM_OP_LSH32_X, NICSIM_OP_RSH32_X,
              NICSIM_OP_INVALID, NICSIM_OP_MOD32_X, NICSIM_OP_XOR32_X, NICSIM_OP_MOV32_X,
              NICSIM_OP_ARSH32_X},
    [1][0] = {NICSIM_OP_ADD64_K, NICSIM_OP_SUB64_K, NICSIM_OP_MUL64_K, NICSIM_OP_DIV64_K,
              NICSIM_OP_OR64_K, NICSIM_OP_AND64_K, NICSIM_OP_LSH64_K, NICSIM_OP_RSH64_K,
              NICSIM_OP_NEG64, NICSIM_OP_MOD64_K, NICSIM_OP_XOR64_K, NICSIM_OP_MOV64_K,
              NICSIM_OP_ARSH64_K},
    [1][1] = {NICSIM_OP_ADD64_X, NICSIM_OP_SUB64_X, NICSIM_OP_MUL64_X, NICSIM_OP_DIV64_X,
              NICSIM_OP_OR64_X, NICSIM_OP_AND64_X, NICSIM_OP_LSH64_X, NICSIM_OP_RSH64_X,
              NICSIM_OP_INVALID, NICSIM_OP_MOD64_X, NICSIM_OP_XOR64_X, NICSIM_OP_MOV64_X,
              NICSIM_OP_ARSH64_X},
};

/* Conditional jumps per (class JMP/JMP32, source, code >> 4). */
static const uint16_t jmp_ops[2][2][16] = {
    [0][0] = {[1] = NICSIM_OP_JEQ_K,
              NICSIM_OP_JGT_K,
              NICSIM_OP_JGE_K,
              NICSIM_OP_JSET_K,
              NICSIM_OP_JNE_K,
              NICSIM_OP_JSGT_K,
              NICSIM_OP_JSGE_K,
              [0xa] = NICSIM_OP_JLT_K,
              NICSIM_OP_JLE_K,
              NICSIM_OP_JSLT_K,
              NICSIM_OP_JSLE_K},
    [0][1] = {[1] = NICSIM_OP_JEQ_X,
              NICSIM_OP_JGT_X,
              NICSIM_OP_JGE_X,
              NICSIM_OP_JSET_X,
              NICSIM_OP_JNE_X,
              NICSIM_OP_JSGT_X,
              NICSIM_OP_JSGE_X,
              [0xa] = NICSIM_OP_JLT_X,
              NICSIM_OP_JLE_X,
              NICSIM_OP_JSLT_X,
              NICSIM_OP_JSLE_X},
    [1][0] = {[1] = NICSIM_OP_JEQ32_K,
              NICSIM_OP_JGT32_K,
              NICSIM_OP_JGE32_K,
              NICSIM_OP_JSET32_K,
              NICSIM_OP_JNE32_K,
              NICSIM_OP_JSGT32_K,
              NICSIM_OP_JSGE32_K,
              [0xa] = NICSIM_OP_JLT32_K,
              NICSIM_OP_JLE32_K,
              NICSIM_OP_JSLT32_K,
              NICSIM_OP_JSLE32_K},
    [1][1] = {[1] = NICSIM_OP_JEQ32_X,
              NICSIM_OP_JGT32_X,
              NICSIM_OP_JGE32_X,
              NICSIM_OP_JSET32_X,
              NICSIM_OP_JNE32_X,
              NICSIM_OP_JSGT32_X,
              NICSIM_OP_JSGE32_X,
              [0xa] = NICSIM_OP_JLT32_X,
              NICSIM_OP_JLE32_X,
              NICSIM_OP_JSLT32_X,
              NICSIM_OP_JSLE32_X},
};

/* Loads and stores per size (code & 0x18) >> 3: W, H, B, DW. */
static const uint16_t ldx_ops[4] = {NICSIM_OP_LDXW, NICSIM_OP_LDXH, NICSIM_OP_LDXB,
                                    NICSIM_OP_LDXDW};
static const uint16_t ldxs_ops[4] = {NICSIM_OP_LDXSW, NICSIM_OP_LDXSH, NICSIM_OP_LDXSB,
                                     NICSIM_OP_INVALID};
static const uint16_t st_ops[4] = {NICSIM_OP_STW, NICSIM_OP_STH, NICSIM_OP_STB, NICSIM_OP_STDW};
static const uint16_t stx_ops[4] = {NICSIM_OP_STXW, NICSIM_OP_STXH, NICSIM_OP_STXB,
                                    NICSIM_OP_STXDW};
static const uint16_t ldabs_ops[4] = {NICSIM_OP_LDABS_W, NICSIM_OP_LDABS_H, NICSIM_OP_LDABS_B,
                                      NICSIM_OP_INVALID};
static const uint16_t ldind_ops[4] = {NICSIM_OP_LDIND_W, NICSIM_OP_LDIND_H, NICSIM_OP_LDIND_B,
                                      NICSIM_OP_INVALID};

static unsigned atomic_op(int32_t imm, int dw)
{
    static const struct {
        int32_t imm;
        uint16_t w, dw;
    } map[] = {
        {BPF_ADD, NICSIM_OP_AADD_W, NICSIM_OP_AADD_DW},
        {BPF_OR, NICSIM_OP_AOR_W, NICSIM_OP_AOR_DW},
        {BPF_AND, NICSIM_OP_AAND_W, NICSIM_OP_AAND_DW},
        {BPF_XOR, NICSIM_OP_AXOR_W, NICSIM_OP_AXOR_DW},
        {BPF_ADD | BPF_FETCH, NICSIM_OP_AFADD_W, NICSIM_OP_AFADD_DW},
        {BPF_OR | BPF_FETCH, NICSIM_OP_AFOR_W, NICSIM_OP_AFOR_DW},
        {BPF_AND | BPF_FETCH, NICSIM_OP_AFAND_W, NICSIM_OP_AFAND_DW},
        {BPF_XOR | BPF_FETCH, NICSIM_OP_AFXOR_W, NICSIM_OP_AFXOR_DW},
        {BPF_XCHG, NICSIM_OP_AXCHG_W, NICSIM_OP_AXCHG_DW},
        {BPF_CMPXCHG, NICSIM_OP_ACMPXCHG_W, NICSIM_OP_ACMPXCHG_DW},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].imm == imm)
            return dw ? map[i].dw : map[i].w;
    return NICSIM_OP_INVALID;
}

static int unknown(const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    return nicsim_isa_fail(err, -1, "unknown opcode 0x%02x", raw->code);
}

/* Field checks: each returns 0 or fails naming the op and the offending value. */
static int zero_src(unsigned op, const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    return raw->src ? nicsim_isa_fail(err, -1, "%s requires src == 0 (got %u)", isa_info(op)->id,
                                      (unsigned)raw->src)
                    : 0;
}

static int zero_dst(unsigned op, const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    return raw->dst ? nicsim_isa_fail(err, -1, "%s requires dst == 0 (got %u)", isa_info(op)->id,
                                      (unsigned)raw->dst)
                    : 0;
}

static int zero_off(unsigned op, const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    return raw->off ? nicsim_isa_fail(err, -1, "%s requires off == 0 (got %d)", isa_info(op)->id,
                                      raw->off)
                    : 0;
}

static int zero_imm(unsigned op, const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    return raw->imm ? nicsim_isa_fail(err, -1, "%s requires imm == 0 (got %d)", isa_info(op)->id,
                                      raw->imm)
                    : 0;
}

/* Returns the op, or a negative errno. */
static int decode_alu(const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    int is64 = (raw->code & 0x07) == BPF_ALU64;
    int x = (raw->code & BPF_X) != 0;
    unsigned opc = raw->code & 0xf0;
    unsigned op;
    int rc;

    if (opc == BPF_END) {
        if (is64 && x)
            return unknown(raw, err);
        unsigned base = is64 ? NICSIM_OP_BSWAP16 : x ? NICSIM_OP_BE16 : NICSIM_OP_LE16;
        if (raw->imm != 16 && raw->imm != 32 && raw->imm != 64)
            return nicsim_isa_fail(err, -1, "%s requires imm == 16, 32 or 64 (got %d)",
                                   is64 ? "BSWAP"
                                   : x  ? "BE"
                                        : "LE",
                                   raw->imm);
        op = base + (raw->imm == 16 ? 0 : raw->imm == 32 ? 1 : 2);
        if ((rc = zero_src(op, raw, err)) || (rc = zero_off(op, raw, err)))
            return rc;
        return (int)op;
    }
    op = alu_ops[is64][x][opc >> 4];
    if (op == NICSIM_OP_INVALID)
        return unknown(raw, err);
    if (opc == BPF_NEG) {
        if ((rc = zero_src(op, raw, err)) || (rc = zero_off(op, raw, err)) ||
            (rc = zero_imm(op, raw, err)))
            return rc;
        return (int)op;
    }
    if (opc == BPF_MOV && x && raw->off != 0) {
        if (raw->off == 8)
            op = is64 ? NICSIM_OP_MOVSX8_64 : NICSIM_OP_MOVSX8_32;
        else if (raw->off == 16)
            op = is64 ? NICSIM_OP_MOVSX16_64 : NICSIM_OP_MOVSX16_32;
        else if (raw->off == 32 && is64)
            op = NICSIM_OP_MOVSX32_64;
        else
            return nicsim_isa_fail(err, -1, "%s requires off == 0, 8, 16%s (got %d)",
                                   isa_info(op)->id, is64 ? " or 32" : "", raw->off);
    } else if ((opc == BPF_DIV || opc == BPF_MOD) && raw->off != 0) {
        unsigned sop = op;
        if (opc == BPF_DIV)
            sop = is64 ? (x ? NICSIM_OP_SDIV64_X : NICSIM_OP_SDIV64_K)
                       : (x ? NICSIM_OP_SDIV32_X : NICSIM_OP_SDIV32_K);
        else
            sop = is64 ? (x ? NICSIM_OP_SMOD64_X : NICSIM_OP_SMOD64_K)
                       : (x ? NICSIM_OP_SMOD32_X : NICSIM_OP_SMOD32_K);
        if (raw->off != 1)
            return nicsim_isa_fail(err, -1, "%s requires off == 0 (or 1 for %s) (got %d)",
                                   isa_info(op)->id, isa_info(sop)->id, raw->off);
        op = sop;
    } else if ((rc = zero_off(op, raw, err))) {
        return rc;
    }
    rc = x ? zero_imm(op, raw, err) : zero_src(op, raw, err);
    return rc ? rc : (int)op;
}

static int decode_jmp(const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    int is32 = (raw->code & 0x07) == BPF_JMP32;
    int x = (raw->code & BPF_X) != 0;
    unsigned opc = raw->code & 0xf0;
    unsigned op;
    int rc;

    switch (opc) {
    case BPF_JA:
        if (x)
            return unknown(raw, err);
        op = is32 ? NICSIM_OP_JA32 : NICSIM_OP_JA;
        if ((rc = zero_dst(op, raw, err)) || (rc = zero_src(op, raw, err)) ||
            (rc = is32 ? zero_off(op, raw, err) : zero_imm(op, raw, err)))
            return rc;
        return (int)op;
    case BPF_CALL:
        if (is32)
            return unknown(raw, err);
        if (x) {
            op = NICSIM_OP_CALLX;
            if ((rc = zero_src(op, raw, err)) || (rc = zero_off(op, raw, err)) ||
                (rc = zero_imm(op, raw, err)))
                return rc;
            return (int)op;
        }
        if (raw->src == 0)
            op = NICSIM_OP_CALL_HELPER;
        else if (raw->src == BPF_PSEUDO_CALL)
            op = NICSIM_OP_CALL_LOCAL;
        else if (raw->src == BPF_PSEUDO_KFUNC_CALL)
            op = NICSIM_OP_CALL_KFUNC;
        else
            return nicsim_isa_fail(err, -1,
                                   "CALL has unknown source subtype src == %u (0 helper, 1 local, "
                                   "2 kfunc)",
                                   (unsigned)raw->src);
        if ((rc = zero_dst(op, raw, err)) || (rc = zero_off(op, raw, err)))
            return rc;
        return (int)op;
    case BPF_JCOND: /* may_goto: src BPF_MAY_GOTO (0) is the only kind */
        if (is32 || x)
            return unknown(raw, err);
        op = NICSIM_OP_MAY_GOTO;
        if (raw->src != 0)
            return nicsim_isa_fail(err, -1,
                                   "may_goto (opcode 0x%02x) has unknown source subtype src == %u",
                                   raw->code, (unsigned)raw->src);
        if ((rc = zero_dst(op, raw, err)) || (rc = zero_imm(op, raw, err)))
            return rc;
        return (int)op;
    case BPF_EXIT:
        if (is32 || x)
            return unknown(raw, err);
        op = NICSIM_OP_EXIT;
        if ((rc = zero_dst(op, raw, err)) || (rc = zero_src(op, raw, err)) ||
            (rc = zero_off(op, raw, err)) || (rc = zero_imm(op, raw, err)))
            return rc;
        return (int)op;
    default:
        op = jmp_ops[is32][x][opc >> 4];
        if (op == NICSIM_OP_INVALID)
            return unknown(raw, err);
        rc = x ? zero_imm(op, raw, err) : zero_src(op, raw, err);
        return rc ? rc : (int)op;
    }
}

static int decode_lddw(const struct nicsim_insn *raw, size_t avail, struct nicsim_isa_insn *out,
                       struct nicsim_msg *err)
{
    unsigned op = NICSIM_OP_LDDW;
    int rc;
    if ((rc = zero_off(op, raw, err)))
        return rc;
    if (raw->src > NICSIM_LDDW_MAP_IDX_VALUE)
        return nicsim_isa_fail(err, -1, "LDDW has unknown source subtype src == %u (0..6)",
                               (unsigned)raw->src);
    if (avail < 2)
        return nicsim_isa_fail(err, -1, "LDDW is truncated: its second slot is missing");
    const struct nicsim_insn *hi = raw + 1;
    if (hi->code || hi->dst || hi->src || hi->off)
        return nicsim_isa_fail(
            err, -1,
            "LDDW second slot requires code, dst, src and off == 0 (got code 0x%02x "
            "dst %u src %u off %d)",
            hi->code, (unsigned)hi->dst, (unsigned)hi->src, hi->off);
    if ((raw->src == NICSIM_LDDW_MAP_FD || raw->src == NICSIM_LDDW_MAP_IDX) && hi->imm)
        return nicsim_isa_fail(err, -1, "LDDW %s requires imm == 0 in the second slot (got %d)",
                               nicsim_isa_lddw_kind_name(raw->src), hi->imm);
    out->imm64 = (uint64_t)(uint32_t)raw->imm | (uint64_t)(uint32_t)hi->imm << 32;
    return (int)op;
}

static int decode_ld(const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    unsigned mode = raw->code & 0xe0, sz = (raw->code & 0x18) >> 3;
    unsigned op = mode == BPF_ABS ? ldabs_ops[sz] : mode == BPF_IND ? ldind_ops[sz] : 0;
    int rc;
    if (op == NICSIM_OP_INVALID)
        return unknown(raw, err);
    if ((rc = zero_dst(op, raw, err)) || (rc = zero_off(op, raw, err)) ||
        (mode == BPF_ABS && (rc = zero_src(op, raw, err))))
        return rc;
    return (int)op;
}

static int decode_mem(const struct nicsim_insn *raw, struct nicsim_msg *err)
{
    unsigned cls = raw->code & 0x07, mode = raw->code & 0xe0, sz = (raw->code & 0x18) >> 3;
    unsigned op = NICSIM_OP_INVALID;
    int rc;

    if (cls == BPF_LDX)
        op = mode == BPF_MEM ? ldx_ops[sz] : mode == BPF_MEMSX ? ldxs_ops[sz] : 0;
    else if (cls == BPF_ST)
        op = mode == BPF_MEM ? st_ops[sz] : 0;
    else if (mode == BPF_MEM)
        op = stx_ops[sz];
    else if (mode == BPF_ATOMIC && (raw->code & 0x18) == BPF_W)
        op = atomic_op(raw->imm, 0);
    else if (mode == BPF_ATOMIC && (raw->code & 0x18) == BPF_DW)
        op = atomic_op(raw->imm, 1);
    else
        return unknown(raw, err);

    if (op == NICSIM_OP_INVALID && mode == BPF_ATOMIC)
        return nicsim_isa_fail(err, -1, "atomic (opcode 0x%02x) has unknown operation imm == 0x%x",
                               raw->code, (unsigned)raw->imm);
    if (op == NICSIM_OP_INVALID)
        return unknown(raw, err);
    if (cls == BPF_ST)
        rc = zero_src(op, raw, err);
    else if (mode == BPF_ATOMIC)
        rc = 0;
    else
        rc = zero_imm(op, raw, err);
    return rc ? rc : (int)op;
}

static int dst_is_reg(unsigned fmt)
{
    switch (fmt) {
    case FMT_ALU_K:
    case FMT_ALU_X:
    case FMT_ALU_1:
    case FMT_JCOND_K:
    case FMT_JCOND_X:
    case FMT_CALLX:
    case FMT_LDDW:
    case FMT_LDX:
    case FMT_ST:
    case FMT_STX:
    case FMT_ATOMIC:
        return 1;
    default:
        return 0;
    }
}

static int src_is_reg(unsigned fmt)
{
    return fmt == FMT_ALU_X || fmt == FMT_JCOND_X || fmt == FMT_LDIND || fmt == FMT_LDX ||
           fmt == FMT_STX || fmt == FMT_ATOMIC;
}

int nicsim_isa_decode_one(const struct nicsim_insn *raw, size_t avail, struct nicsim_isa_insn *out,
                          struct nicsim_msg *err)
{
    if (err)
        err->index = -1;
    if (!raw || !out || avail == 0)
        return nicsim_isa_fail(err, -1, "no instruction to decode");

    memset(out, 0, sizeof(*out));
    out->dst = raw->dst;
    out->src = raw->src;
    out->off = raw->off;
    out->imm = raw->imm;
    out->imm64 = (uint64_t)(int64_t)raw->imm;

    int op;
    switch (raw->code & 0x07) {
    case BPF_ALU:
    case BPF_ALU64:
        op = decode_alu(raw, err);
        break;
    case BPF_JMP:
    case BPF_JMP32:
        op = decode_jmp(raw, err);
        break;
    case BPF_LD:
        if (raw->code == (BPF_LD | BPF_IMM | BPF_DW))
            op = decode_lddw(raw, avail, out, err);
        else
            op = decode_ld(raw, err);
        break;
    default:
        op = decode_mem(raw, err);
        break;
    }
    if (op < 0)
        return op;

    const struct isa_opinfo *info = isa_info((unsigned)op);
    if (dst_is_reg(info->fmt) && raw->dst > ISA_MAX_REG)
        return nicsim_isa_fail(err, -1, "%s uses dst register r%u, which does not exist (r0..r10)",
                               info->id, (unsigned)raw->dst);
    if (src_is_reg(info->fmt) && raw->src > ISA_MAX_REG)
        return nicsim_isa_fail(err, -1, "%s uses src register r%u, which does not exist (r0..r10)",
                               info->id, (unsigned)raw->src);
    out->op = (uint16_t)op;
    out->size = info->size;
    return info->fmt == FMT_LDDW ? 2 : 1;
}

/* Re-prefix a decode_one message with the instruction index. */
static int fail_at(struct nicsim_msg *err, long index, int rc)
{
    if (err) {
        char msg[sizeof(err->msg)];
        memcpy(msg, err->msg, sizeof(msg));
        msg[sizeof(msg) - 1] = 0;
        nicsim_isa_fail(err, index, "insn %ld: %s", index, msg);
    }
    return rc;
}

int nicsim_isa_decode(const struct nicsim_insn *raw, size_t n, struct nicsim_isa_insn *out,
                      struct nicsim_msg *err)
{
    if (err) {
        err->index = -1;
        err->msg[0] = 0;
    }
    if (n == 0)
        return nicsim_isa_fail(err, -1, "empty program");
    if (!raw || !out)
        return nicsim_isa_fail(err, -1, "no program to decode");
    if (n > NICSIM_ISA_MAX_INSNS)
        return nicsim_isa_fail(err, -1, "program has %zu slots, more than the limit of %u", n,
                               NICSIM_ISA_MAX_INSNS);

    for (size_t i = 0; i < n;) {
        int rc = nicsim_isa_decode_one(&raw[i], n - i, &out[i], err);
        if (rc < 0)
            return fail_at(err, (long)i, rc);
        if (rc == 2) {
            struct nicsim_isa_insn *hi = &out[i + 1];
            memset(hi, 0, sizeof(*hi));
            hi->op = NICSIM_OP_LDDW_HI;
            hi->imm = raw[i + 1].imm;
            hi->imm64 = (uint64_t)(int64_t)hi->imm;
        }
        i += (size_t)rc;
    }

    for (size_t i = 0; i < n; i++) {
        long t = nicsim_isa_branch_target(&out[i], (long)i);
        enum nicsim_op_class cls = nicsim_isa_op_class(out[i].op);
        if (cls != NICSIM_CLASS_JCOND && cls != NICSIM_CLASS_JA && cls != NICSIM_CLASS_CALL_LOCAL)
            continue;
        if (t < 0 || (size_t)t >= n)
            return nicsim_isa_fail(err, (long)i,
                                   "insn %zu: %s target %ld is outside the program (0..%zu)", i,
                                   nicsim_isa_op_name(out[i].op), t, n - 1);
        if (out[t].op == NICSIM_OP_LDDW_HI)
            return nicsim_isa_fail(
                err, (long)i, "insn %zu: %s target %ld is the second slot of the LDDW at insn %ld",
                i, nicsim_isa_op_name(out[i].op), t, t - 1);
    }

    unsigned last = out[n - 1].op;
    if (last != NICSIM_OP_EXIT && last != NICSIM_OP_JA && last != NICSIM_OP_JA32) {
        long at = last == NICSIM_OP_LDDW_HI ? (long)n - 2 : (long)n - 1;
        return nicsim_isa_fail(
            err, at,
            "insn %ld: program must end with EXIT or an unconditional jump (last "
            "instruction is %s)",
            at, isa_info(out[at].op)->id);
    }
    return 0;
}

/* ---- encode ----------------------------------------------------------------------------- */

static int encode_reg(struct nicsim_msg *err, size_t i, const char *what, unsigned op, unsigned v)
{
    if (v > 15)
        return nicsim_isa_fail(err, (long)i, "insn %zu: %s %s %u does not fit the 4-bit field", i,
                               isa_info(op)->id, what, v);
    return 0;
}

int nicsim_isa_encode(const struct nicsim_isa_insn *in, size_t n, struct nicsim_insn *out,
                      struct nicsim_msg *err)
{
    if (err) {
        err->index = -1;
        err->msg[0] = 0;
    }
    if ((!in || !out) && n)
        return nicsim_isa_fail(err, -1, "no program to encode");

    for (size_t i = 0; i < n; i++) {
        const struct nicsim_isa_insn *d = &in[i];
        if (d->op == NICSIM_OP_INVALID || d->op >= NICSIM_OP__COUNT)
            return nicsim_isa_fail(err, (long)i, "insn %zu: invalid op %u", i, (unsigned)d->op);
        const struct isa_opinfo *info = isa_info(d->op);
        if (info->fmt == FMT_LDDW_HI) {
            if (i == 0 || in[i - 1].op != NICSIM_OP_LDDW)
                return nicsim_isa_fail(err, (long)i, "insn %zu: LDDW_HI does not follow an LDDW",
                                       i);
            continue; /* written with its LDDW */
        }
        int rc;
        if ((rc = encode_reg(err, i, "dst", d->op, d->dst)) ||
            (rc = encode_reg(err, i, "src", d->op, d->src)))
            return rc;

        struct nicsim_insn r = {.code = info->code};
        switch (info->fmt) {
        case FMT_ALU_K:
            r.dst = d->dst & 15;
            r.off = info->off;
            r.imm = d->imm;
            break;
        case FMT_ALU_X:
            r.dst = d->dst & 15;
            r.src = d->src & 15;
            r.off = info->off;
            break;
        case FMT_ALU_1:
            r.dst = d->dst & 15;
            r.imm = info->imm;
            break;
        case FMT_JCOND_K:
            r.dst = d->dst & 15;
            r.off = d->off;
            r.imm = d->imm;
            break;
        case FMT_JCOND_X:
            r.dst = d->dst & 15;
            r.src = d->src & 15;
            r.off = d->off;
            break;
        case FMT_JA:
            r.off = d->off;
            break;
        case FMT_JA32:
        case FMT_CALL_IMM:
        case FMT_CALL_LOCAL:
            r.src = info->src;
            r.imm = d->imm;
            break;
        case FMT_CALLX:
            r.dst = d->dst & 15;
            break;
        case FMT_EXIT:
            break;
        case FMT_LDDW:
            if (i + 1 >= n || in[i + 1].op != NICSIM_OP_LDDW_HI)
                return nicsim_isa_fail(err, (long)i,
                                       "insn %zu: LDDW must be followed by its LDDW_HI slot", i);
            r.dst = d->dst & 15;
            r.src = d->src & 15;
            r.imm = (int32_t)(uint32_t)d->imm64;
            out[i + 1] = (struct nicsim_insn){.imm = (int32_t)(uint32_t)(d->imm64 >> 32)};
            break;
        case FMT_LDABS:
            r.imm = d->imm;
            break;
        case FMT_LDIND:
            r.src = d->src & 15;
            r.imm = d->imm;
            break;
        case FMT_LDX:
        case FMT_STX:
            r.dst = d->dst & 15;
            r.src = d->src & 15;
            r.off = d->off;
            break;
        case FMT_ST:
            r.dst = d->dst & 15;
            r.off = d->off;
            r.imm = d->imm;
            break;
        case FMT_ATOMIC:
            r.dst = d->dst & 15;
            r.src = d->src & 15;
            r.off = d->off;
            r.imm = info->imm;
            break;
        default:
            return nicsim_isa_fail(err, (long)i, "insn %zu: invalid op %u", i, (unsigned)d->op);
        }
        out[i] = r;

        /* What we wrote must decode back to the same op (registers in range, LDDW subtype). */
        struct nicsim_isa_insn check;
        rc = nicsim_isa_decode_one(&out[i], n - i, &check, err);
        if (rc < 0)
            return fail_at(err, (long)i, rc);
        if (check.op != d->op)
            return nicsim_isa_fail(err, (long)i, "insn %zu: %s cannot be encoded (decodes as %s)",
                                   i, info->id, isa_info(check.op)->id);
    }
    return 0;
}
