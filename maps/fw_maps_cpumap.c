/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: cpumap (kernel/bpf/cpumap.c), the host CPUs (and host receive queues) a
 * redirect delivers to, indexed by the CPU with a slot-present flag.
 *
 * Limits (cpu_map_alloc, cpu_map_update_elem, with the NIC's):
 *   key_size 4 (the CPU); value_size 4 (qsize) or 8 (qsize, prog fd); max_entries > 0 and at
 *   most the NIC's FM_CPUMAP_MAX_CPUS host CPUs (-E2BIG, as "max_entries > NR_CPUS");
 *   map_flags within BPF_F_NUMA_NODE; qsize at most FM_CPUMAP_MAX_QSIZE (-EOVERFLOW); a program
 *   fd -EOPNOTSUPP.
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

static int cpumap_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    /* cpu_map_alloc */
    if (!a->max_entries || a->key_size != 4 || (a->value_size != 4 && a->value_size != 8) ||
        (a->flags & ~BPF_F_NUMA_NODE))
        FAIL(-EINVAL,
             "cpumap: key_size 4 (the CPU), value_size 4 (qsize) or 8 (qsize, prog fd), "
             "max_entries > 0 and map_flags within 0x%x needed",
             BPF_F_NUMA_NODE);
    if (a->max_entries > FM_CPUMAP_MAX_CPUS)
        FAIL(-E2BIG, "cpumap: max_entries %u is more than the NIC's %u host CPUs", a->max_entries,
             FM_CPUMAP_MAX_CPUS);
    return 0;
}

/* ---- cpumap (cpu_map_update_elem): the value is struct bpf_cpumap_val {u32 qsize; union {int fd;
 * u32 id} bpf_prog}; qsize 0 empties the slot; a program fd is refused (the NIC runs no program on
 * the host's CPU), so a lookup reads bpf_prog.id 0. */
static int cpumap_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                         const void *value, uint64_t flags, struct fm_src s)
{
    uint32_t idx, qsize;
    int32_t fd = 0;
    uint8_t v[8] = {0};

    (void)m;
    if (s.prog)
        return -EOPNOTSUPP;
    idx = fm_key_u32(key);
    qsize = fm_key_u32(value);
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

/* the host CPU, hence host receive queue, is the key */
static int cpumap_redirect(struct fm_map *f, uint32_t key, uint32_t *cpu)
{
    if (key >= f->max_entries || !f->present[key])
        return -ENOENT;
    *cpu = key;
    return 0;
}

/* The refusals only a cpumap answers, in its terms. */
static int cpumap_explain(const struct fm_map *f, int err, const void *key, const void *value,
                          char *msg, size_t msg_len)
{
    const char *tn = f->ops->name;
    uint32_t idx = key && f->key_size >= 4 ? fm_key_u32(key) : 0;

    switch (-err) {
    case EOVERFLOW:
        nicsim_fm_say(msg, msg_len, "%s: qsize %u is more than %u", tn,
                      value ? fm_key_u32(value) : 0, FM_CPUMAP_MAX_QSIZE);
        return 1;
    case ENODEV:
        nicsim_fm_say(msg, msg_len, "%s: CPU %u is not one of the NIC's %u host CPUs", tn, idx,
                      FM_CPUMAP_MAX_CPUS);
        return 1;
    case NICSIM_ENOTSUPP:
    case EOPNOTSUPP:
        if (!value || f->value_size != 8)
            return 0;
        nicsim_fm_say(msg, msg_len,
                      "%s: CPU %u: bpf_prog.fd %d: the NIC cannot run a second program on the "
                      "host CPU (only qsize, with prog fd 0, can be offloaded)",
                      tn, idx, (int32_t)fm_key_u32((const uint8_t *)value + 4));
        return 1;
    default:
        return 0;
    }
}

const struct fm_map_ops nicsim_fm_cpumap_ops = {
    .name = "cpumap",
    .indexed = 1,
    .check = cpumap_check,
    .geometry = nicsim_fm_geometry_entries,
    .mem = nicsim_fm_mem_ids,
    .alloc = nicsim_fm_alloc_present,
    .free = nicsim_fm_free_present,
    .lookup = nicsim_fm_lookup_ids,
    .update = cpumap_update,
    .del = nicsim_fm_dev_delete,
    .get_next_key = nicsim_fm_index_next_key,
    .explain = cpumap_explain,
    .redirect = cpumap_redirect,
};
