// SPDX-License-Identifier: MIT
// ebpf_mul: the multiplier. MUL holds EX for 3 cycles (1 + `mul` = 2 extra, §4).
//
// Interface: active_i is high in every cycle EX holds a MUL and is not frozen by MEM; done_o
// says the product is on result_o this cycle (the instruction leaves EX at its end);
// flush_i drops a MUL whose instruction was killed.
// Internals: cycle 0 latches the operands, cycle 1 registers the 64x64 product (a DSP cascade
// in an FPGA), cycle 2 presents it. 32-bit MUL keeps the low half, zero-extended.
`default_nettype none

module ebpf_mul (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        active_i,
  input  logic        flush_i,
  input  logic        is32_i,
  input  logic [63:0] a_i,
  input  logic [63:0] b_i,
  output logic        done_o,
  output logic [63:0] result_o
);

  logic [1:0]  cnt_d, cnt_q;
  logic [63:0] a_d, a_q, b_d, b_q, p_d, p_q;

  assign done_o   = active_i && (cnt_q == 2'(ebpf_pkg::MulCycles - 1));
  assign result_o = is32_i ? {32'd0, p_q[31:0]} : p_q;

  always_comb begin
    cnt_d = cnt_q;
    a_d   = a_q;
    b_d   = b_q;
    p_d   = p_q;
    if (flush_i) begin
      cnt_d = '0;
    end else if (active_i) begin
      cnt_d = done_o ? 2'd0 : cnt_q + 2'd1;
      if (cnt_q == 2'd0) begin
        a_d = a_i;
        b_d = b_i;
      end
      if (cnt_q == 2'd1) p_d = a_q * b_q;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
      a_q   <= '0;
      b_q   <= '0;
      p_q   <= '0;
    end else begin
      cnt_q <= cnt_d;
      a_q   <= a_d;
      b_q   <= b_d;
      p_q   <= p_d;
    end
  end

endmodule
