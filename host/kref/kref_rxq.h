/* SPDX-License-Identifier: MIT */
/* Writes to ctx->rx_queue_index patched out of the kernel's copy of a program (rxq.c). */
#ifndef NICSIM_KREF_RXQ_H
#define NICSIM_KREF_RXQ_H

#include <stddef.h>

struct bpf_program;

#define NICSIM_KREF_RXQ_MAX_SECS 64

struct nicsim_kref_rxq {
    int handlers[NICSIM_KREF_RXQ_MAX_SECS]; /* libbpf custom section handler ids */
    size_t n_handlers;
    const struct bpf_program *prog; /* the chosen program */
    size_t removed;                 /* its writes replaced by no-ops */
    size_t removed_others;          /* those of tail-call targets */
};

/* Registers a handler (type XDP) for each section name, whose prepare step replaces the writes;
 * the object must be opened after this, and closed before nicsim_kref_rxq_unregister. */
int nicsim_kref_rxq_register(struct nicsim_kref_rxq *r, const char *const *secs, size_t n);
void nicsim_kref_rxq_unregister(struct nicsim_kref_rxq *r);

#endif /* NICSIM_KREF_RXQ_H */
