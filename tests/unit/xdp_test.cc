// SPDX-License-Identifier: MIT
// XDP on a core: packet geometry helpers against values measured on the real kernel's
// BPF_PROG_TEST_RUN (Linux 6.18, x86-64), csum_diff, redirects, tail calls, events, the
// descriptor, and the datapath around the cores (MAC checks, dispatch, destinations).
#include <gtest/gtest.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "nicsim/ctrl.h"
#include "nicsim/datapath.h"
#include "nicsim/system.h"
#include "nicsim/xdp.h"

namespace
{

// A fake map unit: map 0 = array of u64 (4 entries), map 1 = devmap {0 -> 7}, map 2 = prog
// array, map 3 = ring buffer, map 4 = perf event array, map 5 = array of one 70,000-byte value
// (a source and destination larger than any packet), map 6 = per-CPU array of u64 (2 entries,
// 4 CPUs: element stride 32, CPU c's slice at c * 8), map 7 = cpumap of 4 host CPUs with
// entries for CPUs 1 and 3.
constexpr uint32_t kBigValue = 70000;
constexpr uint32_t kNumMaps = 8;
struct FakeMaps {
    std::vector<uint8_t> array = std::vector<uint8_t>(32, 0);
    std::vector<uint8_t> big = std::vector<uint8_t>(kBigValue, 0);
    std::vector<uint8_t> percpu = std::vector<uint8_t>(64, 0);
    const struct nicsim_prog *progs[4] = {};
    std::vector<std::vector<uint8_t>> events;
    std::vector<uint64_t> event_index;
    int event_refusal = 0; // what event_output answers instead of taking the record

    static int info(void *ctx, uint32_t id, struct nicsim_xdp_map_info *mi)
    {
        static const struct nicsim_xdp_map_info infos[] = {
            {2, 4, 8, 4},
            {BPF_MAP_TYPE_DEVMAP, 4, 4, 4},
            {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4},
            {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096},
            {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2},
            {2, 4, kBigValue, 1},
            {6, 4, 8, 2},
            {BPF_MAP_TYPE_CPUMAP, 4, 8, 4},
        };
        if (id >= kNumMaps)
            return -ENOENT;
        *mi = infos[id];
        return 0;
    }
    static int lookup(void *ctx, uint32_t id, uint32_t cpu, const void *key, uint32_t *off)
    {
        uint32_t k;
        memcpy(&k, key, 4);
        if (id == 5 && k == 0) {
            *off = 0;
            return 0;
        }
        if (id == 6 && k < 2) {
            *off = k * 32 + cpu * 8;
            return 0;
        }
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
        if (id == 7 && (key == 1 || key == 3)) {
            *ifindex = key; // cpumap: the host CPU
            return 0;
        }
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
        if (m->event_refusal)
            return m->event_refusal;
        m->events.emplace_back(p, p + size);
        m->event_index.push_back(index);
        return 0;
    }
};

const struct nicsim_xdp_map_ops kFakeOps = {
    FakeMaps::info,       FakeMaps::lookup,         FakeMaps::update,       FakeMaps::remove,
    FakeMaps::devmap_get, FakeMaps::prog_array_get, FakeMaps::event_output, nullptr};

struct XdpHarness {
    FakeMaps maps;
    struct nicsim_xdp_core *core = nullptr;
    std::vector<struct nicsim_prog *> progs;
    std::vector<uint8_t> packet;
    // Map regions granted to the programs load() makes (default: every fake map).
    std::vector<uint32_t> grants;

    XdpHarness(uint32_t len = 64)
    {
        struct nicsim_xdp_core_opts o = {};
        o.sz = sizeof(o);
        o.core_id = 2;
        o.seed = 1;
        o.maps = &kFakeOps;
        o.maps_ctx = &maps;
        core = nicsim_xdp_core__new(&o);
        struct nicsim_xdp_map_mem a = {};
        a.sz = sizeof(a);
        a.mem = maps.array.data();
        a.len = (uint32_t)maps.array.size();
        a.writable = 1;
        a.latency = 2;
        a.value_size = 8;
        a.stride = 8;
        EXPECT_EQ(nicsim_xdp_core__map_values(core, 0, &a), 0);
        for (uint32_t id = 1; id < 5; id++)
            nicsim_xdp_core__map_map(core, id, nullptr, 0, 0, 2);
        nicsim_xdp_core__map_map(core, 5, maps.big.data(), kBigValue, 1, 2);
        struct nicsim_xdp_map_mem pc = {};
        pc.sz = sizeof(pc);
        pc.mem = maps.percpu.data();
        pc.len = (uint32_t)maps.percpu.size();
        pc.writable = 1;
        pc.latency = 2;
        pc.value_size = 8;
        pc.stride = 32;
        pc.slice = 8;
        EXPECT_EQ(nicsim_xdp_core__map_values(core, 6, &pc), 0);
        nicsim_xdp_core__map_map(core, 7, nullptr, 0, 0, 2);
        for (uint32_t id = 0; id < kNumMaps; id++)
            grants.push_back(NICSIM_MAP_REGION_BASE + id);
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
        struct nicsim_msg err = {};
        EXPECT_EQ(nicsim_asm(text.c_str(), &raw, &n, &err), 0) << err.msg;
        std::vector<struct nicsim_isa_insn> dec(n);
        EXPECT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0) << err.msg;
        free(raw);
        struct nicsim_prog_opts po = {};
        po.sz = sizeof(po);
        po.helpers = nicsim_xdp_helpers();
        po.name = "xdp";
        po.regions = grants.data();
        po.n_regions = (uint32_t)grants.size();
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

// The descriptor takes stores (the driver emits one kind: an offloaded program's write to
// rx_queue_index, the only context write the verifier admits); the value the program leaves
// there is the host queue of the result. Its bounds still hold.
TEST(XdpTest, RxQueueIndexTheProgramWritesIsTheResultsQueue)
{
    XdpHarness h;
    auto r = h.run("ldxw %r0, [%r1+28]\nstw [%r1+28], 9\nmov %r0, 2\nexit\n");
    EXPECT_EQ(r.run.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_PASS);
    EXPECT_EQ(r.rx_queue, 9u);
    auto same = h.run("mov %r0, 2\nexit\n");
    EXPECT_EQ(same.rx_queue, 1u); // not written: the queue it came in on
    auto out = h.run("stw [%r1+40], 9\nmov %r0, 2\nexit\n");
    EXPECT_EQ(out.run.trap.kind, NICSIM_TRAP_BOUNDS);
    EXPECT_EQ(out.action, (uint32_t)NICSIM_XDP_ABORTED);
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

TEST(XdpTest, RedirectIntoACpumapNamesTheHostCpuOrReturnsTheFallbackAction)
{
    const std::string handle7 =
        "lddw %r1, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 7, 0)) + "\n";
    XdpHarness hit;
    auto r =
        hit.run(handle7 + "mov %r2, 3\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_REDIRECT);
    EXPECT_EQ(r.redirect_cpu, 3);
    EXPECT_EQ(r.redirect_ifindex, 0u);
    EXPECT_EQ(r.redirect_map_id, 7);
    EXPECT_EQ(r.redirect_key, 3u);
    XdpHarness miss; // no entry for CPU 2: the flags' low bits, XDP_ABORTED by default
    auto m =
        miss.run(handle7 + "mov %r2, 2\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(m.r0, (uint64_t)NICSIM_XDP_ABORTED);
    EXPECT_EQ(m.run.status, NICSIM_RUN_OK);
    EXPECT_EQ(m.redirect_cpu, -1);
    auto p =
        miss.run(handle7 + "mov %r2, 9\nmov %r3, 2\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(p.r0, (uint64_t)NICSIM_XDP_PASS);
    // cpu_map_redirect has no flag mask: BPF_F_BROADCAST is XDP_ABORTED, not a fault
    auto bc =
        miss.run(handle7 + "mov %r2, 1\nmov %r3, 8\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(bc.r0, (uint64_t)NICSIM_XDP_ABORTED);
    EXPECT_EQ(bc.run.status, NICSIM_RUN_OK);
    // a hit then a miss: the miss clears the target, as the kernel's redirect info
    auto hm =
        miss.run(handle7 + "mov %r2, 1\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + handle7 +
                 "mov %r2, 2\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + "mov %r0, 4\nexit\n");
    EXPECT_EQ(hm.action, (uint32_t)NICSIM_XDP_REDIRECT);
    EXPECT_EQ(hm.redirect_cpu, -1);
    EXPECT_EQ(hm.redirect_map_id, -1);
    // a devmap redirect after a cpumap one on the same core names no CPU
    auto d = miss.run("lddw %r1, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 1, 0)) +
                      "\nmov %r2, 0\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) + "exit\n");
    EXPECT_EQ(d.redirect_cpu, -1);
    EXPECT_EQ(d.redirect_ifindex, 7u);
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

// ---- every helper at the largest packet geometry ------------------------------------------------
// The packet is grown to the XDP buffer's limits before the helper runs: the tail to the
// 3,520-byte data limit, then the head down to the 40-byte frame header (3,736 bytes of data), or
// the metadata to its maximum, or both. Run under the ASan build, a helper that copies past its
// destination's real capacity fails here.

struct Geometry {
    const char *name;
    int meta, head; // adjust_meta / adjust_head deltas after the tail is grown
    uint32_t len, meta_len;
};
const Geometry kLargest[] = {
    {"head -216", 0, -216, 3736, 0},
    {"meta -216", -216, 0, 3520, 216},
    {"meta -8, head -208", -8, -208, 3728, 8},
};

std::string num(int64_t v)
{
    return std::to_string(v);
}

std::string map_addr(uint32_t id, uint32_t off = 0)
{
    return std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + id, off));
}

// r6 = ctx, the packet at geometry g; r7 = data, r8 = data_end; then `body` (which exits).
// A failed adjustment exits with 99.
std::string largest(const Geometry &g, const std::string &body)
{
    std::string s =
        "mov %r6, %r1\nmov %r2, 3456\n" + call(NICSIM_HW_ADJUST_TAIL) + "jne %r0, 0, bad\n";
    if (g.meta)
        s += "mov %r1, %r6\nmov %r2, " + num(g.meta) + "\n" + call(NICSIM_HW_ADJUST_META) +
             "jne %r0, 0, bad\n";
    if (g.head)
        s += "mov %r1, %r6\nmov %r2, " + num(g.head) + "\n" + call(NICSIM_HW_ADJUST_HEAD) +
             "jne %r0, 0, bad\n";
    return s + "ldxdw %r7, [%r6+0]\nldxdw %r8, [%r6+8]\n" + body + "bad:\nmov %r0, 99\nexit\n";
}

TEST(XdpLargestGeometryTest, TheGeometryIsTheBuffersLimit)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        XdpHarness h;
        auto r = h.run(largest(g, "mov %r1, %r6\n" + call(NICSIM_HW_GET_BUFF_LEN) + "exit\n"));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.r0, g.len);
        EXPECT_EQ(r.len, g.len);
        EXPECT_EQ(r.meta_len, g.meta_len);
        // nothing more fits: head, meta and tail all refuse one more byte
        XdpHarness m;
        auto more = m.run(largest(g, "mov %r1, %r6\nmov %r2, -4\n" + call(NICSIM_HW_ADJUST_HEAD) +
                                         "mov %r9, %r0\nmov %r1, %r6\nmov %r2, 1\n" +
                                         call(NICSIM_HW_ADJUST_TAIL) +
                                         "or %r9, %r0\n"
                                         "mov %r1, %r6\nmov %r2, -4\n" +
                                         call(NICSIM_HW_ADJUST_META) +
                                         "or %r9, %r0\n"
                                         "mov %r0, %r9\nexit\n"));
        ASSERT_EQ(more.run.status, NICSIM_RUN_OK) << more.run.trap.msg;
        EXPECT_EQ((int64_t)more.r0, -EINVAL) << "all three refuse";
        EXPECT_EQ(more.len, g.len);
    }
}

TEST(XdpLargestGeometryTest, LoadAndStoreBytesCopyTheWholePacketAndNoMore)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        for (bool store : {false, true}) {
            auto h = std::make_unique<XdpHarness>();
            for (uint32_t i = 0; i < kBigValue; i++)
                h->maps.big[i] = (uint8_t)(i * 7 + 3);
            std::vector<uint8_t> before = h->maps.big;
            auto helper = store ? NICSIM_HW_STORE_BYTES : NICSIM_HW_LOAD_BYTES;
            auto body = [&](uint32_t off, uint32_t len) {
                return largest(g, "mov %r1, %r6\nmov %r2, " + num(off) + "\nlddw %r3, " +
                                      map_addr(5) + "\nmov %r4, " + num(len) + "\n" + call(helper) +
                                      "exit\n");
            };
            auto r = h->run(body(0, g.len));
            ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
            EXPECT_EQ(r.r0, 0u);
            ASSERT_EQ(r.len, g.len);
            EXPECT_EQ(memcmp(r.data, h->maps.big.data(), g.len), 0);
            if (store) {
                EXPECT_EQ(memcmp(r.data, before.data(), g.len), 0) << "the packet is the value";
            }
            // one byte more, from the start or at an offset: refused, nothing copied
            XdpHarness h2;
            for (auto [off, len] : {std::pair<uint32_t, uint32_t>{0, g.len + 1},
                                    {1, g.len},
                                    {g.len, 1},
                                    {0xffff, 0xffff}}) {
                auto bad = h2.run(body(off, len));
                ASSERT_EQ(bad.run.status, NICSIM_RUN_OK) << bad.run.trap.msg;
                EXPECT_EQ((int64_t)bad.r0, -EINVAL) << off << "+" << len;
            }
            EXPECT_TRUE(std::all_of(h2.maps.big.begin(), h2.maps.big.end(),
                                    [](uint8_t b) { return b == 0; }));
        }
    }
}

TEST(XdpLargestGeometryTest, PerfEventOutputTakesAnySizeTheRecordHolds)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        auto out = [&](const std::string &data, uint64_t size, uint64_t ctxlen) {
            return largest(g, "mov %r1, %r6\nlddw %r2, " + map_addr(4) + "\nlddw %r3, " +
                                  std::to_string(ctxlen << 32 | 0xffffffffull) + "\n" + data +
                                  "mov %r5, " + num((int64_t)size) + "\n" +
                                  call(NICSIM_HW_PERF_EVENT_OUTPUT) + "exit\n");
        };
        // 512 bytes of stack and the whole packet: the case that overflowed a host buffer
        XdpHarness h;
        auto r = h.run("stdw [%r10-512], 0x1234\nstdw [%r10-8], 0x5678\n" +
                       out("mov %r4, %r10\nadd %r4, -512\n", 512, g.len));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.r0, 0u);
        ASSERT_EQ(h.maps.events.size(), 1u);
        ASSERT_EQ(h.maps.events[0].size(), 512u + g.len);
        EXPECT_EQ(h.maps.events[0][0], 0x34u);
        EXPECT_EQ(h.maps.events[0][504], 0x78u);
        EXPECT_EQ(memcmp(h.maps.events[0].data() + 512, r.data, g.len), 0);

        // no 512-byte cap on size: the largest record a perf sample holds, from a map value
        XdpHarness big;
        for (uint32_t i = 0; i < kBigValue; i++)
            big.maps.big[i] = (uint8_t)(i * 13 + 5);
        const std::string from_map = "lddw %r4, " + map_addr(5) + "\n";
        uint32_t most = NICSIM_XDP_PERF_MAX_RAW - g.len;
        auto b = big.run(out(from_map, most, g.len));
        ASSERT_EQ(b.run.status, NICSIM_RUN_OK) << b.run.trap.msg;
        EXPECT_EQ(b.r0, 0u);
        ASSERT_EQ(big.maps.events.size(), 1u);
        ASSERT_EQ(big.maps.events[0].size(), NICSIM_XDP_PERF_MAX_RAW);
        EXPECT_EQ(memcmp(big.maps.events[0].data(), big.maps.big.data(), most), 0);
        EXPECT_EQ(memcmp(big.maps.events[0].data() + most, b.data, g.len), 0);

        // one byte more than a perf record holds: -E2BIG, nothing sent
        XdpHarness over;
        auto o = over.run(out(from_map, most + 1, g.len));
        ASSERT_EQ(o.run.status, NICSIM_RUN_OK) << o.run.trap.msg;
        EXPECT_EQ((int64_t)o.r0, -E2BIG);
        auto o2 = over.run(out(from_map, kBigValue, 0));
        EXPECT_EQ((int64_t)o2.r0, -E2BIG);
        EXPECT_TRUE(over.maps.events.empty());

        // more packet than there is: -EFAULT, as bpf_xdp_event_output
        XdpHarness past;
        auto p = past.run(out(from_map, 8, g.len + 1));
        EXPECT_EQ((int64_t)p.r0, -EFAULT);
        EXPECT_TRUE(past.maps.events.empty());

        // a data size past the readable memory traps instead of reading it
        XdpHarness unread;
        auto u = unread.run(out(from_map, kBigValue + 1, 0));
        EXPECT_EQ(u.run.trap.kind, NICSIM_TRAP_HELPER);
        EXPECT_TRUE(unread.maps.events.empty());
    }
}

TEST(XdpLargestGeometryTest, RingbufOutputSendsThePacketAndTrapsPastIt)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        auto out = [&](uint32_t size) {
            return largest(g, "lddw %r1, " + map_addr(3) + "\nmov %r2, %r7\nmov %r3, " + num(size) +
                                  "\nmov %r4, 0\n" + call(NICSIM_HW_RINGBUF_OUTPUT) + "exit\n");
        };
        XdpHarness h;
        auto r = h.run(out(g.len));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.r0, 0u);
        ASSERT_EQ(h.maps.events.size(), 1u);
        ASSERT_EQ(h.maps.events[0].size(), g.len);
        EXPECT_EQ(memcmp(h.maps.events[0].data(), r.data, g.len), 0);
        XdpHarness past;
        auto p = past.run(out(g.len + 1));
        EXPECT_EQ(p.run.trap.kind, NICSIM_TRAP_HELPER) << "data past data_end is not readable";
        EXPECT_TRUE(past.maps.events.empty());
    }
}

TEST(XdpLargestGeometryTest, CsumDiffReadsAtTheEndsOfThePacket)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        auto diff = [&](int64_t from_size, int64_t to_size) {
            return largest(g, "mov %r1, %r8\nadd %r1, -256\nmov %r2, " + num(from_size) +
                                  "\nmov %r3, %r7\nmov %r4, " + num(to_size) +
                                  "\nmov %r5, 0x1234\n" + call(NICSIM_HW_CSUM_DIFF) + "exit\n");
        };
        XdpHarness h;
        // give the packet some non-zero bytes at both ends first
        auto r = h.run(largest(g, "stdw [%r7], 0x11223344\nstdw [%r8-8], 0x55667788\n"
                                  "mov %r1, %r8\nadd %r1, -256\nmov %r2, 256\nmov %r3, %r7\n"
                                  "mov %r4, 256\nmov %r5, 0x1234\n" +
                                      call(NICSIM_HW_CSUM_DIFF) + "exit\n"));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ((int64_t)r.r0, nicsim_csum_diff(r.data + g.len - 256, 256, r.data, 256, 0x1234));
        XdpHarness bad;
        for (auto [f, t] : {std::pair<int64_t, int64_t>{256, 260}, {-4, 4}, {4, -4}, {2, 4}}) {
            auto b = bad.run(diff(f, t));
            ASSERT_EQ(b.run.status, NICSIM_RUN_OK) << b.run.trap.msg;
            EXPECT_EQ((int64_t)b.r0, -EINVAL) << f << " " << t;
        }
    }
}

TEST(XdpLargestGeometryTest, AdjustHeadMovesMaximalMetadataIntact)
{
    for (const auto &g : kLargest) {
        if (!g.meta_len)
            continue;
        SCOPED_TRACE(g.name);
        XdpHarness h;
        // mark the metadata's first and last words, then pull the head to 14 bytes of data
        auto r =
            h.run(largest(g, "ldxdw %r1, [%r6+16]\nstw [%r1], 0x0a0b0c0d\n"
                             "stw [%r7-4], 0x01020304\nmov %r1, %r6\nmov %r2, " +
                                 num(g.len - 14) + "\n" + call(NICSIM_HW_ADJUST_HEAD) + "exit\n"));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.r0, 0u);
        EXPECT_EQ(r.len, 14u);
        ASSERT_EQ(r.meta_len, g.meta_len);
        uint32_t first, last;
        memcpy(&first, r.meta, 4);
        memcpy(&last, r.meta + r.meta_len - 4, 4);
        EXPECT_EQ(first, 0x0a0b0c0du);
        EXPECT_EQ(last, 0x01020304u);
    }
}

TEST(XdpLargestGeometryTest, MapHelpersTakeKeysAndValuesAtThePacketsEnd)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        const std::string map0 = "lddw %r1, " + map_addr(0) + "\n";
        XdpHarness h;
        // key 0 in [end - 12, end - 8), value in [end - 8, end)
        auto r = h.run(largest(g, "stw [%r8-12], 0\nstdw [%r8-8], 0x02030405\n" + map0 +
                                      "mov %r2, %r8\nadd %r2, -12\nmov %r3, %r8\nadd %r3, -8\n"
                                      "mov %r4, 0\n" +
                                      call(NICSIM_HW_MAP_UPDATE) + "jne %r0, 0, bad\n" + map0 +
                                      "mov %r2, %r8\nadd %r2, -12\n" + call(NICSIM_HW_MAP_LOOKUP) +
                                      "jeq %r0, 0, bad\nldxdw %r0, [%r0]\nexit\n"));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.r0, 0x02030405u);
        // a value or key that reaches past data_end traps, nothing is read
        for (const std::string &body :
             {map0 + "mov %r2, %r8\nadd %r2, -12\nmov %r3, %r8\nadd %r3, -7\nmov %r4, 0\n" +
                  call(NICSIM_HW_MAP_UPDATE) + "exit\n",
              map0 + "mov %r2, %r8\nadd %r2, -3\n" + call(NICSIM_HW_MAP_LOOKUP) + "exit\n",
              map0 + "mov %r2, %r8\nadd %r2, -3\n" + call(NICSIM_HW_MAP_DELETE) + "exit\n"}) {
            XdpHarness t;
            auto b = t.run(largest(g, body));
            EXPECT_EQ(b.run.trap.kind, NICSIM_TRAP_HELPER) << body;
        }
    }
}

TEST(XdpLargestGeometryTest, OtherHelpersLeaveTheLargestPacketAlone)
{
    for (const auto &g : kLargest) {
        SCOPED_TRACE(g.name);
        XdpHarness h;
        h.maps.progs[0] = h.load("ldxdw %r2, [%r1+8]\nldxdw %r1, [%r1+0]\nsub %r2, %r1\n"
                                 "mov %r0, %r2\nexit\n");
        auto r = h.run(largest(g, call(NICSIM_HW_KTIME) + call(NICSIM_HW_PRANDOM) +
                                      call(NICSIM_HW_SMP_ID) + "mov %r1, 9\nmov %r2, 0\n" +
                                      call(NICSIM_HW_REDIRECT) + "lddw %r1, " + map_addr(1) +
                                      "\nmov %r2, 0\nmov %r3, 0\n" + call(NICSIM_HW_REDIRECT_MAP) +
                                      "mov %r1, %r6\nlddw %r2, " + map_addr(2) + "\nmov %r3, 0\n" +
                                      call(NICSIM_HW_TAIL_CALL) + "exit\n"));
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ(r.run.tail_calls, 1u);
        EXPECT_EQ(r.r0, g.len) << "the tail-call target sees the whole packet";
        EXPECT_EQ(r.len, g.len);
        EXPECT_EQ(r.meta_len, g.meta_len);
    }
}

TEST(XdpTest, RingbufOutputReportsEveryRefusalAsNoRoom)
{
    const std::string out = "ldxdw %r2, [%r1+0]\nlddw %r1, " + map_addr(3) +
                            "\nmov %r3, 16\nmov %r4, 0\n" + call(NICSIM_HW_RINGBUF_OUTPUT) +
                            "exit\n";
    for (int refusal : {-ENOSPC, -E2BIG, -EAGAIN}) {
        XdpHarness h;
        h.maps.event_refusal = refusal;
        auto r = h.run(out);
        ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
        EXPECT_EQ((int64_t)r.r0, -EAGAIN) << "bpf_ringbuf_output knows one failure";
    }
    XdpHarness bad;
    auto f = bad.run("ldxdw %r2, [%r1+0]\nlddw %r1, " + map_addr(3) +
                     "\nmov %r3, 16\nmov %r4, 4\n" + call(NICSIM_HW_RINGBUF_OUTPUT) + "exit\n");
    EXPECT_EQ((int64_t)f.r0, -EINVAL) << "unknown flags";
}

TEST(XdpTest, MapValuesRefusesAWindowPastTheElement)
{
    XdpHarness h; // core 2
    std::vector<uint8_t> mem(64);
    struct nicsim_xdp_map_mem m = {};
    m.sz = sizeof(m);
    m.mem = mem.data();
    m.len = 64;
    m.writable = 1;
    m.value_size = 8;
    m.stride = 16;
    m.slice = 8; // core 2's slice would be [16, 24) of a 16-byte element
    EXPECT_EQ(nicsim_xdp_core__map_values(h.core, 9, &m), -EINVAL);
    m.slice = 4; // [8, 16)
    EXPECT_EQ(nicsim_xdp_core__map_values(h.core, 9, &m), 0);
    m.sz = 8;
    EXPECT_EQ(nicsim_xdp_core__map_values(h.core, 9, &m), -EINVAL) << "opts size checked";
}

// ---- map isolation and per-value bounds --------------------------------------------------------

TEST(XdpIsolationTest, AnotherProgramsMapTrapsInsteadOfBeingRead)
{
    XdpHarness h;
    h.maps.big[0] = 42;
    h.grants = {NICSIM_MAP_REGION_BASE + 0};
    // a raw 64-bit immediate that is map 5's address: not in this program's table
    auto r = h.run("lddw %r1, " + map_addr(5) + "\nldxb %r0, [%r1]\nexit\n");
    ASSERT_EQ(r.run.status, NICSIM_RUN_TRAP);
    EXPECT_EQ(r.run.trap.kind, NICSIM_TRAP_UNMAPPED);
    EXPECT_EQ(r.run.trap.addr, nicsim_addr(NICSIM_MAP_REGION_BASE + 5, 0));
    EXPECT_NE(std::string(r.run.trap.msg).find("not granted"), std::string::npos) << r.run.trap.msg;
    EXPECT_EQ(r.action, (uint32_t)NICSIM_XDP_ABORTED);
    // stores and helpers alike
    auto w = h.run("lddw %r1, " + map_addr(5) + "\nstb [%r1], 7\nmov %r0, 2\nexit\n");
    EXPECT_EQ(w.run.trap.kind, NICSIM_TRAP_UNMAPPED);
    EXPECT_EQ(h.maps.big[0], 42u);
    auto l = h.run("stw [%r10-4], 0\nlddw %r1, " + map_addr(5) + "\nmov %r2, %r10\nadd %r2, -4\n" +
                   call(NICSIM_HW_MAP_LOOKUP) + "exit\n");
    EXPECT_EQ(l.run.trap.kind, NICSIM_TRAP_HELPER) << "r1 is not one of its maps";
    auto ld = h.run("mov %r1, %r1\nmov %r2, 0\nlddw %r3, " + map_addr(5) + "\nmov %r4, 4\n" +
                    call(NICSIM_HW_LOAD_BYTES) + "exit\n");
    EXPECT_EQ(ld.run.trap.kind, NICSIM_TRAP_HELPER) << "helper memory arguments too";
    // its own map is there
    auto own = h.run("lddw %r1, " + map_addr(0) + "\nldxdw %r0, [%r1+8]\nexit\n");
    EXPECT_EQ(own.run.status, NICSIM_RUN_OK) << own.run.trap.msg;
}

TEST(XdpIsolationTest, ATailCallRunsWithTheTargetsOwnMaps)
{
    XdpHarness h;
    h.maps.array[8] = 5;
    h.grants = {NICSIM_MAP_REGION_BASE + 0};
    struct nicsim_prog *target =
        h.load("lddw %r1, " + map_addr(0) + "\nldxdw %r0, [%r1+8]\nexit\n");
    h.maps.progs[1] = target;
    h.grants = {NICSIM_MAP_REGION_BASE + 2}; // the caller: its prog array only
    const std::string tail = "lddw %r2, " + map_addr(2) + "\nmov %r3, 1\n" +
                             call(NICSIM_HW_TAIL_CALL) + "mov %r0, 1\nexit\n";
    auto r = h.run(tail);
    ASSERT_EQ(r.run.status, NICSIM_RUN_OK) << r.run.trap.msg;
    EXPECT_EQ(r.r0, 5u) << "the target reads its own map";
    // the caller itself (before and after the target ran on this core) cannot
    for (int i = 0; i < 2; i++) {
        auto c = h.run("lddw %r1, " + map_addr(0) + "\nldxdw %r0, [%r1+8]\nexit\n");
        EXPECT_EQ(c.run.trap.kind, NICSIM_TRAP_UNMAPPED);
    }
    // nor can the target reach the caller's prog array
    h.grants = {NICSIM_MAP_REGION_BASE + 0};
    h.maps.progs[1] = h.load("lddw %r2, " + map_addr(2) + "\nmov %r3, 1\n" +
                             call(NICSIM_HW_TAIL_CALL) + "mov %r0, 1\nexit\n");
    h.grants = {NICSIM_MAP_REGION_BASE + 2};
    auto t = h.run(tail);
    EXPECT_EQ(t.run.trap.kind, NICSIM_TRAP_HELPER) << t.run.trap.msg;
}

TEST(XdpIsolationTest, MapAccessesStayInsideOneValue)
{
    XdpHarness h;
    // array of u64: a load across two values traps, a load inside one does not
    auto ok = h.run("lddw %r1, " + map_addr(0) + "\nldxdw %r0, [%r1+24]\nexit\n");
    EXPECT_EQ(ok.run.status, NICSIM_RUN_OK) << ok.run.trap.msg;
    auto across = h.run("lddw %r1, " + map_addr(0) + "\nldxdw %r0, [%r1+4]\nexit\n");
    EXPECT_EQ(across.run.trap.kind, NICSIM_TRAP_BOUNDS) << "would read two values";
    // per-CPU array on core 2: only bytes [16, 24) of each 32-byte element
    h.maps.percpu[16] = 0x21;
    h.maps.percpu[48] = 0x22;
    auto mine = h.run("lddw %r1, " + map_addr(6) +
                      "\nldxb %r0, [%r1+16]\nldxb %r2, [%r1+48]\n"
                      "lsh %r2, 8\nor %r0, %r2\nexit\n");
    ASSERT_EQ(mine.run.status, NICSIM_RUN_OK) << mine.run.trap.msg;
    EXPECT_EQ(mine.r0, 0x2221u);
    for (const char *access : {"ldxb %r0, [%r1+8]", "ldxdw %r0, [%r1+20]", "stb [%r1+24], 1",
                               "ldxw %r0, [%r1+0]", "ldxb %r0, [%r1+56]"}) {
        auto r = h.run("lddw %r1, " + map_addr(6) + "\n" + access + "\nmov %r0, 0\nexit\n");
        EXPECT_EQ(r.run.trap.kind, NICSIM_TRAP_BOUNDS) << access;
        EXPECT_NE(std::string(r.run.trap.msg).find("element"), std::string::npos) << r.run.trap.msg;
    }
    // the lookup gives this core's slice, which is accessible
    auto l = h.run("stw [%r10-4], 1\nlddw %r1, " + map_addr(6) + "\nmov %r2, %r10\nadd %r2, -4\n" +
                   call(NICSIM_HW_MAP_LOOKUP) +
                   "jeq %r0, 0, miss\nldxdw %r0, [%r0]\nexit\n"
                   "miss:\nmov %r0, 99\nexit\n");
    ASSERT_EQ(l.run.status, NICSIM_RUN_OK) << l.run.trap.msg;
    EXPECT_EQ(l.r0, 0x22u);
    // a helper's memory argument is held to the same window
    auto u = h.run("stw [%r10-4], 1\nlddw %r1, " + map_addr(0) +
                   "\nmov %r2, %r10\nadd %r2, -4\n"
                   "lddw %r3, " +
                   map_addr(6, 20) + "\nmov %r4, 0\n" + call(NICSIM_HW_MAP_UPDATE) + "exit\n");
    EXPECT_EQ(u.run.trap.kind, NICSIM_TRAP_HELPER);
}

// ---- the same through the firmware: images, the image loader, the assembled NIC ----------------

constexpr uint64_t kMapMarker = 0x7e00000000ull; // "lddw %rX, kMapMarker + id": map id's handle

struct SysHarness {
    struct nicsim_sys *sys = nullptr;
    struct nicsim_ctrl *ctrl = nullptr;
    char err[256] = {};
    SysHarness()
    {
        struct nicsim_sys_opts o = {};
        o.sz = sizeof(o);
        o.n_cores = 2;
        sys = nicsim_sys__new(&o, err, sizeof(err));
        EXPECT_NE(sys, nullptr) << err;
        ctrl = nicsim_sys__ctrl(sys);
    }
    ~SysHarness() { nicsim_sys__free(sys); }
    uint32_t map(uint32_t type, uint32_t key, uint32_t value, uint32_t n)
    {
        uint32_t id = 0;
        EXPECT_EQ(nicsim_ctrl__map_alloc(ctrl, type, key, value, n, 0, &id), 0)
            << nicsim_ctrl__last_error(ctrl);
        return id;
    }
    // A NIC image of `text` whose map table is `maps`; LDDWs of kMapMarker + id become map
    // handle references (LDDW MAP_IDX), every other LDDW stays a raw 64-bit immediate.
    uint32_t load(const std::string &text, const std::vector<uint32_t> &maps)
    {
        struct nicsim_insn *raw = nullptr;
        size_t n = 0;
        struct nicsim_msg e = {};
        EXPECT_EQ(nicsim_asm(text.c_str(), &raw, &n, &e), 0) << e.msg;
        for (size_t i = 0; i + 1 < n; i++) {
            uint64_t v = (uint32_t)raw[i].imm | (uint64_t)(uint32_t)raw[i + 1].imm << 32;
            if (raw[i].code != 0x18 || (v & ~0xffffull) != kMapMarker)
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
        memcpy(h.name, "isolation", 9);
        std::vector<uint8_t> img(sizeof(h) + 4 * maps.size() + 8 * n);
        nicsim_img_hdr_put(img.data(), &h);
        for (size_t i = 0; i < maps.size(); i++)
            nicsim_put_le32(img.data(), sizeof(h) + 4 * i, maps[i]);
        for (size_t i = 0; i < n; i++)
            nicsim_img_slot_put(img.data() + sizeof(h) + 4 * maps.size() + 8 * i, &raw[i]);
        free(raw);
        uint32_t id = 0;
        EXPECT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &id), 0)
            << nicsim_ctrl__last_error(ctrl);
        return id;
    }
    struct nicsim_dp_result rx(uint32_t prog_id, uint32_t len = 1200, uint8_t flow = 0)
    {
        EXPECT_EQ(nicsim_ctrl__xdp_attach(ctrl, 0, prog_id, 0, nullptr), 0)
            << nicsim_ctrl__last_error(ctrl);
        std::vector<uint8_t> f(len, 0);
        f[0] = flow;
        struct nicsim_dp_result r = {};
        EXPECT_EQ(nicsim_sys__rx(sys, 0, f.data(), len, len, 0, &r), 0);
        return r;
    }
};

std::string handle(uint32_t id)
{
    return std::to_string(kMapMarker + id);
}

TEST(XdpSystemTest, AnImageReachesOnlyTheMapsOfItsMapTable)
{
    SysHarness s;
    uint32_t mine = s.map(2, 4, 8, 1), theirs = s.map(2, 4, 8, 1);
    uint32_t key = 0;
    uint64_t secret = 0x5ec1e7;
    ASSERT_EQ(nicsim_ctrl__map_update(s.ctrl, theirs, &key, &secret, 0), 0);
    // the owner of `theirs` reads it
    uint32_t owner =
        s.load("stw [%r10-4], 0\nlddw %r1, " + handle(theirs) + "\nmov %r2, %r10\nadd %r2, -4\n" +
                   call(NICSIM_HW_MAP_LOOKUP) +
                   "jeq %r0, 0, miss\nldxdw %r0, [%r0]\nexit\nmiss:\nmov %r0, 1\nexit\n",
               {theirs});
    auto o = s.rx(owner);
    ASSERT_EQ(o.xdp.run.status, NICSIM_RUN_OK) << o.xdp.run.trap.msg;
    EXPECT_EQ(o.xdp.r0, secret);
    // another program, whose table lists only `mine`, forms the address of `theirs` with a raw
    // 64-bit immediate (the address the owner's lookup returned)
    uint64_t addr = nicsim_addr(NICSIM_MAP_REGION_BASE + theirs, 0);
    uint32_t thief = s.load("lddw %r1, " + handle(mine) + "\nlddw %r2, " + std::to_string(addr) +
                                "\nldxdw %r0, [%r2]\nexit\n",
                            {mine});
    for (int i = 0; i < 2; i++) { // also right after the owner ran on the same core
        s.rx(owner);
        auto t = s.rx(thief);
        ASSERT_EQ(t.xdp.run.status, NICSIM_RUN_TRAP);
        EXPECT_EQ(t.xdp.run.trap.kind, NICSIM_TRAP_UNMAPPED);
        EXPECT_EQ(t.xdp.run.trap.addr, addr);
        EXPECT_NE(std::string(t.xdp.run.trap.msg).find("not granted"), std::string::npos)
            << t.xdp.run.trap.msg;
        EXPECT_EQ(t.xdp.action, (uint32_t)NICSIM_XDP_ABORTED);
    }
    // its helpers cannot take the other map's handle either
    uint32_t thief2 =
        s.load("stw [%r10-4], 0\nlddw %r1, " + std::to_string(addr) +
                   "\nmov %r2, %r10\nadd %r2, -4\n" + call(NICSIM_HW_MAP_LOOKUP) + "exit\n",
               {mine});
    auto t2 = s.rx(thief2);
    EXPECT_EQ(t2.xdp.run.trap.kind, NICSIM_TRAP_HELPER) << t2.xdp.run.trap.msg;
}

// Maps of maps: a lookup in an outer map gives the inner map's handle, which the program may use
// while it runs (the inner map is reached through its own outer map); an inner map not held by
// its outer maps, or held but not looked up, stays out of reach.
TEST(XdpSystemTest, AnInnerMapIsReachableOnlyThroughTheProgramsOwnOuterMap)
{
    SysHarness s;
    uint32_t inner_a = s.map(2, 4, 8, 1), inner_b = s.map(2, 4, 8, 1), outer = 0;
    ASSERT_EQ(
        nicsim_ctrl__map_alloc_inner(s.ctrl, 12 /* array of maps */, 4, 4, 2, 0, inner_a, &outer),
        0)
        << nicsim_ctrl__last_error(s.ctrl);
    uint32_t key = 0;
    uint64_t va = 0x1111, vb = 0x2222;
    ASSERT_EQ(nicsim_ctrl__map_update(s.ctrl, inner_a, &key, &va, 0), 0);
    ASSERT_EQ(nicsim_ctrl__map_update(s.ctrl, inner_b, &key, &vb, 0), 0);
    ASSERT_EQ(nicsim_ctrl__map_update(s.ctrl, outer, &key, &inner_a, 0), 0)
        << nicsim_ctrl__last_error(s.ctrl);
    // r0 = outer[slot]; then r0 = *inner[0], or 1 when a lookup misses
    auto through_outer = [&](int slot, const std::string &inner_handle) {
        return "stw [%r10-4], " + std::to_string(slot) + "\nlddw %r1, " + handle(outer) +
               "\nmov %r2, %r10\nadd %r2, -4\n" + call(NICSIM_HW_MAP_LOOKUP) +
               "jeq %r0, 0, miss\nmov %r1, " + inner_handle + "\nstw [%r10-4], 0\n" +
               "mov %r2, %r10\nadd %r2, -4\n" + call(NICSIM_HW_MAP_LOOKUP) +
               "jeq %r0, 0, miss\nldxdw %r0, [%r0]\nexit\nmiss:\nmov %r0, 1\nexit\n";
    };
    uint32_t owner = s.load(through_outer(0, "%r0"), {outer});
    auto o = s.rx(owner);
    ASSERT_EQ(o.xdp.run.status, NICSIM_RUN_OK) << o.xdp.run.trap.msg;
    EXPECT_EQ(o.xdp.r0, va) << "the inner map the outer map holds";
    uint32_t empty = s.load(through_outer(1, "%r0"), {outer});
    auto e = s.rx(empty);
    ASSERT_EQ(e.xdp.run.status, NICSIM_RUN_OK) << e.xdp.run.trap.msg;
    EXPECT_EQ(e.xdp.r0, 1u) << "an empty slot holds no map: the lookup returns NULL";

    auto raw = [](uint32_t id) {
        return std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + id, 0));
    };
    // with a grant from the outer lookup, the program still cannot name another map
    uint32_t other = s.load("lddw %r6, " + raw(inner_b) + "\n" + through_outer(0, "%r6"), {outer});
    auto t = s.rx(other);
    EXPECT_EQ(t.xdp.run.trap.kind, NICSIM_TRAP_HELPER) << "inner_b is no element of its outer map";
    // nor the held inner map without looking it up, even right after the owner ran on the core
    uint32_t direct =
        s.load("stw [%r10-4], 0\nlddw %r1, " + raw(inner_a) + "\nmov %r2, %r10\nadd %r2, -4\n" +
                   call(NICSIM_HW_MAP_LOOKUP) + "exit\n",
               {outer});
    for (uint32_t prog : {owner, direct}) {
        auto d = s.rx(prog);
        if (prog == owner) {
            EXPECT_EQ(d.xdp.r0, va);
            continue;
        }
        EXPECT_EQ(d.xdp.run.trap.kind, NICSIM_TRAP_HELPER) << d.xdp.run.trap.msg;
    }
    // and the owner once more: its grant came back with its lookup, not from the earlier run
    auto again = s.rx(owner);
    EXPECT_EQ(again.xdp.r0, va);
    // the lookup in an array of maps costs L(array) + 1 (docs/microarchitecture.md): one cycle
    // more than the same lookup in an array
    const std::string lookup_only = "stw [%r10-4], 0\nlddw %r1, HANDLE\nmov %r2, %r10\n"
                                    "add %r2, -4\n" +
                                    call(NICSIM_HW_MAP_LOOKUP) + "mov %r0, 2\nexit\n";
    auto with = [&](uint32_t map) {
        std::string t = lookup_only;
        t.replace(t.find("HANDLE"), 6, handle(map));
        return t;
    };
    auto in_outer = s.rx(s.load(with(outer), {outer}));
    auto in_array = s.rx(s.load(with(inner_b), {inner_b}));
    ASSERT_EQ(in_outer.xdp.run.status, NICSIM_RUN_OK) << in_outer.xdp.run.trap.msg;
    ASSERT_EQ(in_array.xdp.run.status, NICSIM_RUN_OK) << in_array.xdp.run.trap.msg;
    EXPECT_EQ(in_outer.xdp.run.cycles, in_array.xdp.run.cycles + 1);
}

TEST(XdpSystemTest, ACoreReachesOnlyItsOwnPerCpuSlice)
{
    SysHarness s;
    uint32_t pc = s.map(6, 4, 8, 1); // per-CPU array, 2 cores
    // read the neighbouring core's slice through this core's value pointer
    uint32_t prog = s.load("stw [%r10-4], 0\nlddw %r1, " + handle(pc) +
                               "\nmov %r2, %r10\nadd %r2, -4\n" + call(NICSIM_HW_MAP_LOOKUP) +
                               "jeq %r0, 0, miss\nmov %r6, %r0\n" + call(NICSIM_HW_SMP_ID) +
                               "jeq %r0, 0, core0\nldxdw %r0, [%r6-8]\nexit\n"
                               "core0:\nldxdw %r0, [%r6+8]\nexit\nmiss:\nmov %r0, 1\nexit\n",
                           {pc});
    for (uint8_t flow = 0; flow < 8; flow++) {
        auto r = s.rx(prog, 100, flow);
        EXPECT_EQ(r.xdp.run.trap.kind, NICSIM_TRAP_BOUNDS) << r.xdp.run.trap.msg;
    }
}

TEST(XdpSystemTest, RingbufOutputHonoursTheRingsSize)
{
    SysHarness s;
    uint32_t rb = s.map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    // ringbuf_output(rb, packet, 1000, 0): each record takes 1008 bytes of the 4096-byte ring
    uint32_t prog =
        s.load("ldxdw %r2, [%r1+0]\nlddw %r1, " + handle(rb) + "\nmov %r3, 1000\nmov %r4, 0\n" +
                   call(NICSIM_HW_RINGBUF_OUTPUT) + "exit\n",
               {rb});
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(s.rx(prog).xdp.r0, 0u) << "record " << i;
    EXPECT_EQ((int64_t)s.rx(prog).xdp.r0, -EAGAIN) << "the fifth does not fit: refused";
    uint64_t lost = 0;
    int n = nicsim_ctrl__events_drain(
        s.ctrl, [](void *, const struct nicsim_event_rec *, const void *) { return 0; }, nullptr,
        &lost);
    EXPECT_EQ(n, 4);
    EXPECT_EQ(lost, 1u) << "and counted";
    EXPECT_EQ(s.rx(prog).xdp.r0, 0u) << "room again once the host has read the ring";
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
    EXPECT_EQ(r.drop, NICSIM_DP_DROP_MAC_ERROR);
    EXPECT_STREQ(nicsim_dp_drop_code((enum nicsim_dp_drop)r.drop), "mac_error");
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 1515, 1515, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_OVERSIZE);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 1514, 1514, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_OK);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_DROP);
    EXPECT_EQ(r.drop, NICSIM_DP_DROP_XDP_DROP);
    EXPECT_EQ(r.departure_cycle, r.end_cycle);
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
    EXPECT_EQ(r.drop, NICSIM_DP_DROP_NONE);
    nicsim_dp__set_prog(h.dp, 0, h.loader.load("mov %r0, 0\nexit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.drop, NICSIM_DP_DROP_XDP_ABORTED);
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
    // into a cpumap: the host, on CPU 1's receive queue; a missing entry: the fallback verdict
    const std::string cpumap =
        "lddw %r1, " + std::to_string(nicsim_addr(NICSIM_MAP_REGION_BASE + 7, 0)) + "\n";
    for (uint32_t c = 0; c < nicsim_dp__n_cores(h.dp); c++)
        nicsim_xdp_core__map_map(nicsim_dp__core(h.dp, c), 7, nullptr, 0, 0, 2);
    nicsim_dp__set_prog(h.dp, 0,
                        h.loader.load(cpumap + "mov %r2, 1\nmov %r3, 1\n" +
                                      call(NICSIM_HW_REDIRECT_MAP) + "exit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_HOST);
    EXPECT_EQ(r.xdp.action, (uint32_t)NICSIM_XDP_REDIRECT);
    EXPECT_EQ(r.xdp.redirect_cpu, 1);
    EXPECT_EQ(r.egress_ifindex, 0u);
    nicsim_dp__set_prog(h.dp, 0,
                        h.loader.load(cpumap + "mov %r2, 0\nmov %r3, 1\n" +
                                      call(NICSIM_HW_REDIRECT_MAP) + "exit\n"));
    nicsim_dp__rx(h.dp, 0, f.data(), 60, 60, 0, &r);
    EXPECT_EQ(r.xdp.action, (uint32_t)NICSIM_XDP_DROP);
    EXPECT_EQ(r.dest, NICSIM_DP_DEST_DROP);
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

TEST(DatapathTest, CaptureBytesPastTheWireLengthAreNotPartOfTheFrame)
{
    DpHarness h;
    // r0 = data_end - data: the length the program sees
    nicsim_dp__set_prog(h.dp, 0,
                        h.loader.load("ldxdw %r2, [%r1+8]\nldxdw %r1, [%r1+0]\nsub %r2, %r1\n"
                                      "mov %r0, %r2\nexit\n"));
    std::vector<uint8_t> f(3000, 1);
    struct nicsim_dp_result r;
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 3000, 100, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_OK);
    EXPECT_EQ(r.xdp.r0, 100u) << "run as the 100-byte frame, not the 3000-byte record";
    EXPECT_EQ(r.xdp.len, 100u);
    ASSERT_EQ(nicsim_dp__rx(h.dp, 0, f.data(), 3000, 1600, 0, &r), 0);
    EXPECT_EQ(r.error, NICSIM_DP_ERR_OVERSIZE) << "checked against the MTU by its wire length";
}

} // namespace

/* The one options rule (nicsim_opts_copy) for the hardware's options: a larger struct is accepted
 * only with a zero tail. */
TEST(OptsRuleTest, CoreDatapathAndSystemOptionsRefuseANonZeroTail)
{
    struct {
        nicsim_xdp_core_opts o;
        uint64_t future;
    } core{};
    core.o.sz = sizeof(core);
    core.o.maps = &kFakeOps;
    nicsim_xdp_core *c = nicsim_xdp_core__new(&core.o);
    EXPECT_NE(c, nullptr);
    nicsim_xdp_core__free(c);
    core.future = 1;
    EXPECT_EQ(nicsim_xdp_core__new(&core.o), nullptr);

    struct {
        nicsim_dp_opts o;
        uint64_t future;
    } dp{};
    dp.o.sz = sizeof(dp);
    dp.o.n_ports = 1;
    dp.o.ports[0] = {10, 1500};
    dp.o.n_cores = 1;
    dp.o.maps = &kFakeOps;
    nicsim_dp *d = nicsim_dp__new(&dp.o);
    EXPECT_NE(d, nullptr);
    nicsim_dp__free(d);
    dp.future = 1;
    EXPECT_EQ(nicsim_dp__new(&dp.o), nullptr);

    struct {
        nicsim_sys_opts o;
        uint64_t future;
    } so{};
    char err[256] = "";
    so.o.sz = sizeof(so);
    nicsim_sys *s = nicsim_sys__new(&so.o, err, sizeof(err));
    EXPECT_NE(s, nullptr) << err;
    nicsim_sys__free(s);
    so.future = 1;
    EXPECT_EQ(nicsim_sys__new(&so.o, err, sizeof(err)), nullptr);
    EXPECT_EQ(std::string(err), "system options: size " + std::to_string(sizeof(so)) +
                                    " with unknown non-zero fields");
}
