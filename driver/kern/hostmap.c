/* SPDX-License-Identifier: MIT */
/*
 * Host (not offloaded) maps of the kernel emulation: instances of the map library (maps/,
 * include/nicsim/fw_maps.h), the one implementation of the kernel's map semantics that the NIC's
 * maps use too. Each emulated kernel keeps one host store (nicsim_kern.hostmaps, created with its
 * first host map); a host map is the store's map of the same id as the kernel's map id, so that
 * an array / hash of maps holds its inner maps by the ids user space reads back. What the store
 * gives host maps is the kernel's: each type's creation checks and limits, the kernel's hash
 * table order, LPM longest-prefix match, per-CPU values of round_up(value_size, 8) bytes per CPU,
 * the fd arrays' rules (BPF_ANY only, -E2BIG past the end, perf event and cgroup arrays not
 * readable), BPF_F_LOCK refused (no map here has a bpf_spin_lock: -EINVAL), the -ENOENT rules.
 *
 * Host store settings: one CPU (the emulated host runs programs on one CPU: a per-CPU value is
 * round_up(value_size, 8) bytes), hash seed 0 (deterministic iteration; the kernel's is random
 * unless BPF_F_ZERO_SEED). A map's size is limited by the kernel's per-type limits and the
 * library's (a map's value memory at most 4 GiB - 1, an LPM trie at most 2^30 prefixes: -E2BIG);
 * the memory the kernel could allocate stands at HOSTMAP_MEM bytes for all host maps together
 * (the library's charge, fw_maps.c): past it -ENOMEM, as the kernel's failing bpf_map_area_alloc
 * (not the NIC's map memory). Ids are capped at 2^24 (the library's).
 * An array / hash of maps is created from its template's attributes (bpf_map_meta_alloc's copy,
 * nicsim_bpf_map.inner_map_meta); kern.c keeps the reference counts of the maps it holds.
 *
 * The types the library has no ops for (stack trace, socket maps, the storage maps, struct_ops,
 * user ring buffer, ...) are a special case here: created with max_entries and value_size
 * non-zero (-EINVAL), no per-type checks, no elements (every element operation -EOPNOTSUPP).
 *
 * A refused user-space call (say = true) leaves the library's sentence, prefixed with the map's
 * name, in nicsim_kern_last_error; kern.c's own walks of outer maps pass say = false.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kern_internal.h"
#include "nicsim/fw_maps.h"

#define HOSTMAP_MAX_ID (1u << 24)
#define HOSTMAP_MEM    (1ull << 30) /* bytes of map memory of all host maps of a kernel */

struct hostmap {
    struct nicsim_fw_maps *store;
    uint32_t id; /* in the store: the kernel's map id */
};

static struct nicsim_fw_maps *host_store(struct nicsim_kern *k)
{
    if (!k->hostmaps) {
        struct nicsim_fw_maps_opts o = {.sz = sizeof(o),
                                        .n_cpus = 1,
                                        .mem_budget = HOSTMAP_MEM,
                                        .max_id = HOSTMAP_MAX_ID,
                                        .host = 1};

        k->hostmaps = nicsim_fw_maps__new(&o);
    }
    return k->hostmaps;
}

void nicsim_hostmap_fini(struct nicsim_kern *k)
{
    nicsim_fw_maps__free(k->hostmaps);
    k->hostmaps = NULL;
}

static void say_err(const struct nicsim_bpf_map *map, uint32_t id, const char *msg)
{
    if (map->name[0])
        nicsim_kern_set_error(map->kern, "map %s: %s", map->name, msg);
    else
        nicsim_kern_set_error(map->kern, "map %u: %s", id, msg);
}

int nicsim_hostmap_alloc(struct nicsim_bpf_map *map, uint32_t id)
{
    const struct nicsim_bpf_map *meta = map->inner_map_meta;
    struct nicsim_fw_map_attr a = {.type = map->map_type,
                                   .key_size = map->key_size,
                                   .value_size = map->value_size,
                                   .max_entries = map->max_entries,
                                   .flags = map->map_flags};
    struct nicsim_fw_maps *store;
    struct hostmap *h;
    char msg[NICSIM_MSG_MAX];
    int err;

    if (!nicsim_fw_maps__type_supported(map->map_type) &&
        map->map_type != BPF_MAP_TYPE_CGROUP_ARRAY && map->map_type != BPF_MAP_TYPE_XSKMAP)
        return !map->max_entries || !map->value_size ? -EINVAL : 0; /* no elements */
    if (!id || id > HOSTMAP_MAX_ID)
        return -ENOSPC;
    store = host_store(map->kern);
    if (!store)
        return -ENOMEM;
    if (meta) {
        a.inner_type = meta->map_type;
        a.inner_key_size = meta->key_size;
        a.inner_value_size = meta->value_size;
        a.inner_max_entries = meta->max_entries;
        a.inner_flags = meta->map_flags;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    err = nicsim_fw_maps__create(store, id, &a, msg, sizeof(msg));
    if (err) {
        free(h);
        say_err(map, id, msg);
        return err;
    }
    h->store = store;
    h->id = id;
    map->host = h;
    return 0;
}

void nicsim_hostmap_free(struct nicsim_bpf_map *map)
{
    struct hostmap *h = map->host;

    if (!h)
        return;
    nicsim_fw_maps__destroy(h->store, h->id);
    free(h);
    map->host = NULL;
}

/* The library's answer; its sentence to the caller when say. */
static int done(const struct nicsim_bpf_map *map, int err, const char *msg, bool say)
{
    if (err && say)
        say_err(map, ((const struct hostmap *)map->host)->id, msg);
    return err;
}

int nicsim_hostmap_lookup(struct nicsim_bpf_map *map, const void *key, void *value, bool say)
{
    struct hostmap *h = map->host;
    char msg[NICSIM_MSG_MAX] = "";

    if (!h)
        return -EOPNOTSUPP;
    return done(map, nicsim_fw_maps__lookup(h->store, h->id, key, value, msg, sizeof(msg)), msg,
                say);
}

int nicsim_hostmap_update(struct nicsim_bpf_map *map, const void *key, const void *value,
                          uint64_t flags, bool say)
{
    struct hostmap *h = map->host;
    char msg[NICSIM_MSG_MAX] = "";

    if (!h)
        return -EOPNOTSUPP;
    return done(map, nicsim_fw_maps__update(h->store, h->id, key, value, flags, msg, sizeof(msg)),
                msg, say);
}

int nicsim_hostmap_delete(struct nicsim_bpf_map *map, const void *key, bool say)
{
    struct hostmap *h = map->host;
    char msg[NICSIM_MSG_MAX] = "";

    if (!h)
        return -EOPNOTSUPP;
    return done(map, nicsim_fw_maps__delete(h->store, h->id, key, msg, sizeof(msg)), msg, say);
}

int nicsim_hostmap_get_next(struct nicsim_bpf_map *map, const void *key, void *next, bool say)
{
    struct hostmap *h = map->host;
    char msg[NICSIM_MSG_MAX] = "";

    if (!h)
        return -EOPNOTSUPP;
    return done(map, nicsim_fw_maps__get_next_key(h->store, h->id, key, next, msg, sizeof(msg)),
                msg, say);
}
