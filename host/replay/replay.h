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
    uint32_t caplen;   /* bytes at data: what the NIC receives (after the --truncated policy) */
    uint32_t wirelen;  /* the frame's length on the wire as the NIC sees it */
    uint32_t captured; /* bytes the capture holds for this record (before any padding) */
    uint64_t ts_ns;    /* capture timestamp */
    uint32_t iface;    /* pcapng: the interface id of the record's block (in its section); pcap: 0 */
};

/*
 * Records the capture cut short (captured length < wire length: a snap length, `tcpdump -s 96`,
 * header-only traces of production links):
 *   PAD       zero-filled to the wire length, so that lengths (data_end, IP total length against
 *             the frame), cycles and line-rate arithmetic are those of the real frame; the bytes
 *             past the capture read as zeros. The default: a production trace replayed for its
 *             cost must keep its frame sizes.
 *   CAPTURED  the captured bytes alone, as a frame of that length (BPF_PROG_TEST_RUN given the
 *             captured bytes runs exactly this).
 *   REFUSE    handed on as cut: the NIC's MAC counts it as truncated and runs nothing.
 * Whatever the policy, the kernel comparison is fed the same bytes as the NIC.
 */
enum nicsim_trace_truncated {
    NICSIM_TRACE_TRUNC_PAD = 0,
    NICSIM_TRACE_TRUNC_CAPTURED,
    NICSIM_TRACE_TRUNC_REFUSE,
};
/* "pad", "captured", "refuse" to the policy; -EINVAL for anything else. */
int nicsim_trace_truncated__parse(const char *s, enum nicsim_trace_truncated *out);
const char *nicsim_trace_truncated__name(enum nicsim_trace_truncated t);

/* Opens a pcap or pcapng file. Refuses link types other than Ethernet, naming the link type.
 * NULL with a message in err on failure. The policy for cut records is PAD until set. */
struct nicsim_trace_in *nicsim_trace_in__open(const char *path, char *err, size_t errlen);
void nicsim_trace_in__set_truncated(struct nicsim_trace_in *t, enum nicsim_trace_truncated how);
/* 1: a packet; 0: end of trace; -1: read error (message in err, e.g. a truncated file, or a
 * record whose captured length exceeds its wire length: such a record cannot be a frame as
 * received, and is refused with both lengths rather than run as the longer frame). */
int nicsim_trace_in__next(struct nicsim_trace_in *t, struct nicsim_trace_pkt *pkt, char *err,
                          size_t errlen);
/* Records read so far that the capture had cut short (whatever was done with them). */
uint64_t nicsim_trace_in__n_cut(const struct nicsim_trace_in *t);
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
