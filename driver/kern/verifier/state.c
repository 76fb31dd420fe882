/* SPDX-License-Identifier: MIT */
/* Verifier states: call frames with their stacks, state copies and the work they cost, the
 * stack of pending branches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

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

struct frame *nicsim_vrf_frame_dup(const struct frame *src, uint32_t depth)
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

struct frame *nicsim_vrf_frame_new(int callsite, uint32_t frameno)
{
    struct frame *f = frame_alloc(0);

    if (!f)
        return NULL;
    f->callsite = callsite;
    f->regs[REG_FP].type = NICSIM_PTR_TO_STACK;
    f->regs[REG_FP].frameno = (uint8_t)frameno;
    return f;
}

void nicsim_vrf_state_free(struct vstate *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nframes; i++)
        free(s->fr[i]);
    free(s);
}

struct vstate *nicsim_vrf_state_copy(const struct vstate *src)
{
    struct vstate *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->nframes = src->nframes;
    s->parent = src->parent;
    s->branches = src->branches;
    s->may_goto_depth = src->may_goto_depth;
    for (uint32_t i = 0; i < src->nframes; i++) {
        s->fr[i] = nicsim_vrf_frame_dup(src->fr[i], 0);
        if (!s->fr[i]) {
            s->nframes = i;
            nicsim_vrf_state_free(s);
            return NULL;
        }
    }
    return s;
}

struct frame *nicsim_vrf_cur_frame(struct venv *env)
{
    return env->cur->fr[env->cur->nframes - 1];
}
struct nicsim_reg_state *nicsim_vrf_cur_regs(struct venv *env)
{
    return nicsim_vrf_cur_frame(env)->regs;
}

/* Frame slots of a state: what copying, comparing or hashing it costs. */
uint64_t nicsim_vrf_state_slots(const struct vstate *st)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < st->nframes; i++)
        n += NREGS + st->fr[i]->depth / 8;
    return n;
}

/* Charge `slots` of state work; -E2BIG once over STATE_WORK_LIMIT. */
int nicsim_vrf_charge_state_work(struct venv *env, uint64_t slots)
{
    env->state_work += slots;
    if (env->state_work <= STATE_WORK_LIMIT)
        return 0;
    nicsim_vrf_verbose(
        env,
        "BPF program is too complex: %llu verifier state slots copied or compared after %u "
        "insns (limit %llu)",
        (unsigned long long)env->state_work, env->insn_processed,
        (unsigned long long)STATE_WORK_LIMIT);
    return -E2BIG;
}

/* A path ended: the states on it have one unfinished path less. */
void nicsim_vrf_update_branch_counts(struct vstate *st)
{
    while (st) {
        if (st->branches)
            st->branches--;
        if (st->branches)
            break;
        st = st->parent;
    }
}

int nicsim_vrf_push_stack(struct venv *env, int insn_idx, int prev_insn_idx)
{
    struct vstate *st;

    if (env->n_stack >= NICSIM_COMPLEXITY_LIMIT_JMP_SEQ) {
        nicsim_vrf_verbose(env, "The sequence of %d jumps is too complex.", env->n_stack);
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
    if (nicsim_vrf_charge_state_work(env, nicsim_vrf_state_slots(env->cur)))
        return -E2BIG;
    st = nicsim_vrf_state_copy(env->cur);
    if (!st)
        return -ENOMEM;
    st->branches = 1;
    if (st->parent)
        st->parent->branches++;
    env->stack[env->n_stack++] = (struct pending){st, insn_idx, prev_insn_idx};
    return 0;
}
