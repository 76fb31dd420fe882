// SPDX-License-Identifier: MIT
// ebpf_engine: the XDP engine top for FPGA use: ebpf_core, its data memory holding the packet
// frame, the xdp_md context and the stack, behind an AXI4-Stream receive slave, an AXI4-Stream
// transmit master and an AXI4-Lite control slave (registers: docs/engine-registers.md).
//
//   s_axis ──► RX ──► frame in data memory ──► CTX (xdp_md, region table) ──► RUN (ebpf_core)
//          ──► POST (data, data_end back from xdp_md) ──► TX (realigned) ──► m_axis
//
// Interface (all synchronous to clk_i, active-low asynchronous reset rst_ni):
//   s_axis_*   receive: 64-bit TDATA, TKEEP (contiguous from byte 0; all ones but on the last
//              beat), TLAST, TUSER = ingress port (sampled on the first beat).
//   m_axis_*   transmit: the frame [data, data_end) after the program, byte 0 of the frame in
//              TDATA[7:0] of the first beat; TUSER = {verdict[2:0], egress port}. Frames whose
//              verdict is XDP_DROP or XDP_ABORTED are not sent at all (no beat; the counters
//              and the report say what happened): a switch behind the engine forwards TX and
//              REDIRECT frames to the egress port and PASS frames to the host.
//   s_axil_*   control (ebpf_axil_slave): image load, entry, budget, run enable / single step,
//              per-run report, counters, ID and version.
//   helper_*   the core's helper port, exposed: map helpers, redirects, tail calls and event
//              output are answered by a helper unit outside the engine (docs/engine-registers.md,
//              "Helper interface"). helper_egress_we_i / helper_egress_i set the egress port of
//              an XDP_REDIRECT verdict while the frame runs (bpf_redirect, bpf_redirect_map).
// One frame is in the engine at a time: RX, run and TX of a frame do not overlap, and RX
// TREADY is low from a frame's TLAST until it has been sent or dropped.
//
// Data memory layout (ebpf_pkg::DmemAw bytes; region numbers are nicsim's, sim/xdp/xdp.c):
//   [0, StackBytes)               stack, region 1 (r10 = its top)
//   [CtxBase, CtxBase + 40)       struct nicsim_pkt_desc (the xdp_md the driver translated
//                                 context accesses to), region 2; r1 = region 2, offset 0
//   [FrameBase, FrameBase + 4096) the frame, region 3: 256 bytes of headroom, the packet,
//                                 tailroom; the region's window is [data_meta, data_end)
`default_nettype none

module ebpf_engine #(
  parameter int ImemSlots = 4096,
  parameter int PortW     = 8,     // width of a port number (TUSER)
  parameter int AddrW     = 12     // AXI4-Lite address bits (a 4 KiB register window)
) (
  input  logic                                clk_i,
  input  logic                                rst_ni,
  // AXI4-Stream receive slave
  input  logic                                s_axis_tvalid_i,
  output logic                                s_axis_tready_o,
  input  logic [63:0]                         s_axis_tdata_i,
  input  logic [7:0]                          s_axis_tkeep_i,
  input  logic                                s_axis_tlast_i,
  input  logic [PortW-1:0]                    s_axis_tuser_i,
  // AXI4-Stream transmit master
  output logic                                m_axis_tvalid_o,
  input  logic                                m_axis_tready_i,
  output logic [63:0]                         m_axis_tdata_o,
  output logic [7:0]                          m_axis_tkeep_o,
  output logic                                m_axis_tlast_o,
  output logic [PortW+2:0]                    m_axis_tuser_o,   // {verdict[2:0], egress}
  // AXI4-Lite control slave
  input  logic                                s_axil_awvalid_i,
  output logic                                s_axil_awready_o,
  input  logic [AddrW-1:0]                    s_axil_awaddr_i,
  input  logic                                s_axil_wvalid_i,
  output logic                                s_axil_wready_o,
  input  logic [31:0]                         s_axil_wdata_i,
  input  logic [3:0]                          s_axil_wstrb_i,
  output logic                                s_axil_bvalid_o,
  input  logic                                s_axil_bready_i,
  output logic [1:0]                          s_axil_bresp_o,
  input  logic                                s_axil_arvalid_i,
  output logic                                s_axil_arready_o,
  input  logic [AddrW-1:0]                    s_axil_araddr_i,
  output logic                                s_axil_rvalid_o,
  input  logic                                s_axil_rready_i,
  output logic [31:0]                         s_axil_rdata_o,
  output logic [1:0]                          s_axil_rresp_o,
  // helper interface (the core's helper port)
  output logic                                helper_req_valid_o,
  output logic [31:0]                         helper_id_o,
  output logic [5*64-1:0]                     helper_args_o,   // r1 in [63:0]
  input  logic                                helper_resp_valid_i,
  input  logic [63:0]                         helper_r0_i,
  input  logic [15:0]                         helper_cycles_i,
  input  ebpf_pkg::helper_action_e            helper_action_i,
  input  logic [ebpf_pkg::PcW-1:0]            helper_tail_pc_i,
  input  logic                                helper_egress_we_i,
  input  logic [PortW-1:0]                    helper_egress_i,
  // a run ended (one cycle): an interrupt source for a host that polls nothing
  output logic                                run_done_o
);

  // ---- geometry (include/nicsim/xdp.h, include/nicsim/nic_image.h) ----------------------------
  localparam int RowW       = ebpf_pkg::DmemAw - 3;
  localparam int CtxBase    = ebpf_pkg::StackBytes;
  localparam int FrameBase  = CtxBase + 4096;       // the frame's first byte, row aligned
  localparam int FrameBytes = 4096;                 // NICSIM_XDP_FRAME_SIZE
  localparam int Headroom   = 256;                  // NICSIM_XDP_HEADROOM
  localparam int Tailroom   = 320;                  // NICSIM_XDP_TAILROOM
  localparam int MaxData    = FrameBytes - Headroom - Tailroom;  // 3520 bytes
  localparam int MaxBeats   = MaxData / 8;
  localparam int CtxBytes   = 40;                   // sizeof(struct nicsim_pkt_desc)
  localparam int StackRows  = ebpf_pkg::StackBytes / 8;
  localparam int HeadRows   = Headroom / 8;
  localparam int FrameRows  = FrameBytes / 8;
  localparam logic [31:0] CtxRegion = 32'd2;        // NICSIM_CTX_REGION
  localparam logic [31:0] PktRegion = 32'd3;        // NICSIM_PKT_REGION
  localparam logic [RowW-1:0] CtxRow   = RowW'(CtxBase / 8);
  localparam logic [RowW-1:0] FrameRow = RowW'(FrameBase / 8);
  localparam logic [RowW-1:0] DataRow  = RowW'((FrameBase + Headroom) / 8);

  // ---- identification -------------------------------------------------------------------------
  localparam logic [31:0] EngineId      = 32'h6e73_6565;  // "nsee": nicsim eBPF engine
  localparam logic [31:0] EngineVersion = 32'h0001_0000;  // 1.0
  localparam logic [31:0] DefaultBudget = 32'h0100_0000;  // NICSIM_DEFAULT_BUDGET (1 << 24)

  // ---- XDP verdicts (enum nicsim_xdp_action) ----------------------------------------------------
  localparam logic [2:0] XdpAborted  = 3'd0;
  localparam logic [2:0] XdpDrop     = 3'd1;
  // XDP_PASS (2) and XDP_TX (3) need no special case: both are sent, egress = ingress port
  localparam logic [2:0] XdpRedirect = 3'd4;

  // ---- the frame's way through the engine -------------------------------------------------------
  typedef enum logic [3:0] {
    StInit  = 4'd0,   // after reset: every region-table entry unmapped
    StIdle  = 4'd1,   // nothing to do (RUN_EN and STEP clear); the image may be loaded
    StRx    = 4'd2,   // receiving a frame into the frame buffer
    StDrain = 4'd3,   // a malformed or oversized frame: discard beats up to TLAST
    StCtx   = 4'd4,   // write xdp_md and the stack / context / packet regions
    StStart = 4'd5,   // start_i to the core
    StRun   = 4'd6,   // the program runs
    StPost  = 4'd7,   // read data and data_end back from xdp_md
    StTx    = 4'd8,   // send [data, data_end)
    StScrub = 4'd9    // CTRL.SCRUB: zero the stack, the headroom and the tailroom
  } state_e;

  state_e           state_d, state_q;
  logic [10:0]      cnt_d, cnt_q;          // init entry, RX beat, CTX step, POST step
  logic [PortW-1:0] port_d, port_q;        // ingress port of the frame
  logic [PortW-1:0] egress_d, egress_q;    // egress port of a REDIRECT
  logic [12:0]      len_d, len_q;          // bytes received
  logic [12:0]      olen_d, olen_q;        // bytes sent (0: dropped)
  logic             rx_bad_d, rx_bad_q;    // the frame being received is refused
  logic [2:0]       verdict_d, verdict_q;
  logic [31:0]      pdata_d, pdata_q;      // offset of data in the frame after the run
  logic [31:0]      pend_d, pend_q;        // offset of data_end
  // TX: rows are read ahead through the core's host port (two cycles from request to data)
  // into a four-row queue (a shift register: the head is always entry 0); a beat is entries 0
  // and 1 shifted by the data offset within a row, so that frames leave at one beat per cycle
  // from any byte offset
  logic [RowW-1:0]  txrow_d, txrow_q;      // next row to read
  logic [9:0]       txrows_d, txrows_q;    // rows still to read
  logic [2:0]       txsh_d, txsh_q;        // data offset within a row
  logic [12:0]      txleft_d, txleft_q;    // bytes still to send
  logic [4*64-1:0]  txq_d, txq_q;          // the row queue, entry i in [64*i +: 64]
  logic [2:0]       txcnt_d, txcnt_q;      // rows in it
  logic             txp1_d, txp1_q;        // a row read requested last cycle
  logic             txp2_d, txp2_q;        // ... two cycles ago: its data is on the port now
  logic             tx_issue, tx_need2, tx_fire;
  logic [2:0]       txwr;                  // entry an arriving row goes to
  logic [3:0]       tx_room;

  // control registers
  logic             run_en_d, run_en_q;
  logic             scrub_d, scrub_q;       // CTRL.SCRUB
  logic             step_d, step_q;
  logic             step_set;              // CTRL.STEP written with 1
  logic             done_seen_d, done_seen_q;
  logic [ebpf_pkg::PcW-1:0] entry_d, entry_q;
  logic [31:0]      ifindex_d, ifindex_q;
  logic [63:0]      budget_d, budget_q;
  logic [ebpf_pkg::PcW-1:0] imem_addr_d, imem_addr_q;
  logic [31:0]      imem_lo_d, imem_lo_q;
  // counters
  logic [31:0]      c_rx_d, c_rx_q, c_tx_d, c_tx_q, c_drop_d, c_drop_q;
  logic [31:0]      c_abort_d, c_abort_q, c_err_d, c_err_q;

  // core
  logic             imem_we;
  logic [63:0]      imem_wdata;
  logic             dmem_re, dmem_we;
  logic [RowW-1:0]  dmem_row;
  logic [63:0]      dmem_wdata, dmem_rdata;
  logic [7:0]       dmem_be;
  logic             rgn_we;
  logic [ebpf_pkg::RegionIdxW-1:0] rgn_idx;
  ebpf_pkg::region_t rgn;
  logic             core_start, core_busy, core_done;
  ebpf_pkg::status_e core_status;
  logic [63:0]      core_r0, core_insns, core_cycles, core_taddr;
  logic [5:0]       core_tails;
  ebpf_pkg::trap_e  core_tkind;
  logic [ebpf_pkg::PcW-1:0] core_tpc;
  logic [3:0]       core_tsize;
  logic             core_twrite;
  ebpf_pkg::rgn_kind_e core_trgn;
  logic [31:0]      st_lu, st_mem, st_br, st_jump, st_call, st_md, st_hp;

  // register requests
  logic             wr, rd, wr_err, rd_err;
  logic [AddrW-1:0] wr_addr, rd_addr;
  logic [31:0]      wr_data, rd_data, wr_old, wr_merged;
  logic [3:0]       wr_strb;

  // RX beat decode
  logic             rx_beat;
  logic [3:0]       keep_n;     // bytes in the beat; 0: TKEEP is not contiguous from byte 0
  logic [63:0]      rx_masked;
  logic [119:0]     tx_pair;                // head row and the 7 bytes after it
  logic [63:0]      tx_beat;
  logic             imem_ok;    // the image may be written (no frame in the engine, RUN_EN 0)
  logic             frame_busy;

  // ===========================================================================================
  // the core
  // ===========================================================================================
  ebpf_core #(.ImemSlots(ImemSlots)) u_core (
    .clk_i               (clk_i),
    .rst_ni              (rst_ni),
    .imem_we_i           (imem_we),
    .imem_addr_i         (imem_addr_q),
    .imem_wdata_i        (imem_wdata),
    .dmem_re_i           (dmem_re),
    .dmem_we_i           (dmem_we),
    .dmem_row_i          (dmem_row),
    .dmem_wdata_i        (dmem_wdata),
    .dmem_be_i           (dmem_be),
    .dmem_rdata_o        (dmem_rdata),
    .rgn_we_i            (rgn_we),
    .rgn_idx_i           (rgn_idx),
    .rgn_i               (rgn),
    .start_i             (core_start),
    .entry_i             (entry_q),
    .r1_i                ({CtxRegion, 32'd0}),
    .r2_i                (64'd0),
    .budget_i            (budget_q),
    .busy_o              (core_busy),
    .done_o              (core_done),
    .status_o            (core_status),
    .r0_o                (core_r0),
    .insns_o             (core_insns),
    .cycles_o            (core_cycles),
    .tail_calls_o        (core_tails),
    .trap_kind_o         (core_tkind),
    .trap_pc_o           (core_tpc),
    .trap_addr_o         (core_taddr),
    .trap_size_o         (core_tsize),
    .trap_write_o        (core_twrite),
    .trap_rgn_o          (core_trgn),
    .stall_load_use_o    (st_lu),
    .stall_memory_o      (st_mem),
    .stall_branch_o      (st_br),
    .stall_jump_o        (st_jump),
    .stall_call_o        (st_call),
    .stall_muldiv_o      (st_md),
    .stall_helper_o      (st_hp),
    .helper_req_valid_o  (helper_req_valid_o),
    .helper_id_o         (helper_id_o),
    .helper_args_o       (helper_args_o),
    .helper_resp_valid_i (helper_resp_valid_i),
    .helper_r0_i         (helper_r0_i),
    .helper_cycles_i     (helper_cycles_i),
    .helper_action_i     (helper_action_i),
    .helper_tail_pc_i    (helper_tail_pc_i),
    .retire_valid_o      (),
    .retire_pc_o         (),
    .retire_cycle_o      (),
    .retire_we_o         (),
    .retire_rd_o         (),
    .retire_value_o      (),
    // every helper through the engine's helper port, as before ebpf_helper (r-run's merge)
    .hw_helpers_i        (1'b0),
    .core_id_i           (32'd0)
  );

  assign run_done_o = core_done;

  // ===========================================================================================
  // AXI4-Lite
  // ===========================================================================================
  ebpf_axil_slave #(.AddrW(AddrW)) u_axil (
    .clk_i            (clk_i),
    .rst_ni           (rst_ni),
    .s_axil_awvalid_i (s_axil_awvalid_i),
    .s_axil_awready_o (s_axil_awready_o),
    .s_axil_awaddr_i  (s_axil_awaddr_i),
    .s_axil_wvalid_i  (s_axil_wvalid_i),
    .s_axil_wready_o  (s_axil_wready_o),
    .s_axil_wdata_i   (s_axil_wdata_i),
    .s_axil_wstrb_i   (s_axil_wstrb_i),
    .s_axil_bvalid_o  (s_axil_bvalid_o),
    .s_axil_bready_i  (s_axil_bready_i),
    .s_axil_bresp_o   (s_axil_bresp_o),
    .s_axil_arvalid_i (s_axil_arvalid_i),
    .s_axil_arready_o (s_axil_arready_o),
    .s_axil_araddr_i  (s_axil_araddr_i),
    .s_axil_rvalid_o  (s_axil_rvalid_o),
    .s_axil_rready_i  (s_axil_rready_i),
    .s_axil_rdata_o   (s_axil_rdata_o),
    .s_axil_rresp_o   (s_axil_rresp_o),
    .wr_o             (wr),
    .wr_addr_o        (wr_addr),
    .wr_data_o        (wr_data),
    .wr_strb_o        (wr_strb),
    .wr_err_i         (wr_err),
    .rd_o             (rd),
    .rd_addr_o        (rd_addr),
    .rd_data_i        (rd_data),
    .rd_err_i         (rd_err)
  );

  // ---- register read (docs/engine-registers.md) -------------------------------------------------
  always_comb begin
    rd_data = 32'd0;
    rd_err  = 1'b0;
    if (rd) unique case (rd_addr[AddrW-1:2])
      10'h000: rd_data = EngineId;                                          // 0x000 ID
      10'h001: rd_data = EngineVersion;                                     // 0x004 VERSION
      10'h002: rd_data = {16'(MaxData), 16'(ImemSlots)};                    // 0x008 CAPS
      10'h004: rd_data = {28'd0, scrub_q, 1'b0, step_q, run_en_q};                   // 0x010 CTRL
      10'h005: rd_data = {20'd0, state_q, 5'd0, done_seen_q, core_busy,     // 0x014 STATUS
                          frame_busy};
      10'h006: rd_data = 32'(entry_q);                                      // 0x018 ENTRY
      10'h007: rd_data = ifindex_q;                                         // 0x01C IFINDEX
      10'h008: rd_data = budget_q[31:0];                                    // 0x020 BUDGET_LO
      10'h009: rd_data = budget_q[63:32];                                   // 0x024 BUDGET_HI
      10'h00c: rd_data = 32'(imem_addr_q);                                  // 0x030 IMEM_ADDR
      10'h00d: rd_data = imem_lo_q;                                         // 0x034 IMEM_LO
      10'h010: rd_data = {25'd0, verdict_q, 2'd0, core_status};             // 0x040 RUN_STATUS
      10'h011: rd_data = 32'(len_q);                                        // 0x044 RUN_LEN_IN
      10'h012: rd_data = 32'(olen_q);                                       // 0x048 RUN_LEN_OUT
      10'h013: rd_data = {24'd0, 8'(port_q)};                               // 0x04C RUN_PORT
      10'h014: rd_data = core_r0[31:0];                                     // 0x050 R0_LO
      10'h015: rd_data = core_r0[63:32];                                    // 0x054 R0_HI
      10'h016: rd_data = core_insns[31:0];                                  // 0x058 INSNS_LO
      10'h017: rd_data = core_insns[63:32];                                 // 0x05C INSNS_HI
      10'h018: rd_data = core_cycles[31:0];                                 // 0x060 CYCLES_LO
      10'h019: rd_data = core_cycles[63:32];                                // 0x064 CYCLES_HI
      10'h01a: rd_data = {7'd0, core_twrite, 4'd0, core_tsize, 5'd0,        // 0x068 TRAP
                          core_trgn, 4'd0, core_tkind};
      10'h01b: rd_data = 32'(core_tpc);                                     // 0x06C TRAP_PC
      10'h01c: rd_data = core_taddr[31:0];                                  // 0x070 TRAP_ADDR_LO
      10'h01d: rd_data = core_taddr[63:32];                                 // 0x074 TRAP_ADDR_HI
      10'h01e: rd_data = {24'd0, 8'(egress_q)};                             // 0x078 RUN_EGRESS
      10'h01f: rd_data = 32'(core_tails);                                   // 0x07C TAIL_CALLS
      10'h020: rd_data = st_lu;                                             // 0x080 STALL_*
      10'h021: rd_data = st_mem;
      10'h022: rd_data = st_br;
      10'h023: rd_data = st_jump;
      10'h024: rd_data = st_call;
      10'h025: rd_data = st_md;
      10'h026: rd_data = st_hp;
      10'h030: rd_data = c_rx_q;                                            // 0x0C0 CNT_RX
      10'h031: rd_data = c_tx_q;                                            // 0x0C4 CNT_TX
      10'h032: rd_data = c_drop_q;                                          // 0x0C8 CNT_DROP
      10'h033: rd_data = c_abort_q;                                         // 0x0CC CNT_ABORT
      10'h034: rd_data = c_err_q;                                           // 0x0D0 CNT_RX_ERR
      default: rd_err = 1'b1;
    endcase
  end

  // ---- register write ----------------------------------------------------------------------
  // the written word merged into the register's current value by the byte strobes
  always_comb begin
    unique case (wr_addr[AddrW-1:2])
      10'h004: wr_old = {28'd0, scrub_q, 1'b0, step_q, run_en_q};
      10'h006: wr_old = 32'(entry_q);
      10'h007: wr_old = ifindex_q;
      10'h008: wr_old = budget_q[31:0];
      10'h009: wr_old = budget_q[63:32];
      10'h00c: wr_old = 32'(imem_addr_q);
      10'h00d: wr_old = imem_lo_q;
      default: wr_old = 32'd0;
    endcase
    for (int b = 0; b < 4; b++)
      wr_merged[8*b +: 8] = wr_strb[b] ? wr_data[8*b +: 8] : wr_old[8*b +: 8];
  end

  assign imem_ok = (state_q == StIdle) && !run_en_q && !step_q;
  // a frame is in the engine (or the region table is being cleared after reset)
  assign frame_busy = !(state_q == StIdle || (state_q == StRx && cnt_q == 11'd0));

  always_comb begin
    wr_err      = 1'b0;
    imem_we     = 1'b0;
    imem_wdata  = {wr_data, imem_lo_q};
    run_en_d    = run_en_q;
    scrub_d     = scrub_q;
    step_set    = 1'b0;
    entry_d     = entry_q;
    ifindex_d   = ifindex_q;
    budget_d    = budget_q;
    imem_addr_d = imem_addr_q;
    imem_lo_d   = imem_lo_q;
    if (wr) begin
      unique case (wr_addr[AddrW-1:2])
        10'h004: begin                                  // CTRL
          run_en_d = wr_merged[0];
          scrub_d  = wr_merged[3];
          step_set = wr_merged[1];
          // bit 2 (CLR_CNT) acts in the counter logic below
        end
        10'h006: entry_d   = wr_merged[ebpf_pkg::PcW-1:0];
        10'h007: ifindex_d = wr_merged;
        10'h008: budget_d[31:0]  = wr_merged;
        10'h009: budget_d[63:32] = wr_merged;
        10'h00c: imem_addr_d = wr_merged[ebpf_pkg::PcW-1:0];
        10'h00d: imem_lo_d   = wr_merged;
        10'h00e: begin                                  // IMEM_HI: writes the slot
          if (!imem_ok || wr_strb != 4'hf || 32'(imem_addr_q) >= 32'(ImemSlots)) begin
            wr_err = 1'b1;
          end else begin
            imem_we     = 1'b1;
            imem_addr_d = imem_addr_q + 1'b1;
          end
        end
        default: wr_err = 1'b1;                         // read-only or no register
      endcase
    end
  end

  // ===========================================================================================
  // frame path
  // ===========================================================================================
  always_comb begin
    unique case (s_axis_tkeep_i)
      8'h01: keep_n = 4'd1;
      8'h03: keep_n = 4'd2;
      8'h07: keep_n = 4'd3;
      8'h0f: keep_n = 4'd4;
      8'h1f: keep_n = 4'd5;
      8'h3f: keep_n = 4'd6;
      8'h7f: keep_n = 4'd7;
      8'hff: keep_n = 4'd8;
      default: keep_n = 4'd0;
    endcase
    for (int b = 0; b < 8; b++)
      rx_masked[8*b +: 8] = s_axis_tkeep_i[b] ? s_axis_tdata_i[8*b +: 8] : 8'd0;
  end

  assign s_axis_tready_o = (state_q == StDrain) ||
                           (state_q == StRx && (cnt_q != 11'd0 || run_en_q || step_q));
  assign rx_beat = s_axis_tvalid_i && s_axis_tready_o;

  assign tx_pair  = txq_q[119:0];
  // the beat's bytes [txsh, txsh + min(8, left)) reach into the next row
  assign tx_room  = 4'd8 - {1'b0, txsh_q};   // bytes of the head row from the offset on
  assign tx_need2 = (txsh_q != 3'd0) && (txleft_q > {9'd0, tx_room});
  // a row requested now lands two cycles later: there must be room for it then, counting the
  // rows in flight and the one a beat taken this cycle frees (TREADY reaches only the core's
  // registered host port, no output)
  assign tx_issue = (state_q == StTx) && (txrows_q != '0) &&
                    ({1'b0, txcnt_q} + {3'd0, txp1_q} + {3'd0, txp2_q} < 4'd4 + {3'd0, tx_fire});
  assign m_axis_tvalid_o = (state_q == StTx) && (txcnt_q >= (tx_need2 ? 3'd2 : 3'd1));
  assign tx_fire  = m_axis_tvalid_o && m_axis_tready_i;
  always_comb begin   // byte j of the beat is byte txsh + j of the pair: an 8-way byte shift
    unique case (txsh_q)
      3'd0: tx_beat = tx_pair[63:0];
      3'd1: tx_beat = tx_pair[71:8];
      3'd2: tx_beat = tx_pair[79:16];
      3'd3: tx_beat = tx_pair[87:24];
      3'd4: tx_beat = tx_pair[95:32];
      3'd5: tx_beat = tx_pair[103:40];
      3'd6: tx_beat = tx_pair[111:48];
      default: tx_beat = tx_pair[119:56];
    endcase
    // null bytes (TKEEP 0) are zero, not whatever follows the frame in the buffer
    for (int b = 0; b < 8; b++)
      m_axis_tdata_o[8*b +: 8] = m_axis_tkeep_o[b] ? tx_beat[8*b +: 8] : 8'd0;
  end
  assign m_axis_tlast_o  = txleft_q <= 13'd8;
  assign m_axis_tkeep_o  = (txleft_q >= 13'd8) ? 8'hff : 8'((9'd1 << txleft_q[2:0]) - 9'd1);
  assign m_axis_tuser_o  = {verdict_q, (verdict_q == XdpRedirect) ? egress_q : port_q};

  always_comb begin
    state_d     = state_q;
    cnt_d       = cnt_q;
    port_d      = port_q;
    egress_d    = egress_q;
    len_d       = len_q;
    olen_d      = olen_q;
    rx_bad_d    = rx_bad_q;
    verdict_d   = verdict_q;
    pdata_d     = pdata_q;
    pend_d      = pend_q;
    txrow_d     = txrow_q;
    txsh_d      = txsh_q;
    txleft_d    = txleft_q;
    txrows_d    = txrows_q;
    txq_d       = txq_q;
    txcnt_d     = txcnt_q;
    txp1_d      = tx_issue;
    txp2_d      = txp1_q;
    done_seen_d = done_seen_q || core_done;
    c_rx_d      = c_rx_q;
    c_tx_d      = c_tx_q;
    c_drop_d    = c_drop_q;
    c_abort_d   = c_abort_q;
    c_err_d     = c_err_q;
    txwr        = '0;
    dmem_re     = 1'b0;
    dmem_we     = 1'b0;
    dmem_row    = '0;
    dmem_wdata  = '0;
    dmem_be     = '0;
    rgn_we      = 1'b0;
    rgn_idx     = '0;
    rgn.kind     = ebpf_pkg::RgnUnmapped;
    rgn.writable = 1'b0;
    rgn.latency  = 4'd1;
    rgn.base     = '0;
    rgn.lo       = '0;
    rgn.hi       = '0;
    core_start  = 1'b0;
    step_d      = step_q || step_set;

    if (helper_egress_we_i && state_q == StRun) egress_d = helper_egress_i;

    unique case (state_q)
      StInit: begin                                     // region table: all unmapped
        rgn_we  = 1'b1;
        rgn_idx = cnt_q[ebpf_pkg::RegionIdxW-1:0];
        cnt_d   = cnt_q + 11'd1;
        if (cnt_q == 11'(ebpf_pkg::NumRegions - 1)) begin
          cnt_d   = '0;
          state_d = StIdle;
        end
      end
      StIdle: begin
        cnt_d = '0;
        if (run_en_q || step_q) state_d = StRx;
      end
      StRx: begin
        if (cnt_q == 11'd0 && !run_en_q && !step_q) begin
          state_d = StIdle;
        end else if (rx_beat) begin
          if (cnt_q == 11'd0) begin
            port_d   = s_axis_tuser_i;
            len_d    = '0;
            rx_bad_d = 1'b0;
          end
          // a beat before the last must be full; the last holds 1-8 bytes from byte 0
          if ((!s_axis_tlast_i && keep_n != 4'd8) || keep_n == 4'd0 ||
              cnt_q >= 11'(MaxBeats)) begin
            rx_bad_d = 1'b1;
          end else begin
            dmem_we    = 1'b1;
            dmem_row   = DataRow + RowW'(cnt_q);
            dmem_wdata = rx_masked;     // the rest of the last row zeroed, as the C model's tailroom
            dmem_be    = 8'hff;
          end
          len_d = ((cnt_q == 11'd0) ? 13'd0 : len_q) + 13'(keep_n);
          cnt_d = cnt_q + 11'd1;
          if (s_axis_tlast_i) begin
            cnt_d = '0;
            if (rx_bad_d) begin
              c_err_d = c_err_q + 32'd1;
              state_d = StIdle;
            end else begin
              c_rx_d  = c_rx_q + 32'd1;
              state_d = scrub_q ? StScrub : StCtx;
            end
          end else if (rx_bad_d) begin
            state_d = StDrain;
          end
        end
      end
      StDrain: begin                                    // discard up to TLAST
        if (rx_beat && s_axis_tlast_i) begin
          c_err_d = c_err_q + 32'd1;
          cnt_d   = '0;
          state_d = StIdle;
        end
      end
      StScrub: begin
        // zero rows: the stack (cnt < StackRows), then the frame's rows but the packet's
        // (the packet's last row was written with zeros after its last byte)
        dmem_we  = 1'b1;
        dmem_be  = 8'hff;
        dmem_row = (cnt_q < 11'(StackRows)) ? RowW'(cnt_q)
                                            : FrameRow + RowW'(cnt_q - 11'(StackRows));
        cnt_d    = cnt_q + 11'd1;
        if (cnt_q == 11'(StackRows + HeadRows - 1))
          cnt_d = 11'(StackRows + HeadRows) + 11'((len_q + 13'd7) >> 3);
        if (cnt_q == 11'(StackRows + FrameRows - 1)) begin
          cnt_d   = '0;
          state_d = StCtx;
        end
      end
      StCtx: begin
        // step k: xdp_md row k (struct nicsim_pkt_desc) and, for k < 3, region k + 1
        dmem_we  = 1'b1;
        dmem_row = CtxRow + RowW'(cnt_q);
        dmem_be  = 8'hff;
        unique case (cnt_q[2:0])
          3'd0: dmem_wdata = {PktRegion, 32'(Headroom)};                      // data
          3'd1: dmem_wdata = {PktRegion, 32'(Headroom) + 32'(len_q)};         // data_end
          3'd2: dmem_wdata = {PktRegion, 32'(Headroom)};                      // data_meta
          3'd3: dmem_wdata = {32'd0, ifindex_q + 32'(port_q)};  // rx_queue_index, ingress_ifindex
          default: dmem_wdata = {32'(port_q), 32'd0};           // port, egress_ifindex
        endcase
        rgn_we       = cnt_q < 11'd3;
        rgn_idx      = ebpf_pkg::RegionIdxW'(cnt_q + 11'd1);
        rgn.writable = 1'b1;
        rgn.latency  = 4'd1;   // nicsim_timing_default: stack, ctx and packet take 1 cycle
        unique case (cnt_q[1:0])
          2'd0: begin
            rgn.kind = ebpf_pkg::RgnStack;
            rgn.base = '0;
            rgn.lo   = '0;
            rgn.hi   = 32'(ebpf_pkg::StackBytes);
          end
          2'd1: begin
            rgn.kind = ebpf_pkg::RgnCtx;
            rgn.base = ebpf_pkg::DmemAw'(CtxBase);
            rgn.lo   = '0;
            rgn.hi   = 32'(CtxBytes);
          end
          default: begin
            rgn.kind = ebpf_pkg::RgnPacket;
            rgn.base = ebpf_pkg::DmemAw'(FrameBase);
            rgn.lo   = 32'(Headroom);
            rgn.hi   = 32'(Headroom) + 32'(len_q);
          end
        endcase
        egress_d = port_q;
        cnt_d    = cnt_q + 11'd1;
        if (cnt_q == 11'd4) begin
          cnt_d   = '0;
          state_d = StStart;
        end
      end
      StStart: begin
        core_start = 1'b1;
        state_d    = StRun;
      end
      StRun: begin
        if (core_done) begin
          verdict_d = (core_status == ebpf_pkg::StatusOk && core_r0 <= 64'd4) ? core_r0[2:0]
                                                                               : XdpAborted;
          cnt_d   = '0;
          state_d = StPost;
        end
      end
      StPost: begin
        // rows 0 and 1 of xdp_md: read at steps 0 and 1, on the port two cycles later
        dmem_re  = cnt_q < 11'd2;
        dmem_row = CtxRow + RowW'(cnt_q[0]);
        cnt_d    = cnt_q + 11'd1;
        if (cnt_q == 11'd2) pdata_d = (dmem_rdata[63:32] == PktRegion) ? dmem_rdata[31:0] : '1;
        if (cnt_q == 11'd3) pend_d  = (dmem_rdata[63:32] == PktRegion) ? dmem_rdata[31:0] : '0;
        if (cnt_q == 11'd4) begin
          cnt_d     = '0;
          txrow_d   = FrameRow + RowW'(pdata_q[11:3]);
          txsh_d    = pdata_q[2:0];
          txleft_d  = 13'(pend_q - pdata_q);
          txrows_d  = 10'((32'(pdata_q[2:0]) + pend_q - pdata_q + 32'd7) >> 3);
          txcnt_d   = '0;
          olen_d    = '0;
          // a frame the program left outside its buffer (or empty) is not sent: aborted
          if (pend_q <= pdata_q || pend_q > 32'(FrameBytes)) verdict_d = XdpAborted;
          if (verdict_d == XdpDrop) begin
            c_drop_d = c_drop_q + 32'd1;
            state_d  = StIdle;
          end else if (verdict_d == XdpAborted) begin
            c_abort_d = c_abort_q + 32'd1;
            state_d   = StIdle;
          end else begin
            olen_d  = 13'(pend_q - pdata_q);
            state_d = StTx;
          end
        end
      end
      StTx: begin
        if (tx_issue) begin
          dmem_re  = 1'b1;
          dmem_row = txrow_q;
          txrow_d  = txrow_q + 1'b1;
          txrows_d = txrows_q - 10'd1;
        end
        // a beat taken pops entry 0 (the rest move down); an arriving row goes behind the last
        txwr = txcnt_q - {2'd0, tx_fire};
        if (tx_fire) txq_d = {64'd0, txq_q[255:64]};
        for (int i = 0; i < 4; i++)
          if (txp2_q && txwr == 3'(i)) txq_d[64*i +: 64] = dmem_rdata;
        txcnt_d = txcnt_q + {2'd0, txp2_q} - {2'd0, tx_fire};
        if (tx_fire) begin
          if (txleft_q <= 13'd8) begin
            txleft_d = '0;
            c_tx_d   = c_tx_q + 32'd1;
            state_d  = StIdle;
          end else begin
            txleft_d = txleft_q - 13'd8;
          end
        end
      end
      default: state_d = StIdle;
    endcase

    // STEP runs one frame: it is used up by the first beat of that frame
    if (state_q == StRx && rx_beat && cnt_q == 11'd0) step_d = 1'b0;
    if (wr && wr_addr[AddrW-1:2] == 10'h004 && wr_merged[2]) begin   // CTRL.CLR_CNT
      c_rx_d    = '0;
      c_tx_d    = '0;
      c_drop_d  = '0;
      c_abort_d = '0;
      c_err_d   = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StInit;
      cnt_q       <= '0;
      port_q      <= '0;
      egress_q    <= '0;
      len_q       <= '0;
      olen_q      <= '0;
      rx_bad_q    <= 1'b0;
      verdict_q   <= XdpAborted;
      pdata_q     <= '0;
      pend_q      <= '0;
      txrow_q     <= '0;
      txsh_q      <= '0;
      txleft_q    <= '0;
      txrows_q    <= '0;
      txq_q       <= '0;
      txcnt_q     <= '0;
      txp1_q      <= 1'b0;
      txp2_q      <= 1'b0;
      run_en_q    <= 1'b0;
      scrub_q     <= 1'b0;
      step_q      <= 1'b0;
      done_seen_q <= 1'b0;
      entry_q     <= '0;
      ifindex_q   <= '0;
      budget_q    <= {32'd0, DefaultBudget};
      imem_addr_q <= '0;
      imem_lo_q   <= '0;
      c_rx_q      <= '0;
      c_tx_q      <= '0;
      c_drop_q    <= '0;
      c_abort_q   <= '0;
      c_err_q     <= '0;
    end else begin
      state_q     <= state_d;
      cnt_q       <= cnt_d;
      port_q      <= port_d;
      egress_q    <= egress_d;
      len_q       <= len_d;
      olen_q      <= olen_d;
      rx_bad_q    <= rx_bad_d;
      verdict_q   <= verdict_d;
      pdata_q     <= pdata_d;
      pend_q      <= pend_d;
      txrow_q     <= txrow_d;
      txsh_q      <= txsh_d;
      txleft_q    <= txleft_d;
      txrows_q    <= txrows_d;
      txq_q       <= txq_d;
      txcnt_q     <= txcnt_d;
      txp1_q      <= txp1_d;
      txp2_q      <= txp2_d;
      run_en_q    <= run_en_d;
      scrub_q     <= scrub_d;
      step_q      <= step_d;
      done_seen_q <= done_seen_d;
      entry_q     <= entry_d;
      ifindex_q   <= ifindex_d;
      budget_q    <= budget_d;
      imem_addr_q <= imem_addr_d;
      imem_lo_q   <= imem_lo_d;
      c_rx_q      <= c_rx_d;
      c_tx_q      <= c_tx_d;
      c_drop_q    <= c_drop_d;
      c_abort_q   <= c_abort_d;
      c_err_q     <= c_err_d;
    end
  end

endmodule
