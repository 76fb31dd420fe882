/* SPDX-License-Identifier: MIT */
#include "nicsim/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void nicsim_msg_vset(struct nicsim_msg *m, long index, const char *fmt, va_list ap)
{
    if (!m)
        return;
    m->index = index;
    vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
}

void nicsim_msg_set(struct nicsim_msg *m, long index, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nicsim_msg_vset(m, index, fmt, ap);
    va_end(ap);
}

void nicsim_errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

char *nicsim_read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (ferror(f)) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

char *nicsim_read_limited(FILE *f, size_t limit, bool text, size_t *len)
{
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    char *buf;

    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            return NULL;
        }
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
            if (len)
                *len = (size_t)st.st_size;
            errno = EFBIG;
            return NULL;
        }
    }
    if (cap > limit + 1)
        cap = limit + 1;
    buf = malloc(cap);
    while (buf) {
        /* one byte more than the limit tells a stream that is too long */
        size_t want = cap - n - 1;
        if (want == 0) {
            if (n > limit) {
                free(buf);
                if (len)
                    *len = n;
                errno = EFBIG;
                return NULL;
            }
            size_t ncap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap = ncap;
            continue;
        }
        size_t got = fread(buf + n, 1, want, f);
        if (text && got) {
            const char *z = memchr(buf + n, 0, got);
            if (z) {
                if (len)
                    *len = (size_t)(z - buf);
                free(buf);
                errno = EILSEQ;
                return NULL;
            }
        }
        n += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        free(buf);
        errno = e;
        return NULL;
    }
    if (n > limit) {
        free(buf);
        if (len)
            *len = n;
        errno = EFBIG;
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}
