/* SPDX-License-Identifier: MIT */
/*
 * nicsim control path: the control-message wire format the host and the NIC firmware exchange
 * (modelled on Netronome nfp's "cmsg"), and the host-side control client the NIC driver calls.
 * docs/control-messages.md has the byte layout of every message; docs/register-map.md the BAR.
 *
 * Transport: a request ring and a response ring of fixed-size slots in host memory, reached by
 * the firmware only through DMA (include/nicsim/pcie.h). One client call = one request + one
 * response, matched by sequence number. The client waits a bounded number of polls for the
 * answer: a firmware that does not answer gives -ETIMEDOUT, never a hang.
 *
 * Every client function returns 0 or a negative errno; the firmware's explanation of a refused
 * request ("map 7: key size 3 does not match the map's 4") is kept for nicsim_ctrl__last_error().
 *
 * All wire fields are little-endian. Every struct below is naturally aligned and has no implicit
 * padding; message bodies are padded to 8 bytes.
 */
#ifndef NICSIM_CTRL_H
#define NICSIM_CTRL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Wire format.
 */
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
 * Host-side control client.
 */
struct nicsim_bar_ops; /* include/nicsim/pcie.h */
struct nicsim_ctrl;

struct nicsim_ctrl_opts {
    size_t sz;             /* sizeof(struct nicsim_ctrl_opts) */
    uint32_t ring_entries; /* slots per ring, power of two; 0: 16 */
    uint32_t slot_size;    /* bytes per slot (longest message), power of two >= 256; 0: 64 KiB */
    uint32_t poll_budget;  /* polls of the response ring before -ETIMEDOUT; 0: 1000 */
    /* Called between two polls (e.g. to step a scheduler); NULL: nothing. */
    void (*idle)(void *user);
    void *idle_user;
};

/*
 * Create a client on a BAR transport: reads the identification registers, allocates the two rings
 * in host memory (DMA-mapped through the ops), programs the ring registers and enables the rings.
 * NULL with errno set on failure (ENODEV: no nicsim device behind the BAR).
 */
struct nicsim_ctrl *nicsim_ctrl__new(const struct nicsim_bar_ops *bar, void *bar_ctx,
                                     const struct nicsim_ctrl_opts *opts);
void nicsim_ctrl__free(struct nicsim_ctrl *ctrl);
/* The firmware's explanation of the last refused request ("" if none). */
const char *nicsim_ctrl__last_error(const struct nicsim_ctrl *ctrl);
/* From the BAR's identification registers. */
uint32_t nicsim_ctrl__n_ports(const struct nicsim_ctrl *ctrl);
uint32_t nicsim_ctrl__n_cores(const struct nicsim_ctrl *ctrl);

/* Maps. `type` is the kernel's enum bpf_map_type, sizes and flags as for BPF_MAP_CREATE. The client
 * remembers every map it allocated, to size messages. */
int nicsim_ctrl__map_alloc(struct nicsim_ctrl *ctrl, uint32_t type, uint32_t key_size,
                           uint32_t value_size, uint32_t max_entries, uint32_t flags, uint32_t *id);
/* Map-in-map: as map_alloc with the template (inner) map. */
int nicsim_ctrl__map_alloc_inner(struct nicsim_ctrl *ctrl, uint32_t type, uint32_t key_size,
                                 uint32_t value_size, uint32_t max_entries, uint32_t flags,
                                 uint32_t inner_map_id, uint32_t *id);
int nicsim_ctrl__map_free(struct nicsim_ctrl *ctrl, uint32_t id);
/* Bytes of a value as the host exchanges it: value_size, or round_up(value_size, 8) * n_cores for
 * per-CPU maps. 0 for an unknown map. */
size_t nicsim_ctrl__map_value_size(const struct nicsim_ctrl *ctrl, uint32_t id);

/* Single-element operations, kernel semantics (-ENOENT, -EEXIST, -E2BIG, ...). key may be NULL
 * for maps with key_size 0 (queue, stack). */
int nicsim_ctrl__map_lookup(struct nicsim_ctrl *ctrl, uint32_t id, const void *key, void *value);
int nicsim_ctrl__map_lookup_and_delete(struct nicsim_ctrl *ctrl, uint32_t id, const void *key,
                                       void *value);
int nicsim_ctrl__map_update(struct nicsim_ctrl *ctrl, uint32_t id, const void *key,
                            const void *value, uint64_t flags);
int nicsim_ctrl__map_delete(struct nicsim_ctrl *ctrl, uint32_t id, const void *key);
/* key NULL: the first key. -ENOENT after the last. */
int nicsim_ctrl__map_get_next(struct nicsim_ctrl *ctrl, uint32_t id, const void *key,
                              void *next_key);

/*
 * Batches: `keys` and `values` are packed arrays (key_size / map_value_size bytes per element).
 * *count is the number of elements in, and on return the number done; the client splits a batch
 * over as many messages as it needs. On the first failing element the call stops and returns its
 * error (*count tells which).
 */
int nicsim_ctrl__map_lookup_batch(struct nicsim_ctrl *ctrl, uint32_t id, const void *keys,
                                  void *values, uint32_t *count);
int nicsim_ctrl__map_update_batch(struct nicsim_ctrl *ctrl, uint32_t id, const void *keys,
                                  const void *values, uint32_t *count, uint64_t flags);
int nicsim_ctrl__map_delete_batch(struct nicsim_ctrl *ctrl, uint32_t id, const void *keys,
                                  uint32_t *count);
/* Walk: up to *count entries after `key` (NULL: from the first) into keys / values (values NULL:
 * keys only). *count = entries returned; fewer than asked means the walk reached the end. Returns
 * -ENOENT when there is no entry at all after `key`. */
int nicsim_ctrl__map_get_next_batch(struct nicsim_ctrl *ctrl, uint32_t id, const void *key,
                                    void *keys, void *values, uint32_t *count);

/* Programs. The image is a NIC image (include/nicsim/nic_image.h), DMA-read by the firmware. */
int nicsim_ctrl__prog_load(struct nicsim_ctrl *ctrl, const void *image, size_t len,
                           uint32_t *prog_id);
int nicsim_ctrl__prog_unload(struct nicsim_ctrl *ctrl, uint32_t prog_id);
/* Datapath configuration. old_prog_id may be NULL. */
int nicsim_ctrl__xdp_attach(struct nicsim_ctrl *ctrl, uint32_t port, uint32_t prog_id,
                            uint32_t flags, uint32_t *old_prog_id);
int nicsim_ctrl__xdp_detach(struct nicsim_ctrl *ctrl, uint32_t port, uint32_t *old_prog_id);

/* Counters of a port (scope NICSIM_STATS_PORT) or a program (NICSIM_STATS_PROG). */
int nicsim_ctrl__stats(struct nicsim_ctrl *ctrl, uint32_t scope, uint32_t id, uint32_t flags,
                       struct nicsim_stats *out);

/*
 * Drain queued events: calls fn once per record (data valid during the call only) until the
 * firmware's queue is empty or fn returns non-zero. *lost (may be NULL) receives the records the
 * firmware dropped. Returns the number of records delivered or a negative errno.
 */
typedef int (*nicsim_ctrl_event_fn)(void *user, const struct nicsim_event_rec *rec,
                                    const void *data);
int nicsim_ctrl__events_drain(struct nicsim_ctrl *ctrl, nicsim_ctrl_event_fn fn, void *user,
                              uint64_t *lost);

int nicsim_ctrl__fw_info(struct nicsim_ctrl *ctrl, struct nicsim_cmsg_fw_info *out);

/* Interrupt entry: the driver's handler for the device interrupt. Acknowledges the pending unmasked
 * causes and returns them (NICSIM_IRQ_* bits, include/nicsim/pcie.h). */
uint32_t nicsim_ctrl__irq(struct nicsim_ctrl *ctrl);

/* Raw exchange (tests, tools): send `req` (header's seq and len are filled in), wait for the
 * reply into `resp` (cap bytes). Returns the reply length or a negative errno (transport errors;
 * the reply's status is not interpreted). */
int nicsim_ctrl__xfer(struct nicsim_ctrl *ctrl, void *req, size_t req_len, void *resp, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_CTRL_H */
