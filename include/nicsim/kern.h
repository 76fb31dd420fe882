/* SPDX-License-Identifier: MIT */
/*
 * nicsim kernel emulation: the part of Linux an offload-capable NIC driver talks to, small enough
 * to run in a test process, with the kernel's rules, errno values and messages (docs/offload.md).
 *
 *   - net devices with an ndo_bpf, and offload devices (struct nicsim_bpf_offload_dev) grouping
 *     the ports of one NIC (kernel/bpf/offload.c);
 *   - BPF programs and maps with reference counts, ids and file descriptors; the bpf() commands
 *     PROG_LOAD (prog_ifindex, BPF_F_XDP_DEV_BOUND_ONLY), MAP_CREATE (map_ifindex) and the map
 *     element commands, forwarded to the driver for offloaded maps;
 *   - XDP attachment in SKB, DRV and HW mode with the kernel's flags and extack messages
 *     (net/core/dev.c dev_xdp_attach), detach, replace, query;
 *   - a verifier that drives the driver's struct nicsim_bpf_prog_offload_ops exactly in the
 *     kernel's order (prepare, insn_hook per processed instruction, finalize, replace_insn /
 *     remove_insns for dead code, translate, destroy);
 *   - device removal: a program or map bound to a removed port moves to another port of the same
 *     offload device, or is orphaned (every later operation on it fails with -ENODEV; an
 *     orphaned program keeps its id, an orphaned map loses its own).
 *
 * The structures below are written after the kernel's (struct net_device, bpf_prog, bpf_prog_aux,
 * bpf_offloaded_map, netdev_bpf, bpf_prog_offload_ops, bpf_verifier_env) so that driver code
 * written against them reads like, and can be lifted into, a real driver. Kernel constants
 * (BPF_MAP_TYPE_*, BPF_FUNC_*, XDP_FLAGS_*, XDP_ATTACHED_*) come from the system's uapi headers.
 *
 * Single-threaded: every call runs to completion (the kernel's rtnl lock and bpf_devs_lock are
 * implicit). Functions return 0 / a descriptor or a negative errno; pointer-returning ones return
 * NULL and set errno.
 */
#ifndef NICSIM_KERN_H
#define NICSIM_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include "nicsim/isa.h"

/* Newer than some uapi headers. */
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_IFNAMSIZ                 16
#define NICSIM_BPF_OBJ_NAME             16       /* BPF_OBJ_NAME_LEN */
#define NICSIM_MAX_USED_MAPS            64       /* MAX_USED_MAPS */
#define NICSIM_MAX_CALL_FRAMES          8        /* MAX_CALL_FRAMES */
#define NICSIM_MAX_SUBPROGS             256      /* BPF_MAX_SUBPROGS */
#define NICSIM_MAX_BPF_STACK            512      /* MAX_BPF_STACK */
#define NICSIM_COMPLEXITY_LIMIT_INSNS   1000000u /* BPF_COMPLEXITY_LIMIT_INSNS */
#define NICSIM_COMPLEXITY_LIMIT_JMP_SEQ 8192u    /* BPF_COMPLEXITY_LIMIT_JMP_SEQ */

struct nicsim_kern;
struct nicsim_netdev;
struct nicsim_bpf_prog;
struct nicsim_bpf_map;
struct nicsim_bpf_offload_dev;
struct nicsim_verifier_env;

/* ---------------------------------------------------------------------------------------------
 * Extended ack (struct netlink_ext_ack): one message for a person, carried in the one message
 * carrier, struct nicsim_msg (util.h; index -1). NULL is accepted everywhere.
 */
/* NL_SET_ERR_MSG: sets the message (first one set wins, as the kernel's does not; here the last
 * call wins, like NL_SET_ERR_MSG). ea may be NULL. */
void nicsim_extack_set(struct nicsim_msg *ea, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------------------------------------
 * Net devices.
 */
enum nicsim_xdp_mode {
    NICSIM_XDP_MODE_SKB = 0, /* generic XDP, run by the kernel */
    NICSIM_XDP_MODE_DRV,     /* native XDP, the driver's RX path */
    NICSIM_XDP_MODE_HW,      /* offloaded to the device */
    NICSIM_XDP_MODE__MAX
};

/* enum bpf_netdev_command: what ndo_bpf is asked. */
enum nicsim_bpf_netdev_command {
    NICSIM_XDP_SETUP_PROG = 0,    /* native XDP: prog (NULL: detach) */
    NICSIM_XDP_SETUP_PROG_HW,     /* offloaded XDP: prog (NULL: detach) */
    NICSIM_BPF_OFFLOAD_MAP_ALLOC, /* offmap: allocate on the device, set dev_ops / dev_priv */
    NICSIM_BPF_OFFLOAD_MAP_FREE,  /* offmap: free on the device */
};

/* struct netdev_bpf. */
struct nicsim_netdev_bpf {
    enum nicsim_bpf_netdev_command command;
    /* XDP_SETUP_PROG, XDP_SETUP_PROG_HW. The kernel holds a reference on prog for the device:
     * the driver does not take one. */
    uint32_t flags; /* XDP_FLAGS_* as given to the attach */
    struct nicsim_bpf_prog *prog;
    /* BPF_OFFLOAD_MAP_ALLOC / FREE */
    struct nicsim_bpf_map *offmap;
    /* BPF_OFFLOAD_MAP_ALLOC of an array / hash of maps: the template map (inner_map_fd); its
     * attributes are also in offmap->inner_map_meta. NULL otherwise. */
    struct nicsim_bpf_map *inner_map;
    /* Always set (never NULL) so a driver can explain a refusal. */
    struct nicsim_msg *extack;
};

struct nicsim_netdev_ops {
    int (*ndo_bpf)(struct nicsim_netdev *dev, struct nicsim_netdev_bpf *bpf);
};

/* struct net_device (the parts this emulation has). */
struct nicsim_netdev {
    struct nicsim_kern *kern;
    int ifindex; /* assigned by nicsim_kern_register_netdev, never reused */
    char name[NICSIM_IFNAMSIZ];
    const struct nicsim_netdev_ops *netdev_ops; /* may be NULL: no ndo_bpf, generic XDP only */
    void *priv;                                 /* netdev_priv(): the driver's */
    uint32_t mtu;
    bool registered;
    /* dev->xdp_state[mode].prog: the program attached in each mode (a reference is held). */
    struct nicsim_bpf_prog *xdp_prog[NICSIM_XDP_MODE__MAX];
    uint32_t xdp_flags[NICSIM_XDP_MODE__MAX];
    struct nicsim_netdev *next_dev; /* the kernel's device list (private) */
};

struct nicsim_kern_opts {
    size_t sz; /* sizeof(struct nicsim_kern_opts) */
    /* Emulate a kernel without BPF offload support for map types other than array and hash
     * (the real kernel's bpf_map_offload_map_alloc). Default false: every map type is passed to
     * the driver, which decides. */
    bool strict_offload_map_types;
    /* Refuse reads of stack bytes never written, as the kernel does for loaders without
     * CAP_PERFMON. Default false: root's rules (the kernel lets root read uninitialised stack). */
    bool deny_uninit_stack;
};

/* A kernel: its device list, BPF object ids and descriptor table. The loopback device "lo"
 * (ifindex 1, no ndo_bpf) exists from the start. NULL with errno on failure. */
struct nicsim_kern *nicsim_kern__new(const struct nicsim_kern_opts *opts);
/* Closes every descriptor and frees every object. Devices must have been unregistered by their
 * drivers (those still registered are unregistered first, as at reboot). */
void nicsim_kern__free(struct nicsim_kern *k);

/* alloc_netdev / register_netdev / unregister_netdev / free_netdev. The name must be unique
 * (-EEXIST). Unregistering detaches every XDP program (ndo_bpf with a NULL prog) and releases
 * device-bound programs of devices that are not part of an offload device; a driver of an offload
 * device calls nicsim_bpf_offload_dev_netdev_unregister itself, afterwards. */
struct nicsim_netdev *nicsim_kern_alloc_netdev(struct nicsim_kern *k, const char *name,
                                               const struct nicsim_netdev_ops *ops, void *priv);
int nicsim_kern_register_netdev(struct nicsim_netdev *dev);
void nicsim_kern_unregister_netdev(struct nicsim_netdev *dev);
void nicsim_kern_free_netdev(struct nicsim_netdev *dev);
/* __dev_get_by_index / __dev_get_by_name: NULL if none. */
struct nicsim_netdev *nicsim_kern_dev_get_by_index(struct nicsim_kern *k, int ifindex);
struct nicsim_netdev *nicsim_kern_dev_get_by_name(struct nicsim_kern *k, const char *name);

/* ---------------------------------------------------------------------------------------------
 * BPF objects.
 */
/* struct bpf_prog_offload. */
struct nicsim_bpf_prog_offload {
    struct nicsim_bpf_prog *prog;
    struct nicsim_netdev *netdev; /* the port the program is bound to now */
    struct nicsim_bpf_offload_dev *offdev;
    void *dev_priv;    /* the driver's per-program state */
    bool dev_state;    /* prepare succeeded: destroy will be called */
    bool opt_failed;   /* a replace_insn / remove_insns callback failed */
    void *jited_image; /* what translate produced (shown by prog info), owned by the driver */
    uint32_t jited_len;
    struct nicsim_bpf_prog_offload *next; /* on the bound port's list (private) */
};

/* struct bpf_prog_aux. */
struct nicsim_bpf_prog_aux {
    uint32_t id; /* 0 before load completes; kept when orphaned (kernel >= 6.3) */
    char name[NICSIM_BPF_OBJ_NAME];
    bool dev_bound;         /* loaded with prog_ifindex */
    bool offload_requested; /* dev_bound and not BPF_F_XDP_DEV_BOUND_ONLY: runs on the device */
    struct nicsim_bpf_prog_offload *offload; /* dev_bound: NULL once orphaned */
    struct nicsim_bpf_map **used_maps; /* maps the program references, each with a reference */
    uint32_t used_map_cnt;
    uint32_t stack_depth; /* deepest call chain's stack, bytes */
    uint32_t refcnt;
};

/* struct bpf_prog. insnsi is the program as verified and optimised: LDDW map references are
 * normalised to src NICSIM_LDDW_MAP_IDX / NICSIM_LDDW_MAP_IDX_VALUE with imm = index into
 * aux->used_maps (second slot imm = value offset), calls and context accesses are untouched. */
struct nicsim_bpf_prog {
    struct nicsim_kern *kern;
    uint32_t type;                 /* enum bpf_prog_type */
    uint32_t expected_attach_type; /* enum bpf_attach_type */
    uint32_t len;                  /* slots */
    struct nicsim_insn *insnsi;
    struct nicsim_bpf_prog_aux *aux;
};

/* struct bpf_map_dev_ops: element operations of an offloaded map, set by the driver in
 * BPF_OFFLOAD_MAP_ALLOC. Kernel semantics: 0 or -ENOENT, -EEXIST, -E2BIG ... */
struct nicsim_bpf_map_dev_ops {
    int (*map_get_next_key)(struct nicsim_bpf_map *map, void *key, void *next_key);
    int (*map_lookup_elem)(struct nicsim_bpf_map *map, void *key, void *value);
    int (*map_update_elem)(struct nicsim_bpf_map *map, void *key, void *value, uint64_t flags);
    int (*map_delete_elem)(struct nicsim_bpf_map *map, void *key);
};

/* struct bpf_map with struct bpf_offloaded_map's members. */
struct nicsim_bpf_map {
    struct nicsim_kern *kern;
    uint32_t map_type; /* enum bpf_map_type */
    uint32_t key_size, value_size, max_entries, map_flags;
    uint32_t id; /* 0 once orphaned */
    char name[NICSIM_BPF_OBJ_NAME];
    bool offloaded; /* created with map_ifindex */
    /* Offloaded maps (bpf_offloaded_map): */
    struct nicsim_netdev *netdev; /* NULL once orphaned */
    const struct nicsim_bpf_map_dev_ops *dev_ops;
    void *dev_priv;
    struct nicsim_bpf_map *next_offmap; /* on the bound port's list (private) */
    uint32_t refcnt;
    void *host; /* host maps: the emulated kernel's storage (private) */
    /* Maps of maps (array / hash of maps): what an inner map must look like, a copy of the
     * template map's attributes taken at creation (bpf_map_meta_alloc; id 0, no storage). The
     * verifier gives a lookup in the outer map this map as the CONST_PTR_TO_MAP it yields. */
    struct nicsim_bpf_map *inner_map_meta;
    bool is_inner_meta; /* this map is such a copy: it stands for whichever inner map runs */
};

static inline bool nicsim_bpf_prog_is_dev_bound(const struct nicsim_bpf_prog *prog)
{
    return prog->aux->dev_bound;
}
static inline bool nicsim_bpf_prog_is_offloaded(const struct nicsim_bpf_prog *prog)
{
    return prog->aux->offload_requested;
}
static inline bool nicsim_bpf_map_is_offloaded(const struct nicsim_bpf_map *map)
{
    return map->offloaded;
}
/* What a program reading `size` bytes at `off` of struct bpf_map through a map pointer gets (the
 * verifier allows the scalar members up to `id`; docs/offload.md): 0 and *val, or -EINVAL. */
int nicsim_bpf_map_field(const struct nicsim_bpf_map *map, int off, int size, uint64_t *val);

/* bpf_prog_inc / bpf_prog_put, bpf_map_inc / bpf_map_put (the last put frees). */
void nicsim_bpf_prog_inc(struct nicsim_bpf_prog *prog);
void nicsim_bpf_prog_put(struct nicsim_bpf_prog *prog);
void nicsim_bpf_map_inc(struct nicsim_bpf_map *map);
void nicsim_bpf_map_put(struct nicsim_bpf_map *map);

/* The object behind a descriptor (no reference taken), NULL with errno EBADF / EINVAL. */
struct nicsim_bpf_prog *nicsim_kern_prog_by_fd(struct nicsim_kern *k, int fd);
struct nicsim_bpf_map *nicsim_kern_map_by_fd(struct nicsim_kern *k, int fd);

/* ---------------------------------------------------------------------------------------------
 * Offload devices (kernel/bpf/offload.c).
 */

/* Verifier register state, the part a driver's insn_hook may look at (struct bpf_reg_state). */
enum nicsim_reg_type {
    NICSIM_NOT_INIT = 0,
    NICSIM_SCALAR_VALUE,
    NICSIM_PTR_TO_CTX,
    NICSIM_CONST_PTR_TO_MAP,
    NICSIM_PTR_TO_MAP_VALUE,
    NICSIM_PTR_TO_MAP_VALUE_OR_NULL,
    NICSIM_PTR_TO_STACK,
    NICSIM_PTR_TO_PACKET_META,
    NICSIM_PTR_TO_PACKET,
    NICSIM_PTR_TO_PACKET_END,
    NICSIM_REG_TYPE__COUNT
};
/* The kernel's reg_type_str(): "scalar", "ctx", "map_ptr", "map_value", "map_value_or_null",
 * "fp", "pkt_meta", "pkt", "pkt_end", "?" for NOT_INIT. */
const char *nicsim_reg_type_str(enum nicsim_reg_type type);

struct nicsim_reg_state {
    uint8_t type;    /* enum nicsim_reg_type */
    uint8_t known;   /* scalar: `value` is exact; unused for pointers */
    uint8_t var_off; /* pointers: an unknown amount (bounded by the fields below) was added */
    uint8_t frameno; /* PTR_TO_STACK: whose frame */
    int32_t off;     /* pointers: fixed offset from the object's start (stack: from r10) */
    uint32_t id;     /* MAP_VALUE_OR_NULL: copies share an id, null checks mark them all;
                      * PTR_TO_PACKET(_META): copies share an id and the range learnt for it;
                      * scalars: copies share an id, bounds learnt for one apply to all */
    uint64_t value;  /* scalar when known */
    struct nicsim_bpf_map *map_ptr; /* CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE(_OR_NULL) */
    /* PTR_TO_PACKET(_META): bytes from the packet start (plus the variable offset) known to be
     * in bounds, from comparisons with data_end (data for pkt_meta); -1 / -2: this pointer is
     * beyond / at data_end (BEYOND_PKT_END / AT_PKT_END). */
    int32_t range;
    /* Scalars: what is known of the value; pointers: of the variable offset (zero without one).
     * Unsigned and signed bounds and the known bits (tnum: bits set in tn_mask are unknown,
     * the others are those of tn_value), as the kernel's umin/umax/smin/smax/var_off. */
    uint64_t umin, umax;
    int64_t smin, smax;
    uint64_t tn_value, tn_mask;
    /* Scalars: bounds of the low 32 bits (the kernel's u32/s32 bounds), valid when has32; what
     * the fields above imply of the low half applies in any case (a zeroed state knows nothing
     * more). */
    uint8_t has32;
    uint32_t u32_min, u32_max;
    int32_t s32_min, s32_max;
};

/* struct bpf_insn_aux_data: what the verifier learnt about one instruction. */
struct nicsim_insn_aux_data {
    bool seen;        /* processed on at least one path */
    uint8_t ptr_type; /* loads / stores / atomics: enum nicsim_reg_type of the pointer accessed
                       * (the same instruction must always access the same kind) */
    uint8_t ctx_field_size; /* context accesses: bytes */
    uint8_t pad;
    int32_t map_index; /* LDDW map references: index in prog->aux->used_maps, else -1 */
    int32_t orig_idx;  /* index of this instruction in the program as loaded */
};

/* struct bpf_verifier_env, as far as a driver sees it. */
struct nicsim_verifier_env {
    struct nicsim_bpf_prog *prog;
    struct nicsim_insn_aux_data *insn_aux_data; /* prog->len entries */
    /* During insn_hook: the registers of the current frame and its number. */
    const struct nicsim_reg_state *cur_regs;
    uint32_t cur_frame;
    uint32_t insn_processed;
    void *priv; /* the verifier's own state */
};
/* bpf_verifier_log_write: append a line to the verifier log (a newline is added if missing). */
void nicsim_verifier_log(struct nicsim_verifier_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* struct bpf_prog_offload_ops. The verifier calls, for a program loaded for an offload device:
 * prepare(prog) after the map references are resolved; insn_hook(env, idx, prev_idx) before each
 * instruction it processes, on every path; finalize(env) when the walk succeeded; then, for the
 * dead-code optimisations, replace_insn(env, off, insn) for each conditional jump it hard-wires
 * and remove_insns(env, off, cnt) before each removal; translate(prog) once the program is final;
 * destroy(prog) on the last reference if prepare succeeded. A non-zero return from prepare,
 * insn_hook, finalize or translate refuses the load with that error. */
struct nicsim_bpf_prog_offload_ops {
    int (*insn_hook)(struct nicsim_verifier_env *env, int insn_idx, int prev_insn_idx);
    int (*finalize)(struct nicsim_verifier_env *env);
    int (*replace_insn)(struct nicsim_verifier_env *env, uint32_t off, struct nicsim_insn *insn);
    int (*remove_insns)(struct nicsim_verifier_env *env, uint32_t off, uint32_t cnt);
    int (*prepare)(struct nicsim_bpf_prog *prog);
    int (*translate)(struct nicsim_bpf_prog *prog);
    void (*destroy)(struct nicsim_bpf_prog *prog);
};

/* bpf_offload_dev_create / _destroy (all ports must be unregistered first: -EBUSY is not
 * possible here, a destroy with ports left unregisters them). */
struct nicsim_bpf_offload_dev *
nicsim_bpf_offload_dev_create(struct nicsim_kern *k, const struct nicsim_bpf_prog_offload_ops *ops,
                              void *priv);
void nicsim_bpf_offload_dev_destroy(struct nicsim_bpf_offload_dev *offdev);
void *nicsim_bpf_offload_dev_priv(struct nicsim_bpf_offload_dev *offdev);
const struct nicsim_bpf_prog_offload_ops *
nicsim_bpf_offload_dev_ops(const struct nicsim_bpf_offload_dev *offdev);
/* Add / remove a port. Removing one moves its bound programs and maps to another port of the same
 * offload device, or, for the last port, destroys their device state (ops->destroy,
 * BPF_OFFLOAD_MAP_FREE) and orphans them. */
int nicsim_bpf_offload_dev_netdev_register(struct nicsim_bpf_offload_dev *offdev,
                                           struct nicsim_netdev *netdev);
void nicsim_bpf_offload_dev_netdev_unregister(struct nicsim_bpf_offload_dev *offdev,
                                              struct nicsim_netdev *netdev);
/* bpf_offload_dev_match: prog is bound to netdev or to another port of its offload device. */
bool nicsim_bpf_offload_dev_match(struct nicsim_bpf_prog *prog, struct nicsim_netdev *netdev);
/* The offload device a port belongs to, NULL if none. */
struct nicsim_bpf_offload_dev *nicsim_bpf_offload_dev_of(struct nicsim_netdev *netdev);

/* ---------------------------------------------------------------------------------------------
 * The bpf() syscall.
 */
struct nicsim_kern_prog_load_attr {
    size_t sz;                     /* sizeof(struct nicsim_kern_prog_load_attr) */
    uint32_t prog_type;            /* BPF_PROG_TYPE_XDP (the only type this kernel loads) */
    uint32_t expected_attach_type; /* BPF_XDP (0 is taken as BPF_XDP) */
    const struct nicsim_insn *insns;
    uint32_t insn_cnt;
    const char *license;   /* may be NULL */
    const char *prog_name; /* may be NULL; at most 15 characters are kept */
    uint32_t prog_flags;   /* BPF_F_XDP_DEV_BOUND_ONLY, BPF_F_XDP_HAS_FRAGS */
    uint32_t prog_ifindex; /* 0: a host program */
    /* LDDW src NICSIM_LDDW_MAP_IDX / _MAP_IDX_VALUE: imm indexes this array of map descriptors;
     * src NICSIM_LDDW_MAP_FD / _MAP_VALUE: imm is a map descriptor. */
    const int *fd_array;
    uint32_t fd_array_cnt;
    /* Verifier log (log_level 0: errors only, 1: also a line per refused/processed path end,
     * 2: every processed instruction). Always NUL-terminated when log_size > 0. */
    char *log_buf;
    uint32_t log_size;
    uint32_t log_level;
    /* Out: where verification failed (-1: not at an instruction) and its last message. */
    int32_t err_insn;
    char err_msg[256];
};

/* BPF_PROG_LOAD. Returns a descriptor or a negative errno (-EINVAL, -EACCES, -E2BIG, -ENODEV,
 * -EOPNOTSUPP ...; the driver's callbacks can refuse with their own). */
int nicsim_kern_prog_load(struct nicsim_kern *k, struct nicsim_kern_prog_load_attr *attr);

struct nicsim_kern_map_create_attr {
    size_t sz; /* sizeof(struct nicsim_kern_map_create_attr) */
    uint32_t map_type;
    uint32_t key_size, value_size, max_entries, map_flags;
    uint32_t map_ifindex; /* 0: a host map */
    const char *map_name; /* may be NULL */
    /* Array / hash of maps: a map descriptor whose attributes every inner map must have (the
     * template; type, key and value size, flags, and max_entries for arrays without
     * BPF_F_INNER_MAP). Ignored for other types. Elements of such a map are written as a map
     * descriptor (u32) and read back, from user space, as that map's id. */
    uint32_t inner_map_fd;
};
/* The explanation of the last refused map element operation or program load, where a driver
 * gave one (its sentence and its device's: "nicsim: map rules: ... the map is full (max_entries
 * 4)"); "" otherwise. Each of those calls clears it first. Drivers set it with
 * nicsim_kern_set_error (the last call wins); a failed offloaded-program translation adds it to
 * the verifier log's last line. */
const char *nicsim_kern_last_error(const struct nicsim_kern *k);
void nicsim_kern_set_error(struct nicsim_kern *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* BPF_MAP_CREATE. extack (may be NULL) receives the driver's explanation of a refusal. */
int nicsim_kern_map_create(struct nicsim_kern *k, const struct nicsim_kern_map_create_attr *attr,
                           struct nicsim_msg *extack);

/* BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM / GET_NEXT_KEY (key NULL: first key). Offloaded
 * maps go to the driver; orphaned ones give -ENODEV. A refusal the driver explains leaves its
 * sentence (and the device's) in nicsim_kern_last_error. */
int nicsim_kern_map_lookup_elem(struct nicsim_kern *k, int fd, const void *key, void *value);
int nicsim_kern_map_update_elem(struct nicsim_kern *k, int fd, const void *key, const void *value,
                                uint64_t flags);
int nicsim_kern_map_delete_elem(struct nicsim_kern *k, int fd, const void *key);
int nicsim_kern_map_get_next_key(struct nicsim_kern *k, int fd, const void *key, void *next_key);

/* close(): drops the descriptor's reference. */
int nicsim_kern_close(struct nicsim_kern *k, int fd);
/* BPF_PROG_GET_FD_BY_ID / BPF_MAP_GET_FD_BY_ID (-ENOENT), BPF_PROG_GET_NEXT_ID /
 * BPF_MAP_GET_NEXT_ID (-ENOENT after the last; orphaned programs are listed, as bpftool's
 * "orphaned" ones, orphaned maps are not). */
int nicsim_kern_prog_get_fd_by_id(struct nicsim_kern *k, uint32_t id);
int nicsim_kern_map_get_fd_by_id(struct nicsim_kern *k, uint32_t id);
int nicsim_kern_prog_get_next_id(struct nicsim_kern *k, uint32_t start_id, uint32_t *next_id);
int nicsim_kern_map_get_next_id(struct nicsim_kern *k, uint32_t start_id, uint32_t *next_id);

/* BPF_OBJ_GET_INFO_BY_FD. Bound objects report their port's ifindex; orphaned ones -ENODEV. */
struct nicsim_kern_prog_info {
    uint32_t id;
    uint32_t type;
    char name[NICSIM_BPF_OBJ_NAME];
    uint32_t ifindex; /* bound port, 0 for host programs */
    bool dev_bound, offloaded;
    uint32_t xlated_len; /* bytes of the verified program */
    uint32_t jited_len;  /* bytes of the device image (offloaded programs) */
    uint32_t nr_map_ids;
    uint32_t map_ids[NICSIM_MAX_USED_MAPS];
};
int nicsim_kern_prog_get_info(struct nicsim_kern *k, int fd, struct nicsim_kern_prog_info *info);

struct nicsim_kern_map_info {
    uint32_t id, type, key_size, value_size, max_entries, map_flags;
    char name[NICSIM_BPF_OBJ_NAME];
    uint32_t ifindex; /* bound port, 0 for host maps */
};
int nicsim_kern_map_get_info(struct nicsim_kern *k, int fd, struct nicsim_kern_map_info *info);

/* ---------------------------------------------------------------------------------------------
 * XDP (net/core/dev.c, rtnetlink IFLA_XDP).
 */

/* Attach prog_fd (-1: detach) to a device, as `ip link set dev X xdp...` does: flags are
 * XDP_FLAGS_*; with XDP_FLAGS_REPLACE, expected_fd is the program expected to be attached now
 * (-1: none). Errors and messages are the kernel's ("XDP program already attached", "Native and
 * generic XDP can't be active at the same time", ...) plus the driver's. */
int nicsim_kern_xdp_attach(struct nicsim_kern *k, int ifindex, int prog_fd, int expected_fd,
                           uint32_t flags, struct nicsim_msg *extack);

/* IFLA_XDP as `ip link show` reports it. */
struct nicsim_kern_xdp_query {
    uint8_t attach_mode; /* XDP_ATTACHED_NONE / DRV / SKB / HW / MULTI */
    uint32_t prog_id;    /* the one program when exactly one is attached, else 0 */
    uint32_t skb_prog_id, drv_prog_id, hw_prog_id;
};
int nicsim_kern_xdp_query(struct nicsim_kern *k, int ifindex, struct nicsim_kern_xdp_query *q);

/* ---------------------------------------------------------------------------------------------
 * Helpers for drivers and tools.
 */
/* The kernel's name of a helper ("bpf_fib_lookup"), or "unknown". */
const char *nicsim_bpf_helper_name(int32_t func_id);
/* The kernel's short name of a map type ("sockmap", "array", ...), or "unknown". */
const char *nicsim_bpf_map_type_name(uint32_t map_type);

/* ---------------------------------------------------------------------------------------------
 * Cross-check with the host kernel's verifier (kcheck.c): load the same program as a plain XDP
 * program through libbpf (maps created in the kernel, no offload) and in this emulation (no
 * driver), and compare the verdicts.
 */
struct nicsim_kern_kcheck {
    bool kernel_available; /* false: bpf() refused (see kernel_msg), nothing compared */
    int ours;              /* our prog_load result: 0 (accepted) or -errno */
    int kernel;            /* the host kernel's: 0 or -errno */
    bool disagree;         /* exactly one of the two accepted */
    char our_msg[320];
    char kernel_msg[512]; /* last lines of the kernel's verifier log */
    char our_log[512];    /* the same for ours: its last two lines joined with " / " */
    char report[1024];    /* "disagreement: nicsim accepts, kernel refuses (-EACCES): ..." */
};
/* attr: as for nicsim_kern_prog_load with prog_ifindex 0 and fd_array indexes referring to
 * `maps` (n_maps map definitions, created fresh on both sides). Returns 0 when the comparison
 * ran or was skipped (res->kernel_available), a negative errno on misuse. */
int nicsim_kern_kcheck(const struct nicsim_kern_prog_load_attr *attr,
                       const struct nicsim_kern_map_create_attr *maps, size_t n_maps,
                       struct nicsim_kern_kcheck *res);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_KERN_H */
