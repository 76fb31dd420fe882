/* SPDX-License-Identifier: MIT */
/*
 * The translator: a verified XDP program to a NIC image (include/nicsim/nic_image.h,
 * docs/nic-image.md). Three rewrites, each one slot for one slot, so jump offsets never change:
 *   - LDDW map references (src MAP_IDX / MAP_IDX_VALUE, imm = index into the program's used
 *     maps) get the NIC map id in imm; the image's map table lists those ids;
 *   - helper calls get the NIC helper-unit id (enum nicsim_hw_helper) instead of the kernel's;
 *   - loads from struct xdp_md become loads from struct nicsim_pkt_desc: the three packet
 *     pointers are 64-bit NIC addresses (u32 load at 0/4/8 -> u64 load at 0/8/16), the u32
 *     fields move (12 -> 24, 16 -> 28, 20 -> 32).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_internal.h"
#include "nicsim/util.h"

int nicsim_drv_hw_helper(int32_t func_id)
{
    switch (func_id) {
    case BPF_FUNC_map_lookup_elem:
        return NICSIM_HW_MAP_LOOKUP;
    case BPF_FUNC_map_update_elem:
        return NICSIM_HW_MAP_UPDATE;
    case BPF_FUNC_map_delete_elem:
        return NICSIM_HW_MAP_DELETE;
    case BPF_FUNC_ktime_get_ns:
        return NICSIM_HW_KTIME;
    case BPF_FUNC_get_prandom_u32:
        return NICSIM_HW_PRANDOM;
    case BPF_FUNC_get_smp_processor_id:
        return NICSIM_HW_SMP_ID;
    case BPF_FUNC_tail_call:
        return NICSIM_HW_TAIL_CALL;
    case BPF_FUNC_redirect:
        return NICSIM_HW_REDIRECT;
    case BPF_FUNC_perf_event_output:
        return NICSIM_HW_PERF_EVENT_OUTPUT;
    case BPF_FUNC_csum_diff:
        return NICSIM_HW_CSUM_DIFF;
    case BPF_FUNC_xdp_adjust_head:
        return NICSIM_HW_ADJUST_HEAD;
    case BPF_FUNC_redirect_map:
        return NICSIM_HW_REDIRECT_MAP;
    case BPF_FUNC_xdp_adjust_meta:
        return NICSIM_HW_ADJUST_META;
    case BPF_FUNC_xdp_adjust_tail:
        return NICSIM_HW_ADJUST_TAIL;
    case BPF_FUNC_ringbuf_output:
        return NICSIM_HW_RINGBUF_OUTPUT;
    case BPF_FUNC_trace_printk:
        return NICSIM_HW_TRACE_PRINTK;
    case BPF_FUNC_xdp_get_buff_len:
        return NICSIM_HW_GET_BUFF_LEN;
    case BPF_FUNC_xdp_load_bytes:
        return NICSIM_HW_LOAD_BYTES;
    case BPF_FUNC_xdp_store_bytes:
        return NICSIM_HW_STORE_BYTES;
    default:
        return 0;
    }
}

bool nicsim_drv_map_type_offloadable(uint32_t map_type)
{
    switch (map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_LPM_TRIE:
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE_CPUMAP:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        return true;
    default:
        return false;
    }
}

/* struct xdp_md field at `off` -> (size, offset) in struct nicsim_pkt_desc. */
static int ctx_field(int off, uint8_t *size, int16_t *desc_off)
{
    switch (off) {
    case 0: /* data */
        *size = BPF_DW;
        *desc_off = 0;
        return 0;
    case 4: /* data_end */
        *size = BPF_DW;
        *desc_off = 8;
        return 0;
    case 8: /* data_meta */
        *size = BPF_DW;
        *desc_off = 16;
        return 0;
    case 12: /* ingress_ifindex */
        *size = BPF_W;
        *desc_off = 24;
        return 0;
    case 16: /* rx_queue_index */
        *size = BPF_W;
        *desc_off = 28;
        return 0;
    case 20: /* egress_ifindex */
        *size = BPF_W;
        *desc_off = 32;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

#define FAIL_AT(at, err, ...)                                                                      \
    do {                                                                                           \
        nicsim_msg_set(msg, (at), __VA_ARGS__);                                                    \
        free(img);                                                                                 \
        return (err);                                                                              \
    } while (0)
#define FAIL(err, ...) FAIL_AT(-1, err, __VA_ARGS__)

int nicsim_drv_translate(const struct nicsim_drv_xlate *x, void **image, size_t *len,
                         struct nicsim_msg *msg)
{
    struct nicsim_drv_xlate xo = {0};
    struct nicsim_img_hdr h;
    uint8_t *out;
    uint8_t *img = NULL;
    size_t total;

    if (msg)
        *msg = (struct nicsim_msg){.index = -1};
    if (!x || nicsim_opts_copy(&xo, sizeof(xo), x) < 0)
        FAIL(-EINVAL, "translate: missing program, map table or output");
    x = &xo;
    if (!x->insns || !x->n || !image || !len || (x->n_maps && !x->map_ids))
        FAIL(-EINVAL, "translate: missing program, map table or output");
    if (x->n > NICSIM_IMG_MAX_SLOTS)
        FAIL(-E2BIG, "program of %u instructions exceeds the NIC's %u-slot instruction memory",
             x->n, NICSIM_IMG_MAX_SLOTS);
    if (x->n_maps > NICSIM_IMG_MAX_MAPS)
        FAIL(-E2BIG, "program uses %u maps, the NIC allows %u per program", x->n_maps,
             NICSIM_IMG_MAX_MAPS);
    for (uint32_t i = 0; i < x->n_maps; i++) {
        if (!x->map_ids[i])
            FAIL(-EINVAL, "translate: map %u has no NIC map id", i);
        for (uint32_t j = 0; j < i; j++)
            if (x->map_ids[j] == x->map_ids[i])
                FAIL(-EINVAL, "translate: NIC map id %u listed twice", x->map_ids[i]);
    }

    total = sizeof(h) + 4u * x->n_maps + 8u * (size_t)x->n;
    img = calloc(1, total);
    if (!img)
        FAIL(-ENOMEM, "translate: out of memory");
    memset(&h, 0, sizeof(h));
    h.magic = NICSIM_IMG_MAGIC;
    h.version = NICSIM_IMG_VERSION;
    h.hdr_len = sizeof(h);
    h.n_slots = x->n;
    h.n_maps = x->n_maps;
    h.prog_type = BPF_PROG_TYPE_XDP;
    h.stack_depth = x->stack_depth;
    h.flags = x->flags & (NICSIM_IMG_F_USES_TAIL_CALL | NICSIM_IMG_F_USES_PKT_WRITE);
    for (size_t i = 0, o = 0; x->name && x->name[i] && o < sizeof(h.name) - 1; i++) {
        unsigned char c = (unsigned char)x->name[i];

        h.name[o++] = (char)(c >= 0x20 && c <= 0x7e ? c : '_');
    }
    nicsim_img_hdr_put(img, &h);
    for (uint32_t i = 0; i < x->n_maps; i++)
        nicsim_put_le32(img, sizeof(h) + 4u * i, x->map_ids[i]);
    out = img + sizeof(h) + 4u * x->n_maps;
    for (uint32_t i = 0; i < x->n; i++)
        nicsim_img_slot_put(out + NICSIM_IMG_SLOT_SIZE * i, &x->insns[i]);

    /* each rewrite re-encodes its slot */
    for (uint32_t i = 0; i < x->n; i++) {
        struct nicsim_insn slot = x->insns[i], *in = &slot;
        uint8_t *at = out + NICSIM_IMG_SLOT_SIZE * i;

        if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
            if (i + 1 >= x->n)
                FAIL_AT(i, -EINVAL, "insn %u: LDDW in the last slot", i);
            if (in->src == NICSIM_LDDW_MAP_IDX || in->src == NICSIM_LDDW_MAP_IDX_VALUE) {
                if (in->imm < 0 || (uint32_t)in->imm >= x->n_maps)
                    FAIL_AT(i, -EINVAL, "insn %u: map reference %d, the program uses %u maps", i,
                            in->imm, x->n_maps);
                in->imm = (int32_t)x->map_ids[in->imm];
                nicsim_img_slot_put(at, in);
            } else if (in->src != NICSIM_LDDW_IMM64) {
                FAIL_AT(i, -EINVAL, "insn %u: ld_imm64 source %u has no NIC form", i, in->src);
            }
            i++;
            continue;
        }
        if (in->code == (BPF_JMP | BPF_CALL) && in->src == 0) {
            int hw = nicsim_drv_hw_helper(in->imm);

            if (!hw)
                FAIL_AT(i, -EOPNOTSUPP, "unsupported helper %s (%d) at insn %u",
                        nicsim_bpf_helper_name(in->imm), in->imm, i);
            in->imm = hw;
            nicsim_img_slot_put(at, in);
            continue;
        }
        if (x->ctx && x->ctx[i]) {
            uint8_t size;
            int16_t off;

            bool store = in->code == (BPF_STX | BPF_MEM | BPF_W);

            if (in->code != (BPF_LDX | BPF_MEM | BPF_W) && !store)
                FAIL_AT(i, -EOPNOTSUPP, "insn %u: context access of opcode 0x%02x has no NIC form",
                        i, in->code);
            if (store && in->off != 16) /* only rx_queue_index is writable (offloaded) */
                FAIL_AT(i, -EOPNOTSUPP, "insn %u: context write at struct xdp_md offset %d", i,
                        in->off);
            if (ctx_field(in->off, &size, &off))
                FAIL_AT(i, -EOPNOTSUPP, "insn %u: struct xdp_md offset %d has no NIC equivalent", i,
                        in->off);
            in->code = (uint8_t)((in->code & 0x07) | BPF_MEM | size);
            in->off = off;
            nicsim_img_slot_put(at, in);
        }
    }
    *image = img;
    *len = total;
    return 0;
}
