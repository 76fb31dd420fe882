/* SPDX-License-Identifier: MIT */
/*
 * --model rtl, --lockstep and --wave of `nicsim exec` and `nicsim bench`: the bpf_conformance
 * environment (r1 = the memory block, r2 = its length, helper 5) on the Verilated RTL core
 * (sim/rtl), alone or beside the C model with every retired instruction compared.
 */
#include "model.h"

#include "bpfconf.h"
#include "cli.h"
#include "nicsim/core.h"
#include "nicsim/isa.h"
#include "opt.h"
#include "outfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef NICSIM_HAVE_RTL
#include "rtl.h"

int cli_model_parse(const char *name, enum cli_model *out)
{
    if (!strcmp(name, "c"))
        *out = CLI_MODEL_C;
    else if (!strcmp(name, "rtl"))
        *out = CLI_MODEL_RTL;
    else
        return nicsim_cli_usage_fail("--model: '%s' is not a model (c, rtl)", name);
    return 0;
}

static int open_rtl(const char *wave, struct nicsim_rtl **out)
{
    struct nicsim_rtl *rtl = nicsim_rtl__new();
    if (!rtl)
        return nicsim_cli_fail("cannot build the RTL model: %s", strerror(errno));
    if (wave) {
        int rc = nicsim_rtl__set_wave(rtl, wave);
        if (rc < 0) {
            nicsim_rtl__free(rtl);
            return rc == -EINVAL
                       ? nicsim_cli_fail("--wave %s: only FST waveforms (.fst) are written; fst2vcd "
                                  "converts one to VCD",
                                  wave)
                       : nicsim_cli_fail("--wave %s: cannot write: %s", wave, strerror(-rc));
        }
    }
    *out = rtl;
    return 0;
}

int cli_exec_rtl(const struct nicsim_insn *raw, size_t n, const uint8_t *mem, size_t memlen,
                 uint64_t budget, nicsim_trace_fn trace, void *trace_user, const char *wave,
                 struct nicsim_run *run, struct nicsim_isa_err *err)
{
    struct nicsim_rtl *rtl = NULL;
    if (open_rtl(wave, &rtl))
        return -ENODEV;
    int rc = nicsim_rtl__run_conf(rtl, raw, n, mem, memlen, NULL, budget,
                                  nicsim_bpfconf_helpers(), trace, trace_user, run, err);
    nicsim_rtl__free(rtl); /* closes the waveform */
    return rc;
}

struct rec {
    uint32_t pc;
    uint64_t cycle;
    uint64_t value;
};
struct recs {
    struct rec *v;
    size_t n, cap;
    int oom;
};

static void collect(void *user, const struct nicsim_trace_rec *r)
{
    struct recs *rs = user;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 1024;
        struct rec *v = realloc(rs->v, cap * sizeof(*v));
        if (!v) {
            rs->oom = 1;
            return;
        }
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n++] = (struct rec){r->pc, r->cycle, r->dst_value};
}

/* Whether the instruction at pc writes its destination register (the value compared). */
static int writes_dst(const struct nicsim_isa_insn *dec, size_t ndec, uint32_t pc)
{
    if (pc >= ndec)
        return 0;
    enum nicsim_op_class k = nicsim_isa_op_class((enum nicsim_op)dec[pc].op);
    return k == NICSIM_CLASS_ALU || k == NICSIM_CLASS_MULDIV || k == NICSIM_CLASS_LOAD ||
           k == NICSIM_CLASS_LDDW;
}

static void print_rec(const char *who, const struct recs *rs, size_t i,
                      const struct nicsim_insn *raw, size_t n)
{
    if (i >= rs->n) {
        printf("  %-4s retired no instruction #%zu (its run had ended)\n", who, i);
        return;
    }
    const struct rec *r = &rs->v[i];
    char text[128] = "?";
    if (r->pc < n)
        nicsim_disasm_insn(&raw[r->pc], n - r->pc, text, sizeof(text));
    printf("  %-4s pc %u  %-32s  retired in cycle %" PRIu64 ", wrote 0x%" PRIx64 "\n", who,
           r->pc, text, r->cycle, r->value);
}

int cli_exec_lockstep(const char *path, const struct nicsim_insn *raw, size_t n,
                      const uint8_t *mem, size_t memlen, uint64_t budget, const char *wave)
{
    struct nicsim_isa_err err = {.index = -1};
    struct nicsim_isa_insn *dec = calloc(n ? n : 1, sizeof(*dec));
    if (!dec)
        return nicsim_cli_fail("out of memory");
    if (nicsim_isa_decode(raw, n, dec, &err) < 0) {
        free(dec);
        return nicsim_cli_fail("%s: refused: %s", path, err.msg);
    }
    struct recs cr = {0}, rr = {0};
    struct nicsim_run c, r;
    struct nicsim_bpfconf_opts o = {
        .sz = sizeof(o), .budget = budget, .trace = collect, .trace_user = &cr};
    int status = 1;
    uint8_t *cmem = NULL, *rmem = NULL;
    struct nicsim_rtl *rtl = NULL;
    struct nicsim_bpfconf *env = nicsim_bpfconf__new(raw, n, mem, memlen, &o, &err);
    if (!env) {
        nicsim_cli_fail("%s: refused: %s", path, err.msg);
        goto out;
    }
    int crc = nicsim_bpfconf__exec(env, &c);
    cmem = malloc(memlen ? memlen : 1);
    rmem = malloc(memlen ? memlen : 1);
    if (!cmem || !rmem || nicsim_bpfconf__read_mem(env, cmem, memlen) < 0) {
        nicsim_cli_fail("cannot read the C model's memory block");
        goto out;
    }
    if (open_rtl(wave, &rtl))
        goto out;
    if (nicsim_rtl__run_conf(rtl, raw, n, mem, memlen, NULL, budget, nicsim_bpfconf_helpers(),
                             collect, &rr, &r, &err) == -EINVAL ||
        nicsim_rtl__read_mem(rtl, rmem, memlen) < 0) {
        nicsim_cli_fail("%s: refused by the RTL harness: %s", path, err.msg);
        goto out;
    }
    if (cr.oom || rr.oom) {
        nicsim_cli_fail("out of memory recording the instruction streams");
        goto out;
    }
    /* the first retired instruction on which the models differ */
    size_t i = 0, both = cr.n < rr.n ? cr.n : rr.n;
    const char *what = NULL;
    for (; i < both && !what; i++) {
        const struct rec *a = &cr.v[i], *b = &rr.v[i];
        int trapped = i + 1 == cr.n && c.status == NICSIM_RUN_TRAP;
        if (a->pc != b->pc)
            what = "pc";
        else if (a->cycle != b->cycle)
            what = "retire cycle";
        else if (writes_dst(dec, n, a->pc) && !trapped && a->value != b->value)
            what = "written register value";
    }
    if (what)
        i--;
    else if (cr.n != rr.n)
        what = "number of retired instructions";
    else if (c.status != r.status || c.r0 != r.r0 || c.cycles != r.cycles ||
             c.trap.kind != r.trap.kind || c.trap.pc != r.trap.pc)
        what = "end of the run (status, r0, cycles or trap)";
    size_t mdiff = 0;
    while (mdiff < memlen && cmem[mdiff] == rmem[mdiff])
        mdiff++;
    if (!what && mdiff < memlen) {
        printf("lockstep: DIVERGENCE in the memory block after the run: byte %zu is 0x%02x on the "
               "C model, 0x%02x on the RTL\n",
               mdiff, cmem[mdiff], rmem[mdiff]);
        fprintf(stderr, "nicsim exec: %s: lockstep: the memory blocks differ after the run (byte "
                        "%zu)\n",
                path, mdiff);
        status = 3;
        goto out;
    }
    if (!what) {
        printf("lockstep: C model and RTL agree on all %zu retired instructions (pc, written "
               "register value, retire cycle), on the end of the run and on the memory block\n",
               cr.n);
        cli_print_run(&c);
        if (crc < 0)
            fprintf(stderr, "nicsim exec: %s: %s\n", path, c.trap.msg);
        status = crc < 0 ? 1 : 0;
        goto out;
    }
    printf("lockstep: DIVERGENCE at retired instruction #%zu: the %s differs\n", i, what);
    print_rec("C", &cr, i, raw, n);
    print_rec("RTL", &rr, i, raw, n);
    if (i > 0)
        printf("  previous instruction: pc %u, retired in cycle %" PRIu64 " in both models\n",
               cr.v[i - 1].pc, cr.v[i - 1].cycle);
    uint64_t hi = i < cr.n ? cr.v[i].cycle : c.cycles, lo = i > 0 ? cr.v[i - 1].cycle : 0;
    printf("  cycle window to open in a waveform (--wave): where the core's cycle counter "
           "(cycles_o) is %" PRIu64 "..%" PRIu64 "\n",
           lo > 5 ? lo - 5 : 0, hi + 1);
    printf("  C model: status %d, r0 0x%" PRIx64 ", %" PRIu64 " instructions, %" PRIu64
           " cycles%s%s\n",
           (int)c.status, c.r0, c.insns, c.cycles, c.status ? ", " : "",
           c.status ? c.trap.msg : "");
    printf("  RTL:     status %d, r0 0x%" PRIx64 ", %" PRIu64 " instructions, %" PRIu64
           " cycles%s%s\n",
           (int)r.status, r.r0, r.insns, r.cycles, r.status ? ", " : "",
           r.status ? r.trap.msg : "");
    fprintf(stderr, "nicsim exec: %s: lockstep: the RTL diverged from the C model at retired "
                    "instruction #%zu (%s)\n",
            path, i, what);
    status = 3;
out:
    if (rtl)
        nicsim_rtl__free(rtl); /* closes the waveform */
    nicsim_bpfconf__free(env);
    free(cmem);
    free(rmem);
    free(cr.v);
    free(rr.v);
    free(dec);
    return status;
}

/* CPU time of this thread: the figure does not depend on what else the machine runs */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_bench_rtl(const char *name, const struct nicsim_insn *raw, size_t n, const uint8_t *mem,
                  size_t memlen, uint64_t budget, double *rtl_cps, double *c_cps,
                  struct nicsim_run *run)
{
    struct nicsim_isa_err err = {.index = -1};
    struct nicsim_rtl *rtl = NULL;
    if (open_rtl(NULL, &rtl))
        return -1;
    double t0 = now();
    int rc = nicsim_rtl__run_conf(rtl, raw, n, mem, memlen, NULL, budget,
                                  nicsim_bpfconf_helpers(), NULL, NULL, run, &err);
    double dt = now() - t0;
    nicsim_rtl__free(rtl);
    if (rc == -EINVAL) {
        nicsim_cli_fail("%s: refused by the RTL harness: %s", name, err.msg);
        return -1;
    }
    struct nicsim_run c;
    struct nicsim_bpfconf_opts o = {.sz = sizeof(o), .budget = budget};
    double t1 = now();
    nicsim_bpfconf_run(raw, n, mem, memlen, &o, &c, &err);
    double dc = now() - t1;
    if (c.cycles != run->cycles || c.insns != run->insns) {
        nicsim_cli_fail("%s: the RTL ran %" PRIu64 " instructions in %" PRIu64
                 " cycles, the C model %" PRIu64 " in %" PRIu64 " (an RTL bug)",
                 name, run->insns, run->cycles, c.insns, c.cycles);
        return -1;
    }
    *rtl_cps = dt > 0 ? (double)run->cycles / dt : 0;
    *c_cps = dc > 0 ? (double)c.cycles / dc : 0;
    return 0;
}

/* run --lockstep: the first divergence ends the run (exit status 3) */
static void run_diverged(void *user, const char *report)
{
    struct nicsim_rtl *rtl = user;
    fflush(stdout);
    printf("%s", report);
    fflush(stdout);
    char pending[512];
    nicsim_cli_out_pending(pending, sizeof(pending));
    fprintf(stderr, "nicsim run: lockstep: the RTL diverged from the C model (run #%" PRIu64
                    "); stopping%s%s\n",
            nicsim_rtl__runs(rtl) - 1, pending[0] ? "; not written: " : "",
            pending[0] ? pending + 2 : "");
    nicsim_cli_out_abort_all();
    nicsim_rtl__free(rtl); /* closes the waveform, with the divergence in it */
    exit(3);
}

int cli_run_rtl_open(const char *wave, uint64_t first, uint64_t last, bool lockstep,
                     nicsim_vm_backend_fn *fn, void **ctx)
{
    struct nicsim_rtl *rtl = NULL;
    if (open_rtl(wave, &rtl))
        return -ENODEV;
    nicsim_rtl__set_wave_runs(rtl, first, last);
    *fn = lockstep ? nicsim_rtl__run_vm_lockstep : nicsim_rtl__run_vm;
    if (lockstep)
        nicsim_rtl__set_lockstep_report(rtl, run_diverged, rtl);
    *ctx = rtl;
    return 0;
}

void cli_run_rtl_close(void *ctx, bool lockstep)
{
    if (lockstep)
        printf("lockstep: C model and RTL agree on all %" PRIu64
               " runs (every retired instruction's pc, retire cycle and dst register, the helper "
               "calls, the ends of the runs and the memory after them)\n",
               nicsim_rtl__runs(ctx));
    nicsim_rtl__free(ctx); /* closes the waveform */
}

#else /* no Verilator in this build */

int cli_run_rtl_open(const char *wave, uint64_t first, uint64_t last, bool lockstep,
                     nicsim_vm_backend_fn *fn, void **ctx)
{
    (void)wave, (void)first, (void)last, (void)lockstep, (void)fn, (void)ctx;
    nicsim_cli_fail("the RTL core is not available in this build (no Verilator)");
    return -ENODEV;
}

void cli_run_rtl_close(void *ctx, bool lockstep)
{
    (void)ctx, (void)lockstep;
}

int cli_model_parse(const char *name, enum cli_model *out)
{
    if (!strcmp(name, "c")) {
        *out = CLI_MODEL_C;
        return 0;
    }
    if (!strcmp(name, "rtl"))
        return nicsim_cli_usage_fail("--model: model 'rtl' is not available: this build has no "
                              "Verilator (the RTL core, sim/rtl, was skipped)");
    return nicsim_cli_usage_fail("--model: '%s' is not a model (c)", name);
}

int cli_exec_rtl(const struct nicsim_insn *raw, size_t n, const uint8_t *mem, size_t memlen,
                 uint64_t budget, nicsim_trace_fn trace, void *trace_user, const char *wave,
                 struct nicsim_run *run, struct nicsim_isa_err *err)
{
    (void)raw, (void)n, (void)mem, (void)memlen, (void)budget, (void)trace, (void)trace_user;
    (void)wave, (void)run, (void)err;
    nicsim_cli_fail("the RTL core is not available in this build (no Verilator)");
    return -ENODEV;
}

int cli_exec_lockstep(const char *path, const struct nicsim_insn *raw, size_t n,
                      const uint8_t *mem, size_t memlen, uint64_t budget, const char *wave)
{
    (void)raw, (void)n, (void)mem, (void)memlen, (void)budget, (void)wave;
    return nicsim_cli_fail("%s: --lockstep needs the RTL core, which this build lacks (no Verilator)",
                    path);
}

int cli_bench_rtl(const char *name, const struct nicsim_insn *raw, size_t n, const uint8_t *mem,
                  size_t memlen, uint64_t budget, double *rtl_cps, double *c_cps,
                  struct nicsim_run *run)
{
    (void)raw, (void)n, (void)mem, (void)memlen, (void)budget, (void)rtl_cps, (void)c_cps;
    (void)run;
    nicsim_cli_fail("%s: the RTL core is not available in this build (no Verilator)", name);
    return -1;
}
#endif
