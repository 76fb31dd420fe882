// SPDX-License-Identifier: MIT
// ebpf_lsu: the load/store unit of MEM: region table, access checks, per-region latency,
// atomics, and the data memory (eight byte-wide synchronous RAM banks).
//
// Interface:
//   cfg_*           write one region-table entry (between runs)
//   host_*          read or write one 8-byte row of the data memory (between runs, run_i low);
//                   registered: a write lands at the second edge, read data is on host_rdata_o
//                   after the second edge
//   valid_i, unit_i the instruction in MEM; first_i marks its first MEM cycle
//   addr_i          the 64-bit NIC address (region << 32 | offset), computed in EX
//   size_i          log2 of the access size; sdata_i the store value / atomic operand;
//                   cmp_i r0 for CMPXCHG
//   busy_o          MEM must hold the instruction for another cycle
//   trap_o          the access check failed (first cycle): the instruction traps, no access
//   rdata_o         the bytes of the last read, realigned to bit 0 (valid the cycle after it:
//                   in WB for a load)
//   old_o           an atomic's old value, zero-extended to its size (valid in WB)
// Timing (docs/microarchitecture.md §3, §4): a load or store holds MEM for the region's latency
// L and accesses the banks in its last cycle; an atomic holds it 2L + 1 cycles: read at cycle L,
// modify at L + 1, write at 2L + 1. A failed check takes one cycle and touches nothing.
// Internals: byte j of an access at physical address pa lives in bank (pa + j) mod 8, row
// (pa + j) / 8, so every bank is touched at most once and unaligned accesses cost nothing:
// bank b serves byte j = (b - pa) mod 8 at row pa/8 + (b < pa mod 8).
`default_nettype none

module ebpf_lsu (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          run_i,
  // region table
  input  logic                          cfg_we_i,
  input  logic [ebpf_pkg::RegionIdxW-1:0] cfg_idx_i,
  input  ebpf_pkg::region_t             cfg_region_i,
  // host access to the data memory
  input  logic                          host_re_i,
  input  logic                          host_we_i,
  input  logic [ebpf_pkg::DmemAw-4:0]   host_row_i,
  input  logic [63:0]                   host_wdata_i,
  input  logic [7:0]                    host_be_i,
  output logic [63:0]                   host_rdata_o,
  // the instruction in MEM
  input  logic                          valid_i,
  input  ebpf_pkg::unit_e               unit_i,
  input  logic [4:0]                    k_i,        // MEM cycle of the instruction, from 1
  input  logic [63:0]                   addr_i,
  input  logic [1:0]                    size_i,
  input  logic [63:0]                   sdata_i,
  input  logic [63:0]                   cmp_i,
  input  ebpf_pkg::amo_op_e             amo_op_i,
  output logic                          busy_o,
  output ebpf_pkg::trap_e               trap_o,
  output ebpf_pkg::rgn_kind_e           trap_rgn_o,
  output logic [63:0]                   rdata_o,
  output logic [63:0]                   old_o
);

  localparam int Rows = (1 << ebpf_pkg::DmemAw) / 8;
  localparam int RowW = ebpf_pkg::DmemAw - 3;

  logic [ebpf_pkg::RegionW-1:0] table_q [ebpf_pkg::NumRegions];
  ebpf_pkg::region_t rgn;

  logic        is_mem, is_write, is_atomic;
  logic        idx_ok;
  logic [31:0] off, rel, span;
  logic [32:0] need;
  logic [3:0]  nbytes;
  logic [3:0]  lat;
  logic [4:0]  total;
  logic [ebpf_pkg::DmemAw-1:0] pa;
  logic [2:0]  lane_d, lane_q;
  logic        rd_strobe, wr_strobe;
  logic [63:0] wvalue, amo_new, mask;
  logic [63:0] old_d, old_q;
  logic [63:0]          bank_rdata;   // bank b in [8*b +: 8]
  logic [8*RowW-1:0]    bank_row;
  logic [63:0]          bank_wdata;
  logic [7:0]           bank_we;
  logic [7:0]           bank_re;

  // ---- region table ------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (cfg_we_i) table_q[cfg_idx_i] <= cfg_region_i;  // a LUT RAM: no reset
  end

  assign is_mem    = valid_i && (unit_i == ebpf_pkg::UnitLoad || unit_i == ebpf_pkg::UnitStore ||
                                 unit_i == ebpf_pkg::UnitAtomic);
  assign is_atomic = (unit_i == ebpf_pkg::UnitAtomic);
  assign is_write  = (unit_i != ebpf_pkg::UnitLoad);
  assign idx_ok    = (addr_i[63:32] < 32'(ebpf_pkg::NumRegions));
  assign rgn       = idx_ok ? table_q[addr_i[32 +: ebpf_pkg::RegionIdxW]] : '0;
  assign off       = addr_i[31:0];
  assign nbytes    = 4'd1 << size_i;
  // off < lo wraps to a large value, so one comparison covers both ends (as the C model)
  assign rel       = off - rgn.lo;
  assign span      = rgn.hi - rgn.lo;
  assign need      = {1'b0, rel} + 33'(nbytes);

  always_comb begin
    trap_o     = ebpf_pkg::TrapNone;
    trap_rgn_o = rgn.kind;
    if (is_mem) begin
      if (need > {1'b0, span})
        trap_o = (rgn.kind == ebpf_pkg::RgnUnmapped) ? ebpf_pkg::TrapUnmapped
                                                     : ebpf_pkg::TrapBounds;
      else if (is_write && !rgn.writable)
        trap_o = ebpf_pkg::TrapReadonly;
    end
  end

  // ---- latency -----------------------------------------------------------------------------
  assign lat   = (rgn.latency == 4'd0) ? 4'd1 : rgn.latency;
  assign total = is_atomic ? {lat, 1'b0} + 5'd1 : {1'b0, lat};
  assign busy_o = is_mem && (trap_o == ebpf_pkg::TrapNone) && (k_i < total);

  assign rd_strobe = is_mem && (trap_o == ebpf_pkg::TrapNone) &&
                     (unit_i != ebpf_pkg::UnitStore) && (k_i == {1'b0, lat});
  assign wr_strobe = is_mem && (trap_o == ebpf_pkg::TrapNone) &&
                     ((unit_i == ebpf_pkg::UnitStore && k_i == {1'b0, lat}) ||
                      (is_atomic && k_i == total));

  // ---- atomics: the new value from the old one (old_q, captured at cycle L + 1) -------------
  assign mask = (size_i == 2'd3) ? 64'hffff_ffff_ffff_ffff
              : (size_i == 2'd2) ? 64'h0000_0000_ffff_ffff
              : (size_i == 2'd1) ? 64'h0000_0000_0000_ffff : 64'h0000_0000_0000_00ff;
  always_comb begin
    unique case (amo_op_i)
      ebpf_pkg::AmoAdd:     amo_new = old_q + sdata_i;
      ebpf_pkg::AmoOr:      amo_new = old_q | sdata_i;
      ebpf_pkg::AmoAnd:     amo_new = old_q & sdata_i;
      ebpf_pkg::AmoXor:     amo_new = old_q ^ sdata_i;
      ebpf_pkg::AmoXchg:    amo_new = sdata_i;
      default:              amo_new = ((cmp_i & mask) == old_q) ? sdata_i : old_q;  // CMPXCHG
    endcase
  end
  assign wvalue = is_atomic ? amo_new : sdata_i;
  assign old_d  = (is_atomic && k_i == {1'b0, lat} + 5'd1) ? (rdata_o & mask) : old_q;
  assign old_o  = old_q;

  // ---- banks -------------------------------------------------------------------------------
  assign pa     = rgn.base + off[ebpf_pkg::DmemAw-1:0];
  // the host port is registered (no logic depends combinationally on it): a request takes
  // effect at the edge after the one that samples it
  logic                        host_re_q, host_we_q;
  logic [ebpf_pkg::DmemAw-4:0] host_row_q;
  logic [63:0]                 host_wdata_q;
  logic [7:0]                  host_be_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      host_re_q    <= 1'b0;
      host_we_q    <= 1'b0;
      host_row_q   <= '0;
      host_wdata_q <= '0;
      host_be_q    <= '0;
    end else begin
      host_re_q    <= host_re_i;
      host_we_q    <= host_we_i;
      host_row_q   <= host_row_i;
      host_wdata_q <= host_wdata_i;
      host_be_q    <= host_be_i;
    end
  end

  assign lane_d = rd_strobe ? pa[2:0] : (host_re_q && !run_i) ? 3'd0 : lane_q;

  always_comb begin
    for (int b = 0; b < 8; b++) begin
      logic [2:0] j;
      j = 3'(b) - pa[2:0];
      if (run_i) begin
        bank_row[RowW*b +: RowW] = pa[ebpf_pkg::DmemAw-1:3] + RowW'(3'(b) < pa[2:0]);
        bank_wdata[8*b +: 8]     = '0;
        for (int k = 0; k < 8; k++)  // byte j of the value, as a multiplexer
          if (j == 3'(k)) bank_wdata[8*b +: 8] = wvalue[8*k +: 8];
        bank_we[b]    = wr_strobe && ({1'b0, j} < nbytes);
        bank_re[b]    = rd_strobe;
      end else begin
        bank_row[RowW*b +: RowW] = host_row_q;
        bank_wdata[8*b +: 8]     = host_wdata_q[8*b +: 8];
        bank_we[b]    = host_we_q && host_be_q[b];
        bank_re[b]    = host_re_q;
      end
    end
  end

  for (genvar b = 0; b < 8; b++) begin : g_bank
    ebpf_ram #(.Width(8), .Depth(Rows)) u_bank (
      .clk_i   (clk_i),
      .re_i    (bank_re[b]),
      .we_i    (bank_we[b]),
      .addr_i  (bank_row[RowW*b +: RowW]),
      .wdata_i (bank_wdata[8*b +: 8]),
      .rdata_o (bank_rdata[8*b +: 8])
    );
  end

  // byte j of the last read is in bank (lane + j) mod 8
  always_comb begin
    rdata_o = '0;
    for (int j = 0; j < 8; j++)
      for (int b = 0; b < 8; b++)
        if (3'(j) + lane_q == 3'(b)) rdata_o[8*j +: 8] = bank_rdata[8*b +: 8];
  end
  assign host_rdata_o = bank_rdata;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      lane_q <= '0;
      old_q  <= '0;
    end else begin
      lane_q <= lane_d;
      old_q  <= old_d;
    end
  end

endmodule
