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

  logic [63:0] r64;
  logic [31:0] r32;
  logic [31:0] a32, b32;
  logic [5:0]  sh64;
  logic [4:0]  sh32;

  assign a32  = a_i[31:0];
  assign b32  = b_i[31:0];
  assign sh64 = b_i[5:0];
  assign sh32 = b_i[4:0];

  function automatic logic [63:0] swap64(input logic [63:0] v);
    for (int i = 0; i < 8; i++) swap64[8*i +: 8] = v[8*(7-i) +: 8];
  endfunction

  always_comb begin
    r64 = '0;
    r32 = '0;
    unique case (op_i)
      ebpf_pkg::AluAdd:     begin r64 = a_i + b_i;           r32 = a32 + b32; end
      ebpf_pkg::AluSub:     begin r64 = a_i - b_i;           r32 = a32 - b32; end
      ebpf_pkg::AluOr:      begin r64 = a_i | b_i;           r32 = a32 | b32; end
      ebpf_pkg::AluAnd:     begin r64 = a_i & b_i;           r32 = a32 & b32; end
      ebpf_pkg::AluXor:     begin r64 = a_i ^ b_i;           r32 = a32 ^ b32; end
      ebpf_pkg::AluLsh:     begin r64 = a_i << sh64;         r32 = a32 << sh32; end
      ebpf_pkg::AluRsh:     begin r64 = a_i >> sh64;         r32 = a32 >> sh32; end
      ebpf_pkg::AluArsh:    begin r64 = $signed(a_i) >>> sh64; r32 = $signed(a32) >>> sh32; end
      ebpf_pkg::AluNeg:     begin r64 = 64'd0 - a_i;         r32 = 32'd0 - a32; end
      ebpf_pkg::AluMov:     begin r64 = b_i;                 r32 = b32; end
      ebpf_pkg::AluMovsx8:  begin r64 = {{56{b_i[7]}}, b_i[7:0]};   r32 = {{24{b_i[7]}}, b_i[7:0]}; end
      ebpf_pkg::AluMovsx16: begin r64 = {{48{b_i[15]}}, b_i[15:0]}; r32 = {{16{b_i[15]}}, b_i[15:0]}; end
      ebpf_pkg::AluMovsx32: begin r64 = {{32{b_i[31]}}, b_i[31:0]}; r32 = b32; end
      ebpf_pkg::AluLe16:    r64 = {48'd0, a_i[15:0]};
      ebpf_pkg::AluLe32:    r64 = {32'd0, a_i[31:0]};
      ebpf_pkg::AluSwap16:  r64 = {48'd0, a_i[7:0], a_i[15:8]};
      ebpf_pkg::AluSwap32:  r64 = {32'd0, a_i[7:0], a_i[15:8], a_i[23:16], a_i[31:24]};
      ebpf_pkg::AluSwap64:  r64 = swap64(a_i);
      ebpf_pkg::AluImm64:   r64 = imm64_i;
      default:              r64 = '0;
    endcase
    result_o = is32_i ? {32'd0, r32} : r64;
  end

endmodule
