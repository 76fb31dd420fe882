/* SPDX-License-Identifier: MIT */
/*
 * The NIC program image: what the driver's translator (nicsim_drv_translate, driver/nic/xlate.c,
 * behind the offload device's `translate` callback) produces and the firmware's program loader
 * (nicsim_fw_image_load, firmware/mgmt/fw_image.c) accepts; docs/nic-image.md describes it for
 * people. Also the NIC's helper-unit numbering and its packet descriptor, which the translator
 * targets.
 *
 * All multi-byte fields are little-endian: both sides go through the encoders and decoders
 * below (nicsim_img_hdr_get/put, nicsim_img_slot_get/put, nicsim_get/put_le32 for the map
 * table), never a host-order struct copy.
 */
#ifndef NICSIM_NIC_IMAGE_H
#define NICSIM_NIC_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nicsim/isa.h"
#include "nicsim/wire/le.h"

#ifdef __cplusplus
#define NICSIM_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define NICSIM_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_IMG_MAGIC     0x4d49584eu /* "NXIM" */
#define NICSIM_IMG_VERSION   1u
#define NICSIM_IMG_MAX_SLOTS 65536u /* instruction memory of one core, in slots */
#define NICSIM_IMG_MAX_MAPS  64u    /* maps one program may reference */

/* Image header, 64 bytes, followed by u32 map_ids[n_maps] and then n_slots instruction slots of
 * 8 bytes (struct nicsim_insn; nicsim_img_slot_get / nicsim_img_slot_put). */
struct nicsim_img_hdr {
    uint32_t magic;   /* NICSIM_IMG_MAGIC */
    uint16_t version; /* NICSIM_IMG_VERSION */
    uint16_t hdr_len; /* sizeof(struct nicsim_img_hdr) */
    uint32_t n_slots;
    uint32_t n_maps;
    uint32_t prog_type;   /* kernel enum bpf_prog_type (BPF_PROG_TYPE_XDP = 6) */
    uint32_t stack_depth; /* bytes of stack the verifier saw used by the deepest frame chain */
    uint32_t flags;       /* NICSIM_IMG_F_* */
    uint32_t reserved0;
    char name[16]; /* program name, NUL-padded */
    uint32_t reserved[4];
};
NICSIM_STATIC_ASSERT(sizeof(struct nicsim_img_hdr) == 64, "image header is 64 bytes");

/* The header <-> its 64 wire bytes at buf (little-endian, include/nicsim/wire/le.h); the map table
 * that follows is u32 little-endian ids (nicsim_get_le32 / nicsim_put_le32). */
static inline void nicsim_img_hdr_get(struct nicsim_img_hdr *v, const void *buf)
{
    v->magic = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, magic));
    v->version = nicsim_get_le16(buf, offsetof(struct nicsim_img_hdr, version));
    v->hdr_len = nicsim_get_le16(buf, offsetof(struct nicsim_img_hdr, hdr_len));
    v->n_slots = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, n_slots));
    v->n_maps = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, n_maps));
    v->prog_type = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, prog_type));
    v->stack_depth = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, stack_depth));
    v->flags = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, flags));
    v->reserved0 = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, reserved0));
    memcpy(v->name, (const uint8_t *)buf + offsetof(struct nicsim_img_hdr, name), sizeof(v->name));
    v->reserved[0] = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, reserved[0]));
    v->reserved[1] = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, reserved[1]));
    v->reserved[2] = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, reserved[2]));
    v->reserved[3] = nicsim_get_le32(buf, offsetof(struct nicsim_img_hdr, reserved[3]));
}

static inline void nicsim_img_hdr_put(void *buf, const struct nicsim_img_hdr *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, magic), v->magic);
    nicsim_put_le16(buf, offsetof(struct nicsim_img_hdr, version), v->version);
    nicsim_put_le16(buf, offsetof(struct nicsim_img_hdr, hdr_len), v->hdr_len);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, n_slots), v->n_slots);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, n_maps), v->n_maps);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, prog_type), v->prog_type);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, stack_depth), v->stack_depth);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, flags), v->flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, reserved0), v->reserved0);
    memcpy((uint8_t *)buf + offsetof(struct nicsim_img_hdr, name), v->name, sizeof(v->name));
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, reserved[0]), v->reserved[0]);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, reserved[1]), v->reserved[1]);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, reserved[2]), v->reserved[2]);
    nicsim_put_le32(buf, offsetof(struct nicsim_img_hdr, reserved[3]), v->reserved[3]);
}

/* One instruction slot <-> its 8 wire bytes at buf: byte 0 the opcode, byte 1 dst in bits 0-3 and
 * src in bits 4-7, bytes 2-3 off (s16) and 4-7 imm (s32), little-endian: the kernel's struct
 * bpf_insn as a little-endian host lays it out, whatever this host's byte and bit-field order. */
#define NICSIM_IMG_SLOT_SIZE 8u
static inline void nicsim_img_slot_get(struct nicsim_insn *v, const void *buf)
{
    const uint8_t *b = (const uint8_t *)buf;

    v->code = b[0];
    v->dst = b[1] & 0x0f;
    v->src = b[1] >> 4;
    v->off = (int16_t)nicsim_get_le16(buf, 2);
    v->imm = (int32_t)nicsim_get_le32(buf, 4);
}

static inline void nicsim_img_slot_put(void *buf, const struct nicsim_insn *v)
{
    uint8_t *b = (uint8_t *)buf;

    b[0] = v->code;
    b[1] = (uint8_t)((v->dst & 0x0f) | (v->src & 0x0f) << 4);
    nicsim_put_le16(buf, 2, (uint16_t)v->off);
    nicsim_put_le32(buf, 4, (uint32_t)v->imm);
}

#define NICSIM_IMG_F_USES_TAIL_CALL 0x1u
#define NICSIM_IMG_F_USES_PKT_WRITE 0x2u

/*
 * Slot conventions inside an image (everything else is plain eBPF):
 *  - LDDW src = NICSIM_LDDW_MAP_IDX (5), imm = NIC map id: the map's handle.
 *  - LDDW src = NICSIM_LDDW_MAP_IDX_VALUE (6), imm = NIC map id, second slot imm = byte offset:
 *    a pointer into the map's value (global data).
 *  - CALL_HELPER imm = a NIC helper-unit id (enum nicsim_hw_helper), not a kernel helper id.
 *  - Context accesses use the packet descriptor layout below, not struct xdp_md.
 * The firmware's loader (firmware/mgmt/fw_image.c) turns the LDDW forms into plain 64-bit
 * immediates, the NIC addresses nicsim_addr(NICSIM_MAP_REGION_BASE + id, off), before the program
 * reaches a core.
 */

/* Helper-unit operations. Kernel helper ids are mapped to these by nicsim_drv_hw_helper (drv.h). */
enum nicsim_hw_helper {
    NICSIM_HW_MAP_LOOKUP = 1,
    NICSIM_HW_MAP_UPDATE,
    NICSIM_HW_MAP_DELETE,
    NICSIM_HW_KTIME,
    NICSIM_HW_PRANDOM,
    NICSIM_HW_SMP_ID,
    NICSIM_HW_TAIL_CALL,
    NICSIM_HW_REDIRECT,
    NICSIM_HW_REDIRECT_MAP,
    NICSIM_HW_CSUM_DIFF,
    NICSIM_HW_ADJUST_HEAD,
    NICSIM_HW_ADJUST_META,
    NICSIM_HW_ADJUST_TAIL,
    NICSIM_HW_GET_BUFF_LEN,
    NICSIM_HW_LOAD_BYTES,
    NICSIM_HW_STORE_BYTES,
    NICSIM_HW_PERF_EVENT_OUTPUT,
    NICSIM_HW_RINGBUF_OUTPUT,
    NICSIM_HW_TRACE_PRINTK, /* bpf_trace_printk: the record goes to the host (nicsim/printk.h) */
    NICSIM_HW__COUNT
};

/*
 * The NIC's packet descriptor: what r1 points to when a core runs an XDP program (a region of
 * kind NICSIM_RGN_CTX; programs read it, and the one store they may make is the 4-byte write to
 * rx_queue_index the verifier admits for offloaded programs). Pointers are NIC addresses (64
 * bit), so the translator rewrites the 32-bit struct xdp_md loads of data/data_end/data_meta into
 * 64-bit loads at these offsets, and the u32 fields into 32-bit loads.
 */
struct nicsim_pkt_desc {
    uint64_t data;            /* NIC address of the first packet byte */
    uint64_t data_end;        /* one past the last */
    uint64_t data_meta;       /* start of the metadata area (== data when empty) */
    uint32_t ingress_ifindex; /* the kernel ifindex of the receiving port */
    uint32_t rx_queue_index;
    uint32_t egress_ifindex; /* 0 on ingress (XDP in devmap programs sets it) */
    uint32_t port;           /* NIC port number that received the packet */
};
NICSIM_STATIC_ASSERT(sizeof(struct nicsim_pkt_desc) == 40, "descriptor layout");

/* Where the NIC maps map memory in every core's address space: map id m is region
 * NICSIM_MAP_REGION_BASE + m; its handle (what LDDW MAP_IDX loads) is offset 0 of that region. */
#define NICSIM_MAP_REGION_BASE 16u
#define NICSIM_CTX_REGION      2u
#define NICSIM_PKT_REGION      3u

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_NIC_IMAGE_H */
