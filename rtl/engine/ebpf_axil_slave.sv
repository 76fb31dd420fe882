// SPDX-License-Identifier: MIT
// ebpf_axil_slave: the AXI4-Lite protocol side of the engine's control slave
// (docs/engine-registers.md). It turns AXI4-Lite transactions into one-cycle register
// requests and answers them; the register file itself (decode, side effects) is the parent's.
//
// Interface:
//   s_axil_*   AXI4-Lite slave, 32-bit data. AWPROT/ARPROT are not ports: every access is
//              treated alike. The write address and write data channels are independent (either
//              may come first); each is held in a one-entry buffer until both are there.
//   wr_*       register write request: wr_o is high for one cycle with the address, data and
//              byte strobes; the parent answers in the same cycle with wr_err_i (1: SLVERR, the
//              write had no effect).
//   rd_*       register read request: rd_o is high for one cycle with the address; the parent
//              answers in the same cycle with rd_data_i and rd_err_i (1: SLVERR, data 0).
// Timing: a write is performed the cycle after both AW and W have been accepted, B is valid the
// cycle after that, and a new write is accepted once B has been taken. A read is performed in
// the cycle AR is accepted, R is valid the next cycle; ARREADY is low while R waits.
`default_nettype none

module ebpf_axil_slave #(
  parameter int AddrW = 12
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // AXI4-Lite slave
  input  logic             s_axil_awvalid_i,
  output logic             s_axil_awready_o,
  input  logic [AddrW-1:0] s_axil_awaddr_i,
  input  logic             s_axil_wvalid_i,
  output logic             s_axil_wready_o,
  input  logic [31:0]      s_axil_wdata_i,
  input  logic [3:0]       s_axil_wstrb_i,
  output logic             s_axil_bvalid_o,
  input  logic             s_axil_bready_i,
  output logic [1:0]       s_axil_bresp_o,
  input  logic             s_axil_arvalid_i,
  output logic             s_axil_arready_o,
  input  logic [AddrW-1:0] s_axil_araddr_i,
  output logic             s_axil_rvalid_o,
  input  logic             s_axil_rready_i,
  output logic [31:0]      s_axil_rdata_o,
  output logic [1:0]       s_axil_rresp_o,
  // register requests
  output logic             wr_o,
  output logic [AddrW-1:0] wr_addr_o,
  output logic [31:0]      wr_data_o,
  output logic [3:0]       wr_strb_o,
  input  logic             wr_err_i,
  output logic             rd_o,
  output logic [AddrW-1:0] rd_addr_o,
  input  logic [31:0]      rd_data_i,
  input  logic             rd_err_i
);

  localparam logic [1:0] RespOkay   = 2'b00;
  localparam logic [1:0] RespSlverr = 2'b10;

  logic             aw_full_d, aw_full_q;
  logic [AddrW-1:0] aw_addr_d, aw_addr_q;
  logic             w_full_d, w_full_q;
  logic [31:0]      w_data_d, w_data_q;
  logic [3:0]       w_strb_d, w_strb_q;
  logic             b_valid_d, b_valid_q;
  logic [1:0]       b_resp_d, b_resp_q;
  logic             r_valid_d, r_valid_q;
  logic [31:0]      r_data_d, r_data_q;
  logic [1:0]       r_resp_d, r_resp_q;

  assign s_axil_awready_o = !aw_full_q;
  assign s_axil_wready_o  = !w_full_q;
  assign s_axil_bvalid_o  = b_valid_q;
  assign s_axil_bresp_o   = b_resp_q;
  assign s_axil_arready_o = !r_valid_q;
  assign s_axil_rvalid_o  = r_valid_q;
  assign s_axil_rdata_o   = r_data_q;
  assign s_axil_rresp_o   = r_resp_q;

  // a write is performed once both halves are buffered and the previous response is taken
  assign wr_o      = aw_full_q && w_full_q && !b_valid_q;
  assign wr_addr_o = aw_addr_q;
  assign wr_data_o = w_data_q;
  assign wr_strb_o = w_strb_q;

  assign rd_o      = s_axil_arvalid_i && !r_valid_q;
  assign rd_addr_o = s_axil_araddr_i;

  always_comb begin
    aw_full_d = aw_full_q;
    aw_addr_d = aw_addr_q;
    w_full_d  = w_full_q;
    w_data_d  = w_data_q;
    w_strb_d  = w_strb_q;
    b_valid_d = b_valid_q;
    b_resp_d  = b_resp_q;
    r_valid_d = r_valid_q;
    r_data_d  = r_data_q;
    r_resp_d  = r_resp_q;
    if (s_axil_awvalid_i && !aw_full_q) begin
      aw_full_d = 1'b1;
      aw_addr_d = s_axil_awaddr_i;
    end
    if (s_axil_wvalid_i && !w_full_q) begin
      w_full_d = 1'b1;
      w_data_d = s_axil_wdata_i;
      w_strb_d = s_axil_wstrb_i;
    end
    if (wr_o) begin
      aw_full_d = 1'b0;
      w_full_d  = 1'b0;
      b_valid_d = 1'b1;
      b_resp_d  = wr_err_i ? RespSlverr : RespOkay;
    end
    if (b_valid_q && s_axil_bready_i) b_valid_d = 1'b0;
    if (rd_o) begin
      r_valid_d = 1'b1;
      r_data_d  = rd_err_i ? 32'd0 : rd_data_i;
      r_resp_d  = rd_err_i ? RespSlverr : RespOkay;
    end else if (r_valid_q && s_axil_rready_i) begin
      r_valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_full_q <= 1'b0;
      aw_addr_q <= '0;
      w_full_q  <= 1'b0;
      w_data_q  <= '0;
      w_strb_q  <= '0;
      b_valid_q <= 1'b0;
      b_resp_q  <= RespOkay;
      r_valid_q <= 1'b0;
      r_data_q  <= '0;
      r_resp_q  <= RespOkay;
    end else begin
      aw_full_q <= aw_full_d;
      aw_addr_q <= aw_addr_d;
      w_full_q  <= w_full_d;
      w_data_q  <= w_data_d;
      w_strb_q  <= w_strb_d;
      b_valid_q <= b_valid_d;
      b_resp_q  <= b_resp_d;
      r_valid_q <= r_valid_d;
      r_data_q  <= r_data_d;
      r_resp_q  <= r_resp_d;
    end
  end

endmodule
