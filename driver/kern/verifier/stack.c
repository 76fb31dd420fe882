/* SPDX-License-Identifier: MIT */
/* The stack: frames growing with their deepest access, stack writes and reads (spills, fills,
 * zero and misc bytes), and the stack depth of call chains (check_max_stack_depth). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

/* Grow frame `frameno` of the current state to hold `-off` bytes; the frame may move. */
struct frame *nicsim_vrf_grow_stack(struct venv *env, uint32_t frameno, int off)
{
    struct frame *f = env->cur->fr[frameno], *nf;
    uint32_t need = ((uint32_t)(-off) + 7u) & ~7u;

    if (need <= f->depth)
        return f;
    nf = nicsim_vrf_frame_dup(f, need);
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
        int s = nicsim_vrf_find_subprog(env, t);

        return s < 0 ? 0 : (uint32_t)s;
    }
}

void nicsim_vrf_note_stack_depth(struct venv *env, uint32_t frameno)
{
    uint32_t s = frame_subprog(env, frameno);
    uint32_t d = env->cur->fr[frameno]->depth;

    if (d > env->sub_stack[s])
        env->sub_stack[s] = d;
}

/* A stack access through `reg` at insn offset `off`: the frame and the offset from its r10. */
int nicsim_vrf_stack_access_off(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                int off, int size, int is_write, const char *extra, int *out)
{
    int o = reg->off + off;

    if (reg->var_off) {
        nicsim_vrf_verbose(
            env,
            "variable stack access var_off=(unknown) off=%d size=%d is not supported by "
            "the nicsim verifier",
            o, size);
        return -EACCES;
    }
    if (o < -MAX_STACK || o + size > 0 || size <= 0) {
        nicsim_vrf_verbose(env, "invalid%s stack R%d off=%d size=%d", extra, regno, o, size);
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
    struct tnum t = nicsim_vrf_tnum_add(nicsim_vrf_tnum_of(ptr),
                                        nicsim_vrf_tnum_const((uint64_t)(int64_t)(ptr->off + off)));
    char tn[48];

    if (size <= 1 || nicsim_vrf_tnum_aligned(t, size))
        return 0;
    nicsim_vrf_verbose(env, "misaligned stack access off %s+%d+%d size %d",
                       nicsim_vrf_tnum_str(nicsim_vrf_tnum_of(ptr), tn, sizeof(tn)), ptr->off, off,
                       size);
    return -EACCES;
}

void nicsim_vrf_stack_mark_write(struct frame *f, int o, int size, uint8_t type)
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
int nicsim_vrf_reg_width(const struct nicsim_reg_state *r)
{
    return r->umax ? 64 - __builtin_clzll(r->umax) : 0;
}

/* assign_scalar_id_before_mov: an unknown scalar gets an id before it is copied, so that the
 * copy and the original learn together. */
void nicsim_vrf_assign_scalar_id(struct venv *env, struct nicsim_reg_state *r)
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
int nicsim_vrf_check_stack_write(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                                 int off, int size, const struct nicsim_reg_state *val,
                                 int imm_is_zero, int64_t imm)
{
    struct nicsim_reg_state v, fake;
    struct frame *f;
    int o, err;

    err = check_stack_alignment(env, ptr, off, size);
    if (!err)
        err = nicsim_vrf_stack_access_off(env, regno, ptr, off, size, 1, " write to", &o);
    if (err)
        return err;
    if (val) {
        v = *val; /* the frame holding it may move */
        val = &v;
    }
    f = nicsim_vrf_grow_stack(env, ptr->frameno, o);
    if (!f)
        return -ENOMEM;
    nicsim_vrf_note_stack_depth(env, ptr->frameno);
    if (o % 8 == 0 && (!val || val->type == NICSIM_SCALAR_VALUE || size == 8)) {
        int slot = (-o - 8) / 8;

        if (val && nicsim_vrf_is_pointer(val) && size != 8) {
            nicsim_vrf_verbose(env, "invalid size of register spill");
            return -EACCES;
        }
        if (!val) {
            nicsim_vrf_mark_known(&fake, (uint64_t)imm);
            val = &fake;
        }
        f->spill[slot] = *val;
        if (val->type == NICSIM_SCALAR_VALUE && nicsim_vrf_reg_width(val) > size * 8)
            f->spill[slot].id = 0; /* a narrowing spill: no longer the same value */
        for (int j = 8 - size; j < 8; j++)
            f->stype[slot * 8 + j] = STACK_SPILL;
        slot_rest_misc(env, f, slot, size);
        return 0;
    }
    if (val && nicsim_vrf_is_pointer(val)) {
        nicsim_vrf_verbose(env, "invalid size of register spill");
        return -EACCES;
    }
    if (val)
        nicsim_vrf_stack_mark_write(f, o, size,
                                    val->known && val->value == 0 ? STACK_ZERO : STACK_MISC);
    else
        nicsim_vrf_stack_mark_write(f, o, size, imm_is_zero ? STACK_ZERO : STACK_MISC);
    return 0;
}

/* check_stack_read_fixed_off. */
int nicsim_vrf_check_stack_read(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                                int off, int size, struct nicsim_reg_state *dst)
{
    struct frame *f = env->cur->fr[ptr->frameno];
    int o, err, zero_cnt = 0, spill_cnt = 0, slot;
    bool spilled;

    err = check_stack_alignment(env, ptr, off, size);
    if (!err)
        err = nicsim_vrf_stack_access_off(env, regno, ptr, off, size, 0, " read from", &o);
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
            nicsim_vrf_verbose(env, "invalid size of register fill");
            return -EACCES;
        }
        if (!dst)
            return 0;
        if (size <= spill_size && o % 8 == 0) {
            /* the low bytes of the spilled value (the caller truncates it to `size`) */
            if (size == 4 && spill_size == 4 && nicsim_vrf_reg_width(sp) <= 32)
                nicsim_vrf_assign_scalar_id(env, sp);
            *dst = *sp;
            if (nicsim_vrf_reg_width(sp) > size * 8)
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
            nicsim_vrf_verbose(env, "invalid read from stack off %d+%d size %d", o, i, size);
            return -EACCES;
        }
    }
    if (!dst)
        return 0;
    if ((spilled && spill_cnt == size && f->spill[slot].tn_mask == 0 &&
         f->spill[slot].tn_value == 0) ||
        zero_cnt == size)
        nicsim_vrf_mark_known(dst, 0);
    else
        nicsim_vrf_mark_unknown(dst);
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
int nicsim_vrf_check_max_stack_depth(struct venv *env)
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
            nicsim_vrf_verbose(env, "the call stack of %d frames is too deep !",
                               NICSIM_MAX_CALL_FRAMES);
            return -E2BIG;
        }
    }
    if (env->n_subprogs > 1) {
        err = chain_depth(env, 1, &depth, &frames);
        if (err)
            return err;
        if (depth > MAX_STACK) {
            nicsim_vrf_verbose(env, "combined stack size of %u calls is %u. Too large", frames,
                               depth);
            return -EACCES;
        }
    }
    return chain_depth(env, 0, &env->prog->aux->stack_depth, &frames);
}
