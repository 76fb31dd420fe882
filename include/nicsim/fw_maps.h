/* SPDX-License-Identifier: MIT */
/*
 * nicsim NIC map library: the maps that live in the NIC's map memory, with the Linux kernel's
 * semantics and error codes (kernel/bpf/{arraymap,hashtab,lpm_trie,devmap,cpumap,bpf_lru_list}.c).
 * Its own layer (maps/, docs/architecture.md): it uses only util, and the firmware and the
 * driver may both use it. Inside, each map type is an ops table in its family's file, as
 * kernel/bpf (maps/fw_maps_internal.h).
 *
 * Two sides use one store:
 *   - the firmware, serving the host's control messages (values in the host's view: per-CPU maps
 *     exchange round_up(value_size, 8) * n_cpus bytes, as bpf(2) does);
 *   - the cores' map unit, running helpers for programs (values in place: a lookup answers the
 *     byte offset of the value inside the map's value memory, which the cores map as region
 *     NICSIM_MAP_REGION_BASE + id; per-CPU maps answer the calling CPU's slice).
 *
 * Value memory of a map is allocated once at creation (kernel-style preallocation) and never
 * moves, so a core may keep it mapped for the map's lifetime.
 *
 * Every int-returning function answers 0 or a negative errno with kernel meaning (-ENOENT,
 * -EEXIST, -E2BIG, -EINVAL, -ENOMEM, -EOPNOTSUPP, ...); where `msg` is taken, a failure writes a
 * sentence into it (msg may be NULL). Single-threaded.
 */
#ifndef NICSIM_FW_MAPS_H
#define NICSIM_FW_MAPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_fw_maps;

struct nicsim_fw_maps_opts {
    size_t sz;           /* sizeof(struct nicsim_fw_maps_opts); the rule of nicsim_opts_copy
                          * (nicsim/util.h): a longer struct's tail must be zero */
    uint32_t n_cpus;     /* NIC cores: per-CPU maps keep one slice each (1..64) */
    uint64_t mem_budget; /* bytes of map memory (0: unlimited); a create over budget fails
                          * -ENOMEM; the charge of each map type is documented in fw_maps.c */
    uint32_t max_id;     /* largest map id the caller will use (ids are the caller's) */
    uint32_t host_cpu;   /* CPU the host-side operations act as (LRU local lists); 0 default */
    uint32_t hash_seed;  /* seed of hash maps created without BPF_F_ZERO_SEED (the kernel's
                          * is random) */
};

struct nicsim_fw_map_attr {
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size, value_size, max_entries, flags;
    uint32_t inner_map_id; /* array / hash of maps: the template map (an existing map id) */
    uint64_t map_extra;    /* bloom filter: bits 0-3 the number of hash functions (0: 5); else 0 */
};

struct nicsim_fw_map_info {
    uint32_t type, key_size, value_size, max_entries, flags;
    uint32_t n_cpus;       /* slices of a per-CPU map, 1 otherwise */
    uint32_t value_stride; /* bytes between two elements' values in value memory; a per-CPU
                            * element holds n_cpus slices of round_up(value_size, 8) bytes */
    uint64_t mem;          /* bytes charged to the budget */
    uint32_t count;        /* elements present (arrays: max_entries) */
};

struct nicsim_fw_maps *nicsim_fw_maps__new(const struct nicsim_fw_maps_opts *opts);
void nicsim_fw_maps__free(struct nicsim_fw_maps *m);

/* Whether the library implements a map type. */
int nicsim_fw_maps__type_supported(uint32_t type);
/* Create map `id` (1..max_id, unused). Checks the attributes as the kernel's map_alloc_check
 * does (-EINVAL with the reason); sizes are 64-bit and limited as the kernel's (a hash table
 * holds at most 2^31 elements: -E2BIG) and by the NIC (an LPM trie at most 2^30 prefixes, a map's
 * value memory at most 4 GiB - 1 since a region offset is 32 bits: -E2BIG), then the budget
 * (-ENOMEM). */
int nicsim_fw_maps__create(struct nicsim_fw_maps *m, uint32_t id,
                           const struct nicsim_fw_map_attr *attr, char *msg, size_t msg_len);
/* The host frees map `id`. A map that elements of an array / hash of maps still hold is gone for
 * the host at once (every call naming it answers -ENOENT, it cannot be stored in an outer map
 * again) but, as the kernel's outer map holds a reference, its memory stays (and stays charged)
 * until the last such element is deleted or replaced or its outer map is destroyed. Destroying
 * an outer map drops the references of its elements. */
int nicsim_fw_maps__destroy(struct nicsim_fw_maps *m, uint32_t id);
/* Whether id is taken: a live map, or a freed one that an outer map still holds (not reusable). */
int nicsim_fw_maps__in_use(const struct nicsim_fw_maps *m, uint32_t id);
int nicsim_fw_maps__info(const struct nicsim_fw_maps *m, uint32_t id,
                         struct nicsim_fw_map_info *info);
uint64_t nicsim_fw_maps__mem_used(const struct nicsim_fw_maps *m);
/* The value memory the cores map for map `id` (NULL for maps without in-place values: prog
 * array, perf event array, ring buffer, devmaps, LPM-less keyless types). */
uint8_t *nicsim_fw_maps__value_mem(struct nicsim_fw_maps *m, uint32_t id, size_t *len);

/* ---- Host side (bpf(2) semantics; per-CPU values in the host view). */
size_t nicsim_fw_maps__host_value_size(const struct nicsim_fw_maps *m, uint32_t id);
int nicsim_fw_maps__lookup(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *value,
                           char *msg, size_t msg_len);
int nicsim_fw_maps__lookup_and_delete(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                                      void *value, char *msg, size_t msg_len);
int nicsim_fw_maps__update(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                           const void *value, uint64_t flags, char *msg, size_t msg_len);
int nicsim_fw_maps__delete(struct nicsim_fw_maps *m, uint32_t id, const void *key, char *msg,
                           size_t msg_len);
/* key NULL: the first key. -ENOENT after the last. The kernel's order for each type. */
int nicsim_fw_maps__get_next_key(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *next,
                                 char *msg, size_t msg_len);

/* ---- Program side (helper semantics, CPU = the calling core). */
/* bpf_map_lookup_elem: offset of the value in value memory, -ENOENT when absent. LRU maps mark
 * the element referenced as the kernel does. */
int nicsim_fw_maps__prog_lookup(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, uint32_t *value_off);
/* bpf_map_lookup_elem on an array / hash of maps: the id of the inner map the element holds
 * (which the outer map keeps alive), -ENOENT when absent, -EINVAL for other map types. */
int nicsim_fw_maps__prog_lookup_map(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                    const void *key, uint32_t *inner_id);
/* bpf_map_update_elem from a program: per-CPU maps write this CPU's slice (a new element's other
 * slices are zeroed). */
int nicsim_fw_maps__prog_update(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, const void *value, uint64_t flags);
int nicsim_fw_maps__prog_delete(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key);
/* devmap / devmap hash: the target ifindex stored under `key`; cpumap: `key` itself, the host CPU
 * (and host receive queue) a redirect delivers to, if its entry is present. -ENOENT: none. */
int nicsim_fw_maps__devmap_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t key,
                               uint32_t *ifindex);
/* prog array: the NIC program id stored at `index` (-ENOENT when the slot is empty). The host
 * side stores NIC program ids as the values (4 bytes) of a prog array. */
int nicsim_fw_maps__prog_array_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t index,
                                   uint32_t *prog_id);

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_FW_MAPS_H */
