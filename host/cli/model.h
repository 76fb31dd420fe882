/* SPDX-License-Identifier: MIT */
/*
 * --model c|rtl, --lockstep and --wave for `nicsim exec` and `nicsim bench` (model.c): the
 * bpf_conformance environment on the Verilated RTL core, when this build has it (Verilator).
 */
#ifndef NICSIM_CLI_MODEL_H
#define NICSIM_CLI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicsim/core.h"
#include "nicsim/isa.h"

enum cli_model { CLI_MODEL_C, CLI_MODEL_RTL };

/* "c" or "rtl" (a usage error, with its message, when unknown or not built): 0 or CLI_USAGE. */
int cli_model_parse(const char *name, enum cli_model *out);

/* One run on the RTL, as nicsim_bpfconf_run on the C model; wave: an FST file or NULL.
 * -ENODEV after a message when the RTL model (or the waveform) cannot be set up. */
int cli_exec_rtl(const struct nicsim_insn *raw, size_t n, const uint8_t *mem, size_t memlen,
                 uint64_t budget, nicsim_trace_fn trace, void *trace_user, const char *wave,
                 struct nicsim_run *run, struct nicsim_isa_err *err);

/* C model and RTL on the same program, every retired instruction compared (pc, written register
 * value, retire cycle) and the end of the run; prints the agreement or the first divergence
 * (both records, both runs' ends, the cycle window). Exit status: 0, 1 (error or trap), 3
 * (divergence). */
int cli_exec_lockstep(const char *path, const struct nicsim_insn *raw, size_t n,
                      const uint8_t *mem, size_t memlen, uint64_t budget, const char *wave);

/* One timed run on the RTL and one on the C model: simulated cycles per second of each. 0, or
 * -1 after a message (including a disagreement on the counts). */
int cli_bench_rtl(const char *name, const struct nicsim_insn *raw, size_t n, const uint8_t *mem,
                  size_t memlen, uint64_t budget, double *rtl_cps, double *c_cps,
                  struct nicsim_run *run);

/* nicsim run --model rtl: the RTL core as the backend of every NIC core (nicsim_vm__set_backend)
 * with, when wave is not NULL, an FST waveform of the packets first..last that reach a core
 * (counted from 0); lockstep: the C model beside it on every run, the first divergence printed
 * and the process ended with status 3. -ENODEV after a message. */
int cli_run_rtl_open(const char *wave, uint64_t first, uint64_t last, bool lockstep,
                     nicsim_vm_backend_fn *fn, void **ctx);
/* lockstep: says that the models agreed on every run (a divergence has ended the process) */
void cli_run_rtl_close(void *ctx, bool lockstep);

#endif
