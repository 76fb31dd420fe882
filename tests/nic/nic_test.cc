// The SystemC NIC (sim/nic, docs/nic-model.md) through the assembled system: programs go in as
// NIC images over the BAR (the TLM socket and the management core's thread), frames through the
// model's queues. Each test builds its own NIC (a fresh SystemC context each time).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "nicsim/ctrl.h"
#include "nicsim/datapath.h"
#include "nicsim/isa.h"
#include "nicsim/nic/nic_model.h"
#include "nicsim/nic_image.h"
#include "nicsim/system.h"
#include "nicsim/xdp.h"

namespace {

struct Nic {
    struct nicsim_sys *sys = nullptr;
    struct nicsim_ctrl *ctrl = nullptr;
    char err[256] = {};
    explicit Nic(struct nicsim_nic_model_opts mo, uint32_t cores = 1)
    {
        struct nicsim_sys_opts o = {};
        o.sz = sizeof(o);
        o.n_cores = cores;
        mo.sz = sizeof(mo);
        o.nic_model = &mo;
        sys = nicsim_sys__new(&o, err, sizeof(err));
        EXPECT_NE(sys, nullptr) << err;
        if (sys)
            ctrl = nicsim_sys__ctrl(sys);
    }
    ~Nic() { nicsim_sys__free(sys); }
    // Loads `text` as a NIC image whose map table is `maps` (an LDDW of 0x7e00000000 + id is a
    // reference to map id) and attaches it to every port.
    void load(const std::string &text, const std::vector<uint32_t> &maps = {})
    {
        struct nicsim_insn *raw = nullptr;
        size_t n = 0;
        struct nicsim_isa_err e = {};
        ASSERT_EQ(nicsim_asm(text.c_str(), &raw, &n, &e), 0) << e.msg;
        for (size_t i = 0; i + 1 < n; i++) {
            uint64_t v = (uint32_t)raw[i].imm | (uint64_t)(uint32_t)raw[i + 1].imm << 32;
            if (raw[i].code != 0x18 || (v & ~0xffffull) != 0x7e00000000ull)
                continue;
            raw[i].src = NICSIM_LDDW_MAP_IDX;
            raw[i].imm = (int32_t)(v & 0xffff);
            raw[i + 1].imm = 0;
        }
        struct nicsim_img_hdr h = {};
        h.magic = NICSIM_IMG_MAGIC;
        h.version = NICSIM_IMG_VERSION;
        h.hdr_len = sizeof(h);
        h.n_slots = (uint32_t)n;
        h.n_maps = (uint32_t)maps.size();
        h.prog_type = 6;
        h.stack_depth = 64;
        memcpy(h.name, "nictest", 7);
        std::vector<uint8_t> img(sizeof(h) + 4 * maps.size() + 8 * n);
        memcpy(img.data(), &h, sizeof(h));
        if (!maps.empty())
            memcpy(img.data() + sizeof(h), maps.data(), 4 * maps.size());
        memcpy(img.data() + sizeof(h) + 4 * maps.size(), raw, 8 * n);
        free(raw);
        uint32_t id = 0;
        ASSERT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &id), 0)
            << nicsim_ctrl__last_error(ctrl);
        for (uint32_t p = 0; p < nicsim_sys__n_ports(sys); p++)
            ASSERT_EQ(nicsim_ctrl__xdp_attach(ctrl, p, id, 0, nullptr), 0)
                << nicsim_ctrl__last_error(ctrl);
    }
    struct nicsim_dp_result rx(uint64_t arrival_ns, uint32_t len = 64, uint8_t flow = 0,
                               uint32_t port = 0, uint8_t loops = 0)
    {
        std::vector<uint8_t> f(len, 0);
        f[0] = flow;
        f[14] = loops; // read by the spinning program
        struct nicsim_dp_result r = {};
        EXPECT_EQ(nicsim_sys__rx(sys, port, f.data(), len, len, arrival_ns, &r), 0);
        return r;
    }
    const struct nicsim_dp_stats &stats() { return *nicsim_dp__stats(nicsim_sys__dp(sys)); }
};

struct nicsim_nic_model_opts opts()
{
    struct nicsim_nic_model_opts o = {};
    o.sz = sizeof(o);
    return o;
}

const char *const kPass = "mov %r0, 2\nexit\n";
const char *const kTx = "mov %r0, 3\nexit\n";
// XDP_TX after byte 14 of the frame iterations of a loop: cycles chosen per frame.
const char *const kSpinTx = "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nmov %r4, %r2\nadd %r4, 15\n"
                            "jgt %r4, %r3, out\nldxb %r5, [%r2+14]\nloop:\njeq %r5, 0, out\n"
                            "sub %r5, 1\nja loop\nout:\nmov %r0, 3\nexit\n";

// Frames that find the receive buffer full are dropped with that cause and never run; every
// other frame runs; none is lost otherwise.
TEST(NicQueues, RxBufferOverflowDropsByCauseAndLosesNothingElse)
{
    auto o = opts();
    o.rx_buffer_descs = 4;
    Nic n(o);
    n.load(kSpinTx);
    unsigned full = 0, ran = 0;
    for (int i = 0; i < 20; i++) {
        auto r = n.rx(0, 64, 0, 0, 50);
        if (r.drop == NICSIM_DP_DROP_RX_BUFFER_FULL) {
            full++;
            EXPECT_EQ(r.xdp.run.insns, 0u) << "a frame without room never runs";
        } else {
            ran++;
            EXPECT_EQ(r.drop, NICSIM_DP_DROP_NONE);
        }
    }
    // the first starts at once (its slot is free at arrival); four more wait in the buffer
    EXPECT_EQ(ran, 5u);
    EXPECT_EQ(full, 15u);
    const auto &st = n.stats();
    EXPECT_EQ(st.drops[NICSIM_DP_DROP_RX_BUFFER_FULL], 15u);
    EXPECT_EQ(st.drops[NICSIM_DP_DROP_NONE], 5u);
    EXPECT_EQ(st.tx_frames[0], 5u);
    EXPECT_EQ(st.core_packets[0], 5u);
    EXPECT_EQ(st.max_rx_buffer_frames[0], 4u);
    // once the core has drained it, the buffer takes frames again
    auto later = n.rx(1000000, 64, 0, 0, 50);
    EXPECT_EQ(later.drop, NICSIM_DP_DROP_NONE);
}

TEST(NicQueues, RxBufferBytesAreACapacityToo)
{
    auto o = opts();
    o.rx_buffer_bytes = 3000;
    Nic n(o);
    n.load(kSpinTx);
    unsigned full = 0;
    for (int i = 0; i < 6; i++)
        full += n.rx(0, 1000, 0, 0, 50).drop == NICSIM_DP_DROP_RX_BUFFER_FULL;
    EXPECT_EQ(full, 2u); // one running, three held (3000 bytes), two refused
    EXPECT_EQ(n.stats().max_rx_buffer_bytes[0], 3000u);
}

// XDP_TX onto a slow port: the transmit queue fills and drops; what it took leaves one frame
// time apart.
TEST(NicQueues, TxQueueOverflowDropsByCause)
{
    auto o = opts();
    o.tx_queue_frames = 3;
    o.line_rate_gbps[0] = 1;
    Nic n(o);
    n.load(kTx);
    unsigned full = 0, sent = 0;
    for (int i = 0; i < 10; i++) {
        auto r = n.rx(i * 10, 1000);
        if (r.drop == NICSIM_DP_DROP_TX_QUEUE_FULL) {
            full++;
            EXPECT_EQ(r.dest, NICSIM_DP_DEST_DROP);
            EXPECT_EQ(r.xdp.action, (uint32_t)NICSIM_XDP_TX) << "the program ran";
        } else {
            sent++;
        }
    }
    EXPECT_EQ(sent, 3u);
    EXPECT_EQ(full, 7u);
    EXPECT_EQ(n.stats().drops[NICSIM_DP_DROP_TX_QUEUE_FULL], 7u);
    EXPECT_EQ(n.stats().tx_frames[0], 3u);
    EXPECT_EQ(n.stats().max_tx_queue_frames[0], 3u);
}

// Back to back at 10 Gb/s, 64-byte frames leave (64 + 24) * 8 / 10 = 70.4 ns apart.
TEST(NicTiming, DeparturesAreSpacedByTheLineRate)
{
    auto o = opts();
    o.line_rate_gbps[0] = 10;
    Nic n(o, 4);
    n.load(kTx);
    std::vector<uint64_t> dep;
    double t = 0;
    for (int i = 0; i < 50; i++) {
        // arrivals at 100 Gb/s: the 10 Gb/s transmit side is the bottleneck
        auto r = n.rx((uint64_t)t, 64, (uint8_t)i);
        t += (64 + 24) * 8 / 100.0;
        ASSERT_EQ(r.drop, NICSIM_DP_DROP_NONE);
        dep.push_back(r.departure_cycle);
    }
    // 250 MHz: 17.6 cycles a frame; departures are rounded up to a cycle
    double spacing = (double)(dep.back() - dep.front()) / (dep.size() - 1);
    EXPECT_NEAR(spacing, 17.6, 0.05);
    for (size_t i = 1; i < dep.size(); i++) {
        EXPECT_GE(dep[i] - dep[i - 1], 17u);
        EXPECT_LE(dep[i] - dep[i - 1], 18u);
    }
}

// Frames leave a port in the order they arrived, whichever core ran them and however long.
TEST(NicTiming, FramesLeaveInArrivalOrder)
{
    auto o = opts();
    o.dispatch = NICSIM_NIC_DISPATCH_RR;
    Nic n(o, 4);
    n.load(kSpinTx);
    uint64_t last = 0;
    bool overtaken = false;
    for (int i = 0; i < 40; i++) {
        uint8_t loops = (uint8_t)(i % 4 == 0 ? 200 : 1); // every fourth frame is slow
        auto r = n.rx(i * 20, 64, 0, 0, loops);
        ASSERT_EQ(r.drop, NICSIM_DP_DROP_NONE);
        EXPECT_GE(r.departure_cycle, last) << "frame " << i;
        EXPECT_GE(r.departure_cycle, r.end_cycle);
        overtaken |= r.end_cycle < last; // its core finished before an earlier frame left
        last = r.departure_cycle;
    }
    EXPECT_TRUE(overtaken) << "the test needs frames that finish out of order";
}

// The plain loop's start and end times and cycles are the model's where no queue fills.
TEST(NicTiming, UnfilledQueuesKeepThePlainLoopsTimes)
{
    auto o = opts();
    Nic n(o, 2);
    n.load(kSpinTx);
    struct nicsim_sys_opts po = {};
    po.sz = sizeof(po);
    po.n_cores = 2;
    char err[256];
    struct nicsim_sys *plain = nicsim_sys__new(&po, err, sizeof(err));
    ASSERT_NE(plain, nullptr) << err;
    {
        // same program on the plain system
        struct nicsim_insn *raw = nullptr;
        size_t cnt = 0;
        struct nicsim_isa_err e = {};
        ASSERT_EQ(nicsim_asm(kSpinTx, &raw, &cnt, &e), 0);
        struct nicsim_img_hdr h = {};
        h.magic = NICSIM_IMG_MAGIC;
        h.version = NICSIM_IMG_VERSION;
        h.hdr_len = sizeof(h);
        h.n_slots = (uint32_t)cnt;
        h.prog_type = 6;
        h.stack_depth = 64;
        std::vector<uint8_t> img(sizeof(h) + 8 * cnt);
        memcpy(img.data(), &h, sizeof(h));
        memcpy(img.data() + sizeof(h), raw, 8 * cnt);
        free(raw);
        uint32_t id = 0;
        ASSERT_EQ(nicsim_ctrl__prog_load(nicsim_sys__ctrl(plain), img.data(), img.size(), &id), 0);
        ASSERT_EQ(nicsim_ctrl__xdp_attach(nicsim_sys__ctrl(plain), 0, id, 0, nullptr), 0);
    }
    for (int i = 0; i < 30; i++) {
        std::vector<uint8_t> f(64, 0);
        f[0] = (uint8_t)(i * 7);
        f[14] = (uint8_t)(i * 13 % 40);
        struct nicsim_dp_result a = {}, b = {};
        ASSERT_EQ(nicsim_sys__rx(n.sys, 0, f.data(), 64, 64, i * 30, &a), 0);
        ASSERT_EQ(nicsim_sys__rx(plain, 0, f.data(), 64, 64, i * 30, &b), 0);
        EXPECT_EQ(a.core, b.core);
        EXPECT_EQ(a.start_cycle, b.start_cycle);
        EXPECT_EQ(a.end_cycle, b.end_cycle);
        EXPECT_EQ(a.xdp.run.cycles, b.xdp.run.cycles);
        EXPECT_EQ(a.xdp.action, b.xdp.action);
    }
    nicsim_sys__free(plain);
}

// XDP_PASS into host rings drained slowly: the ring fills and drops with its cause.
TEST(NicHost, HostRingFullDropsByCause)
{
    auto o = opts();
    o.host_queues = 1;
    o.host_ring_entries = 2;
    o.host_drain_mpps = 0.001; // one frame a millisecond
    Nic n(o);
    n.load(kPass);
    unsigned full = 0;
    for (int i = 0; i < 8; i++)
        full += n.rx(i * 1000, 64).drop == NICSIM_DP_DROP_HOST_RING_FULL;
    // the host takes the first frame at once, then one a millisecond: two more wait in the ring
    EXPECT_EQ(full, 5u);
    EXPECT_EQ(n.stats().drops[NICSIM_DP_DROP_HOST_RING_FULL], 5u);
    EXPECT_EQ(n.stats().host_frames, 3u);
    EXPECT_EQ(n.stats().max_host_ring_entries[0], 2u);
}

// The program's write to ctx->rx_queue_index chooses the host queue of XDP_PASS.
TEST(NicHost, RxQueueIndexWriteChoosesTheHostQueue)
{
    auto o = opts();
    o.host_queues = 8;
    {
        Nic n(o, 2);
        n.load("stw [%r1+28], 5\nmov %r0, 2\nexit\n");
        for (int i = 0; i < 4; i++) {
            auto r = n.rx(i * 100, 64, (uint8_t)i);
            EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
            EXPECT_EQ(r.host_queue, 5u);
        }
    } // one NIC simulating at a time in a process
    Nic m(o, 2);
    m.load(kPass);
    auto r = m.rx(0, 64, 3);
    EXPECT_EQ(r.host_queue, r.core) << "unwritten: the receive queue it came in on";
}

// A redirect into a cpumap delivers to that CPU's host queue.
TEST(NicHost, CpumapRedirectChoosesTheHostQueue)
{
    auto o = opts();
    o.host_queues = 4;
    Nic n(o, 2);
    uint32_t map = 0;
    ASSERT_EQ(nicsim_ctrl__map_alloc(n.ctrl, 16 /* BPF_MAP_TYPE_CPUMAP */, 4, 4, 4, 0, &map), 0)
        << nicsim_ctrl__last_error(n.ctrl);
    uint32_t cpu = 3, qsize = 64;
    ASSERT_EQ(nicsim_ctrl__map_update(n.ctrl, map, &cpu, &qsize, 0), 0)
        << nicsim_ctrl__last_error(n.ctrl);
    n.load("lddw %r1, " + std::to_string(0x7e00000000ull + map) +
               "\nmov %r2, 3\nmov %r3, 0\ncall " + std::to_string((int)NICSIM_HW_REDIRECT_MAP) +
               "\nexit\n",
           {map});
    for (int i = 0; i < 4; i++) {
        auto r = n.rx(i * 100, 64, (uint8_t)i);
        ASSERT_EQ(r.xdp.action, (uint32_t)NICSIM_XDP_REDIRECT);
        EXPECT_EQ(r.xdp.redirect_cpu, 3);
        EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
        EXPECT_EQ(r.host_queue, 3u) << "frame " << i << " on core " << r.core;
    }
}

// A bad access to the BAR answers with a TLM error, never an assert; good ones work.
TEST(NicBar, BadAccessesGetTlmErrorResponses)
{
    auto o = opts();
    Nic n(o);
    struct nicsim_nic_model *m = nicsim_sys__nic_model(n.sys);
    ASSERT_NE(m, nullptr);
    const struct nicsim_bar_ops *bar = nicsim_nic_model_host_bar_ops();
    EXPECT_EQ(bar->read32(m, NICSIM_BAR0_ID), NICSIM_BAR0_ID_VALUE);
    uint64_t before = nicsim_nic_model_bar_errors(m);
    EXPECT_EQ(bar->read32(m, NICSIM_BAR0_SIZE + 8), 0xffffffffu); // past the BAR
    EXPECT_EQ(bar->read32(m, 2), 0xffffffffu);                    // unaligned
    bar->write32(m, 0x1000, 1);
    EXPECT_EQ(nicsim_nic_model_bar_errors(m), before + 3);
    bar->write32(m, NICSIM_BAR0_SCRATCH, 0x1234);
    EXPECT_EQ(bar->read32(m, NICSIM_BAR0_SCRATCH), 0x1234u);
    EXPECT_EQ(nicsim_nic_model_bar_errors(m), before + 3);
    // the control path still works after the errors: a program loads through the doorbell
    n.load(kPass);
    EXPECT_EQ(n.rx(0).xdp.action, (uint32_t)NICSIM_XDP_PASS);
}

// Same frames, same options: the same results (the model is deterministic).
TEST(NicTiming, SameRunTwiceSameResults)
{
    auto run = []() {
        auto o = opts();
        o.tx_queue_frames = 4;
        o.line_rate_gbps[0] = 5;
        Nic n(o, 3);
        n.load(kSpinTx);
        std::vector<uint64_t> v;
        for (int i = 0; i < 60; i++) {
            auto r = n.rx(i * 13, 64 + i, (uint8_t)(i * 5), 0, (uint8_t)(i % 7));
            v.push_back(r.departure_cycle);
            v.push_back(r.drop);
            v.push_back(r.core);
        }
        return v;
    };
    EXPECT_EQ(run(), run());
}

} // namespace
