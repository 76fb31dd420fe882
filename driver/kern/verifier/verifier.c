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
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

/* One instruction. Returns 0 (continue at *idx), 1 (path ended) or an error. */
static int do_insn(struct venv *env, int *idx)
{
    const struct nicsim_insn *in = &env->insns[*idx];
    uint8_t cls = insn_class(in->code), op = insn_op(in->code);
    struct nicsim_reg_state *regs = nicsim_vrf_cur_regs(env);
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
        err = nicsim_vrf_do_alu(env, in);
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_LDX: {
        struct nicsim_reg_state dst;

        err = nicsim_vrf_check_reg_read(env, in->src);
        if (!err)
            err = nicsim_vrf_check_reg_write(env, in->dst);
        if (err)
            return err;
        if (insn_mode(in->code) == BPF_MEMSX && regs[in->src].type == NICSIM_PTR_TO_CTX) {
            nicsim_vrf_verbose(env, "invalid bpf_context access off=%d size=%d", in->off, size);
            return -EACCES;
        }
        err = nicsim_vrf_check_mem_access(env, in->src, in->off, size, 0, NULL, 0, &dst);
        if (err)
            return err;
        if (size < 8 && dst.type == NICSIM_SCALAR_VALUE) {
            if (insn_mode(in->code) == BPF_MEMSX && !dst.known)
                nicsim_vrf_mark_unknown_sext(&dst, size);
            else if (insn_mode(in->code) == BPF_MEMSX)
                nicsim_vrf_mark_known(
                    &dst, (uint64_t)(((int64_t)(dst.value << (64 - size * 8))) >> (64 - size * 8)));
            else
                nicsim_vrf_coerce_to_size(&dst, size);
        }
        nicsim_vrf_cur_regs(env)[in->dst] = dst;
        *idx += 1;
        return 0;
    }

    case BPF_STX:
        if (insn_mode(in->code) == BPF_ATOMIC) {
            err = nicsim_vrf_do_atomic(env, in);
            if (err)
                return err;
            *idx += 1;
            return 0;
        }
        if (in->imm) {
            nicsim_vrf_verbose(env, "BPF_STX uses reserved fields");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_read(env, in->src);
        if (!err)
            err = nicsim_vrf_check_reg_read(env, in->dst);
        if (err)
            return err;
        {
            struct nicsim_reg_state val;
            const struct nicsim_reg_state *p = &regs[in->dst];

            /* a scalar spilled whole (its value fits) stays linked with the register */
            if (p->type == NICSIM_PTR_TO_STACK && !p->var_off && (p->off + in->off) % 8 == 0 &&
                nicsim_vrf_reg_width(&regs[in->src]) <= size * 8)
                nicsim_vrf_assign_scalar_id(env, &regs[in->src]);
            val = regs[in->src];
            err = nicsim_vrf_check_mem_access(env, in->dst, in->off, size, 1, &val, 0, NULL);
        }
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_ST:
        if (in->src) {
            nicsim_vrf_verbose(env, "BPF_ST uses reserved fields");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_read(env, in->dst);
        if (err)
            return err;
        if (regs[in->dst].type == NICSIM_PTR_TO_CTX) {
            nicsim_vrf_verbose(env, "BPF_ST stores into R%d %s is not allowed", in->dst,
                               nicsim_reg_type_str(regs[in->dst].type));
            return -EACCES;
        }
        err = nicsim_vrf_check_mem_access(env, in->dst, in->off, size, 1, NULL, in->imm, NULL);
        if (err)
            return err;
        *idx += 1;
        return 0;

    case BPF_LD:
        if (in->code != OP_LDDW) {
            nicsim_vrf_verbose(env,
                               "BPF_LD_[ABS|IND] instructions not allowed for this program type");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_write(env, in->dst);
        if (err)
            return err;
        {
            struct nicsim_reg_state *dst = &regs[in->dst];
            struct nicsim_bpf_prog_aux *aux = env->prog->aux;

            memset(dst, 0, sizeof(*dst));
            if (in->src == NICSIM_LDDW_IMM64) {
                nicsim_vrf_mark_known(dst, (uint64_t)(uint32_t)in[0].imm |
                                               ((uint64_t)(uint32_t)in[1].imm << 32));
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
                nicsim_vrf_verbose(env, "BPF_JA uses reserved fields");
                return -EINVAL;
            }
            *idx += (cls == BPF_JMP ? in->off : in->imm) + 1;
            return 0;
        }
        if (op == BPF_CALL) {
            if ((in->src != PSEUDO_KFUNC && in->off) ||
                (in->src != 0 && in->src != PSEUDO_CALL && in->src != PSEUDO_KFUNC) || in->dst ||
                cls == BPF_JMP32 || insn_src(in->code)) {
                nicsim_vrf_verbose(env, "BPF_CALL uses reserved fields");
                return -EINVAL;
            }
            if (in->src == PSEUDO_CALL)
                return nicsim_vrf_do_local_call(env, in, idx);
            if (in->src == PSEUDO_KFUNC) {
                nicsim_vrf_verbose(
                    env, "calling kernel functions is not supported by the nicsim verifier");
                return -EOPNOTSUPP;
            }
            err = nicsim_vrf_do_helper_call(env, in);
            if (err)
                return err;
            *idx += 1;
            return 0;
        }
        if (op == BPF_EXIT) {
            if (insn_src(in->code) || in->imm || in->src || in->dst || in->off ||
                cls == BPF_JMP32) {
                nicsim_vrf_verbose(env, "BPF_EXIT uses reserved fields");
                return -EINVAL;
            }
            return nicsim_vrf_do_exit(env, idx);
        }
        if (op == BPF_JCOND)
            return nicsim_vrf_do_may_goto(env, in, idx);
        return nicsim_vrf_do_cond_jmp(env, in, idx);

    default:
        nicsim_vrf_verbose(env, "unknown insn class %d", cls);
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
    env->cur->fr[0] = nicsim_vrf_frame_new(-1, 0);
    if (!env->cur->fr[0])
        return -ENOMEM;
    env->cur->fr[0]->regs[1].type = NICSIM_PTR_TO_CTX;

    for (;;) {
        env->insn_idx = idx;
        env->prev_insn_idx = prev;
        env->new_checkpoint = NULL;
        if (idx < 0 || idx >= (int)env->len) {
            nicsim_vrf_verbose(env, "invalid insn idx %d insn_cnt %u", idx, env->len);
            env->err_insn = prev;
            return -EFAULT;
        }
        if (++env->insn_processed > NICSIM_COMPLEXITY_LIMIT_INSNS) {
            env->err_insn = idx;
            nicsim_vrf_verbose(env, "BPF program is too large. Processed %u insn",
                               env->insn_processed);
            return -E2BIG;
        }
        env->pub.insn_processed = env->insn_processed;
        if (env->prune[idx]) {
            err = nicsim_vrf_is_state_visited(env, idx);
            if (err < 0) {
                env->err_insn = idx;
                return err;
            }
            if (err == 1) {
                if (env->log->level >= 2)
                    nicsim_vrf_verbose(env, "%d: safe", idx);
                goto path_end;
            }
        }
        if (env->ops && env->ops->insn_hook) {
            env->pub.cur_regs = nicsim_vrf_cur_regs(env);
            env->pub.cur_frame = env->cur->nframes - 1;
            err = env->ops->insn_hook(&env->pub, idx, prev);
            if (err) {
                env->err_insn = idx;
                if (!env->log->last[0])
                    nicsim_vrf_verbose(env, "insn %d refused by the device (%d)", idx, err);
                return err;
            }
        }
        env->aux[idx].seen = true;
        if (env->log->level >= 2)
            nicsim_vrf_verbose(env, "%d: (%02x)", idx, env->insns[idx].code);
        prev = idx;
        err = do_insn(env, &idx);
        if (err < 0) {
            env->err_insn = prev;
            return err;
        }
        if (err == 0)
            continue;
    path_end:
        nicsim_vrf_update_branch_counts(env->cur);
        nicsim_vrf_state_free(env->cur);
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

                nicsim_vrf_state_free(s);
                s = n;
            }
        }
    }
    for (uint32_t i = 0; i < env->n_stack; i++)
        nicsim_vrf_state_free(env->stack[i].st);
    nicsim_vrf_state_free(env->cur);
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

    err = nicsim_vrf_check_subprogs(&env);
    if (err)
        goto out;
    err = nicsim_vrf_resolve_pseudo_ldimm64(&env);
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
            nicsim_vrf_verbose(&env, "device refused the program (%d)", err);
            goto out;
        }
    }
    err = nicsim_vrf_check_cfg(&env);
    if (!err)
        err = nicsim_vrf_compute_live_regs(&env);
    if (err)
        goto out;
    err = do_check(&env);
    if (!err && env.ops) {
        /* bpf_prog_offload_finalize; explained here unless the driver logged a reason */
        size_t logged = log->len;

        env.pub.cur_regs = NULL;
        err = env.ops->finalize ? env.ops->finalize(&env.pub) : 0;
        if (err && log->len == logged)
            nicsim_vrf_verbose(&env, "device refused the program at finalize (%d)", err);
    }
    if (err)
        goto out;
    err = nicsim_vrf_check_max_stack_depth(&env);
    if (err)
        goto out;
    if (log->level >= 1)
        nicsim_vrf_verbose(&env, "processed %u insns", env.insn_processed);

    nicsim_vrf_opt_hard_wire_dead_code_branches(&env);
    nicsim_vrf_opt_remove_dead_code(&env);
    nicsim_vrf_opt_remove_nops(&env);
    prog->len = env.len;
    prog->insnsi = env.insns;
out:
    attr->err_insn = err ? env.err_insn : -1;
    env_free(&env);
    return err;
}
