// SPDX-License-Identifier: MIT
// ebpf_pkg: types and constants of the nicsim eBPF core (docs/microarchitecture.md).
//
// Refer to members as ebpf_pkg::Name: Yosys 0.23 does not read `import ebpf_pkg::*`.
`default_nettype none

package ebpf_pkg;

  // ---- sizes --------------------------------------------------------------------------------
  localparam int PcW          = 16;    // slot index into the instruction memory
  localparam int NumRegions   = 32;    // region table entries (region 0 is never mapped; maps
                                       // are regions 16 + map id: ids 0-15 fit)
  localparam int RegionIdxW   = 5;
  localparam int DmemAw       = 14;    // byte address of the data memory (16 KiB)
  localparam int CallFrames   = 8;     // stack frames, the program's own included
  localparam int FrameBytes   = 512;
  localparam int StackBytes   = CallFrames * FrameBytes;
  localparam int MaxTailCalls = 33;    // the kernel's MAX_TAIL_CALL_CNT
  localparam int MayGotoLoops = 8388608; // may_goto's counter per function (BPF_MAX_LOOPS)

  // ---- timing (docs/microarchitecture.md §4; the C model's nicsim_timing_default) ------------
  localparam int MulCycles    = 3;     // EX cycles of MUL: 1 + mul (2)
  localparam int Div32Cycles  = 33;    // 1 + div32 (32)
  localparam int Div64Cycles  = 65;    // 1 + div64 (64)
  localparam int HelperCall   = 2;     // handshake cycles before the unit's own

  // ---- region kinds: enum nicsim_region_kind -------------------------------------------------
  typedef enum logic [2:0] {
    RgnUnmapped = 3'd0,
    RgnStack    = 3'd1,
    RgnCtx      = 3'd2,
    RgnPacket   = 3'd3,
    RgnMap      = 3'd4,
    RgnRodata   = 3'd5,
    RgnMem      = 3'd6
  } rgn_kind_e;

  typedef struct packed {
    rgn_kind_e          kind;
    logic               writable;
    logic [3:0]         latency;   // MEM cycles of one access, >= 1
    logic [DmemAw-1:0]  base;      // data-memory byte address of region offset 0
    logic [31:0]        lo;        // accessible window [lo, hi)
    logic [31:0]        hi;
  } region_t;
  localparam int RegionW = 3 + 1 + 4 + DmemAw + 32 + 32;

  // ---- trap kinds: enum nicsim_trap_kind ----------------------------------------------------
  typedef enum logic [3:0] {
    TrapNone      = 4'd0,
    TrapUnmapped  = 4'd1,
    TrapBounds    = 4'd2,
    TrapReadonly  = 4'd3,
    TrapCallDepth = 4'd4,
    TrapBadHelper = 4'd5,
    TrapHelper    = 4'd6,
    TrapIllegal   = 4'd7,
    TrapWatchdog  = 4'd8
  } trap_e;

  // ---- run status: enum nicsim_run_status ---------------------------------------------------
  typedef enum logic [1:0] {
    StatusOk       = 2'd0,
    StatusTrap     = 2'd1,
    StatusWatchdog = 2'd2
  } status_e;

  // ---- helper port answers -------------------------------------------------------------------
  typedef enum logic [2:0] {
    HelperContinue  = 3'd0,  // r0 = ret, go on
    HelperExit      = 3'd1,  // end the run with r0 = ret
    HelperTailCall  = 3'd2,  // restart at tail_pc (r0 unchanged)
    HelperFault     = 3'd3,  // the helper refused its arguments: trap `helper fault`
    HelperNoSuch    = 3'd4   // no such helper: trap `call to unknown helper`
  } helper_action_e;

  // ---- what an instruction does in the pipeline ------------------------------------------------
  typedef enum logic [3:0] {
    UnitNone    = 4'd0,   // bubble-like: LDDW's first slot
    UnitAlu     = 4'd1,
    UnitMul     = 4'd2,
    UnitDiv     = 4'd3,
    UnitBranch  = 4'd4,   // conditional jump, resolved in EX
    UnitJump    = 4'd5,   // JA, JA32: redirect from ID
    UnitLoad    = 4'd6,
    UnitStore   = 4'd7,
    UnitAtomic  = 4'd8,
    UnitHelper  = 4'd9,   // call N, callx
    UnitCall    = 4'd10,  // call local: redirect from ID, shadow save in WB
    UnitExit    = 4'd11   // EXIT: return (redirect from ID, restore in WB) or end of program
  } unit_e;

  typedef enum logic [4:0] {
    AluAdd, AluSub, AluOr, AluAnd, AluLsh, AluRsh, AluArsh, AluNeg, AluXor, AluMov,
    AluMovsx8, AluMovsx16, AluMovsx32, AluLe16, AluLe32, AluSwap16, AluSwap32, AluSwap64,
    AluImm64
  } alu_op_e;

  // Conditional-jump conditions; the encoding's op field (RFC 9669 table 5) maps onto these.
  typedef enum logic [3:0] {
    BrEq, BrGt, BrGe, BrSet, BrNe, BrSgt, BrSge, BrLt, BrLe, BrSlt, BrSle,
    BrMayGoto  // may_goto: taken when the frame's counter is 0 (ebpf_core), not by operands
  } br_cond_e;

  typedef enum logic [2:0] {
    AmoAdd, AmoOr, AmoAnd, AmoXor, AmoXchg, AmoCmpxchg
  } amo_op_e;

  // The decoded instruction as it travels from ID to WB.
  typedef struct packed {
    logic              valid;
    logic              counted;   // retires as an instruction (LDDW: its second slot only)
    logic [PcW-1:0]    pc;        // slot of the instruction (LDDW: its first slot)
    logic [PcW-1:0]    npc;       // dynamic next pc (branches: filled in EX)
    unit_e             unit;
    alu_op_e           alu_op;
    logic              is32;      // 32-bit operation: low halves, zero-extended result
    logic              use_imm;   // operand b is the sign-extended immediate
    logic              div_signed;
    logic              div_mod;
    br_cond_e          br_cond;
    logic [1:0]        size;      // memory access: 0:1 1:2 2:4 3:8 bytes
    logic              ld_signed; // LDXS
    amo_op_e           amo_op;
    logic              amo_fetch;
    logic [3:0]        dst;
    logic [3:0]        src;
    logic              rd_we;     // writes register rd (loads, ALU, atomics with fetch, helper r0)
    logic [3:0]        rd;
    logic [10:0]       rd_mask;   // registers read, for the load-use rule (the document's table)
    logic [10:0]       ld_mask;   // registers loaded from memory (load-use producers)
    logic [15:0]       off;
    logic [31:0]       imm;
    logic [63:0]       imm64;     // LDDW
    logic [PcW-1:0]    target;    // jump / call target
    logic              callx;
    trap_e             trap;      // trap found in ID (illegal, call depth)
    logic              prog_exit; // EXIT at depth 0
    logic [2:0]        frame;     // call: frame saved; return: frame restored
    logic [2:0]        depth;     // call depth after this instruction's ID action
    logic              taken;     // a conditional branch that was taken (set in EX)
    logic              lu;        // entered EX one bubble late: a load-use stall
    logic              lddw;      // the second slot of an LDDW (its extra slot, `jump` counter)
  } insn_t;

endpackage
