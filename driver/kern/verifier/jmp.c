/* SPDX-License-Identifier: MIT */
/* Branches: deciding conditional jumps from bounds, refining both sides, packet range checks
 * (find_good_pkt_pointers / try_match_pkt_pointers), null checks, may_goto and its widening. */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

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
    struct bounds32 b = nicsim_vrf_reg_bounds32(r);
    struct tnum lo = nicsim_vrf_tnum_cast(nicsim_vrf_tnum_of(r), 4);

    memset(v, 0, sizeof(*v));
    v->type = NICSIM_SCALAR_VALUE;
    v->umin = b.umin;
    v->umax = b.umax;
    v->smin = b.smin;
    v->smax = b.smax;
    nicsim_vrf_set_tnum(v, lo);
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
    nicsim_vrf_set_tnum(r, (struct tnum){(r->tn_value & ~lo32) | (v->tn_value & lo32),
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
    if (nicsim_vrf_is_pkt(a) || a->type == NICSIM_PTR_TO_PACKET_END) {
        if ((nicsim_vrf_is_pkt(b) || b->type == NICSIM_PTR_TO_PACKET_END) && !is32)
            return pkt_ptr_branch_taken(a, b, op);
    }
    if (nicsim_vrf_is_pointer(a) || nicsim_vrf_is_pointer(b)) {
        const struct nicsim_reg_state *ptr = nicsim_vrf_is_pointer(a) ? a : b,
                                      *k = nicsim_vrf_is_pointer(a) ? b : a;
        uint64_t v = is32 ? (uint32_t)k->value : k->value;

        if (nicsim_vrf_is_pointer(k) || !k->known || !not_null(ptr) || v != 0)
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
        a->umin = b->umin = nicsim_vrf_umax64(a->umin, b->umin);
        a->umax = b->umax = nicsim_vrf_umin64(a->umax, b->umax);
        a->smin = b->smin = nicsim_vrf_smax64(a->smin, b->smin);
        a->smax = b->smax = nicsim_vrf_smin64(a->smax, b->smax);
        nicsim_vrf_set_tnum(
            a, nicsim_vrf_tnum_intersect(nicsim_vrf_tnum_of(a), nicsim_vrf_tnum_of(b)));
        nicsim_vrf_set_tnum(b, nicsim_vrf_tnum_of(a));
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
            nicsim_vrf_set_tnum(
                a, nicsim_vrf_tnum_or(nicsim_vrf_tnum_of(a), nicsim_vrf_tnum_const(b->value)));
        break;
    case JSET_NOT:
        if (b->known)
            nicsim_vrf_set_tnum(
                a, nicsim_vrf_tnum_and(nicsim_vrf_tnum_of(a), nicsim_vrf_tnum_const(~b->value)));
        break;
    case BPF_JGT:
    case BPF_JGE: {
        uint64_t d = op == BPF_JGT;

        /* an empty range (a > UINT64_MAX) wraps and is caught by reg_bounds_ok */
        a->umin = nicsim_vrf_umax64(a->umin, b->umin + d);
        b->umax = nicsim_vrf_umin64(b->umax, a->umax - d);
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
        a->smin = nicsim_vrf_smax64(a->smin, b->smin + d);
        b->smax = nicsim_vrf_smin64(b->smax, a->smax - d);
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
                nicsim_vrf_mark_known(reg, 0);
            else
                mark_not_null(reg);
        }
        for (uint32_t s = 0; s < fr->depth / 8; s++) {
            struct nicsim_reg_state *reg = &fr->spill[s];

            if (fr->stype[s * 8 + 7] != STACK_SPILL ||
                reg->type != NICSIM_PTR_TO_MAP_VALUE_OR_NULL || reg->id != id)
                continue;
            if (is_null)
                nicsim_vrf_mark_known(reg, 0);
            else
                mark_not_null(reg);
        }
    }
}

/* Every register and spilled register of every frame of a state. */
uint32_t nicsim_vrf_state_regs(struct vstate *st, struct nicsim_reg_state **out, uint32_t cap)
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
    n = nicsim_vrf_state_regs(st, regs, MAX_STATE_REGS);
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
    n = nicsim_vrf_state_regs(st, regs, MAX_STATE_REGS);
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
    nicsim_vrf_reg_bounds_sync(&a);
    nicsim_vrf_reg_bounds_sync(&b);
    if (!nicsim_vrf_reg_bounds_ok(&a) || !nicsim_vrf_reg_bounds_ok(&b))
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
        nicsim_vrf_regs_exact(old, cur, &m))
        return;
    nicsim_vrf_mark_unknown(cur);
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
int nicsim_vrf_do_may_goto(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    struct vstate *prev = NULL, *queued;
    int err;

    if (in->code != OP_MAY_GOTO || in->src || in->dst || in->imm) {
        nicsim_vrf_verbose(env, "invalid may_goto imm %d", in->imm);
        return -EINVAL;
    }
    for (struct vstate *sl = env->explored[*idx]; sl; sl = sl->next_at) {
        if (sl != env->new_checkpoint && sl->branches && nicsim_vrf_same_callsites(sl, env->cur)) {
            prev = sl;
            break;
        }
    }
    err = nicsim_vrf_push_stack(env, *idx + 1, *idx);
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
int nicsim_vrf_do_cond_jmp(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    uint8_t op = insn_op(in->code);
    int is32 = insn_class(in->code) == BPF_JMP32, x = insn_src(in->code) == BPF_X;
    struct nicsim_reg_state *regs = nicsim_vrf_cur_regs(env), b;
    int err, taken, target = *idx + in->off + 1;
    struct vstate *other;
    uint32_t null_id = 0;
    int null_on_taken = 0;

    if (x) {
        if (in->imm) {
            nicsim_vrf_verbose(env, "BPF_JMP/JMP32 uses reserved fields");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_read(env, in->src);
        if (err)
            return err;
        b = regs[in->src];
    } else {
        if (in->src) {
            nicsim_vrf_verbose(env, "BPF_JMP/JMP32 uses reserved fields");
            return -EINVAL;
        }
        nicsim_vrf_mark_known(&b, is32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm);
    }
    err = nicsim_vrf_check_reg_read(env, in->dst);
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
    err = nicsim_vrf_push_stack(env, target, *idx);
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
        nicsim_vrf_update_branch_counts(other);
        nicsim_vrf_state_free(other);
    }
    if (!refine_branch(env->cur, in->dst, x ? in->src : -1, &b, negate_jmp(op), is32))
        return 1;
    return 0;
}
