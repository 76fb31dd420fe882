/* SPDX-License-Identifier: MIT */
/*
 * The driver's verifier callbacks (struct nicsim_bpf_prog_offload_ops), after nfp's
 * drivers/net/ethernet/netronome/nfp/bpf/{offload.c,verifier.c}:
 *   prepare       copies the program into per-instruction metadata;
 *   insn_hook     sees every instruction the verifier processes, with the registers, and refuses
 *                 what the NIC cannot run (helpers it has no unit for, context writes, host maps),
 *                 recording what translate needs (which loads read struct xdp_md, packet writes,
 *                 tail calls);
 *   finalize      the walk succeeded;
 *   replace_insn / remove_insns   mirror the verifier's dead-code optimisation in the metadata;
 *   translate     builds the NIC image from the metadata (and checks it against the kernel's
 *                 final program);
 *   destroy       unloads the program from the NIC and frees the metadata.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drv_internal.h"

static struct drv_prog *env_prog(struct nicsim_verifier_env *env)
{
    struct nicsim_bpf_prog_offload *off = env->prog->aux->offload;

    return off ? off->dev_priv : NULL;
}

static int drv_bpf_prepare(struct nicsim_bpf_prog *prog)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;
    struct nicsim_drv *drv = nicsim_bpf_offload_dev_priv(off->offdev);
    struct drv_prog *dp = calloc(1, sizeof(*dp));

    if (!dp)
        return -ENOMEM;
    dp->drv = drv;
    dp->n = prog->len;
    dp->meta = calloc(prog->len, sizeof(*dp->meta));
    dp->live = malloc(prog->len * sizeof(*dp->live));
    if (!dp->meta || !dp->live) {
        free(dp->meta);
        free(dp->live);
        free(dp);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < prog->len; i++) {
        dp->meta[i].insn = prog->insnsi[i];
        dp->live[i] = i;
    }
    dp->n_live = prog->len;
    dp->state = "verify";
    off->dev_priv = dp;
    return 0;
}

static const struct nicsim_bpf_map *map_arg(const struct nicsim_reg_state *regs, int regno)
{
    return regs[regno].type == NICSIM_CONST_PTR_TO_MAP ? regs[regno].map_ptr : NULL;
}

static int check_helper(struct nicsim_verifier_env *env, struct drv_prog *dp, int idx,
                        const struct nicsim_insn *in)
{
    const struct nicsim_reg_state *regs = env->cur_regs;
    const struct nicsim_bpf_map *map = NULL;
    int32_t id = in->imm;

    if (!nicsim_drv_hw_helper(id)) {
        nicsim_verifier_log(env, "unsupported helper %s (%d) at insn %d",
                            nicsim_bpf_helper_name(id), id, idx);
        return -EOPNOTSUPP;
    }
    switch (id) {
    case BPF_FUNC_tail_call:
        dp->img_flags |= NICSIM_IMG_F_USES_TAIL_CALL;
        /* fallthrough */
    case BPF_FUNC_perf_event_output:
        map = map_arg(regs, 2);
        break;
    case BPF_FUNC_map_lookup_elem:
    case BPF_FUNC_map_update_elem:
    case BPF_FUNC_map_delete_elem:
    case BPF_FUNC_redirect_map:
    case BPF_FUNC_ringbuf_output:
        map = map_arg(regs, 1);
        break;
    case BPF_FUNC_xdp_store_bytes:
        dp->img_flags |= NICSIM_IMG_F_USES_PKT_WRITE;
        break;
    default:
        break;
    }
    if (map && !nicsim_bpf_map_is_offloaded(map)) {
        nicsim_verifier_log(env,
                            "%s at insn %d uses host map %s (%s): the NIC can only reach "
                            "maps offloaded to it",
                            nicsim_bpf_helper_name(id), idx, map->name,
                            nicsim_bpf_map_type_name(map->map_type));
        return -EOPNOTSUPP;
    }
    return 0;
}

static int drv_bpf_insn_hook(struct nicsim_verifier_env *env, int idx, int prev_idx)
{
    struct drv_prog *dp = env_prog(env);
    const struct nicsim_insn *in = &env->prog->insnsi[idx];
    const struct nicsim_reg_state *regs = env->cur_regs;
    struct drv_meta *m;
    uint8_t cls = in->code & 0x07;

    (void)prev_idx;
    if (!dp || (uint32_t)idx >= dp->n)
        return -EINVAL;
    m = &dp->meta[env->insn_aux_data[idx].orig_idx];
    m->insn = *in; /* LDDW map references are normalised by now */
    m->flags |= META_SEEN;

    if (in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
        (in->src == NICSIM_LDDW_MAP_IDX || in->src == NICSIM_LDDW_MAP_IDX_VALUE)) {
        const struct nicsim_bpf_map *map = env->prog->aux->used_maps[in->imm];

        if (!nicsim_bpf_map_is_offloaded(map)) {
            nicsim_verifier_log(env,
                                "insn %d references host map %s (%s): the NIC can only "
                                "reach maps offloaded to it",
                                idx, map->name, nicsim_bpf_map_type_name(map->map_type));
            return -EOPNOTSUPP;
        }
        dp->meta[env->insn_aux_data[idx].orig_idx + 1].insn = in[1];
        return 0;
    }
    if (in->code == (BPF_JMP | BPF_CALL) && in->src == 0)
        return check_helper(env, dp, idx, in);
    /* The hook runs before the verifier has looked at the instruction: a register field beyond
     * r10 indexes no register state. The verifier refuses the instruction right after. */
    if (in->src >= NICSIM_ISA_NREGS || in->dst >= NICSIM_ISA_NREGS)
        return 0;
    if (cls == BPF_LDX && regs[in->src].type == NICSIM_PTR_TO_CTX) {
        m->flags |= META_CTX;
        return 0;
    }
    if (cls == BPF_LDX && regs[in->src].type == NICSIM_CONST_PTR_TO_MAP &&
        regs[in->src].map_ptr->is_inner_meta) {
        nicsim_verifier_log(env,
                            "insn %d reads struct bpf_map of an inner map (from a map of maps): "
                            "which map it is is known only at run time, and the NIC reads "
                            "map fields as constants",
                            idx);
        return -EOPNOTSUPP;
    }
    if (cls == BPF_LDX && regs[in->src].type == NICSIM_CONST_PTR_TO_MAP) {
        /* A field of struct bpf_map: the map is known, so is the value (the verifier refuses
         * what nicsim_bpf_map_field has no value for, right after this hook). */
        static const int bytes[4] = {4, 2, 1, 8};
        int size = bytes[(in->code >> 3) & 3], off = regs[in->src].off + in->off;
        uint64_t v;

        if (nicsim_bpf_map_field(regs[in->src].map_ptr, off, size, &v))
            return 0;
        if ((in->code & 0xe0) == 0x80 && size < 8) /* BPF_MEMSX: a sign-extending load */
            v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
        if ((int64_t)v > INT32_MAX || (int64_t)v < INT32_MIN) {
            nicsim_verifier_log(env,
                                "insn %d reads struct bpf_map at offset %d: its value %lld does "
                                "not fit the NIC's one-slot constant move",
                                idx, off, (long long)v);
            return -EOPNOTSUPP;
        }
        if ((m->flags & META_MAP_FIELD) && m->map_field.imm != (int32_t)v) {
            nicsim_verifier_log(env,
                                "insn %d reads struct bpf_map of maps that differ on different "
                                "paths: the NIC needs one constant",
                                idx);
            return -EOPNOTSUPP;
        }
        m->flags |= META_MAP_FIELD;
        m->map_field = (struct nicsim_insn){
            .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst = in->dst, .imm = (int32_t)v};
        return 0;
    }
    if (cls == BPF_ST || cls == BPF_STX) {
        uint8_t t = regs[in->dst].type;

        if (t == NICSIM_PTR_TO_CTX && in->off == 16 && (in->code & 0xe0) == BPF_MEM) {
            /* rx_queue_index: the host receive queue for XDP_PASS (the verifier checks the
             * size); translate turns it into a store to the descriptor */
            m->flags |= META_CTX;
            return 0;
        }
        if (t == NICSIM_PTR_TO_CTX) {
            nicsim_verifier_log(env,
                                "context write (struct xdp_md offset %d) at insn %d is not "
                                "supported by the NIC",
                                in->off, idx);
            return -EOPNOTSUPP;
        }
        if (t == NICSIM_PTR_TO_PACKET || t == NICSIM_PTR_TO_PACKET_META) {
            m->flags |= META_PKT_WRITE;
            dp->img_flags |= NICSIM_IMG_F_USES_PKT_WRITE;
        }
    }
    return 0;
}

static int drv_bpf_finalize(struct nicsim_verifier_env *env)
{
    struct drv_prog *dp = env_prog(env);

    return dp ? 0 : -EINVAL;
}

static int is_jump(const struct nicsim_insn *in)
{
    uint8_t cls = in->code & 0x07, op = in->code & 0xf0;

    if (cls != BPF_JMP && cls != BPF_JMP32)
        return 0;
    if (op == BPF_EXIT)
        return 0;
    if (op == BPF_CALL)
        return in->src == 1; /* local call: imm is relative */
    return 1;
}

static int drv_bpf_replace_insn(struct nicsim_verifier_env *env, uint32_t off,
                                struct nicsim_insn *insn)
{
    struct drv_prog *dp = env_prog(env);
    struct drv_meta *m;
    uint8_t op, cls;

    if (!dp || off >= dp->n_live)
        return -EINVAL;
    m = &dp->meta[dp->live[off]];
    cls = m->insn.code & 0x07;
    op = m->insn.code & 0xf0;
    /* Only what the kernel does: a conditional jump hard-wired into a JA. */
    if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_JA && op != BPF_CALL && op != BPF_EXIT &&
        insn->code == (BPF_JMP | BPF_JA)) {
        m->insn = *insn;
        return 0;
    }
    nicsim_verifier_log(env, "replace_insn: unsupported replacement of insn %u (0x%02x by 0x%02x)",
                        off, m->insn.code, insn->code);
    return -EOPNOTSUPP;
}

static int drv_bpf_remove_insns(struct nicsim_verifier_env *env, uint32_t off, uint32_t cnt)
{
    struct drv_prog *dp = env_prog(env);

    if (!dp || off + cnt > dp->n_live || off + cnt < off)
        return -EINVAL;
    for (uint32_t i = off; i < off + cnt; i++)
        dp->meta[dp->live[i]].flags |= META_REMOVED;
    memmove(&dp->live[off], &dp->live[off + cnt], (dp->n_live - off - cnt) * sizeof(*dp->live));
    dp->n_live -= cnt;
    return 0;
}

/* New index of the first live instruction at or after original index `orig`. */
static uint32_t live_index(const struct drv_prog *dp, uint32_t orig)
{
    uint32_t lo = 0, hi = dp->n_live;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (dp->live[mid] < orig)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int drv_bpf_translate(struct nicsim_bpf_prog *prog)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;
    struct drv_prog *dp = off->dev_priv;
    struct nicsim_drv_xlate x = {.sz = sizeof(x)};
    struct nicsim_insn *insns = NULL;
    uint32_t *map_ids = NULL;
    uint8_t *ctx = NULL;
    struct nicsim_msg msg;
    int err = -ENOMEM;

    if (!dp)
        return -EINVAL;
    if (off->opt_failed) {
        nicsim_drv_log(dp->drv, "translate: the verifier's optimisations could not be mirrored");
        return -EINVAL;
    }
    insns = malloc((dp->n_live ? dp->n_live : 1) * sizeof(*insns));
    ctx = calloc(dp->n_live ? dp->n_live : 1, 1);
    map_ids = calloc(prog->aux->used_map_cnt ? prog->aux->used_map_cnt : 1, sizeof(*map_ids));
    if (!insns || !ctx || !map_ids)
        goto out;
    /* The program from the driver's metadata, jumps re-aimed over removed instructions. */
    for (uint32_t j = 0; j < dp->n_live; j++) {
        uint32_t orig = dp->live[j];
        struct nicsim_insn in = dp->meta[orig].insn;

        if (is_jump(&in)) {
            int imm_form = (in.code & 0xf0) == BPF_CALL || in.code == (BPF_JMP32 | BPF_JA);
            int64_t t = (int64_t)orig + (imm_form ? in.imm : in.off) + 1;
            int64_t nt = t < 0 ? 0 : live_index(dp, (uint32_t)t);

            if (imm_form)
                in.imm = (int32_t)(nt - j - 1);
            else
                in.off = (int16_t)(nt - j - 1);
        }
        insns[j] = in;
        ctx[j] = (dp->meta[orig].flags & META_CTX) != 0;
    }
    if (dp->n_live != prog->len) {
        nicsim_drv_log(dp->drv,
                       "translate: the driver tracked %u instructions, the kernel's program "
                       "has %u",
                       dp->n_live, prog->len);
        err = -EINVAL;
        goto out;
    }
    for (uint32_t j = 0; j < dp->n_live; j++) {
        if (memcmp(&insns[j], &prog->insnsi[j], sizeof(insns[j]))) {
            nicsim_drv_log(dp->drv,
                           "translate: the driver's copy of insn %u differs from the kernel's", j);
            err = -EINVAL;
            goto out;
        }
    }
    /* loads from struct bpf_map become the constant they read */
    for (uint32_t j = 0; j < dp->n_live; j++)
        if (dp->meta[dp->live[j]].flags & META_MAP_FIELD)
            insns[j] = dp->meta[dp->live[j]].map_field;
    for (uint32_t i = 0; i < prog->aux->used_map_cnt; i++) {
        const struct nicsim_bpf_map *map = prog->aux->used_maps[i];
        const struct drv_map *dm = map->offloaded ? map->dev_priv : NULL;

        if (!dm || dm->drv != dp->drv) {
            nicsim_drv_log(dp->drv, "translate: map %s is not on this NIC", map->name);
            err = -EINVAL;
            goto out;
        }
        map_ids[i] = dm->nic_id;
    }
    x.insns = insns;
    x.n = dp->n_live;
    x.ctx = ctx;
    x.map_ids = map_ids;
    x.n_maps = prog->aux->used_map_cnt;
    x.stack_depth = prog->aux->stack_depth;
    x.flags = dp->img_flags;
    x.name = prog->aux->name;
    free(dp->image);
    dp->image = NULL;
    err = nicsim_drv_translate(&x, &dp->image, &dp->image_len, &msg);
    if (err) {
        nicsim_drv_log(dp->drv, "%s", msg.msg);
        goto out;
    }
    off->jited_image = dp->image;
    off->jited_len = (uint32_t)dp->image_len;
    dp->state = "xlated";
out:
    free(insns);
    free(ctx);
    free(map_ids);
    return err;
}

int nicsim_drv_prog_get_nic(struct drv_prog *dp, struct nicsim_msg *extack)
{
    int err;

    if (!dp->image) {
        nicsim_extack_set(extack, DRV_NAME ": program was not translated");
        return -EINVAL;
    }
    if (!dp->nic_id) {
        err = nicsim_ctrl__prog_load(dp->drv->ctrl, dp->image, dp->image_len, &dp->nic_id);
        if (err) {
            dp->nic_id = 0;
            nicsim_extack_set(extack, DRV_NAME ": firmware refused the program: %s",
                              nicsim_ctrl__last_error(dp->drv->ctrl));
            nicsim_drv_log(dp->drv, "firmware refused the program: %s",
                           nicsim_ctrl__last_error(dp->drv->ctrl));
            return err;
        }
        dp->state = "loaded";
    }
    dp->users++;
    return 0;
}

void nicsim_drv_prog_put_nic(struct drv_prog *dp)
{
    if (!dp || !dp->users)
        return;
    if (--dp->users || !dp->nic_id)
        return;
    if (nicsim_ctrl__prog_unload(dp->drv->ctrl, dp->nic_id))
        nicsim_drv_log(dp->drv, "firmware kept program %u: %s", dp->nic_id,
                       nicsim_ctrl__last_error(dp->drv->ctrl));
    dp->nic_id = 0;
    dp->state = "xlated";
}

static void drv_bpf_destroy(struct nicsim_bpf_prog *prog)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;
    struct drv_prog *dp = off ? off->dev_priv : NULL;

    if (!dp)
        return;
    if (dp->nic_id) {
        /* Orphaned while prog arrays on the NIC still hold it: empty those slots first. */
        for (struct drv_map *dm = dp->drv->prog_arrays; dm; dm = dm->next_prog_array) {
            for (uint32_t i = 0; i < dm->map->max_entries; i++) {
                if (dm->slots[i] == prog)
                    nicsim_ctrl__map_delete(dp->drv->ctrl, dm->nic_id, &i);
            }
        }
        if (nicsim_ctrl__prog_unload(dp->drv->ctrl, dp->nic_id))
            nicsim_drv_log(dp->drv, "firmware kept program %u: %s", dp->nic_id,
                           nicsim_ctrl__last_error(dp->drv->ctrl));
    }
    free(dp->image);
    free(dp->meta);
    free(dp->live);
    free(dp);
    off->dev_priv = NULL;
    off->jited_image = NULL;
    off->jited_len = 0;
}

const struct nicsim_bpf_prog_offload_ops nicsim_drv_offload_ops = {
    .insn_hook = drv_bpf_insn_hook,
    .finalize = drv_bpf_finalize,
    .replace_insn = drv_bpf_replace_insn,
    .remove_insns = drv_bpf_remove_insns,
    .prepare = drv_bpf_prepare,
    .translate = drv_bpf_translate,
    .destroy = drv_bpf_destroy,
};
