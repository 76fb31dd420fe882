/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: array and per-CPU array (kernel/bpf/arraymap.c). Every element exists: a u32
 * index below max_entries; an element cannot be deleted; the value lives in place at
 * index * value_stride.
 *
 * Limits (array_map_alloc_check, with the NIC's):
 *   key_size 4; value_size > 0 and < 2^31; max_entries 1..2^31;
 *   map_flags within ARRAY_CREATE_FLAG_MASK, BPF_F_MMAPABLE and BPF_F_INNER_MAP for
 *   BPF_MAP_TYPE_ARRAY only, no NUMA node for per-CPU arrays;
 *   per-CPU values round_up(value_size, 8) <= 32 KiB (PCPU_MIN_UNIT_SIZE);
 *   value memory max_entries * value_stride <= 4 GiB - 1 (the core, map_geometry).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

#define ARRAY_CREATE_FLAG_MASK                                                                     \
    (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | FM_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)

int nicsim_fm_check_array(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries)
        FAIL(-EINVAL, "max_entries must not be 0");
    if (a->key_size != 4)
        FAIL(-EINVAL, "array maps have 4-byte keys (u32 index), not %u", a->key_size);
    if (!a->value_size)
        FAIL(-EINVAL, "value_size must not be 0");
    if ((a->flags & ~ARRAY_CREATE_FLAG_MASK) || !fm_access_ok(a->flags))
        FAIL(-EINVAL, "map_flags 0x%x are not valid for an array map", a->flags);
    if (a->type == BPF_MAP_TYPE_PERCPU_ARRAY && (a->flags & BPF_F_NUMA_NODE))
        FAIL(-EINVAL, "per-CPU arrays take no NUMA node");
    if (a->type != BPF_MAP_TYPE_ARRAY && (a->flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
        FAIL(-EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for BPF_MAP_TYPE_ARRAY only");
    if (a->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && (a->flags & BPF_F_PRESERVE_ELEMS))
        FAIL(-EINVAL, "BPF_F_PRESERVE_ELEMS is for perf event arrays only");
    if (a->value_size > 0x7fffffffu)
        FAIL(-E2BIG, "value_size %u is too large", a->value_size);
    if (a->type == BPF_MAP_TYPE_PERCPU_ARRAY && nicsim_round8(a->value_size) > PCPU_MIN_UNIT_SIZE)
        FAIL(-E2BIG, "per-CPU values are limited to %u bytes, not %u", PCPU_MIN_UNIT_SIZE,
             a->value_size);
    if (a->max_entries > (1u << 31))
        FAIL(-E2BIG, "max_entries %u is too large", a->max_entries);
    return 0;
}

/* every map 64, + N * S */
static int array_mem(const struct fm_map *f, uint64_t *mem)
{
    return fm_size(f->max_entries, f->stride, 64, mem);
}

static uint32_t array_count(const struct fm_map *f)
{
    return f->max_entries;
}

int nicsim_fm_index_next_key(struct fm_map *f, const void *key, void *next)
{
    uint32_t idx = key ? fm_key_u32(key) : UINT32_MAX, nx;

    if (idx >= f->max_entries) {
        nx = 0;
    } else {
        if (idx == f->max_entries - 1)
            return -ENOENT;
        nx = idx + 1;
    }
    memcpy(next, &nx, 4);
    return 0;
}

static int array_lookup(struct fm_map *f, const void *key, void *value)
{
    uint32_t idx = fm_key_u32(key);

    if (idx >= f->max_entries)
        return -ENOENT;
    nicsim_fm_val_out(f, idx, value);
    return 0;
}

static int array_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                        const void *value, uint64_t flags, struct fm_src s)
{
    uint32_t idx;

    (void)m;
    if (f->type == BPF_MAP_TYPE_ARRAY ? (flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST
                                      : flags > BPF_EXIST)
        return -EINVAL;
    if (flags & BPF_F_LOCK)
        return -EINVAL;
    idx = fm_key_u32(key);
    if (idx >= f->max_entries)
        return -E2BIG;
    if (flags == BPF_NOEXIST)
        return -EEXIST;
    nicsim_fm_val_write(f, idx, s, value, 0);
    return 0;
}

/* elements cannot be deleted */
static int array_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    (void)m, (void)f, (void)key;
    return -EINVAL;
}

/* array_map_meta_equal: the same max_entries unless the template is BPF_F_INNER_MAP */
static int array_meta_equal(const struct fm_map *in, const struct nicsim_fw_map_attr *t)
{
    return (t->flags & BPF_F_INNER_MAP) || in->max_entries == t->max_entries;
}

static int array_prog_slot(struct fm_map *f, const void *key, uint32_t *slot)
{
    *slot = fm_key_u32(key);
    return *slot >= f->max_entries ? -ENOENT : 0;
}

/* The array and the per-CPU array share every operation (per-CPU values follow from the type). */
#define ARRAY_OPS(var, type_name)                                                                 \
    const struct fm_map_ops var = {                                                               \
        .name = type_name,                                                                        \
        .indexed = 1,                                                                             \
        .value_mem = 1,                                                                           \
        .prog_write = 1,                                                                          \
        .einval_why = "flags invalid, or array elements cannot be deleted",                       \
        .check = nicsim_fm_check_array,                                                           \
        .geometry = nicsim_fm_geometry_entries,                                                   \
        .mem = array_mem,                                                                         \
        .meta_equal = array_meta_equal,                                                           \
        .count = array_count,                                                                     \
        .lookup = array_lookup,                                                                   \
        .update = array_update,                                                                   \
        .del = array_delete,                                                                      \
        .get_next_key = nicsim_fm_index_next_key,                                                 \
        .prog_slot = array_prog_slot,                                                             \
    }

ARRAY_OPS(nicsim_fm_array_ops, "array");
ARRAY_OPS(nicsim_fm_percpu_array_ops, "per-CPU array");
