/* SPDX-License-Identifier: MIT */
/* pcap / pcapng input through libpcap, streamed. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "replay.h"

#include <pcap/dlt.h>
#include <pcap/pcap.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* libpcap's own bound on a record (MAXIMUM_SNAPLEN): no padding past it. */
#define PAD_MAX 262144u

struct nicsim_trace_in {
    pcap_t *p;
    long size; /* bytes in the file, 0 if unknown (a pipe) */
    char path[256];
    uint64_t index;
    int nsec;
    enum nicsim_trace_truncated trunc;
    uint64_t n_cut;
    uint8_t *pad; /* PAD_MAX bytes, allocated at the first cut record */
    /* pcapng: a second reader of the file, walking the blocks in step with libpcap (one packet
     * block per packet it returns) for each record's interface id, which libpcap does not give */
    FILE *ng;
    int ng_swap;
};

static uint32_t ng_u32(const struct nicsim_trace_in *t, const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return t->ng_swap ? __builtin_bswap32(v) : v;
}

/* The interface id of the next packet block (EPB, SPB, obsolete PB); 0 for anything unreadable
 * (libpcap reports a damaged file itself). */
static uint32_t ng_next_iface(struct nicsim_trace_in *t)
{
    uint8_t h[12];

    while (t->ng && fread(h, 1, 12, t->ng) == 12) {
        uint32_t type, len;
        memcpy(&type, h, 4);
        if (type == 0x0a0d0d0au) { /* section header: its byte order */
            uint32_t bom;
            memcpy(&bom, h + 8, 4);
            t->ng_swap = bom == 0x4d3c2b1au;
        }
        len = ng_u32(t, h + 4);
        type = ng_u32(t, h);
        if (len < 12 || fseek(t->ng, (long)len - 12, SEEK_CUR))
            break;
        if (type == 6) /* enhanced packet block: interface id first */
            return ng_u32(t, h + 8);
        if (type == 3) /* simple packet block: interface 0 */
            return 0;
        if (type == 2) { /* obsolete packet block: a 16-bit interface id */
            uint16_t id;
            memcpy(&id, h + 8, 2);
            return t->ng_swap ? __builtin_bswap16(id) : id;
        }
    }
    return 0;
}

int nicsim_trace_truncated__parse(const char *s, enum nicsim_trace_truncated *out)
{
    static const char *const names[] = {"pad", "captured", "refuse"};

    for (int i = 0; i < 3; i++) {
        if (s && !strcmp(s, names[i])) {
            *out = (enum nicsim_trace_truncated)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *nicsim_trace_truncated__name(enum nicsim_trace_truncated t)
{
    return t == NICSIM_TRACE_TRUNC_CAPTURED ? "captured"
           : t == NICSIM_TRACE_TRUNC_REFUSE ? "refuse"
                                            : "pad";
}

void nicsim_trace_in__set_truncated(struct nicsim_trace_in *t, enum nicsim_trace_truncated how)
{
    t->trunc = how;
}

uint64_t nicsim_trace_in__n_cut(const struct nicsim_trace_in *t)
{
    return t->n_cut;
}

struct nicsim_trace_in *nicsim_trace_in__open(const char *path, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!p) {
        snprintf(err, errlen, "%s: cannot read as pcap or pcapng: %s", path, perr);
        return NULL;
    }
    int dlt = pcap_datalink(p);
    if (dlt != DLT_EN10MB) {
        const char *name = pcap_datalink_val_to_name(dlt);
        snprintf(err, errlen,
                 "%s: link type %s (%d) is not supported; nicsim replays Ethernet "
                 "(EN10MB) traces",
                 path, name ? name : "unknown", dlt);
        pcap_close(p);
        return NULL;
    }
    struct nicsim_trace_in *t = calloc(1, sizeof(*t));
    if (!t) {
        pcap_close(p);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    t->p = p;
    FILE *f = pcap_file(p);
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        t->size = (long)st.st_size;
    t->nsec = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    snprintf(t->path, sizeof(t->path), "%s", path);
    uint32_t magic = 0;
    FILE *ng = t->size ? fopen(path, "rb") : NULL;
    if (ng && fread(&magic, 4, 1, ng) == 1 && magic == 0x0a0d0d0au && fseek(ng, 0, SEEK_SET) == 0)
        t->ng = ng;
    else if (ng)
        fclose(ng);
    return t;
}

int nicsim_trace_in__next(struct nicsim_trace_in *t, struct nicsim_trace_pkt *pkt, char *err,
                          size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(t->p, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        snprintf(err, errlen, "%s: packet %llu: %s", t->path, (unsigned long long)t->index,
                 pcap_geterr(t->p));
        return -1;
    }
    if (h->caplen > h->len) {
        snprintf(err, errlen,
                 "%s: packet %llu: the record holds %u captured bytes but says the frame was %u "
                 "bytes on the wire (captured length > wire length: a malformed record)",
                 t->path, (unsigned long long)t->index, h->caplen, h->len);
        return -1;
    }
    pkt->data = data;
    pkt->caplen = h->caplen;
    pkt->wirelen = h->len;
    pkt->captured = h->caplen;
    if (h->caplen < h->len) {
        t->n_cut++;
        if (t->trunc == NICSIM_TRACE_TRUNC_CAPTURED) {
            pkt->wirelen = h->caplen;
        } else if (t->trunc == NICSIM_TRACE_TRUNC_PAD && h->len <= PAD_MAX) {
            if (!t->pad && !(t->pad = malloc(PAD_MAX))) {
                snprintf(err, errlen, "%s: packet %llu: out of memory", t->path,
                         (unsigned long long)t->index);
                return -1;
            }
            memcpy(t->pad, data, h->caplen);
            memset(t->pad + h->caplen, 0, h->len - h->caplen);
            pkt->data = t->pad;
            pkt->caplen = h->len;
        }
    }
    pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
                 (uint64_t)h->ts.tv_usec * (t->nsec ? 1ull : 1000ull);
    pkt->iface = t->ng ? ng_next_iface(t) : 0;
    t->index++;
    return 1;
}

double nicsim_trace_in__progress(const struct nicsim_trace_in *t)
{
    FILE *f = pcap_file(t->p);
    long at = f && t->size > 0 ? ftell(f) : -1;

    if (at < 0)
        return -1.0;
    return at >= t->size ? 1.0 : (double)at / (double)t->size;
}

void nicsim_trace_in__close(struct nicsim_trace_in *t)
{
    if (!t)
        return;
    pcap_close(t->p);
    if (t->ng)
        fclose(t->ng);
    free(t->pad);
    free(t);
}
