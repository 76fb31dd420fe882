/* SPDX-License-Identifier: MIT */
/* kref's reader of the kernel's bpf_trace_printk lines (trace.c). */
#ifndef NICSIM_KREF_TRACE_H
#define NICSIM_KREF_TRACE_H

#include <stdbool.h>
#include <stddef.h>

struct kref_trace {
    char dir[256]; /* the tracefs instance, "" if none */
    int fd;        /* its trace_pipe, -1 if none */
    size_t partial;
    char **lines; /* the text after "bpf_trace_printk: " of the last read */
    size_t n, cap;
};

/* 0, or -errno with why (tracefs unavailable, no permission ...). */
int nicsim_kref_trace_open(struct kref_trace *t, char *why, size_t whylen);
/* Reads what the kernel has written since the last read; keeps the lines when `keep`. */
void nicsim_kref_trace_read(struct kref_trace *t, bool keep);
void nicsim_kref_trace_clear(struct kref_trace *t);
void nicsim_kref_trace_close(struct kref_trace *t);

#endif
