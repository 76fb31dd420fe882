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
/* The memory block as the runs left it (memlen bytes, at most the block's length). 0 or -EINVAL. */
int nicsim_bpfconf__read_mem(const struct nicsim_bpfconf *env, uint8_t *out, size_t memlen);
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
/* As nicsim_bpfconf_parse_hex, with what is wrong in err: "'z' at offset 3 is not a hex digit",
 * "odd number of hex digits (3): the last byte has only one". */
long nicsim_bpfconf_parse_hex_err(const char *text, uint8_t **out, char *err, size_t errlen);

/* The most the readers take: a program of NICSIM_ISA_MAX_INSNS slots as hex ("b7 " per byte, or
 * four characters with any other spacing), or as raw bytes (8 a slot); assembler text at most
 * NICSIM_BPFCONF_ASM_LINE bytes a slot on average (comments, labels, indentation). */
#define NICSIM_BPFCONF_HEX_LIMIT ((size_t)NICSIM_ISA_MAX_INSNS * 8 * 4)
#define NICSIM_BPFCONF_BIN_LIMIT ((size_t)NICSIM_ISA_MAX_INSNS * 8)
#define NICSIM_BPFCONF_ASM_LINE  128
#define NICSIM_BPFCONF_ASM_LIMIT ((size_t)NICSIM_ISA_MAX_INSNS * NICSIM_BPFCONF_ASM_LINE)
/* The largest instruction budget the command line accepts: about ten seconds of simulation. */
#define NICSIM_BPFCONF_MAX_BUDGET 10000000000ull

#ifdef __cplusplus
}
#endif
#endif
