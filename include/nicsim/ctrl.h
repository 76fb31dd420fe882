/* SPDX-License-Identifier: MIT */
/*
 * nicsim control path: the host-side control client the NIC driver calls. The control-message
 * wire format it exchanges with the NIC firmware is include/nicsim/wire/cmsg.h (nfp's "cmsg").
 * docs/control-messages.md has the byte layout of every message; docs/register-map.md the BAR.
 *
 * Transport: a request ring and a response ring of fixed-size slots in host memory, reached by
 * the firmware only through DMA (include/nicsim/pcie.h). One client call = one request + one
 * response, matched by sequence number. The client waits a bounded number of polls for the
 * answer: a firmware that does not answer gives -ETIMEDOUT, never a hang.
 *
 * Every client function returns 0 or a negative errno; the firmware's explanation of a refused
 * request ("map 7: key size 3 does not match the map's 4") is kept for nicsim_ctrl__last_error().
 */
#ifndef NICSIM_CTRL_H
#define NICSIM_CTRL_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/wire/cmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

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
