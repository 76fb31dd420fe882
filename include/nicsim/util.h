/* SPDX-License-Identifier: MIT */
/* Small helpers the host-side libraries share. */
#ifndef NICSIM_UTIL_H
#define NICSIM_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one message carrier: a sentence for a person and where it applies. Every layer that
 * explains a refusal fills one (the ISA's decoder and assembler, the emulated kernel's extack,
 * ...; docs/architecture.md, "Conventions"). msg is always NUL-terminated ("" when nothing was
 * said); index is the instruction index, or the 1-based source line for the assembler, -1 when
 * the message is not about one.
 */
#define NICSIM_MSG_MAX 256
struct nicsim_msg {
    char msg[NICSIM_MSG_MAX];
    long index;
};
/* Sets m's sentence (the last call wins) and its index; m may be NULL (nothing is written). */
void nicsim_msg_set(struct nicsim_msg *m, long index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nicsim_msg_vset(struct nicsim_msg *m, long index, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* snprintf into a caller's message buffer; buf may be NULL (nothing written). */
void nicsim_errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The rest of a stream, NUL-terminated (malloc'ed; *len without the NUL, len may be NULL). NULL
 * with errno on a read error or when out of memory. */
char *nicsim_read_all(FILE *f, size_t *len);

/* As nicsim_read_all, for inputs with a size limit derived from what they can legally hold: at
 * most `limit` bytes. NULL with errno EFBIG when the stream holds more (a regular file's size is
 * checked before any read; *len is then the size, or how much was read), EISDIR for a directory,
 * EILSEQ for a NUL byte in a text input (`text`; *len is its offset), ENOMEM, or the read's
 * error. */
char *nicsim_read_limited(FILE *f, size_t limit, bool text, size_t *len);

/*
 * The one rule for every options / attribute struct whose first field is its size (size_t sz),
 * libbpf's OPTS_VALID: a caller's smaller struct is accepted, the fields it lacks reading as zero;
 * a larger struct only if every byte past the `known` bytes this library knows is zero. Copies
 * the first min(sz, known) bytes of opts into out (whose other bytes the caller has zeroed).
 * -EINVAL when sz cannot even hold the size field or the unknown tail is not zero; out is then
 * untouched.
 */
static inline int nicsim_opts_copy(void *out, size_t known, const void *opts)
{
    const unsigned char *p = (const unsigned char *)opts;
    size_t sz;

    memcpy(&sz, opts, sizeof(sz));
    if (sz < sizeof(size_t))
        return -EINVAL;
    for (size_t i = known; i < sz; i++)
        if (p[i])
            return -EINVAL;
    memcpy(out, opts, sz < known ? sz : known);
    return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_UTIL_H */
