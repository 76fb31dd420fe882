/* SPDX-License-Identifier: MIT */
/*
 * The SmartNIC as a SystemC model (sim/nic, docs/nic-model.md), seen from C.
 *
 * The model composes the sim/ parts: per port a MAC and a receive buffer, the dispatcher, the N
 * cores of the datapath (include/nicsim/datapath.h: the C core model, reused as is), a transmit
 * queue per port serialised at the port's line rate, host receive rings reached by DMA, and the
 * BAR (include/nicsim/pcie.h's register logic) behind a TLM-2.0 target socket with a management
 * core thread woken by the doorbell. It is loosely timed with temporal decoupling: a frame's
 * program runs when the dispatcher hands it to its core, in arrival order, and the core is busy
 * for the packet's cycle count; queues admit frames by the timing equations of docs/nic-model.md.
 *
 * SystemC has one kernel per process: a model is elaborated in the process's simulation context;
 * when a model is created after an earlier one has simulated (and been freed), the context is
 * replaced by a fresh one. Two models alive at once must both be created before either runs.
 * The C++ modules are in include/nicsim/nic/nic.hpp.
 */
#ifndef NICSIM_NIC_NIC_MODEL_H
#define NICSIM_NIC_NIC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/datapath.h"
#include "nicsim/pcie.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nicsim_nic_dispatch {
    NICSIM_NIC_DISPATCH_HASH = 0, /* nicsim_dp_flow_hash % cores (the plain loop's choice) */
    NICSIM_NIC_DISPATCH_RR = 1,   /* round robin over the cores, in arrival order */
};

/* Defaults: deep enough that none of the bundled traces fills a queue (docs/nic-model.md). */
#define NICSIM_NIC_DEFAULT_LINE_RATE_GBPS 100.0
#define NICSIM_NIC_DEFAULT_RX_BUFFER_BYTES (4u << 20)
#define NICSIM_NIC_DEFAULT_RX_BUFFER_DESCS 4096u
#define NICSIM_NIC_DEFAULT_TX_QUEUE_FRAMES 4096u
#define NICSIM_NIC_DEFAULT_HOST_RING_ENTRIES 4096u
#define NICSIM_NIC_DEFAULT_DMA_GBPS 128.0
#define NICSIM_NIC_MAX_RX_BUFFER_BYTES (1u << 30)
#define NICSIM_NIC_MAX_QUEUE 1048576u /* descriptors, frames, ring entries */

struct nicsim_nic_model_opts {
    size_t sz;                                       /* sizeof(struct nicsim_nic_model_opts) */
    uint32_t n_ports;                                /* 1..NICSIM_DP_MAX_PORTS */
    uint32_t n_cores;                                /* 1..NICSIM_DP_MAX_CORES */
    double line_rate_gbps[NICSIM_DP_MAX_PORTS];      /* per port; 0: 100 */
    uint32_t rx_buffer_bytes;                        /* per port; 0: default */
    uint32_t rx_buffer_descs;                        /* per port; 0: default */
    uint32_t tx_queue_frames;                        /* per port; 0: default */
    uint32_t host_queues;                            /* 0: one per core */
    uint32_t host_ring_entries;                      /* per host queue; 0: default */
    double host_drain_mpps;                          /* per host queue; 0: at once */
    double dma_gbps;                                 /* host DMA bandwidth; 0: 128 */
    uint32_t dispatch;                               /* enum nicsim_nic_dispatch */
    const char *vcd_path;                            /* NULL: no waveform */
    /* The BAR's register logic (not owned); NULL: the model has no BAR. */
    struct nicsim_pcie *pcie;
};

struct nicsim_nic_model;

/* NULL with errno set and a sentence in err (naming the option at fault). */
struct nicsim_nic_model *nicsim_nic_model_new(const struct nicsim_nic_model_opts *opts, char *err,
                                              size_t err_len);
/* Ends the simulation (closes the waveform) and frees the modules. */
void nicsim_nic_model_free(struct nicsim_nic_model *m);

/* The datapath whose MAC checks, cores and programs the model uses (not owned); it must have the
 * model's ports and cores. Set once, before the first frame. */
int nicsim_nic_model_set_datapath(struct nicsim_nic_model *m, struct nicsim_dp *dp);

/* The BAR as the host's driver reaches it: through the model's TLM initiator socket (ctx = the
 * model). A doorbell write wakes the management core's thread, which hands the doorbell to the
 * register logic's device hook (the firmware, nicsim_pcie__set_device) in the simulation; the
 * write returns to the host when the thread is done. DMA and mappings go to the pcie as they are
 * (host memory, not the BAR). A refused access (TLM error response) reads 0xffffffff. */
const struct nicsim_bar_ops *nicsim_nic_model_host_bar_ops(void);
/* TLM responses the host's accesses got that were not TLM_OK_RESPONSE (for tests). */
uint64_t nicsim_nic_model_bar_errors(const struct nicsim_nic_model *m);
/* The interrupt line (IRQ_STATUS & ~IRQ_MASK != 0) as the model's sc_signal last saw it. */
int nicsim_nic_model_irq_line(const struct nicsim_nic_model *m);

/* One frame arriving on `port` at `arrival_ns` (arrivals must not go backwards): the whole path
 * (MAC, receive buffer, dispatcher, core, transmit queue or host ring). res as nicsim_dp__rx,
 * with drop and departure final. Stats go to the datapath's (nicsim_dp__stats). */
int nicsim_nic_model_rx(struct nicsim_nic_model *m, uint32_t port, const uint8_t *frame,
                        uint32_t caplen, uint32_t wirelen, uint64_t arrival_ns,
                        struct nicsim_dp_result *res);

/* Runs the simulation to the last departure (the waveform gets every change). */
void nicsim_nic_model_finish(struct nicsim_nic_model *m);

/* SystemC time now, in ns (for tests). */
uint64_t nicsim_nic_model_time_ns(const struct nicsim_nic_model *m);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_NIC_NIC_MODEL_H */
