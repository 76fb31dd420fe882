/* SPDX-License-Identifier: MIT */
/*
 * Little-endian accessors for the wire formats (include/nicsim/wire/): every field that crosses
 * a boundary (control messages, NIC image, BAR registers) is read and written through these, at a
 * byte offset into a buffer, whatever the host's byte order (as nfp converts every field with
 * cpu_to_le* / le*_to_cpu). The buffers need no alignment.
 */
#ifndef NICSIM_WIRE_LE_H
#define NICSIM_WIRE_LE_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t nicsim_get_le16(const void *buf, size_t off)
{
    const uint8_t *p = (const uint8_t *)buf + off;

    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t nicsim_get_le32(const void *buf, size_t off)
{
    const uint8_t *p = (const uint8_t *)buf + off;

    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t nicsim_get_le64(const void *buf, size_t off)
{
    return (uint64_t)nicsim_get_le32(buf, off) | (uint64_t)nicsim_get_le32(buf, off + 4) << 32;
}

static inline void nicsim_put_le16(void *buf, size_t off, uint16_t v)
{
    uint8_t *p = (uint8_t *)buf + off;

    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void nicsim_put_le32(void *buf, size_t off, uint32_t v)
{
    uint8_t *p = (uint8_t *)buf + off;

    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void nicsim_put_le64(void *buf, size_t off, uint64_t v)
{
    nicsim_put_le32(buf, off, (uint32_t)v);
    nicsim_put_le32(buf, off + 4, (uint32_t)(v >> 32));
}

#endif /* NICSIM_WIRE_LE_H */
