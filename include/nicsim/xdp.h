/* SPDX-License-Identifier: MIT */
/*
 * XDP on a NIC core: the packet buffer and descriptor a core sees, the helper unit's XDP helpers
 * with kernel semantics and documented cycle costs (docs/microarchitecture.md §5), and one run of
 * a program over one packet.
 *
 * Geometry follows the kernel's BPF_PROG_TEST_RUN for XDP (net/bpf/test_run.c), so that a packet
 * run here and in the kernel sees the same limits: a 4096-byte frame, 256 bytes of headroom of
 * which the first 40 (struct xdp_frame) are reserved, 320 bytes of tailroom (the aligned
 * struct skb_shared_info), hence at most 3520 bytes of packet data.
 *
 * Maps are reached through a map-unit interface (struct nicsim_xdp_map_ops) that the NIC device
 * implements over the firmware's map memory.
 */
#ifndef NICSIM_XDP_H
#define NICSIM_XDP_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/core.h"
#include "nicsim/maptypes.h" /* enum bpf_map_type */
#include "nicsim/nic_image.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_XDP_FRAME_SIZE 4096u
#define NICSIM_XDP_HEADROOM   256u
#define NICSIM_XDP_FRAME_HDR  40u  /* sizeof(struct xdp_frame): head/meta may not go below */
#define NICSIM_XDP_TAILROOM   320u /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */
#define NICSIM_XDP_MAX_DATA   (NICSIM_XDP_FRAME_SIZE - NICSIM_XDP_HEADROOM - NICSIM_XDP_TAILROOM)
#define NICSIM_XDP_META_MAX   255u /* type_max(skb_shared_info.meta_len) */
#define NICSIM_ETH_HLEN       14u
/* perf_event_output: the raw sample (data then packet bytes) of one perf record, whose size
 * field is 16 bits: 8-byte header + round_up(4 + raw, 8) <= 65535. Larger records: -E2BIG. */
#define NICSIM_XDP_PERF_MAX_RAW 65516u

enum nicsim_xdp_action {
    NICSIM_XDP_ABORTED = 0,
    NICSIM_XDP_DROP = 1,
    NICSIM_XDP_PASS = 2,
    NICSIM_XDP_TX = 3,
    NICSIM_XDP_REDIRECT = 4,
};
/* "XDP_PASS", ...; "XDP_UNKNOWN" for other values. */
const char *nicsim_xdp_action_name(uint64_t action);

struct nicsim_xdp_map_info {
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
};

/*
 * The map unit, as the datapath sees it. `cpu` is the core. Every function returns 0 or a
 * negative errno with the kernel's meaning for the helper that calls it.
 */
struct nicsim_xdp_map_ops {
    int (*info)(void *ctx, uint32_t map_id, struct nicsim_xdp_map_info *info);
    /* Lookup: byte offset of the value inside the map's region as this core maps it. */
    int (*lookup)(void *ctx, uint32_t map_id, uint32_t cpu, const void *key, uint32_t *value_off);
    int (*update)(void *ctx, uint32_t map_id, uint32_t cpu, const void *key, const void *value,
                  uint64_t flags);
    int (*remove)(void *ctx, uint32_t map_id, uint32_t cpu, const void *key);
    /* devmap / devmap hash: the egress ifindex stored for `key`. cpumap: `key` itself (the host
     * CPU, whose receive queue gets the frame) when its entry is present. -ENOENT: no entry. */
    int (*devmap_get)(void *ctx, uint32_t map_id, uint32_t key, uint32_t *ifindex);
    /* prog array: the program at `index`, or NULL when the slot is empty. */
    const struct nicsim_prog *(*prog_array_get)(void *ctx, uint32_t map_id, uint32_t index);
    /* perf event array / ring buffer: deliver one record to the host. For a ring buffer, a
     * record that does not fit the ring's free space (max_entries bytes, each record taking
     * round_up(size + 8, 8), as the kernel's __bpf_ringbuf_reserve) must be refused (< 0) and
     * counted; the helper returns -EAGAIN for it. */
    int (*event_output)(void *ctx, uint32_t map_id, uint32_t cpu, uint64_t index, const void *data,
                        uint32_t size);
    /* array / hash of maps: the id of the inner map held under `key` (-ENOENT when none). May
     * be NULL: lookups in such maps then find nothing. */
    int (*inner_map)(void *ctx, uint32_t map_id, uint32_t cpu, const void *key, uint32_t *inner_id);
};

struct nicsim_xdp_core_opts {
    size_t sz;          /* sizeof(struct nicsim_xdp_core_opts) */
    uint32_t core_id;   /* what get_smp_processor_id returns */
    uint32_t clock_mhz; /* core clock for ktime_get_ns; 0: 250 */
    uint64_t seed;      /* get_prandom_u32 seed (per core: seed + core_id) */
    uint64_t budget;    /* instructions per packet before the watchdog; 0: core default */
    const struct nicsim_xdp_map_ops *maps;
    void *maps_ctx;
};

struct nicsim_xdp_core;

struct nicsim_xdp_core *nicsim_xdp_core__new(const struct nicsim_xdp_core_opts *opts);
void nicsim_xdp_core__free(struct nicsim_xdp_core *core);
/* The helper table (indexed by enum nicsim_hw_helper) to load programs for this datapath. */
const struct nicsim_helper *nicsim_xdp_helpers(void);
/* The underlying core (region table, trace). */
struct nicsim_vm *nicsim_xdp_core__vm(struct nicsim_xdp_core *core);
/*
 * Map map `map_id`'s value memory for this core at region NICSIM_MAP_REGION_BASE + map_id. A
 * NULL `mem` with len 0 maps a handle-only map (prog array, devmap, events).
 *
 * The region is visible only to programs loaded with its region number in
 * nicsim_prog_opts.regions (the maps of their image's map table): for every other program it is
 * unmapped, to loads, stores and map helpers alike.
 *
 * With a layout (stride != 0), every access must stay inside one value: element k is
 * [k * stride, (k + 1) * stride) and only its first value_size bytes (per-CPU maps: this core's
 * slice, [core_id * slice, core_id * slice + value_size)) are accessible. The check costs no
 * cycles.
 */
struct nicsim_xdp_map_mem {
    size_t sz; /* sizeof(struct nicsim_xdp_map_mem) */
    uint8_t *mem;
    uint32_t len;
    int writable;
    uint8_t latency;     /* memory-stage cycles; 0: 1 */
    uint32_t value_size; /* bytes of one value (one CPU's slice of a per-CPU value) */
    uint32_t stride;     /* bytes between two values; 0: no per-value check */
    uint32_t slice;      /* per-CPU maps: bytes between two cores' slices; 0: not per-CPU */
};
int nicsim_xdp_core__map_values(struct nicsim_xdp_core *core, uint32_t map_id,
                                const struct nicsim_xdp_map_mem *m);
/* nicsim_xdp_core__map_values without a layout. */
int nicsim_xdp_core__map_map(struct nicsim_xdp_core *core, uint32_t map_id, uint8_t *mem,
                             uint32_t len, int writable, uint8_t latency);
void nicsim_xdp_core__unmap_map(struct nicsim_xdp_core *core, uint32_t map_id);
/* Advance the core's notion of time (ktime_get_ns) to `cycles` since the NIC started. */
void nicsim_xdp_core__set_time(struct nicsim_xdp_core *core, uint64_t cycles);

struct nicsim_xdp_pkt_in {
    const uint8_t *data;
    uint32_t len; /* 1..NICSIM_XDP_MAX_DATA */
    uint32_t ingress_ifindex;
    uint32_t rx_queue_index;
    uint32_t port;
};

struct nicsim_xdp_result {
    uint64_t r0;         /* raw return value (XDP_ABORTED after a trap or the watchdog) */
    uint32_t action;     /* the action the NIC takes: r0 if it is a known action, else ABORTED */
    const uint8_t *data; /* packet after the program: [data, data + len) */
    uint32_t len;
    const uint8_t *meta; /* metadata area: [meta, meta + meta_len), just before data */
    uint32_t meta_len;
    /* XDP_REDIRECT: where to */
    uint32_t redirect_ifindex; /* 0 for a cpumap redirect */
    int32_t redirect_map_id;   /* -1 when bpf_redirect (not a map) was used */
    uint32_t redirect_key;
    int32_t redirect_cpu; /* redirect into a cpumap: the host CPU (= host receive queue); else -1 */
    /* rx_queue_index when the program ended: the receive queue it came in on, or the host
     * receive queue an offloaded program chose by writing ctx->rx_queue_index (XDP_PASS delivers
     * the frame to that host queue; the raw value, no host queue count is modelled) */
    uint32_t rx_queue;
    struct nicsim_run run; /* instructions, cycles, stalls, trap */
};

/*
 * Run `prog` over one packet. A trap or watchdog yields XDP_ABORTED (result->run says why).
 * The result's pointers stay valid until the next run on this core. Returns 0, or -EINVAL for a
 * packet the core cannot take (empty or longer than NICSIM_XDP_MAX_DATA).
 */
int nicsim_xdp_core__run(struct nicsim_xdp_core *core, const struct nicsim_prog *prog,
                         const struct nicsim_xdp_pkt_in *pkt, struct nicsim_xdp_result *result);

/* The kernel's bpf_csum_diff arithmetic (exposed for tests). Returns the folded 16-bit sum, or
 * -EINVAL for sizes that are not multiples of 4 or exceed 512 bytes together. */
int64_t nicsim_csum_diff(const uint8_t *from, uint32_t from_size, const uint8_t *to,
                         uint32_t to_size, uint32_t seed);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_XDP_H */
