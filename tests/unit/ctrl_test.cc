// SPDX-License-Identifier: MIT
// Host control client <-> firmware, end to end over the PCIe model (struct nicsim_nic): maps of
// every type created on the NIC and used from the host, batches split over messages, programs,
// attach/detach, stats, events, and a firmware that does not answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#ifndef _Static_assert
#define _Static_assert static_assert
#endif
#include "nicsim/nic_image.h"
#include "nicsim/nicdev.h"
#include "nicsim/util.h"

namespace
{

constexpr uint32_t HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERF = 4, PERCPU_HASH = 5, PERCPU_ARRAY = 6,
                   LRU_HASH = 9, LRU_PERCPU_HASH = 10, LPM = 11, ARRAY_OF_MAPS = 12,
                   HASH_OF_MAPS = 13, DEVMAP = 14, QUEUE = 22, STACK = 23, DEVMAP_HASH = 25,
                   RINGBUF = 27;

std::vector<uint8_t> pass_image(const std::vector<uint32_t> &maps = {},
                                const std::vector<nicsim_insn> &pre = {})
{
    std::vector<nicsim_insn> insns = pre;
    nicsim_insn mov{}, ex{};
    mov.code = 0xb7;
    mov.imm = 2;
    ex.code = 0x95;
    insns.push_back(mov);
    insns.push_back(ex);
    nicsim_img_hdr h{};
    h.magic = NICSIM_IMG_MAGIC;
    h.version = NICSIM_IMG_VERSION;
    h.hdr_len = sizeof(h);
    h.n_slots = (uint32_t)insns.size();
    h.n_maps = (uint32_t)maps.size();
    h.prog_type = 6;
    strcpy(h.name, "ctrl_pass");
    std::vector<uint8_t> b(sizeof(h) + 4 * maps.size() + 8 * insns.size());
    nicsim_img_hdr_put(b.data(), &h);
    for (size_t i = 0; i < maps.size(); i++)
        nicsim_put_le32(b.data(), sizeof(h) + 4 * i, maps[i]);
    for (size_t i = 0; i < insns.size(); i++)
        nicsim_img_slot_put(b.data() + sizeof(h) + 4 * maps.size() + 8 * i, &insns[i]);
    return b;
}

struct CtrlTest : ::testing::Test {
    nicsim_nic *nic = nullptr;
    nicsim_ctrl *ctrl = nullptr;

    void SetUp() override { open(); }
    void open(uint32_t slot = 0, uint32_t entries = 0, uint64_t map_mem = 0)
    {
        nicsim_nic__free(nic);
        nicsim_ctrl_opts co{};
        co.sz = sizeof(co);
        co.slot_size = slot;
        co.ring_entries = entries;
        nicsim_nic_opts o{};
        o.sz = sizeof(o);
        o.n_ports = 2;
        o.n_cores = 4;
        o.map_mem_bytes = map_mem ? map_mem : 16u << 20;
        o.ctrl = &co;
        nic = nicsim_nic__new(&o);
        ASSERT_NE(nic, nullptr) << strerror(errno);
        ctrl = nicsim_nic__ctrl(nic);
    }
    void TearDown() override { nicsim_nic__free(nic); }
    std::string err() const { return nicsim_ctrl__last_error(ctrl); }
};

TEST_F(CtrlTest, DeviceReportsItself)
{
    nicsim_cmsg_fw_info info{};
    ASSERT_EQ(nicsim_ctrl__fw_info(ctrl, &info), 0);
    EXPECT_EQ(info.n_ports, 2u);
    EXPECT_EQ(info.n_cores, 4u);
    EXPECT_EQ(info.map_mem_total, 16u << 20);
    EXPECT_EQ(info.max_msg_len, 64u * 1024);
    EXPECT_EQ(nicsim_ctrl__n_ports(ctrl), 2u);
    EXPECT_EQ(nicsim_ctrl__n_cores(ctrl), 4u);
    EXPECT_EQ(nicsim_nic__n_ports(nic), 2u);
    EXPECT_NE(nicsim_nic__maps(nic), nullptr);
    EXPECT_NE(nicsim_nic__fw(nic), nullptr);
}

TEST_F(CtrlTest, DefaultOptionsGiveAWorkingNic)
{
    nicsim_nic *n = nicsim_nic__new(nullptr);
    ASSERT_NE(n, nullptr);
    nicsim_cmsg_fw_info info{};
    EXPECT_EQ(nicsim_ctrl__fw_info(nicsim_nic__ctrl(n), &info), 0);
    EXPECT_EQ(info.n_ports, 1u);
    nicsim_nic__free(n);
}

// ---------------------------------------------------------------------------------------------
// Maps of every keyed type: batch update, lookup, walk, delete.

struct KeyedCase {
    const char *name;
    uint32_t type, key_size, value_size, max_entries, flags;
    bool can_delete;
};

void PrintTo(const KeyedCase &c, std::ostream *os)
{
    *os << c.name;
}

class CtrlMapTest : public CtrlTest, public ::testing::WithParamInterface<KeyedCase>
{
};

std::vector<uint8_t> key_of(const KeyedCase &c, uint32_t i)
{
    std::vector<uint8_t> k(c.key_size, 0);
    if (c.type == LPM) { // struct bpf_lpm_trie_key: u32 prefixlen, data
        uint32_t plen = (c.key_size - 4) * 8;
        memcpy(k.data(), &plen, 4);
        uint32_t be = __builtin_bswap32(0x0a000000u + i);
        memcpy(k.data() + 4, &be, 4);
    } else {
        memcpy(k.data(), &i, std::min<size_t>(4, c.key_size));
    }
    return k;
}

TEST_P(CtrlMapTest, HostSeesWhatItWrote)
{
    const KeyedCase &c = GetParam();
    uint32_t id = 0;
    ASSERT_EQ(
        nicsim_ctrl__map_alloc(ctrl, c.type, c.key_size, c.value_size, c.max_entries, c.flags, &id),
        0)
        << err();
    size_t vs = nicsim_ctrl__map_value_size(ctrl, id);
    bool percpu = c.type == PERCPU_HASH || c.type == PERCPU_ARRAY || c.type == LRU_PERCPU_HASH;
    EXPECT_EQ(vs, percpu ? ((c.value_size + 7) / 8 * 8) * 4 : c.value_size);

    const uint32_t n = std::min(c.max_entries, 40u);
    std::vector<uint8_t> keys, values;
    for (uint32_t i = 0; i < n; i++) {
        auto k = key_of(c, i);
        keys.insert(keys.end(), k.begin(), k.end());
        std::vector<uint8_t> v(vs);
        size_t slice = percpu ? (c.value_size + 7) / 8 * 8 : vs;
        for (size_t b = 0; b < vs; b++) // per-CPU: the padding of each core's slice stays 0
            v[b] = b % slice < c.value_size ? (uint8_t)(i * 7 + b) : 0;
        if (c.type == DEVMAP || c.type == DEVMAP_HASH) {
            uint32_t ifindex = 100 + i;
            memcpy(v.data(), &ifindex, 4);
        }
        values.insert(values.end(), v.begin(), v.end());
    }
    uint32_t count = n;
    ASSERT_EQ(nicsim_ctrl__map_update_batch(ctrl, id, keys.data(), values.data(), &count, 0), 0)
        << err();
    EXPECT_EQ(count, n);

    std::vector<uint8_t> got(values.size());
    count = n;
    ASSERT_EQ(nicsim_ctrl__map_lookup_batch(ctrl, id, keys.data(), got.data(), &count), 0) << err();
    EXPECT_EQ(count, n);
    EXPECT_EQ(got, values);

    // single-element path
    std::vector<uint8_t> one(vs);
    ASSERT_EQ(nicsim_ctrl__map_lookup(ctrl, id, keys.data() + c.key_size, one.data()), 0);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), values.begin() + vs));

    // walk: every key exactly once
    std::vector<uint8_t> wk((size_t)c.max_entries * c.key_size + c.key_size);
    std::vector<uint8_t> wv((size_t)c.max_entries * vs + vs);
    count = c.max_entries + 1;
    ASSERT_EQ(nicsim_ctrl__map_get_next_batch(ctrl, id, nullptr, wk.data(), wv.data(), &count), 0)
        << err();
    std::set<std::vector<uint8_t>> seen;
    uint32_t written = 0;
    for (uint32_t i = 0; i < count; i++) {
        std::vector<uint8_t> k(wk.begin() + i * c.key_size, wk.begin() + (i + 1) * c.key_size);
        EXPECT_TRUE(seen.insert(k).second);
        for (uint32_t j = 0; j < n; j++) {
            if (k == key_of(c, j)) {
                written++;
                EXPECT_TRUE(std::equal(wv.begin() + i * vs, wv.begin() + (i + 1) * vs,
                                       values.begin() + j * vs));
            }
        }
    }
    EXPECT_EQ(written, n);
    if (c.type == ARRAY || c.type == PERCPU_ARRAY || c.type == DEVMAP)
        EXPECT_EQ(count, c.max_entries); // arrays walk every index
    else
        EXPECT_EQ(count, n);

    // get_next one by one agrees with the batch walk
    std::vector<uint8_t> cur(c.key_size), next(c.key_size);
    uint32_t steps = 0;
    int e = nicsim_ctrl__map_get_next(ctrl, id, nullptr, next.data());
    while (e == 0) {
        EXPECT_TRUE(std::equal(next.begin(), next.end(), wk.begin() + steps * c.key_size));
        steps++;
        cur = next;
        e = nicsim_ctrl__map_get_next(ctrl, id, cur.data(), next.data());
    }
    EXPECT_EQ(e, -ENOENT);
    EXPECT_EQ(steps, count);

    if (c.can_delete) {
        count = n;
        ASSERT_EQ(nicsim_ctrl__map_delete_batch(ctrl, id, keys.data(), &count), 0) << err();
        EXPECT_EQ(nicsim_ctrl__map_lookup(ctrl, id, keys.data(), one.data()), -ENOENT);
        std::vector<uint8_t> first(c.key_size);
        if (c.type != DEVMAP) { // index-based maps walk every index, as in the kernel
            EXPECT_EQ(nicsim_ctrl__map_get_next(ctrl, id, nullptr, first.data()), -ENOENT);
        }
    }
    EXPECT_EQ(nicsim_ctrl__map_free(ctrl, id), 0);
    EXPECT_EQ(nicsim_ctrl__map_value_size(ctrl, id), 0u);
}

const KeyedCase kKeyed[] = {
    {"hash", HASH, 8, 16, 64, 0, true},
    {"array", ARRAY, 4, 12, 48, 0, false},
    {"percpu_hash", PERCPU_HASH, 4, 4, 64, 0, true},
    {"percpu_array", PERCPU_ARRAY, 4, 12, 40, 0, false},
    {"lru_hash", LRU_HASH, 4, 8, 128, 0, true},
    {"lru_percpu_hash", LRU_PERCPU_HASH, 4, 8, 128, 0, true},
    {"lpm_trie", LPM, 8, 8, 64, 1 /* BPF_F_NO_PREALLOC */, true},
    {"devmap", DEVMAP, 4, 4, 40, 0, true},
    {"devmap_hash", DEVMAP_HASH, 4, 4, 64, 0, true},
};

INSTANTIATE_TEST_SUITE_P(Types, CtrlMapTest, ::testing::ValuesIn(kKeyed),
                         [](const auto &info) { return std::string(info.param.name); });

TEST_F(CtrlTest, QueueAndStackPushAndPop)
{
    uint32_t q, s;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, QUEUE, 0, 8, 4, 0, &q), 0) << err();
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, STACK, 0, 8, 4, 0, &s), 0) << err();
    for (uint64_t v = 1; v <= 3; v++) {
        ASSERT_EQ(nicsim_ctrl__map_update(ctrl, q, nullptr, &v, 0), 0) << err();
        ASSERT_EQ(nicsim_ctrl__map_update(ctrl, s, nullptr, &v, 0), 0) << err();
    }
    uint64_t v = 0;
    ASSERT_EQ(nicsim_ctrl__map_lookup_and_delete(ctrl, q, nullptr, &v), 0) << err();
    EXPECT_EQ(v, 1u);
    ASSERT_EQ(nicsim_ctrl__map_lookup_and_delete(ctrl, s, nullptr, &v), 0) << err();
    EXPECT_EQ(v, 3u);
    ASSERT_EQ(nicsim_ctrl__map_lookup(ctrl, q, nullptr, &v), 0); // peek
    EXPECT_EQ(v, 2u);
}

TEST_F(CtrlTest, MapInMapHoldsInnerMapIds)
{
    uint32_t inner, outer, hom;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 8, 4, 0, &inner), 0) << err();
    ASSERT_EQ(nicsim_ctrl__map_alloc_inner(ctrl, ARRAY_OF_MAPS, 4, 4, 4, 0, inner, &outer), 0)
        << err();
    ASSERT_EQ(nicsim_ctrl__map_alloc_inner(ctrl, HASH_OF_MAPS, 4, 4, 4, 0, inner, &hom), 0)
        << err();
    uint32_t k = 1;
    ASSERT_EQ(nicsim_ctrl__map_update(ctrl, outer, &k, &inner, 0), 0) << err();
    ASSERT_EQ(nicsim_ctrl__map_update(ctrl, hom, &k, &inner, 0), 0) << err();
    uint32_t bogus = 999;
    EXPECT_NE(nicsim_ctrl__map_update(ctrl, outer, &k, &bogus, 0), 0);
    // freeing the inner map: the outer maps keep it, its id is not handed out again
    ASSERT_EQ(nicsim_ctrl__map_free(ctrl, inner), 0) << err();
    uint32_t next;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 8, 4, 0, &next), 0) << err();
    EXPECT_NE(next, inner);
}

TEST_F(CtrlTest, ProgArrayAndEventMaps)
{
    uint32_t pa, perf, rb;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, PROG_ARRAY, 4, 4, 4, 0, &pa), 0) << err();
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, PERF, 4, 4, 4, 0, &perf), 0) << err();
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, RINGBUF, 0, 0, 4096, 0, &rb), 0) << err();
    std::vector<uint8_t> img = pass_image();
    uint32_t prog = 0;
    ASSERT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &prog), 0) << err();
    uint32_t k = 2;
    ASSERT_EQ(nicsim_ctrl__map_update(ctrl, pa, &k, &prog, 0), 0) << err();
    uint32_t missing = prog + 10;
    EXPECT_EQ(nicsim_ctrl__map_update(ctrl, pa, &k, &missing, 0), -EINVAL);
    EXPECT_NE(err().find("is not a loaded program"), std::string::npos) << err();
    EXPECT_EQ(nicsim_ctrl__prog_unload(ctrl, prog), -EBUSY);
    ASSERT_EQ(nicsim_ctrl__map_delete(ctrl, pa, &k), 0) << err();
    EXPECT_EQ(nicsim_ctrl__prog_unload(ctrl, prog), 0) << err();
}

TEST_F(CtrlTest, LargeBatchesAreSplitOverMessages)
{
    open(4096, 4); // small slots: a batch of 3000 needs many messages
    uint32_t id;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, HASH, 4, 24, 4000, 0, &id), 0) << err();
    const uint32_t n = 3000;
    std::vector<uint32_t> keys(n);
    std::vector<uint8_t> vals(n * 24);
    for (uint32_t i = 0; i < n; i++) {
        keys[i] = i * 2654435761u;
        memcpy(vals.data() + i * 24, &i, 4);
    }
    uint64_t doorbells = nicsim_pcie__stats(nicsim_nic__pcie(nic))->doorbells;
    uint32_t count = n;
    ASSERT_EQ(nicsim_ctrl__map_update_batch(ctrl, id, keys.data(), vals.data(), &count, 0), 0)
        << err();
    EXPECT_EQ(count, n);
    EXPECT_GT(nicsim_pcie__stats(nicsim_nic__pcie(nic))->doorbells - doorbells, 20u);

    std::vector<uint32_t> wk(n + 5);
    std::vector<uint8_t> wv((n + 5) * 24);
    count = n + 5;
    ASSERT_EQ(nicsim_ctrl__map_get_next_batch(ctrl, id, nullptr, wk.data(), wv.data(), &count), 0)
        << err();
    ASSERT_EQ(count, n);
    std::vector<uint32_t> sorted_keys = keys, walked(wk.begin(), wk.begin() + n);
    std::sort(sorted_keys.begin(), sorted_keys.end());
    std::sort(walked.begin(), walked.end());
    EXPECT_EQ(walked, sorted_keys);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;
        memcpy(&idx, wv.data() + i * 24, 4);
        EXPECT_EQ(wk[i], keys[idx]);
    }

    // a batch that fails in its second message reports how far it got
    keys[2500] = 0xdeadbeef; // not in the map
    std::vector<uint8_t> got(n * 24);
    count = n;
    EXPECT_EQ(nicsim_ctrl__map_lookup_batch(ctrl, id, keys.data(), got.data(), &count), -ENOENT);
    EXPECT_EQ(count, 2500u);
    EXPECT_TRUE(std::equal(got.begin(), got.begin() + 2500 * 24, vals.begin()));
    EXPECT_NE(err().find("key efbeadde"), std::string::npos) << err();
}

TEST_F(CtrlTest, FirmwareErrorsReachTheHostWithContext)
{
    uint32_t id;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, HASH, 4, 8, 1, 0, &id), 0);
    uint32_t k = 1;
    uint64_t v = 5;
    EXPECT_EQ(nicsim_ctrl__map_lookup(ctrl, id, &k, &v), -ENOENT);
    EXPECT_NE(err().find("map " + std::to_string(id)), std::string::npos) << err();
    ASSERT_EQ(nicsim_ctrl__map_update(ctrl, id, &k, &v, 0), 0);
    EXPECT_EQ(nicsim_ctrl__map_update(ctrl, id, &k, &v, 1 /* NOEXIST */), -EEXIST);
    EXPECT_NE(err().find("(key 01000000): hash: the element exists (BPF_NOEXIST)"),
              std::string::npos)
        << err();
    k = 2;
    EXPECT_EQ(nicsim_ctrl__map_update(ctrl, id, &k, &v, 0), -E2BIG);
    EXPECT_NE(err().find("(key 02000000): hash: the map is full (max_entries 1)"),
              std::string::npos)
        << err();
    uint32_t arr;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 8, 2, 0, &arr), 0);
    EXPECT_EQ(nicsim_ctrl__map_update(ctrl, arr, &k, &v, 0), -E2BIG);
    EXPECT_NE(err().find("array: index 2 is past max_entries 2"), std::string::npos) << err();
    EXPECT_EQ(nicsim_ctrl__map_lookup(ctrl, 4242, &k, &v), -ENOENT);
    EXPECT_NE(err().find("map 4242 was not allocated"), std::string::npos) << err();
    EXPECT_EQ(nicsim_ctrl__map_free(ctrl, 4242), -ENOENT);
    EXPECT_NE(err().find("map 4242 does not exist"), std::string::npos) << err();
    EXPECT_EQ(nicsim_ctrl__map_alloc(ctrl, 9999, 4, 4, 4, 0, &id), -EINVAL);
}

TEST_F(CtrlTest, MapMemoryBudgetIsVisibleFromTheHost)
{
    open(0, 0, 1 << 20);
    uint32_t id;
    EXPECT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 4096, 512, 0, &id), -ENOMEM);
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 4096, 128, 0, &id), 0) << err();
    nicsim_cmsg_fw_info info{};
    ASSERT_EQ(nicsim_ctrl__fw_info(ctrl, &info), 0);
    EXPECT_GE(info.map_mem_used, 512u << 10);
}

// ---------------------------------------------------------------------------------------------
// Programs and the datapath configuration.

TEST_F(CtrlTest, ProgramLoadAttachDetach)
{
    uint32_t m;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, HASH, 4, 4, 8, 0, &m), 0);
    nicsim_insn ld[2] = {};
    ld[0].code = 0x18;
    ld[0].dst = 1;
    ld[0].src = NICSIM_LDDW_MAP_IDX;
    ld[0].imm = (int32_t)m;
    std::vector<uint8_t> img = pass_image({m}, {ld[0], ld[1]});
    uint32_t prog = 0;
    unsigned maps_before = nicsim_pcie__n_mappings(nicsim_nic__pcie(nic));
    ASSERT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &prog), 0) << err();
    EXPECT_EQ(nicsim_pcie__n_mappings(nicsim_nic__pcie(nic)), maps_before); // image unmapped
    size_t n = 0;
    const nicsim_isa_insn *insns = nicsim_nic__prog(nic, prog, &n);
    ASSERT_NE(insns, nullptr);
    ASSERT_EQ(n, 4u);
    EXPECT_EQ(insns[0].imm64, (uint64_t)(NICSIM_MAP_REGION_BASE + m) << 32);

    uint32_t old = 99;
    ASSERT_EQ(nicsim_ctrl__xdp_attach(ctrl, 1, prog, 0, &old), 0) << err();
    EXPECT_EQ(old, 0u);
    EXPECT_EQ(nicsim_nic__port_prog(nic, 1), prog);
    EXPECT_EQ(nicsim_nic__port_prog(nic, 0), 0u);
    EXPECT_EQ(nicsim_ctrl__xdp_attach(ctrl, 1, prog, NICSIM_XDP_ATTACH_F_NOEXIST, nullptr), -EBUSY);
    EXPECT_EQ(nicsim_ctrl__xdp_attach(ctrl, 2, prog, 0, nullptr), -ENODEV);
    EXPECT_EQ(nicsim_ctrl__prog_unload(ctrl, prog), -EBUSY);
    EXPECT_EQ(nicsim_ctrl__map_free(ctrl, m), -EBUSY);
    ASSERT_EQ(nicsim_ctrl__xdp_detach(ctrl, 1, &old), 0);
    EXPECT_EQ(old, prog);
    EXPECT_EQ(nicsim_nic__port_prog(nic, 1), 0u);
    ASSERT_EQ(nicsim_ctrl__prog_unload(ctrl, prog), 0);
    EXPECT_EQ(nicsim_nic__prog(nic, prog, &n), nullptr);
    EXPECT_EQ(nicsim_ctrl__map_free(ctrl, m), 0);
}

TEST_F(CtrlTest, BadImageIsRefusedWithTheFirmwaresReason)
{
    std::vector<uint8_t> img = pass_image();
    img[0] ^= 0xff;
    uint32_t prog = 0;
    EXPECT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &prog), -EINVAL);
    EXPECT_NE(err().find("image magic"), std::string::npos) << err();
    EXPECT_EQ(nicsim_ctrl__prog_load(ctrl, nullptr, 10, &prog), -EINVAL);
}

struct DatapathLog {
    std::vector<uint32_t> loaded, unloaded;
    std::vector<std::pair<uint32_t, uint32_t>> ports;
};

int dp_load(void *ctx, const nicsim_fw_prog_desc *d, char *, size_t)
{
    static_cast<DatapathLog *>(ctx)->loaded.push_back(d->prog_id);
    return 0;
}
void dp_unload(void *ctx, uint32_t id)
{
    static_cast<DatapathLog *>(ctx)->unloaded.push_back(id);
}
int dp_port(void *ctx, uint32_t port, uint32_t prog)
{
    static_cast<DatapathLog *>(ctx)->ports.push_back({port, prog});
    return 0;
}

TEST_F(CtrlTest, DatapathCoreOpsSeeEveryChange)
{
    DatapathLog log;
    nicsim_fw_core_ops ops = {dp_load, dp_unload, dp_port, nullptr, nullptr};
    nicsim_nic_opts o{};
    o.sz = sizeof(o);
    o.n_ports = 1;
    o.core = &ops;
    o.core_ctx = &log;
    nicsim_nic *n = nicsim_nic__new(&o);
    ASSERT_NE(n, nullptr);
    nicsim_ctrl *c = nicsim_nic__ctrl(n);
    std::vector<uint8_t> img = pass_image();
    uint32_t p;
    ASSERT_EQ(nicsim_ctrl__prog_load(c, img.data(), img.size(), &p), 0);
    ASSERT_EQ(nicsim_ctrl__xdp_attach(c, 0, p, 0, nullptr), 0);
    ASSERT_EQ(nicsim_ctrl__xdp_detach(c, 0, nullptr), 0);
    ASSERT_EQ(nicsim_ctrl__prog_unload(c, p), 0);
    EXPECT_EQ(log.loaded, std::vector<uint32_t>{p});
    EXPECT_EQ(log.unloaded, std::vector<uint32_t>{p});
    ASSERT_EQ(log.ports.size(), 2u);
    EXPECT_EQ(log.ports[0], std::make_pair(0u, p));
    EXPECT_EQ(log.ports[1], std::make_pair(0u, 0u));
    nicsim_nic__free(n);
}

// ---------------------------------------------------------------------------------------------
// Stats and events.

TEST_F(CtrlTest, StatsFromTheDatapathReachTheHost)
{
    std::vector<uint8_t> img = pass_image();
    uint32_t p;
    ASSERT_EQ(nicsim_ctrl__prog_load(ctrl, img.data(), img.size(), &p), 0);
    for (int i = 0; i < 10; i++)
        nicsim_fw__count(nicsim_nic__fw(nic), 1, p, i % 3 == 0 ? 1 : 2, 64, 30, 0);
    nicsim_stats s{};
    ASSERT_EQ(nicsim_ctrl__stats(ctrl, NICSIM_STATS_PORT, 1, 0, &s), 0);
    EXPECT_EQ(s.packets, 10u);
    EXPECT_EQ(s.bytes, 640u);
    EXPECT_EQ(s.verdicts[1], 4u);
    EXPECT_EQ(s.verdicts[2], 6u);
    ASSERT_EQ(nicsim_ctrl__stats(ctrl, NICSIM_STATS_PROG, p, NICSIM_STATS_F_RESET, &s), 0);
    EXPECT_EQ(s.cycles, 300u);
    ASSERT_EQ(nicsim_ctrl__stats(ctrl, NICSIM_STATS_PROG, p, 0, &s), 0);
    EXPECT_EQ(s.packets, 0u);
    EXPECT_EQ(nicsim_ctrl__stats(ctrl, NICSIM_STATS_PORT, 7, 0, &s), -ENODEV);
}

struct Drained {
    std::vector<std::string> data;
    std::vector<uint32_t> cpus;
    int stop_after = -1;
};

int on_event(void *user, const nicsim_event_rec *rec, const void *data)
{
    auto *d = static_cast<Drained *>(user);
    d->data.emplace_back(static_cast<const char *>(data), rec->len);
    d->cpus.push_back(rec->cpu);
    return d->stop_after >= 0 && (int)d->data.size() >= d->stop_after;
}

void count_irq(void *user)
{
    (*static_cast<int *>(user))++;
}

TEST_F(CtrlTest, EventsAreDrainedByTheHost)
{
    open(4096);
    uint32_t rb;
    // 16 KiB: the 100 records (about 6.7 KiB with their 8-byte headers) fit the ring's size
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, RINGBUF, 0, 0, 16384, 0, &rb), 0) << err();
    int irqs = 0;
    nicsim_pcie__set_irq_handler(nicsim_nic__pcie(nic), count_irq, &irqs);
    std::vector<std::string> sent;
    for (int i = 0; i < 100; i++) {
        std::string s = "event " + std::to_string(i) + std::string(i, '.');
        sent.push_back(s);
        ASSERT_EQ(nicsim_fw__event_output(nicsim_nic__fw(nic), rb, i % 4, 0, s.data(),
                                          (uint32_t)s.size()),
                  0);
    }
    EXPECT_EQ(irqs, 1); // EVENTS, once: the queue became non-empty once
    EXPECT_EQ(nicsim_ctrl__irq(ctrl), NICSIM_IRQ_EVENTS);
    Drained d;
    uint64_t lost = 99;
    int n = nicsim_ctrl__events_drain(ctrl, on_event, &d, &lost);
    ASSERT_EQ(n, 100) << err();
    EXPECT_EQ(lost, 0u);
    EXPECT_EQ(d.data, sent);
    EXPECT_EQ(d.cpus[5], 1u);
    EXPECT_EQ(nicsim_ctrl__events_drain(ctrl, on_event, &d, &lost), 0);
}

TEST_F(CtrlTest, EventDrainStopsWhenTheCallbackSaysSo)
{
    uint32_t rb;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, RINGBUF, 0, 0, 4096, 0, &rb), 0) << err();
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(nicsim_fw__event_output(nicsim_nic__fw(nic), rb, 0, 0, "abc", 3), 0);
    Drained d;
    d.stop_after = 2;
    EXPECT_EQ(nicsim_ctrl__events_drain(ctrl, on_event, &d, nullptr), 2);
}

// ---------------------------------------------------------------------------------------------
// Transport failures.

TEST_F(CtrlTest, RingWrapsAroundOverManyRequests)
{
    open(0, 2);
    uint32_t id;
    ASSERT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 8, 16, 0, &id), 0);
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t k = i % 16;
        uint64_t v = i, got = 0;
        ASSERT_EQ(nicsim_ctrl__map_update(ctrl, id, &k, &v, 0), 0) << i;
        ASSERT_EQ(nicsim_ctrl__map_lookup(ctrl, id, &k, &got), 0) << i;
        ASSERT_EQ(got, v);
    }
    EXPECT_EQ(nicsim_pcie__read32(nicsim_nic__pcie(nic), NICSIM_BAR0_REQ_TAIL), 401u);
}

TEST_F(CtrlTest, SilentFirmwareTimesOut)
{
    nicsim_pcie *pcie = nicsim_nic__pcie(nic);
    nicsim_pcie__set_device(pcie, nullptr, nullptr); // doorbells reach nobody
    nicsim_cmsg_fw_info info{};
    EXPECT_EQ(nicsim_ctrl__fw_info(ctrl, &info), -ETIMEDOUT);
    EXPECT_NE(err().find("no reply to FW_INFO"), std::string::npos) << err();
    uint32_t id;
    EXPECT_EQ(nicsim_ctrl__map_alloc(ctrl, ARRAY, 4, 4, 1, 0, &id), -ETIMEDOUT);
}

TEST_F(CtrlTest, HaltedFirmwareTimesOutAndReportsItsError)
{
    nicsim_pcie *pcie = nicsim_nic__pcie(nic);
    int irqs = 0;
    nicsim_pcie__set_irq_handler(pcie, count_irq, &irqs);
    // the host corrupts the ring configuration: the firmware halts on the next doorbell
    nicsim_pcie__write32(pcie, NICSIM_BAR0_REQ_ENTRIES, 3);
    nicsim_cmsg_fw_info info{};
    EXPECT_EQ(nicsim_ctrl__fw_info(ctrl, &info), -ETIMEDOUT);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_FW_STATUS), (uint32_t)NICSIM_FW_STATUS_HALTED);
    EXPECT_GE(irqs, 1);
    EXPECT_TRUE(nicsim_ctrl__irq(ctrl) & NICSIM_IRQ_FW_ERROR);
}

/* One options rule (libbpf's OPTS_VALID, nicsim_opts_copy): a smaller struct reads its missing
 * tail as zero; a larger one is accepted only when the bytes this library does not know are 0. */
TEST(OptsRuleTest, LargerStructNeedsZeroTailSmallerIsZeroFilled)
{
    struct {
        nicsim_nic_opts o;
        uint64_t future;
    } big{};
    big.o.sz = sizeof(big);
    big.o.n_ports = 1;
    nicsim_nic *n = nicsim_nic__new(&big.o);
    ASSERT_NE(n, nullptr) << strerror(errno);
    nicsim_nic__free(n);
    big.future = 1;
    errno = 0;
    EXPECT_EQ(nicsim_nic__new(&big.o), nullptr);
    EXPECT_EQ(errno, EINVAL);

    nicsim_ctrl_opts full{}, small{};
    small.sz = offsetof(nicsim_ctrl_opts, slot_size);
    small.ring_entries = 8;
    small.slot_size = 4096; /* past sz: must read as 0 */
    full.poll_budget = 77;  /* caller zeroes out; the copy keeps what it does not cover */
    ASSERT_EQ(0, nicsim_opts_copy(&full, sizeof(full), &small));
    EXPECT_EQ(8u, full.ring_entries);
    EXPECT_EQ(0u, full.slot_size);
    EXPECT_EQ(77u, full.poll_budget);
    size_t tiny = 4;
    EXPECT_EQ(-EINVAL, nicsim_opts_copy(&full, sizeof(full), &tiny));
}

/* The wire encoders write every field little-endian at its documented offset
 * (docs/control-messages.md), whatever the host's byte order, and the decoders read it back. */
TEST(CmsgWireTest, EncodersWriteLittleEndianAtDocumentedOffsets)
{
    struct nicsim_cmsg_hdr h = {};
    h.version = NICSIM_CMSG_VERSION;
    h.type = NICSIM_CMSG_MAP_UPDATE;
    h.flags = 0x0102;
    h.seq = 0x03040506u;
    h.len = 0x0708090au;
    h.status = 0x0b0c0d0eu;
    uint8_t b[16];
    memset(b, 0xff, sizeof(b));
    nicsim_cmsg_hdr_put(b, &h);
    const uint8_t want[16] = {1,    5,    0x02, 0x01, 0x06, 0x05, 0x04, 0x03,
                              0x0a, 0x09, 0x08, 0x07, 0x0e, 0x0d, 0x0c, 0x0b};
    EXPECT_EQ(0, memcmp(b, want, sizeof(b)));
    struct nicsim_cmsg_hdr back = {};
    nicsim_cmsg_hdr_get(&back, b);
    EXPECT_EQ(0x0102u, back.flags);
    EXPECT_EQ(0x03040506u, back.seq);
    EXPECT_EQ(0x0b0c0d0eu, back.status);

    struct nicsim_cmsg_map_op op = {};
    op.map_id = 7;
    op.flags = 0x1122334455667788ull;
    op.max_count = 0x01000000u;
    uint8_t ob[sizeof(op)] = {};
    nicsim_cmsg_map_op_put(ob, &op);
    EXPECT_EQ(7, ob[0]);
    EXPECT_EQ(0x88, ob[16]); /* flags at offset 16, low byte first */
    EXPECT_EQ(0x11, ob[23]);
    EXPECT_EQ(0x01, ob[27]); /* max_count at offset 24 */
    EXPECT_EQ(0x1122334455667788ull, nicsim_get_le64(ob, 16));
    struct nicsim_cmsg_map_op oback = {};
    nicsim_cmsg_map_op_get(&oback, ob);
    EXPECT_EQ(0, memcmp(&op, &oback, sizeof(op)));
}

} // namespace
