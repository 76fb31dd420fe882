/* SPDX-License-Identifier: MIT */
/* Small helpers the host-side libraries share. */
#ifndef NICSIM_UTIL_H
#define NICSIM_UTIL_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* snprintf into a caller's message buffer; buf may be NULL (nothing written). */
void nicsim_errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The rest of a stream, NUL-terminated (malloc'ed; *len without the NUL, len may be NULL). NULL
 * with errno on a read error or when out of memory. */
char *nicsim_read_all(FILE *f, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_UTIL_H */
