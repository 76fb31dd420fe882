/* SPDX-License-Identifier: MIT */
/*
 * Map library: the XSK map (kernel/bpf/xskmap.c), host stores only (the NIC does not offer it).
 * An element is an AF_XDP socket; the emulated kernel has none, so no element can be stored and
 * none is present: the map keeps no storage, only the kernel's rules.
 *
 * Limits (xsk_map_alloc): key_size 4, value_size 4, max_entries > 0, map_flags within
 * BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY: else -EINVAL.
 * Operations: lookup from user space -EOPNOTSUPP (xsk_map_lookup_elem_sys_only); update: flags
 * above BPF_EXIST -EINVAL, an index past max_entries -E2BIG, then the value must be an XDP
 * socket's descriptor: every descriptor here is a program's or a map's, the kernel's -ENOTSOCK;
 * delete: past max_entries -EINVAL, else 0 (an empty slot too); get_next_key over indices.
 */
#include <errno.h>

#include "fw_maps_internal.h"

static int xsk_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries || a->key_size != 4 || a->value_size != 4)
        FAIL(-EINVAL, "XSK map: key and value are 4 bytes and max_entries > 0 (%u, %u, %u given)",
             a->key_size, a->value_size, a->max_entries);
    if (a->flags & ~(uint32_t)(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY))
        FAIL(-EINVAL,
             "XSK map: map_flags 0x%x outside BPF_F_NUMA_NODE | BPF_F_RDONLY | "
             "BPF_F_WRONLY",
             a->flags);
    return 0;
}

static int xsk_lookup(struct fm_map *f, const void *key, void *value)
{
    (void)f, (void)key, (void)value;
    return -EOPNOTSUPP;
}

static int xsk_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                      const void *value, uint64_t flags, struct fm_src s)
{
    (void)m, (void)value;
    if (s.prog)
        return -EOPNOTSUPP;
    if (flags > BPF_EXIST)
        return -EINVAL;
    if (fm_key_u32(key) >= f->max_entries)
        return -E2BIG;
    return -ENOTSOCK;
}

static int xsk_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    (void)m;
    return fm_key_u32(key) >= f->max_entries ? -EINVAL : 0;
}

static int xsk_explain(const struct fm_map *f, int err, const void *key, const void *value,
                       char *msg, size_t msg_len)
{
    (void)f, (void)key, (void)value;
    if (err == -ENOTSOCK) {
        nicsim_fm_say(msg, msg_len,
                      "XSK map: the value must be an AF_XDP socket's descriptor, and the emulated "
                      "kernel has no sockets");
        return 1;
    }
    if (err == -EOPNOTSUPP) {
        nicsim_fm_say(msg, msg_len, "XSK map: user space cannot read its elements");
        return 1;
    }
    return 0;
}

const struct fm_map_ops nicsim_fm_xskmap_ops = {
    .name = "XSK map",
    .indexed = 1,
    .host_only = 1,
    .einval_why = "index past max_entries, or update flags above BPF_EXIST",
    .check = xsk_check,
    .mem = nicsim_fm_mem_ids,
    .lookup = xsk_lookup,
    .update = xsk_update,
    .del = xsk_delete,
    .get_next_key = nicsim_fm_index_next_key,
    .explain = xsk_explain,
};
