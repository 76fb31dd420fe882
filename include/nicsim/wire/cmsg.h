/* SPDX-License-Identifier: MIT */
/*
 * The control-message wire format the host's control client (driver/ctrl, include/nicsim/ctrl.h)
 * and the NIC firmware (firmware/mgmt) exchange, modelled on Netronome nfp's "cmsg".
 * docs/control-messages.md has the byte layout of every message; docs/register-map.md the BAR.
 * Both sides include this header and nothing of the other's.
 *
 * All wire fields are little-endian. Every struct below is naturally aligned and has no implicit
 * padding; message bodies are padded to 8 bytes. The structs are the host's view of a message:
 * encoders and decoders go through nicsim_<struct>_put / _get (at the end of this file), which
 * convert every field with the little-endian accessors of include/nicsim/wire/le.h; a struct is
 * never copied to or from the wire as it lies in host memory.
 */
#ifndef NICSIM_WIRE_CMSG_H
#define NICSIM_WIRE_CMSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nicsim/wire/le.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_CMSG_VERSION    1u
#define NICSIM_CMSG_REPLY      0x80u /* type bit set in every reply (reply type = request | 0x80) */
#define NICSIM_CMSG_ERRMSG_MAX 160u  /* longest error text in an error reply, NUL included */

/* Common header, 16 bytes, at the start of every request and reply. */
struct nicsim_cmsg_hdr {
    uint8_t version; /* NICSIM_CMSG_VERSION */
    uint8_t type;    /* enum nicsim_cmsg_type, | NICSIM_CMSG_REPLY in replies */
    uint16_t flags;  /* per type (NICSIM_CMSG_F_*); bits a type does not define must be 0 */
    uint32_t seq;    /* chosen by the host; the reply echoes it */
    uint32_t len;    /* bytes of the whole message, header included */
    uint32_t status; /* requests: 0; replies: enum nicsim_cmsg_status */
};
#ifdef __cplusplus
static_assert(sizeof(struct nicsim_cmsg_hdr) == 16, "cmsg header is 16 bytes");
#else
_Static_assert(sizeof(struct nicsim_cmsg_hdr) == 16, "cmsg header is 16 bytes");
#endif

enum nicsim_cmsg_type {
    NICSIM_CMSG_FW_INFO = 1,
    NICSIM_CMSG_MAP_ALLOC = 2,
    NICSIM_CMSG_MAP_FREE = 3,
    NICSIM_CMSG_MAP_LOOKUP = 4,
    NICSIM_CMSG_MAP_UPDATE = 5,
    NICSIM_CMSG_MAP_DELETE = 6,
    NICSIM_CMSG_MAP_GETFIRST = 7,
    NICSIM_CMSG_MAP_GETNEXT = 8,
    NICSIM_CMSG_PROG_LOAD = 9,
    NICSIM_CMSG_PROG_UNLOAD = 10,
    NICSIM_CMSG_XDP_ATTACH = 11,
    NICSIM_CMSG_XDP_DETACH = 12,
    NICSIM_CMSG_STATS = 13,
    NICSIM_CMSG_EVENTS = 14,
    NICSIM_CMSG__MAX_TYPE = NICSIM_CMSG_EVENTS,
};
/* "MAP_LOOKUP", ...; NULL for unknown types (the reply bit is ignored). */
const char *nicsim_cmsg_type_name(unsigned type);

/* Header flags. */
#define NICSIM_CMSG_F_AND_DELETE 0x1u /* MAP_LOOKUP: lookup-and-delete (queue/stack pop) */
#define NICSIM_CMSG_F_KEYS_ONLY  0x1u /* MAP_GETFIRST/GETNEXT: reply elements carry no values */
#define NICSIM_CMSG_F_INLINE     0x1u /* PROG_LOAD: the image follows the body, no DMA */

/*
 * Reply status. Wire codes are the protocol's own numbers, not the host's errno values;
 * nicsim_cmsg_status_to_errno / nicsim_cmsg_errno_to_status convert (docs/control-messages.md).
 * An error reply's body is a NUL-terminated sentence (at most NICSIM_CMSG_ERRMSG_MAX bytes), or
 * empty.
 */
enum nicsim_cmsg_status {
    NICSIM_CMSG_OK = 0,
    NICSIM_CMSG_EINVAL = 1,     /* malformed or inconsistent request */
    NICSIM_CMSG_ENOENT = 2,     /* no such element / no next element */
    NICSIM_CMSG_EEXIST = 3,     /* element exists (BPF_NOEXIST) */
    NICSIM_CMSG_ENOMEM = 4,     /* NIC memory budget exhausted */
    NICSIM_CMSG_E2BIG = 5,      /* map full, or more than the message can carry */
    NICSIM_CMSG_EBUSY = 6,      /* object in use (attached program, referenced map) */
    NICSIM_CMSG_EOPNOTSUPP = 7, /* operation not supported by this map type / firmware */
    NICSIM_CMSG_EBADMSG = 8,    /* header: bad version, type, length or reserved bits */
    NICSIM_CMSG_ENODEV = 9,     /* no such port */
    NICSIM_CMSG_EFAULT = 10,    /* DMA to or from host memory failed */
    NICSIM_CMSG_ENOSPC = 11,    /* no free map / program id */
    NICSIM_CMSG_EPERM = 12,     /* the program image breaks a NIC rule */
    NICSIM_CMSG_ERANGE = 13,    /* value out of range (index, size) */
    NICSIM_CMSG_EIO = 14,       /* internal firmware error */
    NICSIM_CMSG__MAX_STATUS = NICSIM_CMSG_EIO,
};
int nicsim_cmsg_status_to_errno(uint32_t status); /* unknown codes -> -EIO; OK -> 0 */
uint32_t nicsim_cmsg_errno_to_status(int err);    /* err <= 0; unknown -> NICSIM_CMSG_EIO */

/* FW_INFO: request body empty. Reply body: */
struct nicsim_cmsg_fw_info {
    uint32_t fw_version;   /* major << 16 | minor */
    uint32_t cmsg_version; /* NICSIM_CMSG_VERSION */
    uint32_t n_ports;
    uint32_t n_cores;
    uint64_t map_mem_total; /* bytes of map memory */
    uint64_t map_mem_used;
    uint32_t n_maps, max_maps;
    uint32_t n_progs, max_progs;
    uint32_t max_msg_len;    /* longest message either ring carries (slot size) */
    uint32_t max_prog_slots; /* NICSIM_IMG_MAX_SLOTS */
    uint64_t map_types;      /* bit t set: map type t (enum bpf_map_type) supported */
    uint64_t helpers;        /* bit h set: helper unit h (enum nicsim_hw_helper) present */
    uint32_t event_queue_bytes;
    uint32_t reserved;
    char name[32]; /* firmware name, NUL-padded */
};

/* MAP_ALLOC request body. */
struct nicsim_cmsg_map_alloc {
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags;    /* BPF_F_* as the kernel takes them */
    uint32_t inner_map_id; /* ARRAY_OF_MAPS / HASH_OF_MAPS: template map; else 0 */
    uint64_t map_extra;    /* the kernel's map_extra: BLOOM_FILTER, bits 0-3 the number of hash
                            * functions (0: 5); 0 for every other type */
};
/* MAP_ALLOC reply body. */
struct nicsim_cmsg_map_alloc_reply {
    uint32_t map_id; /* >= 1 */
    uint32_t reserved;
    uint64_t mem_bytes; /* map memory the map takes from the budget */
};

/* MAP_FREE / PROG_UNLOAD request body (reply body empty). */
struct nicsim_cmsg_id {
    uint32_t id;
    uint32_t reserved; /* 0 */
};

/*
 * MAP_LOOKUP / UPDATE / DELETE / GETFIRST / GETNEXT request and reply body, followed by `count`
 * elements. An element is the key padded to 8 bytes, then (when the message carries values) the
 * value padded to 8 bytes. The value of a per-CPU map is the host's view: one round_up(value_size,
 * 8)-byte slice per NIC core, as the kernel's bpf syscall exchanges it.
 *
 *            request elements     reply elements (count = elements done / returned)
 *  LOOKUP    keys                 key + value
 *  UPDATE    key + value          none
 *  DELETE    keys                 none
 *  GETFIRST  none (count 0)       key (+ value unless F_KEYS_ONLY), at most max_count
 *  GETNEXT   one key (count 1)    the keys after it, same as GETFIRST
 *
 * Batches are processed in order and stop at the first element that fails: the reply's status is
 * that element's error and its count the number of elements done before it.
 */
struct nicsim_cmsg_map_op {
    uint32_t map_id;
    uint32_t count;
    uint32_t key_size;   /* must equal the map's key size */
    uint32_t value_size; /* must equal the map's value size (per core for per-CPU maps) */
    uint64_t flags;      /* UPDATE: BPF_ANY / BPF_NOEXIST / BPF_EXIST (| BPF_F_LOCK); else 0 */
    uint32_t max_count;  /* GETFIRST / GETNEXT: most elements wanted (>= 1); else 0 */
    uint32_t reserved;   /* 0 */
};

/* PROG_LOAD request body. The image (include/nicsim/nic_image.h) is DMA-read from host memory at
 * image_addr, or with NICSIM_CMSG_F_INLINE follows this body (image_addr 0). */
struct nicsim_cmsg_prog_load {
    uint64_t image_addr; /* bus address */
    uint32_t image_len;
    uint32_t reserved; /* 0 */
};
struct nicsim_cmsg_prog_load_reply {
    uint32_t prog_id; /* >= 1 */
    uint32_t n_slots;
};

/* XDP_ATTACH request body; XDP_DETACH uses it with prog_id 0. */
struct nicsim_cmsg_xdp {
    uint32_t port;
    uint32_t prog_id;
    uint32_t flags;    /* NICSIM_XDP_ATTACH_F_* */
    uint32_t reserved; /* 0 */
};
#define NICSIM_XDP_ATTACH_F_NOEXIST 0x1u /* fail with EBUSY if the port has a program */
/* XDP_ATTACH / XDP_DETACH reply body. */
struct nicsim_cmsg_xdp_reply {
    uint32_t old_prog_id; /* program the port had before, 0 if none */
    uint32_t reserved;
};

/* STATS request body. */
struct nicsim_cmsg_stats_req {
    uint32_t scope;    /* NICSIM_STATS_PORT or NICSIM_STATS_PROG */
    uint32_t id;       /* port index or program id */
    uint32_t flags;    /* NICSIM_STATS_F_RESET: zero the counters after reading */
    uint32_t reserved; /* 0 */
};
#define NICSIM_STATS_PORT       1u
#define NICSIM_STATS_PROG       2u
#define NICSIM_STATS_F_RESET    0x1u
#define NICSIM_STATS_N_VERDICTS 6 /* XDP_ABORTED..XDP_REDIRECT, [5]: unknown return values */
/* STATS reply body. */
struct nicsim_stats {
    uint32_t scope, id;
    uint64_t packets;
    uint64_t bytes;
    uint64_t verdicts[NICSIM_STATS_N_VERDICTS];
    uint64_t errors; /* traps and watchdogs */
    uint64_t cycles; /* core cycles spent in programs */
};

/* EVENTS request body: drain queued perf-event / ring-buffer records. */
struct nicsim_cmsg_events_req {
    uint32_t max_bytes; /* most record bytes (headers + padded data) wanted; 0: as many as fit */
    uint32_t reserved;  /* 0 */
};
/* EVENTS reply body, followed by `count` records, each a struct nicsim_event_rec then its data
 * padded to 8 bytes. */
struct nicsim_cmsg_events_reply {
    uint32_t count;
    uint32_t pending; /* records still queued after this reply */
    uint64_t lost;    /* records dropped because the queue was full, since the last drain */
};
struct nicsim_event_rec {
    uint32_t map_id; /* the PERF_EVENT_ARRAY or RINGBUF map */
    uint32_t cpu;    /* NIC core that produced it */
    uint64_t index;  /* perf event array index (BPF_F_INDEX_MASK part of flags), 0 for ringbuf */
    uint32_t len;    /* data bytes */
    uint32_t reserved;
};

/* ---------------------------------------------------------------------------------------------
 * Encoders and decoders: v <-> the sizeof(*v) bytes at buf (no alignment needed).
 */
static inline void nicsim_cmsg_hdr_get(struct nicsim_cmsg_hdr *v, const void *buf)
{
    v->version = ((const uint8_t *)buf)[offsetof(struct nicsim_cmsg_hdr, version)];
    v->type = ((const uint8_t *)buf)[offsetof(struct nicsim_cmsg_hdr, type)];
    v->flags = nicsim_get_le16(buf, offsetof(struct nicsim_cmsg_hdr, flags));
    v->seq = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_hdr, seq));
    v->len = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_hdr, len));
    v->status = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_hdr, status));
}

static inline void nicsim_cmsg_hdr_put(void *buf, const struct nicsim_cmsg_hdr *v)
{
    ((uint8_t *)buf)[offsetof(struct nicsim_cmsg_hdr, version)] = v->version;
    ((uint8_t *)buf)[offsetof(struct nicsim_cmsg_hdr, type)] = v->type;
    nicsim_put_le16(buf, offsetof(struct nicsim_cmsg_hdr, flags), v->flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_hdr, seq), v->seq);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_hdr, len), v->len);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_hdr, status), v->status);
}

static inline void nicsim_cmsg_fw_info_get(struct nicsim_cmsg_fw_info *v, const void *buf)
{
    v->fw_version = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, fw_version));
    v->cmsg_version = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, cmsg_version));
    v->n_ports = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_ports));
    v->n_cores = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_cores));
    v->map_mem_total = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_mem_total));
    v->map_mem_used = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_mem_used));
    v->n_maps = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_maps));
    v->max_maps = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_maps));
    v->n_progs = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_progs));
    v->max_progs = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_progs));
    v->max_msg_len = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_msg_len));
    v->max_prog_slots = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_prog_slots));
    v->map_types = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_types));
    v->helpers = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_fw_info, helpers));
    v->event_queue_bytes =
        nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, event_queue_bytes));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_fw_info, reserved));
    memcpy(v->name, (const uint8_t *)buf + offsetof(struct nicsim_cmsg_fw_info, name),
           sizeof(v->name));
}

static inline void nicsim_cmsg_fw_info_put(void *buf, const struct nicsim_cmsg_fw_info *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, fw_version), v->fw_version);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, cmsg_version), v->cmsg_version);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_ports), v->n_ports);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_cores), v->n_cores);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_mem_total), v->map_mem_total);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_mem_used), v->map_mem_used);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_maps), v->n_maps);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_maps), v->max_maps);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, n_progs), v->n_progs);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_progs), v->max_progs);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_msg_len), v->max_msg_len);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, max_prog_slots), v->max_prog_slots);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_fw_info, map_types), v->map_types);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_fw_info, helpers), v->helpers);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, event_queue_bytes),
                    v->event_queue_bytes);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_fw_info, reserved), v->reserved);
    memcpy((uint8_t *)buf + offsetof(struct nicsim_cmsg_fw_info, name), v->name, sizeof(v->name));
}

static inline void nicsim_cmsg_map_alloc_get(struct nicsim_cmsg_map_alloc *v, const void *buf)
{
    v->type = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, type));
    v->key_size = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, key_size));
    v->value_size = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, value_size));
    v->max_entries = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, max_entries));
    v->map_flags = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, map_flags));
    v->inner_map_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, inner_map_id));
    v->map_extra = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_map_alloc, map_extra));
}

static inline void nicsim_cmsg_map_alloc_put(void *buf, const struct nicsim_cmsg_map_alloc *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, type), v->type);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, key_size), v->key_size);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, value_size), v->value_size);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, max_entries), v->max_entries);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, map_flags), v->map_flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc, inner_map_id), v->inner_map_id);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_map_alloc, map_extra), v->map_extra);
}

static inline void nicsim_cmsg_map_alloc_reply_get(struct nicsim_cmsg_map_alloc_reply *v,
                                                   const void *buf)
{
    v->map_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, map_id));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, reserved));
    v->mem_bytes = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, mem_bytes));
}

static inline void nicsim_cmsg_map_alloc_reply_put(void *buf,
                                                   const struct nicsim_cmsg_map_alloc_reply *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, map_id), v->map_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, reserved), v->reserved);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_map_alloc_reply, mem_bytes), v->mem_bytes);
}

static inline void nicsim_cmsg_id_get(struct nicsim_cmsg_id *v, const void *buf)
{
    v->id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_id, id));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_id, reserved));
}

static inline void nicsim_cmsg_id_put(void *buf, const struct nicsim_cmsg_id *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_id, id), v->id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_id, reserved), v->reserved);
}

static inline void nicsim_cmsg_map_op_get(struct nicsim_cmsg_map_op *v, const void *buf)
{
    v->map_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, map_id));
    v->count = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, count));
    v->key_size = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, key_size));
    v->value_size = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, value_size));
    v->flags = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_map_op, flags));
    v->max_count = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, max_count));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_map_op, reserved));
}

static inline void nicsim_cmsg_map_op_put(void *buf, const struct nicsim_cmsg_map_op *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, map_id), v->map_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, count), v->count);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, key_size), v->key_size);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, value_size), v->value_size);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_map_op, flags), v->flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, max_count), v->max_count);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_map_op, reserved), v->reserved);
}

static inline void nicsim_cmsg_prog_load_get(struct nicsim_cmsg_prog_load *v, const void *buf)
{
    v->image_addr = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_prog_load, image_addr));
    v->image_len = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_prog_load, image_len));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_prog_load, reserved));
}

static inline void nicsim_cmsg_prog_load_put(void *buf, const struct nicsim_cmsg_prog_load *v)
{
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_prog_load, image_addr), v->image_addr);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_prog_load, image_len), v->image_len);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_prog_load, reserved), v->reserved);
}

static inline void nicsim_cmsg_prog_load_reply_get(struct nicsim_cmsg_prog_load_reply *v,
                                                   const void *buf)
{
    v->prog_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_prog_load_reply, prog_id));
    v->n_slots = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_prog_load_reply, n_slots));
}

static inline void nicsim_cmsg_prog_load_reply_put(void *buf,
                                                   const struct nicsim_cmsg_prog_load_reply *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_prog_load_reply, prog_id), v->prog_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_prog_load_reply, n_slots), v->n_slots);
}

static inline void nicsim_cmsg_xdp_get(struct nicsim_cmsg_xdp *v, const void *buf)
{
    v->port = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp, port));
    v->prog_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp, prog_id));
    v->flags = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp, flags));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp, reserved));
}

static inline void nicsim_cmsg_xdp_put(void *buf, const struct nicsim_cmsg_xdp *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp, port), v->port);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp, prog_id), v->prog_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp, flags), v->flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp, reserved), v->reserved);
}

static inline void nicsim_cmsg_xdp_reply_get(struct nicsim_cmsg_xdp_reply *v, const void *buf)
{
    v->old_prog_id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp_reply, old_prog_id));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_xdp_reply, reserved));
}

static inline void nicsim_cmsg_xdp_reply_put(void *buf, const struct nicsim_cmsg_xdp_reply *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp_reply, old_prog_id), v->old_prog_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_xdp_reply, reserved), v->reserved);
}

static inline void nicsim_cmsg_stats_req_get(struct nicsim_cmsg_stats_req *v, const void *buf)
{
    v->scope = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_stats_req, scope));
    v->id = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_stats_req, id));
    v->flags = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_stats_req, flags));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_stats_req, reserved));
}

static inline void nicsim_cmsg_stats_req_put(void *buf, const struct nicsim_cmsg_stats_req *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_stats_req, scope), v->scope);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_stats_req, id), v->id);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_stats_req, flags), v->flags);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_stats_req, reserved), v->reserved);
}

static inline void nicsim_stats_get(struct nicsim_stats *v, const void *buf)
{
    v->scope = nicsim_get_le32(buf, offsetof(struct nicsim_stats, scope));
    v->id = nicsim_get_le32(buf, offsetof(struct nicsim_stats, id));
    v->packets = nicsim_get_le64(buf, offsetof(struct nicsim_stats, packets));
    v->bytes = nicsim_get_le64(buf, offsetof(struct nicsim_stats, bytes));
    v->verdicts[0] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[0]));
    v->verdicts[1] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[1]));
    v->verdicts[2] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[2]));
    v->verdicts[3] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[3]));
    v->verdicts[4] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[4]));
    v->verdicts[5] = nicsim_get_le64(buf, offsetof(struct nicsim_stats, verdicts[5]));
    v->errors = nicsim_get_le64(buf, offsetof(struct nicsim_stats, errors));
    v->cycles = nicsim_get_le64(buf, offsetof(struct nicsim_stats, cycles));
}

static inline void nicsim_stats_put(void *buf, const struct nicsim_stats *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_stats, scope), v->scope);
    nicsim_put_le32(buf, offsetof(struct nicsim_stats, id), v->id);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, packets), v->packets);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, bytes), v->bytes);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[0]), v->verdicts[0]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[1]), v->verdicts[1]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[2]), v->verdicts[2]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[3]), v->verdicts[3]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[4]), v->verdicts[4]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, verdicts[5]), v->verdicts[5]);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, errors), v->errors);
    nicsim_put_le64(buf, offsetof(struct nicsim_stats, cycles), v->cycles);
}

static inline void nicsim_cmsg_events_req_get(struct nicsim_cmsg_events_req *v, const void *buf)
{
    v->max_bytes = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_events_req, max_bytes));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_events_req, reserved));
}

static inline void nicsim_cmsg_events_req_put(void *buf, const struct nicsim_cmsg_events_req *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_events_req, max_bytes), v->max_bytes);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_events_req, reserved), v->reserved);
}

static inline void nicsim_cmsg_events_reply_get(struct nicsim_cmsg_events_reply *v, const void *buf)
{
    v->count = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_events_reply, count));
    v->pending = nicsim_get_le32(buf, offsetof(struct nicsim_cmsg_events_reply, pending));
    v->lost = nicsim_get_le64(buf, offsetof(struct nicsim_cmsg_events_reply, lost));
}

static inline void nicsim_cmsg_events_reply_put(void *buf, const struct nicsim_cmsg_events_reply *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_events_reply, count), v->count);
    nicsim_put_le32(buf, offsetof(struct nicsim_cmsg_events_reply, pending), v->pending);
    nicsim_put_le64(buf, offsetof(struct nicsim_cmsg_events_reply, lost), v->lost);
}

static inline void nicsim_event_rec_get(struct nicsim_event_rec *v, const void *buf)
{
    v->map_id = nicsim_get_le32(buf, offsetof(struct nicsim_event_rec, map_id));
    v->cpu = nicsim_get_le32(buf, offsetof(struct nicsim_event_rec, cpu));
    v->index = nicsim_get_le64(buf, offsetof(struct nicsim_event_rec, index));
    v->len = nicsim_get_le32(buf, offsetof(struct nicsim_event_rec, len));
    v->reserved = nicsim_get_le32(buf, offsetof(struct nicsim_event_rec, reserved));
}

static inline void nicsim_event_rec_put(void *buf, const struct nicsim_event_rec *v)
{
    nicsim_put_le32(buf, offsetof(struct nicsim_event_rec, map_id), v->map_id);
    nicsim_put_le32(buf, offsetof(struct nicsim_event_rec, cpu), v->cpu);
    nicsim_put_le64(buf, offsetof(struct nicsim_event_rec, index), v->index);
    nicsim_put_le32(buf, offsetof(struct nicsim_event_rec, len), v->len);
    nicsim_put_le32(buf, offsetof(struct nicsim_event_rec, reserved), v->reserved);
}

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_WIRE_CMSG_H */
