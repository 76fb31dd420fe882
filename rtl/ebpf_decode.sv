// SPDX-License-Identifier: MIT
// ebpf_decode: one RFC 9669 instruction slot (v4 included) into the pipeline's insn_t.
//
// Interface: raw_i is the 64-bit slot as stored little-endian (opcode in [7:0], dst [11:8],
// src [15:12], offset [31:16], immediate [63:32]); lddw_hi_i says that raw_i is the second slot
// of an LDDW whose first slot gave lddw_lo_i and lddw_dst_i. Purely combinational.
//
// The slot layout (RFC 9669 §3) and the class / op fields:
//   class = opcode[2:0]: 0 LD, 1 LDX, 2 ST, 3 STX, 4 ALU, 5 JMP, 6 JMP32, 7 ALU64
//   ALU/JMP: op = opcode[7:4], source = opcode[3] (0: immediate K, 1: register X)
//   LD/ST:   mode = opcode[7:5], size = opcode[4:3] (0 W, 1 H, 2 B, 3 DW)
// rd_mask follows the "registers read" table of docs/microarchitecture.md §4; the C model's
// sim/core/timing.c implements the same table.
`default_nettype none

module ebpf_decode (
  input  logic [63:0]                raw_i,
  input  logic [ebpf_pkg::PcW-1:0]   pc_i,
  input  logic                       lddw_hi_i,
  input  logic [31:0]                lddw_lo_i,
  input  logic [3:0]                 lddw_dst_i,
  output ebpf_pkg::insn_t            insn_o
);

  logic [7:0]  opcode;
  logic [3:0]  dst, src, op;
  logic [15:0] off;
  logic [31:0] imm;
  logic [2:0]  cls;
  logic        xsrc;
  logic        alu64;
  logic        bad_reg;

  assign opcode = raw_i[7:0];
  assign dst    = raw_i[11:8];
  assign src    = raw_i[15:12];
  assign off    = raw_i[31:16];
  assign imm    = raw_i[63:32];
  assign cls    = opcode[2:0];
  assign op     = opcode[7:4];
  assign xsrc   = opcode[3];
  assign alu64  = (cls == 3'd7);
  assign bad_reg = (dst > 4'd10) || (src > 4'd10);

  // RFC 9669 memory size field -> bytes as log2: W(0)->2, H(1)->1, B(2)->0, DW(3)->3
  function automatic logic [1:0] mem_size(input logic [1:0] f);
    unique case (f)
      2'd0:    mem_size = 2'd2;
      2'd1:    mem_size = 2'd1;
      2'd2:    mem_size = 2'd0;
      default: mem_size = 2'd3;
    endcase
  endfunction

  function automatic logic [10:0] r(input logic [3:0] idx);
    r = (idx <= 4'd10) ? (11'd1 << idx) : 11'd0;
  endfunction

  localparam logic [10:0] R1ToR5 = 11'b000_0011_1110;
  localparam logic [10:0] R0     = 11'b000_0000_0001;

  always_comb begin
    insn_o           = '0;
    insn_o.valid     = 1'b1;
    insn_o.counted   = 1'b1;
    insn_o.pc        = pc_i;
    insn_o.npc       = pc_i + 1'b1;
    insn_o.unit      = ebpf_pkg::UnitAlu;
    insn_o.alu_op    = ebpf_pkg::AluAdd;
    insn_o.br_cond   = ebpf_pkg::BrEq;
    insn_o.amo_op    = ebpf_pkg::AmoAdd;
    insn_o.trap      = ebpf_pkg::TrapNone;
    insn_o.dst       = dst;
    insn_o.src       = src;
    insn_o.off       = off;
    insn_o.imm       = imm;
    insn_o.imm64     = {{32{imm[31]}}, imm};
    insn_o.rd        = dst;
    insn_o.target    = pc_i + ebpf_pkg::PcW'({{16{off[15]}}, off}) + 1'b1;

    if (lddw_hi_i) begin
      // Second LDDW slot: the whole instruction retires here, one slot after its first.
      insn_o.unit    = ebpf_pkg::UnitAlu;
      insn_o.alu_op  = ebpf_pkg::AluImm64;
      insn_o.lddw    = 1'b1;
      insn_o.pc      = pc_i - 1'b1;
      insn_o.dst     = lddw_dst_i;
      insn_o.rd      = lddw_dst_i;
      insn_o.rd_we   = 1'b1;
      insn_o.imm64   = {imm, lddw_lo_i};
    end else begin
      unique case (cls)
        // ---- ALU, ALU64 ----------------------------------------------------------------
        3'd4, 3'd7: begin
          insn_o.is32    = !alu64;
          insn_o.use_imm = !xsrc;
          insn_o.rd_we   = 1'b1;
          insn_o.rd_mask = xsrc ? (r(src) | r(dst)) : r(dst);
          unique case (op)
            4'h0: insn_o.alu_op = ebpf_pkg::AluAdd;
            4'h1: insn_o.alu_op = ebpf_pkg::AluSub;
            4'h2: insn_o.unit   = ebpf_pkg::UnitMul;
            4'h3, 4'h9: begin
              insn_o.unit       = ebpf_pkg::UnitDiv;
              insn_o.div_signed = (off == 16'd1);
              insn_o.div_mod    = (op == 4'h9);
              if (off > 16'd1) insn_o.trap = ebpf_pkg::TrapIllegal;
            end
            4'h4: insn_o.alu_op = ebpf_pkg::AluOr;
            4'h5: insn_o.alu_op = ebpf_pkg::AluAnd;
            4'h6: insn_o.alu_op = ebpf_pkg::AluLsh;
            4'h7: insn_o.alu_op = ebpf_pkg::AluRsh;
            4'h8: begin
              insn_o.alu_op  = ebpf_pkg::AluNeg;
              insn_o.rd_mask = r(dst);
            end
            4'ha: insn_o.alu_op = ebpf_pkg::AluXor;
            4'hb: begin
              // MOV reads only its source; MOVSX (offset 8/16/32) sign-extends it
              insn_o.rd_mask = xsrc ? r(src) : 11'd0;
              unique case (off)
                16'd8:   insn_o.alu_op = ebpf_pkg::AluMovsx8;
                16'd16:  insn_o.alu_op = ebpf_pkg::AluMovsx16;
                16'd32:  insn_o.alu_op = ebpf_pkg::AluMovsx32;
                default: insn_o.alu_op = ebpf_pkg::AluMov;
              endcase
            end
            4'hc: insn_o.alu_op = ebpf_pkg::AluArsh;
            4'hd: begin
              // END: ALU class LE (source 0) truncates, BE (source 1) swaps; ALU64 BSWAP swaps.
              // The result of a byte-order op is 64 bits wide (is32 off).
              insn_o.is32    = 1'b0;
              insn_o.use_imm = 1'b0;
              insn_o.rd_mask = r(dst);
              if (!alu64 && !xsrc) begin
                unique case (imm)
                  32'd16:  insn_o.alu_op = ebpf_pkg::AluLe16;
                  32'd32:  insn_o.alu_op = ebpf_pkg::AluLe32;
                  default: begin
                    // LE64: no change (a | 0)
                    insn_o.alu_op  = ebpf_pkg::AluOr;
                    insn_o.use_imm = 1'b1;
                    insn_o.imm     = '0;
                  end
                endcase
              end else begin
                unique case (imm)
                  32'd16:  insn_o.alu_op = ebpf_pkg::AluSwap16;
                  32'd32:  insn_o.alu_op = ebpf_pkg::AluSwap32;
                  default: insn_o.alu_op = ebpf_pkg::AluSwap64;
                endcase
              end
            end
            default: insn_o.trap = ebpf_pkg::TrapIllegal;
          endcase
        end

        // ---- JMP, JMP32 --------------------------------------------------------------------
        3'd5, 3'd6: begin
          insn_o.is32    = (cls == 3'd6);
          insn_o.use_imm = !xsrc;
          insn_o.unit    = ebpf_pkg::UnitBranch;
          insn_o.rd_mask = xsrc ? (r(dst) | r(src)) : r(dst);
          unique case (op)
            4'h0: begin
              // JA (offset) and JA32 (immediate)
              insn_o.unit    = ebpf_pkg::UnitJump;
              insn_o.rd_mask = '0;
              if (cls == 3'd6)
                insn_o.target = pc_i + ebpf_pkg::PcW'(imm) + 1'b1;
            end
            4'h1: insn_o.br_cond = ebpf_pkg::BrEq;
            4'h2: insn_o.br_cond = ebpf_pkg::BrGt;
            4'h3: insn_o.br_cond = ebpf_pkg::BrGe;
            4'h4: insn_o.br_cond = ebpf_pkg::BrSet;
            4'h5: insn_o.br_cond = ebpf_pkg::BrNe;
            4'h6: insn_o.br_cond = ebpf_pkg::BrSgt;
            4'h7: insn_o.br_cond = ebpf_pkg::BrSge;
            4'ha: insn_o.br_cond = ebpf_pkg::BrLt;
            4'hb: insn_o.br_cond = ebpf_pkg::BrLe;
            4'hc: insn_o.br_cond = ebpf_pkg::BrSlt;
            4'hd: insn_o.br_cond = ebpf_pkg::BrSle;
            4'h8: begin
              if (cls == 3'd6) begin
                insn_o.trap = ebpf_pkg::TrapIllegal;
              end else if (xsrc) begin
                // callx: the helper number is in dst
                insn_o.unit    = ebpf_pkg::UnitHelper;
                insn_o.callx   = 1'b1;
                insn_o.rd_mask = R1ToR5 | r(dst);
                insn_o.rd      = 4'd0;
                insn_o.rd_we   = 1'b1;
              end else if (src == 4'd0) begin
                insn_o.unit    = ebpf_pkg::UnitHelper;
                insn_o.rd_mask = R1ToR5;
                insn_o.rd      = 4'd0;
                insn_o.rd_we   = 1'b1;
              end else if (src == 4'd1) begin
                insn_o.unit    = ebpf_pkg::UnitCall;
                insn_o.rd_mask = '0;
                insn_o.target  = pc_i + ebpf_pkg::PcW'(imm) + 1'b1;
              end else begin
                insn_o.trap = ebpf_pkg::TrapIllegal;  // kfunc calls are refused at load
              end
            end
            4'he: begin
              // may_goto (BPF_JCOND, src BPF_MAY_GOTO): a conditional branch on the frame's
              // may_goto counter (docs/microarchitecture.md 4a); reads no register
              insn_o.br_cond = ebpf_pkg::BrMayGoto;
              insn_o.rd_mask = '0;
              if (cls == 3'd6 || xsrc || src != 4'd0) insn_o.trap = ebpf_pkg::TrapIllegal;
            end
            4'h9: begin
              if (cls == 3'd6) insn_o.trap = ebpf_pkg::TrapIllegal;
              insn_o.unit    = ebpf_pkg::UnitExit;
              insn_o.rd_mask = R0;
            end
            default: insn_o.trap = ebpf_pkg::TrapIllegal;
          endcase
        end

        // ---- LD: only LDDW's first slot ----------------------------------------------------
        3'd0: begin
          insn_o.unit    = ebpf_pkg::UnitNone;
          insn_o.counted = 1'b0;
          if (opcode != 8'h18) begin
            insn_o.unit    = ebpf_pkg::UnitAlu;
            insn_o.counted = 1'b1;
            insn_o.trap    = ebpf_pkg::TrapIllegal;
          end
        end

        // ---- LDX ---------------------------------------------------------------------------
        3'd1: begin
          insn_o.unit      = ebpf_pkg::UnitLoad;
          insn_o.size      = mem_size(opcode[4:3]);
          insn_o.ld_signed = (opcode[7:5] == 3'd4);
          insn_o.rd_we     = 1'b1;
          insn_o.rd_mask   = r(src);
          insn_o.ld_mask   = r(dst);
          if (opcode[7:5] != 3'd3 && !(opcode[7:5] == 3'd4 && opcode[4:3] != 2'd3))
            insn_o.trap = ebpf_pkg::TrapIllegal;
        end

        // ---- ST, STX, atomics --------------------------------------------------------------
        3'd2: begin
          insn_o.unit    = ebpf_pkg::UnitStore;
          insn_o.size    = mem_size(opcode[4:3]);
          insn_o.use_imm = 1'b1;
          insn_o.rd_mask = r(dst);
          if (opcode[7:5] != 3'd3) insn_o.trap = ebpf_pkg::TrapIllegal;
        end
        default: begin  // 3'd3: STX
          insn_o.size    = mem_size(opcode[4:3]);
          insn_o.rd_mask = r(dst) | r(src);
          if (opcode[7:5] == 3'd3) begin
            insn_o.unit = ebpf_pkg::UnitStore;
          end else if (opcode[7:5] == 3'd6 && (opcode[4:3] == 2'd0 || opcode[4:3] == 2'd3)) begin
            // ATOMIC, W (size field 0) or DW (3)
            insn_o.unit      = ebpf_pkg::UnitAtomic;
            insn_o.amo_fetch = imm[0];
            insn_o.rd        = src;
            unique case (imm)
              32'h00, 32'h01: insn_o.amo_op = ebpf_pkg::AmoAdd;
              32'h40, 32'h41: insn_o.amo_op = ebpf_pkg::AmoOr;
              32'h50, 32'h51: insn_o.amo_op = ebpf_pkg::AmoAnd;
              32'ha0, 32'ha1: insn_o.amo_op = ebpf_pkg::AmoXor;
              32'he1:         insn_o.amo_op = ebpf_pkg::AmoXchg;
              32'hf1: begin
                insn_o.amo_op  = ebpf_pkg::AmoCmpxchg;
                insn_o.rd      = 4'd0;
                insn_o.rd_mask = r(dst) | r(src) | R0;
              end
              default: insn_o.trap = ebpf_pkg::TrapIllegal;
            endcase
            insn_o.rd_we   = insn_o.amo_fetch;
            insn_o.ld_mask = insn_o.amo_fetch ? r(insn_o.rd) : 11'd0;
          end else begin
            insn_o.unit = ebpf_pkg::UnitStore;
            insn_o.trap = ebpf_pkg::TrapIllegal;
          end
        end
      endcase
      if (bad_reg) insn_o.trap = ebpf_pkg::TrapIllegal;
      if (insn_o.trap != ebpf_pkg::TrapNone) begin
        insn_o.rd_we   = 1'b0;
        insn_o.ld_mask = '0;
      end
    end
  end

endmodule
