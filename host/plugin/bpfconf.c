/* SPDX-License-Identifier: MIT */
#include "bpfconf.h"
#include "nicsim/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nicsim_bpfconf {
    struct nicsim_prog *prog;
    struct nicsim_vm *vm;
    uint8_t *block;
    size_t memlen;
    uint64_t r1;
};

/* Helper 5 of the conformance suite: returns r1; r1 == 0 ends the program with r0 = 0. */
static void helper5(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                    struct nicsim_helper_out *out)
{
    (void)vm;
    (void)user;
    out->ret = args[0];
    out->action = args[0] == 0 ? NICSIM_HELPER_EXIT : NICSIM_HELPER_CONTINUE;
}

static const struct nicsim_helper bpfconf_helpers[NICSIM_MAX_HELPERS] = {
    [5] = {.name = "conformance_helper5", .fn = helper5},
};

const struct nicsim_helper *nicsim_bpfconf_helpers(void)
{
    return bpfconf_helpers;
}

static void *fail(struct nicsim_isa_err *err, int e, const char *msg, size_t a)
{
    err->index = -1;
    snprintf(err->msg, sizeof(err->msg), msg, a);
    errno = e;
    return NULL;
}

struct nicsim_bpfconf *nicsim_bpfconf__new(const struct nicsim_insn *raw, size_t n,
                                           const uint8_t *mem, size_t memlen,
                                           const struct nicsim_bpfconf_opts *opts,
                                           struct nicsim_isa_err *err)
{
    struct nicsim_bpfconf_opts o = {0};
    if (opts && nicsim_opts_copy(&o, sizeof(o), opts) < 0)
        return fail(err, EINVAL, "options: size %zu with unknown non-zero fields", opts->sz);
    o.sz = sizeof(o);
    if (o.model != NICSIM_BPFCONF_MODEL_C)
        return fail(err, EINVAL, "model %zu is not available in this build", (size_t)o.model);
    if (memlen > UINT32_MAX)
        return fail(err, EINVAL, "memory block of %zu bytes is too large", memlen);

    struct nicsim_bpfconf *env = calloc(1, sizeof(*env));
    struct nicsim_isa_insn *dec = calloc(n ? n : 1, sizeof(*dec));
    if (!env || !dec)
        goto nomem;
    env->block = malloc(memlen ? memlen : 1);
    if (!env->block)
        goto nomem;
    if (memlen)
        memcpy(env->block, mem, memlen);
    env->memlen = memlen;
    if (nicsim_isa_decode(raw, n, dec, err) < 0)
        goto refused;
    struct nicsim_prog_opts popts = {
        .sz = sizeof(popts), .helpers = bpfconf_helpers, .name = "prog"};
    env->prog = nicsim_prog__load(dec, n, &popts, err);
    if (!env->prog)
        goto refused;
    struct nicsim_vm_opts vopts = {.sz = sizeof(vopts), .budget = o.budget};
    env->vm = nicsim_vm__new(&vopts);
    if (!env->vm)
        goto nomem;
    nicsim_vm__set_trace(env->vm, o.trace, o.trace_user);
    if (memlen) {
        struct nicsim_timing t;
        nicsim_timing_default(&t);
        struct nicsim_region r = {.host = env->block,
                                  .lo = 0,
                                  .hi = (uint32_t)memlen,
                                  .kind = NICSIM_RGN_MEM,
                                  .writable = 1,
                                  .latency = t.region_latency[NICSIM_RGN_MEM]};
        int idx = nicsim_vm__map(env->vm, &r);
        if (idx < 0)
            goto nomem;
        env->r1 = nicsim_addr((uint32_t)idx, 0);
    }
    free(dec);
    return env;
nomem:
    fail(err, ENOMEM, "out of memory loading a program of %zu slots", n);
refused:
    free(dec);
    nicsim_bpfconf__free(env);
    errno = EINVAL;
    return NULL;
}

int nicsim_bpfconf__exec(struct nicsim_bpfconf *env, struct nicsim_run *run)
{
    nicsim_vm__run(env->vm, env->prog, env->r1, env->memlen, run);
    return run->status == NICSIM_RUN_OK ? 0 : -EFAULT;
}

int nicsim_bpfconf__read_mem(const struct nicsim_bpfconf *env, uint8_t *out, size_t memlen)
{
    if (memlen > env->memlen)
        return -EINVAL;
    if (memlen)
        memcpy(out, env->block, memlen);
    return 0;
}

void nicsim_bpfconf__free(struct nicsim_bpfconf *env)
{
    if (!env)
        return;
    nicsim_vm__free(env->vm);
    nicsim_prog__free(env->prog);
    free(env->block);
    free(env);
}

int nicsim_bpfconf_run(const struct nicsim_insn *raw, size_t n, const uint8_t *mem, size_t memlen,
                       const struct nicsim_bpfconf_opts *opts, struct nicsim_run *run,
                       struct nicsim_isa_err *err)
{
    struct nicsim_bpfconf *env = nicsim_bpfconf__new(raw, n, mem, memlen, opts, err);
    if (!env)
        return -EINVAL;
    int rc = nicsim_bpfconf__exec(env, run);
    nicsim_bpfconf__free(env);
    return rc;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long nicsim_bpfconf_parse_hex_err(const char *text, uint8_t **out, char *err, size_t errlen)
{
    size_t cap = strlen(text) / 2 + 1, n = 0, digits = 0;
    uint8_t *buf = malloc(cap);
    int hi = -1;
    if (!buf) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (const char *p = text; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        int v = hexval((unsigned char)*p);
        if (v < 0) {
            free(buf);
            if (err && errlen) {
                if (isprint((unsigned char)*p))
                    snprintf(err, errlen, "'%c' at offset %zu is not a hex digit", *p,
                             (size_t)(p - text));
                else
                    snprintf(err, errlen, "byte 0x%02x at offset %zu is not a hex digit",
                             (unsigned char)*p, (size_t)(p - text));
            }
            return -EINVAL;
        }
        digits++;
        if (hi < 0) {
            hi = v;
        } else {
            buf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        free(buf);
        if (err && errlen)
            snprintf(err, errlen, "odd number of hex digits (%zu): the last byte has only one",
                     digits);
        return -EINVAL;
    }
    *out = buf;
    return (long)n;
}

long nicsim_bpfconf_parse_hex(const char *text, uint8_t **out)
{
    return nicsim_bpfconf_parse_hex_err(text, out, NULL, 0);
}
