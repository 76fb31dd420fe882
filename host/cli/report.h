/* SPDX-License-Identifier: MIT */
/*
 * Reports of a replay: one JSON object per packet written as the trace streams by (memory stays
 * flat), a summary object at the end, and the human summary on the terminal. Distributions are
 * exact: a count per value below 65536, and every larger value kept (eight bytes each, so memory
 * grows only with the packets whose figure reaches 65536: under overload, latencies); the
 * median and p99 are the nearest-rank values of exactly what the per-packet reports give.
 */
#ifndef NICSIM_REPORT_H
#define NICSIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

void report_hist__add(struct report_hist *h, uint64_t v);
/* The nearest-rank value at pct percent (1..100): the smallest value with at least
 * ceil(pct * count / 100) values at or below it. */
uint64_t report_hist__quantile(struct report_hist *h, unsigned pct);
void report_hist__free(struct report_hist *h);

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

struct report {
    FILE *json; /* NULL: no JSON */
    bool json_first;
    uint32_t clock_mhz;
    uint64_t packets, mac_errors[5];
    uint64_t wire_bytes; /* frame bytes as received (the caller adds them), for line rates */
    uint64_t verdicts[6];
    uint64_t traps, watchdogs;
    struct report_hist cycles, insns;
    struct report_hist latency_ns;
    struct nicsim_stalls stalls; /* summed over the packets that ran */
    uint64_t issue, fill;
    /* issue slots and pipeline fill, summed */ /* arrival to verdict: queueing + run, NIC clock
                                                   in ns */
    const char *arrival;                        /* how arrival times were made, for the summary */
    /* kernel */
    bool kernel;
    uint64_t kernel_mismatches;
    struct report_hist kernel_ns;
};

int report__open(struct report *r, const char *json_path, uint32_t clock_mhz, bool kernel);
/* One packet, in trace order. */
void report__packet(struct report *r, uint64_t index, const struct nicsim_dp_result *res,
                    const struct report_kernel_pkt *k);
/* Summary object (JSON) and terminal summary; returns 0 or -errno for a failed JSON write. */
int report__finish(struct report *r, FILE *tty, const struct nicsim_dp_stats *stats,
                   uint32_t n_cores, const char *prog_name);
/* Closes the JSON file (if report__finish did not) and frees the distributions. */
void report__free(struct report *r);

#endif
