// SPDX-License-Identifier: MIT
// The XDP engine top (rtl/engine/ebpf_engine.sv) in Verilator, against the C model.
//
// The testbench is a cycle loop: inputs are set with the clock low, the model evaluated, the
// handshakes of that cycle recorded (valid && ready), then the rising edge. An AXI4-Stream
// source feeds queued frames into the receive slave with random TVALID gaps, a sink takes the
// transmit master's beats with TREADY low at random, and an AXI4-Lite master loads the image,
// configures, steps frames and reads the report registers (docs/engine-registers.md). Every
// frame is also run on the C model (nicsim_xdp_core__run, the same program, packet and port):
// verdict, bytes out, r0, instructions, cycles and stalls must agree.
// NICSIM_ENGINE_WAVE=DIR records each test's waveform as DIR/<test>.fst (gtkwave).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vebpf_engine.h"
#include "Vebpf_engine___024root.h"
#include "verilated.h"
#include "verilated_fst_c.h"

extern "C" {
#include "nicsim/core.h"
#include "nicsim/isa.h"
#include "nicsim/nic_image.h"
#include "nicsim/xdp.h"
}

namespace
{

// ---- registers (docs/engine-registers.md) ------------------------------------------------------
enum Reg : uint32_t {
    ID = 0x000, VERSION = 0x004, CAPS = 0x008, CTRL = 0x010, STATUS = 0x014, ENTRY = 0x018,
    IFINDEX = 0x01c, BUDGET_LO = 0x020, BUDGET_HI = 0x024, IMEM_ADDR = 0x030, IMEM_LO = 0x034,
    IMEM_HI = 0x038, RUN_STATUS = 0x040, RUN_LEN_IN = 0x044, RUN_LEN_OUT = 0x048, RUN_PORT = 0x04c,
    R0_LO = 0x050, R0_HI = 0x054, INSNS_LO = 0x058, INSNS_HI = 0x05c, CYCLES_LO = 0x060,
    CYCLES_HI = 0x064, TRAP = 0x068, TRAP_PC = 0x06c, TRAP_ADDR_LO = 0x070, TRAP_ADDR_HI = 0x074,
    RUN_EGRESS = 0x078, TAIL_CALLS = 0x07c, STALL_LOAD_USE = 0x080, STALL_MEMORY = 0x084,
    STALL_BRANCH = 0x088, STALL_JUMP = 0x08c, STALL_CALL = 0x090, STALL_MULDIV = 0x094,
    STALL_HELPER = 0x098, CNT_RX = 0x0c0, CNT_TX = 0x0c4, CNT_DROP = 0x0c8, CNT_ABORT = 0x0cc,
    CNT_RX_ERR = 0x0d0,
};
constexpr uint32_t kCtrlRunEn = 1, kCtrlStep = 2, kCtrlClr = 4, kCtrlScrub = 8;
constexpr uint32_t kIfindexBase = 100; // IFINDEX: ingress_ifindex = 100 + port
constexpr unsigned kRespOkay = 0, kRespSlverr = 2;

nicsim_insn I(uint8_t code, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
    nicsim_insn i{};
    i.code = code;
    i.dst = dst & 15;
    i.src = src & 15;
    i.off = off;
    i.imm = imm;
    return i;
}

// eBPF opcodes used below (RFC 9669)
constexpr uint8_t LDXDW = 0x79, LDXW = 0x61, LDXH = 0x69, LDXB = 0x71, STXW = 0x63, STXH = 0x6b,
                  STXDW = 0x7b, MOV64X = 0xbf, MOV64K = 0xb7, ADD64K = 0x07, ADD64X = 0x0f,
                  JGTX = 0x2d, JNEK = 0x55, JGEX = 0x3d, JA = 0x05, CALL = 0x85, EXIT = 0x95;

// XDP_TX with the MAC addresses swapped for IPv4 frames, XDP_DROP for the rest (and for frames
// shorter than an Ethernet header). The context is the NIC descriptor (struct nicsim_pkt_desc):
// data and data_end are 64-bit NIC addresses at offsets 0 and 8.
std::vector<nicsim_insn> mac_swap_prog()
{
    return {
        I(LDXDW, 2, 1, 0, 0),   // 0: r2 = data
        I(LDXDW, 3, 1, 8, 0),   // 1: r3 = data_end
        I(MOV64X, 4, 2, 0, 0),  // 2: r4 = r2
        I(ADD64K, 4, 0, 0, 14), // 3: r4 += 14
        I(JGTX, 4, 3, 12, 0),   // 4: if r4 > r3 goto 17
        I(LDXH, 5, 2, 12, 0),   // 5: r5 = ethertype
        I(JNEK, 5, 0, 10, 8),   // 6: if r5 != htons(0x0800) goto 17
        I(LDXW, 6, 2, 0, 0),    // 7: dst[0..3]
        I(LDXH, 7, 2, 4, 0),    // 8: dst[4..5]
        I(LDXW, 8, 2, 6, 0),    // 9: src[0..3]
        I(LDXH, 9, 2, 10, 0),   // 10: src[4..5]
        I(STXW, 2, 8, 0, 0),    // 11
        I(STXH, 2, 9, 4, 0),    // 12
        I(STXW, 2, 6, 6, 0),    // 13
        I(STXH, 2, 7, 10, 0),   // 14
        I(MOV64K, 0, 0, 0, 3),  // 15: XDP_TX
        I(EXIT, 0, 0, 0, 0),    // 16
        I(MOV64K, 0, 0, 0, 1),  // 17: XDP_DROP
        I(EXIT, 0, 0, 0, 0),    // 18
    };
}

// Sums the packet's bytes in a loop (branches, load-use stalls, a stack spill), stores the low
// byte of the sum into the last packet byte and returns XDP_PASS; reads one byte past data_end
// (a trap: XDP_ABORTED) when the first byte is 0xff.
std::vector<nicsim_insn> sum_prog()
{
    return {
        I(LDXDW, 2, 1, 0, 0),    // 0: r2 = data
        I(LDXDW, 3, 1, 8, 0),    // 1: r3 = data_end
        I(MOV64K, 0, 0, 0, 0),   // 2: r0 = 0
        I(MOV64X, 4, 2, 0, 0),   // 3: r4 = r2
        I(JGEX, 4, 3, 4, 0),     // 4: loop: if r4 >= r3 goto 9
        I(LDXB, 5, 4, 0, 0),     // 5: r5 = *r4
        I(ADD64X, 0, 5, 0, 0),   // 6: r0 += r5 (load-use)
        I(ADD64K, 4, 0, 0, 1),   // 7: r4++
        I(JA, 0, 0, -5, 0),      // 8: goto 4
        I(STXDW, 10, 0, -8, 0),  // 9: spill the sum
        I(LDXB, 5, 2, 0, 0),     // 10: first byte
        I(JNEK, 5, 0, 1, 0xff),  // 11: if != 0xff goto 13
        I(LDXB, 5, 3, 0, 0),     // 12: *data_end: out of bounds
        I(LDXDW, 0, 10, -8, 0),  // 13: the sum back
        I(STXDW, 10, 0, -16, 0), // 14
        I(LDXB, 5, 10, -16, 0),  // 15: its low byte
        I(STXW, 10, 5, -24, 0),  // 16
        I(LDXDW, 6, 1, 8, 0),    // 17: data_end again
        I(ADD64K, 6, 0, 0, -1),  // 18: last byte
        I(0x73, 6, 5, 0, 0),     // 19: *(u8 *)(r6) = r5 (STXB)
        I(MOV64K, 0, 0, 0, 2),   // 20: XDP_PASS
        I(EXIT, 0, 0, 0, 0),     // 21
    };
}

// bpf_redirect(ifindex = 100 + first byte, 0) through the helper interface; returns its r0.
std::vector<nicsim_insn> redirect_prog()
{
    return {
        I(LDXDW, 2, 1, 0, 0),                 // 0: r2 = data
        I(LDXB, 1, 2, 0, 0),                  // 1: r1 = first byte
        I(ADD64K, 1, 0, 0, (int32_t)kIfindexBase),
        I(MOV64K, 2, 0, 0, 0),                // 3: flags
        I(CALL, 0, 0, 0, NICSIM_HW_REDIRECT), // 4
        I(EXIT, 0, 0, 0, 0),                  // 5
    };
}

// Moves data and data_end in the descriptor (what an adjust_head/tail in the core does): the
// frame sent must be [data + 3, data_end - 2), however unaligned. Not comparable with the C
// model, which forbids nothing here but reports its own bounds: checked against the bytes.
// Moves data forward by (byte 0 & 7) and data_end back by (byte 1 & 7), then XDP_PASS.
std::vector<nicsim_insn> move_bounds_by_bytes_prog()
{
    return {
        I(LDXDW, 2, 1, 0, 0),  // r2 = data
        I(LDXDW, 3, 1, 8, 0),  // r3 = data_end
        I(LDXB, 4, 2, 0, 0),   I(0x57, 4, 0, 0, 7), // r4 = byte 0 & 7 (AND64K)
        I(LDXB, 5, 2, 1, 0),   I(0x57, 5, 0, 0, 7), // r5 = byte 1 & 7
        I(ADD64X, 2, 4, 0, 0), I(0x1f, 3, 5, 0, 0), // data += r4; data_end -= r5 (SUB64X)
        I(STXDW, 1, 2, 0, 0),  I(STXDW, 1, 3, 8, 0),
        I(MOV64K, 0, 0, 0, 2), I(EXIT, 0, 0, 0, 0),
    };
}

// Reads the stack before writing it (what the C model's cleared stack answers 0 to), stores
// data_end there, and writes what it read into the first 8 packet bytes; XDP_PASS.
std::vector<nicsim_insn> stack_echo_prog()
{
    return {
        I(LDXDW, 5, 10, -8, 0), // 0: r5 = uninitialised stack
        I(LDXDW, 2, 1, 0, 0),   // 1: r2 = data
        I(LDXDW, 3, 1, 8, 0),   // 2: r3 = data_end
        I(STXDW, 10, 3, -8, 0), // 3
        I(MOV64X, 4, 2, 0, 0),  // 4
        I(ADD64K, 4, 0, 0, 8),  // 5
        I(JGTX, 4, 3, 1, 0),    // 6: if data + 8 > data_end goto 8
        I(STXDW, 2, 5, 0, 0),   // 7
        I(MOV64K, 0, 0, 0, 2),  // 8: XDP_PASS
        I(EXIT, 0, 0, 0, 0),    // 9
    };
}

std::vector<nicsim_insn> move_bounds_prog()
{
    return {
        I(LDXDW, 2, 1, 0, 0),  // r2 = data
        I(LDXDW, 3, 1, 8, 0),  // r3 = data_end
        I(ADD64K, 2, 0, 0, 3), I(ADD64K, 3, 0, 0, -2),
        I(STXDW, 1, 2, 0, 0),  I(STXDW, 1, 3, 8, 0),
        I(MOV64K, 0, 0, 0, 3), I(EXIT, 0, 0, 0, 0),
    };
}

struct Frame {
    std::vector<uint8_t> bytes;
    uint32_t user = 0;      // RX: port; TX: {verdict, egress}
    int bad_keep_beat = -1; // RX: this beat's TKEEP is 0x7f (a hole before the last beat)
};

struct Tb {
    std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    std::unique_ptr<Vebpf_engine> m;
    std::unique_ptr<VerilatedFstC> wave;
    std::mt19937 rng{12345};
    unsigned gap_pct = 30;   // RX source: chance of no TVALID in a cycle
    unsigned stall_pct = 40; // TX sink: chance of TREADY low
    std::deque<Frame> rx_q;  // frames still to send
    size_t rx_pos = 0;       // byte position in rx_q.front()
    bool rx_valid = false;
    std::vector<Frame> tx_done;
    Frame tx_cur;
    uint64_t tx_first_cycle = 0, tx_last_cycle = 0; // of the last frame sent
    bool tx_held = false; // a beat was offered and not taken last cycle
    uint64_t held_data = 0;
    unsigned held_keep = 0, held_last = 0, held_user = 0;
    uint64_t cycles = 0;
    unsigned rx_stalled = 0; // cycles with TVALID high and TREADY low (backpressure seen)
    // helper interface: answered with the C model's helper functions on this vm
    nicsim_vm *helper_vm = nullptr;
    uint64_t helpers_answered = 0;
    unsigned helper_delay = 0; // cycles the request waits before the answer
    unsigned helper_wait = 0;

    Tb()
    {
        const char *dir = getenv("NICSIM_ENGINE_WAVE");
        if (dir && *dir)
            ctx->traceEverOn(true);
        m.reset(new Vebpf_engine{ctx.get()});
        if (dir && *dir) {
            wave.reset(new VerilatedFstC);
            m->trace(wave.get(), 99);
            std::string path = std::string(dir) + "/" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                               ".fst";
            wave->open(path.c_str());
        }
        m->rst_ni = 0;
        m->clk_i = 0;
        m->eval();
        tick();
        tick();
        m->rst_ni = 1;
        tick();
        // after reset the engine clears its region table (STATUS.BUSY for 16 cycles)
        unsigned n = 0;
        while ((read(STATUS) & 1) && n++ < 100) {
        }
        EXPECT_LT(n, 100u) << "engine busy after reset";
    }
    // byte `pa` of the core's data memory (rtl/ebpf_lsu.sv's eight byte banks, public through
    // rtl/lint.vlt): row pa / 8 of bank pa % 8
    CData *bank(unsigned b)
    {
        Vebpf_engine___024root *r = m->rootp;
        CData *banks[8] = {
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__0__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__1__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__2__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__3__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__4__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__5__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__6__KET____DOT__u_bank__DOT__mem[0],
            &r->ebpf_engine__DOT__u_core__DOT__u_lsu__DOT__g_bank__BRA__7__KET____DOT__u_bank__DOT__mem[0],
        };
        return banks[b];
    }
    uint8_t peek(uint32_t pa) { return bank(pa % 8)[pa / 8]; }
    void poke(uint32_t pa, uint8_t v) { bank(pa % 8)[pa / 8] = v; }

    ~Tb()
    {
        m->final();
        if (wave)
            wave->close();
    }

    bool rand_pct(unsigned pct) { return rng() % 100 < pct; }

    // one clock cycle, streams and the helper interface serviced
    void tick()
    {
        m->clk_i = 0;
        // RX source: drive the current beat (held while not accepted)
        if (!rx_valid && !rx_q.empty() && !rand_pct(gap_pct))
            rx_valid = true;
        m->s_axis_tvalid_i = rx_valid;
        if (rx_valid) {
            const Frame &f = rx_q.front();
            uint64_t d = 0;
            uint8_t keep = 0;
            for (size_t b = 0; b < 8 && rx_pos + b < f.bytes.size(); b++) {
                d |= (uint64_t)f.bytes[rx_pos + b] << (8 * b);
                keep |= (uint8_t)(1u << b);
            }
            m->s_axis_tdata_i = d;
            m->s_axis_tkeep_i = (int)(rx_pos / 8) == f.bad_keep_beat ? 0x7f : keep;
            m->s_axis_tlast_i = rx_pos + 8 >= f.bytes.size();
            m->s_axis_tuser_i = f.user;
        }
        m->m_axis_tready_i = !rand_pct(stall_pct);
        m->helper_resp_valid_i = 0;
        m->helper_egress_we_i = 0;
        m->eval();
        if (m->helper_req_valid_o && helper_vm) {
            if (helper_wait < helper_delay) {
                helper_wait++;
            } else {
                helper_wait = 0;
                answer_helper();
            }
        }
        bool rx_fire = m->s_axis_tvalid_i && m->s_axis_tready_o;
        if (m->s_axis_tvalid_i && !m->s_axis_tready_o)
            rx_stalled++;
        bool tx_fire = m->m_axis_tvalid_o && m->m_axis_tready_i;
        // AXI4-Stream: a beat offered and not taken stays as it is until taken
        if (tx_held && m->m_axis_tvalid_o) {
            EXPECT_EQ(m->m_axis_tdata_o, held_data) << "TDATA changed while TREADY was low";
            EXPECT_EQ(m->m_axis_tkeep_o, held_keep);
            EXPECT_EQ(m->m_axis_tlast_o, held_last);
            EXPECT_EQ(m->m_axis_tuser_o, held_user);
        }
        EXPECT_FALSE(tx_held && !m->m_axis_tvalid_o) << "TVALID dropped before the handshake";
        tx_held = m->m_axis_tvalid_o && !m->m_axis_tready_i;
        held_data = m->m_axis_tdata_o;
        held_keep = m->m_axis_tkeep_o;
        held_last = m->m_axis_tlast_o;
        held_user = m->m_axis_tuser_o;
        if (tx_fire) {
            uint64_t d = m->m_axis_tdata_o;
            for (unsigned b = 0; b < 8; b++)
                if (m->m_axis_tkeep_o >> b & 1)
                    tx_cur.bytes.push_back((uint8_t)(d >> (8 * b)));
            tx_cur.user = m->m_axis_tuser_o;
            if (tx_cur.bytes.size() <= 8)
                tx_first_cycle = cycles;
            tx_last_cycle = cycles;
            if (m->m_axis_tlast_o) {
                tx_done.push_back(tx_cur);
                tx_cur = Frame{};
            }
        }
        if (wave)
            wave->dump(ctx->time());
        ctx->timeInc(1);
        m->clk_i = 1;
        m->eval();
        if (wave)
            wave->dump(ctx->time());
        ctx->timeInc(1);
        cycles++;
        if (rx_fire) {
            rx_pos += 8;
            rx_valid = false;
            if (rx_pos >= rx_q.front().bytes.size()) {
                rx_q.pop_front();
                rx_pos = 0;
            }
        }
    }

    void answer_helper()
    {
        uint64_t args[5];
        for (unsigned k = 0; k < 5; k++)
            args[k] = (uint64_t)m->helper_args_o[2 * k] | (uint64_t)m->helper_args_o[2 * k + 1] << 32;
        const nicsim_helper *h = &nicsim_xdp_helpers()[m->helper_id_o];
        nicsim_helper_out out{};
        ASSERT_NE(h->fn, nullptr) << "helper " << m->helper_id_o;
        h->fn(helper_vm, h->user, args, &out);
        m->helper_resp_valid_i = 1;
        m->helper_r0_i = out.ret;
        m->helper_cycles_i = out.cycles;
        m->helper_action_i = 0; // continue
        m->helper_tail_pc_i = 0;
        if (m->helper_id_o == NICSIM_HW_REDIRECT && out.ret == NICSIM_XDP_REDIRECT) {
            m->helper_egress_we_i = 1;
            m->helper_egress_i = (uint8_t)(args[0] - kIfindexBase);
        }
        helpers_answered++;
        m->eval();
    }

    // ---- AXI4-Lite master -------------------------------------------------------------------
    unsigned write(uint32_t addr, uint32_t data, unsigned strb = 0xf)
    {
        bool aw = false, w = false;
        m->s_axil_awaddr_i = addr;
        m->s_axil_wdata_i = data;
        m->s_axil_wstrb_i = strb;
        m->s_axil_bready_i = 0;
        for (unsigned n = 0; n < 1000; n++) {
            m->s_axil_awvalid_i = !aw;
            m->s_axil_wvalid_i = !w && n >= 1; // W one cycle after AW: the buffers must cope
            m->eval();
            bool awf = m->s_axil_awvalid_i && m->s_axil_awready_o;
            bool wf = m->s_axil_wvalid_i && m->s_axil_wready_o;
            tick();
            aw |= awf;
            w |= wf;
            if (aw && w)
                break;
        }
        m->s_axil_awvalid_i = 0;
        m->s_axil_wvalid_i = 0;
        for (unsigned n = 0; n < 1000; n++) {
            m->s_axil_bready_i = 1;
            m->eval();
            bool bf = m->s_axil_bvalid_o;
            unsigned resp = m->s_axil_bresp_o;
            tick();
            if (bf) {
                m->s_axil_bready_i = 0;
                return resp;
            }
        }
        ADD_FAILURE() << "no write response for 0x" << std::hex << addr;
        return 99;
    }

    uint32_t read(uint32_t addr, unsigned *resp = nullptr)
    {
        m->s_axil_araddr_i = addr;
        m->s_axil_rready_i = 0;
        for (unsigned n = 0; n < 1000; n++) {
            m->s_axil_arvalid_i = 1;
            m->eval();
            bool arf = m->s_axil_arready_o;
            tick();
            if (arf)
                break;
        }
        m->s_axil_arvalid_i = 0;
        for (unsigned n = 0; n < 1000; n++) {
            m->s_axil_rready_i = rand_pct(70);
            m->eval();
            bool rf = m->s_axil_rvalid_o && m->s_axil_rready_i;
            uint32_t d = m->s_axil_rdata_o;
            unsigned r = m->s_axil_rresp_o;
            tick();
            if (rf) {
                m->s_axil_rready_i = 0;
                if (resp)
                    *resp = r;
                else
                    EXPECT_EQ(r, kRespOkay) << "read of 0x" << std::hex << addr;
                return d;
            }
        }
        ADD_FAILURE() << "no read response for 0x" << std::hex << addr;
        return 0;
    }
    uint64_t read64(uint32_t lo) { return read(lo) | (uint64_t)read(lo + 4) << 32; }

    void load(const std::vector<nicsim_insn> &prog)
    {
        ASSERT_EQ(write(IMEM_ADDR, 0), kRespOkay);
        for (const nicsim_insn &i : prog) {
            uint64_t w;
            memcpy(&w, &i, 8);
            ASSERT_EQ(write(IMEM_LO, (uint32_t)w), kRespOkay);
            ASSERT_EQ(write(IMEM_HI, (uint32_t)(w >> 32)), kRespOkay);
        }
        ASSERT_EQ(read(IMEM_ADDR), prog.size());
        ASSERT_EQ(write(ENTRY, 0), kRespOkay);
        ASSERT_EQ(write(IFINDEX, kIfindexBase), kRespOkay);
    }

    uint32_t finished() { return read(CNT_TX) + read(CNT_DROP) + read(CNT_ABORT); }

    // run until `n` frames have left the engine (sent, dropped or aborted) and it is idle
    void wait_frames(uint32_t n)
    {
        for (unsigned k = 0; k < 20000; k++) {
            if (finished() >= n && (read(STATUS) & 1) == 0)
                return;
        }
        FAIL() << "engine did not finish " << n << " frames: STATUS 0x" << std::hex << read(STATUS)
               << std::dec << ", rx " << read(CNT_RX) << ", tx " << read(CNT_TX) << ", drop "
               << read(CNT_DROP) << ", abort " << read(CNT_ABORT) << ", rx_err "
               << read(CNT_RX_ERR) << ", frames queued " << rx_q.size();
    }
};

// The C model's run of one frame.
struct CModel {
    nicsim_xdp_core *core = nullptr;
    nicsim_prog *prog = nullptr;

    explicit CModel(const std::vector<nicsim_insn> &raw, uint64_t budget = 0)
    {
        nicsim_xdp_core_opts o{};
        o.sz = sizeof(o);
        o.budget = budget;
        core = nicsim_xdp_core__new(&o);
        std::vector<nicsim_isa_insn> dec(raw.size());
        nicsim_isa_err err{};
        EXPECT_EQ(nicsim_isa_decode(raw.data(), raw.size(), dec.data(), &err), 0) << err.msg;
        nicsim_prog_opts po{};
        po.sz = sizeof(po);
        po.helpers = nicsim_xdp_helpers();
        po.name = "engine";
        prog = nicsim_prog__load(dec.data(), dec.size(), &po, &err);
        EXPECT_NE(prog, nullptr) << err.msg;
    }
    ~CModel()
    {
        nicsim_prog__free(prog);
        nicsim_xdp_core__free(core);
    }
    nicsim_xdp_result run(const Frame &f)
    {
        nicsim_xdp_pkt_in in{};
        in.data = f.bytes.data();
        in.len = (uint32_t)f.bytes.size();
        in.port = f.user;
        in.ingress_ifindex = kIfindexBase + f.user;
        nicsim_xdp_result r{};
        EXPECT_EQ(nicsim_xdp_core__run(core, prog, &in, &r), 0);
        return r;
    }
};

Frame random_frame(std::mt19937 &rng, bool ipv4, size_t len, uint32_t port)
{
    Frame f;
    f.bytes.resize(len);
    for (auto &b : f.bytes)
        b = (uint8_t)rng();
    if (len >= 14) {
        f.bytes[12] = ipv4 ? 0x08 : 0x86;
        f.bytes[13] = ipv4 ? 0x00 : 0xdd;
    }
    if (len > 0 && f.bytes[0] == 0xff)
        f.bytes[0] = 0xfe;
    f.user = port;
    return f;
}

// Step one frame through the engine; compare the report and the frame out with the C model.
void step_and_compare(Tb &tb, CModel &c, const Frame &in, const char *what)
{
    SCOPED_TRACE(what);
    nicsim_xdp_result r = c.run(in);
    uint32_t before = tb.finished();
    size_t sent = tb.tx_done.size();
    tb.rx_q.push_back(in);
    ASSERT_EQ(tb.write(CTRL, tb.read(CTRL) | kCtrlStep), kRespOkay); // SCRUB kept
    tb.wait_frames(before + 1);
    uint32_t st = tb.read(RUN_STATUS);
    EXPECT_EQ(st & 3, r.run.status) << "run status";
    EXPECT_EQ(st >> 4 & 7, r.action) << "verdict";
    EXPECT_EQ(tb.read64(R0_LO), r.run.r0);
    EXPECT_EQ(tb.read64(INSNS_LO), r.run.insns);
    EXPECT_EQ(tb.read64(CYCLES_LO), r.run.cycles) << "cycles: RTL engine vs C model";
    EXPECT_EQ(tb.read(STALL_LOAD_USE), r.run.stalls.load_use);
    EXPECT_EQ(tb.read(STALL_BRANCH), r.run.stalls.branch);
    EXPECT_EQ(tb.read(STALL_HELPER), r.run.stalls.helper);
    EXPECT_EQ(tb.read(RUN_LEN_IN), in.bytes.size());
    EXPECT_EQ(tb.read(RUN_PORT), in.user);
    if (r.run.status == NICSIM_RUN_TRAP) {
        uint32_t trap = tb.read(TRAP);
        EXPECT_EQ(trap & 15, r.run.trap.kind);
        EXPECT_EQ(tb.read(TRAP_PC), r.run.trap.pc);
        EXPECT_EQ(tb.read64(TRAP_ADDR_LO), r.run.trap.addr);
    }
    bool sends = r.action != NICSIM_XDP_DROP && r.action != NICSIM_XDP_ABORTED;
    ASSERT_EQ(tb.tx_done.size(), sent + (sends ? 1 : 0)) << "frames out";
    EXPECT_EQ(tb.read(RUN_LEN_OUT), sends ? r.len : 0);
    if (sends) {
        const Frame &out = tb.tx_done.back();
        EXPECT_EQ(out.bytes, std::vector<uint8_t>(r.data, r.data + r.len)) << "frame bytes";
        uint32_t egress = r.action == NICSIM_XDP_REDIRECT ? r.redirect_ifindex - kIfindexBase
                                                          : in.user;
        EXPECT_EQ(out.user, (r.action << 8) | egress) << "TUSER {verdict, egress}";
    }
}

TEST(EngineTest, IdVersionCapsAndResetValues)
{
    Tb tb;
    EXPECT_EQ(tb.read(ID), 0x6e736565u);
    EXPECT_EQ(tb.read(VERSION), 0x00010000u);
    EXPECT_EQ(tb.read(CAPS), (3520u << 16) | 4096u);
    EXPECT_EQ(tb.read(CTRL), 0u);
    EXPECT_EQ(tb.read(STATUS) & 7, 0u) << "idle, core not running, no report yet";
    EXPECT_EQ(tb.read64(BUDGET_LO), NICSIM_DEFAULT_BUDGET);
    EXPECT_EQ(tb.read(CNT_RX), 0u);
}

TEST(EngineTest, BadAddressAndRefusedWritesAnswerSlverr)
{
    Tb tb;
    unsigned resp = 0;
    EXPECT_EQ(tb.read(0x0fc, &resp), 0u);
    EXPECT_EQ(resp, kRespSlverr) << "read of an offset with no register";
    EXPECT_EQ(tb.read(0xffc, &resp), 0u);
    EXPECT_EQ(resp, kRespSlverr);
    tb.read(IMEM_HI, &resp);
    EXPECT_EQ(resp, kRespSlverr) << "IMEM_HI is write-only";
    EXPECT_EQ(tb.write(0x0fc, 1), kRespSlverr) << "write to an offset with no register";
    EXPECT_EQ(tb.write(ID, 1), kRespSlverr) << "write to a read-only register";
    EXPECT_EQ(tb.read(ID), 0x6e736565u) << "a refused write changes nothing";
    EXPECT_EQ(tb.write(CNT_RX, 5), kRespSlverr);
    EXPECT_EQ(tb.write(IMEM_HI, 0, 0x3), kRespSlverr) << "a slot write needs all four strobes";
    // the image may not change while frames may run
    EXPECT_EQ(tb.write(CTRL, kCtrlRunEn), kRespOkay);
    EXPECT_EQ(tb.write(IMEM_HI, 0), kRespSlverr) << "image write with RUN_EN set";
    EXPECT_EQ(tb.write(CTRL, 0), kRespOkay);
    EXPECT_EQ(tb.write(IMEM_ADDR, 4095), kRespOkay);
    EXPECT_EQ(tb.write(IMEM_HI, 0), kRespOkay) << "the last slot";
    EXPECT_EQ(tb.write(IMEM_HI, 0), kRespSlverr) << "past the instruction memory";
    // byte strobes: only the written byte changes
    EXPECT_EQ(tb.write(IFINDEX, 0x11223344), kRespOkay);
    EXPECT_EQ(tb.write(IFINDEX, 0xaabbccdd, 0x4), kRespOkay);
    EXPECT_EQ(tb.read(IFINDEX), 0x11bb3344u);
}

TEST(EngineTest, MacSwapStepByStepAgreesWithTheCModel)
{
    Tb tb;
    auto prog = mac_swap_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(7);
    const size_t lens[] = {60, 64, 14, 13, 1, 65, 71, 72, 1500, 3520};
    unsigned k = 0;
    for (size_t len : lens) {
        for (bool ipv4 : {true, false}) {
            Frame f = random_frame(rng, ipv4, len, k++ % 4);
            step_and_compare(tb, c, f, (std::to_string(len) + (ipv4 ? " ipv4" : " other")).c_str());
        }
    }
    EXPECT_EQ(tb.read(CNT_RX), 20u);
    EXPECT_GT(tb.read(CNT_TX), 0u);
    EXPECT_GT(tb.read(CNT_DROP), 0u);
    EXPECT_EQ(tb.read(CNT_TX) + tb.read(CNT_DROP), 20u);
    EXPECT_TRUE(tb.read(STATUS) & 4) << "STATUS.DONE after a run";
}

TEST(EngineTest, LoopsStallsAndTrapsAgreeWithTheCModel)
{
    Tb tb;
    auto prog = sum_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(11);
    for (size_t len : {1, 7, 8, 9, 60, 333}) {
        Frame f = random_frame(rng, true, len, 2);
        step_and_compare(tb, c, f, "sum");
    }
    Frame bad = random_frame(rng, true, 40, 1);
    bad.bytes[0] = 0xff; // the program reads past data_end: a bounds trap, XDP_ABORTED
    step_and_compare(tb, c, bad, "trap");
    EXPECT_EQ(tb.read(CNT_ABORT), 1u);
    EXPECT_EQ(tb.read(TRAP) & 15, (uint32_t)NICSIM_TRAP_BOUNDS);
    // the watchdog: a budget too small for the loop
    ASSERT_EQ(tb.write(BUDGET_LO, 50), kRespOkay);
    CModel small(prog, 50);
    step_and_compare(tb, small, random_frame(rng, true, 100, 3), "watchdog");
    EXPECT_EQ(tb.read(RUN_STATUS) & 3, (uint32_t)NICSIM_RUN_WATCHDOG);
    EXPECT_EQ(tb.read(CNT_ABORT), 2u);
}

TEST(EngineTest, RedirectThroughTheHelperInterface)
{
    Tb tb;
    auto prog = redirect_prog();
    tb.load(prog);
    CModel c(prog);
    tb.helper_vm = nicsim_xdp_core__vm(c.core); // the C model's helpers answer the port
    std::mt19937 rng(5);
    for (uint8_t port : {1, 2, 7}) {
        Frame f = random_frame(rng, true, 64, 0);
        f.bytes[0] = port; // redirect to 100 + port: egress port `port`
        step_and_compare(tb, c, f, "redirect");
        EXPECT_EQ(tb.read(RUN_EGRESS), port);
    }
    EXPECT_EQ(tb.helpers_answered, 3u);
    EXPECT_GT(tb.read(STALL_HELPER), 0u);

    // a helper unit that answers 5 cycles after the request: the run takes 5 cycles more
    // (CYCLES counts real cycles), STALL_HELPER still charges 2 + the unit's cycles
    Frame f = random_frame(rng, true, 64, 0);
    f.bytes[0] = 3;
    nicsim_xdp_result r = c.run(f);
    tb.helper_delay = 5;
    uint32_t fin = tb.finished();
    tb.rx_q.push_back(f);
    ASSERT_EQ(tb.write(CTRL, kCtrlStep), kRespOkay);
    tb.wait_frames(fin + 1);
    EXPECT_EQ(tb.read64(CYCLES_LO), r.run.cycles + 5);
    EXPECT_EQ(tb.read(STALL_HELPER), r.run.stalls.helper);
    EXPECT_EQ(tb.tx_done.back().user, (4u << 8) | 3u);
}

TEST(EngineTest, AutoRunWithBackpressureAgreesWithTheCModel)
{
    Tb tb;
    auto prog = mac_swap_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(99);
    std::vector<nicsim_xdp_result> want;
    std::vector<std::vector<uint8_t>> want_bytes;
    std::vector<uint32_t> want_user;
    const unsigned n = 40;
    for (unsigned k = 0; k < n; k++) {
        Frame f = random_frame(rng, rng() % 3 != 0, 1 + rng() % 300, rng() % 8);
        nicsim_xdp_result r = c.run(f);
        if (r.action == NICSIM_XDP_TX) {
            want_bytes.emplace_back(r.data, r.data + r.len);
            want_user.push_back(r.action << 8 | f.user);
        }
        tb.rx_q.push_back(f);
    }
    tb.stall_pct = 60;
    ASSERT_EQ(tb.write(CTRL, kCtrlRunEn), kRespOkay);
    tb.wait_frames(n);
    EXPECT_TRUE(tb.rx_q.empty());
    EXPECT_GT(tb.rx_stalled, 0u) << "the engine held TREADY low while busy";
    ASSERT_EQ(tb.tx_done.size(), want_bytes.size());
    for (size_t k = 0; k < want_bytes.size(); k++) {
        EXPECT_EQ(tb.tx_done[k].bytes, want_bytes[k]) << "frame " << k;
        EXPECT_EQ(tb.tx_done[k].user, want_user[k]) << "frame " << k;
    }
    EXPECT_EQ(tb.read(CNT_RX), n);
    EXPECT_EQ(tb.read(CNT_TX), want_bytes.size());
    EXPECT_EQ(tb.read(CNT_DROP), n - want_bytes.size());
    // CTRL.CLR_CNT clears the counters
    ASSERT_EQ(tb.write(CTRL, kCtrlClr), kRespOkay);
    EXPECT_EQ(tb.read(CNT_RX), 0u);
    EXPECT_EQ(tb.read(CNT_TX), 0u);
    EXPECT_EQ(tb.read(CTRL), 0u) << "RUN_EN cleared by that write, CLR_CNT reads 0";
}

TEST(EngineTest, MalformedAndOversizedFramesAreCountedAndNotRun)
{
    Tb tb;
    auto prog = mac_swap_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(3);
    tb.rx_q.push_back(random_frame(rng, true, 3521, 1)); // one byte more than the frame holds
    ASSERT_EQ(tb.write(CTRL, kCtrlRunEn), kRespOkay);
    for (unsigned k = 0; k < 5000 && tb.read(CNT_RX_ERR) == 0; k++) {
    }
    EXPECT_EQ(tb.read(CNT_RX_ERR), 1u);
    EXPECT_TRUE(tb.rx_q.empty()) << "the oversized frame was drained to its TLAST";
    EXPECT_EQ(tb.read(CNT_RX), 0u);
    ASSERT_EQ(tb.write(CTRL, 0), kRespOkay);
    // the engine still works afterwards
    step_and_compare(tb, c, random_frame(rng, true, 100, 2), "after the error");
    EXPECT_EQ(tb.tx_done.size(), 1u);
}

TEST(EngineTest, TransmitsWhatTheDescriptorSaysAfterTheRun)
{
    Tb tb;
    tb.load(move_bounds_prog());
    std::mt19937 rng(17);
    for (size_t len : {6, 7, 13, 64, 77}) {
        Frame f = random_frame(rng, true, len, 5);
        size_t before = tb.tx_done.size();
        uint32_t fin = tb.finished();
        tb.rx_q.push_back(f);
        ASSERT_EQ(tb.write(CTRL, kCtrlStep), kRespOkay);
        tb.wait_frames(fin + 1);
        if (len <= 5) {
            EXPECT_EQ(tb.tx_done.size(), before) << "an empty frame is not sent";
            continue;
        }
        ASSERT_EQ(tb.tx_done.size(), before + 1) << len;
        EXPECT_EQ(tb.tx_done.back().bytes,
                  std::vector<uint8_t>(f.bytes.begin() + 3, f.bytes.end() - 2)) << len;
        EXPECT_EQ(tb.read(RUN_LEN_OUT), len - 5);
    }
}

// With TREADY always high the transmitter sends one beat per cycle, from an aligned and from
// an unaligned start (the row queue reads ahead through the core's two-cycle host port).
TEST(EngineTest, TransmitsOneBeatPerCycle)
{
    for (bool unaligned : {false, true}) {
        SCOPED_TRACE(unaligned ? "unaligned" : "aligned");
        Tb tb;
        tb.stall_pct = 0;
        tb.load(unaligned ? move_bounds_prog() : mac_swap_prog());
        std::mt19937 rng(23);
        Frame f = random_frame(rng, true, 1501, 1);
        tb.rx_q.push_back(f);
        ASSERT_EQ(tb.write(CTRL, kCtrlStep), kRespOkay);
        tb.wait_frames(1);
        ASSERT_EQ(tb.tx_done.size(), 1u);
        size_t len = unaligned ? 1501 - 5 : 1501;
        EXPECT_EQ(tb.tx_done[0].bytes.size(), len);
        EXPECT_EQ(tb.tx_last_cycle - tb.tx_first_cycle + 1, (len + 7) / 8)
            << "cycles from the first beat to the last";
    }
}

// Random frames, random start and end offsets, random gaps and TREADY: every frame leaves
// realigned, byte for byte, with XDP_PASS in TUSER.
TEST(EngineTest, RealignsRandomBoundsUnderBackpressure)
{
    Tb tb;
    tb.load(move_bounds_by_bytes_prog());
    std::mt19937 rng(31);
    std::vector<std::vector<uint8_t>> want;
    const unsigned n = 60;
    for (unsigned k = 0; k < n; k++) {
        Frame f = random_frame(rng, true, 16 + rng() % 200, 4);
        size_t a = f.bytes[0] & 7, b = f.bytes[1] & 7;
        want.emplace_back(f.bytes.begin() + a, f.bytes.end() - b);
        tb.rx_q.push_back(f);
    }
    tb.stall_pct = 50;
    ASSERT_EQ(tb.write(CTRL, kCtrlRunEn), kRespOkay);
    tb.wait_frames(n);
    ASSERT_EQ(tb.tx_done.size(), n);
    for (unsigned k = 0; k < n; k++) {
        EXPECT_EQ(tb.tx_done[k].bytes, want[k]) << "frame " << k;
        EXPECT_EQ(tb.tx_done[k].user, (2u << 8) | 4u) << "frame " << k;
    }
}

// A beat before the last with a TKEEP hole: the frame is refused and discarded to its TLAST,
// and the next frame runs normally.
TEST(EngineTest, RefusesAFrameWithAKeepHole)
{
    Tb tb;
    auto prog = mac_swap_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(41);
    Frame bad = random_frame(rng, true, 100, 1);
    bad.bad_keep_beat = 3;
    tb.rx_q.push_back(bad);
    ASSERT_EQ(tb.write(CTRL, kCtrlStep), kRespOkay);
    for (unsigned k = 0; k < 1000 && tb.read(CNT_RX_ERR) == 0; k++) {
    }
    EXPECT_EQ(tb.read(CNT_RX_ERR), 1u);
    EXPECT_TRUE(tb.rx_q.empty());
    EXPECT_EQ(tb.read(CNT_RX), 0u);
    EXPECT_TRUE(tb.tx_done.empty());
    step_and_compare(tb, c, random_frame(rng, true, 100, 2), "after the refused frame");
}

// CTRL.SCRUB zeroes the stack, the headroom and the tailroom before each run, as the C model
// starts every run: a program reading its stack before writing it then agrees with the C model
// frame after frame. Without it the stack holds the previous frame's values.
TEST(EngineTest, ScrubGivesEveryRunTheCModelsClearedMemory)
{
    Tb tb;
    auto prog = stack_echo_prog();
    tb.load(prog);
    CModel c(prog);
    std::mt19937 rng(43);
    for (uint32_t pa = 0; pa < 16384; pa++)
        tb.poke(pa, 0xaa); // stale contents everywhere
    ASSERT_EQ(tb.write(CTRL, kCtrlScrub), kRespOkay);
    EXPECT_EQ(tb.read(CTRL), kCtrlScrub);
    for (size_t len : {64, 61, 3520}) {
        Frame f = random_frame(rng, true, len, 1);
        step_and_compare(tb, c, f, "scrubbed");
        // the frame buffer: headroom, the packet's last row after its end, tailroom all zero
        // (the program wrote only the packet and the stack)
        const uint32_t frame = 8192, data = frame + 256;
        for (uint32_t pa = frame; pa < data; pa++)
            ASSERT_EQ(tb.peek(pa), 0) << "headroom byte " << pa - frame;
        for (uint32_t pa = data + (uint32_t)len; pa < frame + 4096; pa++)
            ASSERT_EQ(tb.peek(pa), 0) << "tailroom byte " << pa - frame << " after " << len;
        for (uint32_t pa = 0; pa < 4096 - 8; pa++)
            ASSERT_EQ(tb.peek(pa), 0) << "stack byte " << pa;
    }
    // without SCRUB the second frame reads the first one's data_end from the stack
    ASSERT_EQ(tb.write(CTRL, 0), kRespOkay);
    Frame f = random_frame(rng, true, 64, 1);
    tb.rx_q.push_back(f);
    ASSERT_EQ(tb.write(CTRL, kCtrlStep), kRespOkay);
    tb.wait_frames(4);
    ASSERT_EQ(tb.tx_done.size(), 4u);
    uint64_t first8 = 0;
    memcpy(&first8, tb.tx_done.back().bytes.data(), 8);
    EXPECT_EQ(first8, (uint64_t)NICSIM_PKT_REGION << 32 | (256 + 3520)) << "stale stack value";
}

} // namespace
