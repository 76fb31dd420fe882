/* SPDX-License-Identifier: MIT */
/* State pruning: equivalence of registers and stack slots against explored states, state
 * hashing, and is_state_visited (checkpoints, infinite loop detection). */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

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

bool nicsim_vrf_regs_exact(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur,
                           struct idmap *m)
{
    if (old->type != cur->type || old->known != cur->known || old->var_off != cur->var_off ||
        old->off != cur->off || old->value != cur->value || old->map_ptr != cur->map_ptr ||
        old->frameno != cur->frameno || old->range != cur->range || old->umin != cur->umin ||
        old->umax != cur->umax || old->smin != cur->smin || old->smax != cur->smax ||
        old->tn_value != cur->tn_value || old->tn_mask != cur->tn_mask)
        return false;
    {
        struct bounds32 a = nicsim_vrf_reg_bounds32(old), b = nicsim_vrf_reg_bounds32(cur);

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
        return nicsim_vrf_regs_exact(old, cur, m);
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
        return nicsim_vrf_range_within(old, cur) &&
               nicsim_vrf_tnum_in(nicsim_vrf_tnum_of(old), nicsim_vrf_tnum_of(cur)) &&
               nicsim_vrf_bounds32_within(nicsim_vrf_reg_bounds32(old),
                                          nicsim_vrf_reg_bounds32(cur));
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        /* at least the range old had, from the same offset, with the same copies */
        if (old->range > cur->range || old->off != cur->off || !check_ids(m, old->id, cur->id))
            return 0;
        return nicsim_vrf_range_within(old, cur) &&
               nicsim_vrf_tnum_in(nicsim_vrf_tnum_of(old), nicsim_vrf_tnum_of(cur));
    case NICSIM_PTR_TO_MAP_VALUE_OR_NULL:
        if (!check_ids(m, old->id, cur->id))
            return 0;
        /* fallthrough */
    default:
        if (old->map_ptr != cur->map_ptr || old->frameno != cur->frameno || old->off != cur->off)
            return 0;
        return nicsim_vrf_range_within(old, cur) &&
               nicsim_vrf_tnum_in(nicsim_vrf_tnum_of(old), nicsim_vrf_tnum_of(cur));
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

/* is_state_visited: 1 = prune (an equivalent state was explored), 0 = go on, <0 error. */
/* same_callsites: the two states are in the same function reached through the same calls. */
bool nicsim_vrf_same_callsites(const struct vstate *a, const struct vstate *b)
{
    if (a->nframes != b->nframes)
        return false;
    for (uint32_t i = 0; i < a->nframes; i++)
        if (a->fr[i]->callsite != b->fr[i]->callsite)
            return false;
    return true;
}

int nicsim_vrf_is_state_visited(struct venv *env, int idx)
{
    struct vstate **pp = &env->explored[idx];
    struct vstate *cur = env->cur, *n;
    uint64_t slots = nicsim_vrf_state_slots(cur), hash = 0;
    uint32_t in_progress = 0;
    bool hashed = false, may_goto = env->insns[idx].code == OP_MAY_GOTO;
    int add;

    while (*pp) {
        struct vstate *sl = *pp;

        if (sl->branches) {
            in_progress++;
            /* may_goto: the loop came back to a state within one of an earlier iteration
             * (another depth): what follows is explored from there */
            if (may_goto && sl->may_goto_depth != cur->may_goto_depth &&
                nicsim_vrf_same_callsites(sl, cur)) {
                if (nicsim_vrf_charge_state_work(env, slots))
                    return -E2BIG;
                if (states_equal(env, sl, cur, idx, 0)) {
                    sl->hit++;
                    return 1;
                }
            }
            if (!hashed) {
                if (nicsim_vrf_charge_state_work(env, slots))
                    return -E2BIG;
                hash = state_hash(env, cur, idx);
                hashed = true;
            }
            if (sl->hash == hash && sl->may_goto_depth == cur->may_goto_depth &&
                states_equal(env, sl, cur, idx, 1)) {
                nicsim_vrf_verbose(env, "infinite loop detected at insn %d", idx);
                return -EINVAL;
            }
            pp = &sl->next_at;
            continue;
        }
        if (nicsim_vrf_charge_state_work(
                env, slots > nicsim_vrf_state_slots(sl) ? slots : nicsim_vrf_state_slots(sl)))
            return -E2BIG;
        if (states_equal(env, sl, cur, idx, 0)) {
            sl->hit++;
            return 1;
        }
        sl->miss++;
        /* Forget states that rarely help (the kernel's heuristic). */
        if (sl->miss > sl->hit * 3 + 3) {
            *pp = sl->next_at;
            nicsim_vrf_state_free(sl); /* fully explored: no unfinished path refers to it */
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
    if (nicsim_vrf_charge_state_work(env, hashed ? slots : 2 * slots))
        return -E2BIG;
    env->prev_jmps = env->jmps_processed;
    env->prev_insns = env->insn_processed;
    n = nicsim_vrf_state_copy(cur);
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
