/* SPDX-License-Identifier: MIT */
/* bpf_trace_printk lines of `nicsim run` (printk.c). */
#ifndef NICSIM_RUN_PRINTK_H
#define NICSIM_RUN_PRINTK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nicsim/ctrl.h"
#include "nicsim/kref.h"
#include "nicsim/obj.h"

struct cli_printk {
    char **lines; /* the current packet's lines, as printed */
    size_t n, cap;
    uint64_t total;
};

/* True if a loaded program (prog_fds[i] >= 0) calls bpf_trace_printk. */
bool nicsim_cli_printk_used(const struct nicsim_obj *obj, const int *prog_fds);
/* An event record: when it is a trace_printk record, prints it on tty (may be NULL) as
 * trace_pipe shows it, writes it to events (may be NULL) as a JSON line, keeps it for the
 * comparison and returns true; false for any other record. */
bool nicsim_cli_printk_on_event(struct cli_printk *p, FILE *tty, FILE *events, uint64_t packet,
                         const struct nicsim_event_rec *rec, const void *data);
void nicsim_cli_printk_begin_packet(struct cli_printk *p);
/* Compares the packet's lines with the kernel's; on a difference clears *match and says what. */
void nicsim_cli_printk_compare(const struct cli_printk *p, const struct nicsim_kref_result *kr,
                        bool *match, char *mismatch, size_t len);
void nicsim_cli_printk_free(struct cli_printk *p);

#endif
