/* SPDX-License-Identifier: MIT */
/* Dead code (opt_hard_wire_dead_code_branches, opt_remove_dead_code, opt_remove_nops), with the
 * offload callbacks replace_insn / remove_insns. */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

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

void nicsim_vrf_opt_hard_wire_dead_code_branches(struct venv *env)
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

void nicsim_vrf_opt_remove_dead_code(struct venv *env)
{
    for (uint32_t i = 0; i < env->len; i++) {
        uint32_t j = 0;

        while (i + j < env->len && !env->aux[i + j].seen)
            j++;
        if (j)
            remove_insns(env, i, j);
    }
}

void nicsim_vrf_opt_remove_nops(struct venv *env)
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
