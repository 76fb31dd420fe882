/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: the hash maps (kernel/bpf/hashtab.c): hash, per-CPU hash, LRU hash, LRU
 * per-CPU hash, hash of maps, over the bucket table of fw_maps_hash.c and, for the LRU types, the
 * lists of fw_maps_lru.c. Elements are preallocated (max_entries of them); the value of element e
 * lives in place at e * value_stride.
 *
 * Limits (htab_map_alloc_check and htab_map_alloc, with the NIC's):
 *   key_size, value_size, max_entries > 0; key_size + value_size < KMALLOC_MAX_SIZE - 48;
 *   map_flags within HTAB_CREATE_FLAG_MASK; BPF_F_NO_COMMON_LRU for LRU types only; LRU types
 *   preallocated (BPF_F_NO_PREALLOC: -ENOTSUPP); no NUMA node for per-CPU maps;
 *   per-CPU values round_up(value_size, 8) <= 32 KiB;
 *   hash of maps: value_size 4 (an inner map id), an inner map template (fw_maps.c);
 *   LRU with BPF_F_NO_COMMON_LRU: max_entries rounded up to a multiple of the NIC's CPUs;
 *   then at most 2^31 elements (-E2BIG); value memory <= 4 GiB - 1 (the core).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

#define HTAB_ELEM_SIZE 48u /* sizeof(struct htab_elem) */
#define HTAB_CREATE_FLAG_MASK                                                                      \
    (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | FM_ACCESS_MASK | BPF_F_ZERO_SEED)

static int is_lru(uint32_t t)
{
    return t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int htab_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    int percpu = nicsim_map_type_is_percpu(a->type), lru = is_lru(a->type);

    if ((a->flags & ~HTAB_CREATE_FLAG_MASK) || !fm_access_ok(a->flags))
        FAIL(-EINVAL, "map_flags 0x%x are not valid for a hash map", a->flags);
    if (!lru && (a->flags & BPF_F_NO_COMMON_LRU))
        FAIL(-EINVAL, "BPF_F_NO_COMMON_LRU is for LRU hash maps only");
    if (lru && (a->flags & BPF_F_NO_PREALLOC))
        FAIL(-NICSIM_ENOTSUPP, "LRU hash maps are always preallocated (BPF_F_NO_PREALLOC refused)");
    if ((a->flags & BPF_F_NUMA_NODE) && (percpu || (a->flags & BPF_F_NO_COMMON_LRU)))
        FAIL(-EINVAL, "per-CPU maps take no NUMA node");
    if (!a->max_entries || !a->key_size || !a->value_size)
        FAIL(-EINVAL, "key_size (%u), value_size (%u) and max_entries (%u) must not be 0",
             a->key_size, a->value_size, a->max_entries);
    if ((uint64_t)a->key_size + a->value_size >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE)
        FAIL(-E2BIG, "key_size + value_size (%llu) is too large",
             (unsigned long long)a->key_size + a->value_size);
    if (percpu && nicsim_round8(a->value_size) > PCPU_MIN_UNIT_SIZE)
        FAIL(-E2BIG, "per-CPU values are limited to %u bytes, not %u", PCPU_MIN_UNIT_SIZE,
             a->value_size);
    return 0;
}

static int hash_of_maps_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size != 4)
        FAIL(-EINVAL, "hash of maps holds 4-byte ids, not %u-byte values", a->value_size);
    return htab_check(a, msg, msg_len); /* max_entries: htab_geometry, after LRU rounding */
}

static int htab_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                         uint64_t *n_slots, char *msg, size_t msg_len)
{
    if (is_lru(f->type) && (f->flags & BPF_F_NO_COMMON_LRU)) {
        /* htab_map_alloc: roundup(max_entries, CPUs), rounddown when that passes u32 */
        uint64_t up = ((uint64_t)f->max_entries + m->n_cpus - 1) / m->n_cpus * m->n_cpus;

        f->max_entries = up > UINT32_MAX ? f->max_entries / m->n_cpus * m->n_cpus : (uint32_t)up;
    }
    if (f->max_entries > FM_HTAB_MAX_ENTRIES)
        FAIL(-E2BIG, "max_entries %u is more than a hash table's %u", f->max_entries,
             FM_HTAB_MAX_ENTRIES);
    return nicsim_fm_geometry_entries(m, f, map_extra, n_slots, msg, msg_len);
}

/* every map 64, + 8 * B + N * (32 + round8(key) + S) */
static int htab_mem(const struct fm_map *f, uint64_t *mem)
{
    uint64_t per = 32 + nicsim_round8(f->key_size) + f->stride, x;
    int err = fm_size(fm_roundup_pow2(f->max_entries), 8, 64, &x);

    return err ? err : fm_size(f->max_entries, per, x, mem);
}

static int htab_alloc(const struct nicsim_fw_maps *m, struct fm_map *f)
{
    uint32_t seed = (f->flags & BPF_F_ZERO_SEED) ? 0 : m->hash_seed;
    int err;

    f->h = calloc(1, sizeof(*f->h));
    err = f->h ? nicsim_fm_htab_init(f->h, f->max_entries, f->key_size, seed, 0, is_lru(f->type),
                                     !!(f->flags & BPF_F_NO_COMMON_LRU), m->n_cpus)
               : -ENOMEM;
    if (err) {
        free(f->h);
        f->h = NULL;
    }
    return err;
}

void nicsim_fm_htab_free(struct fm_map *f)
{
    if (f->h) {
        nicsim_fm_htab_fini(f->h);
        free(f->h);
    }
}

uint32_t nicsim_fm_htab_count(const struct fm_map *f)
{
    return f->h->count;
}

/* (LRU: a host lookup does not mark the element) */
int nicsim_fm_htab_lookup(struct fm_map *f, const void *key, void *value)
{
    uint32_t e = nicsim_fm_htab_find(f->h, key, nicsim_fm_htab_hash(f->h, key));

    if (e == FM_NIL)
        return -ENOENT;
    nicsim_fm_val_out(f, e, value);
    return 0;
}

int nicsim_fm_htab_get_next_key(struct fm_map *f, const void *key, void *next)
{
    return nicsim_fm_htab_next_key(f->h, key, next);
}

static int check_flags(uint32_t found, uint64_t flags)
{
    if (found != FM_NIL && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_NOEXIST)
        return -EEXIST;
    if (found == FM_NIL && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_EXIST)
        return -ENOENT;
    return 0;
}

/* htab_lru_map_update_elem: the new node comes off the LRU first (it may evict), then the flags
 * are checked */
static int lru_hash_update(struct fm_map *f, const void *key, const void *value, uint64_t flags,
                           struct fm_src s)
{
    struct fm_htab *h = f->h;
    uint32_t hash = nicsim_fm_htab_hash(h, key), old, e;
    int err;

    if (flags > BPF_EXIST)
        return -EINVAL;
    e = nicsim_fm_lru_pop_free(&h->lru_lists, s.cpu);
    if (e == FM_NIL)
        return -ENOMEM;
    memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
    nicsim_fm_val_write(f, e, s, value, 1);
    old = nicsim_fm_htab_find(h, key, hash);
    err = check_flags(old, flags);
    if (err) {
        nicsim_fm_lru_push_free(&h->lru_lists, e);
        return err;
    }
    nicsim_fm_htab_link_head(h, e, hash);
    if (old != FM_NIL) {
        fm_lru_set_ref(&h->lru_lists, e);
        nicsim_fm_htab_unlink(h, old);
        nicsim_fm_lru_push_free(&h->lru_lists, old);
    }
    return 0;
}

/* __htab_lru_percpu_map_update_elem: a present element is updated in place */
static int lru_percpu_hash_update(struct fm_map *f, const void *key, const void *value,
                                  uint64_t flags, struct fm_src s)
{
    struct fm_htab *h = f->h;
    uint32_t hash = nicsim_fm_htab_hash(h, key), old, e = FM_NIL;
    int err;

    if (flags > BPF_EXIST)
        return -EINVAL;
    if (flags != BPF_EXIST) {
        e = nicsim_fm_lru_pop_free(&h->lru_lists, s.cpu);
        if (e == FM_NIL)
            return -ENOMEM;
        memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
    }
    old = nicsim_fm_htab_find(h, key, hash);
    err = check_flags(old, flags);
    if (!err && old != FM_NIL) {
        fm_lru_set_ref(&h->lru_lists, old);
        nicsim_fm_val_write(f, old, s, value, 0);
    } else if (!err) {
        nicsim_fm_val_write(f, e, s, value, 1);
        nicsim_fm_htab_link_head(h, e, hash);
        e = FM_NIL;
    }
    if (e != FM_NIL)
        nicsim_fm_lru_push_free(&h->lru_lists, e);
    return err;
}

static int htab_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                       const void *value, uint64_t flags, struct fm_src s)
{
    struct fm_htab *h = f->h;
    uint32_t hash, old, e;
    int err;

    if (f->type == BPF_MAP_TYPE_LRU_HASH)
        return lru_hash_update(f, key, value, flags, s);
    if (f->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
        return lru_percpu_hash_update(f, key, value, flags, s);
    hash = nicsim_fm_htab_hash(h, key);
    if (f->type == BPF_MAP_TYPE_HASH) {
        if ((flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST)
            return -EINVAL;
        if (flags & BPF_F_LOCK)
            return -EINVAL; /* no bpf_spin_lock in the value */
    } else if (flags > BPF_EXIST) {
        return -EINVAL;
    }
    if (f->ops->holds_maps && !nicsim_fm_inner_ok(m, f, fm_key_u32(value)))
        return -EINVAL;
    old = nicsim_fm_htab_find(h, key, hash);
    err = check_flags(old, flags);
    if (err)
        return err;
    if (old != FM_NIL) {
        uint32_t held = 0;

        if (f->ops->holds_maps) { /* the new inner map first: it may be the same */
            memcpy(&held, fm_slot_val(f, old), 4);
            nicsim_fm_inner_ref(m, fm_key_u32(value));
        }
        nicsim_fm_val_write(f, old, s, value, 0);
        nicsim_fm_inner_put(m, held);
        if (f->type == BPF_MAP_TYPE_HASH) { /* the replacement goes to the head of its bucket */
            nicsim_fm_htab_unlink(h, old);
            nicsim_fm_htab_link_head(h, old, hash);
        }
        return 0;
    }
    e = nicsim_fm_htab_alloc(h);
    if (e == FM_NIL)
        return -E2BIG;
    memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
    nicsim_fm_val_write(f, e, s, value, 1);
    nicsim_fm_htab_link_head(h, e, hash);
    if (f->ops->holds_maps)
        nicsim_fm_inner_ref(m, fm_key_u32(value));
    return 0;
}

static int htab_lookup_and_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                                  void *value_out)
{
    struct fm_htab *h = f->h;
    uint32_t e = nicsim_fm_htab_find(h, key, nicsim_fm_htab_hash(h, key)), held = 0;

    if (e == FM_NIL)
        return -ENOENT;
    if (value_out)
        nicsim_fm_val_out(f, e, value_out);
    if (f->ops->holds_maps)
        memcpy(&held, fm_slot_val(f, e), 4);
    nicsim_fm_htab_unlink(h, e);
    if (h->lru)
        nicsim_fm_lru_push_free(&h->lru_lists, e);
    else
        nicsim_fm_htab_release(h, e);
    nicsim_fm_inner_put(m, held);
    return 0;
}

static int htab_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return htab_lookup_and_delete(m, f, key, NULL);
}

/* a program's lookup marks an LRU element referenced */
static int htab_prog_slot(struct fm_map *f, const void *key, uint32_t *slot)
{
    *slot = nicsim_fm_htab_find(f->h, key, nicsim_fm_htab_hash(f->h, key));
    if (*slot == FM_NIL)
        return -ENOENT;
    if (f->h->lru)
        fm_lru_set_ref(&f->h->lru_lists, *slot);
    return 0;
}

/* hash of maps */
static void hash_of_maps_drop_inner(struct nicsim_fw_maps *m, struct fm_map *f)
{
    uint32_t id;

    for (uint32_t e = 0; e < f->h->n_elems; e++)
        if (f->h->in_htab[e]) {
            memcpy(&id, f->vals + (size_t)e * f->stride, 4);
            nicsim_fm_inner_put(m, id);
        }
}

static int hash_of_maps_map_slot(struct fm_map *f, const void *key, uint32_t *slot)
{
    *slot = nicsim_fm_htab_find(f->h, key, nicsim_fm_htab_hash(f->h, key));
    return *slot == FM_NIL ? -ENOENT : 0;
}

/* The plain, per-CPU and LRU hashes share every operation (per-CPU values and LRU eviction
 * follow from the map's type inside them); only the name differs. */
#define HTAB_OPS(var, type_name)                                                                  \
    const struct fm_map_ops var = {                                                               \
        .name = type_name,                                                                        \
        .value_mem = 1,                                                                           \
        .prog_write = 1,                                                                          \
        .check = htab_check,                                                                      \
        .geometry = htab_geometry,                                                                \
        .mem = htab_mem,                                                                          \
        .alloc = htab_alloc,                                                                      \
        .free = nicsim_fm_htab_free,                                                              \
        .count = nicsim_fm_htab_count,                                                            \
        .lookup = nicsim_fm_htab_lookup,                                                          \
        .lookup_and_delete = htab_lookup_and_delete,                                              \
        .update = htab_update,                                                                    \
        .del = htab_delete,                                                                       \
        .get_next_key = nicsim_fm_htab_get_next_key,                                              \
        .prog_slot = htab_prog_slot,                                                              \
    }

HTAB_OPS(nicsim_fm_hash_ops, "hash");
HTAB_OPS(nicsim_fm_percpu_hash_ops, "per-CPU hash");
HTAB_OPS(nicsim_fm_lru_hash_ops, "LRU hash");
HTAB_OPS(nicsim_fm_lru_percpu_hash_ops, "LRU per-CPU hash");

const struct fm_map_ops nicsim_fm_hash_of_maps_ops = {
    .name = "hash of maps",
    .value_mem = 1,
    .prog_write = 1,
    .holds_maps = 1,
    .einval_why = "the value is not a map like the template (or the flags are wrong)",
    .check = hash_of_maps_check,
    .geometry = htab_geometry,
    .mem = htab_mem,
    .alloc = htab_alloc,
    .free = nicsim_fm_htab_free,
    .drop_inner = hash_of_maps_drop_inner,
    .count = nicsim_fm_htab_count,
    .lookup = nicsim_fm_htab_lookup,
    .update = htab_update,
    .del = htab_delete,
    .get_next_key = nicsim_fm_htab_get_next_key,
    .prog_slot = htab_prog_slot,
    .map_slot = hash_of_maps_map_slot,
};
