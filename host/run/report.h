/* SPDX-License-Identifier: MIT */
/*
 * Reports of a replay: one JSON object per packet written as the trace streams by (memory stays
 * flat), a summary object at the end, and the human summary on the terminal. The per-packet
 * records are formatted straight into a buffered stream (no JSON library object per packet: the
 * report must not cost more than the replay); the summary is built with jansson. Three forms,
 * any together: the JSON document (--json: {"packets": [...], "summary": {...}}), JSON Lines
 * (--json-lines, or --json FILE.jsonl: one packet object per line with "type": "packet", the
 * summary last with "type": "summary") and CSV (one row per packet, --report DIR). Distributions
 * are exact: a count per value below 65536, and every larger value kept (eight bytes each, so
 * memory grows only with the packets whose figure reaches 65536: under overload, latencies); the
 * median and p99 are the nearest-rank values of exactly what the per-packet reports give.
 */
#ifndef NICSIM_REPORT_H
#define NICSIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nicsim/datapath.h"

#define REPORT_HIST_EXACT 65536u

struct report_hist {
    uint64_t exact[REPORT_HIST_EXACT];
    uint64_t *big; /* the values >= REPORT_HIST_EXACT, sorted on the first quantile */
    size_t n_big, cap_big;
    bool sorted;
    bool oom; /* a large value could not be kept: quantiles above the small ones are max */
    uint64_t count, sum, min, max;
};

void nicsim_report_hist__add(struct report_hist *h, uint64_t v);
/* The nearest-rank value at pct percent (1..100): the smallest value with at least
 * ceil(pct * count / 100) values at or below it. */
uint64_t nicsim_report_hist__quantile(struct report_hist *h, unsigned pct);
void nicsim_report_hist__free(struct report_hist *h);

/* What the kernel did with one packet (from BPF_PROG_TEST_RUN). */
struct report_kernel_pkt {
    bool valid;
    uint32_t retval;
    const uint8_t *data; /* data .. data_end (metadata excluded) */
    uint32_t len;
    uint64_t ns; /* the kernel's average duration */
    bool match;  /* verdict and bytes equal to the NIC's */
    char mismatch[160];
};

#define REPORT_FLUSH (1u << 20)

/* A growable byte buffer the per-packet records are formatted into. */
struct report_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

/* Where the reports go (NULL: not written). */
struct report_paths {
    const char *json;  /* the JSON document */
    const char *json2; /* a second copy of it (--json beside --report DIR) */
    const char *jsonl; /* JSON Lines */
    const char *csv;   /* one row per packet */
};

struct run_summary;

/* --json FILE.jsonl asks for JSON Lines. */
static inline bool report_is_jsonl(const char *path)
{
    size_t n = strlen(path);
    return n > 6 && !strcmp(path + n - 6, ".jsonl");
}

struct report {
    FILE *json;  /* NULL: no JSON document */
    FILE *json2; /* NULL: no second copy */
    FILE *jsonl; /* NULL: no JSON Lines */
    FILE *csv;   /* NULL: no CSV */
    bool json_first;
    /* what is not yet written to json, jsonl, csv: records are formatted straight into these
     * and written in large pieces (REPORT_FLUSH bytes) */
    struct report_buf jbuf, lbuf, cbuf;
    uint32_t clock_mhz;
    uint64_t packets, mac_errors[5];
    uint64_t wire_bytes; /* frame bytes as received (the caller adds them), for line rates */
    uint64_t drops[NICSIM_DP_N_DROP]; /* by enum nicsim_dp_drop; [0]: frames that left the NIC */
    uint64_t left_wire_bits;          /* wire bits (frame + 24 bytes) of the frames that left */
    uint64_t first_arrival, last_departure; /* NIC cycles, over the packets that ran */
    bool any_timed;
    uint64_t verdicts[6];
    uint64_t traps, watchdogs;
    struct report_hist cycles, insns;
    struct report_hist latency_ns; /* arrival to departure: queueing + run, NIC clock in ns */
    struct nicsim_stalls stalls;   /* summed over the packets that ran */
    uint64_t issue, fill;          /* issue slots and pipeline fill, summed */
    const char *arrival;           /* how arrival times were made, for the summary */
    /* kernel */
    bool kernel;
    uint64_t kernel_mismatches;
    struct report_hist kernel_ns;
};

/* Opens the outputs named in `paths` (may be NULL: none). Returns 0, or -errno with *failed set
 * to the path that could not be created. */
int nicsim_report__open(struct report *r, const struct report_paths *paths, uint32_t clock_mhz,
                 bool kernel, const char **failed);
/* One packet, in trace order; `wirelen` is the frame's length on the wire. */
void nicsim_report__packet(struct report *r, uint64_t index, const struct nicsim_dp_result *res,
                    uint32_t wirelen, const struct report_kernel_pkt *k);
/* Summary object (JSON, JSON Lines) and terminal summary; fills `sum` when not NULL. Returns 0 or
 * -errno for a failed write of a report file (closed either way). */
int nicsim_report__finish(struct report *r, FILE *tty, const struct nicsim_dp_stats *stats,
                   uint32_t n_cores, const char *prog_name, struct run_summary *sum);
/* Closes the report files (if nicsim_report__finish did not) and frees the distributions. */
void nicsim_report__free(struct report *r);

#endif
