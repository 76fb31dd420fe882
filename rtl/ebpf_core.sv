// SPDX-License-Identifier: MIT
// ebpf_core: the single-issue, in-order, five-stage eBPF core of docs/microarchitecture.md.
//
//   IF ──► ID ──► EX ──► MEM ──► WB
//
// Interface (all ports synchronous to clk_i):
//   host side (between runs): imem_* writes instruction slots, dmem_* reads/writes 8-byte rows
//     of the data memory, rgn_* writes region-table entries.
//   run control: start_i (one cycle, while !busy_o; the run begins the next cycle, with the
//     inputs held) starts a run at entry_i with r1 = r1_i,
//     r2 = r2_i, r10 = top of the stack (region 1), budget_i instructions before the watchdog.
//     done_o pulses when it ends; the report outputs hold until the next start.
//   helper port (valid/ready, from MEM): helper_req_valid_o with the helper id and r1-r5; the
//     unit answers with helper_resp_valid_i (ready and response in one) carrying r0, its own
//     cycles and what to do next. The core then waits `helper_call` (2) + the unit's cycles.
//   retire port: one record per executed instruction (pc, the cycle it retired in, the register
//     written) — the C model's trace stream, for lockstep.
//
// Pipeline control, in priority order (docs/microarchitecture.md §2, §4):
//   kill     the instruction leaving MEM ends the run (trap, EXIT, helper end, watchdog) or
//            switches program (tail call): everything younger is dropped; a tail call
//            redirects fetch (three flushed slots = `tail_call`).
//   frozen   MEM holds (latency, atomics, helper) or a multi-cycle unit holds EX: IF, ID and
//            EX keep their contents, bubbles included, and the unit counters do not advance,
//            so that every extra of §4 adds up.
//   taken    a conditional branch leaves EX taken: IF and ID are flushed, fetch redirected.
//   load-use ID reads a register the instruction in EX loads: one bubble into EX.
//   ID redirect  JA, JA32, call local and returns redirect fetch when they leave ID, flushing IF.
// Registers are read in EX from the register file's write-back-bypassed view, with one more
// forwarding path from MEM (ALU results and a helper's r0, never load data: load-use).
`default_nettype none

module ebpf_core #(
  parameter int ImemSlots = 4096
) (
  input  logic                                clk_i,
  input  logic                                rst_ni,
  // host: instruction memory, data memory, region table
  input  logic                                imem_we_i,
  input  logic [ebpf_pkg::PcW-1:0]            imem_addr_i,
  input  logic [63:0]                         imem_wdata_i,
  input  logic                                dmem_re_i,
  input  logic                                dmem_we_i,
  input  logic [ebpf_pkg::DmemAw-4:0]         dmem_row_i,
  input  logic [63:0]                         dmem_wdata_i,
  input  logic [7:0]                          dmem_be_i,
  output logic [63:0]                         dmem_rdata_o,
  input  logic                                rgn_we_i,
  input  logic [ebpf_pkg::RegionIdxW-1:0]     rgn_idx_i,
  input  ebpf_pkg::region_t                   rgn_i,
  // run control and report
  input  logic                                start_i,
  input  logic [ebpf_pkg::PcW-1:0]            entry_i,
  input  logic [63:0]                         r1_i,
  input  logic [63:0]                         r2_i,
  input  logic [63:0]                         budget_i,
  output logic                                busy_o,
  output logic                                done_o,
  output ebpf_pkg::status_e                   status_o,
  output logic [63:0]                         r0_o,
  output logic [63:0]                         insns_o,
  output logic [63:0]                         cycles_o,
  output logic [5:0]                          tail_calls_o,
  output ebpf_pkg::trap_e                     trap_kind_o,
  output logic [ebpf_pkg::PcW-1:0]            trap_pc_o,
  output logic [63:0]                         trap_addr_o,
  output logic [3:0]                          trap_size_o,
  output logic                                trap_write_o,
  output ebpf_pkg::rgn_kind_e                 trap_rgn_o,
  // the report's stall breakdown (docs/microarchitecture.md §6), cycles by counter
  output logic [31:0]                         stall_load_use_o,
  output logic [31:0]                         stall_memory_o,
  output logic [31:0]                         stall_branch_o,
  output logic [31:0]                         stall_jump_o,
  output logic [31:0]                         stall_call_o,
  output logic [31:0]                         stall_muldiv_o,
  output logic [31:0]                         stall_helper_o,
  // helper port
  output logic                                helper_req_valid_o,
  output logic [31:0]                         helper_id_o,
  output logic [5*64-1:0]                     helper_args_o,   // r1 in [63:0]
  input  logic                                helper_resp_valid_i,
  input  logic [63:0]                         helper_r0_i,
  input  logic [15:0]                         helper_cycles_i,
  input  ebpf_pkg::helper_action_e            helper_action_i,
  input  logic [ebpf_pkg::PcW-1:0]            helper_tail_pc_i,
  // retire port
  output logic                                retire_valid_o,
  output logic [ebpf_pkg::PcW-1:0]            retire_pc_o,
  output logic [63:0]                         retire_cycle_o,
  output logic                                retire_we_o,
  output logic [3:0]                          retire_rd_o,
  output logic [63:0]                         retire_value_o,
  // the helpers answered inside the core (ebpf_helper): the NIC's helper numbering, the core id
  input  logic                                hw_helpers_i,
  input  logic [31:0]                         core_id_i
);

  localparam int PcWm1 = ebpf_pkg::PcW - 1;
  localparam logic [PcWm1:0] Zero = '0;
  localparam logic [63:0] StackTop = {32'd1, 32'(ebpf_pkg::StackBytes)};

  // ---- run state -----------------------------------------------------------------------------
  logic        run_d, run_q;
  logic        start_d, start_q;
  logic        init;
  logic [63:0] cycle_d, cycle_q;
  logic [63:0] insns_d, insns_q;
  logic [5:0]  tails_d, tails_q;
  logic [63:0] budget_d, budget_q;

  // ---- IF / ID ---------------------------------------------------------------------------
  logic [PcWm1:0] if_pc;
  logic [63:0]    if_raw;
  logic           id_valid_d, id_valid_q;
  logic [63:0]    id_raw_d, id_raw_q;
  logic [PcWm1:0] id_pc_d, id_pc_q;
  ebpf_pkg::insn_t id_dec, id_insn;
  logic           lddw_pend_d, lddw_pend_q;
  logic [31:0]    lddw_lo_d, lddw_lo_q;
  logic [3:0]     lddw_dst_d, lddw_dst_q;
  logic [2:0]     depth_d, depth_q, depth_m1;
  logic [PcWm1:0] ret_pc;
  logic [ebpf_pkg::CallFrames*ebpf_pkg::PcW-1:0] rstack_d, rstack_q;  // return pcs
  logic           id_redirect;
  logic           lu_d, lu_q;
  logic           id_fire;
  logic           load_use;

  // ---- EX ----------------------------------------------------------------------------------
  ebpf_pkg::insn_t ex_d, ex_q;
  logic [11*64-1:0] rf_view;   // r0 in [63:0]
  logic [63:0] ex_r0;          // r0 for CMPXCHG
  logic [63:0] rf_dst, rf_src; // dst's and src's values in the register file view
  logic [63:0] ex_a, ex_b, ex_src, ex_imm;
  logic [63:0] alu_res, mul_res, div_res, ex_res, ex_addr;
  logic        mul_done, div_done, ex_busy, ex_fire, br_taken, ex_taken;
  localparam int MgW = 24;  // may_goto counters: 0..MayGotoLoops (2^23)
  logic [MgW-1:0] mg_mem [ebpf_pkg::CallFrames];
  logic [MgW-1:0] mg_cur, mg_wdata;
  logic [2:0]  mg_widx;
  logic        mg_we, mg_zero, ex_br_taken;
  logic        mul_active, div_active;

  // ---- MEM ---------------------------------------------------------------------------------
  ebpf_pkg::insn_t mem_d, mem_q;
  logic [63:0] mem_res_d, mem_res_q, mem_addr_d, mem_addr_q, mem_sdata_d, mem_sdata_q;
  logic [63:0] mem_cmp_d, mem_cmp_q;
  logic [4:0]  mem_k_d, mem_k_q;
  logic        mem_busy, lsu_busy, hp_busy, mem_leave;
  ebpf_pkg::trap_e     lsu_trap;
  ebpf_pkg::rgn_kind_e lsu_rgn;
  logic [63:0] lsu_rdata, lsu_old;
  logic        mem_fwd;
  logic [63:0] callx_id;
  logic [63:0] mem_fwd_val;
  // helper handshake state
  logic        hp_wait_d, hp_wait_q;
  logic [16:0] hp_cnt_d, hp_cnt_q;
  logic [63:0] hp_r0_d, hp_r0_q;
  ebpf_pkg::helper_action_e hp_act_d, hp_act_q;
  logic [PcWm1:0] hp_tail_d, hp_tail_q;
  logic [16:0] hp_total_d, hp_total_q;
  // how the instruction leaving MEM ends
  logic        mem_end, mem_tail, kill;
  ebpf_pkg::trap_e mem_trap;
  ebpf_pkg::status_e mem_status;
  logic [PcWm1:0] mem_npc;
  logic [1:0]  mem_penalty;
  logic        mem_we;
  logic [63:0] mem_wval;

  // ---- WB ----------------------------------------------------------------------------------
  ebpf_pkg::insn_t wb_d, wb_q;
  logic [63:0] wb_res_d, wb_res_q, wb_addr_d, wb_addr_q;
  logic        wb_we_d, wb_we_q, wb_end_d, wb_end_q;
  ebpf_pkg::trap_e wb_trap_d, wb_trap_q;
  ebpf_pkg::status_e wb_status_d, wb_status_q;
  ebpf_pkg::rgn_kind_e wb_rgn_d, wb_rgn_q;
  logic [PcWm1:0] wb_trap_pc_d, wb_trap_pc_q;
  logic [1:0]  wb_penalty_d, wb_penalty_q;
  logic [63:0] wb_value, ld_val;
  logic [16:0] wb_extra_d, wb_extra_q;   // MEM cycles beyond the first (memory, helper)
  logic [31:0] st_lu_d, st_lu_q, st_mem_d, st_mem_q, st_br_d, st_br_q, st_jump_d, st_jump_q;
  logic [31:0] st_call_d, st_call_q, st_md_d, st_md_q, st_hp_d, st_hp_q;
  logic        wb_ok;
  logic        wb_call, wb_ret;

  // ---- report ------------------------------------------------------------------------------
  logic        done_d, done_q;
  ebpf_pkg::status_e status_d, status_q;
  logic [63:0] r0_d, r0_q, cycles_d, cycles_q, rinsns_d, rinsns_q, taddr_d, taddr_q;
  ebpf_pkg::trap_e tkind_d, tkind_q;
  logic [PcWm1:0] tpc_d, tpc_q;
  logic [3:0]  tsize_d, tsize_q;
  logic        twrite_d, twrite_q;
  ebpf_pkg::rgn_kind_e trgn_d, trgn_q;
  logic [5:0]  rtails_d, rtails_q;

  logic        frozen, stall_front, flush_id;
  logic        redirect;
  logic [PcWm1:0] redirect_pc;

  // start_i is registered first: nothing combinational depends on the run-control inputs, so
  // a cycle-based simulator need not re-evaluate the pipeline's logic when they change
  assign start_d = start_i && !run_q;
  assign init    = start_q && !run_q;

  // the run's arguments, registered with start_i: no pipeline logic depends combinationally on
  // a run-control input (the Verilated model then re-evaluates far less per input change)
  logic [ebpf_pkg::PcW-1:0] arg_entry_q;
  logic [63:0]              arg_r1_q, arg_r2_q, arg_budget_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      arg_entry_q  <= '0;
      arg_r1_q     <= '0;
      arg_r2_q     <= '0;
      arg_budget_q <= '0;
    end else if (start_d) begin
      arg_entry_q  <= entry_i;
      arg_r1_q     <= r1_i;
      arg_r2_q     <= r2_i;
      arg_budget_q <= budget_i;
    end
  end

  // =========================================================================================
  // IF
  // =========================================================================================
  ebpf_fetch #(.ImemSlots(ImemSlots)) u_fetch (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .run_i         (run_q),
    .start_i       (init),
    .entry_i       (arg_entry_q),
    .redirect_i    (redirect),
    .redirect_pc_i (redirect_pc),
    .stall_i       (stall_front),
    .imem_we_i     (imem_we_i),
    .imem_addr_i   (imem_addr_i),
    .imem_wdata_i  (imem_wdata_i),
    .if_pc_o       (if_pc),
    .if_raw_o      (if_raw)
  );

  // =========================================================================================
  // ID
  // =========================================================================================
  ebpf_decode u_decode (
    .raw_i      (id_raw_q),
    .pc_i       (id_pc_q),
    .lddw_hi_i  (lddw_pend_q),
    .lddw_lo_i  (lddw_lo_q),
    .lddw_dst_i (lddw_dst_q),
    .insn_o     (id_dec)
  );

  assign depth_m1 = depth_q - 3'd1;

  // Register and return-stack reads are written as explicit multiplexers: a variable
  // part-select (v[W*i +: W]) synthesizes into a wide shifter in Yosys.
  always_comb begin
    ret_pc = Zero;
    for (int i = 0; i < ebpf_pkg::CallFrames; i++)
      if (depth_m1 == 3'(i)) ret_pc = rstack_q[ebpf_pkg::PcW*i +: ebpf_pkg::PcW];
  end
  always_comb begin
    rf_dst = '0;
    rf_src = '0;
    callx_id = '0;
    for (int i = 0; i < 11; i++) begin
      if (ex_q.dst == 4'(i)) rf_dst = rf_view[64*i +: 64];
      if (ex_q.src == 4'(i)) rf_src = rf_view[64*i +: 64];
      if (mem_q.dst == 4'(i)) callx_id = rf_view[64*i +: 64];
    end
  end

  // what depends on the call depth: call-depth trap, return vs end of program
  always_comb begin
    id_insn       = id_dec;
    id_insn.valid = id_valid_q;
    id_insn.depth = depth_q;
    id_insn.frame = depth_q;
    id_insn.lu    = lu_q;
    if (id_dec.trap == ebpf_pkg::TrapNone) begin
      if (id_dec.unit == ebpf_pkg::UnitCall) begin
        if (depth_q == 3'(ebpf_pkg::CallFrames - 1)) begin
          id_insn.trap = ebpf_pkg::TrapCallDepth;
        end else begin
          id_insn.depth = depth_q + 3'd1;
          id_insn.npc   = id_dec.target;
        end
      end else if (id_dec.unit == ebpf_pkg::UnitExit) begin
        if (depth_q == 3'd0) begin
          id_insn.prog_exit = 1'b1;
        end else begin
          id_insn.depth  = depth_q - 3'd1;
          id_insn.frame  = depth_q - 3'd1;
          id_insn.target = ret_pc;
          id_insn.npc    = ret_pc;
        end
      end else if (id_dec.unit == ebpf_pkg::UnitJump) begin
        id_insn.npc = id_dec.target;
      end else if (lddw_pend_q) begin
        id_insn.npc = id_pc_q + 1'b1;
      end
    end
  end

  assign id_redirect = id_insn.trap == ebpf_pkg::TrapNone &&
                       (id_insn.unit == ebpf_pkg::UnitJump || id_insn.unit == ebpf_pkg::UnitCall ||
                        (id_insn.unit == ebpf_pkg::UnitExit && !id_insn.prog_exit));
  assign load_use    = ex_q.valid && id_valid_q && ((ex_q.ld_mask & id_insn.rd_mask) != 11'd0);

  // =========================================================================================
  // EX
  // =========================================================================================
  // the register view of EX: write-back bypassed in the register file, MEM forwarded here
  assign mem_fwd     = mem_q.valid && mem_q.rd_we && mem_q.trap == ebpf_pkg::TrapNone &&
                       (mem_q.unit != ebpf_pkg::UnitLoad) && (mem_q.unit != ebpf_pkg::UnitAtomic);
  assign mem_fwd_val = (mem_q.unit == ebpf_pkg::UnitHelper) ? hp_r0_q : mem_res_q;
  // select the register first, then forward: one 2:1 stage per operand, not per register
  assign ex_imm = {{32{ex_q.imm[31]}}, ex_q.imm};
  assign ex_a   = (mem_fwd && mem_q.rd == ex_q.dst) ? mem_fwd_val : rf_dst;
  assign ex_src = (mem_fwd && mem_q.rd == ex_q.src) ? mem_fwd_val : rf_src;
  assign ex_r0  = (mem_fwd && mem_q.rd == 4'd0) ? mem_fwd_val : rf_view[63:0];
  assign ex_b   = ex_q.use_imm ? ex_imm : ex_src;

  ebpf_alu u_alu (
    .op_i     (ex_q.alu_op),
    .is32_i   (ex_q.is32),
    .a_i      (ex_a),
    .b_i      (ex_b),
    .imm64_i  (ex_q.imm64),
    .result_o (alu_res)
  );

  assign mul_active = ex_q.valid && ex_q.unit == ebpf_pkg::UnitMul &&
                      ex_q.trap == ebpf_pkg::TrapNone && !mem_busy;
  assign div_active = ex_q.valid && ex_q.unit == ebpf_pkg::UnitDiv &&
                      ex_q.trap == ebpf_pkg::TrapNone && !mem_busy;

  ebpf_mul u_mul (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .active_i (mul_active),
    .flush_i  (kill || init),
    .is32_i   (ex_q.is32),
    .a_i      (ex_a),
    .b_i      (ex_b),
    .done_o   (mul_done),
    .result_o (mul_res)
  );

  ebpf_div u_div (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .active_i (div_active),
    .flush_i  (kill || init),
    .is32_i   (ex_q.is32),
    .signed_i (ex_q.div_signed),
    .mod_i    (ex_q.div_mod),
    .a_i      (ex_a),
    .b_i      (ex_b),
    .done_o   (div_done),
    .result_o (div_res)
  );

  ebpf_branch u_branch (
    .cond_i  (ex_q.br_cond),
    .is32_i  (ex_q.is32),
    .a_i     (ex_a),
    .b_i     (ex_b),
    .taken_o (br_taken)
  );

  assign ex_busy  = (mul_active && !mul_done) || (div_active && !div_done);
  assign ex_res   = (ex_q.unit == ebpf_pkg::UnitMul) ? mul_res :
                    (ex_q.unit == ebpf_pkg::UnitDiv) ? div_res : alu_res;
  // loads address from src, stores and atomics from dst
  assign ex_addr  = ((ex_q.unit == ebpf_pkg::UnitLoad) ? ex_src : ex_a) +
                    {{48{ex_q.off[15]}}, ex_q.off};

  // =========================================================================================
  // MEM
  // =========================================================================================
  ebpf_lsu u_lsu (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .run_i        (run_q),
    .cfg_we_i     (rgn_we_i && !run_q),
    .cfg_idx_i    (rgn_idx_i),
    .cfg_region_i (rgn_i),
    .host_re_i    (dmem_re_i),
    .host_we_i    (dmem_we_i),
    .host_row_i   (dmem_row_i),
    .host_wdata_i (dmem_wdata_i),
    .host_be_i    (dmem_be_i),
    .host_rdata_o (dmem_rdata_o),
    .valid_i      (mem_q.valid && mem_q.trap == ebpf_pkg::TrapNone),
    .unit_i       (mem_q.unit),
    .k_i          (mem_k_q),
    .addr_i       (mem_addr_q),
    .size_i       (mem_q.size),
    .sdata_i      (mem_sdata_q),
    .cmp_i        (mem_cmp_q),
    .amo_op_i     (mem_q.amo_op),
    .busy_o       (lsu_busy),
    .trap_o       (lsu_trap),
    .trap_rgn_o   (lsu_rgn),
    .rdata_o      (lsu_rdata),
    .old_o        (lsu_old)
  );

  // helper port: the request is up until the unit answers; then 2 + its cycles pass. The
  // helpers of ebpf_helper answer at once and never reach the port.
  logic                     hp_req, hu_local, hp_resp;
  logic [63:0]              hu_r0, hp_r0_in;
  logic [15:0]              hu_cycles, hp_cycles_in;
  ebpf_pkg::helper_action_e hu_action, hp_action_in;
  assign hp_req = mem_q.valid && mem_q.unit == ebpf_pkg::UnitHelper &&
                  mem_q.trap == ebpf_pkg::TrapNone && !hp_wait_q && run_q;
  ebpf_helper u_helper (
    .hw_i      (hw_helpers_i),
    .core_id_i (core_id_i),
    .id_i      (helper_id_o),
    .local_o   (hu_local),
    .r0_o      (hu_r0),
    .cycles_o  (hu_cycles),
    .action_o  (hu_action)
  );
  assign helper_req_valid_o = hp_req && !hu_local;
  assign hp_resp      = hu_local || helper_resp_valid_i;
  assign hp_r0_in     = hu_local ? hu_r0 : helper_r0_i;
  assign hp_cycles_in = hu_local ? hu_cycles : helper_cycles_i;
  assign hp_action_in = hu_local ? hu_action : helper_action_i;
  assign helper_id_o   = !mem_q.callx ? mem_q.imm :
                         (callx_id[63:32] != 32'd0) ? 32'hffff_ffff : callx_id[31:0];
  assign helper_args_o = rf_view[64 +: 5*64];

  always_comb begin
    hp_wait_d = hp_wait_q;
    hp_cnt_d  = hp_cnt_q;
    hp_r0_d   = hp_r0_q;
    hp_act_d  = hp_act_q;
    hp_tail_d = hp_tail_q;
    hp_total_d = hp_total_q;
    hp_busy   = 1'b0;
    if (hp_req) begin
      hp_busy = 1'b1;
      if (hp_resp) begin
        hp_wait_d = 1'b1;
        hp_cnt_d  = 17'(ebpf_pkg::HelperCall) + 17'(hp_cycles_in);
        hp_total_d = hp_cnt_d;
        hp_act_d  = hp_action_in;
        hp_r0_d   = hp_r0_in;
        hp_tail_d = helper_tail_pc_i;
        // a tail call past the kernel's limit fails: r0 = 0, go on
        if (hp_action_in == ebpf_pkg::HelperTailCall &&
            tails_q >= 6'(ebpf_pkg::MaxTailCalls)) begin
          hp_act_d = ebpf_pkg::HelperContinue;
          hp_r0_d  = '0;
        end
      end
    end else if (hp_wait_q && mem_q.valid) begin
      if (hp_cnt_q > 17'd1) begin
        hp_busy  = 1'b1;
        hp_cnt_d = hp_cnt_q - 17'd1;
      end else begin
        hp_wait_d = 1'b0;
      end
    end
    if (init) hp_wait_d = 1'b0;
  end

  assign mem_busy  = mem_q.valid && (lsu_busy || hp_busy);
  assign mem_leave = mem_q.valid && !mem_busy;

  // how the instruction leaving MEM ends, and what it writes
  always_comb begin
    mem_end     = 1'b0;
    mem_tail    = 1'b0;
    mem_trap    = mem_q.trap;
    mem_status  = ebpf_pkg::StatusOk;
    mem_npc     = mem_q.npc;
    mem_penalty = 2'd0;
    mem_we      = mem_q.rd_we;
    mem_wval    = mem_res_q;
    if (mem_trap == ebpf_pkg::TrapNone && mem_q.unit != ebpf_pkg::UnitHelper) mem_trap = lsu_trap;
    unique case (mem_q.unit)
      ebpf_pkg::UnitBranch: if (mem_q.taken) mem_penalty = 2'd2;
      ebpf_pkg::UnitJump, ebpf_pkg::UnitCall: mem_penalty = 2'd1;
      ebpf_pkg::UnitExit: begin
        if (mem_q.prog_exit) mem_end = 1'b1;
        else                 mem_penalty = 2'd1;
      end
      ebpf_pkg::UnitHelper: begin
        mem_wval = hp_r0_q;
        unique case (hp_act_q)
          ebpf_pkg::HelperExit: mem_end = 1'b1;
          ebpf_pkg::HelperTailCall: begin
            mem_tail    = 1'b1;
            mem_we      = 1'b0;
            mem_penalty = 2'd3;
            mem_npc     = hp_tail_q;
          end
          ebpf_pkg::HelperFault:  mem_trap = ebpf_pkg::TrapHelper;
          ebpf_pkg::HelperNoSuch: mem_trap = ebpf_pkg::TrapBadHelper;
          default: ;
        endcase
      end
      default: ;
    endcase
    if (mem_trap != ebpf_pkg::TrapNone) begin
      mem_end     = 1'b1;
      mem_tail    = 1'b0;
      mem_we      = 1'b0;
      mem_penalty = 2'd0;
      mem_npc     = mem_q.pc;
      mem_status  = ebpf_pkg::StatusTrap;
    end else if (!mem_end && mem_q.counted && insns_q + 64'd1 >= budget_q) begin
      // the budget-th instruction did not end the run: the next one would exceed it
      mem_end    = 1'b1;
      mem_trap   = ebpf_pkg::TrapWatchdog;
      mem_status = ebpf_pkg::StatusWatchdog;
    end
  end

  assign kill = mem_leave && (mem_end || mem_tail);

  // =========================================================================================
  // WB
  // =========================================================================================
  // load data: the access's bytes, zero- or sign-extended
  always_comb begin
    unique case (wb_q.size)
      2'd0:    ld_val = wb_q.ld_signed ? {{56{lsu_rdata[7]}},  lsu_rdata[7:0]}  : {56'd0, lsu_rdata[7:0]};
      2'd1:    ld_val = wb_q.ld_signed ? {{48{lsu_rdata[15]}}, lsu_rdata[15:0]} : {48'd0, lsu_rdata[15:0]};
      2'd2:    ld_val = wb_q.ld_signed ? {{32{lsu_rdata[31]}}, lsu_rdata[31:0]} : {32'd0, lsu_rdata[31:0]};
      default: ld_val = lsu_rdata;
    endcase
  end
  assign wb_value = (wb_q.unit == ebpf_pkg::UnitLoad)   ? ld_val :
                    (wb_q.unit == ebpf_pkg::UnitAtomic) ? lsu_old : wb_res_q;
  // executed without trapping: a trap costs no memory latency and no call redirect
  assign wb_ok    = (wb_trap_q == ebpf_pkg::TrapNone || wb_trap_q == ebpf_pkg::TrapWatchdog);
  assign wb_call  = wb_q.valid && wb_q.unit == ebpf_pkg::UnitCall && wb_trap_q == ebpf_pkg::TrapNone;
  assign wb_ret   = wb_q.valid && wb_q.unit == ebpf_pkg::UnitExit && !wb_q.prog_exit &&
                    wb_trap_q == ebpf_pkg::TrapNone;

  ebpf_regfile u_regfile (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .init_i     (init),
    .init_r1_i  (arg_r1_q),
    .init_r2_i  (arg_r2_q),
    .init_r10_i (StackTop),
    .we_i       (wb_q.valid && wb_we_q),
    .waddr_i    (wb_q.rd),
    .wdata_i    (wb_value),
    .call_i     (wb_call),
    .ret_i      (wb_ret),
    .frame_wr_i (wb_q.frame),
    .frame_rd_i (mem_q.frame),
    .view_o     (rf_view)
  );

  assign retire_valid_o = wb_q.valid && wb_q.counted && run_q;
  assign retire_pc_o    = wb_q.pc;
  assign retire_cycle_o = cycle_q + 64'(wb_penalty_q);
  assign retire_we_o    = wb_we_q;
  assign retire_rd_o    = wb_q.rd;
  assign retire_value_o = wb_value;

  // =========================================================================================
  // pipeline control and next state
  // =========================================================================================
  assign frozen      = mem_busy || ex_busy;
  assign stall_front = frozen || load_use;
  assign ex_fire     = ex_q.valid && !frozen;
  assign ex_taken    = ex_fire && !kill && ex_q.unit == ebpf_pkg::UnitBranch &&
                       ex_q.trap == ebpf_pkg::TrapNone && ex_br_taken;

  // may_goto (docs/microarchitecture.md 4a): one counter per call frame, set when the frame is
  // entered (run start, a local call in EX, a tail call), counted down by each may_goto of
  // that frame in EX while it is not 0; the may_goto is taken when it is 0.
  assign mg_cur      = mg_mem[ex_q.frame];
  assign mg_zero     = (mg_cur == '0);
  assign ex_br_taken = (ex_q.br_cond == ebpf_pkg::BrMayGoto) ? mg_zero : br_taken;

  // one write port for the eight counters (the frame entered, or the may_goto's frame);
  // only frame 0 is set at the run's start: every other frame is set when a call enters it
  always_comb begin
    mg_we    = 1'b0;
    mg_widx  = ex_q.frame;
    mg_wdata = mg_cur - 1'b1;
    if (ex_fire && !kill && ex_q.trap == ebpf_pkg::TrapNone) begin
      if (ex_q.unit == ebpf_pkg::UnitBranch && ex_q.br_cond == ebpf_pkg::BrMayGoto && !mg_zero)
        mg_we = 1'b1;
      if (ex_q.unit == ebpf_pkg::UnitCall) begin
        mg_we    = 1'b1;
        mg_widx  = ex_q.depth;
        mg_wdata = MgW'(ebpf_pkg::MayGotoLoops);
      end
    end
    if ((kill && mem_tail) || init) begin
      mg_we    = 1'b1;
      mg_widx  = init ? 3'd0 : mem_q.frame;
      mg_wdata = MgW'(ebpf_pkg::MayGotoLoops);
    end
  end

  // a small RAM with one write port and an asynchronous read (distributed RAM on an FPGA); no
  // reset needed: a frame's counter is written when the frame is entered, before any read
  always_ff @(posedge clk_i) begin
    if (mg_we) mg_mem[mg_widx] <= mg_wdata;
  end
  assign flush_id    = ex_taken || kill;
  assign id_fire     = id_valid_q && !stall_front && !flush_id;

  always_comb begin
    redirect    = 1'b0;
    redirect_pc = Zero;
    if (kill) begin
      redirect    = mem_tail;
      redirect_pc = hp_tail_q;
    end else if (ex_taken) begin
      redirect    = 1'b1;
      redirect_pc = ex_q.target;
    end else if (id_fire && id_redirect) begin
      redirect    = 1'b1;
      redirect_pc = id_insn.target;
    end
  end

  always_comb begin
    // defaults: hold
    run_d       = run_q;
    cycle_d     = cycle_q;
    insns_d     = insns_q;
    tails_d     = tails_q;
    budget_d    = budget_q;
    id_valid_d  = id_valid_q;
    id_raw_d    = id_raw_q;
    id_pc_d     = id_pc_q;
    lddw_pend_d = lddw_pend_q;
    lddw_lo_d   = lddw_lo_q;
    lddw_dst_d  = lddw_dst_q;
    depth_d     = depth_q;
    rstack_d    = rstack_q;
    ex_d        = ex_q;
    mem_d       = mem_q;
    mem_res_d   = mem_res_q;
    mem_addr_d  = mem_addr_q;
    mem_sdata_d = mem_sdata_q;
    mem_cmp_d   = mem_cmp_q;
    mem_k_d     = mem_k_q;
    wb_d        = wb_q;
    wb_res_d    = wb_res_q;
    wb_addr_d   = wb_addr_q;
    wb_we_d     = wb_we_q;
    wb_end_d    = wb_end_q;
    wb_trap_d   = wb_trap_q;
    wb_status_d = wb_status_q;
    wb_rgn_d    = wb_rgn_q;
    wb_trap_pc_d = wb_trap_pc_q;
    wb_penalty_d = wb_penalty_q;
    wb_extra_d  = wb_extra_q;
    lu_d        = lu_q;
    st_lu_d     = st_lu_q;
    st_mem_d    = st_mem_q;
    st_br_d     = st_br_q;
    st_jump_d   = st_jump_q;
    st_call_d   = st_call_q;
    st_md_d     = st_md_q;
    st_hp_d     = st_hp_q;
    done_d      = 1'b0;
    status_d    = status_q;
    r0_d        = r0_q;
    cycles_d    = cycles_q;
    rinsns_d    = rinsns_q;
    tkind_d     = tkind_q;
    tpc_d       = tpc_q;
    taddr_d     = taddr_q;
    tsize_d     = tsize_q;
    twrite_d    = twrite_q;
    trgn_d      = trgn_q;
    rtails_d    = rtails_q;

    if (init) begin
      run_d       = 1'b1;
      cycle_d     = 64'd1;
      insns_d     = '0;
      tails_d     = '0;
      budget_d    = arg_budget_q;
      id_valid_d  = 1'b0;
      lddw_pend_d = 1'b0;
      depth_d     = '0;
      ex_d        = '0;
      mem_d       = '0;
      mem_k_d     = 5'd1;
      wb_d        = '0;
      wb_we_d     = 1'b0;
      wb_end_d    = 1'b0;
      lu_d        = 1'b0;
      st_lu_d     = '0;
      st_mem_d    = '0;
      st_br_d     = '0;
      st_jump_d   = '0;
      st_call_d   = '0;
      st_md_d     = '0;
      st_hp_d     = '0;
    end else if (run_q) begin
      cycle_d = cycle_q + 64'd1;

      // ---- WB: the stall breakdown, charged when an instruction retires (§4's table) ----
      if (wb_q.valid && wb_q.counted) begin
        if (wb_q.lu) st_lu_d = st_lu_q + 32'd1;
        if (wb_q.lddw) st_jump_d = st_jump_q + 32'd1;
        if (wb_ok) begin
          unique case (wb_q.unit)
            ebpf_pkg::UnitLoad, ebpf_pkg::UnitStore, ebpf_pkg::UnitAtomic:
              st_mem_d = st_mem_q + 32'(wb_extra_q);
            ebpf_pkg::UnitBranch: if (wb_q.taken) st_br_d = st_br_q + 32'd2;
            ebpf_pkg::UnitJump:   st_jump_d = st_jump_q + 32'd1;
            ebpf_pkg::UnitCall:   st_call_d = st_call_q + 32'd1;
            ebpf_pkg::UnitExit:   if (!wb_q.prog_exit) st_call_d = st_call_q + 32'd1;
            ebpf_pkg::UnitMul:    st_md_d = st_md_q + 32'(ebpf_pkg::MulCycles - 1);
            ebpf_pkg::UnitDiv:
              st_md_d = st_md_q + (wb_q.is32 ? 32'(ebpf_pkg::Div32Cycles - 1)
                                             : 32'(ebpf_pkg::Div64Cycles - 1));
            default: ;
          endcase
        end
        if (wb_q.unit == ebpf_pkg::UnitHelper && wb_q.trap == ebpf_pkg::TrapNone) begin
          st_hp_d = st_hp_q + 32'(wb_extra_q);
          if (wb_penalty_q == 2'd3) st_call_d = st_call_q + 32'd3;  // tail call
        end
      end

      // ---- ID: an instruction held back by a load-use stall carries it to WB ----
      if (flush_id || id_fire) lu_d = 1'b0;
      else if (load_use && !frozen) lu_d = 1'b1;

      // ---- WB: the end of the run ----
      if (wb_q.valid && wb_end_q) begin
        run_d    = 1'b0;
        done_d   = 1'b1;
        status_d = wb_status_q;
        r0_d     = rf_view[63:0];
        cycles_d = cycle_q + 64'(wb_penalty_q);
        rinsns_d = insns_q;
        tkind_d  = wb_trap_q;
        tpc_d    = wb_trap_pc_q;
        taddr_d  = wb_addr_q;
        tsize_d  = 4'd1 << wb_q.size;
        twrite_d = wb_q.unit != ebpf_pkg::UnitLoad;
        trgn_d   = wb_rgn_q;
        rtails_d = tails_q;
      end

      // ---- MEM -> WB ----
      if (mem_leave) begin
        wb_d         = mem_q;
        wb_res_d     = mem_wval;
        wb_addr_d    = mem_addr_q;
        wb_we_d      = mem_we;
        wb_end_d     = mem_end;
        wb_trap_d    = mem_trap;
        wb_status_d  = mem_status;
        wb_rgn_d     = lsu_rgn;
        wb_trap_pc_d = mem_npc;
        wb_penalty_d = mem_penalty;
        wb_extra_d   = (mem_q.unit == ebpf_pkg::UnitHelper) ? hp_total_q : {12'd0, mem_k_q - 5'd1};
        if (mem_q.counted) insns_d = insns_q + 64'd1;
        if (mem_tail) tails_d = tails_q + 6'd1;
      end else begin
        wb_d     = '0;
        wb_we_d  = 1'b0;
        wb_end_d = 1'b0;
      end

      // ---- EX -> MEM ----
      if (mem_busy) begin
        mem_k_d = (mem_k_q == 5'd31) ? mem_k_q : mem_k_q + 5'd1;
      end else begin
        mem_k_d = 5'd1;
        if (ex_fire && !kill) begin
          mem_d       = ex_q;
          mem_d.taken = ex_taken;
          mem_d.npc   = ex_taken ? ex_q.target : ex_q.npc;
          mem_res_d   = ex_res;
          mem_addr_d  = ex_addr;
          mem_sdata_d = ex_b;
          mem_cmp_d   = ex_r0;
        end else begin
          mem_d = '0;
        end
      end

      // ---- ID -> EX ----
      if (kill) begin
        ex_d = '0;
      end else if (!frozen) begin
        ex_d = id_fire ? id_insn : '0;
      end

      // ---- IF -> ID ----
      if (flush_id) begin
        id_valid_d = 1'b0;
      end else if (!stall_front) begin
        if (id_fire && id_redirect) begin
          id_valid_d = 1'b0;
        end else begin
          id_valid_d = 1'b1;
          id_raw_d   = if_raw;
          id_pc_d    = if_pc;
        end
      end

      // ---- ID-stage state: LDDW halves, call depth, return addresses ----
      if (kill) begin
        lddw_pend_d = 1'b0;
        depth_d     = mem_q.depth;
      end else if (id_fire) begin
        if (lddw_pend_q) begin
          lddw_pend_d = 1'b0;
        end else if (id_dec.unit == ebpf_pkg::UnitNone && id_dec.trap == ebpf_pkg::TrapNone) begin
          lddw_pend_d = 1'b1;
          lddw_lo_d   = id_dec.imm;
          lddw_dst_d  = id_dec.dst;
        end
        if (id_insn.trap == ebpf_pkg::TrapNone && id_insn.unit == ebpf_pkg::UnitCall)
          for (int i = 0; i < ebpf_pkg::CallFrames; i++)
            if (depth_q == 3'(i)) rstack_d[ebpf_pkg::PcW*i +: ebpf_pkg::PcW] = id_pc_q + 1'b1;
        depth_d = id_insn.depth;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q        <= 1'b0;
      start_q      <= 1'b0;
      cycle_q      <= '0;
      insns_q      <= '0;
      tails_q      <= '0;
      budget_q     <= '0;
      id_valid_q   <= 1'b0;
      id_raw_q     <= '0;
      id_pc_q      <= '0;
      lddw_pend_q  <= 1'b0;
      lddw_lo_q    <= '0;
      lddw_dst_q   <= '0;
      depth_q      <= '0;
      rstack_q     <= '0;
      ex_q         <= '0;
      mem_q        <= '0;
      mem_res_q    <= '0;
      mem_addr_q   <= '0;
      mem_sdata_q  <= '0;
      mem_cmp_q    <= '0;
      mem_k_q      <= 5'd1;
      hp_wait_q    <= 1'b0;
      hp_cnt_q     <= '0;
      hp_r0_q      <= '0;
      hp_act_q     <= ebpf_pkg::HelperContinue;
      hp_tail_q    <= '0;
      hp_total_q   <= '0;
      wb_extra_q   <= '0;
      lu_q         <= 1'b0;
      st_lu_q      <= '0;
      st_mem_q     <= '0;
      st_br_q      <= '0;
      st_jump_q    <= '0;
      st_call_q    <= '0;
      st_md_q      <= '0;
      st_hp_q      <= '0;
      wb_q         <= '0;
      wb_res_q     <= '0;
      wb_addr_q    <= '0;
      wb_we_q      <= 1'b0;
      wb_end_q     <= 1'b0;
      wb_trap_q    <= ebpf_pkg::TrapNone;
      wb_status_q  <= ebpf_pkg::StatusOk;
      wb_rgn_q     <= ebpf_pkg::RgnUnmapped;
      wb_trap_pc_q <= '0;
      wb_penalty_q <= '0;
      done_q       <= 1'b0;
      status_q     <= ebpf_pkg::StatusOk;
      r0_q         <= '0;
      cycles_q     <= '0;
      rinsns_q     <= '0;
      tkind_q      <= ebpf_pkg::TrapNone;
      tpc_q        <= '0;
      taddr_q      <= '0;
      tsize_q      <= '0;
      twrite_q     <= 1'b0;
      trgn_q       <= ebpf_pkg::RgnUnmapped;
      rtails_q     <= '0;
    end else begin
      run_q        <= run_d;
      start_q      <= start_d;
      cycle_q      <= cycle_d;
      insns_q      <= insns_d;
      tails_q      <= tails_d;
      budget_q     <= budget_d;
      id_valid_q   <= id_valid_d;
      id_raw_q     <= id_raw_d;
      id_pc_q      <= id_pc_d;
      lddw_pend_q  <= lddw_pend_d;
      lddw_lo_q    <= lddw_lo_d;
      lddw_dst_q   <= lddw_dst_d;
      depth_q      <= depth_d;
      rstack_q     <= rstack_d;
      ex_q         <= ex_d;
      mem_q        <= mem_d;
      mem_res_q    <= mem_res_d;
      mem_addr_q   <= mem_addr_d;
      mem_sdata_q  <= mem_sdata_d;
      mem_cmp_q    <= mem_cmp_d;
      mem_k_q      <= mem_k_d;
      hp_wait_q    <= hp_wait_d;
      hp_cnt_q     <= hp_cnt_d;
      hp_r0_q      <= hp_r0_d;
      hp_act_q     <= hp_act_d;
      hp_tail_q    <= hp_tail_d;
      hp_total_q   <= hp_total_d;
      wb_extra_q   <= wb_extra_d;
      lu_q         <= lu_d;
      st_lu_q      <= st_lu_d;
      st_mem_q     <= st_mem_d;
      st_br_q      <= st_br_d;
      st_jump_q    <= st_jump_d;
      st_call_q    <= st_call_d;
      st_md_q      <= st_md_d;
      st_hp_q      <= st_hp_d;
      wb_q         <= wb_d;
      wb_res_q     <= wb_res_d;
      wb_addr_q    <= wb_addr_d;
      wb_we_q      <= wb_we_d;
      wb_end_q     <= wb_end_d;
      wb_trap_q    <= wb_trap_d;
      wb_status_q  <= wb_status_d;
      wb_rgn_q     <= wb_rgn_d;
      wb_trap_pc_q <= wb_trap_pc_d;
      wb_penalty_q <= wb_penalty_d;
      done_q       <= done_d;
      status_q     <= status_d;
      r0_q         <= r0_d;
      cycles_q     <= cycles_d;
      rinsns_q     <= rinsns_d;
      tkind_q      <= tkind_d;
      tpc_q        <= tpc_d;
      taddr_q      <= taddr_d;
      tsize_q      <= tsize_d;
      twrite_q     <= twrite_d;
      trgn_q       <= trgn_d;
      rtails_q     <= rtails_d;
    end
  end

  assign busy_o       = run_q;
  assign done_o       = done_q;
  assign status_o     = status_q;
  assign r0_o         = r0_q;
  assign insns_o      = rinsns_q;
  assign cycles_o     = cycles_q;
  assign tail_calls_o = rtails_q;
  assign trap_kind_o  = tkind_q;
  assign trap_pc_o    = tpc_q;
  assign trap_addr_o  = taddr_q;
  assign trap_size_o  = tsize_q;
  assign trap_write_o = twrite_q;
  assign trap_rgn_o   = trgn_q;
  assign stall_load_use_o = st_lu_q;
  assign stall_memory_o   = st_mem_q;
  assign stall_branch_o   = st_br_q;
  assign stall_jump_o     = st_jump_q;
  assign stall_call_o     = st_call_q;
  assign stall_muldiv_o   = st_md_q;
  assign stall_helper_o   = st_hp_q;

endmodule
