/* SPDX-License-Identifier: MIT */
/*
 * Trace input and output for replay: pcap/pcapng input through libpcap (streamed, one packet in
 * memory at a time), and pcapng output with one interface per egress (NIC ports and the host)
 * and a comment on every packet naming its trace index, verdict and egress.
 */
#ifndef NICSIM_REPLAY_H
#define NICSIM_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_trace_in;

struct nicsim_trace_pkt {
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wirelen;
    uint64_t ts_ns; /* capture timestamp */
};

/* Opens a pcap or pcapng file. Refuses link types other than Ethernet, naming the link type.
 * NULL with a message in err on failure. */
struct nicsim_trace_in *nicsim_trace_in__open(const char *path, char *err, size_t errlen);
/* 1: a packet; 0: end of trace; -1: read error (message in err, e.g. a truncated file). */
int nicsim_trace_in__next(struct nicsim_trace_in *t, struct nicsim_trace_pkt *pkt, char *err,
                          size_t errlen);
/* How far into the file reading is, 0..1; -1 when unknown (not a regular file). */
double nicsim_trace_in__progress(const struct nicsim_trace_in *t);
void nicsim_trace_in__close(struct nicsim_trace_in *t);

struct nicsim_trace_out;

/* Creates a pcapng file. `ifnames` names the output interfaces (e.g. "port0", "host"). */
struct nicsim_trace_out *nicsim_trace_out__create(const char *path, const char *const *ifnames,
                                                  uint32_t n_if, char *err, size_t errlen);
int nicsim_trace_out__write(struct nicsim_trace_out *t, uint32_t ifidx, uint64_t ts_ns,
                            const uint8_t *data, uint32_t len, const char *comment);
/* Flushes and closes; returns 0 or -errno (a failed write is reported here too). */
int nicsim_trace_out__close(struct nicsim_trace_out *t);

#ifdef __cplusplus
}
#endif
#endif
