/* SPDX-License-Identifier: MIT */
/* Atomic instructions. */
#include <errno.h>

#include "verifier_internal.h"

int nicsim_vrf_do_atomic(struct venv *env, const struct nicsim_insn *in)
{
    int size = insn_size(in->code) == BPF_DW ? 8 : 4;
    struct nicsim_reg_state *regs = nicsim_vrf_cur_regs(env), reg;
    int op = in->imm, err;

    if (op != BPF_ADD && op != BPF_OR && op != BPF_AND && op != BPF_XOR &&
        op != (BPF_ADD | BPF_FETCH) && op != (BPF_OR | BPF_FETCH) && op != (BPF_AND | BPF_FETCH) &&
        op != (BPF_XOR | BPF_FETCH) && op != BPF_XCHG && op != BPF_CMPXCHG) {
        nicsim_vrf_verbose(env, "BPF_ATOMIC uses invalid atomic opcode %02x", op);
        return -EINVAL;
    }
    err = nicsim_vrf_check_reg_read(env, in->src);
    if (!err)
        err = nicsim_vrf_check_reg_read(env, in->dst);
    if (!err && op == BPF_CMPXCHG)
        err = nicsim_vrf_check_reg_read(env, 0);
    if (err)
        return err;
    reg = regs[in->dst];
    if (reg.type == NICSIM_PTR_TO_CTX || nicsim_vrf_is_pkt(&reg)) {
        nicsim_vrf_verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed", in->dst,
                           nicsim_reg_type_str(reg.type));
        return -EACCES;
    }
    env->strict_align = true; /* check_atomic: strict_alignment_once */
    err = nicsim_vrf_check_mem_access(env, in->dst, in->off, size, 0, NULL, 0, NULL);
    if (!err) {
        struct nicsim_reg_state unknown;

        nicsim_vrf_mark_unknown(&unknown);
        err = nicsim_vrf_check_mem_access(env, in->dst, in->off, size, 1, &unknown, 0, NULL);
    }
    env->strict_align = false;
    if (err)
        return err;
    regs = nicsim_vrf_cur_regs(env);
    if (op == BPF_CMPXCHG)
        nicsim_vrf_mark_unknown(&regs[0]);
    else if (op & BPF_FETCH) {
        err = nicsim_vrf_check_reg_write(env, in->src);
        if (err)
            return err;
        nicsim_vrf_mark_unknown(&regs[in->src]);
    }
    return 0;
}
