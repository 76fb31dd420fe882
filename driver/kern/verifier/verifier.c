/* SPDX-License-Identifier: MIT */
/*
 * The emulated kernel's verifier: a structural and type-tracking walk of an XDP program after
 * kernel/bpf/verifier.c, with the kernel's contract towards offload drivers.
 *
 * Order (bpf_check): subprograms and their jumps (check_subprogs); opcodes and LDDW map
 * references (resolve_pseudo_ldimm64, with the prog/map offload device match); ops->prepare for
 * an offloaded program; the control-flow graph (check_cfg: jumps in range, no jump into an LDDW,
 * every instruction reachable); the path walk (do_check) calling ops->insn_hook before every
 * instruction it processes; ops->finalize; the stack depth of call chains; then, as the kernel
 * does for privileged loaders, the dead-code optimisations: conditional jumps that only ever went
 * one way become JA (ops->replace_insn), instructions no path reached are removed and so are
 * `ja +0` nops (ops->remove_insns before each removal).
 *
 * What the walk tracks (struct nicsim_reg_state): per register NOT_INIT / scalar / ctx / map_ptr
 * / map_value / map_value_or_null / fp (stack) / pkt_meta / pkt / pkt_end; scalars, and the
 * variable part of a pointer's offset, with unsigned and signed bounds and known bits (a tnum);
 * pointers as object + fixed offset (+ that variable part). Packet pointers carry an id shared by
 * their copies and a range learnt from 64-bit comparisons of pkt + N with data_end (pkt_meta + N
 * with data) in every operator and operand order (find_good_pkt_pointers /
 * try_match_pkt_pointers); a load or store outside it is refused with the kernel's "invalid
 * access to packet" (check_packet_access). Adding a non-constant to a packet pointer gives a new
 * id with no range until it is checked itself, and only a value of known bounds may be added;
 * bpf_xdp_adjust_{head,meta,tail} turn every packet pointer into a scalar
 * (clear_all_pkt_pointers). Comparisons of scalars narrow their bounds (copies of a register
 * learn with it) and decide branches when the bounds do. Per stack byte invalid / misc / zero /
 * spilled register. States are pruned at jump targets against fully explored equivalent states
 * (registers dead at that point, found by a static liveness pass, are ignored), a path that comes
 * back to an identical state still being explored is an infinite loop, and at most
 * NICSIM_COMPLEXITY_LIMIT_INSNS instructions are processed.
 *
 * Map values are bounds-checked as the kernel's check_map_access does, at both ends of a variable
 * offset (at load time, as the kernel), with the map's BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG
 * rights; atomics must be aligned.
 *
 * LIMITS (deliberate; also in docs/offload.md):
 *   - no precision tracking and no stack liveness: pruning compares every live register's bounds
 *     and every stack slot, so a program with many paths costs more instructions here than in the
 *     kernel and may hit the complexity limit first; without precision, may_goto loops are
 *     walked exactly for 64 iterations, then every changed scalar is widened;
 *   - 32-bit subregister bounds (after 32-bit comparisons) last until the next arithmetic on the
 *     register; the kernel carries them through every operation;
 *   - divisions, modulo, byte swaps and shifts by a register give unknown (size-bounded) scalars;
 *   - variable-offset stack accesses, BTF, kfuncs, callbacks, spin locks, timers, dynptrs, socket
 *     references and ring buffer reservations are refused with a message saying this verifier
 *     does not support them.
 * The real kernel's verdict on the same program can be compared with nicsim_kern_kcheck().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kern_internal.h"

#define NREGS           11
#define REG_FP          10
#define MAX_STACK       NICSIM_MAX_BPF_STACK
#define MAX_LOOP_STATES 64
#define MAX_VAR_OFF     (1 << 29) /* BPF_MAX_VAR_OFF */

/* may_goto loops: iterations walked exactly before the loop's changed scalars are widened */
#define MAY_GOTO_EXACT_ITERATIONS 64
/* Besides the kernel's limit on processed instructions, a limit on the work spent on states:
 * every copy (a branch, a checkpoint), comparison and hash of a state costs its frame slots
 * (registers plus 8-byte stack slots). Programs with deep call chains and full stacks could
 * otherwise make each of the 1M instructions cost thousands of slots; realistic programs stay
 * far below. */
#define STATE_WORK_LIMIT (48ull << 20)

enum { STACK_INVALID = 0, STACK_MISC, STACK_SPILL, STACK_ZERO };

/* One call frame, allocated with its stack: `depth` bytes of slot types indexed from the frame
 * pointer down (byte k is at r10 - 1 - k) and a spilled register per 8-byte slot. */
struct frame {
    struct nicsim_reg_state regs[NREGS];
    int callsite;   /* instruction that called this frame, -1 for the main program */
    uint32_t depth; /* stack bytes allocated (multiple of 8) */
    struct nicsim_reg_state *spill; /* depth / 8 */
    uint8_t *stype;                 /* depth */
};

struct vstate {
    uint32_t nframes;
    struct frame *fr[NICSIM_MAX_CALL_FRAMES];
    struct vstate *parent; /* last checkpoint on this state's path */
    uint32_t branches;     /* unfinished paths through this state */
    uint32_t hit, miss;
    int insn_idx;
    uint64_t hash;           /* checkpoints: state_hash() at insn_idx */
    struct vstate *next_at;  /* explored states at the same instruction */
    uint32_t may_goto_depth; /* may_goto fall-throughs taken on this path */
};

struct pending {
    struct vstate *st;
    int insn_idx, prev_insn_idx;
};

struct venv {
    struct nicsim_verifier_env pub;
    struct nicsim_bpf_prog *prog;
    struct nicsim_kern *kern;
    struct nicsim_kern_prog_load_attr *attr;
    struct vlog *log;
    const struct nicsim_bpf_prog_offload_ops *ops; /* offloaded programs only */
    struct nicsim_insn *insns;
    uint32_t len;
    struct nicsim_insn_aux_data *aux;
    uint8_t *prune; /* prune point per instruction */
    uint16_t *live; /* registers live before each instruction (bit n: Rn) */
    struct vstate **explored;
    struct vstate *cur;
    struct vstate *new_checkpoint; /* made for the instruction being processed, if any */
    struct pending *stack;
    uint32_t n_stack, cap_stack;
    uint32_t insn_processed, jmps_processed, prev_jmps, prev_insns;
    uint64_t state_work; /* frame slots copied, compared or hashed (STATE_WORK_LIMIT) */
    uint32_t id_gen;
    int insn_idx, prev_insn_idx;
    int err_insn;
    bool allow_uninit_stack; /* root's rule: reading unwritten stack gives an unknown value */
    bool strict_align;       /* this access must be aligned whatever the pointer (atomics) */
    /* subprograms: starts sorted, [n_subprogs] = len */
    int *sub_start;
    uint32_t n_subprogs;
    uint32_t *sub_stack; /* deepest stack use seen per subprogram */
    uint8_t *sub_calls;  /* [i * n + j]: subprogram i has a call instruction to j */
};

static void verbose(struct venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verbose(struct venv *env, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog_vwrite(env->log, fmt, ap);
    va_end(ap);
}

void nicsim_verifier_log(struct nicsim_verifier_env *env, const char *fmt, ...)
{
    struct venv *v = env ? env->priv : NULL;
    va_list ap;

    if (!v)
        return;
    va_start(ap, fmt);
    vlog_vwrite(v->log, fmt, ap);
    va_end(ap);
}

const char *nicsim_reg_type_str(enum nicsim_reg_type type)
{
    static const char *const names[NICSIM_REG_TYPE__COUNT] = {
        [NICSIM_NOT_INIT] = "?",
        [NICSIM_SCALAR_VALUE] = "scalar",
        [NICSIM_PTR_TO_CTX] = "ctx",
        [NICSIM_CONST_PTR_TO_MAP] = "map_ptr",
        [NICSIM_PTR_TO_MAP_VALUE] = "map_value",
        [NICSIM_PTR_TO_MAP_VALUE_OR_NULL] = "map_value_or_null",
        [NICSIM_PTR_TO_STACK] = "fp",
        [NICSIM_PTR_TO_PACKET_META] = "pkt_meta",
        [NICSIM_PTR_TO_PACKET] = "pkt",
        [NICSIM_PTR_TO_PACKET_END] = "pkt_end",
    };

    return (unsigned)type < NICSIM_REG_TYPE__COUNT ? names[type] : "?";
}

static const char *const alu_str[16] = {"+=",  "-=", "*=", "/=", "|=",   "&=",     "<<=", ">>=",
                                        "neg", "%=", "^=", "=",  "s>>=", "endian", "?",   "?"};

/* ---------------------------------------------------------------------------------------------
 * States.
 */
static struct frame *frame_alloc(uint32_t depth)
{
    struct frame *f = calloc(1, sizeof(*f) + (depth / 8) * sizeof(struct nicsim_reg_state) + depth);

    if (!f)
        return NULL;
    f->depth = depth;
    f->spill = (struct nicsim_reg_state *)(f + 1);
    f->stype = (uint8_t *)(f->spill + depth / 8);
    return f;
}

static struct frame *frame_dup(const struct frame *src, uint32_t depth)
{
    struct frame *f = frame_alloc(depth > src->depth ? depth : src->depth);

    if (!f)
        return NULL;
    memcpy(f->regs, src->regs, sizeof(f->regs));
    f->callsite = src->callsite;
    memcpy(f->spill, src->spill, (src->depth / 8) * sizeof(*f->spill));
    memcpy(f->stype, src->stype, src->depth);
    return f;
}

static struct frame *frame_new(int callsite, uint32_t frameno)
{
    struct frame *f = frame_alloc(0);

    if (!f)
        return NULL;
    f->callsite = callsite;
    f->regs[REG_FP].type = NICSIM_PTR_TO_STACK;
    f->regs[REG_FP].frameno = (uint8_t)frameno;
    return f;
}

static void state_free(struct vstate *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nframes; i++)
        free(s->fr[i]);
    free(s);
}

static struct vstate *state_copy(const struct vstate *src)
{
    struct vstate *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->nframes = src->nframes;
    s->parent = src->parent;
    s->branches = src->branches;
    s->may_goto_depth = src->may_goto_depth;
    for (uint32_t i = 0; i < src->nframes; i++) {
        s->fr[i] = frame_dup(src->fr[i], 0);
        if (!s->fr[i]) {
            s->nframes = i;
            state_free(s);
            return NULL;
        }
    }
    return s;
}

static struct frame *cur_frame(struct venv *env)
{
    return env->cur->fr[env->cur->nframes - 1];
}
static struct nicsim_reg_state *cur_regs(struct venv *env)
{
    return cur_frame(env)->regs;
}

/* ---------------------------------------------------------------------------------------------
 * Value tracking (after kernel/bpf/tnum.c and the verifier's bounds): a scalar, or the variable
 * part of a pointer's offset, is described by unsigned and signed bounds and by its known bits,
 * a tnum: `m` has the unknown bits set, `v` the value of the known ones.
 */
struct tnum {
    uint64_t v, m;
};

static const struct tnum tnum_unknown = {0, ~0ull};

static struct tnum tnum_const(uint64_t v)
{
    return (struct tnum){v, 0};
}
static struct tnum tnum_of(const struct nicsim_reg_state *r)
{
    return (struct tnum){r->tn_value, r->tn_mask};
}

/* The smallest tnum holding every value of [min, max]. */
static struct tnum tnum_range(uint64_t min, uint64_t max)
{
    uint64_t chi = min ^ max, delta;
    int bits = chi ? 64 - __builtin_clzll(chi) : 0;

    if (bits > 63)
        return tnum_unknown;
    delta = (1ull << bits) - 1;
    return (struct tnum){min & ~delta, delta};
}

static struct tnum tnum_add(struct tnum a, struct tnum b)
{
    uint64_t sm = a.m + b.m, sv = a.v + b.v;
    uint64_t carries = (sm + sv) ^ sv, mu = carries | a.m | b.m;

    return (struct tnum){sv & ~mu, mu};
}

static struct tnum tnum_sub(struct tnum a, struct tnum b)
{
    uint64_t dv = a.v - b.v;
    uint64_t borrows = (dv + a.m) ^ (dv - b.m), mu = borrows | a.m | b.m;

    return (struct tnum){dv & ~mu, mu};
}

static struct tnum tnum_and(struct tnum a, struct tnum b)
{
    uint64_t v = a.v & b.v;

    return (struct tnum){v, (a.v | a.m) & (b.v | b.m) & ~v};
}

static struct tnum tnum_or(struct tnum a, struct tnum b)
{
    uint64_t v = a.v | b.v;

    return (struct tnum){v, (a.m | b.m) & ~v};
}

static struct tnum tnum_xor(struct tnum a, struct tnum b)
{
    uint64_t mu = a.m | b.m;

    return (struct tnum){(a.v ^ b.v) & ~mu, mu};
}

static struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
    uint64_t mu = a.m & b.m;

    return (struct tnum){(a.v | b.v) & ~mu, mu};
}

static struct tnum tnum_cast(struct tnum a, int bytes)
{
    uint64_t mask = bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;

    return (struct tnum){a.v & mask, a.m & mask};
}

/* tnum_is_aligned */
static bool tnum_aligned(struct tnum a, int size)
{
    return !((a.v | a.m) & (uint64_t)(size - 1));
}

/* tnum_strn as the running kernel prints it: a constant as a number, else (value; mask). */
static const char *tnum_str(struct tnum a, char *buf, size_t len)
{
    if (!a.m)
        snprintf(buf, len, "%llu", (unsigned long long)a.v);
    else
        snprintf(buf, len, "(0x%llx; 0x%llx)", (unsigned long long)a.v, (unsigned long long)a.m);
    return buf;
}

/* Every value `b` allows, `a` allows too. */
static bool tnum_in(struct tnum a, struct tnum b)
{
    if (b.m & ~a.m)
        return false;
    return a.v == (b.v & ~a.m);
}

static uint64_t umax64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}
static uint64_t umin64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static int64_t smax64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}
static int64_t smin64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void set_tnum(struct nicsim_reg_state *r, struct tnum t)
{
    r->tn_value = t.v;
    r->tn_mask = t.m;
}

static void bounds_unbounded(struct nicsim_reg_state *r)
{
    r->umin = 0;
    r->umax = UINT64_MAX;
    r->smin = INT64_MIN;
    r->smax = INT64_MAX;
}

/* The bounds of the low 32 bits (u32 / s32), as __update_reg32_bounds + __reg32_deduce_bounds
 * derive them: from the tnum's low half, from the 64-bit bounds when their upper halves agree,
 * each signedness from the other, and the bounds a 32-bit comparison stored (has32). An empty
 * range (umin > umax) means the state is impossible. */
struct bounds32 {
    uint32_t umin, umax;
    int32_t smin, smax;
};

/* Narrow b to [lo, hi] (unsigned / signed). */
static void b32_u(struct bounds32 *b, uint32_t lo, uint32_t hi)
{
    b->umin = lo > b->umin ? lo : b->umin;
    b->umax = hi < b->umax ? hi : b->umax;
}
static void b32_s(struct bounds32 *b, int32_t lo, int32_t hi)
{
    b->smin = lo > b->smin ? lo : b->smin;
    b->smax = hi < b->smax ? hi : b->smax;
}

static struct bounds32 reg_bounds32(const struct nicsim_reg_state *r)
{
    struct tnum lo = tnum_cast(tnum_of(r), 4);
    struct bounds32 b = {(uint32_t)lo.v, (uint32_t)(lo.v | lo.m),
                         (int32_t)(uint32_t)(lo.v | (lo.m & 0x80000000u)),
                         (int32_t)(uint32_t)(lo.v | (lo.m & 0x7fffffffu))};

    if (r->has32) {
        b32_u(&b, r->u32_min, r->u32_max);
        b32_s(&b, r->s32_min, r->s32_max);
    }
    if ((r->umin >> 32) == (r->umax >> 32)) {
        b32_u(&b, (uint32_t)r->umin, (uint32_t)r->umax);
        if ((int32_t)r->umin <= (int32_t)r->umax)
            b32_s(&b, (int32_t)r->umin, (int32_t)r->umax);
    }
    if (((uint64_t)r->smin >> 32) == ((uint64_t)r->smax >> 32)) {
        if ((uint32_t)r->smin <= (uint32_t)r->smax)
            b32_u(&b, (uint32_t)r->smin, (uint32_t)r->smax);
        if ((int32_t)r->smin <= (int32_t)r->smax)
            b32_s(&b, (int32_t)r->smin, (int32_t)r->smax);
    }
    if ((int32_t)b.umin <= (int32_t)b.umax)
        b32_s(&b, (int32_t)b.umin, (int32_t)b.umax);
    if ((uint32_t)b.smin <= (uint32_t)b.smax) {
        b32_u(&b, (uint32_t)b.smin, (uint32_t)b.smax);
    } else if (b.umax < (uint32_t)b.smin) { /* as in reg_bounds_sync, on 32 bits */
        b.smin = (int32_t)b.umin;
        b32_u(&b, 0, (uint32_t)b.smax);
    } else if ((uint32_t)b.smax < b.umin) {
        b.smax = (int32_t)b.umax;
        b32_u(&b, (uint32_t)b.smin, UINT32_MAX);
    }
    return b;
}

static bool bounds32_within(struct bounds32 old, struct bounds32 cur)
{
    return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin &&
           old.smax >= cur.smax;
}

/* __update_reg_bounds + __reg_deduce_bounds + __reg_deduce_mixed_bounds + __reg_bound_offset:
 * make the 64-bit bounds, the 32-bit ones and the tnum agree with each other. */
static void reg_bounds_sync(struct nicsim_reg_state *r)
{
    uint64_t sign = 1ull << 63, lo32 = 0xffffffffull;

    for (int pass = 0; pass < 2; pass++) {
        struct bounds32 b = reg_bounds32(r);

        if (b.umin <= b.umax && b.smin <= b.smax) {
            /* what the low half's bounds say of the 64-bit value */
            uint64_t nu_min = (r->umin & ~lo32) | b.umin, nu_max = (r->umax & ~lo32) | b.umax;
            int64_t ns_min = (int64_t)(((uint64_t)r->smin & ~lo32) | b.umin);
            int64_t ns_max = (int64_t)(((uint64_t)r->smax & ~lo32) | b.umax);
            struct tnum t = tnum_of(r), t32;

            r->umin = umax64(r->umin, nu_min);
            r->umax = umin64(r->umax, nu_max);
            r->smin = smax64(r->smin, ns_min);
            r->smax = smin64(r->smax, ns_max);
            if (b.smin >= 0 && r->smin >= INT32_MIN && r->smax <= INT32_MAX) {
                r->smin = smax64(r->smin, b.smin);
                r->smax = smin64(r->smax, b.smax);
            }
            t32 = tnum_intersect(tnum_cast(t, 4), tnum_range(b.umin, b.umax));
            set_tnum(r, (struct tnum){(t.v & ~lo32) | t32.v, (t.m & ~lo32) | t32.m});
            if (r->has32) {
                r->u32_min = b.umin;
                r->u32_max = b.umax;
                r->s32_min = b.smin;
                r->s32_max = b.smax;
            }
        }
        r->umin = umax64(r->umin, r->tn_value);
        r->umax = umin64(r->umax, r->tn_value | r->tn_mask);
        r->smin = smax64(r->smin, (int64_t)(r->tn_value | (r->tn_mask & sign)));
        r->smax = smin64(r->smax, (int64_t)(r->tn_value | (r->tn_mask & ~sign)));
        if ((uint64_t)r->smin <= (uint64_t)r->smax) { /* one sign: the same range unsigned */
            r->umin = umax64(r->umin, (uint64_t)r->smin);
            r->umax = umin64(r->umax, (uint64_t)r->smax);
        } else if (r->umax < (uint64_t)r->smin) {
            /* the signed range crosses zero, the unsigned one lies below its negative part:
             * only [0, smax] of it is possible */
            r->smin = (int64_t)r->umin;
            r->umax = umin64(r->umax, (uint64_t)r->smax);
        } else if ((uint64_t)r->smax < r->umin) { /* ... above its positive part */
            r->smax = (int64_t)r->umax;
            r->umin = umax64(r->umin, (uint64_t)r->smin);
        }
        if ((int64_t)r->umin <= (int64_t)r->umax) { /* does not cross the sign boundary */
            r->smin = smax64(r->smin, (int64_t)r->umin);
            r->smax = smin64(r->smax, (int64_t)r->umax);
        }
        if (r->umin <= r->umax)
            set_tnum(r, tnum_intersect(tnum_of(r), tnum_range(r->umin, r->umax)));
    }
    if (r->type == NICSIM_SCALAR_VALUE) {
        r->known = r->tn_mask == 0;
        r->value = r->known ? r->tn_value : 0;
    } else {
        r->var_off = !(r->tn_mask == 0 && r->tn_value == 0);
    }
}

/* The bounds describe at least one value (a branch refining them to nothing is dead). */
static bool reg_bounds_ok(const struct nicsim_reg_state *r)
{
    struct bounds32 b = reg_bounds32(r);

    return r->umin <= r->umax && r->smin <= r->smax && !(r->tn_value & r->tn_mask) &&
           r->tn_value <= r->umax && (r->tn_value | r->tn_mask) >= r->umin && b.umin <= b.umax &&
           b.smin <= b.smax;
}

static void mark_unknown(struct nicsim_reg_state *r)
{
    memset(r, 0, sizeof(*r));
    r->type = NICSIM_SCALAR_VALUE;
    bounds_unbounded(r);
    set_tnum(r, tnum_unknown);
}

static void mark_known(struct nicsim_reg_state *r, uint64_t v)
{
    memset(r, 0, sizeof(*r));
    r->type = NICSIM_SCALAR_VALUE;
    r->known = 1;
    r->value = v;
    r->umin = r->umax = v;
    r->smin = r->smax = (int64_t)v;
    set_tnum(r, tnum_const(v));
}

/* coerce_reg_to_size: the value zero-extended from its low `bytes` bytes. */
static void coerce_to_size(struct nicsim_reg_state *r, int bytes)
{
    uint64_t mask = bytes >= 8 ? UINT64_MAX : (1ull << (bytes * 8)) - 1;

    if (bytes >= 8)
        return;
    if (bytes < 4)
        r->has32 = 0; /* the low 32 bits change */
    if (bytes == 4) { /* what is known of the low half */
        struct bounds32 b = reg_bounds32(r);

        if (b.umin <= b.umax) {
            r->umin = b.umin;
            r->umax = b.umax;
        }
    }
    set_tnum(r, tnum_cast(tnum_of(r), bytes));
    if (r->umax > mask || r->umin > r->umax) {
        r->umin = 0;
        r->umax = mask;
    }
    r->smin = (int64_t)r->umin;
    r->smax = (int64_t)r->umax;
    reg_bounds_sync(r);
}

/* A scalar loaded with sign extension from `bytes` bytes. */
static void mark_unknown_sext(struct nicsim_reg_state *r, int bytes)
{
    mark_unknown(r);
    r->smin = -(int64_t)(1ull << (bytes * 8 - 1));
    r->smax = (int64_t)(1ull << (bytes * 8 - 1)) - 1;
    reg_bounds_sync(r);
}

/* The ranges of `old` hold those of `cur`. */
static bool range_within(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur)
{
    return old->umin <= cur->umin && old->umax >= cur->umax && old->smin <= cur->smin &&
           old->smax >= cur->smax;
}

static void mark_not_init(struct nicsim_reg_state *r)
{
    memset(r, 0, sizeof(*r));
}

static int is_pointer(const struct nicsim_reg_state *r)
{
    return r->type != NICSIM_NOT_INIT && r->type != NICSIM_SCALAR_VALUE;
}

static int is_pkt(const struct nicsim_reg_state *r)
{
    return r->type == NICSIM_PTR_TO_PACKET || r->type == NICSIM_PTR_TO_PACKET_META;
}

/* regsafe(): every behaviour possible from `cur` was possible from `old`, which was explored to
 * completion. idmap pairs the ids of maybe-null pointers. */
struct idmap {
    uint32_t old_id[64], cur_id[64];
    uint32_t n;
};

static int check_ids(struct idmap *m, uint32_t old_id, uint32_t cur_id)
{
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->old_id[i] == old_id)
            return m->cur_id[i] == cur_id;
        if (m->cur_id[i] == cur_id)
            return 0;
    }
    if (m->n >= 64)
        return 0;
    m->old_id[m->n] = old_id;
    m->cur_id[m->n++] = cur_id;
    return 1;
}

static bool regs_exact(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur,
                       struct idmap *m)
{
    if (old->type != cur->type || old->known != cur->known || old->var_off != cur->var_off ||
        old->off != cur->off || old->value != cur->value || old->map_ptr != cur->map_ptr ||
        old->frameno != cur->frameno || old->range != cur->range || old->umin != cur->umin ||
        old->umax != cur->umax || old->smin != cur->smin || old->smax != cur->smax ||
        old->tn_value != cur->tn_value || old->tn_mask != cur->tn_mask)
        return false;
    {
        struct bounds32 a = reg_bounds32(old), b = reg_bounds32(cur);

        if (memcmp(&a, &b, sizeof(a)))
            return false;
    }
    if (old->type == NICSIM_SCALAR_VALUE && !old->id && !cur->id)
        return true;
    return check_ids(m, old->id, cur->id);
}

static int regsafe(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur,
                   struct idmap *m, int exact)
{
    if (exact)
        return regs_exact(old, cur, m);
    /* Not read on any path from old: anything goes. */
    if (old->type == NICSIM_NOT_INIT)
        return 1;
    if (old->type != cur->type)
        return 0;
    switch (old->type) {
    case NICSIM_SCALAR_VALUE:
        /* a copy old's bounds were learnt through must still be a copy */
        if (old->id && (!cur->id || !check_ids(m, old->id, cur->id)))
            return 0;
        return range_within(old, cur) && tnum_in(tnum_of(old), tnum_of(cur)) &&
               bounds32_within(reg_bounds32(old), reg_bounds32(cur));
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        /* at least the range old had, from the same offset, with the same copies */
        if (old->range > cur->range || old->off != cur->off || !check_ids(m, old->id, cur->id))
            return 0;
        return range_within(old, cur) && tnum_in(tnum_of(old), tnum_of(cur));
    case NICSIM_PTR_TO_MAP_VALUE_OR_NULL:
        if (!check_ids(m, old->id, cur->id))
            return 0;
        /* fallthrough */
    default:
        if (old->map_ptr != cur->map_ptr || old->frameno != cur->frameno || old->off != cur->off)
            return 0;
        return range_within(old, cur) && tnum_in(tnum_of(old), tnum_of(cur));
    }
}

/* Slot types of stack bytes [k, k + 8) of a frame (depth is a multiple of 8), 0 (all
 * STACK_INVALID) beyond its depth. */
static uint64_t stype_word(const struct frame *f, uint32_t k)
{
    uint64_t w = 0;

    if (k < f->depth)
        memcpy(&w, &f->stype[k], sizeof(w));
    return w;
}

static int stacksafe(const struct frame *old, const struct frame *cur, struct idmap *m, int exact)
{
    uint32_t n = old->depth > cur->depth ? old->depth : cur->depth;

    for (uint32_t k0 = 0; k0 < n; k0 += 8) {
        uint64_t ow = stype_word(old, k0), cw = stype_word(cur, k0);

        /* The common cases 8 bytes at a time: nothing written in old, or the same slot types
         * (then only a spilled register needs a look). */
        if (!exact && !ow)
            continue;
        if (ow == cw) {
            if (ow && old->stype[k0 + 7] == STACK_SPILL &&
                !regsafe(&old->spill[k0 / 8], &cur->spill[k0 / 8], m, exact))
                return 0;
            continue;
        }
        if (exact)
            return 0;
        for (uint32_t k = k0; k < k0 + 8; k++) {
            uint8_t ot = k < old->depth ? old->stype[k] : STACK_INVALID;
            uint8_t ct = k < cur->depth ? cur->stype[k] : STACK_INVALID;

            if (ot == STACK_INVALID)
                continue;
            if (ot == STACK_MISC) {
                if (ct == STACK_MISC || ct == STACK_ZERO)
                    continue;
                if (ct == STACK_SPILL && cur->spill[k / 8].type == NICSIM_SCALAR_VALUE)
                    continue;
                return 0;
            }
            if (ot == STACK_ZERO) {
                if (ct == STACK_ZERO)
                    continue;
                if (ct == STACK_SPILL && cur->spill[k / 8].type == NICSIM_SCALAR_VALUE &&
                    cur->spill[k / 8].known && cur->spill[k / 8].value == 0)
                    continue;
                return 0;
            }
            /* spill */
            if (ct != STACK_SPILL)
                return 0;
            if (k % 8 == 7 && !regsafe(&old->spill[k / 8], &cur->spill[k / 8], m, 0))
                return 0;
        }
    }
    return 1;
}

/* Registers of frame `i` of a state at `idx` whose values may still be read: the top frame's
 * live registers at idx, a caller's callee-saved ones live where the call returns. */
static uint16_t frame_live(const struct venv *env, const struct vstate *st, uint32_t i, int idx)
{
    if (!env->live)
        return 0xffff;
    if (i + 1 == st->nframes)
        return env->live[idx];
    return env->live[st->fr[i + 1]->callsite + 1] & 0x7c0; /* R6..R10 */
}

static int states_equal(const struct venv *env, const struct vstate *old, const struct vstate *cur,
                        int idx, int exact)
{
    struct idmap m; /* only the first m.n pairs are read: no need to clear 512 bytes per call */

    m.n = 0;

    if (old->nframes != cur->nframes)
        return 0;
    for (uint32_t i = 0; i < old->nframes; i++)
        if (old->fr[i]->callsite != cur->fr[i]->callsite)
            return 0;
    for (uint32_t i = 0; i < old->nframes; i++) {
        uint16_t live = frame_live(env, old, i, idx);

        for (int r = 0; r < NREGS; r++)
            if ((live & (1u << r)) &&
                !regsafe(&old->fr[i]->regs[r], &cur->fr[i]->regs[r], &m, exact))
                return 0;
        if (!stacksafe(old->fr[i], cur->fr[i], &m, exact))
            return 0;
    }
    return 1;
}

/* Frame slots of a state: what copying, comparing or hashing it costs. */
static uint64_t state_slots(const struct vstate *st)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < st->nframes; i++)
        n += NREGS + st->fr[i]->depth / 8;
    return n;
}

/* Charge `slots` of state work; -E2BIG once over STATE_WORK_LIMIT. */
static int charge_state_work(struct venv *env, uint64_t slots)
{
    env->state_work += slots;
    if (env->state_work <= STATE_WORK_LIMIT)
        return 0;
    verbose(env,
            "BPF program is too complex: %llu verifier state slots copied or compared after %u "
            "insns (limit %llu)",
            (unsigned long long)env->state_work, env->insn_processed,
            (unsigned long long)STATE_WORK_LIMIT);
    return -E2BIG;
}

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t rotl64(uint64_t v, unsigned n)
{
    return v << n | v >> (64 - n);
}

/* Every field regs_exact() compares except the id (which it compares up to renaming), folded
 * without a dependency chain and mixed once: a filter, collisions only cost a full compare. */
static uint64_t reg_hash(uint64_t h, const struct nicsim_reg_state *r)
{
    uint64_t a = (uint64_t)r->type | (uint64_t)r->known << 8 | (uint64_t)r->var_off << 16 |
                 (uint64_t)r->frameno << 24 | (uint64_t)(uint32_t)r->off << 32;
    uint64_t b = r->value ^ rotl64((uint64_t)(uintptr_t)r->map_ptr, 17) ^
                 rotl64((uint64_t)(uint32_t)r->range, 41);
    uint64_t c = r->umin ^ rotl64(r->umax, 13) ^ rotl64((uint64_t)r->smin, 29) ^
                 rotl64((uint64_t)r->smax, 47);
    uint64_t d = r->tn_value ^ rotl64(r->tn_mask, 31);

    return hash_mix(h, a + rotl64(b, 7) + rotl64(c, 23) + rotl64(d, 37));
}

/* A hash of what states_equal(exact) compares at `idx`: two states it finds equal hash the same,
 * so the infinite-loop check compares in full only states whose hashes match (the kernel filters
 * with states_maybe_looping for the same reason). Unwritten stack bytes are left out, as the
 * comparison treats them like bytes beyond the frame's depth. */
static uint64_t state_hash(const struct venv *env, const struct vstate *st, int idx)
{
    uint64_t h = hash_mix(0, st->nframes);

    for (uint32_t i = 0; i < st->nframes; i++) {
        const struct frame *f = st->fr[i];
        uint16_t live = frame_live(env, st, i, idx);

        h = hash_mix(h, (uint64_t)(uint32_t)f->callsite);
        for (int r = 0; r < NREGS; r++)
            if (live & (1u << r))
                h = reg_hash(h, &f->regs[r]);
        /* 8 slot types at a time (depth is a multiple of 8, STACK_INVALID is 0) */
        for (uint32_t k = 0; k < f->depth; k += 8) {
            uint64_t types;

            memcpy(&types, &f->stype[k], sizeof(types));
            if (!types)
                continue;
            h = hash_mix(h, hash_mix(k, types));
            if (f->stype[k + 7] == STACK_SPILL)
                h = reg_hash(h, &f->spill[k / 8]);
        }
    }
    return h;
}

/* A path ended: the states on it have one unfinished path less. */
static void update_branch_counts(struct vstate *st)
{
    while (st) {
        if (st->branches)
            st->branches--;
        if (st->branches)
            break;
        st = st->parent;
    }
}

static int push_stack(struct venv *env, int insn_idx, int prev_insn_idx)
{
    struct vstate *st;

    if (env->n_stack >= NICSIM_COMPLEXITY_LIMIT_JMP_SEQ) {
        verbose(env, "The sequence of %d jumps is too complex.", env->n_stack);
        return -E2BIG;
    }
    if (env->n_stack == env->cap_stack) {
        uint32_t cap = env->cap_stack ? env->cap_stack * 2 : 32;
        struct pending *ns = realloc(env->stack, cap * sizeof(*ns));

        if (!ns)
            return -ENOMEM;
        env->stack = ns;
        env->cap_stack = cap;
    }
    if (charge_state_work(env, state_slots(env->cur)))
        return -E2BIG;
    st = state_copy(env->cur);
    if (!st)
        return -ENOMEM;
    st->branches = 1;
    if (st->parent)
        st->parent->branches++;
    env->stack[env->n_stack++] = (struct pending){st, insn_idx, prev_insn_idx};
    return 0;
}

/* is_state_visited: 1 = prune (an equivalent state was explored), 0 = go on, <0 error. */
/* same_callsites: the two states are in the same function reached through the same calls. */
static bool same_callsites(const struct vstate *a, const struct vstate *b)
{
    if (a->nframes != b->nframes)
        return false;
    for (uint32_t i = 0; i < a->nframes; i++)
        if (a->fr[i]->callsite != b->fr[i]->callsite)
            return false;
    return true;
}

static int is_state_visited(struct venv *env, int idx)
{
    struct vstate **pp = &env->explored[idx];
    struct vstate *cur = env->cur, *n;
    uint64_t slots = state_slots(cur), hash = 0;
    uint32_t in_progress = 0;
    bool hashed = false, may_goto = env->insns[idx].code == OP_MAY_GOTO;
    int add;

    while (*pp) {
        struct vstate *sl = *pp;

        if (sl->branches) {
            in_progress++;
            /* may_goto: the loop came back to a state within one of an earlier iteration
             * (another depth): what follows is explored from there */
            if (may_goto && sl->may_goto_depth != cur->may_goto_depth && same_callsites(sl, cur)) {
                if (charge_state_work(env, slots))
                    return -E2BIG;
                if (states_equal(env, sl, cur, idx, 0)) {
                    sl->hit++;
                    return 1;
                }
            }
            if (!hashed) {
                if (charge_state_work(env, slots))
                    return -E2BIG;
                hash = state_hash(env, cur, idx);
                hashed = true;
            }
            if (sl->hash == hash && sl->may_goto_depth == cur->may_goto_depth &&
                states_equal(env, sl, cur, idx, 1)) {
                verbose(env, "infinite loop detected at insn %d", idx);
                return -EINVAL;
            }
            pp = &sl->next_at;
            continue;
        }
        if (charge_state_work(env, slots > state_slots(sl) ? slots : state_slots(sl)))
            return -E2BIG;
        if (states_equal(env, sl, cur, idx, 0)) {
            sl->hit++;
            return 1;
        }
        sl->miss++;
        /* Forget states that rarely help (the kernel's heuristic). */
        if (sl->miss > sl->hit * 3 + 3) {
            *pp = sl->next_at;
            state_free(sl); /* fully explored: no unfinished path refers to it */
            continue;
        }
        pp = &sl->next_at;
    }
    /* A loop going round with a different state each time (a counter): past MAX_LOOP_STATES
     * checkpoints at one instruction no more are kept, so each visit costs a bounded scan; the
     * loop is then bounded by the complexity limit alone. */
    add = may_goto || /* mark_force_checkpoint: a widened iteration must become one */
          (env->jmps_processed - env->prev_jmps >= 2 &&
           env->insn_processed - env->prev_insns >= 8 && in_progress < MAX_LOOP_STATES);
    if (!add)
        return 0;
    if (charge_state_work(env, hashed ? slots : 2 * slots))
        return -E2BIG;
    env->prev_jmps = env->jmps_processed;
    env->prev_insns = env->insn_processed;
    n = state_copy(cur);
    if (!n)
        return -ENOMEM;
    n->insn_idx = idx;
    n->hash = hashed ? hash : state_hash(env, cur, idx);
    n->branches = 1;
    n->parent = cur->parent;
    cur->parent = n;
    n->next_at = env->explored[idx];
    env->explored[idx] = n;
    env->new_checkpoint = n;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Structural checks.
 */
/* bpf_opcode_in_insntable */
static int opcode_valid(uint8_t code)
{
    uint8_t cls = insn_class(code), op = insn_op(code), mode = insn_mode(code);

    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        if (op == BPF_NEG)
            return !insn_src(code);
        if (op == BPF_END)
            return cls == BPF_ALU || !insn_src(code);
        return op <= BPF_END;
    case BPF_JMP:
    case BPF_JMP32:
        if (op == BPF_JA)
            return !insn_src(code);
        if (op == BPF_CALL || op == BPF_EXIT)
            return cls == BPF_JMP && (op == BPF_CALL || !insn_src(code));
        if (op == BPF_JCOND)
            return code == OP_MAY_GOTO;
        return op <= BPF_JSLE;
    case BPF_LD:
        if (code == OP_LDDW)
            return 1;
        return (mode == BPF_ABS || mode == BPF_IND) && insn_size(code) != BPF_DW;
    case BPF_LDX:
        return mode == BPF_MEM || (mode == BPF_MEMSX && insn_size(code) != BPF_DW);
    case BPF_ST:
        return mode == BPF_MEM;
    case BPF_STX:
        return mode == BPF_MEM ||
               (mode == BPF_ATOMIC && (insn_size(code) == BPF_W || insn_size(code) == BPF_DW));
    default:
        return 0;
    }
}

static int find_subprog(const struct venv *env, int off)
{
    for (uint32_t i = 0; i < env->n_subprogs; i++)
        if (env->sub_start[i] == off)
            return (int)i;
    return -1;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* add_subprog_and_kfunc + check_subprogs */
static int check_subprogs(struct venv *env)
{
    int n = 1;

    env->sub_start = malloc((env->len + 1) * sizeof(int));
    if (!env->sub_start)
        return -ENOMEM;
    env->sub_start[0] = 0;
    for (uint32_t i = 0; i < env->len; i++) {
        const struct nicsim_insn *in = &env->insns[i];
        int64_t t; /* imm is any 32-bit value: no int arithmetic before the range check */
        int dup = 0;

        if (in->code == OP_LDDW) {
            i++;
            continue;
        }
        if (in->code != OP_CALL || in->src != PSEUDO_CALL)
            continue;
        t = (int64_t)i + in->imm + 1;
        if (t < 0 || t >= (int64_t)env->len) {
            env->err_insn = (int)i;
            verbose(env, "call to invalid destination");
            return -EINVAL;
        }
        for (int j = 0; j < n; j++)
            dup |= env->sub_start[j] == t;
        if (dup)
            continue;
        if (n >= NICSIM_MAX_SUBPROGS) {
            env->err_insn = (int)i;
            verbose(env, "too many subprograms");
            return -E2BIG;
        }
        env->sub_start[n++] = (int)t;
    }
    qsort(env->sub_start, (size_t)n, sizeof(int), cmp_int);
    env->n_subprogs = (uint32_t)n;
    env->sub_start[n] = (int)env->len;
    env->sub_stack = calloc((size_t)n, sizeof(uint32_t));
    env->sub_calls = calloc((size_t)n * (size_t)n, 1);
    if (!env->sub_stack || !env->sub_calls)
        return -ENOMEM;

    for (int s = 0; s < n; s++) {
        int start = env->sub_start[s], end = env->sub_start[s + 1];
        const struct nicsim_insn *last;

        for (int i = start; i < end; i++) {
            const struct nicsim_insn *in = &env->insns[i];
            uint8_t cls = insn_class(in->code), op = insn_op(in->code);
            int64_t t; /* as above: JA32's imm is any 32-bit value */

            if (in->code == OP_LDDW) {
                i++;
                continue;
            }
            if (cls != BPF_JMP && cls != BPF_JMP32)
                continue;
            if (in->code == OP_CALL && in->src == PSEUDO_CALL) {
                /* the call graph as check_max_stack_depth sees it: every call instruction,
                 * whether or not a path reaches it */
                int t = find_subprog(env, i + in->imm + 1);

                if (t >= 0)
                    env->sub_calls[(size_t)s * (size_t)n + (size_t)t] = 1;
            }
            if (op == BPF_CALL || op == BPF_EXIT)
                continue;
            t = (int64_t)i + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off) + 1;
            if (t < start || t >= end) {
                env->err_insn = i;
                verbose(env, "jump out of range from insn %d to %lld", i, (long long)t);
                return -EINVAL;
            }
        }
        last = &env->insns[end - 1];
        if (last->code != OP_EXIT && last->code != OP_JA && last->code != (BPF_JMP32 | BPF_JA)) {
            env->err_insn = end - 1;
            verbose(env, "last insn is not an exit or jmp");
            return -EINVAL;
        }
    }
    return 0;
}

static int add_used_map(struct venv *env, struct nicsim_bpf_map *map)
{
    struct nicsim_bpf_prog_aux *aux = env->prog->aux;
    struct nicsim_bpf_map **nm;

    for (uint32_t i = 0; i < aux->used_map_cnt; i++)
        if (aux->used_maps[i] == map)
            return (int)i;
    if (aux->used_map_cnt >= NICSIM_MAX_USED_MAPS) {
        verbose(env, "The total number of maps per program has reached the limit of %u",
                NICSIM_MAX_USED_MAPS);
        return -E2BIG;
    }
    nm = realloc(aux->used_maps, (aux->used_map_cnt + 1) * sizeof(*nm));
    if (!nm)
        return -ENOMEM;
    aux->used_maps = nm;
    nicsim_bpf_map_inc(map);
    nm[aux->used_map_cnt] = map;
    return (int)aux->used_map_cnt++;
}

/* check_map_prog_compatibility: bpf_offload_prog_map_match */
static int check_map_prog_compat(struct venv *env, struct nicsim_bpf_map *map)
{
    struct nicsim_bpf_prog *prog = env->prog;
    bool ok;

    if (!nicsim_bpf_map_is_offloaded(map) && !nicsim_bpf_prog_is_offloaded(prog))
        return 0;
    if (!nicsim_bpf_map_is_offloaded(map))
        ok = map->map_type == BPF_MAP_TYPE_PERF_EVENT_ARRAY; /* bpf_map_offload_neutral */
    else
        ok = map->netdev && nicsim_bpf_offload_dev_match(prog, map->netdev);
    if (!ok) {
        verbose(env, "offload device mismatch between prog and map");
        return -EINVAL;
    }
    return 0;
}

/* resolve_pseudo_ldimm64 (+ the opcode sanity check it does for every instruction). */
static int resolve_pseudo_ldimm64(struct venv *env)
{
    const struct nicsim_kern_prog_load_attr *a = env->attr;

    for (uint32_t i = 0; i < env->len; i++) {
        struct nicsim_insn *in = &env->insns[i];
        struct nicsim_bpf_map *map;
        int fd, idx, err;

        env->err_insn = (int)i;
        if (insn_class(in->code) == BPF_LDX &&
            ((insn_mode(in->code) != BPF_MEM && insn_mode(in->code) != BPF_MEMSX) || in->imm)) {
            verbose(env, "BPF_LDX uses reserved fields");
            return -EINVAL;
        }
        if (in->code != OP_LDDW) {
            if (!opcode_valid(in->code)) {
                verbose(env, "unknown opcode %02x", in->code);
                return -EINVAL;
            }
            continue;
        }
        if (i == env->len - 1 || in[1].code || in[1].dst || in[1].src || in[1].off) {
            verbose(env, "invalid bpf_ld_imm64 insn");
            return -EINVAL;
        }
        if (in->src == NICSIM_LDDW_IMM64) {
            i++;
            continue;
        }
        if (in->src == NICSIM_LDDW_BTF_ID || in->src == NICSIM_LDDW_FUNC) {
            verbose(env, "%s in ld_imm64 is not supported by the nicsim verifier",
                    in->src == NICSIM_LDDW_BTF_ID ? "BTF id" : "function pointer");
            return -EOPNOTSUPP;
        }
        switch (in->src) {
        case NICSIM_LDDW_MAP_VALUE:
        case NICSIM_LDDW_MAP_IDX_VALUE:
            break;
        case NICSIM_LDDW_MAP_FD:
        case NICSIM_LDDW_MAP_IDX:
            if (in[1].imm == 0)
                break;
            /* fallthrough */
        default:
            verbose(env, "unrecognized bpf_ld_imm64 insn");
            return -EINVAL;
        }
        if (in->src == NICSIM_LDDW_MAP_IDX || in->src == NICSIM_LDDW_MAP_IDX_VALUE) {
            if (!a->fd_array) {
                verbose(env, "fd_idx without fd_array is invalid");
                return -EPROTO;
            }
            if (in->imm < 0 || (uint32_t)in->imm >= a->fd_array_cnt)
                return -EFAULT;
            fd = a->fd_array[in->imm];
        } else {
            fd = in->imm;
        }
        map = kern_map_get(env->kern, fd);
        if (!map) {
            int e = errno;

            verbose(env, "fd %d is not pointing to valid bpf_map", fd);
            return -e;
        }
        err = check_map_prog_compat(env, map);
        if (err)
            return err;
        if (in->src == NICSIM_LDDW_MAP_VALUE || in->src == NICSIM_LDDW_MAP_IDX_VALUE) {
            uint32_t off = (uint32_t)in[1].imm;

            if (off >= (1u << 29)) {
                verbose(env, "direct value offset of %u is not allowed", off);
                return -EINVAL;
            }
            if (map->map_type != BPF_MAP_TYPE_ARRAY) {
                verbose(env, "no direct value access support for this map type");
                return -EINVAL;
            }
            if (map->max_entries != 1 || off >= map->value_size) {
                verbose(env, "invalid access to map value pointer, value_size=%u off=%u",
                        map->value_size, off);
                return map->max_entries != 1 ? -EOPNOTSUPP : -EINVAL;
            }
        }
        idx = add_used_map(env, map);
        if (idx < 0)
            return idx;
        /* Normalised form: an index into used_maps. */
        in->src = in->src == NICSIM_LDDW_MAP_VALUE || in->src == NICSIM_LDDW_MAP_IDX_VALUE
                      ? NICSIM_LDDW_MAP_IDX_VALUE
                      : NICSIM_LDDW_MAP_IDX;
        in->imm = idx;
        env->aux[i].map_index = idx;
        i++;
    }
    env->err_insn = -1;
    return 0;
}

/* check_cfg: DFS over the control-flow graph from instruction 0. */
static int push_edge(struct venv *env, int t, int w, uint8_t *state, int *work, int *n_work)
{
    if (w < 0 || w >= (int)env->len) {
        env->err_insn = t;
        verbose(env, "jump out of range from insn %d to %d", t, w);
        return -EINVAL;
    }
    if (state[w] == 2) {
        env->err_insn = t;
        verbose(env, "jump into the middle of ldimm64 insn %d", w - 1);
        return -EINVAL;
    }
    env->prune[w] = 1;
    if (!state[w]) {
        state[w] = 1;
        work[(*n_work)++] = w;
    }
    return 0;
}

static int check_cfg(struct venv *env)
{
    uint8_t *state = calloc(env->len, 1);
    int *work = malloc(env->len * sizeof(int));
    int n_work = 0, err = 0;

    if (!state || !work) {
        free(state);
        free(work);
        return -ENOMEM;
    }
    /* second halves of LDDW: never a target */
    for (uint32_t i = 0; i + 1 < env->len; i++) {
        if (env->insns[i].code == OP_LDDW) {
            state[i + 1] = 2;
            i++;
        }
    }
    state[0] = 1;
    work[n_work++] = 0;
    while (n_work && !err) {
        int t = work[--n_work];
        const struct nicsim_insn *in = &env->insns[t];
        uint8_t cls = insn_class(in->code), op = insn_op(in->code);

        if (in->code == OP_LDDW) {
            if (t + 2 >= (int)env->len) {
                env->err_insn = t;
                verbose(env, "jump out of range from insn %d to %d", t, t + 2);
                err = -EINVAL;
                break;
            }
            if (!state[t + 2]) {
                state[t + 2] = 1;
                work[n_work++] = t + 2;
            }
            continue;
        }
        if (cls != BPF_JMP && cls != BPF_JMP32) {
            if (t + 1 >= (int)env->len) {
                env->err_insn = t;
                verbose(env, "jump out of range from insn %d to %d", t, t + 1);
                err = -EINVAL;
            } else if (!state[t + 1]) {
                state[t + 1] = 1;
                work[n_work++] = t + 1;
            }
            continue;
        }
        if (op == BPF_EXIT)
            continue;
        if (op == BPF_CALL) {
            err = push_edge(env, t, t + 1, state, work, &n_work);
            if (!err && in->src == PSEUDO_CALL)
                err = push_edge(env, t, t + in->imm + 1, state, work, &n_work);
            continue;
        }
        if (op == BPF_JA) {
            err = push_edge(env, t, t + (cls == BPF_JMP32 ? in->imm : in->off) + 1, state, work,
                            &n_work);
            continue;
        }
        if (in->code == OP_MAY_GOTO)
            env->prune[t] = 1; /* mark_force_checkpoint */
        err = push_edge(env, t, t + 1, state, work, &n_work);
        if (!err)
            err = push_edge(env, t, t + in->off + 1, state, work, &n_work);
    }
    for (uint32_t i = 0; i < env->len && !err; i++) {
        if (state[i] == 2)
            continue;
        if (state[i] != 1) {
            env->err_insn = (int)i;
            verbose(env, "unreachable insn %u", i);
            err = -EINVAL;
        }
    }
    free(state);
    free(work);
    return err;
}

/* compute_live_registers: which registers each instruction may still read, on some path, before
 * they are written (a backward data flow to a fixed point). R10 is always live; a call reads
 * R1-R5 and writes R0-R5; an exit reads R0. */
static void insn_use_def(const struct nicsim_insn *in, uint16_t *use, uint16_t *def)
{
    uint8_t cls = insn_class(in->code), op = insn_op(in->code), mode = insn_mode(in->code);
    uint16_t d = (uint16_t)(1u << in->dst), sr = (uint16_t)(1u << in->src);

    *use = 1u << REG_FP;
    *def = 0;
    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        if (op != BPF_MOV)
            *use |= d;
        if (insn_src(in->code) == BPF_X && op != BPF_NEG && op != BPF_END)
            *use |= sr;
        *def = d;
        break;
    case BPF_LDX:
        *use |= sr;
        *def = d;
        break;
    case BPF_ST:
        *use |= d;
        break;
    case BPF_STX:
        *use |= d | sr;
        if (mode == BPF_ATOMIC && in->imm == BPF_CMPXCHG) {
            *use |= 1;
            *def = 1;
        } else if (mode == BPF_ATOMIC && (in->imm & BPF_FETCH)) {
            *def = sr;
        }
        break;
    case BPF_LD:
        *def = d;
        break;
    case BPF_JMP:
    case BPF_JMP32:
        if (op == BPF_CALL) {
            *use |= 0x3e;
            *def = 0x3f;
        } else if (op == BPF_EXIT) {
            *use |= 1;
        } else if (op != BPF_JA && op != BPF_JCOND) {
            *use |= d;
            if (insn_src(in->code) == BPF_X)
                *use |= sr;
        }
        break;
    default:
        break;
    }
}

static int compute_live_regs(struct venv *env)
{
    uint16_t *use = malloc(env->len * sizeof(uint16_t));
    uint16_t *def = malloc(env->len * sizeof(uint16_t));
    bool changed = true;

    env->live = calloc(env->len, sizeof(uint16_t));
    if (!use || !def || !env->live) {
        free(use);
        free(def);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < env->len; i++)
        insn_use_def(&env->insns[i], &use[i], &def[i]);
    while (changed) {
        changed = false;
        for (int i = (int)env->len - 1; i >= 0; i--) {
            const struct nicsim_insn *in = &env->insns[i];
            uint8_t cls = insn_class(in->code), op = insn_op(in->code);
            uint16_t out = 0, nl;
            int succ[2] = {-1, -1};

            if (i > 0 && env->insns[i - 1].code == OP_LDDW)
                continue; /* second half of an LDDW */
            if (in->code == OP_LDDW) {
                succ[0] = i + 2;
            } else if (cls != BPF_JMP && cls != BPF_JMP32) {
                succ[0] = i + 1;
            } else if (op == BPF_EXIT) {
                /* nothing */
            } else if (op == BPF_CALL) {
                succ[0] = i + 1;
            } else if (op == BPF_JA) {
                succ[0] = i + (cls == BPF_JMP32 ? in->imm : in->off) + 1;
            } else {
                succ[0] = i + 1;
                succ[1] = i + in->off + 1;
            }
            for (int k = 0; k < 2; k++)
                if (succ[k] >= 0 && succ[k] < (int)env->len)
                    out |= env->live[succ[k]];
            nl = use[i] | (out & ~def[i]);
            if (nl != env->live[i]) {
                env->live[i] = nl;
                changed = true;
            }
        }
    }
    free(use);
    free(def);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Register and memory checks.
 */
static int check_reg_read(struct venv *env, int regno)
{
    if (regno >= NREGS) {
        verbose(env, "R%d is invalid", regno);
        return -EINVAL;
    }
    if (cur_regs(env)[regno].type == NICSIM_NOT_INIT) {
        verbose(env, "R%d !read_ok", regno);
        return -EACCES;
    }
    return 0;
}

static int check_reg_write(struct venv *env, int regno)
{
    if (regno >= NREGS) {
        verbose(env, "R%d is invalid", regno);
        return -EINVAL;
    }
    if (regno == REG_FP) {
        verbose(env, "frame pointer is read only");
        return -EACCES;
    }
    return 0;
}

static int record_ptr_type(struct venv *env, uint8_t type)
{
    uint8_t *prev = &env->aux[env->insn_idx].ptr_type;

    if (*prev == NICSIM_NOT_INIT) {
        *prev = type;
        return 0;
    }
    if (*prev != type && (*prev == NICSIM_PTR_TO_CTX || type == NICSIM_PTR_TO_CTX)) {
        verbose(env, "same insn cannot be used with different pointers");
        return -EINVAL;
    }
    return 0;
}

/* Grow frame `frameno` of the current state to hold `-off` bytes; the frame may move. */
static struct frame *grow_stack(struct venv *env, uint32_t frameno, int off)
{
    struct frame *f = env->cur->fr[frameno], *nf;
    uint32_t need = ((uint32_t)(-off) + 7u) & ~7u;

    if (need <= f->depth)
        return f;
    nf = frame_dup(f, need);
    if (!nf)
        return NULL;
    free(f);
    env->cur->fr[frameno] = nf;
    return nf;
}

/* Which subprogram owns frame `frameno` of the current state. */
static uint32_t frame_subprog(struct venv *env, uint32_t frameno)
{
    if (frameno == 0)
        return 0;
    {
        const struct nicsim_insn *call = &env->insns[env->cur->fr[frameno]->callsite];
        int t = env->cur->fr[frameno]->callsite + call->imm + 1;
        int s = find_subprog(env, t);

        return s < 0 ? 0 : (uint32_t)s;
    }
}

static void note_stack_depth(struct venv *env, uint32_t frameno)
{
    uint32_t s = frame_subprog(env, frameno);
    uint32_t d = env->cur->fr[frameno]->depth;

    if (d > env->sub_stack[s])
        env->sub_stack[s] = d;
}

/* A stack access through `reg` at insn offset `off`: the frame and the offset from its r10. */
static int stack_access_off(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                            int off, int size, int is_write, const char *extra, int *out)
{
    int o = reg->off + off;

    if (reg->var_off) {
        verbose(env,
                "variable stack access var_off=(unknown) off=%d size=%d is not supported by "
                "the nicsim verifier",
                o, size);
        return -EACCES;
    }
    if (o < -MAX_STACK || o + size > 0 || size <= 0) {
        verbose(env, "invalid%s stack R%d off=%d size=%d", extra, regno, o, size);
        return -EACCES;
    }
    (void)is_write;
    *out = o;
    return 0;
}

/* check_ptr_alignment for the stack, before its bounds: always strict (spill tracking relies on
 * aligned accesses). */
static int check_stack_alignment(struct venv *env, const struct nicsim_reg_state *ptr, int off,
                                 int size)
{
    struct tnum t = tnum_add(tnum_of(ptr), tnum_const((uint64_t)(int64_t)(ptr->off + off)));
    char tn[48];

    if (size <= 1 || tnum_aligned(t, size))
        return 0;
    verbose(env, "misaligned stack access off %s+%d+%d size %d",
            tnum_str(tnum_of(ptr), tn, sizeof(tn)), ptr->off, off, size);
    return -EACCES;
}

static void stack_mark_write(struct frame *f, int o, int size, uint8_t type)
{
    for (int b = o; b < o + size; b++) {
        int k = -b - 1;
        int slot = k / 8;

        if (f->stype[slot * 8] == STACK_SPILL || f->stype[slot * 8 + 7] == STACK_SPILL)
            for (int j = 0; j < 8; j++)
                if (f->stype[slot * 8 + j] == STACK_SPILL)
                    f->stype[slot * 8 + j] = STACK_MISC;
        f->stype[k] = type;
    }
}

/* get_reg_width: the bits a scalar's largest unsigned value needs. */
static int reg_width(const struct nicsim_reg_state *r)
{
    return r->umax ? 64 - __builtin_clzll(r->umax) : 0;
}

/* assign_scalar_id_before_mov: an unknown scalar gets an id before it is copied, so that the
 * copy and the original learn together. */
static void assign_scalar_id(struct venv *env, struct nicsim_reg_state *r)
{
    if (r->type == NICSIM_SCALAR_VALUE && !r->id && r->tn_mask)
        r->id = ++env->id_gen;
}

/* Bytes of slot `slot` (nicsim index j = 7 is the slot's lowest address, as the kernel's
 * slot_type[7]) not covered by a spill of `size` bytes: mark_stack_slot_misc. */
static void slot_rest_misc(struct venv *env, struct frame *f, int slot, int size)
{
    for (int j = 0; j < 8 - size; j++) {
        uint8_t *t = &f->stype[slot * 8 + j];

        if (*t == STACK_ZERO || (*t == STACK_INVALID && env->allow_uninit_stack))
            continue;
        *t = STACK_MISC;
    }
}

/* check_stack_write_fixed_off. A scalar (or an immediate) stored at the start of an 8-byte slot
 * is a spill of `size` bytes, keeping its bounds and its link (id) with the register when its
 * value fits (the register gets an id first); pointers spill only whole. */
static int check_stack_write(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                             int off, int size, const struct nicsim_reg_state *val, int imm_is_zero,
                             int64_t imm)
{
    struct nicsim_reg_state v, fake;
    struct frame *f;
    int o, err;

    err = check_stack_alignment(env, ptr, off, size);
    if (!err)
        err = stack_access_off(env, regno, ptr, off, size, 1, " write to", &o);
    if (err)
        return err;
    if (val) {
        v = *val; /* the frame holding it may move */
        val = &v;
    }
    f = grow_stack(env, ptr->frameno, o);
    if (!f)
        return -ENOMEM;
    note_stack_depth(env, ptr->frameno);
    if (o % 8 == 0 && (!val || val->type == NICSIM_SCALAR_VALUE || size == 8)) {
        int slot = (-o - 8) / 8;

        if (val && is_pointer(val) && size != 8) {
            verbose(env, "invalid size of register spill");
            return -EACCES;
        }
        if (!val) {
            mark_known(&fake, (uint64_t)imm);
            val = &fake;
        }
        f->spill[slot] = *val;
        if (val->type == NICSIM_SCALAR_VALUE && reg_width(val) > size * 8)
            f->spill[slot].id = 0; /* a narrowing spill: no longer the same value */
        for (int j = 8 - size; j < 8; j++)
            f->stype[slot * 8 + j] = STACK_SPILL;
        slot_rest_misc(env, f, slot, size);
        return 0;
    }
    if (val && is_pointer(val)) {
        verbose(env, "invalid size of register spill");
        return -EACCES;
    }
    if (val)
        stack_mark_write(f, o, size, val->known && val->value == 0 ? STACK_ZERO : STACK_MISC);
    else
        stack_mark_write(f, o, size, imm_is_zero ? STACK_ZERO : STACK_MISC);
    return 0;
}

/* check_stack_read_fixed_off. */
static int check_stack_read(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                            int off, int size, struct nicsim_reg_state *dst)
{
    struct frame *f = env->cur->fr[ptr->frameno];
    int o, err, zero_cnt = 0, spill_cnt = 0, slot;
    bool spilled;

    err = check_stack_alignment(env, ptr, off, size);
    if (!err)
        err = stack_access_off(env, regno, ptr, off, size, 0, " read from", &o);
    if (err)
        return err;
    slot = (-o - 1) / 8; /* an aligned access stays within one slot */
    spilled = (uint32_t)(slot * 8 + 8) <= f->depth && f->stype[slot * 8 + 7] == STACK_SPILL;
    if (spilled) {
        struct nicsim_reg_state *sp = &f->spill[slot];
        int spill_size = 1;

        while (spill_size < 8 && f->stype[slot * 8 + 7 - spill_size] == STACK_SPILL)
            spill_size++;
        if (size == 8 && spill_size == 8) {
            if (dst)
                *dst = *sp;
            return 0;
        }
        if (sp->type != NICSIM_SCALAR_VALUE) {
            verbose(env, "invalid size of register fill");
            return -EACCES;
        }
        if (!dst)
            return 0;
        if (size <= spill_size && o % 8 == 0) {
            /* the low bytes of the spilled value (the caller truncates it to `size`) */
            if (size == 4 && spill_size == 4 && reg_width(sp) <= 32)
                assign_scalar_id(env, sp);
            *dst = *sp;
            if (reg_width(sp) > size * 8)
                dst->id = 0; /* a narrowing fill */
            return 0;
        }
    }
    for (int i = 0; i < size; i++) {
        int k = -(o + i) - 1;
        uint8_t t = (uint32_t)k < f->depth ? f->stype[k] : STACK_INVALID;

        if (t == STACK_SPILL) {
            spill_cnt++;
        } else if (t == STACK_ZERO) {
            zero_cnt++;
        } else if (t == STACK_INVALID && !env->allow_uninit_stack) {
            verbose(env, "invalid read from stack off %d+%d size %d", o, i, size);
            return -EACCES;
        }
    }
    if (!dst)
        return 0;
    if ((spilled && spill_cnt == size && f->spill[slot].tn_mask == 0 &&
         f->spill[slot].tn_value == 0) ||
        zero_cnt == size)
        mark_known(dst, 0);
    else
        mark_unknown(dst);
    return 0;
}

/* xdp_is_valid_access: struct xdp_md is data, data_end, data_meta, ingress_ifindex,
 * rx_queue_index, egress_ifindex (6 x u32). */
static int check_ctx_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                            int off, int size, int is_write, struct nicsim_reg_state *dst)
{
    int ok;

    /* __check_ptr_off_reg, in its order */
    if (reg->off < 0) {
        verbose(env, "negative offset ctx ptr R%d off=%d disallowed", regno, reg->off);
        return -EACCES;
    }
    if (reg->off) {
        verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed", regno, reg->off);
        return -EACCES;
    }
    if (reg->var_off) {
        char tn[48];

        verbose(env, "variable ctx access var_off=%s disallowed",
                tnum_str(tnum_of(reg), tn, sizeof(tn)));
        return -EACCES;
    }
    ok = off >= 0 && off < 24 && size == 4 && off % size == 0;
    if (off == 20 && env->prog->expected_attach_type != BPF_XDP_DEVMAP)
        ok = 0;
    if (is_write && !(nicsim_bpf_prog_is_offloaded(env->prog) && off == 16))
        ok = 0;
    if (!ok) {
        verbose(env, "invalid bpf_context access off=%d size=%d", off, size);
        return -EACCES;
    }
    env->aux[env->insn_idx].ctx_field_size = (uint8_t)size;
    if (!dst)
        return 0;
    memset(dst, 0, sizeof(*dst));
    switch (off) {
    case 0:
        dst->type = NICSIM_PTR_TO_PACKET;
        break;
    case 4:
        dst->type = NICSIM_PTR_TO_PACKET_END;
        break;
    case 8:
        dst->type = NICSIM_PTR_TO_PACKET_META;
        break;
    default:
        mark_unknown(dst);
        break;
    }
    return 0;
}

/* bpf_map_flags_to_cap + check_map_access_type: a program may not read a map created with
 * BPF_F_WRONLY_PROG nor write one created with BPF_F_RDONLY_PROG. `off` includes reg->off. */
static int check_map_access_type(struct venv *env, const struct nicsim_bpf_map *map, long off,
                                 int size, int is_write)
{
    if (is_write && (map->map_flags & BPF_F_RDONLY_PROG)) {
        verbose(env, "write into map forbidden, value_size=%u off=%ld size=%d", map->value_size,
                off, size);
        return -EACCES;
    }
    if (!is_write && (map->map_flags & BPF_F_WRONLY_PROG) &&
        !(map->map_flags & BPF_F_RDONLY_PROG)) {
        verbose(env, "read from map forbidden, value_size=%u off=%ld size=%d", map->value_size, off,
                size);
        return -EACCES;
    }
    return 0;
}

/* __check_mem_access for a map value. */
static int map_value_range_ok(struct venv *env, int off, int size, uint32_t value_size, int zero_ok)
{
    bool size_ok = size > 0 || (size == 0 && zero_ok);

    if (off >= 0 && size_ok && (uint64_t)off + (uint64_t)size <= value_size)
        return 0;
    verbose(env, "invalid access to map value, value_size=%u off=%d size=%d", value_size, off,
            size);
    return -EACCES;
}

/* check_map_access_type + check_map_access (check_mem_region_access): the access at `off`
 * (the instruction's; the pointer's fixed offset is added here) of `size` bytes must lie within
 * the value for every value the pointer's variable offset may take: its smallest (smin) and its
 * largest (umax, which must be below BPF_MAX_VAR_OFF). A program the kernel refuses for its
 * map accesses is refused here, whatever the NIC checks at run time. */
static int check_map_value_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                  int off, int size, int is_write, int zero_ok)
{
    struct nicsim_bpf_map *map = reg->map_ptr;
    long o = (long)reg->off + off;
    int err;

    if (!map) {
        verbose(env, "R%d invalid map_ptr to access map value", regno);
        return -EACCES;
    }
    err = check_map_access_type(env, map, o, size, is_write);
    if (err)
        return err;
    if (reg->smin < 0 && (reg->smin == INT64_MIN || o + reg->smin != (int32_t)(o + reg->smin) ||
                          reg->smin + o < 0)) {
        verbose(env,
                "R%d min value is negative, either use unsigned index or do a if (index >=0) "
                "check.",
                regno);
        return -EACCES;
    }
    if (map_value_range_ok(env, (int)(reg->smin + o), size, map->value_size, zero_ok)) {
        verbose(env, "R%d min value is outside of the allowed memory range", regno);
        return -EACCES;
    }
    if (reg->umax >= MAX_VAR_OFF) {
        verbose(env, "R%d unbounded memory access, make sure to bounds check any such access",
                regno);
        return -EACCES;
    }
    if (map_value_range_ok(env, (int)(reg->umax + o), size, map->value_size, zero_ok)) {
        verbose(env, "R%d max value is outside of the allowed memory range", regno);
        return -EACCES;
    }
    return 0;
}

/* Reading struct bpf_map through a map pointer (check_ptr_to_map_access + btf_struct_access),
 * as the running kernel (6.18, x86-64) lays it out: the fields up to `id`. Scalars read as
 * unknown numbers (the NIC gets the map's actual value, nicsim_bpf_map_field); pointer members
 * would be PTR_TO_BTF_ID, which this verifier does not model. */
struct map_member {
    const char *name;
    int off, size;
    bool ptr;
};
static const struct map_member map_members[] = {
    {"sha", 0, 32, false},           {"excl", 32, 4, false},       {"ops", 40, 8, true},
    {"inner_map_meta", 48, 8, true}, {"security", 56, 8, true},    {"map_type", 64, 4, false},
    {"key_size", 68, 4, false},      {"value_size", 72, 4, false}, {"max_entries", 76, 4, false},
    {"map_extra", 80, 8, false},     {"map_flags", 88, 4, false},  {"id", 92, 4, false},
};
#define MAP_MEMBERS_END 96

/* The BTF struct the kernel's map_btf_id names for a map type. */
static const char *map_btf_struct(uint32_t map_type)
{
    switch (map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
        return "bpf_array";
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        return "bpf_htab";
    case BPF_MAP_TYPE_LPM_TRIE:
        return "lpm_trie";
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
        return "bpf_dtab";
    case BPF_MAP_TYPE_RINGBUF:
        return "bpf_ringbuf_map";
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
        return "bpf_queue_stack";
    default:
        return "bpf_map";
    }
}

static int check_map_ptr_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                int off, int size, int is_write, struct nicsim_reg_state *dst)
{
    const char *tname = map_btf_struct(reg->map_ptr ? reg->map_ptr->map_type : 0);
    int o = reg->off + off;

    if (o < 0) {
        verbose(env, "R%d is %s invalid negative access: off=%d", regno, tname, o);
        return -EACCES;
    }
    if (is_write) {
        verbose(env, "only read from %s is supported", tname);
        return -EACCES;
    }
    if (o + size > MAP_MEMBERS_END) {
        verbose(env,
                "reading struct %s at off %d size %d (beyond struct bpf_map's id) is not "
                "supported by the nicsim verifier",
                tname, o, size);
        return -EOPNOTSUPP;
    }
    for (size_t i = 0; i < sizeof(map_members) / sizeof(map_members[0]); i++) {
        const struct map_member *m = &map_members[i];

        if (o < m->off || o >= m->off + m->size)
            continue;
        if (m->ptr && (o != m->off || size != m->size)) {
            verbose(env,
                    "cannot access ptr member %s with moff %d in struct bpf_map with off %d "
                    "size %d",
                    m->name, m->off, o, size);
            return -EACCES;
        }
        if (m->ptr) {
            verbose(env,
                    "reading pointer member %s of struct bpf_map (a BTF pointer) is not "
                    "supported by the nicsim verifier",
                    m->name);
            return -EOPNOTSUPP;
        }
        if (o + size > m->off + m->size) {
            verbose(env,
                    "access beyond the end of member %s (mend:%d) in struct bpf_map with off %d "
                    "size %d",
                    m->name, m->off + m->size, o, size);
            return -EACCES;
        }
        if (dst)
            mark_unknown(dst);
        return 0;
    }
    verbose(env, "struct bpf_map doesn't have field at offset %d", o);
    return -EINVAL;
}

int nicsim_bpf_map_field(const struct nicsim_bpf_map *map, int off, int size, uint64_t *val)
{
    uint8_t img[MAP_MEMBERS_END] = {0}; /* sha, excl, map_extra: 0 as a fresh kernel map has */
    uint64_t v = 0;

    if (!map || !val || off < 0 || size <= 0 || size > 8 || off + size > MAP_MEMBERS_END)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(map_members) / sizeof(map_members[0]); i++)
        if (map_members[i].ptr && off < map_members[i].off + map_members[i].size &&
            off + size > map_members[i].off)
            return -EINVAL;
    memcpy(img + 64, &map->map_type, 4);
    memcpy(img + 68, &map->key_size, 4);
    memcpy(img + 72, &map->value_size, 4);
    memcpy(img + 76, &map->max_entries, 4);
    memcpy(img + 88, &map->map_flags, 4);
    memcpy(img + 92, &map->id, 4);
    memcpy(&v, img + off, (size_t)size); /* little-endian */
    *val = v;
    return 0;
}

/* check_packet_access + __check_mem_access: `off` (the instruction's plus the pointer's fixed
 * offset) + size must lie within the range learnt for the pointer from comparisons with data_end
 * (data for pkt_meta); the range already covers the variable offset, which must not be negative. */
static int check_packet_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                               int off, int size, int zero_ok)
{
    if (reg->smin < 0) {
        verbose(env,
                "R%d min value is negative, either use unsigned index or do a if (index >=0) "
                "check.",
                regno);
        return -EACCES;
    }
    if (reg->range >= 0 && off >= 0 && (size > 0 || (size == 0 && zero_ok)) &&
        (int64_t)off + size <= reg->range)
        return 0;
    if (reg->range >= 0)
        verbose(env, "invalid access to packet, off=%d size=%d, R%d(id=%u,off=%d,r=%d)", off, size,
                regno, reg->id, off, reg->range);
    verbose(env, "R%d offset is outside of the packet", regno);
    return reg->range < 0 ? -EINVAL : -EACCES;
}

/* check_mem_access for LDX / ST / STX. val: the stored register (STX) or NULL (ST imm). */
static int check_mem_access(struct venv *env, int regno, int off, int size, int is_write,
                            const struct nicsim_reg_state *val, int64_t imm,
                            struct nicsim_reg_state *dst)
{
    struct nicsim_reg_state reg = cur_regs(env)[regno];
    int err;

    err = record_ptr_type(env, reg.type);
    if (err)
        return err;
    switch (reg.type) {
    case NICSIM_PTR_TO_STACK:
        if (is_write)
            return check_stack_write(env, regno, &reg, off, size, val, !val && imm == 0, imm);
        return check_stack_read(env, regno, &reg, off, size, dst);
    case NICSIM_PTR_TO_CTX:
        return check_ctx_access(env, regno, &reg, off, size, is_write, dst);
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        err = check_packet_access(env, regno, &reg, reg.off + off, size, 0);
        if (!err && dst)
            mark_unknown(dst);
        return err;
    case NICSIM_PTR_TO_MAP_VALUE:
        /* check_generic_ptr_alignment: strict for atomics (strict_alignment_once) */
        if (env->strict_align && size > 1 &&
            !tnum_aligned(tnum_add(tnum_of(&reg), tnum_const((uint64_t)(int64_t)(reg.off + off))),
                          size)) {
            char tn[48];

            verbose(env, "misaligned value access off %s+%d+%d size %d",
                    tnum_str(tnum_of(&reg), tn, sizeof(tn)), reg.off, off, size);
            return -EACCES;
        }
        err = check_map_value_access(env, regno, &reg, off, size, is_write, 0);
        if (!err && dst)
            mark_unknown(dst);
        return err;
    case NICSIM_CONST_PTR_TO_MAP:
        return check_map_ptr_access(env, regno, &reg, off, size, is_write, dst);
    default:
        verbose(env, "R%d invalid mem access '%s'", regno, nicsim_reg_type_str(reg.type));
        return -EACCES;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Instructions.
 */
static uint64_t alu_compute(uint8_t op, int is64, int is_signed, uint64_t a, uint64_t b)
{
    if (!is64) {
        uint32_t x = (uint32_t)a, y = (uint32_t)b, r;

        switch (op) {
        case BPF_ADD:
            r = x + y;
            break;
        case BPF_SUB:
            r = x - y;
            break;
        case BPF_MUL:
            r = x * y;
            break;
        case BPF_DIV:
            if (is_signed)
                r = !y ? 0
                    : ((int32_t)x == INT32_MIN && (int32_t)y == -1)
                        ? x
                        : (uint32_t)((int32_t)x / (int32_t)y);
            else
                r = y ? x / y : 0;
            break;
        case BPF_MOD:
            if (is_signed)
                r = !y ? x : ((int32_t)y == -1) ? 0 : (uint32_t)((int32_t)x % (int32_t)y);
            else
                r = y ? x % y : x;
            break;
        case BPF_OR:
            r = x | y;
            break;
        case BPF_AND:
            r = x & y;
            break;
        case BPF_XOR:
            r = x ^ y;
            break;
        case BPF_LSH:
            r = x << (y & 31);
            break;
        case BPF_RSH:
            r = x >> (y & 31);
            break;
        case BPF_ARSH:
            r = (uint32_t)((int32_t)x >> (y & 31));
            break;
        default:
            r = 0;
            break;
        }
        return r;
    }
    switch (op) {
    case BPF_ADD:
        return a + b;
    case BPF_SUB:
        return a - b;
    case BPF_MUL:
        return a * b;
    case BPF_DIV:
        if (is_signed)
            return !b ? 0
                   : ((int64_t)a == INT64_MIN && (int64_t)b == -1)
                       ? a
                       : (uint64_t)((int64_t)a / (int64_t)b);
        return b ? a / b : 0;
    case BPF_MOD:
        if (is_signed)
            return !b ? a : ((int64_t)b == -1) ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
        return b ? a % b : a;
    case BPF_OR:
        return a | b;
    case BPF_AND:
        return a & b;
    case BPF_XOR:
        return a ^ b;
    case BPF_LSH:
        return a << (b & 63);
    case BPF_RSH:
        return a >> (b & 63);
    case BPF_ARSH:
        return (uint64_t)((int64_t)a >> (b & 63));
    default:
        return 0;
    }
}

static uint64_t bswap(uint64_t v, int bits)
{
    uint64_t r = 0;

    for (int i = 0; i < bits / 8; i++)
        r = (r << 8) | ((v >> (8 * i)) & 0xff);
    return r;
}

#define MAX_PACKET_OFF 0xffff

/* scalar_min_max_{add,sub,and,or,xor,mul,lsh,rsh,arsh}: d = d op s on 64 bits, both scalars (or
 * the variable parts of pointers, for add and sub). Shifts need a constant amount below 64. */
static void scalar_op64(struct nicsim_reg_state *d, const struct nicsim_reg_state *s, uint8_t op)
{
    struct tnum a = tnum_of(d), b = tnum_of(s);
    uint64_t k = s->umin;
    int64_t lo, hi;

    d->has32 = 0; /* a new value: its low half's bounds follow from the rest */
    switch (op) {
    case BPF_ADD:
        if (__builtin_add_overflow(d->smin, s->smin, &lo) ||
            __builtin_add_overflow(d->smax, s->smax, &hi)) {
            lo = INT64_MIN;
            hi = INT64_MAX;
        }
        if (d->umin + s->umin < d->umin || d->umax + s->umax < d->umax) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin += s->umin;
            d->umax += s->umax;
        }
        d->smin = lo;
        d->smax = hi;
        set_tnum(d, tnum_add(a, b));
        break;
    case BPF_SUB:
        if (__builtin_sub_overflow(d->smin, s->smax, &lo) ||
            __builtin_sub_overflow(d->smax, s->smin, &hi)) {
            lo = INT64_MIN;
            hi = INT64_MAX;
        }
        if (d->umin < s->umax) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin -= s->umax;
            d->umax -= s->umin;
        }
        d->smin = lo;
        d->smax = hi;
        set_tnum(d, tnum_sub(a, b));
        break;
    case BPF_MUL:
        if (d->smin < 0 || s->smin < 0 || d->umax > UINT32_MAX || s->umax > UINT32_MAX) {
            bounds_unbounded(d);
            set_tnum(d, tnum_unknown);
            break;
        }
        d->umin *= s->umin;
        d->umax *= s->umax;
        d->smin = (int64_t)d->umin;
        d->smax = (int64_t)d->umax;
        set_tnum(d, tnum_range(d->umin, d->umax));
        break;
    case BPF_AND:
        set_tnum(d, tnum_and(a, b));
        d->umax = umin64(d->umax, s->umax);
        d->umin = d->tn_value;
        goto sign_from_unsigned;
    case BPF_OR:
        set_tnum(d, tnum_or(a, b));
        d->umin = umax64(d->umin, s->umin);
        d->umax = d->tn_value | d->tn_mask;
        goto sign_from_unsigned;
    case BPF_XOR:
        set_tnum(d, tnum_xor(a, b));
        d->umin = d->tn_value;
        d->umax = d->tn_value | d->tn_mask;
    sign_from_unsigned:
        if (d->smin < 0 || s->smin < 0) {
            d->smin = INT64_MIN;
            d->smax = INT64_MAX;
        } else {
            d->smin = (int64_t)d->umin;
            d->smax = (int64_t)d->umax;
        }
        break;
    case BPF_LSH:
        if (k && d->umax >> (64 - k)) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin <<= k;
            d->umax <<= k;
        }
        d->smin = INT64_MIN;
        d->smax = INT64_MAX;
        set_tnum(d, (struct tnum){a.v << k, a.m << k});
        break;
    case BPF_RSH:
        d->umin >>= k;
        d->umax >>= k;
        d->smin = INT64_MIN;
        d->smax = INT64_MAX;
        set_tnum(d, (struct tnum){a.v >> k, a.m >> k});
        break;
    case BPF_ARSH:
        d->smin >>= k;
        d->smax >>= k;
        d->umin = 0;
        d->umax = UINT64_MAX;
        set_tnum(d, (struct tnum){(uint64_t)((int64_t)a.v >> k), (uint64_t)((int64_t)a.m >> k)});
        break;
    default:
        bounds_unbounded(d);
        set_tnum(d, tnum_unknown);
        break;
    }
    reg_bounds_sync(d);
}

/* adjust_scalar_min_max_vals: both operands scalars, not both constants. */
static void scalar_alu(struct nicsim_reg_state *d, const struct nicsim_reg_state *src, uint8_t op,
                       int is64)
{
    struct nicsim_reg_state s = *src;
    int bits = is64 ? 64 : 32;
    bool shift = op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;

    d->id = 0;
    if (!is64) {
        coerce_to_size(d, 4);
        coerce_to_size(&s, 4);
    }
    if ((op == BPF_AND || op == BPF_MUL) &&
        ((s.known && s.value == 0) || (d->known && !d->value))) {
        mark_known(d, 0);
        return;
    }
    if ((shift && !(s.known && s.value < (uint64_t)bits)) || (!is64 && op == BPF_ARSH) ||
        (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL && op != BPF_AND && op != BPF_OR &&
         op != BPF_XOR && !shift)) {
        mark_unknown(d);
    } else {
        scalar_op64(d, &s, op);
    }
    if (!is64)
        coerce_to_size(d, 4);
}

/* check_reg_sane_offset: what may be added to a pointer, and where it may end up. */
static bool reg_sane_offset(struct venv *env, const struct nicsim_reg_state *reg, uint8_t type)
{
    const char *t = nicsim_reg_type_str(type);
    int64_t val = (int64_t)reg->tn_value;

    if (!reg->tn_mask && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF)) {
        verbose(env, "math between %s pointer and %lld is not allowed", t, (long long)val);
        return false;
    }
    if (reg->off >= MAX_VAR_OFF || reg->off <= -MAX_VAR_OFF) {
        verbose(env, "%s pointer offset %d is not allowed", t, reg->off);
        return false;
    }
    if (reg->smin == INT64_MIN) {
        verbose(env, "math between %s pointer and register with unbounded min value is not allowed",
                t);
        return false;
    }
    if (reg->smin >= MAX_VAR_OFF || reg->smin <= -MAX_VAR_OFF) {
        verbose(env, "value %lld makes %s pointer be out of bounds", (long long)reg->smin, t);
        return false;
    }
    return true;
}

/* adjust_ptr_min_max_vals: ptr (dst side after swapping) op scalar. A constant goes into the
 * fixed offset (a packet pointer keeps its id and range); anything else into the variable part,
 * and a packet pointer gets a new id with nothing known to be in range. */
static int ptr_arith(struct venv *env, int dst_regno, struct nicsim_reg_state *ptr,
                     const struct nicsim_reg_state *scalar, uint8_t op, int is64)
{
    int64_t v = (int64_t)scalar->value, noff;

    if (!is64) {
        if (op == BPF_SUB) { /* allow_ptr_leaks: a meaningless number */
            mark_unknown(ptr);
            return 0;
        }
        verbose(env, "R%d 32-bit pointer arithmetic prohibited", dst_regno);
        return -EACCES;
    }
    if (ptr->type == NICSIM_PTR_TO_MAP_VALUE_OR_NULL) {
        verbose(env, "R%d pointer arithmetic on %s prohibited, null-check it first", dst_regno,
                nicsim_reg_type_str(ptr->type));
        return -EACCES;
    }
    if (ptr->type == NICSIM_PTR_TO_PACKET_END ||
        (ptr->type == NICSIM_CONST_PTR_TO_MAP &&
         !(scalar->known && scalar->value == 0 && op == BPF_ADD))) {
        verbose(env, "R%d pointer arithmetic on %s prohibited", dst_regno,
                nicsim_reg_type_str(ptr->type));
        return -EACCES;
    }
    if (!reg_sane_offset(env, scalar, ptr->type) || !reg_sane_offset(env, ptr, ptr->type))
        return -EINVAL;
    if (op == BPF_SUB && ptr->type == NICSIM_PTR_TO_STACK) {
        /* the kernel's rule (JITs may not cope with it): r10 copies only grow by additions */
        verbose(env, "R%d subtraction from stack pointer prohibited", dst_regno);
        return -EACCES;
    }
    if (op == BPF_AND || op == BPF_OR || op == BPF_XOR) {
        verbose(env, "R%d bitwise operator %s on pointer prohibited", dst_regno, alu_str[op >> 4]);
        return -EACCES;
    }
    if (op != BPF_ADD && op != BPF_SUB) {
        verbose(env, "R%d pointer arithmetic with %s operator prohibited", dst_regno,
                alu_str[op >> 4]);
        return -EACCES;
    }
    noff = op == BPF_ADD ? (int64_t)ptr->off + v : (int64_t)ptr->off - v;
    if (scalar->known && noff == (int64_t)(int32_t)noff) {
        ptr->off = (int32_t)noff;
    } else {
        scalar_op64(ptr, scalar, op);
        if (is_pkt(ptr)) {
            ptr->id = ++env->id_gen;
            if (op == BPF_ADD || scalar->smin < 0)
                ptr->range = 0;
        }
    }
    if (!reg_sane_offset(env, ptr, ptr->type))
        return -EINVAL;
    return 0;
}

static int do_alu(struct venv *env, const struct nicsim_insn *in)
{
    uint8_t op = insn_op(in->code);
    int is64 = insn_class(in->code) == BPF_ALU64, x = insn_src(in->code) == BPF_X;
    struct nicsim_reg_state *regs = cur_regs(env);
    struct nicsim_reg_state src, *dst;
    int err;

    if (op == BPF_NEG || op == BPF_END) {
        if (op == BPF_NEG && (x || in->src || in->off || in->imm)) {
            verbose(env, "BPF_NEG uses reserved fields");
            return -EINVAL;
        }
        if (op == BPF_END && (in->src || in->off ||
                              (in->imm != 16 && in->imm != 32 && in->imm != 64) || (is64 && x))) {
            verbose(env, "BPF_END uses reserved fields");
            return -EINVAL;
        }
        err = check_reg_read(env, in->dst);
        if (!err)
            err = check_reg_write(env, in->dst);
        if (err)
            return err;
        dst = &regs[in->dst];
        if (dst->type != NICSIM_SCALAR_VALUE || !dst->known) {
            int bits = op == BPF_END ? in->imm : 64;

            if (op == BPF_END && !is64 && !x && dst->type == NICSIM_SCALAR_VALUE) {
                dst->id = 0;
                coerce_to_size(dst, bits / 8); /* to little endian: a truncation here */
                return 0;
            }
            mark_unknown(dst);
            if (op == BPF_END)
                coerce_to_size(dst, bits / 8);
            else if (!is64)
                coerce_to_size(dst, 4);
            return 0;
        }
        if (op == BPF_NEG) {
            mark_known(dst,
                       is64 ? (uint64_t) - (int64_t)dst->value : (uint32_t) - (int32_t)dst->value);
        } else {
            uint64_t v = dst->value;
            int bits = in->imm;
            /* LE on a little-endian machine truncates, BE / BSWAP swap */
            if (!is64 && !x)
                v = bits == 64 ? v : v & ((1ull << bits) - 1);
            else
                v = bswap(v, bits);
            mark_known(dst, v);
        }
        return 0;
    }

    if (op == BPF_MOV) {
        if (x) {
            if (in->imm ||
                (in->off && !((is64 && (in->off == 8 || in->off == 16 || in->off == 32)) ||
                              (!is64 && (in->off == 8 || in->off == 16))))) {
                verbose(env, "BPF_MOV uses reserved fields");
                return -EINVAL;
            }
            err = check_reg_read(env, in->src);
            if (err)
                return err;
        } else if (in->src || in->off) {
            verbose(env, "BPF_MOV uses reserved fields");
            return -EINVAL;
        }
        err = check_reg_write(env, in->dst);
        if (err)
            return err;
        dst = &regs[in->dst];
        if (!x) {
            mark_known(dst, is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
            return 0;
        }
        if (is64 && !in->off) {
            /* a copy of an unknown scalar is linked to it: bounds learnt for one hold for both */
            if (regs[in->src].type == NICSIM_SCALAR_VALUE && !regs[in->src].known &&
                !regs[in->src].id)
                regs[in->src].id = ++env->id_gen;
            *dst = regs[in->src];
            return 0;
        }
        if (!is64 && !in->off && regs[in->src].type == NICSIM_SCALAR_VALUE &&
            !regs[in->src].known && reg_width(&regs[in->src]) <= 32) {
            /* w1 = w2 of a value below 2^32 is a copy: linked as a 64-bit move */
            assign_scalar_id(env, &regs[in->src]);
            *dst = regs[in->src];
            return 0;
        }
        src = regs[in->src];
        if (src.type != NICSIM_SCALAR_VALUE) {
            mark_unknown(dst); /* partial copy of a pointer: a number (root may) */
            if (!is64)
                coerce_to_size(dst, 4);
            return 0;
        }
        if (!src.known) {
            uint64_t half = in->off ? 1ull << (in->off - 1) : 0;

            src.id = 0;
            if (!in->off) {
                *dst = src;
            } else if (src.umax < half) {
                *dst = src; /* the sign bit is known clear: nothing changes */
            } else if (src.umin >= half && src.umax < 2 * half) {
                /* the sign bit is known set: every value moves down by 2 * half */
                mark_unknown(dst);
                dst->smin = (int64_t)src.umin - (int64_t)(2 * half);
                dst->smax = (int64_t)src.umax - (int64_t)(2 * half);
                reg_bounds_sync(dst);
            } else {
                mark_unknown_sext(dst, in->off / 8);
            }
            if (!is64)
                coerce_to_size(dst, 4);
            return 0;
        }
        {
            uint64_t v = src.value;

            if (in->off == 8)
                v = (uint64_t)(int64_t)(int8_t)v;
            else if (in->off == 16)
                v = (uint64_t)(int64_t)(int16_t)v;
            else if (in->off == 32)
                v = (uint64_t)(int64_t)(int32_t)v;
            mark_known(dst, is64 ? v : (uint32_t)v);
        }
        return 0;
    }

    if (op > BPF_END) {
        verbose(env, "invalid BPF_ALU opcode %x", op);
        return -EINVAL;
    }
    {
        int off_ok = !in->off || (in->off == 1 && (op == BPF_DIV || op == BPF_MOD));

        if ((x && (in->imm || !off_ok)) || (!x && (in->src || !off_ok))) {
            verbose(env, "BPF_ALU uses reserved fields");
            return -EINVAL;
        }
    }
    if (x) {
        err = check_reg_read(env, in->src);
        if (err)
            return err;
    }
    err = check_reg_read(env, in->dst);
    if (err)
        return err;
    if (!x && (op == BPF_DIV || op == BPF_MOD) && in->imm == 0) {
        verbose(env, "div by zero");
        return -EINVAL;
    }
    if (!x && (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
        (in->imm < 0 || in->imm >= (is64 ? 64 : 32))) {
        verbose(env, "invalid shift %d", in->imm);
        return -EINVAL;
    }
    err = check_reg_write(env, in->dst);
    if (err)
        return err;
    dst = &regs[in->dst];
    if (x)
        src = regs[in->src];
    else
        mark_known(&src, (uint64_t)(int64_t)in->imm);

    if (is_pointer(&src) && is_pointer(dst)) {
        if (op == BPF_SUB) {
            mark_unknown(dst); /* ptr - ptr: a number (allow_ptr_leaks) */
            return 0;
        }
        verbose(env, "R%d pointer %s pointer prohibited", in->dst, alu_str[op >> 4]);
        return -EACCES;
    }
    if (is_pointer(dst))
        return ptr_arith(env, in->dst, dst, &src, op, is64);
    if (is_pointer(&src)) {
        struct nicsim_reg_state p = src;

        if (!is64 && op == BPF_SUB) { /* allow_ptr_leaks: a meaningless number */
            mark_unknown(dst);
            return 0;
        }
        if (op == BPF_SUB) {
            verbose(env, "R%d tried to subtract pointer from scalar", in->dst);
            return -EACCES;
        }
        err = ptr_arith(env, in->dst, &p, dst, op, is64);
        if (!err)
            *dst = p;
        return err;
    }
    if (dst->known && src.known &&
        /* is_safe_to_compute_dst_reg_range: a shift by the width or more is unknown */
        !((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
          (is64 ? src.value : (uint32_t)src.value) >= (uint64_t)(is64 ? 64 : 32))) {
        uint64_t v = alu_compute(op, is64, in->off == 1, dst->value, src.value);

        mark_known(dst, is64 ? v : (uint32_t)v);
    } else {
        scalar_alu(dst, &src, op, is64);
    }
    return 0;
}

#define BEYOND_PKT_END (-1)
#define AT_PKT_END     (-2)
#define JSET_NOT       0xff /* the fall-through of JSET, for refinement */

/* is_pkt_ptr_branch_taken: a packet pointer known to be at or beyond data_end. */
static int pkt_ptr_branch_taken(const struct nicsim_reg_state *a, const struct nicsim_reg_state *b,
                                uint8_t op)
{
    const struct nicsim_reg_state *pkt;

    if (b->type == NICSIM_PTR_TO_PACKET_END) {
        pkt = a;
    } else if (a->type == NICSIM_PTR_TO_PACKET_END) {
        pkt = b;
        op = op == BPF_JGT   ? BPF_JLT
             : op == BPF_JLT ? BPF_JGT
             : op == BPF_JGE ? BPF_JLE
             : op == BPF_JLE ? BPF_JGE
                             : op;
    } else {
        return -1;
    }
    if (pkt->range >= 0)
        return -1;
    switch (op) {
    case BPF_JLE:
    case BPF_JGT:
        return pkt->range == BEYOND_PKT_END ? op == BPF_JGT : -1;
    case BPF_JLT:
    case BPF_JGE:
        return op == BPF_JGE;
    default:
        return -1;
    }
}

/* is_scalar_branch_taken on 64-bit values (32-bit comparisons come here only when both sides fit
 * the comparison's range, see branch_taken). */
static int scalar_branch_taken(const struct nicsim_reg_state *a, const struct nicsim_reg_state *b,
                               uint8_t op)
{
    switch (op) {
    case BPF_JEQ:
    case BPF_JNE: {
        int eq = -1;

        if (a->known && b->known)
            eq = a->value == b->value;
        else if (a->umin > b->umax || a->umax < b->umin || a->smin > b->smax || a->smax < b->smin ||
                 ((a->tn_value ^ b->tn_value) & ~(a->tn_mask | b->tn_mask)))
            eq = 0;
        return eq < 0 ? -1 : op == BPF_JEQ ? eq : !eq;
    }
    case BPF_JSET:
        if (a->tn_value & b->tn_value)
            return 1;
        if (!((a->tn_value | a->tn_mask) & (b->tn_value | b->tn_mask)))
            return 0;
        return -1;
    case BPF_JGT:
        return a->umin > b->umax ? 1 : a->umax <= b->umin ? 0 : -1;
    case BPF_JGE:
        return a->umin >= b->umax ? 1 : a->umax < b->umin ? 0 : -1;
    case BPF_JLT:
        return a->umax < b->umin ? 1 : a->umin >= b->umax ? 0 : -1;
    case BPF_JLE:
        return a->umax <= b->umin ? 1 : a->umin > b->umax ? 0 : -1;
    case BPF_JSGT:
        return a->smin > b->smax ? 1 : a->smax <= b->smin ? 0 : -1;
    case BPF_JSGE:
        return a->smin >= b->smax ? 1 : a->smax < b->smin ? 0 : -1;
    case BPF_JSLT:
        return a->smax < b->smin ? 1 : a->smin >= b->smax ? 0 : -1;
    case BPF_JSLE:
        return a->smax <= b->smin ? 1 : a->smin > b->smax ? 0 : -1;
    default:
        return -1;
    }
}

/* The low 32 bits of a scalar as a scalar of their own, for 32-bit comparisons: unsigned bounds
 * and tnum zero-extended, signed bounds sign-extended (each comparison uses one kind). */
static void view32(const struct nicsim_reg_state *r, struct nicsim_reg_state *v)
{
    struct bounds32 b = reg_bounds32(r);
    struct tnum lo = tnum_cast(tnum_of(r), 4);

    memset(v, 0, sizeof(*v));
    v->type = NICSIM_SCALAR_VALUE;
    v->umin = b.umin;
    v->umax = b.umax;
    v->smin = b.smin;
    v->smax = b.smax;
    set_tnum(v, lo);
    v->known = lo.m == 0;
    v->value = v->known ? lo.v : 0;
}

/* What a 32-bit comparison taught of the low half (`v`, from view32 and refine_cond) back into
 * the register: its 32-bit bounds and the tnum's low half. */
static void unview32(struct nicsim_reg_state *r, const struct nicsim_reg_state *v)
{
    uint64_t lo32 = 0xffffffffull;

    r->has32 = 1;
    r->u32_min = (uint32_t)v->umin;
    r->u32_max = (uint32_t)v->umax;
    r->s32_min = (int32_t)v->smin;
    r->s32_max = (int32_t)v->smax;
    set_tnum(r, (struct tnum){(r->tn_value & ~lo32) | (v->tn_value & lo32),
                              (r->tn_mask & ~lo32) | (v->tn_mask & lo32)});
}

static bool not_null(const struct nicsim_reg_state *r)
{
    return r->type == NICSIM_PTR_TO_MAP_VALUE || r->type == NICSIM_CONST_PTR_TO_MAP;
}

/* is_branch_taken: 1 taken, 0 not, -1 unknown. */
static int branch_taken(const struct nicsim_reg_state *a, const struct nicsim_reg_state *b,
                        uint8_t op, int is32)
{
    if (is_pkt(a) || a->type == NICSIM_PTR_TO_PACKET_END) {
        if ((is_pkt(b) || b->type == NICSIM_PTR_TO_PACKET_END) && !is32)
            return pkt_ptr_branch_taken(a, b, op);
    }
    if (is_pointer(a) || is_pointer(b)) {
        const struct nicsim_reg_state *ptr = is_pointer(a) ? a : b, *k = is_pointer(a) ? b : a;
        uint64_t v = is32 ? (uint32_t)k->value : k->value;

        if (is_pointer(k) || !k->known || !not_null(ptr) || v != 0)
            return -1;
        return op == BPF_JEQ ? 0 : op == BPF_JNE ? 1 : -1;
    }
    if (!is32)
        return scalar_branch_taken(a, b, op);
    {
        struct nicsim_reg_state x, y;

        view32(a, &x);
        view32(b, &y);
        return scalar_branch_taken(&x, &y, op);
    }
}

static uint8_t negate_jmp(uint8_t op)
{
    switch (op) {
    case BPF_JEQ:
        return BPF_JNE;
    case BPF_JNE:
        return BPF_JEQ;
    case BPF_JGT:
        return BPF_JLE;
    case BPF_JGE:
        return BPF_JLT;
    case BPF_JLT:
        return BPF_JGE;
    case BPF_JLE:
        return BPF_JGT;
    case BPF_JSGT:
        return BPF_JSLE;
    case BPF_JSGE:
        return BPF_JSLT;
    case BPF_JSLT:
        return BPF_JSGE;
    case BPF_JSLE:
        return BPF_JSGT;
    case BPF_JSET:
        return JSET_NOT;
    default:
        return JSET_NOT;
    }
}

/* regs_refine_cond_op: narrow a and b (64-bit scalars) given that `a op b` holds. */
static void refine_cond(struct nicsim_reg_state *a, struct nicsim_reg_state *b, uint8_t op)
{
    switch (op) {
    case BPF_JEQ:
        a->umin = b->umin = umax64(a->umin, b->umin);
        a->umax = b->umax = umin64(a->umax, b->umax);
        a->smin = b->smin = smax64(a->smin, b->smin);
        a->smax = b->smax = smin64(a->smax, b->smax);
        set_tnum(a, tnum_intersect(tnum_of(a), tnum_of(b)));
        set_tnum(b, tnum_of(a));
        break;
    case BPF_JNE: {
        struct nicsim_reg_state *r = b->known ? a : a->known ? b : NULL;
        uint64_t v = b->known ? b->value : a->value;

        if (!r)
            break;
        if (r->umin == v && v != UINT64_MAX)
            r->umin++;
        else if (r->umax == v && v != 0)
            r->umax--;
        if (r->smin == (int64_t)v && (int64_t)v != INT64_MAX)
            r->smin++;
        else if (r->smax == (int64_t)v && (int64_t)v != INT64_MIN)
            r->smax--;
        break;
    }
    case BPF_JSET:
        if (b->known && b->value && !(b->value & (b->value - 1)))
            set_tnum(a, tnum_or(tnum_of(a), tnum_const(b->value)));
        break;
    case JSET_NOT:
        if (b->known)
            set_tnum(a, tnum_and(tnum_of(a), tnum_const(~b->value)));
        break;
    case BPF_JGT:
    case BPF_JGE: {
        uint64_t d = op == BPF_JGT;

        /* an empty range (a > UINT64_MAX) wraps and is caught by reg_bounds_ok */
        a->umin = umax64(a->umin, b->umin + d);
        b->umax = umin64(b->umax, a->umax - d);
        if (d && (b->umin == UINT64_MAX || a->umax == 0))
            a->umin = 1, a->umax = 0;
        break;
    }
    case BPF_JLT:
    case BPF_JLE:
        refine_cond(b, a, op == BPF_JLT ? BPF_JGT : BPF_JGE);
        return;
    case BPF_JSGT:
    case BPF_JSGE: {
        int64_t d = op == BPF_JSGT;

        if (d && (b->smin == INT64_MAX || a->smax == INT64_MIN)) {
            a->smin = 1, a->smax = 0;
            break;
        }
        a->smin = smax64(a->smin, b->smin + d);
        b->smax = smin64(b->smax, a->smax - d);
        break;
    }
    case BPF_JSLT:
    case BPF_JSLE:
        refine_cond(b, a, op == BPF_JSLT ? BPF_JSGT : BPF_JSGE);
        return;
    default:
        break;
    }
}

/* mark_ptr_or_null_reg, not null: a map value, or, for a lookup in a map of maps, the inner
 * map (CONST_PTR_TO_MAP of the outer map's template, usable as another lookup's map). */
static void mark_not_null(struct nicsim_reg_state *reg)
{
    if (reg->map_ptr && reg->map_ptr->inner_map_meta) {
        reg->type = NICSIM_CONST_PTR_TO_MAP;
        reg->map_ptr = reg->map_ptr->inner_map_meta;
    } else {
        reg->type = NICSIM_PTR_TO_MAP_VALUE;
    }
    reg->id = 0;
}

/* mark_ptr_or_null_regs: every copy of a maybe-null pointer with this id. */
static void mark_ptr_or_null(struct vstate *st, uint32_t id, int is_null)
{
    for (uint32_t f = 0; f < st->nframes; f++) {
        struct frame *fr = st->fr[f];

        for (int r = 0; r < NREGS; r++) {
            struct nicsim_reg_state *reg = &fr->regs[r];

            if (reg->type != NICSIM_PTR_TO_MAP_VALUE_OR_NULL || reg->id != id)
                continue;
            if (is_null)
                mark_known(reg, 0);
            else
                mark_not_null(reg);
        }
        for (uint32_t s = 0; s < fr->depth / 8; s++) {
            struct nicsim_reg_state *reg = &fr->spill[s];

            if (fr->stype[s * 8 + 7] != STACK_SPILL ||
                reg->type != NICSIM_PTR_TO_MAP_VALUE_OR_NULL || reg->id != id)
                continue;
            if (is_null)
                mark_known(reg, 0);
            else
                mark_not_null(reg);
        }
    }
}

/* Every register and spilled register of every frame of a state. */
static uint32_t state_regs(struct vstate *st, struct nicsim_reg_state **out, uint32_t cap)
{
    uint32_t n = 0;

    for (uint32_t f = 0; f < st->nframes; f++) {
        struct frame *fr = st->fr[f];

        for (int r = 0; r < NREGS && n < cap; r++)
            out[n++] = &fr->regs[r];
        for (uint32_t k = 0; k < fr->depth / 8 && n < cap; k++)
            if (fr->stype[k * 8 + 7] == STACK_SPILL)
                out[n++] = &fr->spill[k];
    }
    return n;
}

#define MAX_STATE_REGS (NICSIM_MAX_CALL_FRAMES * (NREGS + MAX_STACK / 8))

/* find_good_pkt_pointers: `pkt` (pkt + off) was compared with data_end (pkt_meta + off with
 * data): every copy of it in `st` may access `off` bytes (off + 1 if the comparison was strict). */
static void find_good_pkt_pointers(struct vstate *st, const struct nicsim_reg_state *pkt,
                                   bool right_open)
{
    struct nicsim_reg_state *regs[MAX_STATE_REGS];
    uint32_t n;
    int range;

    if (pkt->off < 0 || (pkt->off == 0 && right_open))
        return;
    if (pkt->umax > MAX_PACKET_OFF || pkt->umax + (uint64_t)pkt->off > MAX_PACKET_OFF)
        return; /* ptr + huge may compare below data_end by wrapping */
    range = pkt->off + (right_open ? 1 : 0);
    n = state_regs(st, regs, MAX_STATE_REGS);
    for (uint32_t i = 0; i < n; i++)
        if (regs[i]->type == pkt->type && regs[i]->id == pkt->id && regs[i]->range < range)
            regs[i]->range = range;
}

/* mark_pkt_end: the packet pointer in `regno` is beyond (or at) data_end on this branch. */
static void mark_pkt_end(struct vstate *st, int regno, bool beyond)
{
    struct nicsim_reg_state *r = &st->fr[st->nframes - 1]->regs[regno];

    if (r->type == NICSIM_PTR_TO_PACKET)
        r->range = beyond ? BEYOND_PKT_END : AT_PKT_END;
}

static bool is_init_pkt_pointer(const struct nicsim_reg_state *r, uint8_t type)
{
    return r->type == type && r->off == 0 && !r->tn_mask && !r->tn_value;
}

/* try_match_pkt_pointers: a 64-bit comparison of pkt' with data_end (pkt_meta' with data) in
 * either order. `this` is the fall-through state, `other` the jump target's. */
static bool try_match_pkt_pointers(const struct nicsim_insn *in, struct vstate *this,
                                   struct vstate *other)
{
    struct nicsim_reg_state *regs = this->fr[this->nframes - 1]->regs;
    struct nicsim_reg_state d = regs[in->dst], sr = regs[in->src];
    uint8_t op = insn_op(in->code);
    bool dst_pkt, src_pkt;
    struct vstate *good, *beyond_or_at;

    if (insn_src(in->code) != BPF_X || insn_class(in->code) == BPF_JMP32)
        return false;
    /* pkt' ? data_end, or pkt_meta' ? data */
    dst_pkt =
        (d.type == NICSIM_PTR_TO_PACKET && sr.type == NICSIM_PTR_TO_PACKET_END) ||
        (d.type == NICSIM_PTR_TO_PACKET_META && is_init_pkt_pointer(&sr, NICSIM_PTR_TO_PACKET));
    /* data_end ? pkt', or data ? pkt_meta' */
    src_pkt =
        (d.type == NICSIM_PTR_TO_PACKET_END && sr.type == NICSIM_PTR_TO_PACKET) ||
        (is_init_pkt_pointer(&d, NICSIM_PTR_TO_PACKET) && sr.type == NICSIM_PTR_TO_PACKET_META);
    if (!dst_pkt && !src_pkt)
        return false;
    if (src_pkt) /* as if written pkt' ?' data_end with the operator flipped */
        op = op == BPF_JGT   ? BPF_JLT
             : op == BPF_JLT ? BPF_JGT
             : op == BPF_JGE ? BPF_JLE
             : op == BPF_JLE ? BPF_JGE
                             : op;
    /* pkt' > end / pkt' >= end: in range on the fall-through; < and <=: on the jump */
    good = op == BPF_JGT || op == BPF_JGE ? this : other;
    beyond_or_at = good == this ? other : this;
    switch (op) {
    case BPF_JGT: /* fall-through: pkt' <= end */
    case BPF_JLE: /* jump: pkt' <= end */
        find_good_pkt_pointers(good, src_pkt ? &sr : &d, false);
        mark_pkt_end(beyond_or_at, src_pkt ? in->src : in->dst, true);
        return true;
    case BPF_JGE: /* fall-through: pkt' < end */
    case BPF_JLT: /* jump: pkt' < end */
        find_good_pkt_pointers(good, src_pkt ? &sr : &d, true);
        mark_pkt_end(beyond_or_at, src_pkt ? in->src : in->dst, false);
        return true;
    default:
        return false;
    }
}

/* find_equal_scalars: copies of a scalar learn what it learnt. */
static void sync_linked_scalars(struct vstate *st, const struct nicsim_reg_state *known)
{
    struct nicsim_reg_state *regs[MAX_STATE_REGS];
    uint32_t n;

    if (known->type != NICSIM_SCALAR_VALUE || !known->id)
        return;
    n = state_regs(st, regs, MAX_STATE_REGS);
    for (uint32_t i = 0; i < n; i++)
        if (regs[i]->type == NICSIM_SCALAR_VALUE && regs[i]->id == known->id)
            *regs[i] = *known;
}

/* reg_set_min_max for one branch of a comparison of two scalars (b_regno < 0: an immediate),
 * `op` being what holds on this branch. false: the branch cannot be taken. */
static bool refine_branch(struct vstate *st, int a_regno, int b_regno,
                          const struct nicsim_reg_state *imm, uint8_t op, int is32)
{
    struct nicsim_reg_state *regs = st->fr[st->nframes - 1]->regs;
    struct nicsim_reg_state a = regs[a_regno], b = b_regno >= 0 ? regs[b_regno] : *imm;

    if (a.type != NICSIM_SCALAR_VALUE || b.type != NICSIM_SCALAR_VALUE)
        return true;
    if (is32) {
        /* the kernel's 32-bit bounds: refined on the low halves, then synced into the rest */
        struct nicsim_reg_state x, y;

        view32(&a, &x);
        view32(&b, &y);
        refine_cond(&x, &y, op);
        if (x.umin > x.umax || x.smin > x.smax || y.umin > y.umax || y.smin > y.smax ||
            (x.tn_value & x.tn_mask) || (y.tn_value & y.tn_mask))
            return false;
        unview32(&a, &x);
        unview32(&b, &y);
    } else {
        refine_cond(&a, &b, op);
    }
    if (a.umin > a.umax || a.smin > a.smax || b.umin > b.umax || b.smin > b.smax)
        return false;
    reg_bounds_sync(&a);
    reg_bounds_sync(&b);
    if (!reg_bounds_ok(&a) || !reg_bounds_ok(&b))
        return false;
    regs[a_regno] = a;
    sync_linked_scalars(st, &a);
    if (b_regno >= 0) {
        regs[b_regno] = b;
        sync_linked_scalars(st, &b);
    }
    return true;
}

/* maybe_widen_reg: a scalar that changed since the loop's previous iteration forgets its value,
 * so that the iterations converge. The kernel keeps the scalars precision tracking marked as
 * needed; this verifier has none and widens every scalar that is not exactly the same. */
static void maybe_widen(struct nicsim_reg_state *old, struct nicsim_reg_state *cur)
{
    struct idmap m;

    m.n = 0;
    if (old->type != NICSIM_SCALAR_VALUE || cur->type != NICSIM_SCALAR_VALUE ||
        regs_exact(old, cur, &m))
        return;
    mark_unknown(cur);
}

static void widen_imprecise_scalars(struct vstate *old, struct vstate *cur)
{
    for (uint32_t f = 0; f < old->nframes && f < cur->nframes; f++) {
        struct frame *fo = old->fr[f], *fc = cur->fr[f];
        uint32_t slots = (fo->depth < fc->depth ? fo->depth : fc->depth) / 8;

        for (int r = 0; r < NREGS; r++)
            maybe_widen(&fo->regs[r], &fc->regs[r]);
        for (uint32_t k = 0; k < slots; k++)
            if (fo->stype[k * 8 + 7] == STACK_SPILL && fc->stype[k * 8 + 7] == STACK_SPILL)
                maybe_widen(&fo->spill[k], &fc->spill[k]);
    }
}

/* may_goto (BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO), the kernel's bounded loop: the jump is
 * explored first, the fall-through later one may_goto deeper, its scalars widened against the
 * loop's previous iteration (find_prev_entry: a checkpoint at this instruction on this path). */
static int do_may_goto(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    struct vstate *prev = NULL, *queued;
    int err;

    if (in->code != OP_MAY_GOTO || in->src || in->dst || in->imm) {
        verbose(env, "invalid may_goto imm %d", in->imm);
        return -EINVAL;
    }
    for (struct vstate *sl = env->explored[*idx]; sl; sl = sl->next_at) {
        if (sl != env->new_checkpoint && sl->branches && same_callsites(sl, env->cur)) {
            prev = sl;
            break;
        }
    }
    err = push_stack(env, *idx + 1, *idx);
    if (err)
        return err;
    queued = env->stack[env->n_stack - 1].st;
    queued->may_goto_depth++;
    /* Without precision tracking, which scalars the kernel would keep cannot be told: the first
     * iterations are walked exactly (a loop that fails at its 16th iteration fails here too, with
     * the kernel's reason), later ones widened. */
    if (prev && queued->may_goto_depth > MAY_GOTO_EXACT_ITERATIONS)
        widen_imprecise_scalars(prev, queued);
    *idx += in->off + 1;
    return 0;
}

/* 0: continue at *idx; 1: this path is dead (the comparison cannot go this way). */
static int do_cond_jmp(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    uint8_t op = insn_op(in->code);
    int is32 = insn_class(in->code) == BPF_JMP32, x = insn_src(in->code) == BPF_X;
    struct nicsim_reg_state *regs = cur_regs(env), b;
    int err, taken, target = *idx + in->off + 1;
    struct vstate *other;
    uint32_t null_id = 0;
    int null_on_taken = 0;

    if (x) {
        if (in->imm) {
            verbose(env, "BPF_JMP/JMP32 uses reserved fields");
            return -EINVAL;
        }
        err = check_reg_read(env, in->src);
        if (err)
            return err;
        b = regs[in->src];
    } else {
        if (in->src) {
            verbose(env, "BPF_JMP/JMP32 uses reserved fields");
            return -EINVAL;
        }
        mark_known(&b, is32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm);
    }
    err = check_reg_read(env, in->dst);
    if (err)
        return err;

    taken = branch_taken(&regs[in->dst], &b, op, is32);
    if (taken == 1) {
        *idx = target;
        return 0;
    }
    if (taken == 0) {
        *idx += 1;
        return 0;
    }
    if (!is32 && (op == BPF_JEQ || op == BPF_JNE) &&
        regs[in->dst].type == NICSIM_PTR_TO_MAP_VALUE_OR_NULL && b.type == NICSIM_SCALAR_VALUE &&
        b.known && b.value == 0) {
        null_id = regs[in->dst].id;
        null_on_taken = op == BPF_JEQ;
    }
    err = push_stack(env, target, *idx);
    if (err)
        return err;
    other = env->stack[env->n_stack - 1].st;
    *idx += 1;
    if (null_id) {
        mark_ptr_or_null(other, null_id, null_on_taken);
        mark_ptr_or_null(env->cur, null_id, !null_on_taken);
        return 0;
    }
    if (x && try_match_pkt_pointers(in, env->cur, other))
        return 0;
    if (!refine_branch(other, in->dst, x ? in->src : -1, &b, op, is32)) {
        /* the jump is never taken: forget its state */
        env->n_stack--;
        update_branch_counts(other);
        state_free(other);
    }
    if (!refine_branch(env->cur, in->dst, x ? in->src : -1, &b, negate_jmp(op), is32))
        return 1;
    return 0;
}

struct call_meta {
    struct nicsim_bpf_map *map;
    int32_t func_id;
    bool const_key; /* the key is a constant the walk knows (array null elision) */
    uint64_t key;
};

/* get_constant_map_key: a key on the stack written as zeroes or as one spilled constant of the
 * key's size. */
static bool stack_const_key(struct venv *env, const struct nicsim_reg_state *reg, uint32_t size,
                            uint64_t *key)
{
    const struct frame *f;
    int o = reg->off, k, slot, j, n;

    if (reg->type != NICSIM_PTR_TO_STACK || reg->var_off || size > 8 || !size || o >= 0)
        return false;
    f = env->cur->fr[reg->frameno];
    k = -o - 1;
    slot = k / 8;
    if ((uint32_t)(slot * 8 + 8) > f->depth)
        return false;
    for (j = k % 8, n = 0; j >= 0 && f->stype[slot * 8 + j] == STACK_ZERO; j--)
        n++;
    if ((uint32_t)n >= size) {
        *key = 0;
        return true;
    }
    if (f->stype[slot * 8 + 7] != STACK_SPILL)
        return false;
    for (j = k % 8, n = 0; j >= 0 && f->stype[slot * 8 + j] == STACK_SPILL; j--)
        n++;
    if ((uint32_t)n != size || f->spill[slot].type != NICSIM_SCALAR_VALUE || !f->spill[slot].known)
        return false;
    *key = f->spill[slot].value;
    return true;
}

static int check_helper_mem(struct venv *env, int regno, const struct nicsim_reg_state *regp,
                            int size, int is_write, int zero_ok)
{
    struct nicsim_reg_state reg = *regp; /* the frame holding it may move */

    if (reg.type == NICSIM_SCALAR_VALUE && reg.known && reg.value == 0 && zero_ok)
        return 0;
    switch (reg.type) {
    case NICSIM_PTR_TO_STACK: {
        struct frame *f = env->cur->fr[reg.frameno];
        int o, err;

        if (size == 0)
            return 0;
        err = stack_access_off(env, regno, &reg, 0, size, is_write, " indirect access to", &o);
        if (err)
            return err;
        if (is_write) {
            f = grow_stack(env, reg.frameno, o);
            if (!f)
                return -ENOMEM;
            note_stack_depth(env, reg.frameno);
            stack_mark_write(f, o, size, STACK_MISC);
            return 0;
        }
        for (int i = 0; i < size; i++) {
            int k = -(o + i) - 1;

            if (((uint32_t)k >= f->depth || f->stype[k] == STACK_INVALID) &&
                !env->allow_uninit_stack) {
                verbose(env, "invalid indirect read from stack R%d off %d+%d size %d", regno, o, i,
                        size);
                return -EACCES;
            }
        }
        return 0;
    }
    case NICSIM_PTR_TO_MAP_VALUE:
        return check_map_value_access(env, regno, &reg, 0, size, is_write, zero_ok);
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        /* a zero size got here only where the helper allows it */
        return check_packet_access(env, regno, &reg, reg.off, size, 1);
    default:
        return -EACCES;
    }
}

static int check_func_arg(struct venv *env, int arg, const struct helper_proto *fn,
                          struct call_meta *meta)
{
    int regno = arg + 1;
    uint8_t type = fn->arg[arg];
    struct nicsim_reg_state *regs = cur_regs(env);
    struct nicsim_reg_state regv = regs[regno];
    const struct nicsim_reg_state *reg = &regv;
    int err, is_mem, pkt;

    if (type == ARG_DONTCARE)
        return 0;
    err = check_reg_read(env, regno);
    if (err)
        return err;
    switch (type) {
    case ARG_ANYTHING:
        return 0;
    case ARG_CONST_MAP_PTR:
        if (reg->type != NICSIM_CONST_PTR_TO_MAP) {
            verbose(env, "R%d type=%s expected=map_ptr", regno, nicsim_reg_type_str(reg->type));
            return -EACCES;
        }
        meta->map = reg->map_ptr;
        return 0;
    case ARG_PTR_TO_CTX:
        if (reg->type != NICSIM_PTR_TO_CTX) {
            verbose(env, "R%d type=%s expected=ctx", regno, nicsim_reg_type_str(reg->type));
            return -EACCES;
        }
        if (reg->off < 0) {
            verbose(env, "negative offset ctx ptr R%d off=%d disallowed", regno, reg->off);
            return -EACCES;
        }
        if (reg->off || reg->var_off) {
            verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed", regno, reg->off);
            return -EACCES;
        }
        return 0;
    case ARG_CONST_SIZE:
    case ARG_CONST_SIZE_OR_ZERO:
        if (reg->type != NICSIM_SCALAR_VALUE) {
            verbose(env, "R%d type=%s expected=scalar", regno, nicsim_reg_type_str(reg->type));
            return -EACCES;
        }
        return 0;
    default:
        break;
    }

    /* pointers to memory */
    is_mem =
        type == ARG_PTR_TO_MEM || type == ARG_PTR_TO_MEM_OR_NULL || type == ARG_PTR_TO_UNINIT_MEM;
    pkt = reg->type == NICSIM_PTR_TO_PACKET || reg->type == NICSIM_PTR_TO_PACKET_META;
    if (!(reg->type == NICSIM_PTR_TO_STACK || pkt || reg->type == NICSIM_PTR_TO_MAP_VALUE ||
          (type == ARG_PTR_TO_MEM_OR_NULL && reg->type == NICSIM_SCALAR_VALUE && reg->known &&
           reg->value == 0))) {
        verbose(env, "R%d type=%s expected=fp, pkt, pkt_meta, %s", regno,
                nicsim_reg_type_str(reg->type), is_mem ? "map_value" : "map_key, map_value");
        return -EACCES;
    }
    if (pkt && !fn->pkt_access) {
        verbose(env, "helper access to the packet is not allowed");
        return -EACCES;
    }
    if (type == ARG_PTR_TO_MAP_KEY || type == ARG_PTR_TO_MAP_VALUE ||
        type == ARG_PTR_TO_UNINIT_MAP_VALUE) {
        uint32_t size;

        if (!meta->map) {
            verbose(env, "invalid map_ptr to access map->%s",
                    type == ARG_PTR_TO_MAP_KEY ? "key" : "value");
            return -EACCES;
        }
        size = type == ARG_PTR_TO_MAP_KEY ? meta->map->key_size : meta->map->value_size;
        if (type == ARG_PTR_TO_MAP_KEY)
            meta->const_key = stack_const_key(env, reg, size, &meta->key);
        return check_helper_mem(env, regno, reg, (int)size, type == ARG_PTR_TO_UNINIT_MAP_VALUE, 0);
    }
    if (type == ARG_PTR_TO_FIXED_MEM4) {
        err = check_helper_mem(env, regno, reg, 4, 0, 0);
        return err ? err : check_helper_mem(env, regno, reg, 4, 1, 0);
    }
    /* PTR_TO_MEM: the size is the next argument */
    {
        struct nicsim_reg_state szv = regs[regno + 1];
        const struct nicsim_reg_state *sz = &szv;
        int zero_ok = fn->arg[arg + 1] == ARG_CONST_SIZE_OR_ZERO;

        err = check_reg_read(env, regno + 1);
        if (err)
            return err;
        if (sz->type != NICSIM_SCALAR_VALUE) {
            verbose(env, "R%d type=%s expected=scalar", regno + 1, nicsim_reg_type_str(sz->type));
            return -EACCES;
        }
        /* check_mem_size_reg: the largest size the register may hold */
        if (sz->smin < 0) {
            verbose(env, "R%d min value is negative, either use unsigned or 'var &= const'",
                    regno + 1);
            return -EACCES;
        }
        if (sz->umin == 0 && !zero_ok) {
            verbose(env, "R%d invalid zero-sized read: u64=[%llu,%llu]", regno + 1,
                    (unsigned long long)sz->umin, (unsigned long long)sz->umax);
            return -EACCES;
        }
        if (sz->umax >= (1u << 29)) {
            verbose(env, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
                    regno + 1);
            return -EACCES;
        }
        return check_helper_mem(env, regno, reg, (int)sz->umax, type == ARG_PTR_TO_UNINIT_MEM,
                                type == ARG_PTR_TO_MEM_OR_NULL);
    }
}

/* check_map_func_compatibility */
static int check_map_func_compat(struct venv *env, const struct call_meta *meta)
{
    struct nicsim_bpf_map *map = meta->map;
    int32_t f = meta->func_id;
    int ok = 1;

    if (!map)
        return 0;
    switch (map->map_type) {
    case BPF_MAP_TYPE_PROG_ARRAY:
        ok = f == BPF_FUNC_tail_call;
        break;
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
        ok = f == BPF_FUNC_perf_event_output;
        break;
    case BPF_MAP_TYPE_RINGBUF:
        ok = f == BPF_FUNC_ringbuf_output || f == BPF_FUNC_ringbuf_query;
        break;
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE_XSKMAP:
        ok = f == BPF_FUNC_redirect_map || f == BPF_FUNC_map_lookup_elem;
        break;
    case BPF_MAP_TYPE_CPUMAP:
        ok = f == BPF_FUNC_redirect_map;
        break;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
        ok = f == BPF_FUNC_map_push_elem || f == BPF_FUNC_map_pop_elem ||
             f == BPF_FUNC_map_peek_elem;
        break;
    case BPF_MAP_TYPE_BLOOM_FILTER:
        ok = f == BPF_FUNC_map_push_elem || f == BPF_FUNC_map_peek_elem;
        break;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        ok = f == BPF_FUNC_map_lookup_elem;
        break;
    case BPF_MAP_TYPE_SOCKMAP:
    case BPF_MAP_TYPE_SOCKHASH:
    case BPF_MAP_TYPE_STACK_TRACE:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_CGROUP_STORAGE:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
    case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
    case BPF_MAP_TYPE_SK_STORAGE:
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case NICSIM_BPF_MAP_TYPE_CGRP_STORAGE:
    case BPF_MAP_TYPE_USER_RINGBUF:
    case BPF_MAP_TYPE_STRUCT_OPS:
        ok = f == BPF_FUNC_map_lookup_elem || f == BPF_FUNC_map_update_elem ||
             f == BPF_FUNC_map_delete_elem;
        break;
    default:
        break;
    }
    if (ok) {
        switch (f) {
        case BPF_FUNC_tail_call:
            ok = map->map_type == BPF_MAP_TYPE_PROG_ARRAY;
            break;
        case BPF_FUNC_perf_event_output:
            ok = map->map_type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
            break;
        case BPF_FUNC_redirect_map:
            ok = map->map_type == BPF_MAP_TYPE_DEVMAP ||
                 map->map_type == BPF_MAP_TYPE_DEVMAP_HASH ||
                 map->map_type == BPF_MAP_TYPE_CPUMAP || map->map_type == BPF_MAP_TYPE_XSKMAP;
            break;
        case BPF_FUNC_ringbuf_output:
        case BPF_FUNC_ringbuf_query:
            ok = map->map_type == BPF_MAP_TYPE_RINGBUF;
            break;
        case BPF_FUNC_map_push_elem:
        case BPF_FUNC_map_pop_elem:
        case BPF_FUNC_map_peek_elem:
            ok = map->map_type == BPF_MAP_TYPE_QUEUE || map->map_type == BPF_MAP_TYPE_STACK ||
                 map->map_type == BPF_MAP_TYPE_BLOOM_FILTER;
            break;
        case BPF_FUNC_map_lookup_percpu_elem:
            ok = map->map_type == BPF_MAP_TYPE_PERCPU_ARRAY ||
                 map->map_type == BPF_MAP_TYPE_PERCPU_HASH ||
                 map->map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
            break;
        default:
            break;
        }
    }
    if (!ok) {
        verbose(env, "cannot pass map_type %u into func %s#%d", map->map_type,
                nicsim_bpf_helper_name(f), f);
        return -EINVAL;
    }
    return 0;
}

/* clear_all_pkt_pointers: the packet moved; every pointer into it is now a number. */
static void clear_all_pkt_pointers(struct vstate *st)
{
    struct nicsim_reg_state *regs[MAX_STATE_REGS];
    uint32_t n = state_regs(st, regs, MAX_STATE_REGS);

    for (uint32_t i = 0; i < n; i++)
        if (is_pkt(regs[i]) || regs[i]->type == NICSIM_PTR_TO_PACKET_END)
            mark_unknown(regs[i]);
}

static int do_helper_call(struct venv *env, const struct nicsim_insn *in)
{
    int32_t id = in->imm;
    const struct helper_proto *fn;
    struct call_meta meta = {.map = NULL, .func_id = id};
    struct nicsim_reg_state *regs;
    int err;

    if (id < 0 || id >= nicsim_helper_max_id()) {
        verbose(env, "invalid func %s#%d", nicsim_bpf_helper_name(id), id);
        return -EINVAL;
    }
    fn = nicsim_helper_proto(id);
    if (!fn) {
        verbose(env, "program of this type cannot use helper %s#%d", nicsim_bpf_helper_name(id),
                id);
        return -EINVAL;
    }
    if (!fn->modelled) {
        verbose(env, "helper %s#%d is not supported by the nicsim verifier",
                nicsim_bpf_helper_name(id), id);
        return -EOPNOTSUPP;
    }
    for (int i = 0; i < 5; i++) {
        err = check_func_arg(env, i, fn, &meta);
        if (err)
            return err;
    }
    err = check_map_func_compat(env, &meta);
    if (err)
        return err;
    regs = cur_regs(env);
    for (int r = 1; r <= 5; r++)
        mark_not_init(&regs[r]);
    if (nicsim_helper_changes_pkt_data(id))
        clear_all_pkt_pointers(env->cur);
    switch (fn->ret) {
    case RET_VOID:
        mark_not_init(&regs[0]);
        break;
    case RET_PTR_TO_MAP_VALUE_OR_NULL:
        memset(&regs[0], 0, sizeof(regs[0]));
        regs[0].type = NICSIM_PTR_TO_MAP_VALUE_OR_NULL;
        regs[0].map_ptr = meta.map;
        regs[0].id = ++env->id_gen;
        /* can_elide_value_nullness: an array element with a constant in-range key exists */
        if (id == BPF_FUNC_map_lookup_elem && meta.const_key &&
            (meta.map->map_type == BPF_MAP_TYPE_ARRAY ||
             meta.map->map_type == BPF_MAP_TYPE_PERCPU_ARRAY) &&
            meta.key < meta.map->max_entries) {
            regs[0].type = NICSIM_PTR_TO_MAP_VALUE;
            regs[0].id = 0;
        }
        break;
    default:
        mark_unknown(&regs[0]);
        break;
    }
    return 0;
}

static int do_local_call(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    struct vstate *st = env->cur;
    struct frame *caller = cur_frame(env), *callee;
    int target = *idx + in->imm + 1;

    if (st->nframes >= NICSIM_MAX_CALL_FRAMES) {
        verbose(env, "the call stack of %u frames is too deep", st->nframes + 1);
        return -E2BIG;
    }
    callee = frame_new(*idx, st->nframes);
    if (!callee)
        return -ENOMEM;
    for (int r = 1; r <= 5; r++)
        callee->regs[r] = caller->regs[r];
    st->fr[st->nframes++] = callee;
    *idx = target;
    return 0;
}

/* 1: the path ended; 0: continue at *idx. */
static int do_exit(struct venv *env, int *idx)
{
    struct vstate *st = env->cur;
    struct nicsim_reg_state r0;
    struct frame *callee, *caller;

    if (st->nframes == 1) {
        /* check_return_code: only the main program's exit needs R0. XDP has no return range
         * check; root may return a pointer */
        int err = check_reg_read(env, 0);

        return err ? err : 1;
    }
    /* prepare_func_exit: the caller gets whatever R0 holds, unwritten for a subprogram
     * returning void (reading it after the call is then refused) */
    r0 = cur_regs(env)[0];
    callee = st->fr[st->nframes - 1];
    caller = st->fr[st->nframes - 2];
    if (r0.type == NICSIM_PTR_TO_STACK && r0.frameno == st->nframes - 1) {
        verbose(env, "cannot return stack pointer to the caller frame");
        return -EINVAL;
    }
    caller->regs[0] = r0;
    for (int r = 1; r <= 5; r++)
        mark_not_init(&caller->regs[r]);
    *idx = callee->callsite + 1;
    free(callee);
    st->fr[--st->nframes] = NULL;
    return 0;
}

static int do_atomic(struct venv *env, const struct nicsim_insn *in)
{
    int size = insn_size(in->code) == BPF_DW ? 8 : 4;
    struct nicsim_reg_state *regs = cur_regs(env), reg;
    int op = in->imm, err;

    if (op != BPF_ADD && op != BPF_OR && op != BPF_AND && op != BPF_XOR &&
        op != (BPF_ADD | BPF_FETCH) && op != (BPF_OR | BPF_FETCH) && op != (BPF_AND | BPF_FETCH) &&
        op != (BPF_XOR | BPF_FETCH) && op != BPF_XCHG && op != BPF_CMPXCHG) {
        verbose(env, "BPF_ATOMIC uses invalid atomic opcode %02x", op);
        return -EINVAL;
    }
    err = check_reg_read(env, in->src);
    if (!err)
        err = check_reg_read(env, in->dst);
    if (!err && op == BPF_CMPXCHG)
        err = check_reg_read(env, 0);
    if (err)
        return err;
    reg = regs[in->dst];
    if (reg.type == NICSIM_PTR_TO_CTX || is_pkt(&reg)) {
        verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed", in->dst,
                nicsim_reg_type_str(reg.type));
        return -EACCES;
    }
    env->strict_align = true; /* check_atomic: strict_alignment_once */
    err = check_mem_access(env, in->dst, in->off, size, 0, NULL, 0, NULL);
    if (!err) {
        struct nicsim_reg_state unknown;

        mark_unknown(&unknown);
        err = check_mem_access(env, in->dst, in->off, size, 1, &unknown, 0, NULL);
    }
    env->strict_align = false;
    if (err)
        return err;
    regs = cur_regs(env);
    if (op == BPF_CMPXCHG)
        mark_unknown(&regs[0]);
    else if (op & BPF_FETCH) {
        err = check_reg_write(env, in->src);
        if (err)
            return err;
        mark_unknown(&regs[in->src]);
    }
    return 0;
}

/* One instruction. Returns 0 (continue at *idx), 1 (path ended) or an error. */
static int do_insn(struct venv *env, int *idx)
{
    const struct nicsim_insn *in = &env->insns[*idx];
    uint8_t cls = insn_class(in->code), op = insn_op(in->code);
    struct nicsim_reg_state *regs = cur_regs(env);
    int err, size = 0;

    switch (insn_size(in->code)) {
    case BPF_B:
        size = 1;
        break;
    case BPF_H:
        size = 2;
        break;
    case BPF_W:
        size = 4;
        break;
    case BPF_DW:
        size = 8;
        break;
    }

    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        err = do_alu(env, in);
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_LDX: {
        struct nicsim_reg_state dst;

        err = check_reg_read(env, in->src);
        if (!err)
            err = check_reg_write(env, in->dst);
        if (err)
            return err;
        if (insn_mode(in->code) == BPF_MEMSX && regs[in->src].type == NICSIM_PTR_TO_CTX) {
            verbose(env, "invalid bpf_context access off=%d size=%d", in->off, size);
            return -EACCES;
        }
        err = check_mem_access(env, in->src, in->off, size, 0, NULL, 0, &dst);
        if (err)
            return err;
        if (size < 8 && dst.type == NICSIM_SCALAR_VALUE) {
            if (insn_mode(in->code) == BPF_MEMSX && !dst.known)
                mark_unknown_sext(&dst, size);
            else if (insn_mode(in->code) == BPF_MEMSX)
                mark_known(
                    &dst, (uint64_t)(((int64_t)(dst.value << (64 - size * 8))) >> (64 - size * 8)));
            else
                coerce_to_size(&dst, size);
        }
        cur_regs(env)[in->dst] = dst;
        *idx += 1;
        return 0;
    }

    case BPF_STX:
        if (insn_mode(in->code) == BPF_ATOMIC) {
            err = do_atomic(env, in);
            if (err)
                return err;
            *idx += 1;
            return 0;
        }
        if (in->imm) {
            verbose(env, "BPF_STX uses reserved fields");
            return -EINVAL;
        }
        err = check_reg_read(env, in->src);
        if (!err)
            err = check_reg_read(env, in->dst);
        if (err)
            return err;
        {
            struct nicsim_reg_state val;
            const struct nicsim_reg_state *p = &regs[in->dst];

            /* a scalar spilled whole (its value fits) stays linked with the register */
            if (p->type == NICSIM_PTR_TO_STACK && !p->var_off && (p->off + in->off) % 8 == 0 &&
                reg_width(&regs[in->src]) <= size * 8)
                assign_scalar_id(env, &regs[in->src]);
            val = regs[in->src];
            err = check_mem_access(env, in->dst, in->off, size, 1, &val, 0, NULL);
        }
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_ST:
        if (in->src) {
            verbose(env, "BPF_ST uses reserved fields");
            return -EINVAL;
        }
        err = check_reg_read(env, in->dst);
        if (err)
            return err;
        if (regs[in->dst].type == NICSIM_PTR_TO_CTX) {
            verbose(env, "BPF_ST stores into R%d %s is not allowed", in->dst,
                    nicsim_reg_type_str(regs[in->dst].type));
            return -EACCES;
        }
        err = check_mem_access(env, in->dst, in->off, size, 1, NULL, in->imm, NULL);
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_LD:
        if (in->code != OP_LDDW) {
            verbose(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
            return -EINVAL;
        }
        err = check_reg_write(env, in->dst);
        if (err)
            return err;
        {
            struct nicsim_reg_state *dst = &regs[in->dst];
            struct nicsim_bpf_prog_aux *aux = env->prog->aux;

            memset(dst, 0, sizeof(*dst));
            if (in->src == NICSIM_LDDW_IMM64) {
                mark_known(dst,
                           (uint64_t)(uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32));
            } else if (in->src == NICSIM_LDDW_MAP_IDX) {
                dst->type = NICSIM_CONST_PTR_TO_MAP;
                dst->map_ptr = aux->used_maps[in->imm];
            } else {
                dst->type = NICSIM_PTR_TO_MAP_VALUE;
                dst->map_ptr = aux->used_maps[in->imm];
                dst->off = in[1].imm;
            }
        }
        env->aux[*idx + 1].seen = true;
        *idx += 2;
        return 0;

    case BPF_JMP:
    case BPF_JMP32:
        env->jmps_processed++;
        if (op == BPF_JA) {
            if (in->src || in->dst || (cls == BPF_JMP ? in->imm != 0 : in->off != 0)) {
                verbose(env, "BPF_JA uses reserved fields");
                return -EINVAL;
            }
            *idx += (cls == BPF_JMP ? in->off : in->imm) + 1;
            return 0;
        }
        if (op == BPF_CALL) {
            if ((in->src != PSEUDO_KFUNC && in->off) ||
                (in->src != 0 && in->src != PSEUDO_CALL && in->src != PSEUDO_KFUNC) || in->dst ||
                cls == BPF_JMP32 || insn_src(in->code)) {
                verbose(env, "BPF_CALL uses reserved fields");
                return -EINVAL;
            }
            if (in->src == PSEUDO_CALL)
                return do_local_call(env, in, idx);
            if (in->src == PSEUDO_KFUNC) {
                verbose(env, "calling kernel functions is not supported by the nicsim verifier");
                return -EOPNOTSUPP;
            }
            err = do_helper_call(env, in);
            if (err)
                return err;
            *idx += 1;
            return 0;
        }
        if (op == BPF_EXIT) {
            if (insn_src(in->code) || in->imm || in->src || in->dst || in->off ||
                cls == BPF_JMP32) {
                verbose(env, "BPF_EXIT uses reserved fields");
                return -EINVAL;
            }
            return do_exit(env, idx);
        }
        if (op == BPF_JCOND)
            return do_may_goto(env, in, idx);
        return do_cond_jmp(env, in, idx);

    default:
        verbose(env, "unknown insn class %d", cls);
        return -EINVAL;
    }
}

/* do_check: walk every path. */
static int do_check(struct venv *env)
{
    int idx = 0, prev = -1, err;

    env->cur = calloc(1, sizeof(*env->cur));
    if (!env->cur)
        return -ENOMEM;
    env->cur->nframes = 1;
    env->cur->branches = 1;
    env->cur->fr[0] = frame_new(-1, 0);
    if (!env->cur->fr[0])
        return -ENOMEM;
    env->cur->fr[0]->regs[1].type = NICSIM_PTR_TO_CTX;

    for (;;) {
        env->insn_idx = idx;
        env->prev_insn_idx = prev;
        env->new_checkpoint = NULL;
        if (idx < 0 || idx >= (int)env->len) {
            verbose(env, "invalid insn idx %d insn_cnt %u", idx, env->len);
            env->err_insn = prev;
            return -EFAULT;
        }
        if (++env->insn_processed > NICSIM_COMPLEXITY_LIMIT_INSNS) {
            env->err_insn = idx;
            verbose(env, "BPF program is too large. Processed %u insn", env->insn_processed);
            return -E2BIG;
        }
        env->pub.insn_processed = env->insn_processed;
        if (env->prune[idx]) {
            err = is_state_visited(env, idx);
            if (err < 0) {
                env->err_insn = idx;
                return err;
            }
            if (err == 1) {
                if (env->log->level >= 2)
                    verbose(env, "%d: safe", idx);
                goto path_end;
            }
        }
        if (env->ops && env->ops->insn_hook) {
            env->pub.cur_regs = cur_regs(env);
            env->pub.cur_frame = env->cur->nframes - 1;
            err = env->ops->insn_hook(&env->pub, idx, prev);
            if (err) {
                env->err_insn = idx;
                if (!env->log->last[0])
                    verbose(env, "insn %d refused by the device (%d)", idx, err);
                return err;
            }
        }
        env->aux[idx].seen = true;
        if (env->log->level >= 2)
            verbose(env, "%d: (%02x)", idx, env->insns[idx].code);
        prev = idx;
        err = do_insn(env, &idx);
        if (err < 0) {
            env->err_insn = prev;
            return err;
        }
        if (err == 0)
            continue;
    path_end:
        update_branch_counts(env->cur);
        state_free(env->cur);
        env->cur = NULL;
        if (!env->n_stack)
            break;
        {
            struct pending p = env->stack[--env->n_stack];

            env->cur = p.st;
            idx = p.insn_idx;
            prev = p.prev_insn_idx;
        }
    }
    return 0;
}

/* The deepest chain of frames starting with subprogram 0, 16-byte rounded per frame as the JIT-ing
 * kernel counts when `rounded`; *frames gets its length. Computed level by level from the deepest
 * (NICSIM_MAX_CALL_FRAMES levels, each subprogram once per level): a walk of every chain would
 * take n_subprogs^7 steps when many subprograms call each other. On ties the first callee in
 * subprogram order wins. */
static int chain_depth(struct venv *env, int rounded, uint32_t *depth, uint32_t *frames)
{
    uint32_t n = env->n_subprogs;
    uint32_t *d = calloc(2 * (size_t)n, sizeof(*d)), *fr = calloc(2 * (size_t)n, sizeof(*fr));

    if (!d || !fr) {
        free(d);
        free(fr);
        return -ENOMEM;
    }
    /* row (level % 2): the chain from each subprogram at `level`; the other row: level + 1 */
    for (int level = NICSIM_MAX_CALL_FRAMES - 1; level >= 0; level--) {
        uint32_t *cd = d + (size_t)(level % 2) * n, *cf = fr + (size_t)(level % 2) * n;
        const uint32_t *nd = d + (size_t)((level + 1) % 2) * n;
        const uint32_t *nf = fr + (size_t)((level + 1) % 2) * n;

        for (uint32_t s = 0; s < n; s++) {
            uint32_t own = env->sub_stack[s], best = 0, best_frames = 0;

            if (rounded) /* round_up_stack_depth with the JIT (x86-64 always JITs) */
                own = (own + 15u) & ~15u;
            for (uint32_t t = 0; t < n && level + 1 < NICSIM_MAX_CALL_FRAMES; t++) {
                if (!env->sub_calls[(size_t)s * n + t])
                    continue;
                if (nd[t] > best) {
                    best = nd[t];
                    best_frames = nf[t];
                }
            }
            cd[s] = own + best;
            cf[s] = best_frames + 1;
        }
    }
    *depth = d[0];
    *frames = fr[0];
    free(d);
    free(fr);
    return 0;
}

/* check_max_stack_depth: the deepest chain of frames, each rounded to 16 bytes as the JIT-ing
 * kernel counts, must fit MAX_BPF_STACK. aux->stack_depth gets the chain's real bytes. */
static int check_max_stack_depth(struct venv *env)
{
    uint32_t frames = 0, depth = 0, n = env->n_subprogs;
    int err;

    /* check_max_stack_depth_subprog follows every call instruction whatever the conditions
     * guarding it, so a recursive call (direct or through others) is too deep even when the walk
     * proved that it stops: a chain of NICSIM_MAX_CALL_FRAMES calls from main is refused. The
     * kernel's depth-first walk reports whichever of this and the stack size it meets first; this
     * one checks the frames first. */
    if (n > 1) {
        uint8_t *at = calloc(2 * (size_t)n, 1);
        bool deep = false;

        if (!at)
            return -ENOMEM;
        at[0] = 1; /* row (level % 2): reachable with `level` calls */
        for (int level = 1; level <= NICSIM_MAX_CALL_FRAMES; level++) {
            const uint8_t *prev = at + (size_t)((level - 1) % 2) * n;
            uint8_t *cur = at + (size_t)(level % 2) * n;
            bool any = false;

            memset(cur, 0, n);
            for (uint32_t s = 0; s < n; s++)
                for (uint32_t t = 0; prev[s] && t < n; t++)
                    if (env->sub_calls[(size_t)s * n + t])
                        any = (cur[t] = 1);
            if (!any)
                break;
            deep = level == NICSIM_MAX_CALL_FRAMES;
        }
        free(at);
        if (deep) {
            verbose(env, "the call stack of %d frames is too deep !", NICSIM_MAX_CALL_FRAMES);
            return -E2BIG;
        }
    }
    if (env->n_subprogs > 1) {
        err = chain_depth(env, 1, &depth, &frames);
        if (err)
            return err;
        if (depth > MAX_STACK) {
            verbose(env, "combined stack size of %u calls is %u. Too large", frames, depth);
            return -EACCES;
        }
    }
    return chain_depth(env, 0, &env->prog->aux->stack_depth, &frames);
}

/* ---------------------------------------------------------------------------------------------
 * Dead code (opt_hard_wire_dead_code_branches, opt_remove_dead_code, opt_remove_nops).
 */
static void offload_replace_insn(struct venv *env, uint32_t off, struct nicsim_insn *insn)
{
    struct nicsim_bpf_prog_offload *o = env->prog->aux->offload;
    int ret = -EOPNOTSUPP;

    if (!env->ops || !o)
        return;
    if (!o->opt_failed && env->ops->replace_insn)
        ret = env->ops->replace_insn(&env->pub, off, insn);
    o->opt_failed |= ret != 0;
}

static void offload_remove_insns(struct venv *env, uint32_t off, uint32_t cnt)
{
    struct nicsim_bpf_prog_offload *o = env->prog->aux->offload;
    int ret = -EOPNOTSUPP;

    if (!env->ops || !o)
        return;
    if (!o->opt_failed && env->ops->remove_insns)
        ret = env->ops->remove_insns(&env->pub, off, cnt);
    o->opt_failed |= ret != 0;
}

static void opt_hard_wire_dead_code_branches(struct venv *env)
{
    for (uint32_t i = 0; i < env->len; i++) {
        struct nicsim_insn *in = &env->insns[i];
        struct nicsim_insn ja = {.code = OP_JA};

        if (in->code == OP_LDDW) {
            i++;
            continue;
        }
        if (!insn_is_cond_jump(in->code))
            continue;
        if (!env->aux[i + 1].seen)
            ja.off = in->off;
        else if (!env->aux[i + 1 + in->off].seen)
            ja.off = 0;
        else
            continue;
        offload_replace_insn(env, i, &ja);
        *in = ja;
    }
}

/* verifier_remove_insns: drop [off, off + cnt) and re-aim every jump and call. */
static void remove_insns(struct venv *env, uint32_t off, uint32_t cnt)
{
    uint32_t n = env->len;

    offload_remove_insns(env, off, cnt);
    for (uint32_t i = 0; i < n; i++) {
        struct nicsim_insn *in = &env->insns[i];
        uint8_t cls = insn_class(in->code), op = insn_op(in->code);
        int64_t t, nt, ni;
        int is_imm;

        if (i >= off && i < off + cnt)
            continue;
        if (in->code == OP_LDDW) {
            i++;
            continue;
        }
        if (cls != BPF_JMP && cls != BPF_JMP32)
            continue;
        if (op == BPF_EXIT || (op == BPF_CALL && in->src != PSEUDO_CALL))
            continue;
        is_imm = op == BPF_CALL || (cls == BPF_JMP32 && op == BPF_JA);
        t = (int64_t)i + (is_imm ? in->imm : in->off) + 1;
        nt = t < off ? t : t >= off + cnt ? t - cnt : off;
        ni = i < off ? i : (int64_t)i - cnt;
        if (is_imm)
            in->imm = (int32_t)(nt - ni - 1);
        else
            in->off = (int16_t)(nt - ni - 1);
    }
    memmove(&env->insns[off], &env->insns[off + cnt], (n - off - cnt) * sizeof(*env->insns));
    memmove(&env->aux[off], &env->aux[off + cnt], (n - off - cnt) * sizeof(*env->aux));
    env->len = n - cnt;
    env->prog->len = env->len;
}

static void opt_remove_dead_code(struct venv *env)
{
    for (uint32_t i = 0; i < env->len; i++) {
        uint32_t j = 0;

        while (i + j < env->len && !env->aux[i + j].seen)
            j++;
        if (j)
            remove_insns(env, i, j);
    }
}

static void opt_remove_nops(struct venv *env)
{
    for (uint32_t i = 0; i < env->len; i++) {
        const struct nicsim_insn *in = &env->insns[i];

        if (in->code == OP_LDDW) {
            i++;
            continue;
        }
        if ((in->code == OP_JA || in->code == OP_MAY_GOTO) && in->off == 0 && !in->imm &&
            !in->src && !in->dst) { /* ja +0, may_goto +0 */
            remove_insns(env, i, 1);
            i--;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * bpf_check.
 */
static void env_free(struct venv *env)
{
    if (env->explored) {
        for (uint32_t i = 0; i < env->attr->insn_cnt; i++) {
            struct vstate *s = env->explored[i];

            while (s) {
                struct vstate *n = s->next_at;

                state_free(s);
                s = n;
            }
        }
    }
    for (uint32_t i = 0; i < env->n_stack; i++)
        state_free(env->stack[i].st);
    state_free(env->cur);
    free(env->stack);
    free(env->explored);
    free(env->prune);
    free(env->live);
    free(env->aux);
    free(env->sub_start);
    free(env->sub_stack);
    free(env->sub_calls);
}

int nicsim_bpf_check(struct nicsim_bpf_prog *prog, struct nicsim_kern_prog_load_attr *attr,
                     struct vlog *log)
{
    struct venv env;
    int err;

    memset(&env, 0, sizeof(env));
    env.prog = prog;
    env.kern = prog->kern;
    env.attr = attr;
    env.log = log;
    env.insns = prog->insnsi;
    env.len = prog->len;
    env.err_insn = -1;
    env.allow_uninit_stack = !prog->kern->opts.deny_uninit_stack;
    env.pub.prog = prog;
    env.pub.priv = &env;
    if (nicsim_bpf_prog_is_offloaded(prog) && prog->aux->offload)
        env.ops = prog->aux->offload->offdev->ops;
    env.aux = calloc(env.len, sizeof(*env.aux));
    env.prune = calloc(env.len, 1);
    env.explored = calloc(env.len, sizeof(*env.explored));
    if (!env.aux || !env.prune || !env.explored) {
        err = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < env.len; i++) {
        env.aux[i].map_index = -1;
        env.aux[i].orig_idx = (int32_t)i;
    }
    env.pub.insn_aux_data = env.aux;

    err = check_subprogs(&env);
    if (err)
        goto out;
    err = resolve_pseudo_ldimm64(&env);
    if (err)
        goto out;
    if (nicsim_bpf_prog_is_offloaded(prog)) {
        /* bpf_prog_offload_verifier_prep */
        struct nicsim_bpf_prog_offload *o = prog->aux->offload;

        err = -ENODEV;
        if (o) {
            err = o->offdev->ops->prepare ? o->offdev->ops->prepare(prog) : 0;
            o->dev_state = !err;
        }
        if (err) {
            /* prepare has no verifier env to log to: the refusal is always explained here */
            verbose(&env, "device refused the program (%d)", err);
            goto out;
        }
    }
    err = check_cfg(&env);
    if (!err)
        err = compute_live_regs(&env);
    if (err)
        goto out;
    err = do_check(&env);
    if (!err && env.ops) {
        /* bpf_prog_offload_finalize; explained here unless the driver logged a reason */
        size_t logged = log->len;

        env.pub.cur_regs = NULL;
        err = env.ops->finalize ? env.ops->finalize(&env.pub) : 0;
        if (err && log->len == logged)
            verbose(&env, "device refused the program at finalize (%d)", err);
    }
    if (err)
        goto out;
    err = check_max_stack_depth(&env);
    if (err)
        goto out;
    if (log->level >= 1)
        verbose(&env, "processed %u insns", env.insn_processed);

    opt_hard_wire_dead_code_branches(&env);
    opt_remove_dead_code(&env);
    opt_remove_nops(&env);
    prog->len = env.len;
    prog->insnsi = env.insns;
out:
    attr->err_insn = err ? env.err_insn : -1;
    env_free(&env);
    return err;
}
