/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/*
 * nicsim profile: the trace replayed exactly as `nicsim run` replays it (the run library, the same
 * setup and options), with the core model's per-instruction trace on every core, aggregated by
 * program and slot: executions, cycles and stall cycles by cause. Printed like `perf annotate`:
 * the NIC program's instructions with their figures, under the C source lines of the object's
 * BTF line info (slots are mapped back to the object's instructions through the driver's record of
 * what the verifier removed); --top N lists the N hottest source lines (or instructions, without
 * line info) first.
 */
#include "run_int.h"

#include "cli.h"
#include "nicsim/isa.h"

/* One program that ran: per slot figures (arrays by pc, allocated once at its first record). */
struct prof_prog {
    const struct nicsim_prog *nic;
    size_t n;
    uint64_t *count, *cycles;
    struct nicsim_stalls *stalls;
    int obj_index;           /* the object's program, -1 unknown */
    const uint32_t *origins; /* slot -> instruction as loaded, NULL: identity */
    uint32_t n_origins;
};

#define PROF_MAX_PROGS 64

struct prof {
    struct run *r;
    struct prof_prog progs[PROF_MAX_PROGS];
    size_t n_progs;
    bool overflow; /* more programs than PROF_MAX_PROGS ran (the rest not counted) */
    bool oom;
    uint64_t runs, fill; /* runs seen and their pipeline fill cycles */
    unsigned top;        /* --top N, 0: the whole program */
};

/* Per core: where its current run is. */
struct prof_core {
    struct prof *p;
    uint64_t last_cycle; /* cycle count after the last record */
    struct nicsim_stalls last_stalls;
    const struct nicsim_prog *last_prog;
    bool any;
};

static struct prof_core prof_cores[NICSIM_DP_MAX_CORES];

static bool name_matches(const char *nic, const char *obj)
{
    size_t n = strlen(nic);
    return n && !strncmp(nic, obj, n) && (obj[n] == 0 || n == 15);
}

static struct prof_prog *prog_of(struct prof *p, const struct nicsim_prog *nic)
{
    for (size_t i = 0; i < p->n_progs; i++)
        if (p->progs[i].nic == nic)
            return &p->progs[i];
    if (p->n_progs == PROF_MAX_PROGS) {
        p->overflow = true;
        return NULL;
    }
    struct prof_prog *pp = &p->progs[p->n_progs];
    memset(pp, 0, sizeof(*pp));
    pp->nic = nic;
    pp->n = nicsim_prog__len(nic);
    pp->count = calloc(pp->n + 1, sizeof(*pp->count));
    pp->cycles = calloc(pp->n + 1, sizeof(*pp->cycles));
    pp->stalls = calloc(pp->n + 1, sizeof(*pp->stalls));
    if (!pp->count || !pp->cycles || !pp->stalls) {
        free(pp->count);
        free(pp->cycles);
        free(pp->stalls);
        p->oom = true;
        return NULL;
    }
    /* the object's program of this name, and the driver's slot -> instruction mapping */
    pp->obj_index = -1;
    struct run *r = p->r;
    for (size_t i = 0; i < nicsim_obj__n_progs(r->obj); i++) {
        if (!name_matches(nicsim_prog__name(nic), nicsim_obj__prog(r->obj, i)->name))
            continue;
        pp->obj_index = (int)i;
        if (r->prog_fds && r->prog_fds[i] >= 0) {
            struct nicsim_bpf_prog *kp = nicsim_kern_prog_by_fd(r->k, r->prog_fds[i]);
            if (kp)
                pp->origins = nicsim_drv__slot_origins(kp, &pp->n_origins);
        }
        break;
    }
    p->n_progs++;
    return pp;
}

static void on_rec(void *user, const struct nicsim_trace_rec *rec)
{
    struct prof_core *c = user;
    struct prof *p = c->p;
    uint64_t before = rec->cycle - rec->cycles;
    bool new_run = !c->any || before != c->last_cycle;

    if (new_run) {
        /* the first record of a run starts after the pipeline fill */
        p->runs++;
        p->fill += before;
        memset(&c->last_stalls, 0, sizeof(c->last_stalls));
        c->last_prog = NULL;
    }
    /* a retired tail call is reported with the program it jumped to: it belongs to the one
     * before (as in the instruction trace of --trace-packet) */
    const struct nicsim_prog *np =
        rec->prog != c->last_prog && c->last_prog && rec->pc != 0 ? c->last_prog : rec->prog;
    struct prof_prog *pp = prog_of(p, np);
    if (pp && rec->pc < pp->n) {
        const struct nicsim_stalls *s = &rec->stalls, *l = &c->last_stalls;
        struct nicsim_stalls *d = &pp->stalls[rec->pc];
        pp->count[rec->pc]++;
        pp->cycles[rec->pc] += rec->cycles;
        d->load_use += s->load_use - l->load_use;
        d->memory += s->memory - l->memory;
        d->branch += s->branch - l->branch;
        d->jump += s->jump - l->jump;
        d->call += s->call - l->call;
        d->muldiv += s->muldiv - l->muldiv;
        d->helper += s->helper - l->helper;
    }
    c->last_stalls = rec->stalls;
    c->last_cycle = rec->cycle;
    c->last_prog = rec->prog != np ? NULL : rec->prog;
    c->any = true;
}

static int on_ready(void *user, struct run *r)
{
    struct prof *p = user;
    struct nicsim_dp *dp = nicsim_sys__dp(r->sys);

    p->r = r;
    for (uint32_t c = 0; c < nicsim_sys__n_cores(r->sys) && c < NICSIM_DP_MAX_CORES; c++) {
        prof_cores[c] = (struct prof_core){.p = p};
        nicsim_vm__set_trace(nicsim_xdp_core__vm(nicsim_dp__core(dp, c)), on_rec, &prof_cores[c]);
    }
    return 0;
}

static int on_done(void *user, struct run *r);

/* ---------------------------------------------------------------------------------------------
 * Printing.
 */
static void add_stalls(struct nicsim_stalls *a, const struct nicsim_stalls *b)
{
    a->load_use += b->load_use;
    a->memory += b->memory;
    a->branch += b->branch;
    a->jump += b->jump;
    a->call += b->call;
    a->muldiv += b->muldiv;
    a->helper += b->helper;
}

static void insn_text(const struct nicsim_prog *nic, size_t pc, char *text, size_t len)
{
    const struct nicsim_isa_insn *in = nicsim_prog__insns(nic);
    size_t n = nicsim_prog__len(nic);
    struct nicsim_insn raw[2];
    struct nicsim_isa_err e;

    snprintf(text, len, "?");
    if (pc >= n)
        return;
    size_t k = in[pc].op == NICSIM_OP_LDDW && pc + 1 < n ? 2 : 1;
    if (nicsim_isa_encode(&in[pc], k, raw, &e) == 0)
        nicsim_disasm_insn(raw, k, text, len);
    const struct nicsim_helper *h = nicsim_xdp_helpers();
    int32_t id = in[pc].imm;
    if (in[pc].op == NICSIM_OP_CALL_HELPER && id > 0 && id < NICSIM_MAX_HELPERS && h[id].name) {
        size_t l = strlen(text);
        snprintf(text + l, len - l, "  ; %s", h[id].name);
    }
}

static void print_header(void)
{
    printf("%9s %10s %6s  %8s %7s %7s %6s %6s %6s %7s  %5s  %s\n", "count", "cycles", "%cyc",
           "load-use", "memory", "branch", "jump", "call", "muldiv", "helper", "pc", "instruction");
}

static void print_figures(uint64_t count, uint64_t cycles, const struct nicsim_stalls *s,
                          uint64_t total)
{
    printf("%9llu %10llu %5.1f%%  %8llu %7llu %7llu %6llu %6llu %6llu %7llu",
           (unsigned long long)count, (unsigned long long)cycles,
           total ? 100.0 * (double)cycles / (double)total : 0.0, (unsigned long long)s->load_use,
           (unsigned long long)s->memory, (unsigned long long)s->branch,
           (unsigned long long)s->jump, (unsigned long long)s->call, (unsigned long long)s->muldiv,
           (unsigned long long)s->helper);
}

static void print_insn(const struct prof_prog *pp, size_t pc, uint64_t total)
{
    char text[128];
    insn_text(pp->nic, pc, text, sizeof(text));
    print_figures(pp->count[pc], pp->cycles[pc], &pp->stalls[pc], total);
    printf("  %5zu  %s\n", pc, text);
}

/* The source line of each slot: the last line record at or before its instruction as loaded. */
static const struct nicsim_obj_line *line_of(const struct nicsim_obj_prog *op,
                                             const struct prof_prog *pp, size_t pc)
{
    uint32_t orig = pp->origins && pc < pp->n_origins ? pp->origins[pc] : (uint32_t)pc;
    const struct nicsim_obj_line *best = NULL;
    size_t lo = 0, hi = op->n_lines;

    while (lo < hi) { /* the first record past orig */
        size_t mid = (lo + hi) / 2;
        if (op->lines[mid].insn <= orig)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo)
        best = &op->lines[lo - 1];
    return best;
}

static void print_line(const struct nicsim_obj_line *l)
{
    const char *f = strrchr(l->file, '/');
    const char *src = l->src + strspn(l->src, " \t");
    printf("%94s; %s:%u  %s\n", "", f ? f + 1 : l->file, l->line, src);
}

struct line_total {
    const struct nicsim_obj_line *line; /* NULL: an instruction (no line info) */
    size_t pc;
    uint64_t count, cycles;
    struct nicsim_stalls stalls;
};

static int cmp_total(const void *a, const void *b)
{
    const struct line_total *x = a, *y = b;
    if (x->cycles != y->cycles)
        return x->cycles < y->cycles ? 1 : -1;
    return (x->pc > y->pc) - (x->pc < y->pc);
}

static bool same_line(const struct nicsim_obj_line *a, const struct nicsim_obj_line *b)
{
    return a && b && a->line == b->line && !strcmp(a->file, b->file);
}

static int print_prog(const struct prof *p, const struct prof_prog *pp, unsigned top,
                      uint64_t total)
{
    const struct nicsim_obj_prog *op =
        pp->obj_index >= 0 ? nicsim_obj__prog(p->r->obj, (size_t)pp->obj_index) : NULL;
    bool lines = op && op->n_lines;
    uint64_t count = 0, cycles = 0;
    struct nicsim_stalls st = {0};

    for (size_t pc = 0; pc < pp->n; pc++) {
        count += pp->count[pc];
        cycles += pp->cycles[pc];
        add_stalls(&st, &pp->stalls[pc]);
    }
    printf("\nprogram %s: %zu slots, %llu instructions executed, %llu cycles (%.1f%% of the "
           "total)%s\n",
           nicsim_prog__name(pp->nic), pp->n, (unsigned long long)count, (unsigned long long)cycles,
           total ? 100.0 * (double)cycles / (double)total : 0.0,
           lines ? "" : "; the object has no BTF line info for it: disassembly only");
    if (top) {
        /* per source line (per instruction without line info), hottest first */
        struct line_total *t = calloc(pp->n + 1, sizeof(*t));
        size_t nt = 0;
        if (!t)
            return nicsim_run_fail("out of memory");
        for (size_t pc = 0; pc < pp->n; pc++) {
            const struct nicsim_obj_line *l = lines ? line_of(op, pp, pc) : NULL;
            size_t k = 0;
            if (l)
                for (k = 0; k < nt && !same_line(t[k].line, l); k++)
                    ;
            else
                k = nt;
            if (k == nt)
                t[nt++] = (struct line_total){.line = l, .pc = pc};
            t[k].count += pp->count[pc];
            t[k].cycles += pp->cycles[pc];
            add_stalls(&t[k].stalls, &pp->stalls[pc]);
        }
        qsort(t, nt, sizeof(*t), cmp_total);
        printf("hottest %s (of %zu):\n", lines ? "source lines" : "instructions", nt);
        print_header();
        for (size_t k = 0; k < nt && k < top; k++) {
            if (t[k].line) {
                print_figures(t[k].count, t[k].cycles, &t[k].stalls, total);
                const char *f = strrchr(t[k].line->file, '/');
                printf("  %s:%u  %s\n", f ? f + 1 : t[k].line->file, t[k].line->line,
                       t[k].line->src + strspn(t[k].line->src, " \t"));
                for (size_t pc = 0; pc < pp->n; pc++)
                    if (same_line(line_of(op, pp, pc), t[k].line) && pp->count[pc])
                        print_insn(pp, pc, total);
            } else {
                print_insn(pp, t[k].pc, total);
            }
        }
        free(t);
        return 0;
    }
    print_header();
    const struct nicsim_obj_line *cur = NULL;
    for (size_t pc = 0; pc < pp->n; pc++) {
        const struct nicsim_obj_line *l = lines ? line_of(op, pp, pc) : NULL;
        if (l && l != cur && !same_line(l, cur))
            print_line(l);
        cur = l;
        print_insn(pp, pc, total);
        if (nicsim_prog__insns(pp->nic)[pc].op == NICSIM_OP_LDDW)
            pc++; /* its second slot */
    }
    (void)st;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nicsim profile OBJECT.o --pcap TRACE [--top N] [run options]\n"
            "\n"
            "Replays TRACE as `nicsim run` does (every run option applies: --prog, --maps-dir,\n"
            "--count, --cores, --rate ...) with the core's per-instruction trace, and prints the\n"
            "program's disassembly annotated per instruction with its executions, cycles, share\n"
            "of all cycles and stall cycles by cause, under the C source lines of the object's\n"
            "BTF line info (objects built without -g: disassembly only).\n"
            "\n"
            "  --top N    the N hottest source lines (instructions without line info) first,\n"
            "             each with its instructions, instead of the whole program\n");
}

int cmd_profile(int argc, char **argv)
{
    struct run_opts o;
    struct prof *p = calloc(1, sizeof(*p));
    unsigned top = 0;
    char **args = calloc((size_t)argc + 2, sizeof(*args));
    int n = 0, rc;

    if (!p || !args) {
        free(p);
        free(args);
        fprintf(stderr, "nicsim profile: out of memory\n");
        return 1;
    }
    /* --top is profile's own; everything else is run's */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(p);
            free(args);
            return 0;
        }
        if (!strcmp(argv[i], "--top") || !strncmp(argv[i], "--top=", 6)) {
            const char *v = argv[i][5] == '=' ? argv[i] + 6 : i + 1 < argc ? argv[++i] : NULL;
            uint64_t t;
            nicsim_cli_set_prog("nicsim profile");
            if (!v) {
                free(p);
                free(args);
                return nicsim_cli_usage_fail("--top needs a number");
            }
            if (nicsim_cli_num("--top", v, 1, 1000000, NULL, &t)) {
                free(p);
                free(args);
                return CLI_USAGE;
            }
            top = (unsigned)t;
            continue;
        }
        if (!strcmp(argv[i], "--trace-packet")) {
            free(p);
            free(args);
            nicsim_cli_set_prog("nicsim profile");
            return nicsim_cli_usage_fail("--trace-packet: use nicsim run (profile traces every packet)");
        }
        args[n++] = argv[i];
    }
    nicsim_run_cmd_name = "nicsim profile";
    rc = run_parse_args(n, args, &o);
    nicsim_run_cmd_name = "nicsim profile";
    if (rc) {
        if (rc == CLI_USAGE)
            fprintf(stderr, "usage: nicsim profile OBJECT.o --pcap TRACE [--top N] [run options] "
                            "(--help)\n");
        free(p);
        free(args);
        return rc;
    }
    o.quiet = true;
    o.on_ready = on_ready;
    o.on_done = on_done;
    o.on_ready_user = p;
    p->top = top;
    rc = nicsim_run_main(&o);
    for (size_t i = 0; i < p->n_progs; i++) {
        free(p->progs[i].count);
        free(p->progs[i].cycles);
        free(p->progs[i].stalls);
    }
    free(args);
    free(p);
    return rc;
}

/* After the replay, before the run's setup goes: the figures of every program that ran, the
 * program the trace entered first. */
static int on_done(void *user, struct run *r)
{
    struct prof *p = user;
    uint64_t insns = 0, cycles = p->fill;

    if (p->oom)
        return nicsim_run_fail("out of memory for the profile");
    for (size_t i = 0; i < p->n_progs; i++)
        for (size_t pc = 0; pc < p->progs[i].n; pc++) {
            insns += p->progs[i].count[pc];
            cycles += p->progs[i].cycles[pc];
        }
    printf("nicsim profile: %s (%s) over %s: %llu runs, %llu instructions, %llu cycles (pipeline "
           "fill %llu)\n",
           r->prog->name, r->o->object, r->o->pcap, (unsigned long long)p->runs,
           (unsigned long long)insns, (unsigned long long)cycles, (unsigned long long)p->fill);
    if (p->overflow)
        printf("(more than %d programs ran: the others are not counted)\n", PROF_MAX_PROGS);
    for (size_t i = 0; i < p->n_progs; i++)
        if (print_prog(p, &p->progs[i], p->top, cycles))
            return 1;
    return 0;
}
