/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: ring buffer maps (kernel/bpf/ringbuf.c). The NIC keeps their geometry and
 * charge; no element operation exists for the host (-ENOTSUPP, as bpf(2) answers).
 *
 * Limits (ringbuf_map_alloc):
 *   map_flags within BPF_F_NUMA_NODE; key_size and value_size 0; max_entries (the data size) a
 *   power of 2 and at least a page.
 */
#include <errno.h>

#include "fw_maps_internal.h"

#define PAGE_SIZE 4096u

static int ringbuf_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->flags & ~BPF_F_NUMA_NODE)
        FAIL(-EINVAL, "ring buffer: map_flags 0x%x are not valid", a->flags);
    if (a->key_size || a->value_size || a->max_entries < PAGE_SIZE ||
        (a->max_entries & (a->max_entries - 1)))
        FAIL(-EINVAL,
             "ring buffer: key and value size 0, size a power of 2 and a multiple "
             "of %u",
             PAGE_SIZE);
    return 0;
}

/* every map 64, + N + 4096 (data and the position pages) */
static int ringbuf_mem(const struct fm_map *f, uint64_t *mem)
{
    *mem = 64 + (uint64_t)f->max_entries + PAGE_SIZE;
    return 0;
}

static int ringbuf_lookup(struct fm_map *f, const void *key, void *value)
{
    (void)f, (void)key, (void)value;
    return -NICSIM_ENOTSUPP;
}

static int ringbuf_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                          const void *value, uint64_t flags, struct fm_src s)
{
    (void)m, (void)f, (void)key, (void)value, (void)flags, (void)s;
    return -NICSIM_ENOTSUPP;
}

static int ringbuf_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    (void)m, (void)f, (void)key;
    return -NICSIM_ENOTSUPP;
}

static int ringbuf_get_next_key(struct fm_map *f, const void *key, void *next)
{
    (void)f, (void)key, (void)next;
    return -NICSIM_ENOTSUPP;
}

const struct fm_map_ops nicsim_fm_ringbuf_ops = {
    .name = "ring buffer",
    .check = ringbuf_check,
    .mem = ringbuf_mem,
    .lookup = ringbuf_lookup,
    .update = ringbuf_update,
    .del = ringbuf_delete,
    .get_next_key = ringbuf_get_next_key,
};
