// SPDX-License-Identifier: MIT
// XDP on a core: packet geometry helpers against values measured on the real kernel's
// BPF_PROG_TEST_RUN (Linux 6.18, x86-64), csum_diff, redirects, tail calls, events, the
// descriptor, and the datapath around the cores (MAC checks, dispatch, destinations).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "nicsim/datapath.h"
#include "nicsim/xdp.h"

namespace
{

// A fake map unit: map 0 = array of u64 (4 entries), map 1 = devmap {0 -> 7}, map 2 = prog
// array, map 3 = ring buffer, map 4 = perf event array.
struct FakeMaps {
    std::vector<uint8_t> array = std::vector<uint8_t>(32, 0);
    const struct nicsim_prog *progs[4] = {};
    std::vector<std::vector<uint8_t>> events;
    std::vector<uint64_t> event_index;

    static int info(void *ctx, uint32_t id, struct nicsim_xdp_map_info *mi)
    {
        static const struct nicsim_xdp_map_info infos[] = {
            {2, 4, 8, 4},
            {NICSIM_MAP_TYPE_DEVMAP, 4, 4, 4},
            {NICSIM_MAP_TYPE_PROG_ARRAY, 4, 4, 4},
            {NICSIM_MAP_TYPE_RINGBUF, 0, 0, 4096},
            {NICSIM_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2},
        };
        if (id >= 5)
            return -ENOENT;
        *mi = infos[id];
        return 0;
    }
    static int lookup(void *ctx, uint32_t id, uint32_t cpu, const void *key, uint32_t *off)
    {
        uint32_t k;
        memcpy(&k, key, 4);
        if (id != 0 || k >= 4)
            return -ENOENT;
        *off = k * 8;
        return 0;
    }
    static int update(void *ctx, uint32_t id, uint32_t cpu, const void *key, const void *value,
                      uint64_t flags)
    {
        auto *m = static_cast<FakeMaps *>(ctx);
        uint32_t k;
        memcpy(&k, key, 4);
        if (id != 0 || k >= 4)
            return -E2BIG;
        memcpy(&m->array[k * 8], value, 8);
        return 0;
    }
    static int remove(void *ctx, uint32_t id, uint32_t cpu, const void *key) { return -EINVAL; }
    static int devmap_get(void *ctx, uint32_t id, uint32_t key, uint32_t *ifindex)
    {
        if (id != 1 || key != 0)
            return -ENOENT;
        *ifindex = 7;
        return 0;
    }
    static const struct nicsim_prog *prog_array_get(void *ctx, uint32_t id, uint32_t index)
    {
        return id == 2 && index < 4 ? static_cast<FakeMaps *>(ctx)->progs[index] : nullptr;
    }
    static int event_output(void *ctx, uint32_t id, uint32_t cpu, uint64_t index, const void *data,
                            uint32_t size)
    {
        auto *m = static_cast<FakeMaps *>(ctx);
        auto *p = static_cast<const uint8_t *>(data);
        m->events.emplace_back(p, p + size);
        m->event_index.push_back(index);
        return 0;
    }
};

const struct nicsim_xdp_map_ops kFakeOps = {
    FakeMaps::info,       FakeMaps::lookup,         FakeMaps::update,      FakeMaps::remove,
    FakeMaps::devmap_get, FakeMaps::prog_array_get, FakeMaps::event_output};

struct XdpHarness {
    FakeMaps maps;
    struct nicsim_xdp_core *core = nullptr;
    std::vector<struct nicsim_prog *> progs;
    std::vector<uint8_t> packet;

    XdpHarness(uint32_t len = 64)
    {
        struct nicsim_xdp_core_opts o = {};
        o.sz = sizeof(o);
        o.core_id = 2;
        o.seed = 1;
        o.maps = &kFakeOps;
        o.maps_ctx = &maps;
        core = nicsim_xdp_core__new(&o);
        nicsim_xdp_core__map_map(core, 0, maps.array.data(), (uint32_t)maps.array.size(), 1, 2);
        for (uint32_t id = 1; id < 5; id++)
            nicsim_xdp_core__map_map(core, id, nullptr, 0, 0, 2);
        packet.resize(len);
        for (uint32_t i = 0; i < len; i++)
            packet[i] = (uint8_t)(i * 3 + 1);
    }
    ~XdpHarness()
    {
        for (auto *p : progs)
            nicsim_prog__free(p);
        nicsim_xdp_core__free(core);
    }
    struct nicsim_prog *load(const std::string &text)
    {
        struct nicsim_insn *raw = nullptr;
        size_t n = 0;
        struct nicsim_isa_err err = {};
        EXPECT_EQ(nicsim_asm(text.c_str(), &raw, &n, &err), 0) << err.msg;
        std::vector<struct nicsim_isa_insn> dec(n);
        EXPECT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0) << err.msg;
        free(raw);
        struct nicsim_prog_opts po = {};
        po.sz = sizeof(po);
        po.helpers = nicsim_xdp_helpers();
        po.name = "xdp";
        struct nicsim_prog *p = nicsim_prog__load(dec.data(), n, &po, &err);
        EXPECT_NE(p, nullptr) << err.msg;
        progs.push_back(p);
        return p;
    }
    struct nicsim_xdp_result run(const std::string &text)
    {
        struct nicsim_xdp_result r = {};
        struct nicsim_xdp_pkt_in in = {};
        in.data = packet.data();
        in.len = (uint32_t)packet.size();
        in.ingress_ifindex = 5;
        in.rx_queue_index = 1;
        EXPECT_EQ(nicsim_xdp_core__run(core, load(text), &in, &r), 0);
        return r;
    }
};

// Helper-unit ids (enum nicsim_hw_helper).
std::string call(enum nicsim_hw_helper h)
{
    return "call " + std::to_string((int)h) + "\n";
}

// r0 = helper(ctx, delta) for one of the adjust helpers, after an optional adjust_meta.
std::string adjust(enum nicsim_hw_helper h, int delta, int meta_first = 0)
{
    std::string s = "mov %r6, %r1\n";
    if (meta_first)
        s += "mov %r2, " + std::to_string(meta_first) + "\n" + call(NICSIM_HW_ADJUST_META) +
             "mov %r1, %r6\n";
    return s + "mov %r2, " + std::to_string(delta) + "\n" + call(h) + "exit\n";
}

struct GeometryCase {
    enum nicsim_hw_helper helper;
    int delta, meta_first;
    uint32_t packet_len;
    int64_t ret;  // as the kernel returned it
    uint32_t len; // data_end - data afterwards
    uint32_t meta_len;
};

// Measured with BPF_PROG_TEST_RUN on this kernel (see the commit introducing this test).
const GeometryCase kKernelGeometry[] = {
    {NICSIM_HW_ADJUST_HEAD, -216, 0, 64, 0, 280, 0},
    {NICSIM_HW_ADJUST_HEAD, -217, 0, 64, -EINVAL, 64, 0},
    {NICSIM_HW_ADJUST_HEAD, 50, 0, 64, 0, 14, 0},
    {NICSIM_HW_ADJUST_HEAD, 51, 0, 64, -EINVAL, 64, 0},
    {NICSIM_HW_ADJUST_META, -216, 0, 64, 0, 64, 216},
    {NICSIM_HW_ADJUST_META, -220, 0, 64, -EINVAL, 64, 0},
    {NICSIM_HW_ADJUST_META, -4, 0, 64, 0, 64, 4},
    {NICSIM_HW_ADJUST_META, -3, 0, 64, -EACCES, 64, 0},
    {NICSIM_HW_ADJUST_TAIL, 3456, 0, 64, 0, 3520, 0},
    {NICSIM_HW_ADJUST_TAIL, 3457, 0, 64, -EINVAL, 64, 0},
    {NICSIM_HW_ADJUST_TAIL, -50, 0, 64, 0, 14, 0},
    {NICSIM_HW_ADJUST_TAIL, -51, 0, 64, -EINVAL, 64, 0},
    {NICSIM_HW_ADJUST_HEAD, -8, -8, 64, 0, 72, 8},
    {NICSIM_HW_ADJUST_HEAD, -208, -8, 64, 0, 272, 8},
    {NICSIM_HW_ADJUST_HEAD, -209, -8, 64, -EINVAL, 64, 8},
};

TEST(XdpTest, AdjustHelpersMatchTheKernelsLimits)
{
    for (const auto &c : kKernelGeometry) {
        XdpHarness h(c.packet_len);
        auto r = h.run(adjust(c.helper, c.delta, c.meta_first));
        SCOPED_TRACE("helper " + std::to_string(c.helper) + " delta " + std::to_string(c.delta));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ((int64_t)r.r0, c.ret);
        EXPECT_EQ(r.len, c.len);
        EXPECT_EQ(r.meta_len, c.meta_len);
    }
}

TEST(XdpTest, AdjustHeadMovesMetadataWithTheData)
{
    XdpHarness h;
    // meta -4, write 0xaabbccdd into it, then push 10 bytes of header.
    auto r = h.run("mov %r6, %r1\nmov %r2, -4\n" + call(NICSIM_HW_ADJUST_META) +
                   "ldxdw %r2, [%r6+16]\nstw [%r2], 0x11223344\n"
                   "mov %r1, %r6\nmov %r2, -12\n" +
                   call(NICSIM_HW_ADJUST_HEAD) + "ldxdw %r2, [%r6+16]\nldxw %r0, [%r2]\nexit\n");
    ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
    EXPECT_EQ(r.r0, 0x11223344u);
    EXPECT_EQ(r.meta_len, 4u);
    EXPECT_EQ(r.len, 76u);
}

TEST(XdpTest, TailGrowZeroesTheNewBytes)
{
    XdpHarness h;
    auto r = h.run("mov %r2, 16\n" + call(NICSIM_HW_ADJUST_TAIL) + "mov %r0, 2\nexit\n");
    ASSERT_EQ(r.len, 80u);
    for (uint32_t i = 64; i < 80; i++)
        EXPECT_EQ(r.data[i], 0u);
    EXPECT_EQ(memcmp(r.data, h.packet.data(), 64), 0);
}

TEST(XdpTest, DescriptorGivesPointersIfindexAndQueue)
{
    XdpHarness h;
    auto r = h.run("ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nsub %r3, %r2\n"
                   "ldxw %r4, [%r1+24]\nlsh %r4, 16\nor %r3, %r4\n"
                   "ldxw %r4, [%r1+28]\nlsh %r4, 32\nor %r3, %r4\nmov %r0, %r3\nexit\n");
    ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
    EXPECT_EQ(r.r0, 64u | 5u << 16 | 1ull << 32);
}

TEST(XdpTest, PacketReadsBeyondDataEndTrapAndAbort)
{
    XdpHarness h;
    auto r = h.run("mov %r0, 2\nldxdw %r2, [%r1+0]\nldxb %r0, [%r2+64]\nexit\n");
    EXPECT_EQ(r.run.status, NICSIM_RUN_TRAP);
    EXPECT_EQ(r.run.trap.region_kind, NICSIM_RGN_PACKET);
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_ABORTED);
    EXPECT_EQ(r.r0, (uint64_t)NICSIM_XDP_ABORTED) << "no return value: r0 held XDP_PASS";
}

TEST(XdpTest, ContextIsReadOnly)
{
    XdpHarness h;
    auto r = h.run("stw [%r1+24], 9\nmov %r0, 2\nexit\n");
    EXPECT_EQ(r.run.trap.kind, NICSIM_TRAP_READONLY);
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_ABORTED);
}

TEST(XdpTest, UnknownReturnValuesAbortButKeepTheRawValue)
{
    XdpHarness h;
    auto r = h.run("mov %r0, 9\nexit\n");
    EXPECT_EQ(r.r0, 9u);
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_ABORTED);
    EXPECT_STREQ(nicsim_xdp_action_name(9), "XDP_UNKNOWN");
    EXPECT_STREQ(nicsim_xdp_action_name(3), "XDP_TX");
}

TEST(XdpTest, CsumDiffMatchesTheKernel)
{
    // Measured on this kernel: from = buf[0..20), to = buf[20..60), seed 0x1234,
    // buf[j] = j * 37 + 11.
    uint8_t buf[64];
    for (int j = 0; j < 64; j++)
        buf[j] = (uint8_t)(j * 37 + 11);
    EXPECT_EQ(nicsim_csum_diff(buf, 20, buf + 20, 40, 0x1234), 0xb261);
    EXPECT_EQ(nicsim_csum_diff(buf, 3, buf, 4, 0), -EINVAL);
    EXPECT_EQ(nicsim_csum_diff(buf, 256, buf, 260, 0), -EINVAL);
    EXPECT_EQ(nicsim_csum_diff(nullptr, 0, nullptr, 0, 0x4321), 0x4321);
}

TEST(XdpTest, RedirectSetsTheTargetOrAbortsOnFlags)
{
    XdpHarness h;
    auto r = h.run("mov %r1, 9\nmov %r2, 0\n" + call(NICSIM_HW_REDIRECT) + "exit\n");
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_REDIRECT);
    EXPECT_EQ(r.redirect_ifindex, 9u);
    EXPECT_EQ(r.redirect_map_id, -1);
    XdpHarness h2;
    auto bad = h2.run("mov %r1, 9\nmov %r2, 1\n" + call(NICSIM_HW_REDIRECT) + "exit\n");
    EXPECT_EQ(bad.r0, (uint64_t)NICSIM_XDP_ABORTED);
}

TEST(XdpTest, RedirectMapHitsOrReturnsTheFallbackAction)
{
    const std::string handle1 =
        "lddw %r1, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 1, 0)) + "\n";
    XdpHarness hit;
    auto r =
        hit.run(handle1 + "mov %r2, 0\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_REDIRECT);
    EXPECT_EQ(r.redirect_ifindex, 7u);
    EXPECT_EQ(r.redirect_map_id, 1);
    XdpHarness miss;
    auto m =
        miss.run(handle1 + "mov %r2, 3\nmov %r3, 2\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(m.r0, (uint64_t)NICSIM_XDP_PASS) << "lower flag bits are the fallback action";
    XdpHarness bad;
    auto b =
        bad.run(handle1 + "mov %r2, 0\nmov %r3, 64\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(b.r0, (uint64_t)NICSIM_XDP_ABORTED);
}

TEST(XdpTest, MapLookupGivesAPointerIntoTheMapRegion)
{
    XdpHarness h;
    const std::string handle0 =
        "lddw %r1, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE, 0)) + "\n";
    auto r = h.run("stw [%r10-4], 2\n" + handle0 + "mov %r2, %r10\nadd %r2, -4\n" +
                   call(NICSIM_HW_MAP_LOOKUP) +
                   "jeq %r0, 0, miss\nstdw [%r0], 77\nmov %r0, 2\nexit\nmiss:\nmov %r0, 1\nexit\n");
    ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
    EXPECT_EQ(r.r0, 2u);
    uint64_t v;
    memcpy(&v, &h.maps.array[16], 8);
    EXPECT_EQ(v, 77u);
    // 2 memory stalls (map latency 2) on the store, the lookup: handshake 2 + L(array) 3.
    EXPECT_EQ(r.run.stalls.helper, 5u);
    XdpHarness miss;
    auto m = miss.run("stw [%r10-4], 9\n" + handle0 + "mov %r2, %r10\nadd %r2, -4\n" +
                      call(NICSIM_HW_MAP_LOOKUP) + "mov %r0, %r0\nexit\n");
    EXPECT_EQ(m.r0, 0u) << "a miss returns NULL";
}

TEST(XdpTest, MapHelpersFaultOnANonMapHandle)
{
    XdpHarness h;
    auto r = h.run("mov %r1, 12345\nmov %r2, %r10\n" + call(NICSIM_HW_MAP_LOOKUP) + "exit\n");
    EXPECT_EQ(r.run.trap.kind, NICSIM_TRAP_HELPER);
    EXPECT_NE(std::string(r.run.trap.msg).find("map_lookup_elem"), std::string::npos)
        << r.run.trap.msg;
}

TEST(XdpTest, TailCallJumpsToTheProgArrayEntry)
{
    XdpHarness h;
    h.maps.progs[1] = h.load("mov %r0, 3\nexit\n");
    const std::string handle2 =
        "lddw %r2, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 2, 0)) + "\n";
    auto r = h.run(handle2 + "mov %r3, 1\n" + call(NICSIM_HW_TAIL_CALL) + "mov %r0, 1\nexit\n");
    EXPECT_EQ(r.r0, 3u);
    EXPECT_EQ(r.run.tail_calls, 1u);
    XdpHarness empty;
    auto e = empty.run(handle2 + "mov %r3, 2\n" + call(NICSIM_HW_TAIL_CALL) + "mov %r0, 1\nexit\n");
    EXPECT_EQ(e.r0, 1u) << "an empty slot falls through";
}

TEST(XdpTest, EventsCarryDataAndPacketBytes)
{
    XdpHarness h;
    const std::string perf =
        "lddw %r2, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 4, 0)) + "\n";
    // perf_event_output(ctx, map, BPF_F_CURRENT_CPU | 6 << 32, &u64, 8)
    auto r = h.run("stdw [%r10-8], 0x55\n" + perf + "lddw %r3, 0x6ffffffff\n" +
                   "mov %r4, %r10\nadd %r4, -8\nmov %r5, 8\n" + call(NICSIM_HW_PERF_EVENT_OUTPUT) +
                   "exit\n");
    ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
    EXPECT_EQ(r.r0, 0u);
    ASSERT_EQ(h.maps.events.size(), 1u);
    ASSERT_EQ(h.maps.events[0].size(), 14u);
    EXPECT_EQ(h.maps.events[0][0], 0x55u);
    EXPECT_EQ(memcmp(h.maps.events[0].data() + 8, h.packet.data(), 6), 0);
    EXPECT_EQ(h.maps.event_index[0], 2u) << "BPF_F_CURRENT_CPU is the core";
}

TEST(XdpTest, SmpIdPrandomAndKtimeAreDeterministic)
{
    XdpHarness a, b;
    const std::string prog = call(NICSIM_HW_PRANDOM) + "mov %r6, %r0\n" + call(NICSIM_HW_SMP_ID) +
                             "lsh %r0, 32\nor %r0, %r6\nexit\n";
    auto ra = a.run(prog), rb = b.run(prog);
    EXPECT_EQ(ra.r0, rb.r0);
    EXPECT_EQ(ra.r0 >> 32, 2u);
    XdpHarness t;
    nicsim_xdp_core__set_time(t.core, 1000);
    auto rt = t.run("mov %r0, 0\n" + call(NICSIM_HW_KTIME) + "exit\n");
    // 250 MHz: 4 ns per cycle; at the call 1000 + fill 4 + 2 instructions.
    EXPECT_EQ(rt.r0, (1000u + 4u + 2u) * 4u);
}

// ---- datapath ---------------------------------------------------------------------------------

struct DpHarness {
    FakeMaps maps;
    struct nicsim_dp *dp;
    XdpHarness loader; // assembles programs
    DpHarness(uint32_t cores = 4)
    {
        struct nicsim_dp_opts o = {};
        o.sz = sizeof(o);
        o.n_ports = 2;
        o.ports[0] = {10, 1500};
        o.ports[1] = {11, 1500};
        o.n_cores = cores;
        o.maps = &kFakeOps;
        o.maps_ctx = &maps;
        dp = nicsim_dp__new(&o);
    }
    ~DpHarness() { nicsim_dp__free(dp); }
};

TEST(DatapathTest, MacChecksCountErrorsAndSkipTheProgram)
{
    DpHarness h;
    ASSERT_EQ(nicsim_dp__set_prog(h.dp, 0, h.loader.load("mov %r0, 1\nexit\n")), 0);
    std::vector<uint8_t> f(1600, 0);
    struct nicsim_dp_result r;
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 13, 13, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_RUNT);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 1515, 1515, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_OVERSIZE);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 1514, 1514, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_OK);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_DROP);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 100, 200, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_TRUNCATED);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 1, f.data(), 60, 60, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_NO_PROGRAM);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
    const auto *s = nicsim_dp__stats(h.dp);
    EXPECT_EQ(s->rx_packets, 5u);
    EXPECT_EQ(s->rx_errors[NICSIM_DP_ERR_RUNT], 1u);
    EXPECT_EQ(s->rx_errors[NICSIM_DP_ERR_OVERSIZE], 1u);
    EXPECT_EQ(s->verdicts[NICSIM_XDP_DROP], 1u);
}

TEST(DatapathTest, VerdictsChooseTheDestination)
{
    DpHarness h;
    std::vector<uint8_t> f(60, 1);
    struct nicsim_dp_result r;
    nicsim_dp__set_prog(h.dp, 0, h.loader.load("mov %r0, 3\nexit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_PORT);
    EXPECT_EQ(r.egress_port, 0u);
    nicsim_dp__set_prog(
        h.dp, 0, h.loader.load("mov %r1, 11\nmov %r2, 0\n" + call(NICSIM_HW_REDIRECT) + "exit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_PORT);
    EXPECT_EQ(r.egress_port, 1u);
    nicsim_dp__set_prog(
        h.dp, 0, h.loader.load("mov %r1, 99\nmov %r2, 0\n" + call(NICSIM_HW_REDIRECT) + "exit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
    EXPECT_EQ(r.egress_ifindex, 99u);
    nicsim_dp__set_prog(h.dp, 0, h.loader.load("mov %r0, 2\nexit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
}

TEST(DatapathTest, FlowsStickToOneCoreAndQueueBehindEachOther)
{
    DpHarness h;
    nicsim_dp__set_prog(h.dp, 0, h.loader.load("mov %r0, 2\nexit\n"));
    // An IPv4/UDP frame; a second flow differs in source port.
    std::vector<uint8_t> a(60, 0), b;
    a[12] = 0x08;
    a[14] = 0x45;
    a[23] = 17;
    a[26] = 10, a[29] = 1, a[30] = 10, a[33] = 2;
    a[34] = 0x12, a[35] = 0x34, a[36] = 0, a[37] = 53;
    b = a;
    b[35] = 0x35;
    EXPECT_EQ(nicsim_dp_flow_hash(a.data(), 60), nicsim_dp_flow_hash(a.data(), 60));
    EXPECT_NE(nicsim_dp_flow_hash(a.data(), 60), nicsim_dp_flow_hash(b.data(), 60));
    struct nicsim_dp_result r1, r2;
    nicsim_dp__rx(h.dp, 0, a.data(), 60, 60, 0, &r1);
    nicsim_dp__rx(h.dp, 0, a.data(), 60, 60, 0, &r2);
    EXPECT_EQ(r1.core, r2.core);
    EXPECT_EQ(r2.start_cycle, r1.end_cycle) << "back-to-back packets of one flow queue";
    EXPECT_EQ(r1.end_cycle - r1.start_cycle, r1.xdp.run.cycles);
}

} // namespace
