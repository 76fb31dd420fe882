/* SPDX-License-Identifier: MIT */
/*
 * The firmware's map table: ids, the map-memory budget, the host view of per-CPU values, and the
 * storage behind them.
 *
 * INTERIM: the storage here is a plain table with kernel semantics, standing in until the NIC
 * map library (include/nicsim/fw_maps.h, firmware/maps/) is available; only the store_* functions
 * change when it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"

#define BPF_F_NO_PREALLOC 1u
#define PAGE              4096u

enum {
    T_LRU_HASH = 9,
    T_LPM = 11,
    T_DEVMAP = 14,
    T_QUEUE = 22,
    T_STACK = 23,
    T_DEVMAP_HASH = 25,
    T_BLOOM = 30,
};

struct store {
    uint32_t type, ks, vs, max, ncpu;
    size_t vstore; /* stored bytes per value: vs per core */
    uint8_t *keys, *vals, *used;
    uint32_t qhead, qcount; /* queue / stack */
};

static int is_percpu(uint32_t t)
{
    return t == FW_MAP_PERCPU_HASH || t == FW_MAP_PERCPU_ARRAY || t == FW_MAP_LRU_PERCPU_HASH;
}
static int is_array(uint32_t t)
{
    return t == FW_MAP_ARRAY || t == FW_MAP_PERCPU_ARRAY || t == FW_MAP_PROG_ARRAY ||
           t == FW_MAP_PERF_EVENT_ARRAY || t == T_DEVMAP || t == FW_MAP_ARRAY_OF_MAPS;
}
static int is_fd_array(uint32_t t)
{
    return t == FW_MAP_PROG_ARRAY || t == FW_MAP_PERF_EVENT_ARRAY || t == T_DEVMAP ||
           t == FW_MAP_ARRAY_OF_MAPS;
}
static int is_hash(uint32_t t)
{
    return t == FW_MAP_HASH || t == FW_MAP_PERCPU_HASH || t == T_LRU_HASH ||
           t == FW_MAP_LRU_PERCPU_HASH || t == T_LPM || t == T_DEVMAP_HASH ||
           t == FW_MAP_HASH_OF_MAPS;
}
static int is_keyless(uint32_t t)
{
    return t == T_QUEUE || t == T_STACK || t == T_BLOOM;
}

uint64_t fw_maps_types(void)
{
    uint64_t m = 0;

    for (uint32_t t = 1; t < 64; t++)
        if (is_array(t) || is_hash(t) || is_keyless(t) || t == FW_MAP_RINGBUF)
            m |= 1ull << t;
    return m;
}

/* ---- Storage (to be replaced by the map library). */
static void store_free(struct store *s)
{
    if (!s)
        return;
    free(s->keys);
    free(s->vals);
    free(s->used);
    free(s);
}

static struct store *store_new(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t ncpu)
{
    struct store *s = calloc(1, sizeof(*s));
    size_t slots = type == FW_MAP_RINGBUF ? 0 : max;

    if (!s)
        return NULL;
    s->type = type;
    s->ks = ks;
    s->vs = vs;
    s->max = max;
    s->ncpu = is_percpu(type) ? ncpu : 1;
    s->vstore = (size_t)vs * s->ncpu;
    s->keys = calloc(slots ? slots : 1, ks ? ks : 1);
    s->vals = calloc(slots ? slots : 1, s->vstore ? s->vstore : 1);
    s->used = calloc(slots ? slots : 1, 1);
    if (!s->keys || !s->vals || !s->used) {
        store_free(s);
        return NULL;
    }
    if (type == FW_MAP_ARRAY || type == FW_MAP_PERCPU_ARRAY)
        memset(s->used, 1, slots);
    return s;
}

static long store_find(const struct store *s, const void *key)
{
    for (uint32_t i = 0; i < s->max; i++)
        if (s->used[i] && !memcmp(s->keys + (size_t)i * s->ks, key, s->ks))
            return i;
    return -1;
}

/* Slot of `key` for a read, or -errno. */
static long store_slot(const struct store *s, const void *key)
{
    if (is_array(s->type)) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        if (idx >= s->max || !s->used[idx])
            return -ENOENT;
        return idx;
    }
    if (is_hash(s->type)) {
        long i = store_find(s, key);

        return i < 0 ? -ENOENT : i;
    }
    return -EINVAL;
}

/* ---------------------------------------------------------------------------------------------
 * Firmware side.
 */
#define stores ((struct store **)fw->map_store)

int fw_maps_init(struct nicsim_fw *fw)
{
    fw->map_store = calloc((size_t)fw->max_maps + 1u, sizeof(struct store *));
    return fw->map_store ? 0 : -ENOMEM;
}

void fw_maps_fini(struct nicsim_fw *fw)
{
    if (!fw->map_store)
        return;
    for (uint32_t i = 0; i <= fw->max_maps; i++)
        store_free(stores[i]);
    free(fw->map_store);
    fw->map_store = NULL;
}

uint64_t fw_maps_mem_used(const struct nicsim_fw *fw)
{
    uint64_t sum = 0;

    for (uint32_t i = 1; i <= fw->max_maps; i++)
        if (fw->map_ent[i].used)
            sum += fw->map_ent[i].mem;
    return sum;
}

const struct fw_map_ent *fw_map_get(const struct nicsim_fw *fw, uint32_t id)
{
    if (!id || id > fw->max_maps || !fw->map_ent[id].used)
        return NULL;
    return &fw->map_ent[id];
}

size_t fw_map_host_value_size(const struct nicsim_fw *fw, uint32_t id)
{
    const struct fw_map_ent *m = fw_map_get(fw, id);

    if (!m)
        return 0;
    return is_percpu(m->type) ? fw_round8(m->value_size) * fw->n_cores : m->value_size;
}

#define FAIL(err, ...)                                                                             \
    do {                                                                                           \
        snprintf(msg, msg_len, __VA_ARGS__);                                                       \
        return (err);                                                                              \
    } while (0)

int fw_map_create(struct nicsim_fw *fw, const struct nicsim_cmsg_map_alloc *a, uint32_t *id,
                  uint64_t *mem, char *msg, size_t msg_len)
{
    uint32_t t = a->type, ks = a->key_size, vs = a->value_size, max = a->max_entries;
    uint64_t charge;
    struct store *s;
    uint32_t slot = 0;

    if (!is_array(t) && !is_hash(t) && !is_keyless(t) && t != FW_MAP_RINGBUF)
        FAIL(-EINVAL, "map type %u is not supported by the NIC", t);
    if (!max)
        FAIL(-EINVAL, "max_entries must not be 0");
    if (is_array(t) && ks != 4)
        FAIL(-EINVAL, "array maps have 4-byte keys, not %u", ks);
    if (is_fd_array(t) && vs != 4 && !(t == T_DEVMAP && vs == 8))
        FAIL(-EINVAL, "map type %u holds 4-byte ids, not %u-byte values", t, vs);
    if (is_hash(t) && !ks)
        FAIL(-EINVAL, "hash maps need a key");
    if (is_keyless(t) && ks)
        FAIL(-EINVAL, "map type %u takes no key (key size %u)", t, ks);
    if (t == T_LPM && (ks < 5 || ks > 260 || !(a->map_flags & BPF_F_NO_PREALLOC)))
        FAIL(-EINVAL, "LPM trie: key size 5..260 and BPF_F_NO_PREALLOC needed");
    if (t == FW_MAP_RINGBUF) {
        if (ks || vs || max < PAGE || (max & (max - 1)))
            FAIL(-EINVAL, "ring buffer: key and value size 0, size a power of 2 >= %u", PAGE);
    } else if (!vs) {
        FAIL(-EINVAL, "value size must not be 0");
    }
    if ((t == FW_MAP_ARRAY_OF_MAPS || t == FW_MAP_HASH_OF_MAPS) &&
        (vs != 4 || !fw_map_get(fw, a->inner_map_id)))
        FAIL(-EINVAL, "map-in-map: 4-byte values and an existing inner map (%u) needed",
             a->inner_map_id);
    if (t == FW_MAP_RINGBUF)
        charge = max;
    else
        charge = (uint64_t)max * (fw_round8(ks) + fw_round8(vs) * (is_percpu(t) ? fw->n_cores : 1));
    charge += 64;
    if (charge > fw->map_mem - fw_maps_mem_used(fw))
        FAIL(-ENOMEM, "map needs %llu bytes, %llu of %llu left", (unsigned long long)charge,
             (unsigned long long)(fw->map_mem - fw_maps_mem_used(fw)),
             (unsigned long long)fw->map_mem);
    for (uint32_t i = 1; i <= fw->max_maps && !slot; i++)
        if (!fw->map_ent[i].used)
            slot = i;
    if (!slot)
        FAIL(-ENOSPC, "no free map id");
    s = store_new(t, ks, vs, max, fw->n_cores);
    if (!s)
        FAIL(-ENOMEM, "no firmware memory");
    stores[slot] = s;
    fw->map_ent[slot] = (struct fw_map_ent){.type = t,
                                            .key_size = ks,
                                            .value_size = vs,
                                            .max_entries = max,
                                            .flags = a->map_flags,
                                            .mem = charge,
                                            .used = 1};
    fw->n_maps++;
    *id = slot;
    *mem = charge;
    return 0;
}

int fw_map_destroy(struct nicsim_fw *fw, uint32_t id)
{
    if (!fw_map_get(fw, id))
        return -ENOENT;
    store_free(stores[id]);
    stores[id] = NULL;
    memset(&fw->map_ent[id], 0, sizeof(fw->map_ent[id]));
    fw->n_maps--;
    return 0;
}

/* host view <-> stored value */
static void to_host(const struct store *s, const uint8_t *v, uint8_t *out)
{
    if (s->ncpu == 1) {
        memcpy(out, v, s->vs);
        return;
    }
    for (uint32_t c = 0; c < s->ncpu; c++) {
        memset(out + c * fw_round8(s->vs), 0, fw_round8(s->vs));
        memcpy(out + c * fw_round8(s->vs), v + (size_t)c * s->vs, s->vs);
    }
}

static void from_host(const struct store *s, const uint8_t *in, uint8_t *v)
{
    if (s->ncpu == 1) {
        memcpy(v, in, s->vs);
        return;
    }
    for (uint32_t c = 0; c < s->ncpu; c++)
        memcpy(v + (size_t)c * s->vs, in + c * fw_round8(s->vs), s->vs);
}

int fw_map_lookup(struct nicsim_fw *fw, uint32_t id, const void *key, void *value, int and_delete,
                  char *msg, size_t msg_len)
{
    struct store *s = fw_map_get(fw, id) ? stores[id] : NULL;
    long i;

    if (!s)
        FAIL(-ENOENT, "no map %u", id);
    if (s->type == FW_MAP_RINGBUF)
        FAIL(-EOPNOTSUPP, "ring buffers have no elements to look up");
    if (s->type == T_QUEUE || s->type == T_STACK) {
        uint32_t at;

        if (!s->qcount)
            FAIL(-ENOENT, "empty");
        at = s->type == T_QUEUE ? s->qhead : (s->qhead + s->qcount - 1) % s->max;
        memcpy(value, s->vals + (size_t)at * s->vs, s->vs);
        if (and_delete) {
            if (s->type == T_QUEUE)
                s->qhead = (s->qhead + 1) % s->max;
            s->qcount--;
        }
        return 0;
    }
    if (s->type == T_BLOOM)
        FAIL(-EOPNOTSUPP, "bloom filters answer membership only");
    if (and_delete && !is_hash(s->type))
        FAIL(-EOPNOTSUPP, "lookup-and-delete is for hash, queue and stack maps");
    i = store_slot(s, key);
    if (i < 0)
        FAIL((int)i, "no such element");
    to_host(s, s->vals + (size_t)i * s->vstore, value);
    if (and_delete)
        s->used[i] = 0;
    return 0;
}

int fw_map_update(struct nicsim_fw *fw, uint32_t id, const void *key, const void *value,
                  uint64_t flags, char *msg, size_t msg_len)
{
    struct store *s = fw_map_get(fw, id) ? stores[id] : NULL;
    uint64_t f = flags & ~4ull;
    long i;

    if (!s)
        FAIL(-ENOENT, "no map %u", id);
    if (s->type == FW_MAP_RINGBUF)
        FAIL(-EOPNOTSUPP, "ring buffers are not updated from the host");
    if (s->type == T_QUEUE || s->type == T_STACK || s->type == T_BLOOM) {
        if (s->qcount == s->max) {
            if (f != 2 || s->type == T_BLOOM)
                FAIL(-E2BIG, "full");
            s->qhead = (s->qhead + 1) % s->max;
            s->qcount--;
        }
        memcpy(s->vals + (size_t)((s->qhead + s->qcount) % s->max) * s->vs, value, s->vs);
        s->qcount++;
        return 0;
    }
    if ((s->type == FW_MAP_ARRAY_OF_MAPS || s->type == FW_MAP_HASH_OF_MAPS)) {
        uint32_t inner;

        memcpy(&inner, value, 4);
        if (!fw_map_get(fw, inner))
            FAIL(-EINVAL, "inner map %u does not exist", inner);
    }
    if (is_array(s->type)) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        if (idx >= s->max)
            FAIL(-E2BIG, "index %u is beyond the %u entries", idx, s->max);
        if (f == 1 && (s->type == FW_MAP_ARRAY || s->type == FW_MAP_PERCPU_ARRAY))
            FAIL(-EEXIST, "array elements always exist");
        from_host(s, value, s->vals + (size_t)idx * s->vstore);
        s->used[idx] = 1;
        return 0;
    }
    i = store_find(s, key);
    if (i >= 0 && f == 1)
        FAIL(-EEXIST, "element exists");
    if (i < 0 && f == 2)
        FAIL(-ENOENT, "no such element");
    if (i < 0) {
        for (uint32_t j = 0; j < s->max && i < 0; j++)
            if (!s->used[j])
                i = j;
        if (i < 0 && (s->type == T_LRU_HASH || s->type == FW_MAP_LRU_PERCPU_HASH))
            i = 0; /* evict */
        if (i < 0)
            FAIL(-E2BIG, "map is full (%u entries)", s->max);
        memcpy(s->keys + (size_t)i * s->ks, key, s->ks);
        s->used[i] = 1;
    }
    from_host(s, value, s->vals + (size_t)i * s->vstore);
    return 0;
}

int fw_map_delete(struct nicsim_fw *fw, uint32_t id, const void *key, char *msg, size_t msg_len)
{
    struct store *s = fw_map_get(fw, id) ? stores[id] : NULL;
    long i;

    if (!s)
        FAIL(-ENOENT, "no map %u", id);
    if (s->type == FW_MAP_ARRAY || s->type == FW_MAP_PERCPU_ARRAY || is_keyless(s->type) ||
        s->type == FW_MAP_RINGBUF)
        FAIL(-EINVAL, "elements of map type %u cannot be deleted", s->type);
    i = store_slot(s, key);
    if (i < 0)
        FAIL((int)i, "no such element");
    s->used[i] = 0;
    return 0;
}

int fw_map_get_next(struct nicsim_fw *fw, uint32_t id, const void *key, void *next, char *msg,
                    size_t msg_len)
{
    struct store *s = fw_map_get(fw, id) ? stores[id] : NULL;
    uint32_t from = 0;

    if (!s)
        FAIL(-ENOENT, "no map %u", id);
    if (is_keyless(s->type) || s->type == FW_MAP_RINGBUF)
        FAIL(-EINVAL, "map type %u cannot be iterated", s->type);
    if (is_array(s->type)) {
        uint32_t idx = 0, nx;

        if (key)
            memcpy(&idx, key, 4);
        if (!key || idx >= s->max)
            nx = 0;
        else if (idx == s->max - 1)
            FAIL(-ENOENT, "last index");
        else
            nx = idx + 1;
        memcpy(next, &nx, 4);
        return 0;
    }
    if (key) {
        long i = store_find(s, key);

        from = i < 0 ? 0 : (uint32_t)i + 1;
    }
    for (uint32_t j = from; j < s->max; j++)
        if (s->used[j]) {
            memcpy(next, s->keys + (size_t)j * s->ks, s->ks);
            return 0;
        }
    FAIL(-ENOENT, "no more keys");
}
