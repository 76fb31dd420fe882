/* SPDX-License-Identifier: MIT */
/* Structural checks: opcodes, subprograms, LDDW map references (with the offload device match),
 * the control-flow graph and the static register liveness. */
#include <errno.h>
#include <stdlib.h>

#include "verifier_internal.h"

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

int nicsim_vrf_find_subprog(const struct venv *env, int off)
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
int nicsim_vrf_check_subprogs(struct venv *env)
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
            nicsim_vrf_verbose(env, "call to invalid destination");
            return -EINVAL;
        }
        for (int j = 0; j < n; j++)
            dup |= env->sub_start[j] == t;
        if (dup)
            continue;
        if (n >= NICSIM_MAX_SUBPROGS) {
            env->err_insn = (int)i;
            nicsim_vrf_verbose(env, "too many subprograms");
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
                int t = nicsim_vrf_find_subprog(env, i + in->imm + 1);

                if (t >= 0)
                    env->sub_calls[(size_t)s * (size_t)n + (size_t)t] = 1;
            }
            if (op == BPF_CALL || op == BPF_EXIT)
                continue;
            t = (int64_t)i + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off) + 1;
            if (t < start || t >= end) {
                env->err_insn = i;
                nicsim_vrf_verbose(env, "jump out of range from insn %d to %lld", i, (long long)t);
                return -EINVAL;
            }
        }
        last = &env->insns[end - 1];
        if (last->code != OP_EXIT && last->code != OP_JA && last->code != (BPF_JMP32 | BPF_JA)) {
            env->err_insn = end - 1;
            nicsim_vrf_verbose(env, "last insn is not an exit or jmp");
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
        nicsim_vrf_verbose(env, "The total number of maps per program has reached the limit of %u",
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
        nicsim_vrf_verbose(env, "offload device mismatch between prog and map");
        return -EINVAL;
    }
    return 0;
}

/* resolve_pseudo_ldimm64 (+ the opcode sanity check it does for every instruction). */
int nicsim_vrf_resolve_pseudo_ldimm64(struct venv *env)
{
    const struct nicsim_kern_prog_load_attr *a = env->attr;

    for (uint32_t i = 0; i < env->len; i++) {
        struct nicsim_insn *in = &env->insns[i];
        struct nicsim_bpf_map *map;
        int fd, idx, err;

        env->err_insn = (int)i;
        if (insn_class(in->code) == BPF_LDX &&
            ((insn_mode(in->code) != BPF_MEM && insn_mode(in->code) != BPF_MEMSX) || in->imm)) {
            nicsim_vrf_verbose(env, "BPF_LDX uses reserved fields");
            return -EINVAL;
        }
        if (in->code != OP_LDDW) {
            if (!opcode_valid(in->code)) {
                nicsim_vrf_verbose(env, "unknown opcode %02x", in->code);
                return -EINVAL;
            }
            continue;
        }
        if (i == env->len - 1 || in[1].code || in[1].dst || in[1].src || in[1].off) {
            nicsim_vrf_verbose(env, "invalid bpf_ld_imm64 insn");
            return -EINVAL;
        }
        if (in->src == NICSIM_LDDW_IMM64) {
            i++;
            continue;
        }
        if (in->src == NICSIM_LDDW_BTF_ID || in->src == NICSIM_LDDW_FUNC) {
            nicsim_vrf_verbose(env, "%s in ld_imm64 is not supported by the nicsim verifier",
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
            nicsim_vrf_verbose(env, "unrecognized bpf_ld_imm64 insn");
            return -EINVAL;
        }
        if (in->src == NICSIM_LDDW_MAP_IDX || in->src == NICSIM_LDDW_MAP_IDX_VALUE) {
            if (!a->fd_array) {
                nicsim_vrf_verbose(env, "fd_idx without fd_array is invalid");
                return -EPROTO;
            }
            if (in->imm < 0 || (uint32_t)in->imm >= a->fd_array_cnt)
                return -EFAULT;
            fd = a->fd_array[in->imm];
        } else {
            fd = in->imm;
        }
        map = nicsim_kern_map_get(env->kern, fd);
        if (!map) {
            int e = errno;

            nicsim_vrf_verbose(env, "fd %d is not pointing to valid bpf_map", fd);
            return -e;
        }
        err = check_map_prog_compat(env, map);
        if (err)
            return err;
        if (in->src == NICSIM_LDDW_MAP_VALUE || in->src == NICSIM_LDDW_MAP_IDX_VALUE) {
            uint32_t off = (uint32_t)in[1].imm;

            if (off >= (1u << 29)) {
                nicsim_vrf_verbose(env, "direct value offset of %u is not allowed", off);
                return -EINVAL;
            }
            if (map->map_type != BPF_MAP_TYPE_ARRAY) {
                nicsim_vrf_verbose(env, "no direct value access support for this map type");
                return -EINVAL;
            }
            if (map->max_entries != 1 || off >= map->value_size) {
                nicsim_vrf_verbose(env, "invalid access to map value pointer, value_size=%u off=%u",
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
        nicsim_vrf_verbose(env, "jump out of range from insn %d to %d", t, w);
        return -EINVAL;
    }
    if (state[w] == 2) {
        env->err_insn = t;
        nicsim_vrf_verbose(env, "jump into the middle of ldimm64 insn %d", w - 1);
        return -EINVAL;
    }
    env->prune[w] = 1;
    if (!state[w]) {
        state[w] = 1;
        work[(*n_work)++] = w;
    }
    return 0;
}

int nicsim_vrf_check_cfg(struct venv *env)
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
                nicsim_vrf_verbose(env, "jump out of range from insn %d to %d", t, t + 2);
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
                nicsim_vrf_verbose(env, "jump out of range from insn %d to %d", t, t + 1);
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
            nicsim_vrf_verbose(env, "unreachable insn %u", i);
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

int nicsim_vrf_compute_live_regs(struct venv *env)
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
