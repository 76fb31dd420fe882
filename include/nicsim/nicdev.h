/* SPDX-License-Identifier: MIT */
/*
 * nicsim NIC device: the whole emulated SmartNIC as the host sees it — PCIe BAR + host memory
 * (include/nicsim/pcie.h), the firmware (include/nicsim/fw_hal.h) on a HAL wired to them, and a
 * control client (include/nicsim/ctrl.h) already attached.
 *
 * Cores: by default the device keeps every loaded program decoded (nicsim_nic__prog) and the
 * port -> program table, so a test can check what reached the cores; a datapath replaces that by
 * passing its own core operations in the opts.
 */
#ifndef NICSIM_NICDEV_H
#define NICSIM_NICDEV_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/ctrl.h"
#include "nicsim/fw_hal.h"
#include "nicsim/pcie.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_nic_opts {
    size_t sz;                           /* sizeof(struct nicsim_nic_opts) */
    uint32_t n_ports;                    /* 0: 1 */
    uint32_t n_cores;                    /* 0: 4 */
    uint64_t map_mem_bytes;              /* 0: 64 MiB */
    uint32_t max_maps;                   /* 0: firmware default */
    uint32_t max_progs;                  /* 0: firmware default */
    uint32_t event_queue_bytes;          /* 0: firmware default */
    const struct nicsim_ctrl_opts *ctrl; /* NULL: defaults */
    /* Cores / datapath registers; NULL: the device's own keeper (nicsim_nic__prog). */
    const struct nicsim_fw_core_ops *core;
    void *core_ctx;
    /* The BAR's register logic (not owned; NULL: the device makes its own), and the transport
     * the control client reaches it through (NULL: the register logic's calls directly; the
     * SystemC NIC's TLM initiator, include/nicsim/nic/nic_model.h). */
    struct nicsim_pcie *pcie;
    const struct nicsim_bar_ops *host_bar;
    void *host_bar_ctx;
};

struct nicsim_nic;

/* NULL with errno set on failure. */
struct nicsim_nic *nicsim_nic__new(const struct nicsim_nic_opts *opts);
void nicsim_nic__free(struct nicsim_nic *nic);

struct nicsim_ctrl *nicsim_nic__ctrl(struct nicsim_nic *nic);
struct nicsim_pcie *nicsim_nic__pcie(struct nicsim_nic *nic);
struct nicsim_fw *nicsim_nic__fw(struct nicsim_nic *nic);
/* The firmware's map store (include/nicsim/fw_maps.h). */
struct nicsim_fw_maps *nicsim_nic__maps(struct nicsim_nic *nic);
uint32_t nicsim_nic__n_ports(const struct nicsim_nic *nic);
uint32_t nicsim_nic__n_cores(const struct nicsim_nic *nic);
/* Program attached to `port`, 0 if none. */
uint32_t nicsim_nic__port_prog(const struct nicsim_nic *nic, uint32_t port);
/* With the default core keeper: the decoded, relocated program `prog_id` (n slots), NULL if not
 * loaded. */
const struct nicsim_isa_insn *nicsim_nic__prog(const struct nicsim_nic *nic, uint32_t prog_id,
                                               size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_NICDEV_H */
