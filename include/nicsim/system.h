/* SPDX-License-Identifier: MIT */
/*
 * nicsim system: one host with one simulated SmartNIC, assembled the way the hardware is.
 *
 *   emulated kernel (include/nicsim/kern.h)
 *     └─ NIC driver (include/nicsim/drv.h): one netdev per port, ndo_bpf, offload callbacks
 *          └─ control client ── PCIe BAR, doorbell, DMA rings ── firmware (fw_hal.h)
 *                                                                  ├─ map memory (fw_maps.h)
 *                                                                  └─ core operations ─┐
 *   datapath (include/nicsim/datapath.h): MAC ports, dispatcher, N cores  <────────────┘
 *
 * The firmware reaches the cores only through struct nicsim_fw_core_ops (program load into
 * instruction memory, the port → program register, map memory mapped as core regions); the
 * cores reach map memory through the map unit (struct nicsim_xdp_map_ops) served from the
 * firmware's map store. Host tools use the kernel's bpf() emulation and nothing else to load
 * programs and maps; packets enter through nicsim_sys__rx.
 */
#ifndef NICSIM_SYSTEM_H
#define NICSIM_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/datapath.h"
#include "nicsim/nic/nic_model.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_kern;
struct nicsim_drv;
struct nicsim_nic;
struct nicsim_ctrl;

struct nicsim_sys_opts {
    size_t sz;              /* sizeof(struct nicsim_sys_opts) */
    uint32_t n_ports;       /* 0: 2 */
    uint32_t n_cores;       /* 0: 4 */
    uint32_t clock_mhz;     /* 0: 250 */
    uint32_t mtu;           /* 0: 1500 */
    uint64_t seed;          /* get_prandom_u32 seed */
    uint64_t budget;        /* instructions per packet before the watchdog; 0: core default */
    uint64_t map_mem_bytes; /* 0: firmware default */
    /* Not NULL: the NIC is the SystemC model (sim/nic) with these options (ports and cores are
     * the system's); the BAR is its TLM socket and frames take its queues. NULL: the plain C
     * loop (nicsim_dp__rx) and the BAR as function calls. */
    const struct nicsim_nic_model_opts *nic_model;
};

struct nicsim_sys;

/* Boot the NIC, probe the driver. NULL with errno and a sentence in err. */
struct nicsim_sys *nicsim_sys__new(const struct nicsim_sys_opts *opts, char *err, size_t err_len);
void nicsim_sys__free(struct nicsim_sys *sys);

struct nicsim_kern *nicsim_sys__kern(struct nicsim_sys *sys);
struct nicsim_drv *nicsim_sys__drv(struct nicsim_sys *sys);
struct nicsim_nic *nicsim_sys__nic(struct nicsim_sys *sys);
struct nicsim_ctrl *nicsim_sys__ctrl(struct nicsim_sys *sys);
struct nicsim_dp *nicsim_sys__dp(struct nicsim_sys *sys);
uint32_t nicsim_sys__n_ports(const struct nicsim_sys *sys);
uint32_t nicsim_sys__n_cores(const struct nicsim_sys *sys);
uint32_t nicsim_sys__clock_mhz(const struct nicsim_sys *sys);
/* The kernel ifindex of a port's netdev. */
int nicsim_sys__ifindex(const struct nicsim_sys *sys, uint32_t port);

/* One frame arriving on `port` (see nicsim_dp__rx); the firmware's counters are updated. */
int nicsim_sys__rx(struct nicsim_sys *sys, uint32_t port, const uint8_t *frame, uint32_t caplen,
                   uint32_t wirelen, uint64_t arrival_ns, struct nicsim_dp_result *res);

/* The SystemC NIC, NULL with the plain loop. */
struct nicsim_nic_model *nicsim_sys__nic_model(struct nicsim_sys *sys);
/* The end of a replay: the model's simulation runs to the last departure (waveform complete). */
void nicsim_sys__finish(struct nicsim_sys *sys);

/* Programs the cores hold now (loaded by the firmware), for reports. */
uint32_t nicsim_sys__n_loaded(const struct nicsim_sys *sys);

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_SYSTEM_H */
