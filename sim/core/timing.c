/* SPDX-License-Identifier: MIT */
/*
 * Timing of the single-issue core: the numbers of docs/microarchitecture.md §4, and the static
 * per-instruction annotation the run loop uses for the load-use rule.
 */
#include "core_internal.h"

#include <string.h>

void nicsim_timing_default(struct nicsim_timing *t)
{
    memset(t, 0, sizeof(*t));
    t->pipeline_fill = 4;
    t->taken_branch = 2;
    t->jump = 1;
    t->call_local = 1;
    t->ret_local = 1;
    t->lddw = 1;
    t->load_use = 1;
    t->mul = 2;
    t->div32 = 32;
    t->div64 = 64;
    t->atomic = 1;
    t->helper_call = 2;
    t->tail_call = 3;
    t->region_latency[NICSIM_RGN_UNMAPPED] = 1;
    t->region_latency[NICSIM_RGN_STACK] = 1;
    t->region_latency[NICSIM_RGN_CTX] = 1;
    t->region_latency[NICSIM_RGN_PACKET] = 1;
    t->region_latency[NICSIM_RGN_MAP] = 2;
    t->region_latency[NICSIM_RGN_RODATA] = 2;
    t->region_latency[NICSIM_RGN_MEM] = 1;
}

/*
 * Registers an instruction reads, for the load-use rule: the table of docs/microarchitecture.md
 * §4 ("Registers read"). It is the pipeline's view, not the ISA's: a local call reads nothing
 * (the r6-r9 shadow save happens when the call retires, after every older write), EXIT reads r0
 * (the return value is latched in EX), a helper call reads r1-r5 (handed to the helper unit).
 * LD_ABS/LD_IND are refused at load (prog.c), so they never reach the pipeline.
 */
static uint16_t pipeline_regs_read(const struct nicsim_isa_insn *in)
{
    switch (nicsim_isa_op_class(in->op)) {
    case NICSIM_CLASS_CALL_LOCAL:
    case NICSIM_CLASS_JA:
    case NICSIM_CLASS_LDDW:
    case NICSIM_CLASS_LEGACY:
        return 0;
    default:
        return nicsim_isa_regs_read(in);
    }
}

/* Registers an instruction produces from a memory read: the load-use producers. XCHG always
 * returns the old value (it is a FETCH atomic); CMPXCHG returns it in r0. */
static uint16_t loaded_regs(const struct nicsim_isa_insn *in)
{
    switch (nicsim_isa_op_class(in->op)) {
    case NICSIM_CLASS_LOAD:
        return (uint16_t)(1u << in->dst);
    case NICSIM_CLASS_ATOMIC:
        switch (in->op) {
        case NICSIM_OP_ACMPXCHG_W:
        case NICSIM_OP_ACMPXCHG_DW:
            return 1u << 0;
        case NICSIM_OP_AADD_W:
        case NICSIM_OP_AOR_W:
        case NICSIM_OP_AAND_W:
        case NICSIM_OP_AXOR_W:
        case NICSIM_OP_AADD_DW:
        case NICSIM_OP_AOR_DW:
        case NICSIM_OP_AAND_DW:
        case NICSIM_OP_AXOR_DW:
            return 0;
        default: /* FETCH variants and XCHG write the old value to src */
            return (uint16_t)(1u << in->src);
        }
    default:
        return 0;
    }
}

void nicsim_timing__annotate(const struct nicsim_timing *t, const struct nicsim_isa_insn *in,
                             struct nicsim_xinsn *x)
{
    (void)t;
    x->rmask = pipeline_regs_read(in);
    x->ldmask = loaded_regs(in);
}
