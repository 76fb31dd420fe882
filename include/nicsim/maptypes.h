/* SPDX-License-Identifier: MIT */
/*
 * Map facts shared by every layer that handles map values: the type numbers and flags (the
 * kernel's uapi enum bpf_map_type and BPF_* flags, from <linux/bpf.h>), the kernel's internal
 * ENOTSUPP, and the per-CPU value layout bpf(2) uses. One definition each; include this header
 * instead of redefining them.
 */
#ifndef NICSIM_MAPTYPES_H
#define NICSIM_MAPTYPES_H

#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>

/* The kernel's internal ENOTSUPP (include/linux/errno.h), which bpf(2) passes to user space. */
#define NICSIM_ENOTSUPP 524

/* round_up(v, 8): bpf(2) pads each per-CPU value to 8 bytes. */
static inline uint64_t nicsim_round8(uint64_t v)
{
    return (v + 7u) & ~(uint64_t)7u;
}

/* Map types whose value is one value per CPU (on the NIC: per core). */
static inline int nicsim_map_type_is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* The per-CPU value layout of bpf(2) (and of the NIC's map library, which keeps the host's
 * view): a per-CPU map's value is one round_up(value_size, 8) slice per CPU, CPU 0 first; any
 * other map's value is value_size bytes. */
static inline uint64_t nicsim_map_value_bytes(int per_cpu, uint32_t value_size, uint32_t ncpus)
{
    return per_cpu ? nicsim_round8(value_size) * ncpus : value_size;
}

/* Packed per-CPU values (ncpus * value_size bytes, as bpftool's JSON) -> the bpf(2) layout
 * (nicsim_map_value_bytes(1, ...) bytes, padding zeroed). */
static inline void nicsim_percpu_pad(void *out, const void *in, uint32_t value_size, uint32_t ncpus)
{
    size_t slot = (size_t)nicsim_round8(value_size);

    for (uint32_t c = 0; c < ncpus; c++) {
        memset((uint8_t *)out + c * slot, 0, slot);
        memcpy((uint8_t *)out + c * slot, (const uint8_t *)in + (size_t)c * value_size, value_size);
    }
}

/* The bpf(2) per-CPU layout -> packed per-CPU values. */
static inline void nicsim_percpu_unpad(void *out, const void *in, uint32_t value_size,
                                       uint32_t ncpus)
{
    size_t slot = (size_t)nicsim_round8(value_size);

    for (uint32_t c = 0; c < ncpus; c++)
        memcpy((uint8_t *)out + (size_t)c * value_size, (const uint8_t *)in + c * slot, value_size);
}

#endif /* NICSIM_MAPTYPES_H */
