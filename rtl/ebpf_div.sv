// SPDX-License-Identifier: MIT
// ebpf_div: the iterative divider for DIV, SDIV, MOD, SMOD. It holds EX for 33 cycles (32-bit)
// or 65 cycles (64-bit): 1 + `div32` / `div64` of §4, whatever the operands.
//
// Interface: as ebpf_mul (active_i, flush_i, done_o, result_o).
// Algorithm: restoring division on magnitudes, one quotient bit per cycle. Cycle 0 latches
// |a|, |b| and the signs (the 32-bit forms sign- or zero-extend the low halves first); cycles
// 1..N each shift one dividend bit into the partial remainder and subtract the divisor when it
// fits; the last one feeds the sign fix-up that drives result_o. RFC 9669's special results:
// x / 0 = 0 and x % 0 = x (forced), INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (what the
// magnitude algorithm gives: |INT_MIN| / 1 = 2^63, negated back to INT_MIN).
`default_nettype none

module ebpf_div (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        active_i,
  input  logic        flush_i,
  input  logic        is32_i,
  input  logic        signed_i,
  input  logic        mod_i,
  input  logic [63:0] a_i,
  input  logic [63:0] b_i,
  output logic        done_o,
  output logic [63:0] result_o
);

  logic [6:0]  cnt_d, cnt_q;
  logic [63:0] rem_d, rem_q, quo_d, quo_q, dvs_d, dvs_q, a_d, a_q;
  logic        qneg_d, qneg_q, rneg_d, rneg_q, zero_d, zero_q;
  logic [63:0] a_ext, b_ext, a_abs, b_abs;
  logic [64:0] trial;
  logic [63:0] rem_next, quo_next, q_fix, r_fix, res;
  logic        fits;

  // operands as 64-bit values (32-bit forms: sign- or zero-extended low halves)
  assign a_ext = is32_i ? (signed_i ? {{32{a_i[31]}}, a_i[31:0]} : {32'd0, a_i[31:0]}) : a_i;
  assign b_ext = is32_i ? (signed_i ? {{32{b_i[31]}}, b_i[31:0]} : {32'd0, b_i[31:0]}) : b_i;
  assign a_abs = (signed_i && a_ext[63]) ? 64'd0 - a_ext : a_ext;
  assign b_abs = (signed_i && b_ext[63]) ? 64'd0 - b_ext : b_ext;

  // one restoring step
  assign trial    = {rem_q, quo_q[63]} - {1'b0, dvs_q};
  assign fits     = !trial[64];
  assign rem_next = fits ? trial[63:0] : {rem_q[62:0], quo_q[63]};
  assign quo_next = {quo_q[62:0], fits};

  // sign fix-up of the final step
  assign q_fix  = qneg_q ? 64'd0 - quo_next : quo_next;
  assign r_fix  = rneg_q ? 64'd0 - rem_next : rem_next;
  assign res    = zero_q ? (mod_i ? a_q : 64'd0) : (mod_i ? r_fix : q_fix);
  assign result_o = is32_i ? {32'd0, res[31:0]} : res;
  assign done_o   = active_i && (cnt_q == (is32_i ? 7'(ebpf_pkg::Div32Cycles - 1)
                                                    : 7'(ebpf_pkg::Div64Cycles - 1)));

  always_comb begin
    cnt_d  = cnt_q;
    rem_d  = rem_q;
    quo_d  = quo_q;
    dvs_d  = dvs_q;
    a_d    = a_q;
    qneg_d = qneg_q;
    rneg_d = rneg_q;
    zero_d = zero_q;
    if (flush_i) begin
      cnt_d = '0;
    end else if (active_i) begin
      if (done_o) begin
        cnt_d = '0;
      end else if (cnt_q == 7'd0) begin
        cnt_d  = 7'd1;
        rem_d  = '0;
        quo_d  = is32_i ? {a_abs[31:0], 32'd0} : a_abs;
        dvs_d  = b_abs;
        a_d    = a_ext;
        qneg_d = signed_i && (a_ext[63] ^ b_ext[63]);
        rneg_d = signed_i && a_ext[63];
        zero_d = (b_ext == 64'd0);
      end else begin
        cnt_d = cnt_q + 7'd1;
        rem_d = rem_next;
        quo_d = quo_next;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q  <= '0;
      rem_q  <= '0;
      quo_q  <= '0;
      dvs_q  <= '0;
      a_q    <= '0;
      qneg_q <= 1'b0;
      rneg_q <= 1'b0;
      zero_q <= 1'b0;
    end else begin
      cnt_q  <= cnt_d;
      rem_q  <= rem_d;
      quo_q  <= quo_d;
      dvs_q  <= dvs_d;
      a_q    <= a_d;
      qneg_q <= qneg_d;
      rneg_q <= rneg_d;
      zero_q <= zero_d;
    end
  end

endmodule
