/* SPDX-License-Identifier: MIT */
/*
 * Private to the ISA library: the wire-format constants and the per-op table shared by the
 * decoder/encoder (isa.c), the assembler (asm.c) and the disassembler (disasm.c).
 */
#ifndef NICSIM_ISA_INTERNAL_H
#define NICSIM_ISA_INTERNAL_H

#include "nicsim/isa.h"

#include <stdarg.h>

/* Instruction classes (code & 0x07). */
#define BPF_LD    0x00
#define BPF_LDX   0x01
#define BPF_ST    0x02
#define BPF_STX   0x03
#define BPF_ALU   0x04
#define BPF_JMP   0x05
#define BPF_JMP32 0x06
#define BPF_ALU64 0x07

/* Source operand (code & 0x08) of ALU and JMP. END uses the same bit for TO_LE / TO_BE. */
#define BPF_K 0x00
#define BPF_X 0x08

/* ALU operations (code & 0xf0). */
#define BPF_ADD  0x00
#define BPF_SUB  0x10
#define BPF_MUL  0x20
#define BPF_DIV  0x30
#define BPF_OR   0x40
#define BPF_AND  0x50
#define BPF_LSH  0x60
#define BPF_RSH  0x70
#define BPF_NEG  0x80
#define BPF_MOD  0x90
#define BPF_XOR  0xa0
#define BPF_MOV  0xb0
#define BPF_ARSH 0xc0
#define BPF_END  0xd0

/* JMP operations (code & 0xf0). */
#define BPF_JA   0x00
#define BPF_JEQ  0x10
#define BPF_JGT  0x20
#define BPF_JGE  0x30
#define BPF_JSET 0x40
#define BPF_JNE  0x50
#define BPF_JSGT 0x60
#define BPF_JSGE 0x70
#define BPF_CALL 0x80
#define BPF_EXIT 0x90
#define BPF_JLT  0xa0
#define BPF_JLE  0xb0
#define BPF_JSLT 0xc0
#define BPF_JSLE 0xd0

#define BPF_JCOND 0xe0 /* may_goto (src BPF_MAY_GOTO = 0) */

/* Load/store size (code & 0x18) and mode (code & 0xe0). */
#define BPF_W      0x00
#define BPF_H      0x08
#define BPF_B      0x10
#define BPF_DW     0x18
#define BPF_IMM    0x00
#define BPF_ABS    0x20
#define BPF_IND    0x40
#define BPF_MEM    0x60
#define BPF_MEMSX  0x80
#define BPF_ATOMIC 0xc0

/* Atomic operations, in imm. */
#define BPF_FETCH   0x01
#define BPF_XCHG    (0xe0 | BPF_FETCH)
#define BPF_CMPXCHG (0xf0 | BPF_FETCH)

/* Call source subtypes, in src. */
#define BPF_PSEUDO_CALL       1
#define BPF_PSEUDO_KFUNC_CALL 2

#define ISA_MAX_REG 10

/* Operand layout of an op: which fields are operands, which are fixed by the op. */
enum isa_fmt {
    FMT_NONE = 0,   /* NICSIM_OP_INVALID */
    FMT_ALU_K,      /* op dst, imm */
    FMT_ALU_X,      /* op dst, src (MOVSX included) */
    FMT_ALU_1,      /* op dst: NEG, LE/BE/BSWAP */
    FMT_JCOND_K,    /* op dst, imm, off */
    FMT_JCOND_X,    /* op dst, src, off */
    FMT_JA,         /* ja off */
    FMT_JA32,       /* ja32 imm */
    FMT_CALL_IMM,   /* helper (src 0) or kfunc (src 2) number in imm */
    FMT_CALL_LOCAL, /* pc-relative imm */
    FMT_CALLX,      /* helper number in register dst */
    FMT_EXIT,
    FMT_LDDW,
    FMT_LDDW_HI,
    FMT_LDABS, /* imm */
    FMT_LDIND, /* src, imm */
    FMT_LDX,   /* dst, [src+off] */
    FMT_ST,    /* [dst+off], imm */
    FMT_STX,   /* [dst+off], src */
    FMT_ATOMIC /* [dst+off], src */
};

/*
 * One row per enum nicsim_op: the opcode byte and the values of the fields the op fixes
 * (off for SDIV/SMOD = 1 and MOVSX = 8/16/32, imm for END width and atomic operation, src for
 * the call subtype). The decoder in isa.c is written per class; a unit test checks that it
 * agrees with this table for every op.
 */
struct isa_opinfo {
    uint8_t code;
    uint8_t fmt;    /* enum isa_fmt */
    uint8_t cls;    /* enum nicsim_op_class */
    uint8_t size;   /* memory access size in bytes */
    uint8_t src;    /* fixed src (call subtype) */
    int16_t off;    /* fixed off */
    int32_t imm;    /* fixed imm */
    const char *id; /* enum name without prefix, for messages: "ADD64_K" */
};

extern const struct isa_opinfo nicsim_isa_ops[NICSIM_OP__COUNT];

static inline const struct isa_opinfo *isa_info(unsigned op)
{
    return op < NICSIM_OP__COUNT ? &nicsim_isa_ops[op] : &nicsim_isa_ops[NICSIM_OP_INVALID];
}

/* Fill err (if any) with index and a formatted message; returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int nicsim_isa_fail(struct nicsim_msg *err, long index,
                                                          const char *fmt, ...);

/* Keyword of an LDDW source subtype in assembler syntax ("map_fd"), NULL for IMM64/unknown. */
const char *nicsim_isa_lddw_kind_name(unsigned src);

#endif /* NICSIM_ISA_INTERNAL_H */
