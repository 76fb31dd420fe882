// SPDX-License-Identifier: MIT
// ebpf_helper: the helpers the core answers itself, before the external helper port
// (docs/microarchitecture.md §5). With the NIC's helper numbering selected (hw_i: XDP runs;
// the conformance environment numbers its helpers otherwise), a call whose id is one of these
// is answered here in the cycle it asks, with the C model's r0 and unit cycles, and the external
// port never sees it; every other call goes out through the port.
//
// Implemented: get_smp_processor_id (NICSIM_HW_SMP_ID = 6: r0 = the core's id, 1 unit cycle).
// The other core-state helpers of issue 10 (ktime, prandom, adjust_head/meta/tail,
// get_buff_len, load/store_bytes, csum_diff) are still answered through the port (rtl/README.md).
`default_nettype none

module ebpf_helper (
  input  logic                     hw_i,        // the NIC's helper numbering
  input  logic [31:0]              core_id_i,   // what get_smp_processor_id returns
  input  logic [31:0]              id_i,        // the helper the instruction in MEM calls
  output logic                     local_o,     // answered here
  output logic [63:0]              r0_o,
  output logic [15:0]              cycles_o,
  output ebpf_pkg::helper_action_e action_o
);

  localparam logic [31:0] HwSmpId = 32'd6;

  assign local_o  = hw_i && (id_i == HwSmpId);
  assign r0_o     = {32'd0, core_id_i};
  assign cycles_o = 16'd1;
  assign action_o = ebpf_pkg::HelperContinue;

endmodule
