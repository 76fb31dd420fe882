/* SPDX-License-Identifier: MIT */
/*
 * The bpf_conformance execution environment on the nicsim core: r1 = the memory block (a
 * writable region), r2 = its length, helper 5 returns its argument and ends the program with
 * r0 = 0 when the argument is 0 (shared/conformance/README.md). Used by nicsim-plugin, the
 * conformance test suite, `nicsim exec` and `nicsim bench`, so that all run programs the same way.
 */
#ifndef NICSIM_BPFCONF_H
#define NICSIM_BPFCONF_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nicsim_bpfconf_model {
    NICSIM_BPFCONF_MODEL_C = 0,
};

struct nicsim_bpfconf_opts {
    size_t sz;                       /* sizeof(struct nicsim_bpfconf_opts) */
    enum nicsim_bpfconf_model model; /* only the C model exists in this build */
    uint64_t budget;                 /* instruction budget; 0: the core's default */
    nicsim_trace_fn trace;           /* per-instruction trace, or NULL */
    void *trace_user;
};

struct nicsim_bpfconf;

/* Decode and load `n` raw slots and a copy of `mem`. NULL with errno and err filled when the
 * program is refused. */
struct nicsim_bpfconf *nicsim_bpfconf__new(const struct nicsim_insn *raw, size_t n,
                                           const uint8_t *mem, size_t memlen,
                                           const struct nicsim_bpfconf_opts *opts,
                                           struct nicsim_isa_err *err);
/* Run once (the memory block keeps what earlier runs wrote). 0 when the program ran to its end,
 * -EFAULT when it trapped or hit the watchdog (run->trap.msg says why). */
int nicsim_bpfconf__exec(struct nicsim_bpfconf *env, struct nicsim_run *run);
void nicsim_bpfconf__free(struct nicsim_bpfconf *env);

/* new + exec + free. -EINVAL (err filled) when refused at load. */
int nicsim_bpfconf_run(const struct nicsim_insn *raw, size_t n, const uint8_t *mem, size_t memlen,
                       const struct nicsim_bpfconf_opts *opts, struct nicsim_run *run,
                       struct nicsim_isa_err *err);

/* The environment's helper table (NICSIM_MAX_HELPERS entries: helper 5), for other models
 * (the RTL harness answers its helper port with these functions). */
const struct nicsim_helper *nicsim_bpfconf_helpers(void);

/* Parse hex bytes ("b7 00 ..", "b700..", any whitespace) into a malloc'ed buffer. Returns the
 * byte count or -EINVAL on a non-hex character or an odd number of digits. */
long nicsim_bpfconf_parse_hex(const char *text, uint8_t **out);

#ifdef __cplusplus
}
#endif
#endif
