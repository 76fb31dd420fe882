// SPDX-License-Identifier: MIT
// ebpf_fetch: the program counter and the instruction memory (IF).
//
// Interface: the instruction memory holds the NIC image's slots (64 bits each, LDDW as two);
// the host writes it between runs (imem_we_i). start_i loads entry_i; while running, the next
// pc is redirect_pc_i when redirect_i (the core has already chosen among the MEM, EX and ID
// redirects), the same pc when stall_i, else pc + 1. if_raw_o is the slot at if_pc_o: the memory
// is synchronous, so the next pc is its address and the slot arrives with the pc register.
`default_nettype none

module ebpf_fetch #(
  parameter int ImemSlots = 4096
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     run_i,
  input  logic                     start_i,
  input  logic [ebpf_pkg::PcW-1:0] entry_i,
  input  logic                     redirect_i,
  input  logic [ebpf_pkg::PcW-1:0] redirect_pc_i,
  input  logic                     stall_i,
  input  logic                     imem_we_i,
  input  logic [ebpf_pkg::PcW-1:0] imem_addr_i,
  input  logic [63:0]              imem_wdata_i,
  output logic [ebpf_pkg::PcW-1:0] if_pc_o,
  output logic [63:0]              if_raw_o
);

  localparam int Aw = $clog2(ImemSlots);

  logic [ebpf_pkg::PcW-1:0] pc_d, pc_q;
  logic [Aw-1:0]            addr;

  always_comb begin
    pc_d = pc_q;
    if (!run_i) begin
      if (start_i) pc_d = entry_i;
    end else if (redirect_i) begin
      pc_d = redirect_pc_i;
    end else if (!stall_i) begin
      pc_d = pc_q + 1'b1;
    end
  end

  // slots at or above ImemSlots do not exist: the harness refuses larger images, and a
  // speculative fetch past the end is flushed before it executes
  assign addr = (run_i || start_i) ? pc_d[Aw-1:0] : imem_addr_i[Aw-1:0];

  ebpf_ram #(.Width(64), .Depth(ImemSlots)) u_imem (
    .clk_i   (clk_i),
    .re_i    (run_i || start_i),
    .we_i    (imem_we_i && !run_i && !start_i),
    .addr_i  (addr),
    .wdata_i (imem_wdata_i),
    .rdata_o (if_raw_o)
  );

  assign if_pc_o = pc_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) pc_q <= '0;
    else         pc_q <= pc_d;
  end

endmodule
