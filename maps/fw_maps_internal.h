/* SPDX-License-Identifier: MIT */
/*
 * NIC map library internals shared by its translation units: the map object, the per-type
 * operations (struct fm_map_ops, the kernel's struct bpf_map_ops: one instance per type in its
 * family's file, dispatched by the core fw_maps.c), the hash table (kernel/bpf/hashtab.c's bucket
 * layout), the LRU lists (kernel/bpf/bpf_lru_list.c) and the LPM trie (kernel/bpf/lpm_trie.c).
 *
 * Lists are kept as indices instead of pointers: an LRU list is a circular doubly linked list over
 * the element indices 0..n-1 plus one sentinel index per list head (n, n+1, ...), so that the
 * kernel's list_add / list_move / reverse-safe walks translate one to one.
 */
#ifndef NICSIM_FW_MAPS_INTERNAL_H
#define NICSIM_FW_MAPS_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nicsim/fw_maps.h"
#include "nicsim/maptypes.h"

#define FM_NIL UINT32_MAX

/* ---- Sizes. Every count and byte size a map is built from is computed with these: in 64 bits,
 * an overflow is an error (-E2BIG), never a wrap. 32-bit attributes multiplied or rounded up in
 * 32 bits once hung roundup_pow2 (max_entries 0x80000001) and wrapped queue sizes. */
/* The host CPUs (one host receive queue each) the NIC delivers to: a cpumap's NR_CPUS. A cpumap
 * of more entries is -E2BIG, as cpu_map_alloc's "max_entries > NR_CPUS". */
#define FM_CPUMAP_MAX_CPUS  128u
#define FM_CPUMAP_MAX_QSIZE 16384u        /* cpu_map_update_elem: qsize above it is -EOVERFLOW */
#define FM_HTAB_MAX_ENTRIES (1u << 31)    /* hashtab.c: "max_entries > 1UL << 31" is -E2BIG */
#define FM_LPM_MAX_ENTRIES  (1u << 30)    /* NIC: 2 * max_entries trie nodes, child 2 * node + 1 */
#define FM_MAX_VALUE_MEM    0xffffffffull /* NIC: a map region is addressed with 32-bit offsets */

/* *r = a * b + c; -E2BIG when it does not fit 64 bits. */
static inline int fm_size(uint64_t a, uint64_t b, uint64_t c, uint64_t *r)
{
    uint64_t p;

    if (__builtin_mul_overflow(a, b, &p) || __builtin_add_overflow(p, c, r))
        return -E2BIG;
    return 0;
}

/* roundup_pow_of_two in 64 bits; callers keep v <= 2^63 (0 and 1 give 1). */
static inline uint64_t fm_roundup_pow2(uint64_t v)
{
    uint64_t p = 1;

    while (p < v && p < (1ull << 63))
        p <<= 1;
    return p;
}

/* Map types, map_flags and update flags: <linux/bpf.h> (via nicsim/maptypes.h). */
#define FM_ACCESS_MASK (BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

/* ---- LRU (bpf_lru_list.c). Node types as enum bpf_lru_list_type. */
enum { LRU_ACTIVE, LRU_INACTIVE, LRU_FREE, LRU_LOCAL_FREE, LRU_LOCAL_PENDING };

struct fm_lru_list {
    uint32_t head[3];   /* sentinels of the active, inactive and free lists */
    uint32_t counts[2]; /* active, inactive */
    uint32_t next_rot;  /* next_inactive_rotation */
};

struct fm_lru_loc {
    uint32_t free_head, pending_head; /* sentinels */
    uint32_t next_steal;
};

struct fm_lru {
    int percpu; /* BPF_F_NO_COMMON_LRU: one fm_lru_list per CPU */
    uint32_t n_nodes, n_cpus, target_free, nr_scans;
    uint32_t *prev, *next; /* [n_nodes + sentinels] */
    uint8_t *type, *ref;
    uint16_t *cpu;
    struct fm_lru_list *lists; /* [1] or [n_cpus] */
    struct fm_lru_loc *loc;    /* common LRU: [n_cpus] */
    /* htab_lru_map_delete_node: unlink node's element from the hash table if it is there */
    int (*del_from_htab)(void *arg, uint32_t node);
    void *arg;
};

int nicsim_fm_lru_init(struct fm_lru *lru, int percpu, uint32_t n_nodes, uint32_t n_cpus,
                       int (*del)(void *, uint32_t), void *arg);
void nicsim_fm_lru_fini(struct fm_lru *lru);
/* bpf_lru_pop_free from `cpu`: a free node (now pending / inactive) or FM_NIL. */
uint32_t nicsim_fm_lru_pop_free(struct fm_lru *lru, uint32_t cpu);
void nicsim_fm_lru_push_free(struct fm_lru *lru, uint32_t node);
static inline void fm_lru_set_ref(struct fm_lru *lru, uint32_t node)
{
    if (!lru->ref[node])
        lru->ref[node] = 1;
}

/* ---- Hash table (hashtab.c), also used for devmap hash (identity hash) and hash of maps. */
enum fm_replace {
    FM_REPLACE_MOVE,    /* new element at the bucket head, old one unlinked (hash, devmap hash) */
    FM_REPLACE_INPLACE, /* value updated in place (per-CPU hash, hash of maps) */
};

struct fm_htab {
    uint32_t n_elems, n_buckets, seed, key_size;
    int identity; /* devmap hash: the bucket is key & mask */
    int lru;
    uint32_t *bucket;           /* [n_buckets] first element or FM_NIL */
    uint32_t *next;             /* [n_elems] chain */
    uint32_t *hash;             /* [n_elems] */
    uint8_t *in_htab;           /* [n_elems] */
    uint8_t *keys;              /* [n_elems * key_size] */
    uint32_t *free_stk, n_free; /* non-LRU free elements */
    uint32_t count;             /* elements linked */
    struct fm_lru lru_lists;
};

uint32_t nicsim_fm_jhash(const void *key, uint32_t len, uint32_t seed);
uint32_t nicsim_fm_jhash2(const void *k, uint32_t n_words, uint32_t seed); /* over 32-bit words */
uint32_t nicsim_fm_htab_hash(const struct fm_htab *h, const void *key);
int nicsim_fm_htab_init(struct fm_htab *h, uint32_t n_elems, uint32_t key_size, uint32_t seed,
                        int identity, int lru, int percpu_lru, uint32_t n_cpus);
void nicsim_fm_htab_fini(struct fm_htab *h);
uint32_t nicsim_fm_htab_find(const struct fm_htab *h, const void *key, uint32_t hash);
void nicsim_fm_htab_link_head(struct fm_htab *h, uint32_t e, uint32_t hash);
void nicsim_fm_htab_unlink(struct fm_htab *h, uint32_t e);
uint32_t nicsim_fm_htab_alloc(struct fm_htab *h);           /* non-LRU: a free element or FM_NIL */
void nicsim_fm_htab_release(struct fm_htab *h, uint32_t e); /* non-LRU */
int nicsim_fm_htab_next_key(const struct fm_htab *h, const void *key, void *next);

/* ---- LPM trie (lpm_trie.c). */
struct fm_lpm {
    uint32_t data_size, max_prefixlen, max_entries, n_entries;
    uint32_t n_nodes; /* 2 * max_entries: leaves and intermediate nodes */
    uint32_t root;
    uint32_t *child;       /* [2 * n_nodes] */
    uint32_t *plen, *slot; /* slot: value slot, FM_NIL for intermediate nodes */
    uint8_t *im;
    uint8_t *data; /* [n_nodes * data_size] */
    uint32_t *node_free, n_node_free;
    uint32_t *slot_free, n_slot_free;
};

int nicsim_fm_lpm_init(struct fm_lpm *t, uint32_t key_size, uint32_t max_entries);
void nicsim_fm_lpm_fini(struct fm_lpm *t);
/* Value slot of the longest prefix match, FM_NIL when none. */
uint32_t nicsim_fm_lpm_lookup(const struct fm_lpm *t, const uint8_t *key);
/* Exact match; 0 and *slot, or -errno. */
int nicsim_fm_lpm_update(struct fm_lpm *t, const uint8_t *key, uint64_t flags, uint32_t *slot);
int nicsim_fm_lpm_delete(struct fm_lpm *t, const uint8_t *key, uint32_t *slot);
int nicsim_fm_lpm_next_key(const struct fm_lpm *t, const uint8_t *key, uint8_t *next);

/* ---- A map. */
struct fm_map_ops;
struct fm_map {
    const struct fm_map_ops *ops; /* its type's operations */
    uint32_t type, key_size, value_size, max_entries, flags, attr_max_entries;
    uint32_t n_cpus; /* value slices */
    uint32_t slice;  /* round_up(value_size, 8) for per-CPU maps, value_size rounded to 8 */
    uint32_t stride; /* slice * n_cpus */
    uint64_t mem;
    uint8_t *vals; /* [n_slots * stride] */
    size_t vals_len;
    uint8_t *present; /* fd arrays, devmap: slot set */
    uint32_t count;   /* elements present */
    struct fm_htab *h;
    struct fm_lpm *t;
    uint32_t q_head, q_count; /* queue / stack */
    uint8_t *bits;            /* bloom filter */
    uint32_t bloom_mask, bloom_nr_hash, seed;
    struct nicsim_fw_map_attr inner; /* map-in-map template */
    uint32_t refs; /* elements of outer maps (array / hash of maps) holding this map */
    int freed;     /* the host freed it while refs > 0: released when the last one goes */
};

struct nicsim_fw_maps {
    uint32_t n_cpus, max_id, host_cpu, hash_seed;
    uint64_t mem_budget, mem_used;
    struct fm_map **maps; /* [max_id + 1] */
};

/* The value of element slot `slot` (CPU 0's slice for a per-CPU map). */
static inline uint8_t *fm_slot_val(struct fm_map *f, uint32_t slot)
{
    return f->vals + (size_t)slot * f->stride;
}

/* A 4-byte key or value field as u32 (array index, devmap ifindex, cpumap qsize). */
static inline uint32_t fm_key_u32(const void *key)
{
    uint32_t v;

    memcpy(&v, key, 4);
    return v;
}

/* ---- The kernel's limits that several types' creation checks share. */
#define KMALLOC_MAX_SIZE   (1ull << 22) /* x86-64: 1 << (PAGE_SHIFT + MAX_PAGE_ORDER) */
#define PCPU_MIN_UNIT_SIZE (32u << 10)

/* BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other (map_create). */
static inline int fm_access_ok(uint32_t flags)
{
    return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !=
           (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

/* The sentence of a failure into msg (msg may be NULL), as every message of fw_maps.h. */
void nicsim_fm_say(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* In a function with `char *msg, size_t msg_len`: write the sentence and return err. */
#define FAIL(err, ...)                                                                             \
    do {                                                                                           \
        nicsim_fm_say(msg, msg_len, __VA_ARGS__);                                                  \
        return (err);                                                                              \
    } while (0)

/* Who writes an element: the host (bpf(2), the host view of per-CPU values) or a program on a
 * core (helper semantics: its CPU's slice). */
struct fm_src {
    int prog;     /* from a program: CPU slice semantics */
    uint32_t cpu; /* the acting CPU */
};

/* ---- Per-type operations (the kernel's struct bpf_map_ops), one instance per supported type,
 * defined in the type family's file. A NULL operation has the default its comment names. */
struct fm_map_ops {
    const char *name; /* in messages: "hash", "per-CPU array", ... */
    /* Keys are u32 indices 0..max_entries - 1 (arrays, fd arrays, devmap, cpumap): messages
     * name the index, get_next_key's end is "no index after". */
    unsigned indexed : 1;
    /* In-place values the cores map (nicsim_fw_maps__value_mem). */
    unsigned value_mem : 1;
    /* Programs may update and delete elements (helpers); others: -EOPNOTSUPP. */
    unsigned prog_write : 1;
    /* Array / hash of maps: created from an inner map template, values are map ids. */
    unsigned holds_maps : 1;
    /* Takes map_extra (bloom filter). */
    unsigned map_extra : 1;
    /* The sentence of -EINVAL / -ENOENT from a host operation; NULL: a generic one. */
    const char *einval_why, *enoent_why;

    /* ---- creation */
    /* This type's map_alloc_check and the NIC's limits on the attributes. */
    int (*check)(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len);
    /* The geometry past the attributes (element count, slices, slots of value memory) and its
     * limits; -E2BIG with the sentence. NULL: no value slots. */
    int (*geometry)(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                    uint64_t *n_slots, char *msg, size_t msg_len);
    /* Bytes charged to the budget for a map of this geometry; -E2BIG past 64 bits. */
    int (*mem)(const struct fm_map *f, uint64_t *mem);
    /* The type's structures besides the value memory (NULL: none); -errno. */
    int (*alloc)(const struct nicsim_fw_maps *m, struct fm_map *f);
    /* Free what alloc made, also after a partial alloc (NULL: nothing). */
    void (*free)(struct fm_map *f);
    /* An outer map going away: drop the inner maps its elements hold (NULL: none). */
    void (*drop_inner)(struct nicsim_fw_maps *m, struct fm_map *f);
    /* Map-in-map: beyond type, sizes and flags, whether `in` matches the template t of its
     * type (the kernel's map_meta_equal; NULL: it does). */
    int (*meta_equal)(const struct fm_map *in, const struct nicsim_fw_map_attr *t);
    /* Elements present (NULL: f->count). */
    uint32_t (*count)(const struct fm_map *f);

    /* ---- host side (bpf(2)) */
    int (*lookup)(struct fm_map *f, const void *key, void *value);
    /* BPF_MAP_LOOKUP_AND_DELETE_ELEM (NULL: -ENOTSUPP). */
    int (*lookup_and_delete)(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                             void *value);
    /* Update from the host or a program (s). */
    int (*update)(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, const void *value,
                  uint64_t flags, struct fm_src s);
    int (*del)(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
    int (*get_next_key)(struct fm_map *f, const void *key, void *next);
    /* The sentence of a refusal this type words itself; 1 when written, 0: the generic one. */
    int (*explain)(const struct fm_map *f, int err, const void *key, const void *value, char *msg,
                   size_t msg_len);

    /* ---- program side */
    /* bpf_map_lookup_elem: the value slot of key (-ENOENT; NULL: -EOPNOTSUPP). */
    int (*prog_slot)(struct fm_map *f, const void *key, uint32_t *slot);
    /* bpf_map_lookup_elem on a map of maps: the slot holding the inner id (NULL: -EINVAL). */
    int (*map_slot)(struct fm_map *f, const void *key, uint32_t *slot);
    /* bpf_redirect_map: the target of key (NULL: -EINVAL). */
    int (*redirect)(struct fm_map *f, uint32_t key, uint32_t *target);
};

/* The operations of a map type; NULL when the NIC does not support it. */
const struct fm_map_ops *nicsim_fm_ops(uint32_t type);

/* The map types, one ops each, by family file. */
extern const struct fm_map_ops nicsim_fm_array_ops, nicsim_fm_percpu_array_ops; /* array */
extern const struct fm_map_ops nicsim_fm_prog_array_ops, nicsim_fm_perf_event_array_ops,
    nicsim_fm_array_of_maps_ops; /* fdarray */
extern const struct fm_map_ops nicsim_fm_hash_ops, nicsim_fm_percpu_hash_ops,
    nicsim_fm_lru_hash_ops, nicsim_fm_lru_percpu_hash_ops, nicsim_fm_hash_of_maps_ops; /* htab */
extern const struct fm_map_ops nicsim_fm_lpm_trie_ops;                                 /* lpm */
extern const struct fm_map_ops nicsim_fm_devmap_ops, nicsim_fm_devmap_hash_ops;        /* devmap */
extern const struct fm_map_ops nicsim_fm_cpumap_ops;                                   /* cpumap */
extern const struct fm_map_ops nicsim_fm_queue_ops, nicsim_fm_stack_ops;               /* qs */
extern const struct fm_map_ops nicsim_fm_bloom_ops;                                    /* bloom */
extern const struct fm_map_ops nicsim_fm_ringbuf_ops;                                  /* ringbuf */

/* ---- What the core (fw_maps.c) lends the type files. */
/* A map the host can name (not freed), or NULL. */
struct fm_map *nicsim_fm_get(const struct nicsim_fw_maps *m, uint32_t id);
/* Value memory of max_entries slots (geometry of most types). */
int nicsim_fm_geometry_entries(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                               uint64_t *n_slots, char *msg, size_t msg_len);
/* Host view out: per-CPU values copy every slice whole (round_up(value_size, 8), as the kernel's
 * copy_map_value_long), others value_size bytes. */
void nicsim_fm_val_out(const struct fm_map *f, uint32_t slot, void *out);
/* An element's value written by s; `fresh` (a new element) zeroes a program's other slices. */
void nicsim_fm_val_write(struct fm_map *f, uint32_t slot, struct fm_src s, const void *in,
                         int fresh);
/* Map-in-map: whether inner_id names a map matching f's template (bpf_map_meta_equal); take and
 * drop an element's reference on its inner map. */
int nicsim_fm_inner_ok(const struct nicsim_fw_maps *m, const struct fm_map *f, uint32_t inner_id);
void nicsim_fm_inner_ref(struct nicsim_fw_maps *m, uint32_t id);
void nicsim_fm_inner_put(struct nicsim_fw_maps *m, uint32_t id);

/* ---- Shared by the array-like families (fw_maps_array.c, fw_maps_fdarray.c). */
/* The array checks of array_map_alloc_check (fd arrays and arrays). */
int nicsim_fm_check_array(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len);
/* get_next_key over indices: the first index, or the one after key; -ENOENT after the last. */
int nicsim_fm_index_next_key(struct fm_map *f, const void *key, void *next);
/* prog array, array of maps, devmap, cpumap: a slot-present byte per entry. */
int nicsim_fm_alloc_present(const struct nicsim_fw_maps *m, struct fm_map *f);
void nicsim_fm_free_present(struct fm_map *f);
/* 8 bytes charged an entry. */
int nicsim_fm_mem_ids(const struct fm_map *f, uint64_t *mem);
/* An empty slot is -ENOENT. */
int nicsim_fm_lookup_ids(struct fm_map *f, const void *key, void *value);
/* devmap, cpumap: empty the slot (an empty one too); past max_entries -EINVAL. */
int nicsim_fm_dev_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);

/* ---- Shared by the hash table users (fw_maps_htab.c, the devmap hash of fw_maps_devmap.c). */
void nicsim_fm_htab_free(struct fm_map *f);
uint32_t nicsim_fm_htab_count(const struct fm_map *f);
int nicsim_fm_htab_lookup(struct fm_map *f, const void *key, void *value);
int nicsim_fm_htab_get_next_key(struct fm_map *f, const void *key, void *next);

#endif /* NICSIM_FW_MAPS_INTERNAL_H */
