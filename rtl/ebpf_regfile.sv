// SPDX-License-Identifier: MIT
// ebpf_regfile: registers r0-r10 and the call/return shadow bank of r6-r9.
//
// Interface:
//   init_i            start of a run: r1 = init_r1_i, r2 = init_r2_i, r10 = init_r10_i, rest 0
//   we_i/waddr_i/wdata_i  the write-back port (one register per instruction)
//   call_i            a local call retires: save r6-r9 into frame frame_wr_i, r10 -= 512
//   ret_i             a return retires: r6-r9 from the frame read in the previous cycle
//                     (frame_rd_i, driven from MEM), r10 += 512
//   view_o            every register as an instruction in EX must see it: the write-back of
//                     this cycle bypassed, so that WB -> EX needs no separate forwarding path
// Internals: the shadow bank is an 8 x 256-bit synchronous RAM; a return reads it while in MEM
// and writes r6-r9 in WB. Calls and returns never meet in WB and MEM in the same cycle (a call
// flushes the instruction behind it), so one port serves both.
`default_nettype none

module ebpf_regfile (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               init_i,
  input  logic [63:0]        init_r1_i,
  input  logic [63:0]        init_r2_i,
  input  logic [63:0]        init_r10_i,
  input  logic               we_i,
  input  logic [3:0]         waddr_i,
  input  logic [63:0]        wdata_i,
  input  logic               call_i,
  input  logic               ret_i,
  input  logic [2:0]         frame_wr_i,
  input  logic [2:0]         frame_rd_i,
  output logic [11*64-1:0]   view_o
);

  localparam logic [63:0] Frame = 64'(ebpf_pkg::FrameBytes);

  logic [11*64-1:0] rf_d, rf_q;   // r0 in [63:0], r10 in [703:640]
  logic [255:0]      shadow_rdata;

  ebpf_ram #(.Width(256), .Depth(ebpf_pkg::CallFrames)) u_shadow (
    .clk_i   (clk_i),
    .re_i    (1'b1),
    .we_i    (call_i),
    .addr_i  (call_i ? frame_wr_i : frame_rd_i),
    .wdata_i (rf_q[6*64 +: 256]),
    .rdata_o (shadow_rdata)
  );

  // next state = what the registers hold after this cycle's write-back
  always_comb begin
    rf_d = rf_q;
    if (init_i) begin
      rf_d            = '0;
      rf_d[1*64 +: 64]  = init_r1_i;
      rf_d[2*64 +: 64]  = init_r2_i;
      rf_d[10*64 +: 64] = init_r10_i;
    end else begin
      // a constant part-select per register: a variable one synthesizes into a wide shifter
      for (int i = 0; i < 11; i++)
        if (we_i && waddr_i == 4'(i)) rf_d[64*i +: 64] = wdata_i;
      if (call_i) rf_d[10*64 +: 64] = rf_q[10*64 +: 64] - Frame;
      if (ret_i) begin
        rf_d[6*64 +: 256] = shadow_rdata;  // r6..r9
        rf_d[10*64 +: 64] = rf_q[10*64 +: 64] + Frame;
      end
    end
  end

  assign view_o = rf_d;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) rf_q <= '0;
    else         rf_q <= rf_d;
  end

endmodule
