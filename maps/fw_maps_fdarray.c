/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: the fd arrays (kernel/bpf/arraymap.c's fd_array_map_ops users): prog array,
 * perf event array, array of maps. An element is a 4-byte id (a NIC program id, a perf event, an
 * inner map id) in a slot that may be empty; only the host writes them. An array of maps' element
 * holds its inner map (nicsim_fm_inner_ref / _put in fw_maps.c).
 *
 * Limits (fd_array_map_alloc_check, then array_map_alloc_check):
 *   value_size 4 (an id); no BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG; then the array's:
 *   key_size 4, max_entries 1..2^31, map_flags within the array mask (nicsim_fm_check_array);
 *   array of maps: an existing inner map template that holds no maps itself (fw_maps.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

static int fd_array_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size != 4)
        FAIL(-EINVAL, "map type %u holds 4-byte ids, not %u-byte values", a->type, a->value_size);
    if (a->flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
        FAIL(-EINVAL, "map type %u takes no BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG", a->type);
    return nicsim_fm_check_array(a, msg, msg_len);
}

/* prog array, perf event array, array of maps, devmap, cpumap: every map 64, + N * 8 */
int nicsim_fm_mem_ids(const struct fm_map *f, uint64_t *mem)
{
    return fm_size(f->max_entries, 8, 64, mem);
}

int nicsim_fm_alloc_present(const struct nicsim_fw_maps *m, struct fm_map *f)
{
    (void)m;
    f->present = calloc(f->max_entries, 1);
    return f->present ? 0 : -ENOMEM;
}

void nicsim_fm_free_present(struct fm_map *f)
{
    free(f->present);
}

/* prog array, array of maps, devmap, cpumap: an empty slot is -ENOENT */
int nicsim_fm_lookup_ids(struct fm_map *f, const void *key, void *value)
{
    uint32_t idx = fm_key_u32(key);

    if (idx >= f->max_entries || !f->present[idx])
        return -ENOENT;
    nicsim_fm_val_out(f, idx, value);
    return 0;
}

/* perf event array */
static int lookup_notsupp(struct fm_map *f, const void *key, void *value)
{
    (void)f, (void)key, (void)value;
    return -NICSIM_ENOTSUPP;
}

static int fd_array_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                           const void *value, uint64_t flags, struct fm_src s)
{
    uint32_t idx;

    if (s.prog)
        return -EOPNOTSUPP;
    if (flags != BPF_ANY)
        return -EINVAL;
    idx = fm_key_u32(key);
    if (idx >= f->max_entries)
        return -E2BIG;
    if (f->ops->holds_maps) {
        uint32_t held = 0;

        if (!nicsim_fm_inner_ok(m, f, fm_key_u32(value)))
            return -EINVAL;
        if (f->present[idx])
            memcpy(&held, fm_slot_val(f, idx), 4);
        nicsim_fm_inner_ref(m, fm_key_u32(value)); /* before the put: it may be the same map */
        nicsim_fm_inner_put(m, held);
    }
    memcpy(fm_slot_val(f, idx), value, 4);
    if (!f->present[idx])
        f->count++;
    f->present[idx] = 1;
    return 0;
}

/* empty the slot (dropping a held inner map) */
static int fd_array_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t idx = fm_key_u32(key), held;

    if (idx >= f->max_entries)
        return -E2BIG;
    if (!f->present[idx])
        return -ENOENT;
    f->present[idx] = 0;
    f->count--;
    if (f->ops->holds_maps) {
        memcpy(&held, fm_slot_val(f, idx), 4);
        nicsim_fm_inner_put(m, held);
    }
    return 0;
}

/* array of maps */
static void array_of_maps_drop_inner(struct nicsim_fw_maps *m, struct fm_map *f)
{
    uint32_t id;

    for (uint32_t i = 0; i < f->max_entries; i++)
        if (f->present[i]) {
            memcpy(&id, f->vals + (size_t)i * f->stride, 4);
            nicsim_fm_inner_put(m, id);
        }
}

static int array_of_maps_map_slot(struct fm_map *f, const void *key, uint32_t *slot)
{
    *slot = fm_key_u32(key);
    return *slot >= f->max_entries || !f->present[*slot] ? -ENOENT : 0;
}

int nicsim_fw_maps__prog_array_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t index,
                                   uint32_t *prog_id)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f || !prog_id || f->ops != &nicsim_fm_prog_array_ops)
        return -EINVAL;
    if (index >= f->max_entries || !f->present[index])
        return -ENOENT;
    memcpy(prog_id, fm_slot_val(f, index), 4);
    return 0;
}

const struct fm_map_ops nicsim_fm_prog_array_ops = {
    .name = "prog array",
    .indexed = 1,
    .check = fd_array_check,
    .geometry = nicsim_fm_geometry_entries,
    .mem = nicsim_fm_mem_ids,
    .alloc = nicsim_fm_alloc_present,
    .free = nicsim_fm_free_present,
    .lookup = nicsim_fm_lookup_ids,
    .update = fd_array_update,
    .del = fd_array_delete,
    .get_next_key = nicsim_fm_index_next_key,
};

const struct fm_map_ops nicsim_fm_perf_event_array_ops = {
    .name = "perf event array",
    .indexed = 1,
    .check = fd_array_check,
    .geometry = nicsim_fm_geometry_entries,
    .mem = nicsim_fm_mem_ids,
    .alloc = nicsim_fm_alloc_present,
    .free = nicsim_fm_free_present,
    .lookup = lookup_notsupp,
    .update = fd_array_update,
    .del = fd_array_delete,
    .get_next_key = nicsim_fm_index_next_key,
};

const struct fm_map_ops nicsim_fm_array_of_maps_ops = {
    .name = "array of maps",
    .indexed = 1,
    .holds_maps = 1,
    .einval_why = "the value is not a map like the template (or the flags are wrong)",
    .check = fd_array_check,
    .geometry = nicsim_fm_geometry_entries,
    .mem = nicsim_fm_mem_ids,
    .alloc = nicsim_fm_alloc_present,
    .free = nicsim_fm_free_present,
    .drop_inner = array_of_maps_drop_inner,
    .lookup = nicsim_fm_lookup_ids,
    .update = fd_array_update,
    .del = fd_array_delete,
    .get_next_key = nicsim_fm_index_next_key,
    .map_slot = array_of_maps_map_slot,
};
