/* SPDX-License-Identifier: MIT */
/* Internal structures of the core model, shared by prog.c and vm.c. */
#ifndef NICSIM_CORE_INTERNAL_H
#define NICSIM_CORE_INTERNAL_H

#include "nicsim/core.h"

/*
 * One executable slot: the decoded instruction plus what the run loop needs precomputed.
 * Decode (the ISA library) says what the instruction is; timing.c fills the timing fields.
 */
struct nicsim_xinsn {
    uint8_t op; /* enum nicsim_op (fits in a byte) */
    uint8_t dst;
    uint8_t src;
    uint8_t size;
    uint16_t rmask;  /* registers read (load-use check) */
    uint16_t ldmask; /* registers this instruction loads from memory (load-use producer) */
    int16_t off;
    uint16_t pad;
    int32_t imm;
    int32_t target; /* branch / local call target pc; helper number for CALL_HELPER */
    uint64_t imm64;
};

struct nicsim_prog {
    char name[32];
    size_t n;
    struct nicsim_xinsn *code;
    struct nicsim_isa_insn *src; /* the decoded program as loaded (traces, disassembly) */
    struct nicsim_timing timing;
    struct nicsim_helper helpers[NICSIM_MAX_HELPERS];
    uint64_t serial;  /* unique per loaded program: which grants a core has made visible */
    uint32_t *grants; /* regions with NICSIM_RGN_F_GRANTED this program may address */
    uint32_t n_grants;
};

/* timing.c */
void nicsim_timing__annotate(const struct nicsim_timing *t, const struct nicsim_isa_insn *in,
                             struct nicsim_xinsn *x);

#endif
