/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the instruction trace of one packet (--trace-packet). */
#include "run_int.h"

static void itrace_line(void *user, const struct nicsim_trace_rec *rec)
{
    struct itrace *t = user;
    /* The retired tail call is reported with the program it jumped to: it belongs to the one
     * before. */
    const struct nicsim_prog *p =
        rec->prog != t->prog && t->prog && rec->pc != 0 ? t->prog : rec->prog;
    const struct nicsim_isa_insn *in = nicsim_prog__insns(p);
    size_t n = nicsim_prog__len(p);
    struct nicsim_insn raw[2];
    struct nicsim_isa_err e;
    char text[96] = "?", note[48] = "";

    if (p != t->prog) {
        printf("  program %s:\n  %5s  %-40s %5s %8s  %s\n", nicsim_prog__name(p), "pc",
               "instruction", "+cyc", "cycle", "result");
        t->prog = p;
    }
    if (rec->pc < n) {
        size_t k = in[rec->pc].op == NICSIM_OP_LDDW && rec->pc + 1 < n ? 2 : 1;
        if (nicsim_isa_encode(&in[rec->pc], k, raw, &e) == 0)
            nicsim_disasm_insn(raw, k, text, sizeof(text));
        const struct nicsim_helper *h = nicsim_xdp_helpers();
        int32_t id = in[rec->pc].imm;
        if (in[rec->pc].op == NICSIM_OP_CALL_HELPER && id > 0 && id < NICSIM_MAX_HELPERS &&
            h[id].name)
            snprintf(note, sizeof(note), "  (%s)", h[id].name);
    }
    printf("  %5u  %-40s %5u %8llu  0x%llx%s\n", rec->pc, text, rec->cycles,
           (unsigned long long)rec->cycle, (unsigned long long)rec->dst_value, note);
    if (rec->prog != p) {
        t->prog = NULL; /* the next line starts the tail-called program's header */
    }
}

void nicsim_run_itrace_set(struct run *r, struct itrace *t)
{
    struct nicsim_dp *dp = nicsim_sys__dp(r->sys);

    for (uint32_t c = 0; c < nicsim_sys__n_cores(r->sys); c++)
        nicsim_vm__set_trace(nicsim_xdp_core__vm(nicsim_dp__core(dp, c)), t ? itrace_line : NULL,
                             t);
}
