/* SPDX-License-Identifier: MIT */
/*
 * Kernel emulation internals shared by kern.c (objects, devices, syscalls, XDP), verifier/ and
 * helpers.c. Nothing here is part of the driver-facing API (include/nicsim/kern.h).
 */
#ifndef NICSIM_KERN_INTERNAL_H
#define NICSIM_KERN_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicsim/kern.h"

#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#define NICSIM_BPF_MAP_TYPE_CGRP_STORAGE 32
#define NICSIM_MAX_BPF_MAP_TYPE          33

/* ---- Raw instruction fields (the kernel's BPF_CLASS / BPF_OP / ... macros, as functions). */
static inline uint8_t insn_class(uint8_t code)
{
    return code & 0x07;
}
static inline uint8_t insn_size(uint8_t code)
{
    return code & 0x18;
}
static inline uint8_t insn_mode(uint8_t code)
{
    return code & 0xe0;
}
static inline uint8_t insn_op(uint8_t code)
{
    return code & 0xf0;
}
static inline uint8_t insn_src(uint8_t code)
{
    return code & 0x08;
}

#define OP_LDDW      (BPF_LD | BPF_IMM | BPF_DW)
#define OP_CALL      (BPF_JMP | BPF_CALL)
#define OP_EXIT      (BPF_JMP | BPF_EXIT)
#define OP_JA        (BPF_JMP | BPF_JA)
#define PSEUDO_CALL  1 /* BPF_PSEUDO_CALL */
#define PSEUDO_KFUNC 2 /* BPF_PSEUDO_KFUNC_CALL */

#ifndef BPF_JCOND
#define BPF_JCOND 0xe0 /* may_goto: src BPF_MAY_GOTO (0) */
#endif
#define OP_MAY_GOTO (BPF_JMP | BPF_JCOND)

static inline int insn_is_cond_jump(uint8_t code)
{
    uint8_t cls = insn_class(code), op = insn_op(code);

    if (cls != BPF_JMP && cls != BPF_JMP32)
        return 0;
    return op != BPF_JA && op != BPF_CALL && op != BPF_EXIT;
}

/* ---- Verifier log: a growing buffer; the attr's log_buf receives a copy. */
struct vlog {
    char *buf;
    size_t len, cap;
    uint32_t level;
    char last[256]; /* the last line written */
};
void vlog_init(struct vlog *log, uint32_t level);
void vlog_free(struct vlog *log);
void vlog_vwrite(struct vlog *log, const char *fmt, va_list ap);
void vlog_write(struct vlog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Helper prototypes (helpers.c). */
enum arg_type {
    ARG_DONTCARE = 0,
    ARG_ANYTHING,
    ARG_CONST_MAP_PTR,
    ARG_PTR_TO_MAP_KEY,
    ARG_PTR_TO_MAP_VALUE,
    ARG_PTR_TO_UNINIT_MAP_VALUE,
    ARG_PTR_TO_CTX,
    ARG_PTR_TO_MEM,         /* read by the helper: initialised; the next arg is its size */
    ARG_PTR_TO_MEM_OR_NULL, /* same, or a NULL scalar with size 0 */
    ARG_PTR_TO_UNINIT_MEM,  /* written by the helper; the next arg is its size */
    ARG_PTR_TO_FIXED_MEM4,  /* 4 bytes read and written (check_mtu's mtu_len) */
    ARG_CONST_SIZE,
    ARG_CONST_SIZE_OR_ZERO,
};
enum ret_type { RET_INTEGER = 0, RET_VOID, RET_PTR_TO_MAP_VALUE_OR_NULL };

struct helper_proto {
    uint8_t known;      /* an XDP program may call it */
    uint8_t modelled;   /* the verifier models its arguments */
    uint8_t pkt_access; /* packet pointers may be passed */
    uint8_t ret;        /* enum ret_type */
    uint8_t arg[5];     /* enum arg_type */
};
/* The prototype of helper func_id for XDP programs, NULL if XDP cannot call it at all. */
const struct helper_proto *nicsim_helper_proto(int32_t func_id);
int32_t nicsim_helper_max_id(void); /* __BPF_FUNC_MAX_ID */
/* bpf_helper_changes_pkt_data: the helper moves or resizes the packet (xdp_adjust_*). */
bool nicsim_helper_changes_pkt_data(int32_t func_id);

/* ---- Objects (kern.c). */
enum fd_kind { FD_FREE = 0, FD_PROG, FD_MAP };

struct fd_ent {
    uint8_t kind;
    void *obj;
};

/* bpf_offload_netdev: a port known to the offload layer. offdev is NULL for a device that only
 * has device-bound (BPF_F_XDP_DEV_BOUND_ONLY) programs. */
struct ondev {
    struct nicsim_netdev *netdev;
    struct nicsim_bpf_offload_dev *offdev;
    struct nicsim_bpf_prog_offload *progs; /* list through ->next */
    struct nicsim_bpf_map *maps;           /* list through ->next_offmap */
    struct ondev *next;                    /* kernel list */
    struct ondev *next_of_offdev;          /* offdev->netdevs */
};

struct nicsim_bpf_offload_dev {
    struct nicsim_kern *kern;
    const struct nicsim_bpf_prog_offload_ops *ops;
    void *priv;
    struct ondev *netdevs; /* most recently registered first, as list_add() */
};

struct nicsim_kern {
    struct nicsim_kern_opts opts;
    struct nicsim_netdev *devs; /* registered devices, in registration order */
    struct nicsim_netdev *lo;
    int next_ifindex;
    struct ondev *ondevs;
    struct fd_ent *fds;
    size_t n_fds;
    struct nicsim_bpf_prog **progs; /* idr: index = id - 1 */
    size_t n_prog_ids;
    struct nicsim_bpf_map **maps;
    size_t n_map_ids;
    char err[NICSIM_EXTACK_MSG_MAX]; /* nicsim_kern_last_error */
};

struct nicsim_bpf_map *kern_map_get(struct nicsim_kern *k, int fd);
/* bpf_map_meta_equal (array_map_meta_equal for arrays): map fits an outer map's template. */
bool kern_map_meta_equal(const struct nicsim_bpf_map *meta, const struct nicsim_bpf_map *map);

/* ---- Verifier (verifier/verifier.c): resolves map references, walks the program, runs the offload
 * callbacks when prog is offloaded and the dead-code optimisations. On success prog->insnsi /
 * len / aux->used_maps / stack_depth are final. */
int nicsim_bpf_check(struct nicsim_bpf_prog *prog, struct nicsim_kern_prog_load_attr *attr,
                     struct vlog *log);

/* ---- Host map storage (hostmap.c). */
int nicsim_hostmap_alloc(struct nicsim_bpf_map *map);
void nicsim_hostmap_free(struct nicsim_bpf_map *map);
int nicsim_hostmap_lookup(struct nicsim_bpf_map *map, const void *key, void *value);
int nicsim_hostmap_update(struct nicsim_bpf_map *map, const void *key, const void *value,
                          uint64_t flags);
int nicsim_hostmap_delete(struct nicsim_bpf_map *map, const void *key);
int nicsim_hostmap_get_next(struct nicsim_bpf_map *map, const void *key, void *next);

#endif /* NICSIM_KERN_INTERNAL_H */
