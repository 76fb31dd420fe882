// SPDX-License-Identifier: MIT
// The emulated kernel's host maps (driver/kern/hostmap.c) are instances of the map library, with
// the kernel's rules: each rule that differed before (hostmap's own implementation) is checked
// here against the host kernel through libbpf where bpf() is available (skipped otherwise), and
// against the rule itself always.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "nicsim/kern.h"
#include "offload_insns.h"

namespace
{

constexpr int kENOTSUPP = 524;

class HostMapTest : public ::testing::Test
{
  protected:
    nicsim_kern *k = nullptr;
    std::vector<int> kfds; // the host kernel's maps

    void SetUp() override
    {
        nicsim_kern_opts o{};
        o.sz = sizeof(o);
        k = nicsim_kern__new(&o);
        ASSERT_NE(k, nullptr);
    }
    void TearDown() override
    {
        for (int fd : kfds)
            close(fd);
        nicsim_kern__free(k);
    }
    int ours(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags = 0)
    {
        auto a = ins::map_attr(type, ks, vs, max, 0, "hm", flags);
        return nicsim_kern_map_create(k, &a, nullptr);
    }
    // The host kernel's map, or -errno; skips the test when bpf() is not available.
    int kernel(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags = 0)
    {
        LIBBPF_OPTS(bpf_map_create_opts, ko, .map_flags = flags);
        int fd = bpf_map_create((bpf_map_type)type, nullptr, ks, vs, max, &ko);
        if (fd >= 0)
            kfds.push_back(fd);
        return fd < 0 ? -errno : fd;
    }
    bool have_bpf()
    {
        int probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 4, 1, nullptr);
        if (probe < 0)
            return false;
        close(probe);
        return true;
    }
};

#define NEED_BPF()                                                                                 \
    do {                                                                                           \
        if (!have_bpf())                                                                           \
            GTEST_SKIP() << "bpf() is not available here: kernel-differential test skipped";       \
    } while (0)

int kerr(int r)
{
    return r < 0 ? -errno : r;
}

struct Lpm {
    uint32_t plen;
    uint8_t addr[4];
};

Lpm lpm(uint32_t plen, const char *ip)
{
    Lpm k{};
    k.plen = plen;
    inet_pton(AF_INET, ip, k.addr);
    return k;
}

// An LPM trie matches the longest prefix (hostmap's was an exact-key hash).
TEST_F(HostMapTest, LpmTrieMatchesTheLongestPrefixAsTheKernel)
{
    int m = ours(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC);
    ASSERT_GE(m, 0) << nicsim_kern_last_error(k);
    // the kernel's lpm_trie requires BPF_F_NO_PREALLOC
    EXPECT_EQ(ours(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16), -EINVAL);
    struct Case {
        const char *ip;
        int err;
        uint32_t v;
    } cases[] = {{"10.1.2.3", 0, 16}, {"10.2.0.0", 0, 8}, {"11.0.0.0", -ENOENT, 0}};
    std::vector<std::pair<Lpm, uint32_t>> ins = {{lpm(8, "10.0.0.0"), 8},
                                                 {lpm(16, "10.1.0.0"), 16}};
    for (auto &[key, v] : ins)
        ASSERT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_ANY), 0);
    for (const Case &c : cases) {
        Lpm key = lpm(32, c.ip);
        uint32_t got = 0;
        EXPECT_EQ(nicsim_kern_map_lookup_elem(k, m, &key, &got), c.err) << c.ip;
        if (!c.err) {
            EXPECT_EQ(got, c.v) << c.ip;
        }
    }
    NEED_BPF();
    EXPECT_EQ(kernel(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16), -EINVAL);
    int kfd = kernel(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC);
    ASSERT_GE(kfd, 0);
    for (auto &[key, v] : ins)
        ASSERT_EQ(bpf_map_update_elem(kfd, &key, &v, BPF_ANY), 0);
    for (const Case &c : cases) {
        Lpm key = lpm(32, c.ip);
        uint32_t got = 0;
        EXPECT_EQ(kerr(bpf_map_lookup_elem(kfd, &key, &got)), c.err) << c.ip;
        if (!c.err) {
            EXPECT_EQ(got, c.v) << c.ip;
        }
    }
}

// A per-CPU value is round_up(value_size, 8) bytes per CPU (one CPU here), the padding copied as
// the kernel's copy_map_value_long does; hostmap's was value_size bytes.
TEST_F(HostMapTest, PerCpuValuesAreRoundedToEightBytesPerCpu)
{
    for (uint32_t type : {BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH}) {
        int m = ours(type, 4, 4, 2);
        ASSERT_GE(m, 0) << nicsim_kern_last_error(k);
        uint32_t key = 1, in[2] = {0x11223344u, 0x55667788u}, out[3] = {0, 0, 0xdeadbeefu};
        ASSERT_EQ(nicsim_kern_map_update_elem(k, m, &key, in, BPF_ANY), 0);
        ASSERT_EQ(nicsim_kern_map_lookup_elem(k, m, &key, out), 0);
        EXPECT_EQ(out[0], in[0]) << type;
        EXPECT_EQ(out[1], in[1]) << type << ": the 8 bytes of the slice, padding included";
        EXPECT_EQ(out[2], 0xdeadbeefu) << type << ": one CPU, nothing past its slice";
    }
    NEED_BPF();
    int n = libbpf_num_possible_cpus();
    ASSERT_GT(n, 0);
    int kfd = kernel(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2);
    ASSERT_GE(kfd, 0);
    std::vector<uint32_t> in(2 * (size_t)n), out(2 * (size_t)n + 1, 0xdeadbeefu);
    in[0] = 0x11223344u, in[1] = 0x55667788u;
    uint32_t key = 1;
    ASSERT_EQ(bpf_map_update_elem(kfd, &key, in.data(), BPF_ANY), 0);
    ASSERT_EQ(bpf_map_lookup_elem(kfd, &key, out.data()), 0);
    EXPECT_EQ(out[1], in[1]) << "the kernel copies the padding too";
    EXPECT_EQ(out[2 * (size_t)n], 0xdeadbeefu) << "8 bytes per CPU";
}

// The kernel's per-type creation checks and limits (hostmap had its own: max_entries <= 2^20,
// key_size <= 512, value_size <= 64 KiB, and no per-type checks).
TEST_F(HostMapTest, CreationChecksAreTheKernels)
{
    struct A {
        uint32_t type, ks, vs, max, flags;
        int err; // ours, and the kernel's
    } cases[] = {
        {BPF_MAP_TYPE_ARRAY, 4, 4, 1u << 21, 0, 0}, // hostmap: -E2BIG
        {BPF_MAP_TYPE_ARRAY, 4, 1u << 17, 2, 0, 0}, // hostmap: -E2BIG
        {BPF_MAP_TYPE_ARRAY, 8, 4, 2, 0, -EINVAL},  // key must be 4 bytes
        {BPF_MAP_TYPE_ARRAY, 4, 4, 2, BPF_F_NO_PREALLOC, -EINVAL},
        {BPF_MAP_TYPE_HASH, 4, 4, 2, BPF_F_MMAPABLE, -EINVAL}, // hostmap: created
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 2, 0, -EINVAL},        // hostmap: created
        {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, BPF_F_RDONLY_PROG, -EINVAL},
        {BPF_MAP_TYPE_PERCPU_ARRAY, 4, (32u << 10) + 1, 2, 0, -E2BIG},
        {BPF_MAP_TYPE_QUEUE, 0, 4, 2, 0, 0},
        {BPF_MAP_TYPE_QUEUE, 4, 4, 2, 0, -EINVAL},
        {BPF_MAP_TYPE_CGROUP_ARRAY, 4, 8, 2, 0, -EINVAL}, // hostmap: created
        {BPF_MAP_TYPE_XSKMAP, 4, 8, 2, 0, -EINVAL},       // hostmap: created
        {BPF_MAP_TYPE_XSKMAP, 4, 4, 2, BPF_F_NO_PREALLOC, -EINVAL},
        {BPF_MAP_TYPE_HASH, 513, 4, 2, 0, 0},      // hostmap: -E2BIG
        {BPF_MAP_TYPE_HASH, 4, 1u << 17, 2, 0, 0}, // hostmap: -E2BIG
        {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0},
        {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 + 1, 0, -EINVAL},
        {BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, -EINVAL},
        {BPF_MAP_TYPE_DEVMAP, 4, 2, 2, 0, -EINVAL},
        {BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 2, 0, 0},
        {BPF_MAP_TYPE_BLOOM_FILTER, 4, 4, 2, 0, -EINVAL},
    };
    for (const A &a : cases) {
        int fd = ours(a.type, a.ks, a.vs, a.max, a.flags);
        EXPECT_EQ(fd < 0 ? fd : 0, a.err) << "type " << a.type << " ks " << a.ks << " vs " << a.vs
                                          << " max " << a.max << ": " << nicsim_kern_last_error(k);
        if (fd >= 0)
            nicsim_kern_close(k, fd);
    }
    NEED_BPF();
    for (const A &a : cases) {
        int fd = kernel(a.type, a.ks, a.vs, a.max, a.flags);
        EXPECT_EQ(fd < 0 ? fd : 0, a.err) << "the kernel: type " << a.type << " ks " << a.ks
                                          << " vs " << a.vs << " max " << a.max;
    }
}

// Host maps are charged to one host budget (1 GiB of the library's charge for all host maps of
// an emulated kernel), not the NIC's map memory; past it -ENOMEM with the sentence, as the
// kernel's failing allocation. hostmap refused max_entries above 2^20 (-E2BIG) instead.
TEST_F(HostMapTest, HostMapsShareOneHostMemoryBudget)
{
    int big = ours(BPF_MAP_TYPE_ARRAY, 4, 512, 1u << 20); // 512 MiB: more than a NIC's memory
    ASSERT_GE(big, 0) << nicsim_kern_last_error(k);
    EXPECT_EQ(ours(BPF_MAP_TYPE_ARRAY, 4, 1024, 1u << 20), -ENOMEM);
    EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("bytes of map memory"), std::string::npos)
        << nicsim_kern_last_error(k);
    nicsim_kern_close(k, big); // its memory goes back
    int again = ours(BPF_MAP_TYPE_ARRAY, 4, 1024, (1u << 20) - 1024);
    EXPECT_GE(again, 0) << nicsim_kern_last_error(k);
    nicsim_kern_close(k, again);
}

// The rules of element operations that hostmap had its own way: fd arrays take BPF_ANY only, an
// index past the end is -E2BIG (update and delete), a perf event array and a cgroup array are not
// readable (-ENOTSUPP), BPF_F_LOCK is refused without a spin lock, array elements exist always.
TEST_F(HostMapTest, ElementRulesAreTheKernels)
{
    struct Op {
        uint32_t type, vs, flags_create;
        char op; // u update, d delete, l lookup
        uint32_t key;
        uint64_t flags;
        int err;
    } ops[] = {
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 0, 'u', 0, BPF_NOEXIST, -EINVAL},
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 0, 'u', 0, BPF_EXIST, -EINVAL},
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 0, 'u', 9, BPF_ANY, -E2BIG},
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 0, 'd', 9, 0, -E2BIG}, // hostmap: -ENOENT
        {BPF_MAP_TYPE_PROG_ARRAY, 4, 0, 'd', 0, 0, -ENOENT},
        {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 0, 'u', 0, BPF_NOEXIST, -EINVAL},
        {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 0, 'l', 0, 0, -kENOTSUPP}, // hostmap: -ENOENT
        {BPF_MAP_TYPE_CGROUP_ARRAY, 4, 0, 'l', 0, 0, -kENOTSUPP},
        {BPF_MAP_TYPE_CGROUP_ARRAY, 4, 0, 'd', 9, 0, -E2BIG},
        {BPF_MAP_TYPE_ARRAY, 8, 0, 'u', 0, BPF_F_LOCK, -EINVAL}, // hostmap: ignored
        {BPF_MAP_TYPE_HASH, 8, 0, 'u', 0, BPF_F_LOCK, -EINVAL},
        {BPF_MAP_TYPE_ARRAY, 8, 0, 'u', 0, BPF_NOEXIST, -EEXIST},
        {BPF_MAP_TYPE_ARRAY, 8, 0, 'd', 0, 0, -EINVAL},
        {BPF_MAP_TYPE_ARRAY, 8, 0, 'l', 9, 0, -ENOENT},
        {BPF_MAP_TYPE_DEVMAP, 4, 0, 'd', 9, 0, -EINVAL}, // hostmap: -ENOENT
        {BPF_MAP_TYPE_DEVMAP, 4, 0, 'd', 0, 0, 0},       // hostmap: -ENOENT
        {BPF_MAP_TYPE_DEVMAP, 4, 0, 'u', 0, BPF_EXIST + 1, -EINVAL},
        {BPF_MAP_TYPE_CPUMAP, 4, 0, 'd', 9, 0, -EINVAL},
        {BPF_MAP_TYPE_CPUMAP, 4, 0, 'd', 0, 0, 0},
        {BPF_MAP_TYPE_XSKMAP, 4, 0, 'l', 0, 0, -EOPNOTSUPP},
        {BPF_MAP_TYPE_XSKMAP, 4, 0, 'u', 9, BPF_ANY, -E2BIG},
        {BPF_MAP_TYPE_XSKMAP, 4, 0, 'u', 0, BPF_EXIST + 1, -EINVAL},
        {BPF_MAP_TYPE_XSKMAP, 4, 0, 'd', 9, 0, -EINVAL},
        {BPF_MAP_TYPE_XSKMAP, 4, 0, 'd', 0, 0, 0},
    };
    auto run = [](auto update, auto del, auto lookup, const Op &o) {
        uint64_t v = 0;
        uint32_t key = o.key;
        switch (o.op) {
        case 'u':
            return update(&key, &v, o.flags);
        case 'd':
            return del(&key);
        default:
            return lookup(&key, &v);
        }
    };
    for (const Op &o : ops) {
        int m = ours(o.type, 4, o.vs, 2, o.flags_create);
        ASSERT_GE(m, 0) << o.type;
        int err =
            run([&](void *kk, void *v,
                    uint64_t f) { return nicsim_kern_map_update_elem(k, m, kk, v, f); },
                [&](void *kk) { return nicsim_kern_map_delete_elem(k, m, kk); },
                [&](void *kk, void *v) { return nicsim_kern_map_lookup_elem(k, m, kk, v); }, o);
        EXPECT_EQ(err, o.err) << "type " << o.type << " op " << o.op << " key " << o.key;
        if (err) {
            EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("map hm: "), std::string::npos)
                << nicsim_kern_last_error(k);
        }
        nicsim_kern_close(k, m);
    }
    NEED_BPF();
    for (const Op &o : ops) {
        int kfd = kernel(o.type, 4, o.vs, 2, o.flags_create);
        ASSERT_GE(kfd, 0) << o.type;
        int err = run(
            [&](void *kk, void *v, uint64_t f) { return kerr(bpf_map_update_elem(kfd, kk, v, f)); },
            [&](void *kk) { return kerr(bpf_map_delete_elem(kfd, kk)); },
            [&](void *kk, void *v) { return kerr(bpf_map_lookup_elem(kfd, kk, v)); }, o);
        EXPECT_EQ(err, o.err) << "the kernel: type " << o.type << " op " << o.op << " key "
                              << o.key;
    }
}

// A hash map iterates in the kernel's bucket order (hostmap: insertion slots, a deleted
// element's slot reused first); with BPF_F_ZERO_SEED the kernel's order is deterministic, and
// the host store's seed is 0.
TEST_F(HostMapTest, HashIteratesInTheKernelsOrder)
{
    auto dump = [](auto next) {
        std::vector<uint32_t> keys;
        uint32_t cur = 0, nx = 0;
        const uint32_t *prev = nullptr;
        while (next(prev, &nx) == 0 && keys.size() < 64) {
            keys.push_back(nx);
            cur = nx;
            prev = &cur;
        }
        return keys;
    };
    int m = ours(BPF_MAP_TYPE_HASH, 4, 8, 32, BPF_F_ZERO_SEED);
    ASSERT_GE(m, 0) << nicsim_kern_last_error(k);
    uint64_t v = 1;
    for (uint32_t i = 1; i <= 20; i++)
        ASSERT_EQ(nicsim_kern_map_update_elem(k, m, &i, &v, BPF_ANY), 0);
    uint32_t gone = 3, fresh = 100;
    ASSERT_EQ(nicsim_kern_map_delete_elem(k, m, &gone), 0);
    ASSERT_EQ(nicsim_kern_map_update_elem(k, m, &fresh, &v, BPF_ANY), 0);
    auto got = dump(
        [&](const uint32_t *p, uint32_t *n) { return nicsim_kern_map_get_next_key(k, m, p, n); });
    ASSERT_EQ(got.size(), 20u);
    std::vector<uint32_t> slot_order; // hostmap's: 1, 2, 100, 4, ..., 20
    for (uint32_t i = 1; i <= 20; i++)
        slot_order.push_back(i == 3 ? 100 : i);
    EXPECT_NE(got, slot_order);
    NEED_BPF();
    int kfd = kernel(BPF_MAP_TYPE_HASH, 4, 8, 32, BPF_F_ZERO_SEED);
    ASSERT_GE(kfd, 0);
    for (uint32_t i = 1; i <= 20; i++)
        ASSERT_EQ(bpf_map_update_elem(kfd, &i, &v, BPF_ANY), 0);
    ASSERT_EQ(bpf_map_delete_elem(kfd, &gone), 0);
    ASSERT_EQ(bpf_map_update_elem(kfd, &fresh, &v, BPF_ANY), 0);
    auto want =
        dump([&](const uint32_t *p, uint32_t *n) { return kerr(bpf_map_get_next_key(kfd, p, n)); });
    EXPECT_EQ(got, want);
}

// The emulated kernel has no AF_XDP sockets: every descriptor an XSK map could be given is a
// program's or a map's, which the kernel refuses as not a socket (hostmap stored the value).
TEST_F(HostMapTest, XskMapTakesNoDescriptorOfTheEmulation)
{
    int m = ours(BPF_MAP_TYPE_XSKMAP, 4, 4, 2);
    ASSERT_GE(m, 0) << nicsim_kern_last_error(k);
    uint32_t key = 0, v = (uint32_t)m, next = 0;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_ANY), -ENOTSOCK);
    EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("no sockets"), std::string::npos)
        << nicsim_kern_last_error(k);
    EXPECT_EQ(nicsim_kern_map_get_next_key(k, m, nullptr, &next), 0);
    EXPECT_EQ(next, 0u);
    NEED_BPF();
    int kfd = kernel(BPF_MAP_TYPE_XSKMAP, 4, 4, 2);
    ASSERT_GE(kfd, 0);
    int other = kernel(BPF_MAP_TYPE_ARRAY, 4, 4, 2); // a map's descriptor, as the emulation has
    ASSERT_GE(other, 0);
    v = (uint32_t)other;
    EXPECT_EQ(kerr(bpf_map_update_elem(kfd, &key, &v, BPF_ANY)), -ENOTSOCK);
}

// Types the library has no ops for stay a documented special case: created, no elements.
TEST_F(HostMapTest, TypesWithoutLibraryOpsHaveNoElements)
{
    int m = ours(BPF_MAP_TYPE_SOCKMAP, 4, 4, 2);
    ASSERT_GE(m, 0);
    uint32_t key = 0, v = 0;
    EXPECT_EQ(nicsim_kern_map_lookup_elem(k, m, &key, &v), -EOPNOTSUPP);
    EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_ANY), -EOPNOTSUPP);
    EXPECT_EQ(ours(BPF_MAP_TYPE_SOCKMAP, 4, 4, 0), -EINVAL);
    nicsim_kern_close(k, m);
}

} // namespace
