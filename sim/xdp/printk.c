/* SPDX-License-Identifier: MIT */
/*
 * bpf_trace_printk formats: the kernel's checks (bpf_bprintf_prepare, as bpf_trace_printk calls
 * it with 3 arguments) on the core, and the formatting (bstr_printf into the trace buffer) on
 * the host. See include/nicsim/printk.h for the subset and the record layout.
 */
#include "nicsim/printk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

enum conv { C_NONE, C_INT, C_CHAR, C_STR, C_PTR };

struct spec {
    enum conv conv;
    char flags[8];
    unsigned width;
    int n_l;   /* 'l's before d/i/u/x/X */
    char type; /* d i u x X c s p */
};

/* Parses the conversion after the '%' at fmt[*i] (fmt NUL-terminated), as the kernel does. */
static int parse_spec(const char *fmt, size_t *i, struct spec *s)
{
    size_t k = *i + 1, nf = 0;

    memset(s, 0, sizeof(*s));
    while (fmt[k] == '0' || fmt[k] == '+' || fmt[k] == '-' || fmt[k] == ' ') {
        if (nf + 1 < sizeof(s->flags))
            s->flags[nf++] = fmt[k];
        k++;
    }
    if (fmt[k] >= '1' && fmt[k] <= '9') {
        while (fmt[k] >= '0' && fmt[k] <= '9') {
            if (s->width < 100000)
                s->width = s->width * 10 + (unsigned)(fmt[k] - '0');
            k++;
        }
    }
    if (fmt[k] == 'p') {
        char n = fmt[k + 1];
        if (n == 'K' || n == 'x') {
            k++;
        } else if (!(n == 0 || isspace((unsigned char)n) || ispunct((unsigned char)n))) {
            return -EINVAL; /* %pI4, %pks ...: not modelled */
        }
        s->conv = C_PTR;
        s->type = 'p';
    } else if (fmt[k] == 's') {
        s->conv = C_STR;
        s->type = 's';
    } else if (fmt[k] == 'c') {
        s->conv = C_CHAR;
        s->type = 'c';
    } else {
        if (fmt[k] == 'l') {
            s->n_l++;
            k++;
        }
        if (fmt[k] == 'l') {
            s->n_l++;
            k++;
        }
        if (fmt[k] != 'i' && fmt[k] != 'd' && fmt[k] != 'u' && fmt[k] != 'x' && fmt[k] != 'X')
            return -EINVAL;
        s->conv = C_INT;
        s->type = fmt[k];
    }
    *i = k;
    return 0;
}

int nicsim_printk_scan(const char *fmt, size_t fmt_size, int is_str[NICSIM_PRINTK_MAX_ARGS])
{
    int n = 0;

    if (!fmt || !fmt_size || strnlen(fmt, fmt_size) == fmt_size)
        return -EINVAL;
    for (size_t i = 0; fmt[i]; i++) {
        unsigned char c = (unsigned char)fmt[i];
        struct spec s;

        if (!isascii(c) || (!isprint(c) && !isspace(c)))
            return -EINVAL;
        if (c != '%')
            continue;
        if (fmt[i + 1] == '%') {
            i++;
            continue;
        }
        if (n >= NICSIM_PRINTK_MAX_ARGS || parse_spec(fmt, &i, &s))
            return -EINVAL;
        is_str[n++] = s.conv == C_STR;
    }
    for (int k = n; k < NICSIM_PRINTK_MAX_ARGS; k++)
        is_str[k] = 0;
    return n;
}

static void put(char *out, size_t out_len, size_t *at, const char *s, size_t n)
{
    if (*at + 1 < out_len) {
        size_t room = out_len - 1 - *at;
        memcpy(out + *at, s, n < room ? n : room);
    }
    *at += n;
}

int nicsim_printk_format(const void *rec, size_t len, char *out, size_t out_len)
{
    const uint8_t *p = rec;
    uint64_t args[NICSIM_PRINTK_MAX_ARGS];
    const char *fmt, *strs, *end;
    int is_str[NICSIM_PRINTK_MAX_ARGS], n, argi = 0;
    size_t at = 0;

    if (!rec || len < sizeof(args) + 1 || !out || !out_len)
        return -EINVAL;
    memcpy(args, p, sizeof(args));
    fmt = (const char *)p + sizeof(args);
    end = (const char *)p + len;
    n = nicsim_printk_scan(fmt, (size_t)(end - fmt), is_str);
    if (n < 0)
        return -EINVAL;
    strs = fmt + strlen(fmt) + 1;
    for (size_t i = 0; fmt[i]; i++) {
        char spec[32], buf[NICSIM_PRINTK_STR_MAX + 64];
        struct spec s;
        int w;

        if (fmt[i] != '%') {
            put(out, out_len, &at, &fmt[i], 1);
            continue;
        }
        if (fmt[i + 1] == '%') {
            put(out, out_len, &at, "%", 1);
            i++;
            continue;
        }
        if (parse_spec(fmt, &i, &s))
            return -EINVAL;
        uint64_t v = args[argi++];
        switch (s.conv) {
        case C_INT:
            snprintf(spec, sizeof(spec), "%%%s%.0ull%c", s.flags, s.width,
                     s.type == 'i' ? 'd' : s.type);
            if (s.type == 'd' || s.type == 'i')
                w = snprintf(buf, sizeof(buf), spec,
                             s.n_l ? (long long)v : (long long)(int32_t)(uint32_t)v);
            else
                w = snprintf(buf, sizeof(buf), spec,
                             s.n_l ? (unsigned long long)v : (unsigned long long)(uint32_t)v);
            break;
        case C_CHAR:
            snprintf(spec, sizeof(spec), "%%%s%.0uc", s.flags, s.width);
            w = snprintf(buf, sizeof(buf), spec, (char)v);
            break;
        case C_PTR:
            w = snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
            break;
        default: /* C_STR */
            if (strs >= end || !memchr(strs, 0, (size_t)(end - strs)))
                return -EINVAL;
            snprintf(spec, sizeof(spec), "%%%s%.0us", s.flags, s.width);
            w = snprintf(buf, sizeof(buf), spec, strs);
            strs += strlen(strs) + 1;
            break;
        }
        if (w > 0)
            put(out, out_len, &at, buf, (size_t)w < sizeof(buf) ? (size_t)w : sizeof(buf) - 1);
    }
    out[at < out_len ? at : out_len - 1] = '\0';
    return (int)(at < out_len ? at : out_len - 1);
}
