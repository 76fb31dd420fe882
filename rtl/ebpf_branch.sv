// SPDX-License-Identifier: MIT
// ebpf_branch: the condition of a conditional jump, evaluated in EX.
//
// Interface: a_i is dst's value, b_i src's value or the sign-extended immediate; JMP32
// (is32_i) compares the low halves. taken_o is combinational; the core flushes IF and ID when
// a taken branch leaves EX (predict not taken, two cycles).
`default_nettype none

module ebpf_branch (
  input  ebpf_pkg::br_cond_e cond_i,
  input  logic               is32_i,
  input  logic [63:0]        a_i,
  input  logic [63:0]        b_i,
  output logic               taken_o
);

  logic [63:0] a, b;
  logic        eq, ltu, lts;

  // 32-bit compares: zero-extend for the unsigned ones, sign-extend for the signed ones
  assign a   = is32_i ? {32'd0, a_i[31:0]} : a_i;
  assign b   = is32_i ? {32'd0, b_i[31:0]} : b_i;
  assign eq  = (a == b);
  assign ltu = (a < b);
  assign lts = is32_i ? ($signed(a_i[31:0]) < $signed(b_i[31:0])) : ($signed(a_i) < $signed(b_i));

  always_comb begin
    unique case (cond_i)
      ebpf_pkg::BrEq:  taken_o = eq;
      ebpf_pkg::BrNe:  taken_o = !eq;
      ebpf_pkg::BrGt:  taken_o = !ltu && !eq;
      ebpf_pkg::BrGe:  taken_o = !ltu;
      ebpf_pkg::BrLt:  taken_o = ltu;
      ebpf_pkg::BrLe:  taken_o = ltu || eq;
      ebpf_pkg::BrSet: taken_o = (a & b) != 64'd0;
      ebpf_pkg::BrSgt: taken_o = !lts && !eq;
      ebpf_pkg::BrSge: taken_o = !lts;
      ebpf_pkg::BrSlt: taken_o = lts;
      ebpf_pkg::BrSle: taken_o = lts || eq;
      ebpf_pkg::BrMayGoto: taken_o = 1'b0;  // decided by the core's may_goto counter
      default:         taken_o = 1'b0;
    endcase
  end

endmodule
