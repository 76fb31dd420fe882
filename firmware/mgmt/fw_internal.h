/* SPDX-License-Identifier: MIT */
/*
 * Firmware internals shared by its translation units: state, reply builder, and the thin layer
 * over the map library (fw_mapglue.c).
 */
#ifndef NICSIM_FW_INTERNAL_H
#define NICSIM_FW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/wire/cmsg.h"
#include "nicsim/fw_hal.h"
#include "nicsim/isa.h"
#include "nicsim/maptypes.h"
#include "nicsim/nic_image.h"

#define FW_VERSION       0x00010000u /* 1.0 */
#define FW_MAX_PORTS     16u
#define FW_MAX_CORES     64u
#define FW_DEF_MAP_MEM   (64ull << 20)
#define FW_DEF_MAX_MAPS  256u
#define FW_DEF_MAX_PROGS 64u
#define FW_DEF_EVQ_BYTES (256u << 10)
#define FW_MAX_SLOT      (1u << 20)
/* Map ids become core regions NICSIM_MAP_REGION_BASE + id, below NICSIM_MAX_REGIONS. */
#define FW_MAX_MAP_ID (4096u - NICSIM_MAP_REGION_BASE - 1u)
/* Largest image: header, the map table, a full instruction memory. */
#define FW_MAX_IMAGE_LEN                                                                           \
    (sizeof(struct nicsim_img_hdr) + 4u * NICSIM_IMG_MAX_MAPS + 8u * NICSIM_IMG_MAX_SLOTS)

struct fw_prog {
    uint32_t id; /* 0: free slot */
    uint32_t prog_type, stack_depth, flags;
    char name[17];
    struct nicsim_isa_insn *insns;
    size_t n;
    uint32_t *map_ids;
    uint32_t n_maps;
    uint32_t attached; /* ports running it */
    struct nicsim_stats stats;
};

struct fw_port {
    uint32_t prog_id;
    struct nicsim_stats stats;
};

struct fw_event {
    struct fw_event *next;
    struct nicsim_event_rec rec;
    uint8_t data[];
};

struct fw_map_ent {
    uint32_t type, key_size, value_size, max_entries, flags;
    uint64_t mem;          /* bytes charged to the budget */
    uint64_t ring_pending; /* ring buffer: bytes its queued records take (fw_ring_rec_bytes) */
    int used;
};

/* What one record of `len` bytes takes in a ring buffer, as __bpf_ringbuf_reserve counts it. */
static inline uint64_t fw_ring_rec_bytes(uint32_t len)
{
    return ((uint64_t)len + 8 + 7) / 8 * 8;
}

struct nicsim_fw {
    struct nicsim_fw_hal hal;
    uint32_t n_ports, n_cores, max_maps, max_progs, evq_bytes;
    uint64_t map_mem;
    struct nicsim_fw_maps *maps; /* the map library's store (fw_mapglue.c) */
    struct fw_map_ent *map_ent;  /* [max_maps + 1], index = map id */
    uint32_t n_maps;
    struct fw_prog *progs; /* [max_progs], id = index + 1 */
    uint32_t n_progs;
    struct fw_port ports[FW_MAX_PORTS];
    /* event queue */
    struct fw_event *evq_head, *evq_tail;
    uint32_t evq_used, evq_count;
    uint64_t evq_lost;
    /* rings (device-side copies of the indices) */
    int halted;
    uint32_t req_tail, resp_head;
    uint8_t *req_buf, *resp_buf;
    uint32_t buf_size;
    /* scratch for value transfers (host view of one value) */
    uint8_t *val_buf;
    size_t val_buf_size;
};

/* ---- Reply under construction. */
struct fw_reply {
    uint8_t *buf; /* header at 0 */
    size_t cap;
    size_t len;   /* bytes written, header included */
    uint8_t type; /* request type */
    uint32_t status;
};

/* Append `n` bytes (src NULL: zeros) padded to 8; NULL when the reply has no room. */
void *nicsim_fw_reply_put(struct fw_reply *r, const void *src, size_t n);
/* Append the wire struct *v encoded by put (nicsim_<struct>_put, include/nicsim/wire/cmsg.h); as
 * nicsim_fw_reply_put, nothing when it does not fit. */
#define FW_REPLY_ENCODE(r, put, v)                                                                 \
    do {                                                                                           \
        void *at_ = nicsim_fw_reply_put((r), NULL, sizeof(*(v)));                                  \
        if (at_)                                                                                   \
            put(at_, (v));                                                                         \
    } while (0)
size_t nicsim_fw_reply_room(const struct fw_reply *r);
/* Set an error status with a sentence appended to the body. Returns -1 for convenience. */
int nicsim_fw_fail(struct fw_reply *r, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with a negative errno. */
int nicsim_fw_fail_errno(struct fw_reply *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Message handlers (fw_msg.c). `body` has exactly `len` bytes. */
void nicsim_fw_msg_dispatch(struct nicsim_fw *fw, uint8_t type, uint16_t flags, const uint8_t *body,
                            size_t len, struct fw_reply *r);

/* ---- Program images (fw_image.c). Validates and relocates; on success *out is filled with
 * malloc'ed insns and map ids. Returns 0 or fails the reply. */
int nicsim_fw_image_load(struct nicsim_fw *fw, const uint8_t *img, size_t len, struct fw_prog *out,
                         struct fw_reply *r);

/* ---- Maps (fw_mapglue.c): the map library behind the firmware's rules. Every function returns
 * 0 or a negative errno with kernel meaning, and writes a sentence into msg (the one message
 * carrier, util.h) on failure. */
int nicsim_fw_maps_init(struct nicsim_fw *fw);
void nicsim_fw_maps_fini(struct nicsim_fw *fw);
uint64_t nicsim_fw_maps_types(void); /* bit t: map type t supported */
uint64_t nicsim_fw_maps_mem_used(const struct nicsim_fw *fw);
int nicsim_fw_map_create(struct nicsim_fw *fw, const struct nicsim_cmsg_map_alloc *a, uint32_t *id,
                         uint64_t *mem, struct nicsim_msg *msg);
int nicsim_fw_map_destroy(struct nicsim_fw *fw, uint32_t id);
/* Host view of values: per-CPU maps exchange round_up(value_size, 8) * n_cores bytes. */
size_t nicsim_fw_map_host_value_size(const struct nicsim_fw *fw, uint32_t id);
const struct fw_map_ent *nicsim_fw_map_get(const struct nicsim_fw *fw, uint32_t id);

/* A queued ring buffer record leaves the queue (drained or dropped): its bytes are free in the
 * ring again. Records of a map freed meanwhile (whose id a new ring may reuse) free at most what
 * the map counts. */
static inline void fw_ring_release(struct nicsim_fw *fw, const struct nicsim_event_rec *rec)
{
    const struct fw_map_ent *m = nicsim_fw_map_get(fw, rec->map_id);
    uint64_t b = fw_ring_rec_bytes(rec->len);

    if (m && m->type == BPF_MAP_TYPE_RINGBUF)
        fw->map_ent[rec->map_id].ring_pending -= b < m->ring_pending ? b : m->ring_pending;
}
int nicsim_fw_map_lookup(struct nicsim_fw *fw, uint32_t id, const void *key, void *value,
                         int and_delete, struct nicsim_msg *msg);
int nicsim_fw_map_update(struct nicsim_fw *fw, uint32_t id, const void *key, const void *value,
                         uint64_t flags, struct nicsim_msg *msg);
int nicsim_fw_map_delete(struct nicsim_fw *fw, uint32_t id, const void *key,
                         struct nicsim_msg *msg);
/* key NULL: first key. -ENOENT at the end. */
int nicsim_fw_map_get_next(struct nicsim_fw *fw, uint32_t id, const void *key, void *next,
                           struct nicsim_msg *msg);

#endif /* NICSIM_FW_INTERNAL_H */
