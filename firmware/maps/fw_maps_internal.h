/* SPDX-License-Identifier: MIT */
/*
 * NIC map library internals shared by its translation units: the map object, the hash table
 * (kernel/bpf/hashtab.c's bucket layout), the LRU lists (kernel/bpf/bpf_lru_list.c) and the LPM
 * trie (kernel/bpf/lpm_trie.c).
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

int fm_lru_init(struct fm_lru *lru, int percpu, uint32_t n_nodes, uint32_t n_cpus,
                int (*del)(void *, uint32_t), void *arg);
void fm_lru_fini(struct fm_lru *lru);
/* bpf_lru_pop_free from `cpu`: a free node (now pending / inactive) or FM_NIL. */
uint32_t fm_lru_pop_free(struct fm_lru *lru, uint32_t cpu);
void fm_lru_push_free(struct fm_lru *lru, uint32_t node);
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

uint32_t fm_jhash(const void *key, uint32_t len, uint32_t seed);
uint32_t fm_jhash2(const void *k, uint32_t n_words, uint32_t seed); /* over 32-bit words */
uint32_t fm_htab_hash(const struct fm_htab *h, const void *key);
int fm_htab_init(struct fm_htab *h, uint32_t n_elems, uint32_t key_size, uint32_t seed,
                 int identity, int lru, int percpu_lru, uint32_t n_cpus);
void fm_htab_fini(struct fm_htab *h);
uint32_t fm_htab_find(const struct fm_htab *h, const void *key, uint32_t hash);
void fm_htab_link_head(struct fm_htab *h, uint32_t e, uint32_t hash);
void fm_htab_unlink(struct fm_htab *h, uint32_t e);
uint32_t fm_htab_alloc(struct fm_htab *h);           /* non-LRU: a free element or FM_NIL */
void fm_htab_release(struct fm_htab *h, uint32_t e); /* non-LRU */
int fm_htab_next_key(const struct fm_htab *h, const void *key, void *next);

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

int fm_lpm_init(struct fm_lpm *t, uint32_t key_size, uint32_t max_entries);
void fm_lpm_fini(struct fm_lpm *t);
/* Value slot of the longest prefix match, FM_NIL when none. */
uint32_t fm_lpm_lookup(const struct fm_lpm *t, const uint8_t *key);
/* Exact match; 0 and *slot, or -errno. */
int fm_lpm_update(struct fm_lpm *t, const uint8_t *key, uint64_t flags, uint32_t *slot);
int fm_lpm_delete(struct fm_lpm *t, const uint8_t *key, uint32_t *slot);
int fm_lpm_next_key(const struct fm_lpm *t, const uint8_t *key, uint8_t *next);

/* ---- A map. */
struct fm_map {
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

/* ---- Per-type operations (the kernel's struct bpf_map_ops), one entry per supported type. */
struct fm_map;
struct fm_map_ops {
    const char *name; /* in messages: "hash", "per-CPU array", ... */
    /* Creation checks of this type: its map_alloc_check and the NIC's limits. */
    int (*check)(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len);
    /* Bytes charged to the budget for a map of this geometry; -E2BIG past 64 bits. */
    int (*mem)(const struct fm_map *f, uint64_t *mem);
    /* bpf(2) BPF_MAP_LOOKUP_ELEM: the host's view of the value (all CPUs' slices). */
    int (*lookup)(struct fm_map *f, const void *key, void *value);
    /* bpf(2) BPF_MAP_DELETE_ELEM. */
    int (*del)(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
};

/* The operations of a map type; NULL when the NIC does not support it. */
const struct fm_map_ops *fm_ops(uint32_t type);

/* A 4-byte key or value field as u32 (array index, devmap ifindex, cpumap qsize). */
static inline uint32_t fm_key_u32(const void *key)
{
    uint32_t v;

    memcpy(&v, key, 4);
    return v;
}

/* ---- devmap, devmap hash (fw_maps_devmap.c) */
/* A devmap value (struct bpf_devmap_val, 4 or 8 bytes) as stored: ifindex, bpf_prog.id 0. */
int fm_devmap_value(struct fm_map *f, const void *value, uint8_t *out);
int fm_devhash_update(struct fm_map *f, const void *key, const void *value, uint64_t flags);

/* ---- cpumap (fw_maps_cpumap.c) */
int fm_cpumap_update(struct fm_map *f, const void *key, const void *value, uint64_t flags);

/* ---- queue / stack (fw_maps_qs.c) */
int fm_qs_push(struct fm_map *f, const void *value, uint64_t flags);
int fm_qs_peek_pop(struct fm_map *f, void *value, int pop);

/* ---- bloom filter (fw_maps_bloom.c) */
void fm_bloom_size(struct fm_map *f, uint64_t map_extra);
int fm_bloom_push(struct fm_map *f, const void *value, uint64_t flags);
int fm_bloom_peek(const struct fm_map *f, const void *value);

#endif /* NICSIM_FW_MAPS_INTERNAL_H */
