/* SPDX-License-Identifier: MIT */
/*
 * nicsim ISA library: the eBPF instruction set of RFC 9669 as the NIC core runs it.
 *
 * Three layers, each usable alone:
 *   - the wire format (struct nicsim_insn, 8 bytes, identical to the kernel's struct bpf_insn);
 *   - decode/validate/encode between the wire format and a decoded form whose `op` is one dense
 *     enum (enum nicsim_op) so that interpreters can switch over it directly;
 *   - a text assembler and disassembler for the syntax used by the bpf_conformance suite.
 *
 * Program counters are slot indices, as in the kernel: a 64-bit immediate load (LDDW) occupies
 * two slots, the second decoded as NICSIM_OP_LDDW_HI.
 *
 * Functions return 0 or a negative errno; on failure they fill a struct nicsim_msg (util.h, the
 * one message carrier) with the instruction index (or source line) and a sentence for a person.
 */
#ifndef NICSIM_ISA_H
#define NICSIM_ISA_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wire format: one 64-bit little-endian slot. */
struct nicsim_insn {
    uint8_t code;
    uint8_t dst : 4;
    uint8_t src : 4;
    int16_t off;
    int32_t imm;
};

/* Longest program the ISA layer accepts, in slots (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
#define NICSIM_ISA_MAX_INSNS 1000000u
#define NICSIM_ISA_NREGS     11 /* r0..r10 */

/*
 * Every operation the decoder can produce. X(NAME, "mnemonic") — the mnemonic is the assembler's
 * (conformance syntax). K = immediate operand, X = register operand.
 */
/* clang-format off */
#define NICSIM_ISA_OPS(X)                                                                          \
    X(INVALID, "invalid")                                                                          \
    /* 64-bit ALU */                                                                               \
    X(ADD64_K, "add") X(ADD64_X, "add") X(SUB64_K, "sub") X(SUB64_X, "sub") X(MUL64_K, "mul")      \
    X(MUL64_X, "mul") X(DIV64_K, "div") X(DIV64_X, "div") X(SDIV64_K, "sdiv")                      \
    X(SDIV64_X, "sdiv") X(OR64_K, "or") X(OR64_X, "or") X(AND64_K, "and") X(AND64_X, "and")        \
    X(LSH64_K, "lsh") X(LSH64_X, "lsh") X(RSH64_K, "rsh") X(RSH64_X, "rsh") X(NEG64, "neg")        \
    X(MOD64_K, "mod") X(MOD64_X, "mod") X(SMOD64_K, "smod") X(SMOD64_X, "smod")                    \
    X(XOR64_K, "xor") X(XOR64_X, "xor") X(MOV64_K, "mov") X(MOV64_X, "mov")                        \
    X(MOVSX8_64, "movsx864") X(MOVSX16_64, "movsx1664") X(MOVSX32_64, "movsx3264")                 \
    X(ARSH64_K, "arsh") X(ARSH64_X, "arsh")                                                        \
    /* 32-bit ALU (results zero-extended) */                                                       \
    X(ADD32_K, "add32") X(ADD32_X, "add32") X(SUB32_K, "sub32") X(SUB32_X, "sub32")                \
    X(MUL32_K, "mul32") X(MUL32_X, "mul32") X(DIV32_K, "div32") X(DIV32_X, "div32")                \
    X(SDIV32_K, "sdiv32") X(SDIV32_X, "sdiv32") X(OR32_K, "or32") X(OR32_X, "or32")                \
    X(AND32_K, "and32") X(AND32_X, "and32") X(LSH32_K, "lsh32") X(LSH32_X, "lsh32")                \
    X(RSH32_K, "rsh32") X(RSH32_X, "rsh32") X(NEG32, "neg32") X(MOD32_K, "mod32")                  \
    X(MOD32_X, "mod32") X(SMOD32_K, "smod32") X(SMOD32_X, "smod32") X(XOR32_K, "xor32")            \
    X(XOR32_X, "xor32") X(MOV32_K, "mov32") X(MOV32_X, "mov32") X(MOVSX8_32, "movsx832")           \
    X(MOVSX16_32, "movsx1632") X(ARSH32_K, "arsh32") X(ARSH32_X, "arsh32")                         \
    /* byte order: LE/BE are ALU-class END with K/X source, BSWAP is ALU64-class END */            \
    X(LE16, "le16") X(LE32, "le32") X(LE64, "le64") X(BE16, "be16") X(BE32, "be32")                \
    X(BE64, "be64") X(BSWAP16, "bswap16") X(BSWAP32, "bswap32") X(BSWAP64, "bswap64")              \
    /* 64-bit compare-and-jump */                                                                  \
    X(JEQ_K, "jeq") X(JEQ_X, "jeq") X(JGT_K, "jgt") X(JGT_X, "jgt") X(JGE_K, "jge")                \
    X(JGE_X, "jge") X(JSET_K, "jset") X(JSET_X, "jset") X(JNE_K, "jne") X(JNE_X, "jne")            \
    X(JSGT_K, "jsgt") X(JSGT_X, "jsgt") X(JSGE_K, "jsge") X(JSGE_X, "jsge") X(JLT_K, "jlt")        \
    X(JLT_X, "jlt") X(JLE_K, "jle") X(JLE_X, "jle") X(JSLT_K, "jslt") X(JSLT_X, "jslt")            \
    X(JSLE_K, "jsle") X(JSLE_X, "jsle")                                                            \
    /* 32-bit compare-and-jump */                                                                  \
    X(JEQ32_K, "jeq32") X(JEQ32_X, "jeq32") X(JGT32_K, "jgt32") X(JGT32_X, "jgt32")                \
    X(JGE32_K, "jge32") X(JGE32_X, "jge32") X(JSET32_K, "jset32") X(JSET32_X, "jset32")            \
    X(JNE32_K, "jne32") X(JNE32_X, "jne32") X(JSGT32_K, "jsgt32") X(JSGT32_X, "jsgt32")            \
    X(JSGE32_K, "jsge32") X(JSGE32_X, "jsge32") X(JLT32_K, "jlt32") X(JLT32_X, "jlt32")            \
    X(JLE32_K, "jle32") X(JLE32_X, "jle32") X(JSLT32_K, "jslt32") X(JSLT32_X, "jslt32")            \
    X(JSLE32_K, "jsle32") X(JSLE32_X, "jsle32")                                                    \
    /* control transfer */                                                                         \
    X(JA, "ja") X(JA32, "ja32") X(CALL_HELPER, "call") X(CALL_LOCAL, "call local")                 \
    X(CALL_KFUNC, "call kfunc") X(CALLX, "callx") X(EXIT, "exit")                                  \
    /* loads and stores */                                                                         \
    X(LDDW, "lddw") X(LDDW_HI, "lddw.hi") X(LDABS_B, "ldabsb") X(LDABS_H, "ldabsh")                \
    X(LDABS_W, "ldabsw") X(LDIND_B, "ldindb") X(LDIND_H, "ldindh") X(LDIND_W, "ldindw")            \
    X(LDXB, "ldxb") X(LDXH, "ldxh") X(LDXW, "ldxw") X(LDXDW, "ldxdw") X(LDXSB, "ldxsb")            \
    X(LDXSH, "ldxsh") X(LDXSW, "ldxsw") X(STB, "stb") X(STH, "sth") X(STW, "stw")                  \
    X(STDW, "stdw") X(STXB, "stxb") X(STXH, "stxh") X(STXW, "stxw") X(STXDW, "stxdw")              \
    /* atomics: W = 32-bit, DW = 64-bit; FETCH variants return the old value in src */             \
    X(AADD_W, "lock add32") X(AOR_W, "lock or32") X(AAND_W, "lock and32")                          \
    X(AXOR_W, "lock xor32") X(AFADD_W, "lock fetch add32") X(AFOR_W, "lock fetch or32")            \
    X(AFAND_W, "lock fetch and32") X(AFXOR_W, "lock fetch xor32") X(AXCHG_W, "lock xchg32")        \
    X(ACMPXCHG_W, "lock cmpxchg32") X(AADD_DW, "lock add") X(AOR_DW, "lock or")                    \
    X(AAND_DW, "lock and") X(AXOR_DW, "lock xor") X(AFADD_DW, "lock fetch add")                    \
    X(AFOR_DW, "lock fetch or") X(AFAND_DW, "lock fetch and") X(AFXOR_DW, "lock fetch xor")        \
    X(AXCHG_DW, "lock xchg") X(ACMPXCHG_DW, "lock cmpxchg")                                       \
    /* the kernel's bounded-loop instruction (BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO): falls     \
     * through while the frame's loop counter lasts, then jumps (docs/microarchitecture.md) */   \
    X(MAY_GOTO, "may_goto")
/* clang-format on */

enum nicsim_op {
#define NICSIM_ISA_ENUM_(name, mnem) NICSIM_OP_##name,
    NICSIM_ISA_OPS(NICSIM_ISA_ENUM_)
#undef NICSIM_ISA_ENUM_
        NICSIM_OP__COUNT
};

/* Source subtypes of LDDW (the `src` field), as the kernel names them. */
enum nicsim_lddw_src {
    NICSIM_LDDW_IMM64 = 0,
    NICSIM_LDDW_MAP_FD = 1,
    NICSIM_LDDW_MAP_VALUE = 2,
    NICSIM_LDDW_BTF_ID = 3,
    NICSIM_LDDW_FUNC = 4,
    NICSIM_LDDW_MAP_IDX = 5,
    NICSIM_LDDW_MAP_IDX_VALUE = 6,
};

/* Coarse classes, for verifiers and timing tables. */
enum nicsim_op_class {
    NICSIM_CLASS_NONE = 0,
    NICSIM_CLASS_ALU,    /* register/immediate arithmetic, moves, byte swaps */
    NICSIM_CLASS_MULDIV, /* MUL, DIV, SDIV, MOD, SMOD (32 and 64) */
    NICSIM_CLASS_JCOND,  /* conditional jumps */
    NICSIM_CLASS_JA,     /* unconditional jumps (JA, JA32) */
    NICSIM_CLASS_CALL,   /* CALL_HELPER, CALL_KFUNC, CALLX */
    NICSIM_CLASS_CALL_LOCAL,
    NICSIM_CLASS_EXIT,
    NICSIM_CLASS_LDDW,   /* both slots */
    NICSIM_CLASS_LEGACY, /* LD_ABS / LD_IND */
    NICSIM_CLASS_LOAD,   /* LDX, LDXS */
    NICSIM_CLASS_STORE,  /* ST, STX */
    NICSIM_CLASS_ATOMIC,
};

/* One decoded slot. */
struct nicsim_isa_insn {
    uint16_t op;  /* enum nicsim_op */
    uint8_t dst;  /* destination register (r0..r10) */
    uint8_t src;  /* source register, or LDDW/CALL source subtype */
    int16_t off;  /* memory offset or jump offset (JA32: 0, target in imm) */
    uint8_t size; /* memory access size in bytes (loads, stores, atomics), else 0 */
    uint8_t pad;
    int32_t imm;    /* immediate (JA32 and CALL_LOCAL: jump offset) */
    uint64_t imm64; /* LDDW: the full 64-bit immediate; otherwise (uint64_t)(int64_t)imm */
};

/* Errors travel in the one message carrier, struct nicsim_msg (util.h): index is the instruction
 * index, or the 1-based source line for the assembler; -1 if none. nicsim_isa_err is its former
 * name, kept only while code edited in parallel (sim/rtl, host/cli, host/plugin) still spells it.
 */
#define nicsim_isa_err nicsim_msg

/* Properties of an op. */
const char *nicsim_isa_op_name(enum nicsim_op op); /* e.g. "add32" */
enum nicsim_op_class nicsim_isa_op_class(enum nicsim_op op);
/* Bitmask (bit N = rN) of registers an instruction reads / writes. CALL_* read r1-r5 and write
 * r0-r5; EXIT reads r0; CALLX also reads dst. */
uint16_t nicsim_isa_regs_read(const struct nicsim_isa_insn *insn);
uint16_t nicsim_isa_regs_written(const struct nicsim_isa_insn *insn);
/* Jump or local-call target of the instruction at `pc`, or -1 if it does not transfer control
 * to a fixed pc. */
long nicsim_isa_branch_target(const struct nicsim_isa_insn *insn, long pc);

/*
 * Decode one slot. `avail` is the number of slots from `raw` to the program end (LDDW needs 2).
 * Checks the encoding only (fields the ISA requires to be zero, known opcodes); returns the
 * number of slots consumed (1 or 2) or a negative errno with `err` filled (index left as -1).
 */
int nicsim_isa_decode_one(const struct nicsim_insn *raw, size_t avail, struct nicsim_isa_insn *out,
                          struct nicsim_msg *err);

/*
 * Decode and validate a whole program into `out` (n entries). Program-level rules: not empty,
 * at most NICSIM_ISA_MAX_INSNS slots, every jump and local call inside the program and not into
 * the second slot of an LDDW, last instruction an EXIT or an unconditional jump.
 */
int nicsim_isa_decode(const struct nicsim_insn *raw, size_t n, struct nicsim_isa_insn *out,
                      struct nicsim_msg *err);

/* Encode decoded slots back to the wire format (n slots; LDDW_HI slots are written from the
 * preceding LDDW). Returns 0 or -EINVAL with err. */
int nicsim_isa_encode(const struct nicsim_isa_insn *in, size_t n, struct nicsim_insn *out,
                      struct nicsim_msg *err);

/*
 * Assembler for the conformance text syntax: one instruction per line, `#` comments, `label:`,
 * `%rN` registers, `[%rN+off]` memory operands, `lock` atomics, `call local LABEL`, `ja32`.
 * On success *out is malloc'ed (free()) with *n slots.
 */
int nicsim_asm(const char *text, struct nicsim_insn **out, size_t *n, struct nicsim_msg *err);

/*
 * Disassembler. nicsim_disasm_insn writes one instruction (no trailing newline) and returns the
 * number of slots it used (1 or 2) or a negative errno. nicsim_disasm returns a malloc'ed text of
 * the whole program, one instruction per line, that nicsim_asm turns back into the same bytes;
 * NULL with errno set on failure.
 */
int nicsim_disasm_insn(const struct nicsim_insn *raw, size_t avail, char *buf, size_t len);
char *nicsim_disasm(const struct nicsim_insn *raw, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_ISA_H */
