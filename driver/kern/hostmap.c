/* SPDX-License-Identifier: MIT */
/*
 * Storage of host (not offloaded) maps in the kernel emulation: enough of the kernel's semantics
 * for user-space element commands on the common types. Array types (array, per-CPU array, prog
 * array, perf event array, devmap, array of maps, cgroup array) are indexed by a u32 key; hash
 * types keep up to max_entries keys in insertion order. Per-CPU maps keep one value (a
 * single-CPU host). Other types (ring buffers, queues, socket maps ...) exist but have no
 * element operations (-EOPNOTSUPP), as their kernel counterparts refuse most of them too.
 *
 * Not yet a store of the map library (maps/, include/nicsim/fw_maps.h, which the driver layer
 * may use): its observable behaviour departs from the kernel's, and from the library's, in ways
 * a conversion would change (issue 9 keeps behaviour as it is):
 *   - an LPM trie is an exact-key hash here (no longest-prefix match);
 *   - hash maps iterate in slot order (a deleted element's slot is reused first), not the
 *     kernel's bucket order;
 *   - a per-CPU map's value is value_size bytes, not round_up(value_size, 8) per CPU;
 *   - its own limits: max_entries <= 2^20, key_size <= 512, value_size <= 64 KiB (-E2BIG), and
 *     none of the kernel's per-type creation checks (map flags, value sizes of fd arrays ...);
 *   - BPF_F_LOCK is ignored; prog arrays, perf event arrays, devmaps and cpumaps store the raw
 *     value and take BPF_NOEXIST / BPF_EXIST (the kernel's fd arrays take BPF_ANY only); a perf
 *     event array's element can be read back (the kernel: -ENOTSUPP);
 *   - deleting past max_entries or an empty slot: -ENOENT for every array type (the kernel: fd
 *     arrays -E2BIG past the end; devmap / cpumap -EINVAL past the end, 0 for an empty slot);
 *   - cgroup arrays and XSK maps have element storage here; the library has neither type.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kern_internal.h"

struct hostmap {
    uint8_t *keys, *vals, *used;
    uint32_t n; /* slots */
};

static int is_array_type(uint32_t t)
{
    switch (t) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_CPUMAP:
    case BPF_MAP_TYPE_XSKMAP:
        return 1;
    default:
        return 0;
    }
}

static int is_hash_type(uint32_t t)
{
    switch (t) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_LPM_TRIE:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
    case BPF_MAP_TYPE_DEVMAP_HASH:
        return 1;
    default:
        return 0;
    }
}

static int is_always_present(uint32_t t)
{
    return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

int nicsim_hostmap_alloc(struct nicsim_bpf_map *map)
{
    struct hostmap *h;
    uint32_t t = map->map_type;

    if (t == BPF_MAP_TYPE_RINGBUF) {
        if (map->key_size || map->value_size || map->max_entries < 4096 ||
            (map->max_entries & (map->max_entries - 1)))
            return -EINVAL;
        return 0;
    }
    if (!map->max_entries || !map->value_size)
        return -EINVAL;
    if (is_array_type(t) && map->key_size != 4)
        return -EINVAL;
    if (is_hash_type(t) && !map->key_size)
        return -EINVAL;
    if (!is_array_type(t) && !is_hash_type(t))
        return 0;
    if (map->max_entries > (1u << 20) || map->key_size > 512 || map->value_size > (1u << 16))
        return -E2BIG;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->n = map->max_entries;
    h->keys = calloc(h->n, map->key_size);
    h->vals = calloc(h->n, map->value_size);
    h->used = calloc(h->n, 1);
    if (!h->keys || !h->vals || !h->used) {
        free(h->keys);
        free(h->vals);
        free(h->used);
        free(h);
        return -ENOMEM;
    }
    if (is_always_present(t))
        memset(h->used, 1, h->n);
    map->host = h;
    return 0;
}

void nicsim_hostmap_free(struct nicsim_bpf_map *map)
{
    struct hostmap *h = map->host;

    if (!h)
        return;
    free(h->keys);
    free(h->vals);
    free(h->used);
    free(h);
    map->host = NULL;
}

static long find(const struct nicsim_bpf_map *map, const struct hostmap *h, const void *key)
{
    if (is_array_type(map->map_type)) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        return idx < h->n && h->used[idx] ? (long)idx : -1;
    }
    for (uint32_t i = 0; i < h->n; i++)
        if (h->used[i] && !memcmp(h->keys + (size_t)i * map->key_size, key, map->key_size))
            return i;
    return -1;
}

int nicsim_hostmap_lookup(struct nicsim_bpf_map *map, const void *key, void *value)
{
    struct hostmap *h = map->host;
    long i;

    if (!h)
        return -EOPNOTSUPP;
    i = find(map, h, key);
    if (i < 0)
        return -ENOENT;
    memcpy(value, h->vals + (size_t)i * map->value_size, map->value_size);
    return 0;
}

int nicsim_hostmap_update(struct nicsim_bpf_map *map, const void *key, const void *value,
                          uint64_t flags)
{
    struct hostmap *h = map->host;
    uint64_t f = flags & ~(uint64_t)BPF_F_LOCK;
    long i;

    if (!h)
        return -EOPNOTSUPP;
    if (f > BPF_EXIST)
        return -EINVAL;
    if (is_array_type(map->map_type)) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        if (idx >= h->n)
            return -E2BIG;
        if (f == BPF_NOEXIST && is_always_present(map->map_type))
            return -EEXIST;
        if (f == BPF_EXIST && !h->used[idx])
            return -ENOENT;
        if (f == BPF_NOEXIST && h->used[idx])
            return -EEXIST;
        memcpy(h->vals + (size_t)idx * map->value_size, value, map->value_size);
        h->used[idx] = 1;
        return 0;
    }
    i = find(map, h, key);
    if (i >= 0 && f == BPF_NOEXIST)
        return -EEXIST;
    if (i < 0 && f == BPF_EXIST)
        return -ENOENT;
    if (i < 0) {
        for (uint32_t j = 0; j < h->n && i < 0; j++)
            if (!h->used[j])
                i = j;
        if (i < 0)
            return -E2BIG;
        memcpy(h->keys + (size_t)i * map->key_size, key, map->key_size);
        h->used[i] = 1;
    }
    memcpy(h->vals + (size_t)i * map->value_size, value, map->value_size);
    return 0;
}

int nicsim_hostmap_delete(struct nicsim_bpf_map *map, const void *key)
{
    struct hostmap *h = map->host;
    long i;

    if (!h)
        return -EOPNOTSUPP;
    if (is_always_present(map->map_type))
        return -EINVAL;
    i = find(map, h, key);
    if (i < 0)
        return -ENOENT;
    h->used[i] = 0;
    return 0;
}

int nicsim_hostmap_get_next(struct nicsim_bpf_map *map, const void *key, void *next)
{
    struct hostmap *h = map->host;
    uint32_t from = 0;

    if (!h)
        return -EOPNOTSUPP;
    if (is_array_type(map->map_type)) {
        uint32_t idx = key ? 0 : UINT32_MAX;

        if (key)
            memcpy(&idx, key, 4);
        if (!key || idx >= h->n)
            idx = 0;
        else if (idx == h->n - 1)
            return -ENOENT;
        else
            idx++;
        memcpy(next, &idx, 4);
        return 0;
    }
    if (key) {
        long i = find(map, h, key);

        from = i < 0 ? 0 : (uint32_t)i + 1;
    }
    for (uint32_t j = from; j < h->n; j++) {
        if (h->used[j]) {
            memcpy(next, h->keys + (size_t)j * map->key_size, map->key_size);
            return 0;
        }
    }
    return -ENOENT;
}
