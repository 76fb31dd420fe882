/* SPDX-License-Identifier: MIT */
/*
 * nicsim core model: the NIC's eBPF core as a C cycle model (docs/microarchitecture.md).
 *
 * A program is decoded by the ISA library, then loaded here (nicsim_prog), which resolves helper
 * calls and annotates every slot with its timing class. A vm (one core) owns the register file,
 * the stack, the memory-region table and the helper table; nicsim_vm__run executes one program
 * invocation, counting instructions and cycles, and reports traps instead of crashing.
 *
 * NIC address space: every pointer the program sees is (region << 32) | offset. Region 0 is never
 * mapped, so NULL and small integers fault. Each access is checked against its region's
 * [lo, hi) window, size and write permission, in an element-divided region against one element's
 * window, and a region granted to some programs only (map memory) is unmapped to the others.
 */
#ifndef NICSIM_CORE_H
#define NICSIM_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NICSIM_REGION_SHIFT   32
#define NICSIM_MAX_REGIONS    4096
#define NICSIM_STACK_SIZE     512 /* bytes per call frame */
#define NICSIM_MAX_CALL_DEPTH 8   /* frames, including the program's own */
#define NICSIM_MAX_TAIL_CALLS 33  /* the kernel's MAX_TAIL_CALL_CNT; further tail calls fail */
#define NICSIM_MAX_HELPERS    256
#define NICSIM_DEFAULT_BUDGET (1u << 24) /* instructions per run before the watchdog fires */

static inline uint64_t nicsim_addr(uint32_t region, uint32_t offset)
{
    return ((uint64_t)region << NICSIM_REGION_SHIFT) | offset;
}
static inline uint32_t nicsim_addr_region(uint64_t addr)
{
    return (uint32_t)(addr >> 32);
}
static inline uint32_t nicsim_addr_offset(uint64_t addr)
{
    return (uint32_t)addr;
}

enum nicsim_region_kind {
    NICSIM_RGN_UNMAPPED = 0,
    NICSIM_RGN_STACK,
    NICSIM_RGN_CTX,    /* the XDP context (struct xdp_md view of the packet descriptor) */
    NICSIM_RGN_PACKET, /* packet buffer: headroom, metadata, data, tailroom */
    NICSIM_RGN_MAP,    /* a map's value memory */
    NICSIM_RGN_RODATA, /* read-only data */
    NICSIM_RGN_MEM,    /* a plain memory block (conformance tests, benchmarks) */
    NICSIM_RGN__COUNT
};
const char *nicsim_region_kind_name(enum nicsim_region_kind kind);

/*
 * One entry of the region table. Accessible offsets are [lo, hi).
 *
 * A region may be divided into elements (elem_stride != 0): element k covers
 * [lo + k * elem_stride, lo + (k + 1) * elem_stride) and only bytes [elem_lo, elem_hi) of each
 * element are accessible; an access must lie inside one element's window. The NIC uses this for
 * map value memory: one value (for a per-CPU map: this core's slice of it) per element, so that
 * an access past a value never reaches the neighbouring element or another core's slice. The
 * check is done by the same address decoder as the window check and costs no cycles.
 *
 * A region with NICSIM_RGN_F_GRANTED is visible only to programs whose load options grant its
 * index (struct nicsim_prog_opts.regions): for every other program it is unmapped.
 */
#define NICSIM_RGN_F_GRANTED 0x1u

struct nicsim_region {
    uint8_t *host;   /* host memory backing offset 0 */
    uint32_t lo, hi; /* accessible window */
    uint8_t kind;    /* enum nicsim_region_kind; UNMAPPED = free slot */
    uint8_t writable;
    uint8_t latency;           /* memory-stage cycles of an access, >= 1 */
    uint8_t flags;             /* NICSIM_RGN_F_* */
    uint32_t owner;            /* e.g. NIC map id, for reports */
    uint32_t elem_stride;      /* 0: the window is one block */
    uint32_t elem_lo, elem_hi; /* accessible bytes of each element, elem_hi <= elem_stride */
};

/* ---------------------------------------------------------------------------------------------
 * Timing parameters of the single-issue pipeline (docs/microarchitecture.md, "Timing rules").
 * nicsim_timing_default() gives the documented core; the RTL implements exactly these numbers.
 */
struct nicsim_timing {
    uint32_t pipeline_fill; /* cycles from first fetch until the first instruction retires - 1 */
    uint32_t taken_branch;  /* extra cycles for a taken conditional branch */
    uint32_t jump;          /* extra cycles for JA / JA32 */
    uint32_t call_local;    /* extra cycles for a local call */
    uint32_t ret_local;     /* extra cycles for EXIT from a subprogram */
    uint32_t lddw;          /* extra cycles for the second LDDW slot */
    uint32_t load_use;      /* extra cycles when an instruction reads a just-loaded register */
    uint32_t mul;           /* extra cycles for MUL (32 and 64) */
    uint32_t div32, div64;  /* extra cycles for DIV/SDIV/MOD/SMOD */
    uint32_t atomic;        /* extra memory-stage cycles of a read-modify-write */
    uint32_t helper_call;   /* fixed cycles of the helper-call handshake, before the unit's own */
    uint32_t tail_call;     /* extra cycles of a tail call (restart at the target's entry) */
    uint8_t region_latency[NICSIM_RGN__COUNT]; /* default latency per region kind */
};
void nicsim_timing_default(struct nicsim_timing *t);

/* Cycles a run spent, by cause. cycles = pipeline_fill + issue + sum of the stalls. */
struct nicsim_stalls {
    uint64_t load_use;
    uint64_t memory; /* memory-stage latency beyond one cycle, atomics' second access */
    uint64_t branch; /* taken conditional branches */
    uint64_t jump;   /* JA, JA32, LDDW second slot */
    uint64_t call;   /* local call and return, tail call */
    uint64_t muldiv;
    uint64_t helper; /* helper handshake + helper-unit cycles */
};

/* ---------------------------------------------------------------------------------------------
 * Helpers. A helper receives r1..r5 and fills an outcome. Helpers run in the helper unit: the
 * core stalls for timing.helper_call + out->cycles.
 */
struct nicsim_vm;
struct nicsim_prog;

enum nicsim_helper_action {
    NICSIM_HELPER_CONTINUE = 0, /* r0 = ret, go on */
    NICSIM_HELPER_EXIT,         /* end the run with r0 = ret (conformance helper 5 with arg 0) */
    NICSIM_HELPER_TAIL_CALL,    /* restart at `tail`'s entry with r1 unchanged */
    NICSIM_HELPER_TRAP,         /* fault: the run ends with a trap carrying `trap_msg` */
};

struct nicsim_helper_out {
    uint64_t ret;
    uint32_t cycles;
    uint8_t action; /* enum nicsim_helper_action */
    const struct nicsim_prog *tail;
    char trap_msg[128];
};

typedef void (*nicsim_helper_fn)(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                                 struct nicsim_helper_out *out);

struct nicsim_helper {
    const char *name; /* NULL: not provided */
    nicsim_helper_fn fn;
    void *user;
};

/* ---------------------------------------------------------------------------------------------
 * Programs.
 */
struct nicsim_prog_opts {
    size_t sz;                           /* sizeof(struct nicsim_prog_opts) */
    const struct nicsim_timing *timing;  /* NULL: nicsim_timing_default() */
    const struct nicsim_helper *helpers; /* NICSIM_MAX_HELPERS entries, or NULL */
    const char *name;                    /* for reports */
    /* Regions with NICSIM_RGN_F_GRANTED this program may address (its maps); others stay
     * unmapped while it runs. A tail call switches to the target's own grants. */
    const uint32_t *regions;
    uint32_t n_regions; /* at most NICSIM_MAX_GRANTS */
};
#define NICSIM_MAX_GRANTS 1024

/*
 * Load a decoded program: annotate timing, resolve every CALL_HELPER against opts->helpers.
 * Refuses (NULL, errno EINVAL, err filled with the index) a helper the table does not provide,
 * CALL_KFUNC, legacy packet loads and LDDW source types other than IMM64. The decoded array is
 * copied.
 */
struct nicsim_prog *nicsim_prog__load(const struct nicsim_isa_insn *insns, size_t n,
                                      const struct nicsim_prog_opts *opts, struct nicsim_msg *err);
void nicsim_prog__free(struct nicsim_prog *prog);
size_t nicsim_prog__len(const struct nicsim_prog *prog);
/* The decoded program as loaded (nicsim_prog__len slots), e.g. to disassemble a trace. */
const struct nicsim_isa_insn *nicsim_prog__insns(const struct nicsim_prog *prog);
const char *nicsim_prog__name(const struct nicsim_prog *prog);

/* ---------------------------------------------------------------------------------------------
 * Runs.
 */
enum nicsim_run_status {
    NICSIM_RUN_OK = 0,
    NICSIM_RUN_TRAP,     /* bad memory access, bad call, helper fault */
    NICSIM_RUN_WATCHDOG, /* instruction budget exhausted */
};

enum nicsim_trap_kind {
    NICSIM_TRAP_NONE = 0,
    NICSIM_TRAP_UNMAPPED,   /* address in no region */
    NICSIM_TRAP_BOUNDS,     /* outside the region's window */
    NICSIM_TRAP_READONLY,   /* write to a read-only region */
    NICSIM_TRAP_CALL_DEPTH, /* more than NICSIM_MAX_CALL_DEPTH frames */
    NICSIM_TRAP_BAD_HELPER, /* callx to a helper number the table does not provide */
    NICSIM_TRAP_HELPER,     /* a helper refused its arguments */
    NICSIM_TRAP_ILLEGAL,    /* an instruction the core cannot execute */
    NICSIM_TRAP_WATCHDOG,
};
const char *nicsim_trap_kind_name(enum nicsim_trap_kind kind);

struct nicsim_trap {
    uint8_t kind; /* enum nicsim_trap_kind */
    uint8_t is_write;
    uint8_t region_kind; /* enum nicsim_region_kind of the faulting region, if any */
    uint8_t size;        /* access size in bytes */
    uint32_t pc;         /* slot index in `prog_name` */
    uint64_t addr;
    char prog_name[32];
    char msg[192]; /* full sentence: "out-of-bounds read of 4 bytes at 0x... ..." */
};

struct nicsim_run {
    uint64_t r0;
    uint64_t insns;  /* executed instructions (LDDW counts once) */
    uint64_t cycles; /* by docs/microarchitecture.md */
    uint64_t issue;  /* issue slots used */
    struct nicsim_stalls stalls;
    uint32_t tail_calls;
    uint8_t status; /* enum nicsim_run_status */
    struct nicsim_trap trap;
};

/* Per-retired-instruction trace record (slow path; for debugging and RTL lockstep). */
struct nicsim_trace_rec {
    const struct nicsim_prog *prog;
    uint32_t pc;
    uint32_t cycles;    /* cycles this instruction added (issue + stalls) */
    uint64_t cycle;     /* cycle count after it */
    uint64_t dst_value; /* value of the destination register after it, if it writes one */
    struct nicsim_stalls stalls; /* the run's stall cycles by cause so far, this one included */
};
typedef void (*nicsim_trace_fn)(void *user, const struct nicsim_trace_rec *rec);

struct nicsim_vm_opts {
    size_t sz;        /* sizeof(struct nicsim_vm_opts) */
    uint32_t core_id; /* what get_smp_processor_id returns */
    uint64_t budget;  /* instructions per run; 0: NICSIM_DEFAULT_BUDGET */
};

struct nicsim_vm *nicsim_vm__new(const struct nicsim_vm_opts *opts);
void nicsim_vm__free(struct nicsim_vm *vm);

/* Region table. map returns the region number (>= 1) or a negative errno. Region 1 is the
 * stack, mapped by nicsim_vm__new. A region with NICSIM_RGN_F_GRANTED is installed but visible
 * only while a program that grants it runs; nicsim_vm__region returns the visible entry. */
int nicsim_vm__map(struct nicsim_vm *vm, const struct nicsim_region *region);
int nicsim_vm__map_at(struct nicsim_vm *vm, uint32_t index, const struct nicsim_region *region);
void nicsim_vm__unmap(struct nicsim_vm *vm, uint32_t index);
struct nicsim_region *nicsim_vm__region(struct nicsim_vm *vm, uint32_t index);
/* Make installed granted region `index` visible to the program running now, until it ends or
 * tail-calls (an inner map reached through an outer map the program is granted: the grant follows
 * the outer map's element). 0, -ENOENT if no such region is installed, -ENOSPC past
 * NICSIM_MAX_GRANTS visible regions. */
int nicsim_vm__grant_now(struct nicsim_vm *vm, uint32_t index);
/* Translate an address for a helper: host pointer to `size` bytes, or NULL when the access would
 * trap (out of a region, or a write to a read-only one). */
void *nicsim_vm__translate(struct nicsim_vm *vm, uint64_t addr, uint32_t size, int write);

uint32_t nicsim_vm__core_id(const struct nicsim_vm *vm);
void nicsim_vm__set_trace(struct nicsim_vm *vm, nicsim_trace_fn fn, void *user);
/* Cycle count of the run in progress, for helpers (ktime). */
uint64_t nicsim_vm__cycles_now(const struct nicsim_vm *vm);
/* Opaque pointer for the layer above (the XDP datapath). */
void nicsim_vm__set_user(struct nicsim_vm *vm, void *user);
void *nicsim_vm__user(const struct nicsim_vm *vm);

/*
 * Run `prog` once with r1 = arg1, r2 = arg2, r10 = top of the first stack frame; other registers
 * are zero. Returns 0 when the run ended (with OK, TRAP or WATCHDOG in out->status) and a
 * negative errno only for misuse.
 */
int nicsim_vm__run(struct nicsim_vm *vm, const struct nicsim_prog *prog, uint64_t arg1,
                   uint64_t arg2, struct nicsim_run *out);

/*
 * Core backend: another implementation of the core (the Verilated RTL, sim/rtl) runs this vm's
 * programs in place of the C model's run loop. nicsim_vm__run zeroes the stack and makes the
 * program's grants visible, then calls fn, which runs `prog` against this vm's region table
 * (its host memory is the backing store between runs and across helper calls), calls the
 * program's helpers (nicsim_prog__helpers) with this vm, emits the vm's trace records and fills
 * `out` as the run loop would. fn NULL: the C model again.
 */
typedef int (*nicsim_vm_backend_fn)(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                                    uint64_t arg1, uint64_t arg2, struct nicsim_run *out);
void nicsim_vm__set_backend(struct nicsim_vm *vm, nicsim_vm_backend_fn fn, void *ctx);
/* For backends: a tail call to `prog` (its grants replace the caller's, as in the run loop). */
void nicsim_vm__activate(struct nicsim_vm *vm, const struct nicsim_prog *prog);
/* For backends: what nicsim_vm__cycles_now returns (ktime) until the run ends; NULL: unset. */
void nicsim_vm__set_cycles_now(struct nicsim_vm *vm, const uint64_t *cycles);
/* The trace callback set by nicsim_vm__set_trace (NULL: none) and its user pointer. */
nicsim_trace_fn nicsim_vm__trace(const struct nicsim_vm *vm, void **user);
/* Lockstep: every helper call of this vm's runs goes to fn (with the helper the program would
 * call) instead of the helper; NULL: the helpers again. */
typedef void (*nicsim_vm_helper_hook)(void *user, struct nicsim_vm *vm, uint32_t id,
                                      const struct nicsim_helper *h, const uint64_t args[5],
                                      struct nicsim_helper_out *out);
void nicsim_vm__set_helper_hook(struct nicsim_vm *vm, nicsim_vm_helper_hook fn, void *user);
/* Instructions per run before the watchdog fires. */
uint64_t nicsim_vm__budget(const struct nicsim_vm *vm);
/* The helper table the program was loaded with (NICSIM_MAX_HELPERS entries). */
const struct nicsim_helper *nicsim_prog__helpers(const struct nicsim_prog *prog);
/* The C model's check of one access by `prog` at `pc`: 0 when it is allowed, else -EFAULT with
 * out's status and trap filled exactly as the run loop would (kind, region, message). */
int nicsim_vm__access_trap(struct nicsim_vm *vm, const struct nicsim_prog *prog, uint32_t pc,
                           uint64_t addr, uint32_t size, int write, struct nicsim_run *out);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_CORE_H */
