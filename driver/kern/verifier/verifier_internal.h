/* SPDX-License-Identifier: MIT */
/* The verifier's internals shared by its files (driver/kern/verifier/): the walk's environment,
 * states and frames, and the functions one file calls in another (prefixed nicsim_vrf_). The order
 * of bpf_check and what the walk tracks are described in verifier.c. */
#ifndef NICSIM_KERN_VERIFIER_INTERNAL_H
#define NICSIM_KERN_VERIFIER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../kern_internal.h"

#define NREGS           11
#define REG_FP          10
#define MAX_STACK       NICSIM_MAX_BPF_STACK
#define MAX_LOOP_STATES 64
#define MAX_VAR_OFF     (1 << 29) /* BPF_MAX_VAR_OFF */

/* may_goto loops: iterations walked exactly before the loop's changed scalars are widened */
#define MAY_GOTO_EXACT_ITERATIONS 64
/* Besides the kernel's limit on processed instructions, a limit on the work spent on states:
 * every copy (a branch, a checkpoint), comparison and hash of a state costs its frame slots
 * (registers plus 8-byte stack slots). Programs with deep call chains and full stacks could
 * otherwise make each of the 1M instructions cost thousands of slots; realistic programs stay
 * far below. */
#define STATE_WORK_LIMIT (48ull << 20)

enum { STACK_INVALID = 0, STACK_MISC, STACK_SPILL, STACK_ZERO };

/* One call frame, allocated with its stack: `depth` bytes of slot types indexed from the frame
 * pointer down (byte k is at r10 - 1 - k) and a spilled register per 8-byte slot. */
struct frame {
    struct nicsim_reg_state regs[NREGS];
    int callsite;   /* instruction that called this frame, -1 for the main program */
    uint32_t depth; /* stack bytes allocated (multiple of 8) */
    struct nicsim_reg_state *spill; /* depth / 8 */
    uint8_t *stype;                 /* depth */
};

struct vstate {
    uint32_t nframes;
    struct frame *fr[NICSIM_MAX_CALL_FRAMES];
    struct vstate *parent; /* last checkpoint on this state's path */
    uint32_t branches;     /* unfinished paths through this state */
    uint32_t hit, miss;
    int insn_idx;
    uint64_t hash;           /* checkpoints: state_hash() at insn_idx */
    struct vstate *next_at;  /* explored states at the same instruction */
    uint32_t may_goto_depth; /* may_goto fall-throughs taken on this path */
};

struct pending {
    struct vstate *st;
    int insn_idx, prev_insn_idx;
};

struct venv {
    struct nicsim_verifier_env pub;
    struct nicsim_bpf_prog *prog;
    struct nicsim_kern *kern;
    struct nicsim_kern_prog_load_attr *attr;
    struct vlog *log;
    const struct nicsim_bpf_prog_offload_ops *ops; /* offloaded programs only */
    struct nicsim_insn *insns;
    uint32_t len;
    struct nicsim_insn_aux_data *aux;
    uint8_t *prune; /* prune point per instruction */
    uint16_t *live; /* registers live before each instruction (bit n: Rn) */
    struct vstate **explored;
    struct vstate *cur;
    struct vstate *new_checkpoint; /* made for the instruction being processed, if any */
    struct pending *stack;
    uint32_t n_stack, cap_stack;
    uint32_t insn_processed, jmps_processed, prev_jmps, prev_insns;
    uint64_t state_work; /* frame slots copied, compared or hashed (STATE_WORK_LIMIT) */
    uint32_t id_gen;
    int insn_idx, prev_insn_idx;
    int err_insn;
    bool allow_uninit_stack; /* root's rule: reading unwritten stack gives an unknown value */
    bool strict_align;       /* this access must be aligned whatever the pointer (atomics) */
    /* subprograms: starts sorted, [n_subprogs] = len */
    int *sub_start;
    uint32_t n_subprogs;
    uint32_t *sub_stack; /* deepest stack use seen per subprogram */
    uint8_t *sub_calls;  /* [i * n + j]: subprogram i has a call instruction to j */
};

/* A tnum (tnum.c): `m` has the unknown bits set, `v` the value of the known ones. */
struct tnum {
    uint64_t v, m;
};

/* The bounds of the low 32 bits (u32 / s32), as __update_reg32_bounds + __reg32_deduce_bounds
 * derive them: from the tnum's low half, from the 64-bit bounds when their upper halves agree,
 * each signedness from the other, and the bounds a 32-bit comparison stored (has32). An empty
 * range (umin > umax) means the state is impossible. */
struct bounds32 {
    uint32_t umin, umax;
    int32_t smin, smax;
};

/* regsafe(): every behaviour possible from `cur` was possible from `old`, which was explored to
 * completion. idmap pairs the ids of maybe-null pointers. */
struct idmap {
    uint32_t old_id[64], cur_id[64];
    uint32_t n;
};

#define MAX_PACKET_OFF 0xffff

#define MAX_STATE_REGS (NICSIM_MAX_CALL_FRAMES * (NREGS + MAX_STACK / 8))

/* ---- log.c */
void nicsim_vrf_verbose(struct venv *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- state.c */
struct frame *nicsim_vrf_frame_dup(const struct frame *src, uint32_t depth);
struct frame *nicsim_vrf_frame_new(int callsite, uint32_t frameno);
void nicsim_vrf_state_free(struct vstate *s);
struct vstate *nicsim_vrf_state_copy(const struct vstate *src);
struct frame *nicsim_vrf_cur_frame(struct venv *env);
struct nicsim_reg_state *nicsim_vrf_cur_regs(struct venv *env);
uint64_t nicsim_vrf_state_slots(const struct vstate *st);
int nicsim_vrf_charge_state_work(struct venv *env, uint64_t slots);
void nicsim_vrf_update_branch_counts(struct vstate *st);
int nicsim_vrf_push_stack(struct venv *env, int insn_idx, int prev_insn_idx);

/* ---- tnum.c */
extern const struct tnum nicsim_vrf_tnum_unknown;
struct tnum nicsim_vrf_tnum_const(uint64_t v);
struct tnum nicsim_vrf_tnum_of(const struct nicsim_reg_state *r);
struct tnum nicsim_vrf_tnum_range(uint64_t min, uint64_t max);
struct tnum nicsim_vrf_tnum_add(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_sub(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_and(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_or(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_xor(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_intersect(struct tnum a, struct tnum b);
struct tnum nicsim_vrf_tnum_cast(struct tnum a, int bytes);
bool nicsim_vrf_tnum_aligned(struct tnum a, int size);
const char *nicsim_vrf_tnum_str(struct tnum a, char *buf, size_t len);
bool nicsim_vrf_tnum_in(struct tnum a, struct tnum b);

/* ---- bounds.c */
uint64_t nicsim_vrf_umax64(uint64_t a, uint64_t b);
uint64_t nicsim_vrf_umin64(uint64_t a, uint64_t b);
int64_t nicsim_vrf_smax64(int64_t a, int64_t b);
int64_t nicsim_vrf_smin64(int64_t a, int64_t b);
void nicsim_vrf_set_tnum(struct nicsim_reg_state *r, struct tnum t);
void nicsim_vrf_bounds_unbounded(struct nicsim_reg_state *r);
struct bounds32 nicsim_vrf_reg_bounds32(const struct nicsim_reg_state *r);
bool nicsim_vrf_bounds32_within(struct bounds32 old, struct bounds32 cur);
void nicsim_vrf_reg_bounds_sync(struct nicsim_reg_state *r);
bool nicsim_vrf_reg_bounds_ok(const struct nicsim_reg_state *r);
void nicsim_vrf_mark_unknown(struct nicsim_reg_state *r);
void nicsim_vrf_mark_known(struct nicsim_reg_state *r, uint64_t v);
void nicsim_vrf_coerce_to_size(struct nicsim_reg_state *r, int bytes);
void nicsim_vrf_mark_unknown_sext(struct nicsim_reg_state *r, int bytes);
bool nicsim_vrf_range_within(const struct nicsim_reg_state *old,
                             const struct nicsim_reg_state *cur);
void nicsim_vrf_mark_not_init(struct nicsim_reg_state *r);
int nicsim_vrf_is_pointer(const struct nicsim_reg_state *r);
int nicsim_vrf_is_pkt(const struct nicsim_reg_state *r);

/* ---- prune.c */
bool nicsim_vrf_regs_exact(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur,
                           struct idmap *m);
bool nicsim_vrf_same_callsites(const struct vstate *a, const struct vstate *b);
int nicsim_vrf_is_state_visited(struct venv *env, int idx);

/* ---- cfg.c */
int nicsim_vrf_find_subprog(const struct venv *env, int off);
int nicsim_vrf_check_subprogs(struct venv *env);
int nicsim_vrf_resolve_pseudo_ldimm64(struct venv *env);
int nicsim_vrf_check_cfg(struct venv *env);
int nicsim_vrf_compute_live_regs(struct venv *env);

/* ---- mem.c */
int nicsim_vrf_check_reg_read(struct venv *env, int regno);
int nicsim_vrf_check_reg_write(struct venv *env, int regno);
int nicsim_vrf_check_map_value_access(struct venv *env, int regno,
                                      const struct nicsim_reg_state *reg, int off, int size,
                                      int is_write, int zero_ok);
int nicsim_vrf_check_packet_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                   int off, int size, int zero_ok);
int nicsim_vrf_check_mem_access(struct venv *env, int regno, int off, int size, int is_write,
                                const struct nicsim_reg_state *val, int64_t imm,
                                struct nicsim_reg_state *dst);

/* ---- stack.c */
struct frame *nicsim_vrf_grow_stack(struct venv *env, uint32_t frameno, int off);
void nicsim_vrf_note_stack_depth(struct venv *env, uint32_t frameno);
int nicsim_vrf_stack_access_off(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                int off, int size, int is_write, const char *extra, int *out);
void nicsim_vrf_stack_mark_write(struct frame *f, int o, int size, uint8_t type);
int nicsim_vrf_reg_width(const struct nicsim_reg_state *r);
void nicsim_vrf_assign_scalar_id(struct venv *env, struct nicsim_reg_state *r);
int nicsim_vrf_check_stack_write(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                                 int off, int size, const struct nicsim_reg_state *val,
                                 int imm_is_zero, int64_t imm);
int nicsim_vrf_check_stack_read(struct venv *env, int regno, const struct nicsim_reg_state *ptr,
                                int off, int size, struct nicsim_reg_state *dst);
int nicsim_vrf_check_max_stack_depth(struct venv *env);

/* ---- alu.c */
int nicsim_vrf_do_alu(struct venv *env, const struct nicsim_insn *in);

/* ---- jmp.c */
uint32_t nicsim_vrf_state_regs(struct vstate *st, struct nicsim_reg_state **out, uint32_t cap);
int nicsim_vrf_do_may_goto(struct venv *env, const struct nicsim_insn *in, int *idx);
int nicsim_vrf_do_cond_jmp(struct venv *env, const struct nicsim_insn *in, int *idx);

/* ---- call.c */
int nicsim_vrf_do_helper_call(struct venv *env, const struct nicsim_insn *in);
int nicsim_vrf_do_local_call(struct venv *env, const struct nicsim_insn *in, int *idx);
int nicsim_vrf_do_exit(struct venv *env, int *idx);

/* ---- atomic.c */
int nicsim_vrf_do_atomic(struct venv *env, const struct nicsim_insn *in);

/* ---- offload.c */
void nicsim_vrf_opt_hard_wire_dead_code_branches(struct venv *env);
void nicsim_vrf_opt_remove_dead_code(struct venv *env);
void nicsim_vrf_opt_remove_nops(struct venv *env);

#endif /* NICSIM_KERN_VERIFIER_INTERNAL_H */
