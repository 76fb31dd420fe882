/* SPDX-License-Identifier: MIT */
/*
 * The core's run loop: single issue, in order, counting events that docs/microarchitecture.md
 * §4 turns into cycles. One switch over the dense ISA op enum; every memory access goes through
 * xlate(), which checks the region table.
 *
 * The loop is written once (run_loop) and instantiated twice: without tracing (the fast path)
 * and with a per-instruction trace callback.
 */
#include "core_internal.h"
#include "nicsim/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(NICSIM_OP__COUNT <= 256, "ops must fit in a byte");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the core model assumes a little-endian host (eBPF memory is little-endian here)"
#endif

#define STACK_REGION 1u
#define STACK_BYTES  (NICSIM_STACK_SIZE * NICSIM_MAX_CALL_DEPTH)

/* Event counters of one run; cycles are derived from them at the end (events × penalty). */
struct counters {
    uint64_t insns;
    uint64_t load_use;   /* events */
    uint64_t memory;     /* cycles */
    uint64_t taken;      /* events */
    uint64_t ja;         /* events */
    uint64_t lddw;       /* events */
    uint64_t call_local; /* events */
    uint64_t ret_local;  /* events */
    uint64_t tail;       /* events */
    uint64_t mul;        /* events */
    uint64_t div32;      /* events */
    uint64_t div64;      /* events */
    uint64_t helper;     /* cycles, handshake included */
};

struct frame {
    const struct nicsim_prog *prog;
    uint32_t ret_pc;
    uint32_t may_goto; /* the caller's may_goto counter */
    uint64_t saved[4]; /* r6..r9 */
};

/* may_goto as the kernel rewrites it without a timed JIT (BPF_MAX_LOOPS): every function
 * invocation, and a tail-called program, starts a counter; each may_goto falls through and counts
 * down while it lasts, then jumps. */
#define MAY_GOTO_LOOPS (8u * 1024 * 1024)

struct nicsim_vm {
    struct nicsim_region regions[NICSIM_MAX_REGIONS]; /* what the running program sees */
    /* Regions with NICSIM_RGN_F_GRANTED as installed; copied into regions[] for the programs
     * that grant them while they run (activate()). */
    struct nicsim_region granted[NICSIM_MAX_REGIONS];
    uint64_t active_serial; /* program whose grants are visible; 0: none */
    uint32_t active[NICSIM_MAX_GRANTS];
    uint32_t n_active;
    uint32_t n_base; /* active[0..n_base) are the program's own grants, the rest grant_now's */
    uint8_t stack[STACK_BYTES];
    uint32_t core_id;
    uint64_t budget;
    nicsim_trace_fn trace;
    void *trace_user;
    void *user;
    /* live while a run is in progress */
    const struct counters *live;
    const struct nicsim_timing *live_timing;
    /* another core runs the programs (nicsim_vm__set_backend); ext_now: its cycle count */
    nicsim_vm_backend_fn backend;
    void *backend_ctx;
    uint64_t ext_now;
    bool ext_live;
    nicsim_vm_helper_hook helper_hook; /* answers helper calls in place of the helpers */
    void *hook_user;
};

/* ------------------------------------------------------------------------------------------- */

static const char *const region_names[NICSIM_RGN__COUNT] = {
    [NICSIM_RGN_UNMAPPED] = "unmapped", [NICSIM_RGN_STACK] = "stack",
    [NICSIM_RGN_CTX] = "context",       [NICSIM_RGN_PACKET] = "packet",
    [NICSIM_RGN_MAP] = "map value",     [NICSIM_RGN_RODATA] = "read-only data",
    [NICSIM_RGN_MEM] = "memory",
};

const char *nicsim_region_kind_name(enum nicsim_region_kind kind)
{
    return (unsigned)kind < NICSIM_RGN__COUNT ? region_names[kind] : "unknown";
}

static const char *const trap_names[] = {
    [NICSIM_TRAP_NONE] = "none",
    [NICSIM_TRAP_UNMAPPED] = "unmapped address",
    [NICSIM_TRAP_BOUNDS] = "out of bounds",
    [NICSIM_TRAP_READONLY] = "write to read-only memory",
    [NICSIM_TRAP_CALL_DEPTH] = "call depth exceeded",
    [NICSIM_TRAP_BAD_HELPER] = "call to unknown helper",
    [NICSIM_TRAP_HELPER] = "helper fault",
    [NICSIM_TRAP_ILLEGAL] = "illegal instruction",
    [NICSIM_TRAP_WATCHDOG] = "watchdog",
};

const char *nicsim_trap_kind_name(enum nicsim_trap_kind kind)
{
    return (unsigned)kind < sizeof(trap_names) / sizeof(trap_names[0]) && trap_names[kind]
               ? trap_names[kind]
               : "unknown";
}

/* ------------------------------------------------------------------------------------------- */

struct nicsim_vm *nicsim_vm__new(const struct nicsim_vm_opts *opts)
{
    struct nicsim_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return NULL;
    if (opts) {
        struct nicsim_vm_opts o = {0};

        if (nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
            free(vm);
            errno = EINVAL;
            return NULL;
        }
        vm->core_id = o.core_id;
        vm->budget = o.budget;
    }
    if (!vm->budget)
        vm->budget = NICSIM_DEFAULT_BUDGET;
    struct nicsim_region stack = {
        .host = vm->stack,
        .lo = 0,
        .hi = STACK_BYTES,
        .kind = NICSIM_RGN_STACK,
        .writable = 1,
        .latency = 1,
    };
    nicsim_vm__map_at(vm, STACK_REGION, &stack);
    return vm;
}

void nicsim_vm__free(struct nicsim_vm *vm)
{
    free(vm);
}

/* Hide the grants of the program that ran last; the next run makes its own visible. */
static void deactivate(struct nicsim_vm *vm)
{
    for (uint32_t i = 0; i < vm->n_active; i++)
        memset(&vm->regions[vm->active[i]], 0, sizeof(vm->regions[0]));
    vm->n_active = vm->n_base = 0;
    vm->active_serial = 0;
}

/* Make exactly `prog`'s granted regions visible (on entry and on every tail call). Nothing to do
 * when the same program runs again, which is the common case. */
static void activate(struct nicsim_vm *vm, const struct nicsim_prog *prog)
{
    if (vm->active_serial == prog->serial) {
        /* hide what the last run was granted on the way (an inner map it looked up) */
        while (vm->n_active > vm->n_base)
            memset(&vm->regions[vm->active[--vm->n_active]], 0, sizeof(vm->regions[0]));
        return;
    }
    deactivate(vm);
    for (uint32_t i = 0; i < prog->n_grants; i++) {
        uint32_t r = prog->grants[i];
        if (vm->granted[r].kind == NICSIM_RGN_UNMAPPED)
            continue;
        vm->regions[r] = vm->granted[r];
        vm->active[vm->n_active++] = r;
    }
    vm->n_base = vm->n_active;
    vm->active_serial = prog->serial;
}

int nicsim_vm__grant_now(struct nicsim_vm *vm, uint32_t index)
{
    if (index == 0 || index >= NICSIM_MAX_REGIONS || vm->granted[index].kind == NICSIM_RGN_UNMAPPED)
        return -ENOENT;
    if (vm->regions[index].kind != NICSIM_RGN_UNMAPPED)
        return 0; /* visible already */
    if (vm->n_active == NICSIM_MAX_GRANTS)
        return -ENOSPC;
    vm->regions[index] = vm->granted[index];
    /* past n_base: the next run (or tail call) starts from its own grants again, without it */
    vm->active[vm->n_active++] = index;
    return 0;
}

int nicsim_vm__map_at(struct nicsim_vm *vm, uint32_t index, const struct nicsim_region *region)
{
    if (index == 0 || index >= NICSIM_MAX_REGIONS || !region || !region->host ||
        region->kind == NICSIM_RGN_UNMAPPED || region->kind >= NICSIM_RGN__COUNT ||
        region->lo > region->hi || region->latency == 0 || (region->flags & ~NICSIM_RGN_F_GRANTED))
        return -EINVAL;
    if (region->elem_stride &&
        (region->elem_lo >= region->elem_hi || region->elem_hi > region->elem_stride))
        return -EINVAL;
    if (region->flags & NICSIM_RGN_F_GRANTED) {
        deactivate(vm);
        vm->granted[index] = *region;
        memset(&vm->regions[index], 0, sizeof(vm->regions[index]));
        return (int)index;
    }
    if (vm->granted[index].kind != NICSIM_RGN_UNMAPPED) {
        deactivate(vm);
        memset(&vm->granted[index], 0, sizeof(vm->granted[index]));
    }
    vm->regions[index] = *region;
    return (int)index;
}

int nicsim_vm__map(struct nicsim_vm *vm, const struct nicsim_region *region)
{
    for (uint32_t i = STACK_REGION + 1; i < NICSIM_MAX_REGIONS; i++)
        if (vm->regions[i].kind == NICSIM_RGN_UNMAPPED &&
            vm->granted[i].kind == NICSIM_RGN_UNMAPPED)
            return nicsim_vm__map_at(vm, i, region);
    return -ENOSPC;
}

void nicsim_vm__unmap(struct nicsim_vm *vm, uint32_t index)
{
    if (index <= STACK_REGION || index >= NICSIM_MAX_REGIONS)
        return;
    if (vm->granted[index].kind != NICSIM_RGN_UNMAPPED) {
        deactivate(vm);
        memset(&vm->granted[index], 0, sizeof(vm->granted[index]));
    }
    memset(&vm->regions[index], 0, sizeof(vm->regions[index]));
}

struct nicsim_region *nicsim_vm__region(struct nicsim_vm *vm, uint32_t index)
{
    return index < NICSIM_MAX_REGIONS && vm->regions[index].kind != NICSIM_RGN_UNMAPPED
               ? &vm->regions[index]
               : NULL;
}

/* The one bounds check. Returns the region (for latency) or NULL with the trap kind. */
static inline const struct nicsim_region *check(const struct nicsim_vm *vm, uint64_t addr,
                                                uint32_t size, bool write, uint8_t *why)
{
    uint64_t r = addr >> NICSIM_REGION_SHIFT;
    uint32_t off = (uint32_t)addr;
    if (r >= NICSIM_MAX_REGIONS) {
        *why = NICSIM_TRAP_UNMAPPED;
        return NULL;
    }
    const struct nicsim_region *rg = &vm->regions[r];
    /* off < lo wraps to a large value, so one comparison covers both ends */
    if ((uint64_t)(uint32_t)(off - rg->lo) + size > (uint64_t)(rg->hi - rg->lo)) {
        *why = rg->kind == NICSIM_RGN_UNMAPPED ? NICSIM_TRAP_UNMAPPED : NICSIM_TRAP_BOUNDS;
        return NULL;
    }
    /* element-divided regions (map values): inside one element's accessible bytes */
    if (__builtin_expect(rg->elem_stride != 0, 0)) {
        uint32_t in = (off - rg->lo) % rg->elem_stride;
        if (in < rg->elem_lo || (uint64_t)in + size > rg->elem_hi) {
            *why = NICSIM_TRAP_BOUNDS;
            return NULL;
        }
    }
    if (write && !rg->writable) {
        *why = NICSIM_TRAP_READONLY;
        return NULL;
    }
    return rg;
}

void *nicsim_vm__translate(struct nicsim_vm *vm, uint64_t addr, uint32_t size, int write)
{
    uint8_t why;
    const struct nicsim_region *rg = check(vm, addr, size, write != 0, &why);
    return rg ? rg->host + (uint32_t)addr : NULL;
}

uint32_t nicsim_vm__core_id(const struct nicsim_vm *vm)
{
    return vm->core_id;
}
void nicsim_vm__set_user(struct nicsim_vm *vm, void *user)
{
    vm->user = user;
}
void *nicsim_vm__user(const struct nicsim_vm *vm)
{
    return vm->user;
}

void nicsim_vm__set_trace(struct nicsim_vm *vm, nicsim_trace_fn fn, void *user)
{
    vm->trace = fn;
    vm->trace_user = user;
}

/* docs/microarchitecture.md §4: cycles from the event counters. */
static void account(const struct nicsim_timing *t, const struct counters *c,
                    struct nicsim_stalls *s, uint64_t *issue, uint64_t *cycles)
{
    s->load_use = c->load_use * t->load_use;
    s->memory = c->memory;
    s->branch = c->taken * t->taken_branch;
    s->jump = c->ja * t->jump + c->lddw * t->lddw;
    s->call = c->call_local * t->call_local + c->ret_local * t->ret_local + c->tail * t->tail_call;
    s->muldiv = c->mul * t->mul + c->div32 * t->div32 + c->div64 * t->div64;
    s->helper = c->helper;
    *issue = c->insns;
    *cycles = t->pipeline_fill + c->insns + s->load_use + s->memory + s->branch + s->jump +
              s->call + s->muldiv + s->helper;
}

uint64_t nicsim_vm__cycles_now(const struct nicsim_vm *vm)
{
    if (vm->ext_live)
        return vm->ext_now;
    if (!vm->live)
        return 0;
    struct nicsim_stalls s;
    uint64_t issue, cycles;
    account(vm->live_timing, vm->live, &s, &issue, &cycles);
    return cycles;
}

/* ------------------------------------------------------------------------------------------- */

static void set_trap(struct nicsim_run *out, const struct nicsim_prog *prog, uint32_t pc,
                     uint8_t kind)
{
    out->status = kind == NICSIM_TRAP_WATCHDOG ? NICSIM_RUN_WATCHDOG : NICSIM_RUN_TRAP;
    out->trap.kind = kind;
    out->trap.pc = pc;
    snprintf(out->trap.prog_name, sizeof(out->trap.prog_name), "%s", prog->name);
}

static void mem_trap(struct nicsim_vm *vm, struct nicsim_run *out, const struct nicsim_prog *prog,
                     uint32_t pc, uint64_t addr, uint32_t size, bool write, uint8_t why)
{
    set_trap(out, prog, pc, why);
    uint64_t r = addr >> NICSIM_REGION_SHIFT;
    const struct nicsim_region *rg = r < NICSIM_MAX_REGIONS ? &vm->regions[r] : NULL;
    out->trap.addr = addr;
    out->trap.size = (uint8_t)size;
    out->trap.is_write = write;
    out->trap.region_kind = rg ? rg->kind : NICSIM_RGN_UNMAPPED;
    if (why == NICSIM_TRAP_UNMAPPED && r < NICSIM_MAX_REGIONS &&
        vm->granted[r].kind != NICSIM_RGN_UNMAPPED) {
        snprintf(out->trap.msg, sizeof(out->trap.msg),
                 "%s: insn %u: %s of %u bytes at 0x%llx: region %llu (%s, owner %u) is not "
                 "granted to this program (not in its map table)",
                 prog->name, pc, write ? "write" : "read", size, (unsigned long long)addr,
                 (unsigned long long)r, nicsim_region_kind_name(vm->granted[r].kind),
                 vm->granted[r].owner);
    } else if (why == NICSIM_TRAP_UNMAPPED) {
        snprintf(out->trap.msg, sizeof(out->trap.msg),
                 "%s: insn %u: %s of %u bytes at 0x%llx: address is in no mapped region",
                 prog->name, pc, write ? "write" : "read", size, (unsigned long long)addr);
    } else if (why == NICSIM_TRAP_BOUNDS && rg->elem_stride && (uint32_t)addr >= rg->lo &&
               (uint64_t)(uint32_t)addr + size <= rg->hi) {
        uint32_t in = ((uint32_t)addr - rg->lo) % rg->elem_stride;
        snprintf(out->trap.msg, sizeof(out->trap.msg),
                 "%s: insn %u: out-of-bounds %s of %u bytes at 0x%llx: %s region %llu element %u "
                 "bytes [%u, %u) are outside its accessible [%u, %u)",
                 prog->name, pc, write ? "write" : "read", size, (unsigned long long)addr,
                 nicsim_region_kind_name(rg->kind), (unsigned long long)r,
                 ((uint32_t)addr - rg->lo) / rg->elem_stride, in, in + size, rg->elem_lo,
                 rg->elem_hi);
    } else if (why == NICSIM_TRAP_READONLY) {
        snprintf(out->trap.msg, sizeof(out->trap.msg),
                 "%s: insn %u: write of %u bytes at 0x%llx: %s region %llu is read-only",
                 prog->name, pc, size, (unsigned long long)addr, nicsim_region_kind_name(rg->kind),
                 (unsigned long long)r);
    } else {
        snprintf(out->trap.msg, sizeof(out->trap.msg),
                 "%s: insn %u: out-of-bounds %s of %u bytes at 0x%llx: %s region %llu offset %u "
                 "is outside [%u, %u)",
                 prog->name, pc, write ? "write" : "read", size, (unsigned long long)addr,
                 nicsim_region_kind_name(rg->kind), (unsigned long long)r, (uint32_t)addr, rg->lo,
                 rg->hi);
    }
}

static inline uint64_t ld(const uint8_t *p, unsigned size)
{
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t d;
    switch (size) {
    case 1:
        memcpy(&b, p, 1);
        return b;
    case 2:
        memcpy(&h, p, 2);
        return h;
    case 4:
        memcpy(&w, p, 4);
        return w;
    default:
        memcpy(&d, p, 8);
        return d;
    }
}

static inline void st(uint8_t *p, unsigned size, uint64_t v)
{
    uint8_t b = (uint8_t)v;
    uint16_t h = (uint16_t)v;
    uint32_t w = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(p, &b, 1);
        break;
    case 2:
        memcpy(p, &h, 2);
        break;
    case 4:
        memcpy(p, &w, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static inline uint64_t sext(uint64_t v, unsigned bits)
{
    uint64_t m = 1ull << (bits - 1);
    v &= (bits == 64) ? ~0ull : ((1ull << bits) - 1);
    return (v ^ m) - m;
}

/* Signed division and remainder with RFC 9669's rules: x/0 = 0, x%0 = x, INT_MIN/-1 = INT_MIN,
 * INT_MIN%-1 = 0 (no host trap). */
static inline int64_t sdiv64(int64_t a, int64_t b)
{
    if (b == 0)
        return 0;
    if (b == -1)
        return (int64_t)(0 - (uint64_t)a);
    return a / b;
}
static inline int64_t smod64(int64_t a, int64_t b)
{
    if (b == 0)
        return a;
    if (b == -1)
        return 0;
    return a % b;
}
static inline int32_t sdiv32(int32_t a, int32_t b)
{
    if (b == 0)
        return 0;
    if (b == -1)
        return (int32_t)(0 - (uint32_t)a);
    return a / b;
}
static inline int32_t smod32(int32_t a, int32_t b)
{
    if (b == 0)
        return a;
    if (b == -1)
        return 0;
    return a % b;
}

/* Atomic read-modify-write on host memory p (single core owns it during the access). */
static inline uint64_t atomic_rmw(uint8_t *p, unsigned size, unsigned op, uint64_t *src,
                                  uint64_t *r0)
{
    uint64_t old = ld(p, size), v = *src, nv = old;
    bool fetch = false;
    switch (op) {
    case NICSIM_OP_AFADD_W:
    case NICSIM_OP_AFADD_DW:
        fetch = true;
        /* fall through */
    case NICSIM_OP_AADD_W:
    case NICSIM_OP_AADD_DW:
        nv = old + v;
        break;
    case NICSIM_OP_AFOR_W:
    case NICSIM_OP_AFOR_DW:
        fetch = true;
        /* fall through */
    case NICSIM_OP_AOR_W:
    case NICSIM_OP_AOR_DW:
        nv = old | v;
        break;
    case NICSIM_OP_AFAND_W:
    case NICSIM_OP_AFAND_DW:
        fetch = true;
        /* fall through */
    case NICSIM_OP_AAND_W:
    case NICSIM_OP_AAND_DW:
        nv = old & v;
        break;
    case NICSIM_OP_AFXOR_W:
    case NICSIM_OP_AFXOR_DW:
        fetch = true;
        /* fall through */
    case NICSIM_OP_AXOR_W:
    case NICSIM_OP_AXOR_DW:
        nv = old ^ v;
        break;
    case NICSIM_OP_AXCHG_W:
    case NICSIM_OP_AXCHG_DW:
        fetch = true;
        nv = v;
        break;
    default: /* CMPXCHG: compare r0 with memory, write src if equal, r0 = old */
    {
        uint64_t mask = size == 4 ? 0xffffffffull : ~0ull;
        if ((*r0 & mask) == old)
            nv = v;
        *r0 = old;
        st(p, size, nv);
        return old;
    }
    }
    st(p, size, nv);
    if (fetch)
        *src = old;
    return old;
}

static void emit_trace(struct nicsim_vm *vm, const struct nicsim_prog *prog, uint32_t pc,
                       const struct counters *c, const uint64_t *reg, uint8_t dst,
                       uint64_t *last_cycles)
{
    struct nicsim_trace_rec rec;
    struct nicsim_stalls s;
    uint64_t issue, cycles;
    account(&prog->timing, c, &s, &issue, &cycles);
    rec.prog = prog;
    rec.pc = pc;
    rec.cycle = cycles;
    rec.cycles = (uint32_t)(cycles - *last_cycles);
    rec.dst_value = reg[dst];
    rec.stalls = s;
    *last_cycles = cycles;
    vm->trace(vm->trace_user, &rec);
}

/*
 * The interpreter. `tracing` is a compile-time constant at both call sites, so the compiler
 * builds a fast copy without any trace code.
 */
static inline __attribute__((always_inline)) void
run_loop(struct nicsim_vm *vm, const struct nicsim_prog *entry, uint64_t a1, uint64_t a2,
         struct nicsim_run *out, const bool tracing)
{
    const struct nicsim_timing *T = &entry->timing;
    const struct nicsim_prog *prog = entry;
    const struct nicsim_xinsn *code = prog->code;
    struct frame frames[NICSIM_MAX_CALL_DEPTH];
    unsigned depth = 0;
    uint64_t reg[16] = {0}; /* r0..r10; 16 so that any 4-bit field indexes safely */
    struct counters c = {0};
    uint64_t budget = vm->budget;
    uint16_t loaded = 0; /* registers the previous instruction loaded */
    uint32_t pc = 0;
    uint32_t may_goto = MAY_GOTO_LOOPS;
    uint64_t last_cycles = T->pipeline_fill;

    memset(vm->stack, 0, sizeof(vm->stack));
    activate(vm, entry);
    vm->live = &c;
    vm->live_timing = T;
    reg[1] = a1;
    reg[2] = a2;
    reg[10] = nicsim_addr(STACK_REGION, STACK_BYTES);

    for (;;) {
        const struct nicsim_xinsn *x = &code[pc];
        const uint32_t cur = pc;
        const struct nicsim_prog *cur_prog = prog; /* a tail call switches prog */
        uint8_t why;
        const struct nicsim_region *rg;
        uint64_t addr;

        if (__builtin_expect(c.insns >= budget, 0)) {
            set_trap(out, prog, pc, NICSIM_TRAP_WATCHDOG);
            snprintf(out->trap.msg, sizeof(out->trap.msg),
                     "%s: insn %u: watchdog: instruction budget of %llu exhausted (the program "
                     "does not terminate in time)",
                     prog->name, pc, (unsigned long long)budget);
            goto done;
        }
        c.insns++;
        c.load_use += (loaded & x->rmask) != 0;
        loaded = x->ldmask;
        pc++;

        uint64_t *d = &reg[x->dst];
        const uint64_t s = reg[x->src];
        const uint64_t k = (uint64_t)(int64_t)x->imm;

        switch (x->op) {
        /* ---- 64-bit ALU ---- */
        case NICSIM_OP_ADD64_K:
            *d += k;
            break;
        case NICSIM_OP_ADD64_X:
            *d += s;
            break;
        case NICSIM_OP_SUB64_K:
            *d -= k;
            break;
        case NICSIM_OP_SUB64_X:
            *d -= s;
            break;
        case NICSIM_OP_MUL64_K:
            *d *= k;
            c.mul++;
            break;
        case NICSIM_OP_MUL64_X:
            *d *= s;
            c.mul++;
            break;
        case NICSIM_OP_DIV64_K:
            *d = k ? *d / k : 0;
            c.div64++;
            break;
        case NICSIM_OP_DIV64_X:
            *d = s ? *d / s : 0;
            c.div64++;
            break;
        case NICSIM_OP_SDIV64_K:
            *d = (uint64_t)sdiv64((int64_t)*d, (int64_t)k);
            c.div64++;
            break;
        case NICSIM_OP_SDIV64_X:
            *d = (uint64_t)sdiv64((int64_t)*d, (int64_t)s);
            c.div64++;
            break;
        case NICSIM_OP_MOD64_K:
            *d = k ? *d % k : *d;
            c.div64++;
            break;
        case NICSIM_OP_MOD64_X:
            *d = s ? *d % s : *d;
            c.div64++;
            break;
        case NICSIM_OP_SMOD64_K:
            *d = (uint64_t)smod64((int64_t)*d, (int64_t)k);
            c.div64++;
            break;
        case NICSIM_OP_SMOD64_X:
            *d = (uint64_t)smod64((int64_t)*d, (int64_t)s);
            c.div64++;
            break;
        case NICSIM_OP_OR64_K:
            *d |= k;
            break;
        case NICSIM_OP_OR64_X:
            *d |= s;
            break;
        case NICSIM_OP_AND64_K:
            *d &= k;
            break;
        case NICSIM_OP_AND64_X:
            *d &= s;
            break;
        case NICSIM_OP_LSH64_K:
            *d <<= (k & 63);
            break;
        case NICSIM_OP_LSH64_X:
            *d <<= (s & 63);
            break;
        case NICSIM_OP_RSH64_K:
            *d >>= (k & 63);
            break;
        case NICSIM_OP_RSH64_X:
            *d >>= (s & 63);
            break;
        case NICSIM_OP_ARSH64_K:
            *d = (uint64_t)((int64_t)*d >> (k & 63));
            break;
        case NICSIM_OP_ARSH64_X:
            *d = (uint64_t)((int64_t)*d >> (s & 63));
            break;
        case NICSIM_OP_NEG64:
            *d = 0 - *d;
            break;
        case NICSIM_OP_XOR64_K:
            *d ^= k;
            break;
        case NICSIM_OP_XOR64_X:
            *d ^= s;
            break;
        case NICSIM_OP_MOV64_K:
            *d = k;
            break;
        case NICSIM_OP_MOV64_X:
            *d = s;
            break;
        case NICSIM_OP_MOVSX8_64:
            *d = sext(s, 8);
            break;
        case NICSIM_OP_MOVSX16_64:
            *d = sext(s, 16);
            break;
        case NICSIM_OP_MOVSX32_64:
            *d = sext(s, 32);
            break;

        /* ---- 32-bit ALU: operate on the low halves, zero-extend the result ---- */
        case NICSIM_OP_ADD32_K:
            *d = (uint32_t)((uint32_t)*d + (uint32_t)k);
            break;
        case NICSIM_OP_ADD32_X:
            *d = (uint32_t)((uint32_t)*d + (uint32_t)s);
            break;
        case NICSIM_OP_SUB32_K:
            *d = (uint32_t)((uint32_t)*d - (uint32_t)k);
            break;
        case NICSIM_OP_SUB32_X:
            *d = (uint32_t)((uint32_t)*d - (uint32_t)s);
            break;
        case NICSIM_OP_MUL32_K:
            *d = (uint32_t)((uint32_t)*d * (uint32_t)k);
            c.mul++;
            break;
        case NICSIM_OP_MUL32_X:
            *d = (uint32_t)((uint32_t)*d * (uint32_t)s);
            c.mul++;
            break;
        case NICSIM_OP_DIV32_K:
            *d = (uint32_t)k ? (uint32_t)*d / (uint32_t)k : 0;
            c.div32++;
            break;
        case NICSIM_OP_DIV32_X:
            *d = (uint32_t)s ? (uint32_t)*d / (uint32_t)s : 0;
            c.div32++;
            break;
        case NICSIM_OP_SDIV32_K:
            *d = (uint32_t)sdiv32((int32_t)*d, (int32_t)k);
            c.div32++;
            break;
        case NICSIM_OP_SDIV32_X:
            *d = (uint32_t)sdiv32((int32_t)*d, (int32_t)s);
            c.div32++;
            break;
        case NICSIM_OP_MOD32_K:
            *d = (uint32_t)k ? (uint32_t)*d % (uint32_t)k : (uint32_t)*d;
            c.div32++;
            break;
        case NICSIM_OP_MOD32_X:
            *d = (uint32_t)s ? (uint32_t)*d % (uint32_t)s : (uint32_t)*d;
            c.div32++;
            break;
        case NICSIM_OP_SMOD32_K:
            *d = (uint32_t)smod32((int32_t)*d, (int32_t)k);
            c.div32++;
            break;
        case NICSIM_OP_SMOD32_X:
            *d = (uint32_t)smod32((int32_t)*d, (int32_t)s);
            c.div32++;
            break;
        case NICSIM_OP_OR32_K:
            *d = (uint32_t)*d | (uint32_t)k;
            break;
        case NICSIM_OP_OR32_X:
            *d = (uint32_t)*d | (uint32_t)s;
            break;
        case NICSIM_OP_AND32_K:
            *d = (uint32_t)*d & (uint32_t)k;
            break;
        case NICSIM_OP_AND32_X:
            *d = (uint32_t)*d & (uint32_t)s;
            break;
        case NICSIM_OP_LSH32_K:
            *d = (uint32_t)((uint32_t)*d << (k & 31));
            break;
        case NICSIM_OP_LSH32_X:
            *d = (uint32_t)((uint32_t)*d << (s & 31));
            break;
        case NICSIM_OP_RSH32_K:
            *d = (uint32_t)*d >> (k & 31);
            break;
        case NICSIM_OP_RSH32_X:
            *d = (uint32_t)*d >> (s & 31);
            break;
        case NICSIM_OP_ARSH32_K:
            *d = (uint32_t)((int32_t)*d >> (k & 31));
            break;
        case NICSIM_OP_ARSH32_X:
            *d = (uint32_t)((int32_t)*d >> (s & 31));
            break;
        case NICSIM_OP_NEG32:
            *d = (uint32_t)(0 - (uint32_t)*d);
            break;
        case NICSIM_OP_XOR32_K:
            *d = (uint32_t)*d ^ (uint32_t)k;
            break;
        case NICSIM_OP_XOR32_X:
            *d = (uint32_t)*d ^ (uint32_t)s;
            break;
        case NICSIM_OP_MOV32_K:
            *d = (uint32_t)k;
            break;
        case NICSIM_OP_MOV32_X:
            *d = (uint32_t)s;
            break;
        case NICSIM_OP_MOVSX8_32:
            *d = (uint32_t)sext(s, 8);
            break;
        case NICSIM_OP_MOVSX16_32:
            *d = (uint32_t)sext(s, 16);
            break;

        /* ---- byte order (little-endian core: LE truncates, BE and BSWAP swap) ---- */
        case NICSIM_OP_LE16:
            *d = (uint16_t)*d;
            break;
        case NICSIM_OP_LE32:
            *d = (uint32_t)*d;
            break;
        case NICSIM_OP_LE64:
            break;
        case NICSIM_OP_BE16:
        case NICSIM_OP_BSWAP16:
            *d = __builtin_bswap16((uint16_t)*d);
            break;
        case NICSIM_OP_BE32:
        case NICSIM_OP_BSWAP32:
            *d = __builtin_bswap32((uint32_t)*d);
            break;
        case NICSIM_OP_BE64:
        case NICSIM_OP_BSWAP64:
            *d = __builtin_bswap64(*d);
            break;

            /* ---- conditional jumps ---- */
#define JCOND(OPK, OPX, CMP_K, CMP_X)                                                              \
    case OPK:                                                                                      \
        if (CMP_K) {                                                                               \
            pc = (uint32_t)x->target;                                                              \
            c.taken++;                                                                             \
        }                                                                                          \
        break;                                                                                     \
    case OPX:                                                                                      \
        if (CMP_X) {                                                                               \
            pc = (uint32_t)x->target;                                                              \
            c.taken++;                                                                             \
        }                                                                                          \
        break;
            JCOND(NICSIM_OP_JEQ_K, NICSIM_OP_JEQ_X, *d == k, *d == s)
            JCOND(NICSIM_OP_JNE_K, NICSIM_OP_JNE_X, *d != k, *d != s)
            JCOND(NICSIM_OP_JGT_K, NICSIM_OP_JGT_X, *d > k, *d > s)
            JCOND(NICSIM_OP_JGE_K, NICSIM_OP_JGE_X, *d >= k, *d >= s)
            JCOND(NICSIM_OP_JLT_K, NICSIM_OP_JLT_X, *d < k, *d < s)
            JCOND(NICSIM_OP_JLE_K, NICSIM_OP_JLE_X, *d <= k, *d <= s)
            JCOND(NICSIM_OP_JSET_K, NICSIM_OP_JSET_X, (*d & k) != 0, (*d & s) != 0)
            JCOND(NICSIM_OP_JSGT_K, NICSIM_OP_JSGT_X, (int64_t)*d > (int64_t)k,
                  (int64_t)*d > (int64_t)s)
            JCOND(NICSIM_OP_JSGE_K, NICSIM_OP_JSGE_X, (int64_t)*d >= (int64_t)k,
                  (int64_t)*d >= (int64_t)s)
            JCOND(NICSIM_OP_JSLT_K, NICSIM_OP_JSLT_X, (int64_t)*d < (int64_t)k,
                  (int64_t)*d < (int64_t)s)
            JCOND(NICSIM_OP_JSLE_K, NICSIM_OP_JSLE_X, (int64_t)*d <= (int64_t)k,
                  (int64_t)*d <= (int64_t)s)
            JCOND(NICSIM_OP_JEQ32_K, NICSIM_OP_JEQ32_X, (uint32_t)*d == (uint32_t)k,
                  (uint32_t)*d == (uint32_t)s)
            JCOND(NICSIM_OP_JNE32_K, NICSIM_OP_JNE32_X, (uint32_t)*d != (uint32_t)k,
                  (uint32_t)*d != (uint32_t)s)
            JCOND(NICSIM_OP_JGT32_K, NICSIM_OP_JGT32_X, (uint32_t)*d > (uint32_t)k,
                  (uint32_t)*d > (uint32_t)s)
            JCOND(NICSIM_OP_JGE32_K, NICSIM_OP_JGE32_X, (uint32_t)*d >= (uint32_t)k,
                  (uint32_t)*d >= (uint32_t)s)
            JCOND(NICSIM_OP_JLT32_K, NICSIM_OP_JLT32_X, (uint32_t)*d < (uint32_t)k,
                  (uint32_t)*d < (uint32_t)s)
            JCOND(NICSIM_OP_JLE32_K, NICSIM_OP_JLE32_X, (uint32_t)*d <= (uint32_t)k,
                  (uint32_t)*d <= (uint32_t)s)
            JCOND(NICSIM_OP_JSET32_K, NICSIM_OP_JSET32_X, ((uint32_t)*d & (uint32_t)k) != 0,
                  ((uint32_t)*d & (uint32_t)s) != 0)
            JCOND(NICSIM_OP_JSGT32_K, NICSIM_OP_JSGT32_X, (int32_t)*d > (int32_t)k,
                  (int32_t)*d > (int32_t)s)
            JCOND(NICSIM_OP_JSGE32_K, NICSIM_OP_JSGE32_X, (int32_t)*d >= (int32_t)k,
                  (int32_t)*d >= (int32_t)s)
            JCOND(NICSIM_OP_JSLT32_K, NICSIM_OP_JSLT32_X, (int32_t)*d < (int32_t)k,
                  (int32_t)*d < (int32_t)s)
            JCOND(NICSIM_OP_JSLE32_K, NICSIM_OP_JSLE32_X, (int32_t)*d <= (int32_t)k,
                  (int32_t)*d <= (int32_t)s)
#undef JCOND

        case NICSIM_OP_JA:
        case NICSIM_OP_JA32:
            pc = (uint32_t)x->target;
            c.ja++;
            break;
        case NICSIM_OP_MAY_GOTO: /* timed as a conditional branch */
            if (may_goto) {
                may_goto--;
            } else {
                pc = (uint32_t)x->target;
                c.taken++;
            }
            break;

        /* ---- 64-bit immediate ---- */
        case NICSIM_OP_LDDW:
            *d = x->imm64;
            pc++;
            c.lddw++;
            break;

        /* ---- loads and stores ---- */
        case NICSIM_OP_LDXB:
        case NICSIM_OP_LDXH:
        case NICSIM_OP_LDXW:
        case NICSIM_OP_LDXDW:
            addr = s + (uint64_t)(int64_t)x->off;
            rg = check(vm, addr, x->size, false, &why);
            if (__builtin_expect(!rg, 0)) {
                mem_trap(vm, out, prog, cur, addr, x->size, false, why);
                goto done;
            }
            c.memory += rg->latency - 1u;
            *d = ld(rg->host + (uint32_t)addr, x->size);
            break;
        case NICSIM_OP_LDXSB:
        case NICSIM_OP_LDXSH:
        case NICSIM_OP_LDXSW:
            addr = s + (uint64_t)(int64_t)x->off;
            rg = check(vm, addr, x->size, false, &why);
            if (__builtin_expect(!rg, 0)) {
                mem_trap(vm, out, prog, cur, addr, x->size, false, why);
                goto done;
            }
            c.memory += rg->latency - 1u;
            *d = sext(ld(rg->host + (uint32_t)addr, x->size), x->size * 8u);
            break;
        case NICSIM_OP_STB:
        case NICSIM_OP_STH:
        case NICSIM_OP_STW:
        case NICSIM_OP_STDW:
        case NICSIM_OP_STXB:
        case NICSIM_OP_STXH:
        case NICSIM_OP_STXW:
        case NICSIM_OP_STXDW:
            addr = *d + (uint64_t)(int64_t)x->off;
            rg = check(vm, addr, x->size, true, &why);
            if (__builtin_expect(!rg, 0)) {
                mem_trap(vm, out, prog, cur, addr, x->size, true, why);
                goto done;
            }
            c.memory += rg->latency - 1u;
            st(rg->host + (uint32_t)addr, x->size, x->op >= NICSIM_OP_STXB ? s : k);
            break;

        case NICSIM_OP_AADD_W:
        case NICSIM_OP_AOR_W:
        case NICSIM_OP_AAND_W:
        case NICSIM_OP_AXOR_W:
        case NICSIM_OP_AFADD_W:
        case NICSIM_OP_AFOR_W:
        case NICSIM_OP_AFAND_W:
        case NICSIM_OP_AFXOR_W:
        case NICSIM_OP_AXCHG_W:
        case NICSIM_OP_ACMPXCHG_W:
        case NICSIM_OP_AADD_DW:
        case NICSIM_OP_AOR_DW:
        case NICSIM_OP_AAND_DW:
        case NICSIM_OP_AXOR_DW:
        case NICSIM_OP_AFADD_DW:
        case NICSIM_OP_AFOR_DW:
        case NICSIM_OP_AFAND_DW:
        case NICSIM_OP_AFXOR_DW:
        case NICSIM_OP_AXCHG_DW:
        case NICSIM_OP_ACMPXCHG_DW:
            addr = *d + (uint64_t)(int64_t)x->off;
            rg = check(vm, addr, x->size, true, &why);
            if (__builtin_expect(!rg, 0)) {
                mem_trap(vm, out, prog, cur, addr, x->size, true, why);
                goto done;
            }
            c.memory += 2u * rg->latency - 1u + T->atomic;
            atomic_rmw(rg->host + (uint32_t)addr, x->size, x->op, &reg[x->src], &reg[0]);
            break;

        /* ---- calls ---- */
        case NICSIM_OP_CALL_HELPER:
        case NICSIM_OP_CALLX: {
            uint64_t id = x->op == NICSIM_OP_CALLX ? *d : (uint64_t)x->target;
            const struct nicsim_helper *h =
                id < NICSIM_MAX_HELPERS && prog->helpers[id].fn ? &prog->helpers[id] : NULL;
            if (!h) {
                /* the helper unit answers "no such helper" after the handshake (§5) */
                c.helper += T->helper_call;
                set_trap(out, prog, cur, NICSIM_TRAP_BAD_HELPER);
                snprintf(out->trap.msg, sizeof(out->trap.msg),
                         "%s: insn %u: callx to helper %llu, which this core does not provide",
                         prog->name, cur, (unsigned long long)id);
                goto done;
            }
            struct nicsim_helper_out ho;
            ho.ret = 0;
            ho.cycles = 0;
            ho.action = NICSIM_HELPER_CONTINUE;
            ho.tail = NULL;
            ho.trap_msg[0] = 0;
            if (__builtin_expect(vm->helper_hook != NULL, 0))
                vm->helper_hook(vm->hook_user, vm, (uint32_t)id, h, &reg[1], &ho);
            else
                h->fn(vm, h->user, &reg[1], &ho);
            c.helper += T->helper_call + ho.cycles;
            if (ho.action == NICSIM_HELPER_CONTINUE) {
                reg[0] = ho.ret;
                break;
            }
            if (ho.action == NICSIM_HELPER_EXIT) {
                reg[0] = ho.ret;
                goto finished;
            }
            if (ho.action == NICSIM_HELPER_TAIL_CALL) {
                /* A tail call past the kernel's limit fails and falls through. */
                if (!ho.tail || out->tail_calls >= NICSIM_MAX_TAIL_CALLS) {
                    reg[0] = 0;
                    break;
                }
                out->tail_calls++;
                c.tail++;
                may_goto = MAY_GOTO_LOOPS;
                prog = ho.tail;
                code = prog->code;
                pc = 0;
                activate(vm, prog);
                break;
            }
            set_trap(out, prog, cur, NICSIM_TRAP_HELPER);
            snprintf(out->trap.msg, sizeof(out->trap.msg), "%s: insn %u: helper %s: %s", prog->name,
                     cur, h->name ? h->name : "?", ho.trap_msg);
            goto done;
        }
        case NICSIM_OP_CALL_LOCAL:
            if (depth + 1 >= NICSIM_MAX_CALL_DEPTH) {
                set_trap(out, prog, cur, NICSIM_TRAP_CALL_DEPTH);
                snprintf(out->trap.msg, sizeof(out->trap.msg),
                         "%s: insn %u: local call would exceed %d call frames", prog->name, cur,
                         NICSIM_MAX_CALL_DEPTH);
                goto done;
            }
            frames[depth].prog = prog;
            frames[depth].ret_pc = pc;
            frames[depth].may_goto = may_goto;
            may_goto = MAY_GOTO_LOOPS;
            memcpy(frames[depth].saved, &reg[6], sizeof(frames[depth].saved));
            depth++;
            reg[10] -= NICSIM_STACK_SIZE;
            pc = (uint32_t)x->target;
            c.call_local++;
            break;
        case NICSIM_OP_EXIT:
            if (depth == 0)
                goto finished;
            depth--;
            prog = frames[depth].prog;
            code = prog->code;
            pc = frames[depth].ret_pc;
            may_goto = frames[depth].may_goto;
            memcpy(&reg[6], frames[depth].saved, sizeof(frames[depth].saved));
            reg[10] += NICSIM_STACK_SIZE;
            c.ret_local++;
            break;

        default:
            /* prog.c refuses everything else at load time */
            set_trap(out, prog, cur, NICSIM_TRAP_ILLEGAL);
            snprintf(out->trap.msg, sizeof(out->trap.msg), "%s: insn %u: %s cannot be executed",
                     prog->name, cur, nicsim_isa_op_name(x->op));
            goto done;
        }
        if (tracing)
            emit_trace(vm, cur_prog, cur, &c, reg, x->dst, &last_cycles);
    }

finished:
    if (tracing)
        emit_trace(vm, prog, pc - 1, &c, reg, 0, &last_cycles);
    out->status = NICSIM_RUN_OK;
done:
    /* The trapping instruction was executed (its issue cycle, its load-use stall): the trace
     * includes it. The watchdog's instruction was not executed and has no record. */
    if (tracing && out->status == NICSIM_RUN_TRAP)
        emit_trace(vm, prog, out->trap.pc, &c, reg, 0, &last_cycles);
    out->r0 = reg[0];
    out->insns = c.insns;
    account(T, &c, &out->stalls, &out->issue, &out->cycles);
    vm->live = NULL;
}

static void run_fast(struct nicsim_vm *vm, const struct nicsim_prog *p, uint64_t a1, uint64_t a2,
                     struct nicsim_run *out)
{
    run_loop(vm, p, a1, a2, out, false);
}

static void run_traced(struct nicsim_vm *vm, const struct nicsim_prog *p, uint64_t a1, uint64_t a2,
                       struct nicsim_run *out)
{
    run_loop(vm, p, a1, a2, out, true);
}

void nicsim_vm__set_backend(struct nicsim_vm *vm, nicsim_vm_backend_fn fn, void *ctx)
{
    vm->backend = fn;
    vm->backend_ctx = ctx;
}

void nicsim_vm__set_helper_hook(struct nicsim_vm *vm, nicsim_vm_helper_hook fn, void *user)
{
    vm->helper_hook = fn;
    vm->hook_user = user;
}

uint64_t nicsim_vm__budget(const struct nicsim_vm *vm)
{
    return vm->budget;
}

void nicsim_vm__activate(struct nicsim_vm *vm, const struct nicsim_prog *prog)
{
    activate(vm, prog);
}

void nicsim_vm__set_cycles_now(struct nicsim_vm *vm, const uint64_t *cycles)
{
    vm->ext_live = cycles != NULL;
    vm->ext_now = cycles ? *cycles : 0;
}

nicsim_trace_fn nicsim_vm__trace(const struct nicsim_vm *vm, void **user)
{
    *user = vm->trace_user;
    return vm->trace;
}

const struct nicsim_helper *nicsim_prog__helpers(const struct nicsim_prog *prog)
{
    return prog->helpers;
}

int nicsim_vm__access_trap(struct nicsim_vm *vm, const struct nicsim_prog *prog, uint32_t pc,
                           uint64_t addr, uint32_t size, int write, struct nicsim_run *out)
{
    uint8_t why;
    if (check(vm, addr, size, write != 0, &why))
        return 0;
    mem_trap(vm, out, prog, pc, addr, size, write != 0, why);
    return -EFAULT;
}

int nicsim_vm__run(struct nicsim_vm *vm, const struct nicsim_prog *prog, uint64_t arg1,
                   uint64_t arg2, struct nicsim_run *out)
{
    if (!vm || !prog || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (vm->backend) {
        /* what the C model's run loop does first: a zeroed stack, the program's grants */
        memset(vm->stack, 0, sizeof(vm->stack));
        activate(vm, prog);
        int rc = vm->backend(vm->backend_ctx, vm, prog, arg1, arg2, out);
        vm->ext_live = false;
        return rc;
    }
    if (vm->trace)
        run_traced(vm, prog, arg1, arg2, out);
    else
        run_fast(vm, prog, arg1, arg2, out);
    return 0;
}
