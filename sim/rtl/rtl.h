/* SPDX-License-Identifier: MIT */
/*
 * nicsim_rtl: the Verilated RTL core (rtl/ebpf_core.sv) behind the C model's interfaces.
 *
 * A nicsim_rtl owns one Verilated model, built once and reused for every run. Programs are
 * decoded and validated by the C model's loader (same refusals, same messages); the RTL then
 * runs the raw slots. Helper calls leave the core through its helper port and are answered here
 * with the C model's helper functions (struct nicsim_helper), charging what they report.
 *
 * Limits of this version (rtl/README.md): the region table has 16 entries and the data memory
 * 16 KiB (stack 4 KiB at 0, the rest for one plain-memory block). Helpers see a C-model vm
 * whose region table mirrors the RTL's and whose stack and block are copied from the RTL's data
 * memory before each helper call and written back after it.
 */
#ifndef NICSIM_RTL_H
#define NICSIM_RTL_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/core.h"
#include "nicsim/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest plain-memory block the RTL's data memory holds (after the 4 KiB stack). */
#define NICSIM_RTL_MEM_MAX (16384 - 4096)

struct nicsim_rtl;

/* How the conformance memory block is mapped (the C model's struct nicsim_region fields). */
struct nicsim_rtl_block {
    unsigned latency; /* MEM cycles of an access, 1..15; 0: the plain-memory default */
    int readonly;     /* stores and atomics to it trap */
};

struct nicsim_rtl *nicsim_rtl__new(void);
void nicsim_rtl__free(struct nicsim_rtl *rtl);

/*
 * The bpf_conformance environment on the RTL, exactly as nicsim_bpfconf_run sets it up on the C
 * model: r1 = the memory block (region 2, plain memory) or 0, r2 = its length, helper table
 * `helpers` (NICSIM_MAX_HELPERS entries); `block` (NULL: a writable plain-memory block) says how
 * the block is mapped. Returns 0 when the program ran to its end, -EFAULT on a
 * trap or the watchdog (run->trap says which), -EINVAL when refused at load (err filled).
 * trace, if not NULL, receives one record per executed instruction, as nicsim_vm__set_trace.
 */
int nicsim_rtl__run_conf(struct nicsim_rtl *rtl, const struct nicsim_insn *raw, size_t n,
                         const uint8_t *mem, size_t memlen,
                         const struct nicsim_rtl_block *block, uint64_t budget,
                         const struct nicsim_helper *helpers, nicsim_trace_fn trace,
                         void *trace_user, struct nicsim_run *run, struct nicsim_isa_err *err);

/*
 * Several loaded programs as one image (tail calls): progs[0] runs first, in the same
 * environment as nicsim_rtl__run_conf; a helper's tail call to progs[k] restarts at its first
 * slot. Trace records and traps name the program and its own pc, as the C model's.
 */
int nicsim_rtl__run_image(struct nicsim_rtl *rtl, const struct nicsim_prog *const *progs,
                          size_t nprogs, const uint8_t *mem, size_t memlen,
                          const struct nicsim_rtl_block *block, uint64_t budget,
                          const struct nicsim_helper *helpers, nicsim_trace_fn trace,
                          void *trace_user, struct nicsim_run *run, struct nicsim_isa_err *err);

/*
 * The core backend (nicsim_vm__set_backend with ctx = a struct nicsim_rtl): runs `prog` on the
 * RTL against the vm's environment (region table, host memory, the program's helpers, trace,
 * budget), e.g. an XDP core's packet frame, context and map values. Data memory: the stack at 0,
 * then every visible region 2..31 that is one block (context, 4 KiB packet frame, map memories
 * that fit), then one window per element-divided region (map values) that follows the last
 * element a helper returned a pointer to. Everything the RTL cannot hold is a trap that says so.
 */
int nicsim_rtl__run_vm(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                       uint64_t arg1, uint64_t arg2, struct nicsim_run *out);

/*
 * Lockstep backend (ctx = a struct nicsim_rtl): the RTL's run is the one that counts (as
 * nicsim_rtl__run_vm); the C model then runs the same program on a copy of the environment as it
 * was at the start, its helper calls answered from the RTL run's record (result, cycles, and the
 * bytes and packet bounds each call changed), so that nothing happens twice. Compared: every
 * retired instruction (program, pc, retire cycle, dst register value), the helper calls and
 * their arguments, the end of the run (status, r0, counts, stalls, trap) and the memory after it
 * (stack, context, packet frame, the map values the RTL held). On the first difference the
 * report callback receives the run index, the instruction, both records, both ends and the
 * cycle window.
 */
int nicsim_rtl__run_vm_lockstep(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                                uint64_t arg1, uint64_t arg2, struct nicsim_run *out);
void nicsim_rtl__set_lockstep_report(struct nicsim_rtl *rtl,
                                     void (*fn)(void *user, const char *report), void *user);

/* After a run: the memory block as the RTL left it (memlen bytes copied to out). */
int nicsim_rtl__read_mem(struct nicsim_rtl *rtl, uint8_t *out, size_t memlen);

/* Record every following run as a waveform: FST when the path ends in .fst, else VCD is not
 * supported (-EINVAL). NULL stops recording and closes the file. 0 or -errno. */
int nicsim_rtl__set_wave(struct nicsim_rtl *rtl, const char *path);

/* Record only nicsim_rtl__run_vm's runs first..last (counted from 0 over this model's life:
 * in `nicsim run`, the packets that reached a core) in the waveform. */
void nicsim_rtl__set_wave_runs(struct nicsim_rtl *rtl, uint64_t first, uint64_t last);

/* nicsim_rtl__run_vm (and _lockstep) runs so far. */
uint64_t nicsim_rtl__runs(const struct nicsim_rtl *rtl);

/* Clock cycles simulated by this model so far (for speed figures). */
uint64_t nicsim_rtl__sim_cycles(const struct nicsim_rtl *rtl);

#ifdef __cplusplus
}
#endif
#endif
