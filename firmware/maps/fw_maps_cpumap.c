/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: cpumap elements (kernel/bpf/cpumap.c).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

/* ---- cpumap (cpu_map_update_elem): the value is struct bpf_cpumap_val {u32 qsize; union {int fd;
 * u32 id} bpf_prog}; qsize 0 empties the slot; a program fd is refused (the NIC runs no program on
 * the host's CPU), so a lookup reads bpf_prog.id 0. */
int fm_cpumap_update(struct fm_map *f, const void *key, const void *value, uint64_t flags)
{
    uint32_t idx = fm_key_u32(key), qsize = fm_key_u32(value);
    int32_t fd = 0;
    uint8_t v[8] = {0};

    if (flags > BPF_EXIST)
        return -EINVAL;
    if (idx >= f->max_entries)
        return -E2BIG;
    if (flags == BPF_NOEXIST)
        return -EEXIST;
    if (qsize > FM_CPUMAP_MAX_QSIZE)
        return -EOVERFLOW;
    /* the kernel's !cpu_possible; max_entries keeps it unreachable */
    if (idx >= FM_CPUMAP_MAX_CPUS)
        return -ENODEV;
    if (!qsize) { /* "Same as deleting" */
        if (f->present[idx])
            f->count--;
        f->present[idx] = 0;
        return 0;
    }
    if (f->value_size == 8)
        memcpy(&fd, (const uint8_t *)value + 4, 4);
    if (fd > 0)
        return -EOPNOTSUPP;
    memcpy(v, &qsize, 4);
    memcpy(fm_slot_val(f, idx), v, f->value_size);
    if (!f->present[idx])
        f->count++;
    f->present[idx] = 1;
    return 0;
}
