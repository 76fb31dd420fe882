// SPDX-License-Identifier: MIT
// ebpf_alu: the single-cycle ALU and shifter of EX.
//
// Interface: a_i is dst's value, b_i the second operand (src's value or the sign-extended
// immediate, chosen by the core). 32-bit operations (is32_i) work on the low halves and
// zero-extend their result; byte-order operations and MOVSX32 are always 64 bits wide.
// Shifts mask the amount to 5 (32-bit) or 6 (64-bit) bits, as RFC 9669 says.
`default_nettype none

module ebpf_alu (
  input  ebpf_pkg::alu_op_e op_i,
  input  logic              is32_i,
  input  logic [63:0]       a_i,
  input  logic [63:0]       b_i,
  input  logic [63:0]       imm64_i,
  output logic [63:0]       result_o
);

  // One 64-bit datapath for both widths: a 32-bit operation works on the low half of a,
  // zero-extended (sign-extended for ARSH32, so that the arithmetic shift brings in its sign),
  // shifts by b[4:0], and keeps the low half of the result, zero-extended.
  logic [63:0] a, r;
  logic [5:0]  sh;

  assign a  = !is32_i ? a_i :
              (op_i == ebpf_pkg::AluArsh) ? {{32{a_i[31]}}, a_i[31:0]} : {32'd0, a_i[31:0]};
  assign sh = is32_i ? {1'b0, b_i[4:0]} : b_i[5:0];

  function automatic logic [63:0] swap64(input logic [63:0] v);
    for (int i = 0; i < 8; i++) swap64[8*i +: 8] = v[8*(7-i) +: 8];
  endfunction

  always_comb begin
    unique case (op_i)
      ebpf_pkg::AluAdd:     r = a + b_i;
      ebpf_pkg::AluSub:     r = a - b_i;
      ebpf_pkg::AluOr:      r = a | b_i;
      ebpf_pkg::AluAnd:     r = a & b_i;
      ebpf_pkg::AluXor:     r = a ^ b_i;
      ebpf_pkg::AluLsh:     r = a << sh;
      ebpf_pkg::AluRsh:     r = a >> sh;
      ebpf_pkg::AluArsh:    r = $signed(a) >>> sh;
      ebpf_pkg::AluNeg:     r = 64'd0 - a;
      ebpf_pkg::AluMov:     r = b_i;
      ebpf_pkg::AluMovsx8:  r = {{56{b_i[7]}}, b_i[7:0]};
      ebpf_pkg::AluMovsx16: r = {{48{b_i[15]}}, b_i[15:0]};
      ebpf_pkg::AluMovsx32: r = {{32{b_i[31]}}, b_i[31:0]};
      ebpf_pkg::AluLe16:    r = {48'd0, a_i[15:0]};
      ebpf_pkg::AluLe32:    r = {32'd0, a_i[31:0]};
      ebpf_pkg::AluSwap16:  r = {48'd0, a_i[7:0], a_i[15:8]};
      ebpf_pkg::AluSwap32:  r = {32'd0, a_i[7:0], a_i[15:8], a_i[23:16], a_i[31:24]};
      ebpf_pkg::AluSwap64:  r = swap64(a_i);
      ebpf_pkg::AluImm64:   r = imm64_i;
      default:              r = '0;
    endcase
  end

  assign result_o = is32_i ? {32'd0, r[31:0]} : r;

endmodule
