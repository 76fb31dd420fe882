/* SPDX-License-Identifier: MIT */
/*
 * pcapng output (libpcap writes only classic pcap): a Section Header Block, one Interface
 * Description Block per egress, and an Enhanced Packet Block per packet with an opt_comment.
 * Block layouts from the pcapng specification (draft-ietf-opsawg-pcapng).
 */
#include "replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nicsim_trace_out {
    FILE *f;
    uint32_t n_if;
    int failed;
};

static void put(struct nicsim_trace_out *t, const void *p, size_t n)
{
    if (!t->failed && n && fwrite(p, 1, n, t->f) != n)
        t->failed = errno ? errno : EIO;
}

static void put32(struct nicsim_trace_out *t, uint32_t v)
{
    put(t, &v, 4);
}
static void put16(struct nicsim_trace_out *t, uint16_t v)
{
    put(t, &v, 2);
}

static uint32_t pad4(uint32_t n)
{
    return (n + 3u) & ~3u;
}

/* An option: code, length, value padded to 4 bytes. */
static void put_opt(struct nicsim_trace_out *t, uint16_t code, const void *v, uint16_t len)
{
    static const uint8_t zero[4];
    put16(t, code);
    put16(t, len);
    put(t, v, len);
    put(t, zero, pad4(len) - len);
}

static uint32_t opt_size(uint32_t len)
{
    return 4 + pad4(len);
}

struct nicsim_trace_out *nicsim_trace_out__create(const char *path, const char *const *ifnames,
                                                  uint32_t n_if, char *err, size_t errlen)
{
    struct nicsim_trace_out *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->f = fopen(path, "wb");
    if (!t->f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    t->n_if = n_if;
    /* Section Header Block */
    put32(t, 0x0a0d0d0a);
    put32(t, 28);
    put32(t, 0x1a2b3c4d);
    put16(t, 1);
    put16(t, 0);
    put32(t, 0xffffffff); /* section length unknown */
    put32(t, 0xffffffff);
    put32(t, 28);
    /* Interface Description Blocks: Ethernet, no snaplen limit, nanosecond timestamps */
    for (uint32_t i = 0; i < n_if; i++) {
        uint16_t name_len = (uint16_t)strnlen(ifnames[i], 64);
        uint8_t tsresol = 9;
        uint32_t len = 20 + opt_size(name_len) + opt_size(1) + 4;
        put32(t, 1);
        put32(t, len);
        put16(t, 1); /* LINKTYPE_ETHERNET */
        put16(t, 0);
        put32(t, 0);
        put_opt(t, 2, ifnames[i], name_len); /* if_name */
        put_opt(t, 9, &tsresol, 1);          /* if_tsresol */
        put32(t, 0);                         /* opt_endofopt */
        put32(t, len);
    }
    if (t->failed) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(t->failed));
        fclose(t->f);
        free(t);
        return NULL;
    }
    return t;
}

int nicsim_trace_out__write(struct nicsim_trace_out *t, uint32_t ifidx, uint64_t ts_ns,
                            const uint8_t *data, uint32_t len, const char *comment)
{
    if (ifidx >= t->n_if)
        return -EINVAL;
    uint16_t clen = comment ? (uint16_t)strnlen(comment, 1024) : 0;
    uint32_t blen = 32 + pad4(len) + (clen ? opt_size(clen) + 4 : 0);
    static const uint8_t zero[4];
    put32(t, 6); /* Enhanced Packet Block */
    put32(t, blen);
    put32(t, ifidx);
    put32(t, (uint32_t)(ts_ns >> 32));
    put32(t, (uint32_t)ts_ns);
    put32(t, len);
    put32(t, len);
    put(t, data, len);
    put(t, zero, pad4(len) - len);
    if (clen) {
        put_opt(t, 1, comment, clen); /* opt_comment */
        put32(t, 0);
    }
    put32(t, blen);
    return t->failed ? -t->failed : 0;
}

int nicsim_trace_out__close(struct nicsim_trace_out *t)
{
    if (!t)
        return 0;
    int rc = t->failed ? -t->failed : 0;
    if (fclose(t->f) != 0 && !rc)
        rc = -errno;
    free(t);
    return rc;
}
