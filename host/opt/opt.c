/* SPDX-License-Identifier: MIT */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog_name = "nicsim";

void nicsim_cli_set_prog(const char *prog)
{
    prog_name = prog;
}

const char *nicsim_cli_prog(void)
{
    return prog_name;
}

static void vmsg(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int nicsim_cli_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return 1;
}

int nicsim_cli_usage_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int nicsim_cli_num(const char *opt, const char *s, uint64_t lo, uint64_t hi, const char *why,
            uint64_t *out)
{
    const char *p = s;
    int base = 10;
    uint64_t v = 0;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2]) {
        base = 16;
        p += 2;
    }
    if (!*p)
        return nicsim_cli_usage_fail("%s: '%s' is not a number", opt, s);
    bool big = false;
    for (; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else if (*p == '-' && p == s)
            return nicsim_cli_usage_fail("%s: '%s' is negative; the range is %llu..%llu%s%s", opt, s,
                                  (unsigned long long)lo, (unsigned long long)hi, why ? " " : "",
                                  why ? why : "");
        else
            return nicsim_cli_usage_fail("%s: '%s' is not a number", opt, s);
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            big = true;
        else
            v = v * (uint64_t)base + (uint64_t)d;
    }
    if (big || v < lo || v > hi)
        return nicsim_cli_usage_fail("%s: %s is out of range %llu..%llu%s%s", opt, s,
                              (unsigned long long)lo, (unsigned long long)hi, why ? " " : "",
                              why ? why : "");
    *out = v;
    return 0;
}

static int set_value(const struct cli_opt *o, const char *typed, const char *arg, void *user)
{
    uint64_t v;

    switch (o->kind) {
    case CLI_STR:
        *(const char **)o->dst = arg;
        return 0;
    case CLI_U32:
        if (nicsim_cli_num(typed, arg, o->lo, o->hi > UINT32_MAX ? UINT32_MAX : o->hi, o->why, &v))
            return CLI_USAGE;
        *(uint32_t *)o->dst = (uint32_t)v;
        return 0;
    case CLI_U64:
        if (nicsim_cli_num(typed, arg, o->lo, o->hi, o->why, &v))
            return CLI_USAGE;
        *(uint64_t *)o->dst = v;
        return 0;
    case CLI_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(arg, &end);
        if (end == arg || *end || errno == ERANGE || !isfinite(d))
            return nicsim_cli_usage_fail("%s: '%s' is not a number", typed, arg);
        if (d < o->dlo || (o->dlo_open && d == o->dlo) || d > o->dhi)
            return nicsim_cli_usage_fail("%s: %s is out of range: %s %g and at most %g%s%s", typed, arg,
                                  o->dlo_open ? "more than" : "at least", o->dlo, o->dhi,
                                  o->why ? " " : "", o->why ? o->why : "");
        *(double *)o->dst = d;
        return 0;
    }
    case CLI_FN:
        return o->fn(user, typed, arg);
    default:
        return CLI_USAGE;
    }
}

int nicsim_cli_parse(int argc, char **argv, int first, const struct cli_opt *opts, size_t n_opts,
              void *user, const char **pos, size_t max_pos, size_t *n_pos)
{
    bool options = true;

    *n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (options && !strcmp(a, "--")) {
            options = false;
            continue;
        }
        if (!options || a[0] != '-' || !a[1]) {
            if (*n_pos == max_pos)
                return nicsim_cli_usage_fail("unexpected argument '%s'", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        if (!strcmp(a, "-h"))
            return CLI_HELP;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const struct cli_opt *o = NULL;
        for (size_t k = 0; k < n_opts && !o; k++)
            if (strlen(opts[k].name) == len && !strncmp(opts[k].name, a, len))
                o = &opts[k];
        if (!o)
            return nicsim_cli_usage_fail("unknown option '%.*s'", (int)len, a);
        char typed[64];
        snprintf(typed, sizeof(typed), "%.*s", (int)len, a);
        if (o->seen)
            *o->seen = true;
        if (o->kind == CLI_HELPOPT)
            return CLI_HELP;
        if (o->kind == CLI_FLAG || o->kind == CLI_UNFLAG) {
            if (eq)
                return nicsim_cli_usage_fail("%s takes no value", typed);
            *(bool *)o->dst = o->kind == CLI_FLAG;
            continue;
        }
        const char *arg = eq ? eq + 1 : NULL;
        if (!arg) {
            if (i + 1 >= argc)
                return nicsim_cli_usage_fail("%s: a value is missing", typed);
            arg = argv[++i];
        }
        int rc = set_value(o, typed, arg, user);
        if (rc)
            return rc;
    }
    return 0;
}

int nicsim_cli_parse_cmd(int argc, char **argv, const struct cli_opt *opts, size_t n_opts, void *user,
                  const char **pos, size_t want_pos, size_t *n_pos, const char *use)
{
    int prc = nicsim_cli_parse(argc, argv, 1, opts, n_opts, user, pos, want_pos, n_pos);

    if (prc == CLI_HELP) {
        fputs(use, stdout);
        return CLI_HELP;
    }
    if (prc || *n_pos != want_pos) {
        fputs(use, stderr);
        return CLI_USAGE;
    }
    return 0;
}
