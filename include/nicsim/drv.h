/* SPDX-License-Identifier: MIT */
/*
 * nicsim NIC driver: the host driver of the simulated SmartNIC, written against the kernel
 * emulation (include/nicsim/kern.h) the way netdevsim and nfp are written against Linux, and
 * talking to the firmware only through the control client (include/nicsim/ctrl.h).
 *
 * probe creates one net device per NIC port, all in one offload device (so a program bound to one
 * port can run on any port of the same NIC, and survives the removal of its port). The driver
 * implements ndo_bpf (XDP_SETUP_PROG, XDP_SETUP_PROG_HW, BPF_OFFLOAD_MAP_ALLOC / _FREE), the
 * element operations of offloaded maps, and the verifier callbacks of struct
 * nicsim_bpf_prog_offload_ops: insn_hook / finalize decide what the NIC supports, translate
 * produces the NIC image (include/nicsim/nic_image.h, docs/nic-image.md), which is loaded into
 * the firmware when the program is first attached to a port (or put into an offloaded prog
 * array) and unloaded when no port and no prog array uses it any more. docs/offload.md describes
 * the behaviour and every message.
 */
#ifndef NICSIM_DRV_H
#define NICSIM_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"
#include "nicsim/kern.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_ctrl;
struct nicsim_drv;

#define NICSIM_DRV_MAX_PORTS 16

struct nicsim_drv_opts {
    size_t sz;          /* sizeof(struct nicsim_drv_opts) */
    const char *prefix; /* port netdevs are named <prefix><port>; NULL: "nicsim" */
};

/* Bind to a NIC reached through `ctrl` (which the caller keeps alive until remove): create the
 * offload device and register one netdev per port (nicsim_ctrl__n_ports). NULL with errno. */
struct nicsim_drv *nicsim_drv__probe(struct nicsim_kern *k, struct nicsim_ctrl *ctrl,
                                     const struct nicsim_drv_opts *opts);
/* Unbind: every port goes away as in nicsim_drv__port_remove, the last one orphaning what is
 * still bound to the NIC; then the offload device is destroyed. */
void nicsim_drv__remove(struct nicsim_drv *drv);

uint32_t nicsim_drv__n_ports(const struct nicsim_drv *drv);
/* The netdev of a port, NULL once removed. */
struct nicsim_netdev *nicsim_drv__netdev(const struct nicsim_drv *drv, uint32_t port);
/* Remove one port's netdev (hot-unplug of a port / devlink port del): XDP is detached from it,
 * then programs and maps bound to it move to another port of the NIC, or are orphaned. */
int nicsim_drv__port_remove(struct nicsim_drv *drv, uint32_t port);

/* What the driver did, for tests and tools. */
/* netdevsim's debugfs "state" of an offloaded program: "verify", "xlated", "loaded"; NULL if the
 * program is not this driver's (or orphaned). */
const char *nicsim_drv__prog_state(const struct nicsim_bpf_prog *prog);
/* The NIC program id of a loaded program, 0 if not loaded. */
uint32_t nicsim_drv__nic_prog_id(const struct nicsim_bpf_prog *prog);
/* The NIC image translate produced (NULL before translation). */
const void *nicsim_drv__image(const struct nicsim_bpf_prog *prog, size_t *len);
/* For each slot of the NIC image, the index of its instruction in the program as loaded (the
 * verifier's dead-code removal drops instructions; the translation is slot for slot): *n entries,
 * NULL (and *n 0) before translation. */
const uint32_t *nicsim_drv__slot_origins(const struct nicsim_bpf_prog *prog, uint32_t *n);
/* The NIC map id of an offloaded map of this driver, 0 otherwise. */
uint32_t nicsim_drv__nic_map_id(const struct nicsim_bpf_map *map);
/* The driver's last log line (dev_err / pr_info), "" if none. */
const char *nicsim_drv__last_msg(const struct nicsim_drv *drv);

/* ---------------------------------------------------------------------------------------------
 * What the NIC supports.
 */
/* The NIC helper unit (enum nicsim_hw_helper) implementing kernel helper func_id, 0 if none. */
int nicsim_drv_hw_helper(int32_t func_id);
/* Whether a kernel map type can live on the NIC. */
bool nicsim_drv_map_type_offloadable(uint32_t map_type);

/* ---------------------------------------------------------------------------------------------
 * The translator (also what translate() runs): a verified program to a NIC image.
 */
struct nicsim_drv_xlate {
    size_t sz;                       /* sizeof(struct nicsim_drv_xlate) */
    const struct nicsim_insn *insns; /* verified, LDDW map refs normalised (kern.h) */
    uint32_t n;
    const uint8_t *ctx; /* n flags: 1 = accesses struct xdp_md (loads; stores to rx_queue_index) */
    const uint32_t *map_ids; /* NIC map id per used_maps index */
    uint32_t n_maps;
    uint32_t stack_depth;
    uint32_t flags;   /* NICSIM_IMG_F_* */
    const char *name; /* may be NULL */
};
/* On success *image is malloc'ed (free()) with *len bytes. Errors: -E2BIG (too many slots or
 * maps), -EOPNOTSUPP (a helper the NIC lacks, a context field it has no equivalent for),
 * -EINVAL (a malformed reference), each with a sentence naming the instruction in msg. */
int nicsim_drv_translate(const struct nicsim_drv_xlate *x, void **image, size_t *len, char *msg,
                         size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_DRV_H */
