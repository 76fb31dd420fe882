/* SPDX-License-Identifier: MIT */
/* Reader for the bpf_conformance `.data` files: see conformance_data.h. */
#include "conformance_data.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum section { SEC_NONE, SEC_ASM, SEC_RAW, SEC_MEM, SEC_RESULT, SEC_ERROR, SEC_OTHER };

/* A growable byte buffer. */
struct buf {
    char *p;
    size_t len, cap;
};

static int buf_add(struct buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + len + 1)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p)
            return -ENOMEM;
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0;
    return 0;
}

__attribute__((format(printf, 4, 5))) static int fail(struct nicsim_msg *err, long line, int rc,
                                                      const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->index = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return rc;
}

static enum section section_of(const char *name, size_t len)
{
    static const struct {
        const char *name;
        enum section sec;
    } known[] = {{"asm", SEC_ASM},
                 {"raw", SEC_RAW},
                 {"mem", SEC_MEM},
                 {"result", SEC_RESULT},
                 {"error", SEC_ERROR}};
    while (len && isspace((unsigned char)name[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == len && !memcmp(known[i].name, name, len))
            return known[i].sec;
    return SEC_OTHER;
}

/* Split a NUL-terminated line (comment already cut) into whitespace-separated words. */
static char *next_word(char **cursor)
{
    char *p = *cursor;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p)
        return NULL;
    char *w = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = 0;
    *cursor = p;
    return w;
}

static int parse_u64(const char *w, int base, uint64_t *v)
{
    if (!*w || *w == '-' || *w == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(w, &end, base);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

static int hex_byte(const char *w, uint8_t *b)
{
    uint64_t v;
    if (strlen(w) > 2 || parse_u64(w, 16, &v) < 0)
        return -1;
    *b = (uint8_t)v;
    return 0;
}

/* One line of `-- raw`: a 64-bit little-endian value, or eight bytes. */
static int raw_line(char *line, struct buf *raw)
{
    char *cursor = line, *words[9];
    size_t nw = 0;
    char *w;
    while (nw < 9 && (w = next_word(&cursor)))
        words[nw++] = w;
    if (nw == 0)
        return 0;
    uint8_t bytes[8];
    if (nw == 1) {
        uint64_t v;
        const char *s = words[0];
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            s += 2;
        if (strlen(s) > 16 || parse_u64(s, 16, &v) < 0)
            return -1;
        for (int i = 0; i < 8; i++)
            bytes[i] = (uint8_t)(v >> (8 * i));
    } else if (nw == 8) {
        for (int i = 0; i < 8; i++)
            if (hex_byte(words[i], &bytes[i]) < 0)
                return -1;
    } else {
        return -1;
    }
    return buf_add(raw, bytes, 8) < 0 ? -ENOMEM : 0;
}

static int mem_line(char *line, struct buf *mem)
{
    char *cursor = line, *w;
    while ((w = next_word(&cursor))) {
        uint8_t b;
        if (hex_byte(w, &b) < 0)
            return -1;
        if (buf_add(mem, &b, 1) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int result_line(char *line, struct nicsim_conf_data *out)
{
    char *cursor = line, *w = next_word(&cursor);
    if (!w)
        return 0;
    if (out->has_result || next_word(&cursor))
        return -1;
    int hex = w[0] == '0' && (w[1] == 'x' || w[1] == 'X');
    if (parse_u64(hex ? w + 2 : w, hex ? 16 : 10, &out->result) < 0)
        return -1;
    out->has_result = 1;
    return 0;
}

static char *trimmed_copy(const struct buf *b)
{
    const char *s = b->p ? b->p : "";
    size_t len = b->len;
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    char *r = malloc(len + 1);
    if (r) {
        memcpy(r, s, len);
        r[len] = 0;
    }
    return r;
}

int nicsim_conf_data_parse(const char *text, struct nicsim_conf_data *out, struct nicsim_msg *err)
{
    if (err) {
        err->index = -1;
        err->msg[0] = 0;
    }
    if (!text || !out)
        return fail(err, -1, -EINVAL, "no text to parse");
    memset(out, 0, sizeof(*out));

    struct buf asm_text = {0}, raw = {0}, mem = {0}, error = {0}, line = {0};
    int has_asm = 0, has_raw = 0, has_error = 0;
    enum section sec = SEC_NONE;
    long lineno = 0;
    int rc = 0;

    for (const char *p = text; *p && !rc;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) + 1 : strlen(p); /* with its newline */
        lineno++;
        line.len = 0;
        if ((rc = buf_add(&line, p, len)) < 0)
            break;
        p += len;

        if (!strncmp(line.p, "-- ", 3)) {
            sec = section_of(line.p + 3, line.len - 3);
            has_asm |= sec == SEC_ASM;
            has_raw |= sec == SEC_RAW;
            has_error |= sec == SEC_ERROR;
            continue;
        }
        if (sec == SEC_ASM) {
            rc = buf_add(&asm_text, line.p, line.len);
            continue;
        }
        if (sec == SEC_ERROR) {
            rc = buf_add(&error, line.p, line.len);
            continue;
        }
        if (sec != SEC_RAW && sec != SEC_MEM && sec != SEC_RESULT)
            continue;
        char *hash = strchr(line.p, '#');
        if (hash)
            *hash = 0;
        if (sec == SEC_RAW)
            rc = raw_line(line.p, &raw);
        else if (sec == SEC_MEM)
            rc = mem_line(line.p, &mem);
        else
            rc = result_line(line.p, out);
        if (rc == -1)
            rc = fail(err, lineno, -EINVAL, "line %ld: malformed %s line", lineno,
                      sec == SEC_RAW   ? "raw"
                      : sec == SEC_MEM ? "mem"
                                       : "result");
    }
    if (rc == -ENOMEM)
        fail(err, lineno, rc, "line %ld: out of memory", lineno);

    if (!rc && has_asm) {
        out->asm_text = asm_text.p ? asm_text.p : strdup("");
        asm_text.p = NULL;
        if (!out->asm_text)
            rc = fail(err, -1, -ENOMEM, "out of memory");
    }
    if (!rc && has_raw) {
        out->raw_n = raw.len / 8;
        out->raw = calloc(out->raw_n ? out->raw_n : 1, sizeof(*out->raw));
        if (!out->raw)
            rc = fail(err, -1, -ENOMEM, "out of memory");
        else if (raw.len)
            memcpy(out->raw, raw.p, raw.len);
    }
    if (!rc && mem.len) {
        out->mem = (uint8_t *)mem.p;
        out->mem_len = mem.len;
        mem.p = NULL;
    }
    if (!rc && has_error && !(out->error = trimmed_copy(&error)))
        rc = fail(err, -1, -ENOMEM, "out of memory");

    free(asm_text.p);
    free(raw.p);
    free(mem.p);
    free(error.p);
    free(line.p);
    if (rc)
        nicsim_conf_data_free(out);
    return rc;
}

int nicsim_conf_data_load(const char *path, struct nicsim_conf_data *out, struct nicsim_msg *err)
{
    if (!path || !out)
        return fail(err, -1, -EINVAL, "no file to load");
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, -1, -errno, "%s: %s", path, strerror(errno));
    struct buf text = {0};
    char chunk[4096];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_add(&text, chunk, got);
    if (!rc && ferror(f))
        rc = fail(err, -1, -EIO, "%s: read error", path);
    else if (rc)
        fail(err, -1, rc, "%s: out of memory", path);
    fclose(f);
    if (!rc) {
        if (text.p && strlen(text.p) != text.len)
            rc = fail(err, -1, -EINVAL, "%s: contains a NUL byte", path);
        else
            rc = nicsim_conf_data_parse(text.p ? text.p : "", out, err);
    }
    free(text.p);
    return rc;
}

void nicsim_conf_data_free(struct nicsim_conf_data *d)
{
    if (!d)
        return;
    free(d->asm_text);
    free(d->raw);
    free(d->mem);
    free(d->error);
    memset(d, 0, sizeof(*d));
}
