/* SPDX-License-Identifier: MIT */
/*
 * The NIC datapath (C model): MAC ports, RX checks, dispatcher, N eBPF cores, and where each
 * packet goes after its program (TX queue of a port, host queue, drop). A packet's cost is the
 * cycles its core spent (docs/microarchitecture.md); the datapath adds which core ran it and when,
 * so that a trace replayed at line rate shows queueing across cores.
 *
 * Dispatch is deterministic: by a hash of the IPv4/IPv6 5-tuple (RSS-like; non-IP frames by their
 * MAC addresses), so per-core state (per-CPU maps, the prandom stream) does not depend on timing.
 */
#ifndef NICSIM_DATAPATH_H
#define NICSIM_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/xdp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_DP_MAX_PORTS 16
#define NICSIM_DP_MAX_CORES 64
#define NICSIM_DP_MAX_HOST_QUEUES 64

struct nicsim_dp_port {
    uint32_t ifindex; /* the kernel ifindex of the port's netdev */
    uint32_t mtu;     /* bytes of L3 payload; frames longer than mtu + 14 (+4 if VLAN) are errors */
};

struct nicsim_dp_opts {
    size_t sz; /* sizeof(struct nicsim_dp_opts) */
    uint32_t n_ports;
    struct nicsim_dp_port ports[NICSIM_DP_MAX_PORTS];
    uint32_t n_cores;            /* 1..NICSIM_DP_MAX_CORES */
    uint32_t clock_mhz;          /* core clock; 0: 250 */
    uint64_t seed;               /* get_prandom_u32 seed */
    uint64_t budget;             /* instructions per packet; 0: core default */
    uint32_t rx_overhead_cycles; /* dispatcher + descriptor setup per packet; documented default */
    const struct nicsim_xdp_map_ops *maps;
    void *maps_ctx;
};

enum nicsim_dp_error {
    NICSIM_DP_OK = 0,
    NICSIM_DP_ERR_RUNT,       /* shorter than an Ethernet header */
    NICSIM_DP_ERR_OVERSIZE,   /* longer than the port's MTU allows */
    NICSIM_DP_ERR_TRUNCATED,  /* the capture holds fewer bytes than the frame had */
    NICSIM_DP_ERR_NO_PROGRAM, /* no XDP program on the port: passed to the host untouched */
};
const char *nicsim_dp_error_name(enum nicsim_dp_error err);
/* Short code for reports: "runt", "oversize", "truncated", "no_program". */
const char *nicsim_dp_error_code(enum nicsim_dp_error err);

enum nicsim_dp_dest {
    NICSIM_DP_DEST_DROP = 0,
    NICSIM_DP_DEST_PORT, /* transmitted on a NIC port (XDP_TX, or a redirect to a NIC port) */
    NICSIM_DP_DEST_HOST, /* to the host's stack (XDP_PASS, redirect to a non-NIC ifindex, or
                          * into a cpumap: host receive queue xdp.redirect_cpu) */
};

/* Why a frame did not leave the NIC (a port's transmit side or a host receive queue). */
enum nicsim_dp_drop {
    NICSIM_DP_DROP_NONE = 0,
    NICSIM_DP_DROP_MAC_ERROR,      /* runt, oversize, truncated (enum nicsim_dp_error) */
    NICSIM_DP_DROP_RX_BUFFER_FULL, /* the port's receive buffer had no room: never ran */
    NICSIM_DP_DROP_TX_QUEUE_FULL,  /* XDP_TX / redirect to a port whose transmit queue was full */
    NICSIM_DP_DROP_HOST_RING_FULL, /* XDP_PASS / to the host: the host receive ring was full */
    NICSIM_DP_DROP_XDP_DROP,       /* the program's verdict */
    NICSIM_DP_DROP_XDP_ABORTED,    /* XDP_ABORTED, a trap, the watchdog, an unknown verdict */
    NICSIM_DP_N_DROP
};
/* Short code for reports: "none", "mac_error", "rx_buffer_full", "tx_queue_full",
 * "host_ring_full", "xdp_drop", "xdp_aborted". */
const char *nicsim_dp_drop_code(enum nicsim_dp_drop drop);

struct nicsim_dp_result {
    uint8_t error;           /* enum nicsim_dp_error; when not OK, xdp is not filled */
    uint8_t drop;            /* enum nicsim_dp_drop: NONE when the frame left the NIC */
    uint8_t dest;            /* enum nicsim_dp_dest */
    uint32_t port;           /* receiving port index */
    uint32_t egress_port;    /* DEST_PORT: port index */
    uint32_t egress_ifindex; /* DEST_PORT / DEST_HOST after a redirect: target ifindex */
    uint32_t core;
    uint64_t arrival_cycle;          /* when the frame had arrived, NIC clock */
    uint64_t start_cycle, end_cycle; /* on that core's clock: queueing = start - arrival */
    uint64_t departure_cycle;        /* the frame left the NIC (last bit on the wire, or DMA to
                                      * the host done); for a drop, when it was dropped */
    struct nicsim_xdp_result xdp;
    uint32_t host_queue; /* DEST_HOST: the host receive queue (ring) the frame was given to */
};

struct nicsim_dp_stats {
    uint64_t rx_packets, rx_errors[5];
    uint64_t verdicts[6]; /* ABORTED..REDIRECT, [5] = unknown return values */
    uint64_t traps, watchdogs;
    uint64_t core_busy_cycles[NICSIM_DP_MAX_CORES];
    uint64_t core_packets[NICSIM_DP_MAX_CORES];
    /* Filled by both the plain loop and the SystemC NIC (sim/nic); the queue maxima only by the
     * NIC model (the plain loop has no finite queues). */
    uint64_t drops[NICSIM_DP_N_DROP]; /* by enum nicsim_dp_drop; [NONE]: frames that left */
    uint64_t tx_frames[NICSIM_DP_MAX_PORTS], tx_bytes[NICSIM_DP_MAX_PORTS]; /* left on a port */
    uint64_t host_frames, host_bytes;                                    /* given to the host */
    uint64_t last_departure_cycle; /* the latest departure (or drop) of any frame */
    uint32_t max_rx_buffer_frames[NICSIM_DP_MAX_PORTS];
    uint64_t max_rx_buffer_bytes[NICSIM_DP_MAX_PORTS];
    uint32_t max_tx_queue_frames[NICSIM_DP_MAX_PORTS];
    uint32_t max_host_ring_entries[NICSIM_DP_MAX_HOST_QUEUES];
};

struct nicsim_dp;

struct nicsim_dp *nicsim_dp__new(const struct nicsim_dp_opts *opts);
void nicsim_dp__free(struct nicsim_dp *dp);
uint32_t nicsim_dp__n_cores(const struct nicsim_dp *dp);
struct nicsim_xdp_core *nicsim_dp__core(struct nicsim_dp *dp, uint32_t core);
/* Attach (prog != NULL) or detach the program of a port. */
int nicsim_dp__set_prog(struct nicsim_dp *dp, uint32_t port, const struct nicsim_prog *prog);
const struct nicsim_prog *nicsim_dp__prog(const struct nicsim_dp *dp, uint32_t port);
/* The port index with this ifindex, or -1. */
int nicsim_dp__port_of_ifindex(const struct nicsim_dp *dp, uint32_t ifindex);

/*
 * One frame received on `port` at `arrival_ns` (the trace's time; used only for queueing):
 * MAC checks, dispatch, run, destination. `caplen` bytes of `frame` are present of a frame that
 * was `wirelen` long. The result's pointers stay valid until the next rx on the same core.
 */
int nicsim_dp__rx(struct nicsim_dp *dp, uint32_t port, const uint8_t *frame, uint32_t caplen,
                  uint32_t wirelen, uint64_t arrival_ns, struct nicsim_dp_result *res);

const struct nicsim_dp_stats *nicsim_dp__stats(const struct nicsim_dp *dp);

/*
 * The pieces of nicsim_dp__rx, for a NIC model that places finite queues around them (sim/nic):
 * nicsim_dp__rx is nicsim_dp__mac_check, then nicsim_dp__run on the flow hash's core, then
 * nicsim_dp__account with departure = end.
 */
uint32_t nicsim_dp__clock_mhz(const struct nicsim_dp *dp);
uint32_t nicsim_dp__n_ports(const struct nicsim_dp *dp);
/* ns on the NIC's clock, without overflow for any 64-bit time. */
uint64_t nicsim_dp__cycles_of_ns(const struct nicsim_dp *dp, uint64_t ns);
/* Clears res and sets its port; the MAC receive checks. 0: the frame may run; 1: it may not
 * (res->error, dest, drop filled, rx_errors counted; NO_PROGRAM frames go to the host);
 * -EINVAL on bad arguments. */
int nicsim_dp__mac_check(struct nicsim_dp *dp, uint32_t port, const uint8_t *frame,
                         uint32_t caplen, uint32_t wirelen, struct nicsim_dp_result *res);
/* Runs a checked frame of `len` bytes on `core`: start = max(core free, arrival_cycle), end =
 * start + rx overhead + cycles; fills core, times (departure = end), verdict and destination, and
 * the core's and verdict counters. */
int nicsim_dp__run(struct nicsim_dp *dp, uint32_t core, const uint8_t *frame, uint32_t len,
                   uint64_t arrival_cycle, struct nicsim_dp_result *res);
/* Counts a finished frame's fate (drops[], tx/host frames and bytes, last departure): after its
 * drop cause and departure are final. `bytes`: the frame's length when it left. */
void nicsim_dp__account(struct nicsim_dp *dp, const struct nicsim_dp_result *res, uint32_t bytes);
/* The stats a NIC model fills beside the datapath's (queue maxima). */
struct nicsim_dp_stats *nicsim_dp__stats_mut(struct nicsim_dp *dp);

/* The dispatcher's flow hash (exposed for tests). */
uint32_t nicsim_dp_flow_hash(const uint8_t *frame, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_DATAPATH_H */
