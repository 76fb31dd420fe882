/* SPDX-License-Identifier: MIT */
/*
 * bpf_trace_printk (bpf_printk) on the NIC: the format rules of the kernel's
 * bpf_bprintf_prepare for bpf_trace_printk, the record a core hands to the host through the
 * firmware's event queue, and the formatting the host does, as the kernel's bstr_printf does it
 * for the trace buffer.
 *
 * Accepted, as the kernel accepts them: at most 3 conversions; flags among "0+- " and a decimal
 * width; %d %i %u %x %X with no, one or two 'l' (no 'l': the low 32 bits of the argument, signed
 * for %d/%i); %c; %s (the string is read by the core when the helper runs, at most
 * NICSIM_PRINTK_STR_MAX bytes; unreadable memory prints as the empty string, as the kernel's
 * strncpy_from_kernel_nofault leaves it); %p, %px, %pK (the address in hex; the kernel hashes
 * plain %p and %pK, so those never compare); %%. Anything else (a format not NUL-terminated
 * within its size, a character that is neither printable nor space, an unknown conversion, a
 * fourth conversion) makes the helper return -EINVAL and prints nothing, as in the kernel.
 *
 * Record (event data, little-endian): u64 args[3], the format with its NUL, then for every %s in
 * order its string with its NUL.
 */
#ifndef NICSIM_PRINTK_H
#define NICSIM_PRINTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The event queue's map id for trace_printk records (no map has it: ids start at 1). */
#define NICSIM_EVENT_TRACE_PRINTK 0xffffffffu
#define NICSIM_PRINTK_MAX_ARGS    3
#define NICSIM_PRINTK_STR_MAX     512  /* a %s argument, NUL included (the kernel's tmp buffer) */
#define NICSIM_PRINTK_OUT_MAX     1024 /* formatted text, as the kernel's trace_printk buffer */

/* Checks fmt (fmt_size bytes) as the kernel does; on success returns the number of conversions
 * that take an argument (0..3) and sets is_str[i] for the ones that are %s. -EINVAL otherwise. */
int nicsim_printk_scan(const char *fmt, size_t fmt_size, int is_str[NICSIM_PRINTK_MAX_ARGS]);

/* Formats a record (`rec`, `len` bytes) into out (NUL-terminated, cut at out_len - 1). Returns the
 * text length, or -EINVAL for a malformed record. */
int nicsim_printk_format(const void *rec, size_t len, char *out, size_t out_len);

#ifdef __cplusplus
}
#endif
#endif
