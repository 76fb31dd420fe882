/* SPDX-License-Identifier: MIT */
/*
 * NIC driver internals shared by drv.c (probe, ndo_bpf, maps), offload.c (verifier callbacks)
 * and xlate.c (the image translator).
 */
#ifndef NICSIM_DRV_INTERNAL_H
#define NICSIM_DRV_INTERNAL_H

#include <stdarg.h>

#include "nicsim/ctrl.h"
#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/nic_image.h"

/* netdevsim's NSIM_EA: extack messages carry the driver's name. */
#define DRV_NAME "nicsim"

struct drv_map;

struct drv_port {
    struct nicsim_drv *drv;
    uint32_t port;
    struct nicsim_netdev *netdev;     /* NULL once removed */
    struct nicsim_bpf_prog *drv_prog; /* native (DRV mode) program, recorded only */
    struct nicsim_bpf_prog *hw_prog;  /* offloaded program attached to this port */
};

struct nicsim_drv {
    struct nicsim_kern *kern;
    struct nicsim_ctrl *ctrl;
    struct nicsim_bpf_offload_dev *offdev;
    uint32_t n_ports;
    struct drv_port ports[NICSIM_DRV_MAX_PORTS];
    struct drv_map *prog_arrays; /* offloaded prog arrays, to find slots holding a program */
    struct drv_map *maps;        /* every offloaded map (NIC id -> kernel map, for maps of maps) */
    char msg[256];               /* last log line */
};

/* Per-instruction metadata kept by the driver from prepare to translate (nfp's nfp_insn_meta):
 * indexed by the instruction's index in the program as loaded. */
enum {
    META_CTX = 0x1,       /* a load from struct xdp_md, or a store to its rx_queue_index */
    META_REMOVED = 0x2,   /* removed by the verifier's dead-code optimisation */
    META_PKT_WRITE = 0x4, /* a store into the packet */
    META_SEEN = 0x8,      /* insn_hook saw it */

    META_MAP_FIELD = 0x10, /* a load from struct bpf_map through a map pointer */
};

struct drv_meta {
    struct nicsim_insn insn;
    uint8_t flags;
    struct nicsim_insn map_field; /* META_MAP_FIELD: the constant move the NIC runs instead */
};

/* offload->dev_priv of a program. */
struct drv_prog {
    struct nicsim_drv *drv;
    uint32_t n;            /* instructions as loaded */
    struct drv_meta *meta; /* [n] */
    uint32_t *live;        /* original index of each instruction still in the program */
    uint32_t n_live;
    uint32_t img_flags; /* NICSIM_IMG_F_* */
    void *image;
    size_t image_len;
    uint32_t nic_id;   /* loaded on the NIC: its program id */
    uint32_t users;    /* ports running it + prog array slots holding it */
    const char *state; /* "verify", "xlated", "loaded" */
};

/* offmap->dev_priv of a map. */
struct drv_map {
    struct nicsim_drv *drv;
    uint32_t nic_id;
    struct nicsim_bpf_map *map;
    struct nicsim_bpf_prog **slots; /* prog arrays: the program in each slot (a reference) */
    struct drv_map *next_prog_array;
    struct drv_map *next_map;
};

void nicsim_drv_log(struct nicsim_drv *drv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* offload.c */
extern const struct nicsim_bpf_prog_offload_ops nicsim_drv_offload_ops;
/* Make sure the program is on the NIC (load its image if it is not) and count a user. */
int nicsim_drv_prog_get_nic(struct drv_prog *dp, struct nicsim_msg *extack);
/* Drop a user; the last one unloads the program from the NIC. */
void nicsim_drv_prog_put_nic(struct drv_prog *dp);

/* drv.c */
struct drv_prog *nicsim_drv_prog_of(const struct nicsim_bpf_prog *prog);

#endif /* NICSIM_DRV_INTERNAL_H */
