/* SPDX-License-Identifier: MIT */
/* Calls: helper argument checks and map/helper compatibility, helper calls, bpf-to-bpf calls
 * and exits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

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
        err = nicsim_vrf_stack_access_off(env, regno, &reg, 0, size, is_write,
                                          " indirect access to", &o);
        if (err)
            return err;
        if (is_write) {
            f = nicsim_vrf_grow_stack(env, reg.frameno, o);
            if (!f)
                return -ENOMEM;
            nicsim_vrf_note_stack_depth(env, reg.frameno);
            nicsim_vrf_stack_mark_write(f, o, size, STACK_MISC);
            return 0;
        }
        for (int i = 0; i < size; i++) {
            int k = -(o + i) - 1;

            if (((uint32_t)k >= f->depth || f->stype[k] == STACK_INVALID) &&
                !env->allow_uninit_stack) {
                nicsim_vrf_verbose(env, "invalid indirect read from stack R%d off %d+%d size %d",
                                   regno, o, i, size);
                return -EACCES;
            }
        }
        return 0;
    }
    case NICSIM_PTR_TO_MAP_VALUE:
        return nicsim_vrf_check_map_value_access(env, regno, &reg, 0, size, is_write, zero_ok);
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        /* a zero size got here only where the helper allows it */
        return nicsim_vrf_check_packet_access(env, regno, &reg, reg.off, size, 1);
    default:
        return -EACCES;
    }
}

static int check_func_arg(struct venv *env, int arg, const struct helper_proto *fn,
                          struct call_meta *meta)
{
    int regno = arg + 1;
    uint8_t type = fn->arg[arg];
    struct nicsim_reg_state *regs = nicsim_vrf_cur_regs(env);
    struct nicsim_reg_state regv = regs[regno];
    const struct nicsim_reg_state *reg = &regv;
    int err, is_mem, pkt;

    if (type == ARG_DONTCARE)
        return 0;
    err = nicsim_vrf_check_reg_read(env, regno);
    if (err)
        return err;
    switch (type) {
    case ARG_ANYTHING:
        return 0;
    case ARG_CONST_MAP_PTR:
        if (reg->type != NICSIM_CONST_PTR_TO_MAP) {
            nicsim_vrf_verbose(env, "R%d type=%s expected=map_ptr", regno,
                               nicsim_reg_type_str(reg->type));
            return -EACCES;
        }
        meta->map = reg->map_ptr;
        return 0;
    case ARG_PTR_TO_CTX:
        if (reg->type != NICSIM_PTR_TO_CTX) {
            nicsim_vrf_verbose(env, "R%d type=%s expected=ctx", regno,
                               nicsim_reg_type_str(reg->type));
            return -EACCES;
        }
        if (reg->off < 0) {
            nicsim_vrf_verbose(env, "negative offset ctx ptr R%d off=%d disallowed", regno,
                               reg->off);
            return -EACCES;
        }
        if (reg->off || reg->var_off) {
            nicsim_vrf_verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed", regno,
                               reg->off);
            return -EACCES;
        }
        return 0;
    case ARG_CONST_SIZE:
    case ARG_CONST_SIZE_OR_ZERO:
        if (reg->type != NICSIM_SCALAR_VALUE) {
            nicsim_vrf_verbose(env, "R%d type=%s expected=scalar", regno,
                               nicsim_reg_type_str(reg->type));
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
        nicsim_vrf_verbose(env, "R%d type=%s expected=fp, pkt, pkt_meta, %s", regno,
                           nicsim_reg_type_str(reg->type),
                           is_mem ? "map_value" : "map_key, map_value");
        return -EACCES;
    }
    if (pkt && !fn->pkt_access) {
        nicsim_vrf_verbose(env, "helper access to the packet is not allowed");
        return -EACCES;
    }
    if (type == ARG_PTR_TO_MAP_KEY || type == ARG_PTR_TO_MAP_VALUE ||
        type == ARG_PTR_TO_UNINIT_MAP_VALUE) {
        uint32_t size;

        if (!meta->map) {
            nicsim_vrf_verbose(env, "invalid map_ptr to access map->%s",
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

        err = nicsim_vrf_check_reg_read(env, regno + 1);
        if (err)
            return err;
        if (sz->type != NICSIM_SCALAR_VALUE) {
            nicsim_vrf_verbose(env, "R%d type=%s expected=scalar", regno + 1,
                               nicsim_reg_type_str(sz->type));
            return -EACCES;
        }
        /* check_mem_size_reg: the largest size the register may hold */
        if (sz->smin < 0) {
            nicsim_vrf_verbose(
                env, "R%d min value is negative, either use unsigned or 'var &= const'", regno + 1);
            return -EACCES;
        }
        if (sz->umin == 0 && !zero_ok) {
            nicsim_vrf_verbose(env, "R%d invalid zero-sized read: u64=[%llu,%llu]", regno + 1,
                               (unsigned long long)sz->umin, (unsigned long long)sz->umax);
            return -EACCES;
        }
        if (sz->umax >= (1u << 29)) {
            nicsim_vrf_verbose(
                env, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
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
        nicsim_vrf_verbose(env, "cannot pass map_type %u into func %s#%d", map->map_type,
                           nicsim_bpf_helper_name(f), f);
        return -EINVAL;
    }
    return 0;
}

/* clear_all_pkt_pointers: the packet moved; every pointer into it is now a number. */
static void clear_all_pkt_pointers(struct vstate *st)
{
    struct nicsim_reg_state *regs[MAX_STATE_REGS];
    uint32_t n = nicsim_vrf_state_regs(st, regs, MAX_STATE_REGS);

    for (uint32_t i = 0; i < n; i++)
        if (nicsim_vrf_is_pkt(regs[i]) || regs[i]->type == NICSIM_PTR_TO_PACKET_END)
            nicsim_vrf_mark_unknown(regs[i]);
}

int nicsim_vrf_do_helper_call(struct venv *env, const struct nicsim_insn *in)
{
    int32_t id = in->imm;
    const struct helper_proto *fn;
    struct call_meta meta = {.map = NULL, .func_id = id};
    struct nicsim_reg_state *regs;
    int err;

    if (id < 0 || id >= nicsim_helper_max_id()) {
        nicsim_vrf_verbose(env, "invalid func %s#%d", nicsim_bpf_helper_name(id), id);
        return -EINVAL;
    }
    fn = nicsim_helper_proto(id);
    if (!fn) {
        nicsim_vrf_verbose(env, "program of this type cannot use helper %s#%d",
                           nicsim_bpf_helper_name(id), id);
        return -EINVAL;
    }
    if (!fn->modelled) {
        nicsim_vrf_verbose(env, "helper %s#%d is not supported by the nicsim verifier",
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
    regs = nicsim_vrf_cur_regs(env);
    for (int r = 1; r <= 5; r++)
        nicsim_vrf_mark_not_init(&regs[r]);
    if (nicsim_helper_changes_pkt_data(id))
        clear_all_pkt_pointers(env->cur);
    switch (fn->ret) {
    case RET_VOID:
        nicsim_vrf_mark_not_init(&regs[0]);
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
        nicsim_vrf_mark_unknown(&regs[0]);
        break;
    }
    return 0;
}

int nicsim_vrf_do_local_call(struct venv *env, const struct nicsim_insn *in, int *idx)
{
    struct vstate *st = env->cur;
    struct frame *caller = nicsim_vrf_cur_frame(env), *callee;
    int target = *idx + in->imm + 1;

    if (st->nframes >= NICSIM_MAX_CALL_FRAMES) {
        nicsim_vrf_verbose(env, "the call stack of %u frames is too deep", st->nframes + 1);
        return -E2BIG;
    }
    callee = nicsim_vrf_frame_new(*idx, st->nframes);
    if (!callee)
        return -ENOMEM;
    for (int r = 1; r <= 5; r++)
        callee->regs[r] = caller->regs[r];
    st->fr[st->nframes++] = callee;
    *idx = target;
    return 0;
}

/* 1: the path ended; 0: continue at *idx. */
int nicsim_vrf_do_exit(struct venv *env, int *idx)
{
    struct vstate *st = env->cur;
    struct nicsim_reg_state r0;
    struct frame *callee, *caller;

    if (st->nframes == 1) {
        /* check_return_code: only the main program's exit needs R0. XDP has no return range
         * check; root may return a pointer */
        int err = nicsim_vrf_check_reg_read(env, 0);

        return err ? err : 1;
    }
    /* prepare_func_exit: the caller gets whatever R0 holds, unwritten for a subprogram
     * returning void (reading it after the call is then refused) */
    r0 = nicsim_vrf_cur_regs(env)[0];
    callee = st->fr[st->nframes - 1];
    caller = st->fr[st->nframes - 2];
    if (r0.type == NICSIM_PTR_TO_STACK && r0.frameno == st->nframes - 1) {
        nicsim_vrf_verbose(env, "cannot return stack pointer to the caller frame");
        return -EINVAL;
    }
    caller->regs[0] = r0;
    for (int r = 1; r <= 5; r++)
        nicsim_vrf_mark_not_init(&caller->regs[r]);
    *idx = callee->callsite + 1;
    free(callee);
    st->fr[--st->nframes] = NULL;
    return 0;
}
