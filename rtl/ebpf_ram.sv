// SPDX-License-Identifier: MIT
// ebpf_ram: a single-port synchronous RAM (read data registered, one cycle after the address),
// written in the template Yosys and FPGA tools map to block RAM.
//
// Interface: one address for reads and writes; re_i updates rdata_o at the clock edge, we_i
// writes wdata_i. A read and a write in the same cycle are not used by the core.
`default_nettype none

module ebpf_ram #(
  parameter int Width = 64,
  parameter int Depth = 1024,
  parameter int Aw    = $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             re_i,
  input  logic             we_i,
  input  logic [Aw-1:0]    addr_i,
  input  logic [Width-1:0] wdata_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem [Depth];

  always_ff @(posedge clk_i) begin
    if (we_i) mem[addr_i] <= wdata_i;
    if (re_i) rdata_o <= mem[addr_i];
  end

endmodule
