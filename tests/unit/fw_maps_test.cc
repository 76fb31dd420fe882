// Map library (maps/): the kernel's rules for every map type with exact errnos, and
// kernel-differential tests running the same seeded random operations on a real kernel map and on
// the library and comparing every return code, value and get-next-key walk.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nicsim/fw_maps.h"
#include "nicsim/maptypes.h"

namespace
{

constexpr uint32_t HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERF = 4, PERCPU_HASH = 5, PERCPU_ARRAY = 6,
                   LRU_HASH = 9, LRU_PERCPU_HASH = 10, LPM = 11, ARRAY_OF_MAPS = 12,
                   HASH_OF_MAPS = 13, DEVMAP = 14, CPUMAP = 16, QUEUE = 22, STACK = 23,
                   DEVMAP_HASH = 25, RINGBUF = 27, BLOOM = 30;
constexpr uint32_t F_NO_PREALLOC = 1, F_NO_COMMON_LRU = 2, F_RDONLY = 8, F_WRONLY = 16,
                   F_ZERO_SEED = 64;
constexpr int ENOTSUPP_K = 524; // the kernel's internal ENOTSUPP, as bpf(2) returns it

using Bytes = std::vector<uint8_t>;

Bytes u32(uint32_t v)
{
    Bytes b(4);
    memcpy(b.data(), &v, 4);
    return b;
}

Bytes u64(uint64_t v)
{
    Bytes b(8);
    memcpy(b.data(), &v, 8);
    return b;
}

Bytes lpm_key(uint32_t plen, std::initializer_list<uint8_t> data, size_t data_size = 4)
{
    Bytes k(4 + data_size, 0);
    memcpy(k.data(), &plen, 4);
    std::copy(data.begin(), data.end(), k.begin() + 4);
    return k;
}

class FwMapsTest : public ::testing::Test
{
  protected:
    nicsim_fw_maps *m = nullptr;
    uint32_t n_cpus = 4;
    char msg[256] = "";

    void SetUp() override { open(4, 1 << 20); }
    void TearDown() override { nicsim_fw_maps__free(m); }

    void open(uint32_t cpus, uint64_t budget, uint32_t seed = 0)
    {
        nicsim_fw_maps__free(m);
        nicsim_fw_maps_opts o{};
        o.sz = sizeof(o);
        o.n_cpus = cpus;
        o.mem_budget = budget;
        o.max_id = 16;
        o.hash_seed = seed;
        n_cpus = cpus;
        m = nicsim_fw_maps__new(&o);
        ASSERT_NE(m, nullptr);
    }

    int create(uint32_t id, uint32_t type, uint32_t ks, uint32_t vs, uint32_t max,
               uint32_t flags = 0, uint32_t inner = 0)
    {
        nicsim_fw_map_attr a{};
        a.type = type;
        a.key_size = ks;
        a.value_size = vs;
        a.max_entries = max;
        a.flags = flags;
        a.inner_map_id = inner;
        msg[0] = 0;
        return nicsim_fw_maps__create(m, id, &a, msg, sizeof(msg));
    }
    int update(uint32_t id, const Bytes &k, const Bytes &v, uint64_t flags = 0)
    {
        return nicsim_fw_maps__update(m, id, k.data(), v.data(), flags, msg, sizeof(msg));
    }
    int lookup(uint32_t id, const Bytes &k, Bytes *v = nullptr)
    {
        Bytes tmp(std::max<size_t>(8, nicsim_fw_maps__host_value_size(m, id)));
        int e = nicsim_fw_maps__lookup(m, id, k.data(), tmp.data(), msg, sizeof(msg));
        if (v)
            *v = Bytes(tmp.begin(), tmp.begin() + nicsim_fw_maps__host_value_size(m, id));
        return e;
    }
    int del(uint32_t id, const Bytes &k)
    {
        return nicsim_fw_maps__delete(m, id, k.data(), msg, sizeof(msg));
    }
    int next(uint32_t id, const Bytes *k, Bytes *out, size_t ks)
    {
        out->assign(ks, 0);
        return nicsim_fw_maps__get_next_key(m, id, k ? k->data() : nullptr, out->data(), msg,
                                            sizeof(msg));
    }
    std::vector<Bytes> walk(uint32_t id, size_t ks)
    {
        std::vector<Bytes> keys;
        Bytes cur, nx;
        int e = next(id, nullptr, &nx, ks);
        while (e == 0 && keys.size() < 100000) {
            keys.push_back(nx);
            cur = nx;
            e = next(id, &cur, &nx, ks);
        }
        EXPECT_EQ(e, -ENOENT);
        return keys;
    }
};

// ---------------------------------------------------------------------------------------------
// Creation: the kernel's attribute checks.

TEST_F(FwMapsTest, CreateChecksAttributesAsTheKernel)
{
    EXPECT_EQ(create(1, ARRAY, 8, 4, 4), -EINVAL); // array keys are u32 indices
    EXPECT_NE(std::string(msg).find("4-byte keys"), std::string::npos) << msg;
    EXPECT_EQ(create(1, ARRAY, 4, 0, 4), -EINVAL);
    EXPECT_EQ(create(1, ARRAY, 4, 4, 0), -EINVAL);
    EXPECT_EQ(create(1, HASH, 0, 4, 4), -EINVAL);
    EXPECT_EQ(create(1, HASH, 4, 0, 4), -EINVAL);
    EXPECT_EQ(create(1, HASH, 4, 4, 0), -EINVAL);
    EXPECT_EQ(create(1, HASH, 4, 4, 4, F_NO_COMMON_LRU), -EINVAL); // LRU flag on a plain hash
    EXPECT_EQ(create(1, HASH, 4, 4, 4, F_RDONLY | F_WRONLY), -EINVAL);
    EXPECT_EQ(create(1, HASH, 4, 4, 4, 1u << 20), -EINVAL); // unknown flag
    EXPECT_EQ(create(1, HASH, 4, (4u << 20) - 48, 4), -E2BIG);
    EXPECT_EQ(create(1, LRU_HASH, 4, 4, 4, F_NO_PREALLOC), -ENOTSUPP_K);
    EXPECT_EQ(create(1, PERCPU_ARRAY, 4, 32769, 1), -E2BIG);
    EXPECT_EQ(create(1, PERCPU_HASH, 4, 32769, 1), -E2BIG);
    EXPECT_EQ(create(1, LPM, 8, 4, 4), -EINVAL); // LPM needs BPF_F_NO_PREALLOC
    EXPECT_NE(std::string(msg).find("BPF_F_NO_PREALLOC"), std::string::npos) << msg;
    EXPECT_EQ(create(1, LPM, 4, 4, 4, F_NO_PREALLOC), -EINVAL);   // no data byte
    EXPECT_EQ(create(1, LPM, 261, 4, 4, F_NO_PREALLOC), -EINVAL); // 257 data bytes
    EXPECT_EQ(create(1, LPM, 8, 0, 4, F_NO_PREALLOC), -EINVAL);
    EXPECT_EQ(create(1, PROG_ARRAY, 4, 8, 4), -EINVAL);
    EXPECT_EQ(create(1, DEVMAP, 4, 12, 4), -EINVAL);
    EXPECT_EQ(create(1, RINGBUF, 0, 0, 4000), -EINVAL);
    EXPECT_EQ(create(1, RINGBUF, 4, 0, 4096), -EINVAL);
    EXPECT_EQ(create(1, QUEUE, 4, 8, 4), -EINVAL);
    EXPECT_EQ(create(1, 9999, 4, 4, 4), -EINVAL);
    EXPECT_EQ(create(1, ARRAY_OF_MAPS, 4, 4, 4, 0, 7), -EINVAL); // no template map 7
    EXPECT_EQ(create(1, ARRAY, 4, 4, 4, 0, 2), -EINVAL);         // inner map for an array
    EXPECT_EQ(create(0, ARRAY, 4, 4, 4), -EINVAL);
    EXPECT_EQ(create(17, ARRAY, 4, 4, 4), -EINVAL);
    ASSERT_EQ(create(1, ARRAY, 4, 4, 4), 0) << msg;
    EXPECT_EQ(create(1, ARRAY, 4, 4, 4), -EEXIST);
    EXPECT_EQ(nicsim_fw_maps__destroy(m, 1), 0);
    EXPECT_EQ(nicsim_fw_maps__destroy(m, 1), -ENOENT);
}

TEST_F(FwMapsTest, EverySupportedTypeCanBeCreated)
{
    EXPECT_EQ(create(1, HASH, 8, 16, 64), 0) << msg;
    EXPECT_EQ(create(2, ARRAY, 4, 8, 16), 0) << msg;
    EXPECT_EQ(create(3, PROG_ARRAY, 4, 4, 4), 0) << msg;
    EXPECT_EQ(create(4, PERF, 4, 4, 4), 0) << msg;
    EXPECT_EQ(create(5, PERCPU_HASH, 4, 8, 16), 0) << msg;
    EXPECT_EQ(create(6, PERCPU_ARRAY, 4, 12, 4), 0) << msg;
    EXPECT_EQ(create(7, LRU_HASH, 4, 8, 16), 0) << msg;
    EXPECT_EQ(create(8, LRU_PERCPU_HASH, 4, 8, 16, F_NO_COMMON_LRU), 0) << msg;
    EXPECT_EQ(create(9, LPM, 8, 4, 16, F_NO_PREALLOC), 0) << msg;
    EXPECT_EQ(create(10, DEVMAP, 4, 8, 4), 0) << msg;
    EXPECT_EQ(create(11, DEVMAP_HASH, 4, 4, 4), 0) << msg;
    EXPECT_EQ(create(12, RINGBUF, 0, 0, 4096), 0) << msg;
    EXPECT_EQ(create(13, QUEUE, 0, 8, 4), 0) << msg;
    EXPECT_EQ(create(14, STACK, 0, 8, 4), 0) << msg;
    EXPECT_EQ(create(15, ARRAY_OF_MAPS, 4, 4, 4, 0, 2), 0) << msg;
    EXPECT_EQ(create(16, HASH_OF_MAPS, 4, 4, 4, 0, 2), 0) << msg;
    for (uint32_t t : {HASH, ARRAY, PROG_ARRAY, PERF, PERCPU_HASH, PERCPU_ARRAY, LRU_HASH,
                       LRU_PERCPU_HASH, LPM, DEVMAP, DEVMAP_HASH, CPUMAP, RINGBUF, QUEUE, STACK})
        EXPECT_TRUE(nicsim_fw_maps__type_supported(t)) << t;
    EXPECT_FALSE(nicsim_fw_maps__type_supported(7)); // cgroup array
}

// Every operation of every supported type reaches that type's own rules (its struct fm_map_ops in
// its family's file): on an empty map, each host and program operation answers the type's errno,
// and only the types with in-place values expose value memory.
TEST_F(FwMapsTest, EveryOperationOfEveryTypeAnswersWithItsTypesRules)
{
    const int NS = ENOTSUPP_K, OP = EOPNOTSUPP;
    struct Row {
        uint32_t type, ks, vs, max, flags;
        int lookup, del, next, lookup_del, prog_lookup, prog_del, devmap_get, prog_array_get,
            lookup_map, prog_update;
        bool value_mem;
    };
    // errnos as positive numbers; 0 success
    const Row rows[] = {
        {ARRAY, 4, 8, 4, 0, 0, EINVAL, 0, NS, 0, EINVAL, EINVAL, EINVAL, EINVAL, 0, true},
        {PERCPU_ARRAY, 4, 8, 4, 0, 0, EINVAL, 0, NS, 0, EINVAL, EINVAL, EINVAL, EINVAL, 0, true},
        {PROG_ARRAY, 4, 4, 4, 0, ENOENT, ENOENT, 0, NS, OP, OP, EINVAL, ENOENT, EINVAL, OP, false},
        {PERF, 4, 4, 4, 0, NS, ENOENT, 0, NS, OP, OP, EINVAL, EINVAL, EINVAL, OP, false},
        {ARRAY_OF_MAPS, 4, 4, 4, 0, ENOENT, ENOENT, 0, NS, OP, OP, EINVAL, EINVAL, ENOENT, OP,
         false},
        {HASH, 4, 8, 4, 0, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, EINVAL, EINVAL, EINVAL,
         0, true},
        {PERCPU_HASH, 4, 8, 4, 0, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, EINVAL, EINVAL,
         EINVAL, 0, true},
        {LRU_HASH, 4, 8, 4, 0, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, EINVAL, EINVAL,
         EINVAL, 0, true},
        {LRU_PERCPU_HASH, 4, 8, 4, 0, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, EINVAL,
         EINVAL, EINVAL, 0, true},
        {HASH_OF_MAPS, 4, 4, 4, 0, ENOENT, ENOENT, ENOENT, NS, ENOENT, ENOENT, EINVAL, EINVAL,
         ENOENT, OP, true},
        {LPM, 8, 8, 4, F_NO_PREALLOC, ENOENT, ENOENT, ENOENT, NS, ENOENT, ENOENT, EINVAL, EINVAL,
         EINVAL, 0, true},
        {DEVMAP, 4, 4, 4, 0, ENOENT, 0, 0, NS, OP, OP, ENOENT, EINVAL, EINVAL, OP, false},
        {DEVMAP_HASH, 4, 4, 4, 0, ENOENT, ENOENT, ENOENT, NS, OP, OP, ENOENT, EINVAL, EINVAL, OP,
         false},
        {CPUMAP, 4, 4, 4, 0, ENOENT, 0, 0, NS, OP, OP, ENOENT, EINVAL, EINVAL, OP, false},
        {QUEUE, 0, 8, 4, 0, ENOENT, EINVAL, EINVAL, ENOENT, OP, EINVAL, EINVAL, EINVAL, EINVAL, 0,
         false},
        {STACK, 0, 8, 4, 0, ENOENT, EINVAL, EINVAL, ENOENT, OP, EINVAL, EINVAL, EINVAL, EINVAL, 0,
         false},
        {BLOOM, 0, 8, 4, 0, ENOENT, OP, EINVAL, NS, OP, OP, EINVAL, EINVAL, EINVAL, 0, false},
        {RINGBUF, 0, 0, 4096, 0, NS, NS, NS, NS, OP, OP, EINVAL, EINVAL, EINVAL, OP, false},
    };
    uint8_t key[16] = {0}, val[64] = {0}, out[512];
    uint32_t u;
    size_t len;

    ASSERT_EQ(create(1, ARRAY, 4, 4, 4), 0) << msg; // the inner map template
    for (const Row &r : rows) {
        SCOPED_TRACE("map type " + std::to_string(r.type));
        ASSERT_EQ(create(2, r.type, r.ks, r.vs, r.max, r.flags,
                         r.type == ARRAY_OF_MAPS || r.type == HASH_OF_MAPS ? 1 : 0),
                  0)
            << msg;
        EXPECT_EQ(nicsim_fw_maps__lookup(m, 2, key, out, msg, sizeof(msg)), -r.lookup) << msg;
        EXPECT_EQ(nicsim_fw_maps__delete(m, 2, key, msg, sizeof(msg)), -r.del) << msg;
        EXPECT_EQ(nicsim_fw_maps__get_next_key(m, 2, nullptr, out, msg, sizeof(msg)), -r.next)
            << msg;
        EXPECT_EQ(nicsim_fw_maps__lookup_and_delete(m, 2, key, out, msg, sizeof(msg)),
                  -r.lookup_del)
            << msg;
        EXPECT_EQ(nicsim_fw_maps__prog_lookup(m, 2, 0, key, &u), -r.prog_lookup);
        EXPECT_EQ(nicsim_fw_maps__prog_delete(m, 2, 0, key), -r.prog_del);
        EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 2, 0, &u), -r.devmap_get);
        EXPECT_EQ(nicsim_fw_maps__prog_array_get(m, 2, 0, &u), -r.prog_array_get);
        EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 2, 0, key, &u), -r.lookup_map);
        EXPECT_EQ(nicsim_fw_maps__value_mem(m, 2, &len) != nullptr, r.value_mem);
        EXPECT_EQ(nicsim_fw_maps__prog_update(m, 2, 0, key, val, 0), -r.prog_update);
        EXPECT_EQ(nicsim_fw_maps__destroy(m, 2), 0);
    }
    // the sentences name the type's own rule
    ASSERT_EQ(create(2, QUEUE, 0, 8, 4), 0) << msg;
    EXPECT_EQ(nicsim_fw_maps__lookup(m, 2, key, out, msg, sizeof(msg)), -ENOENT);
    EXPECT_STREQ(msg, "queue: empty");
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 2), 0);
    ASSERT_EQ(create(2, PERCPU_ARRAY, 4, 8, 4), 0) << msg;
    EXPECT_EQ(nicsim_fw_maps__delete(m, 2, key, msg, sizeof(msg)), -EINVAL);
    EXPECT_STREQ(msg, "per-CPU array: flags invalid, or array elements cannot be deleted");
    u = 4;
    EXPECT_EQ(nicsim_fw_maps__get_next_key(m, 2, u32(3).data(), out, msg, sizeof(msg)), -ENOENT);
    EXPECT_STREQ(msg, "map 2: no index after 3");
}

// The options struct follows the one options rule (nicsim_opts_copy, libbpf's OPTS_VALID): a
// caller's longer struct is taken only when its unknown tail is zero; a shorter one lacking
// max_id is refused.
TEST(FwMapsOptsTest, OptionsFollowTheOneOptionsRule)
{
    struct {
        nicsim_fw_maps_opts o;
        uint64_t tail;
    } big{};
    big.o.sz = sizeof(big);
    big.o.n_cpus = 2;
    big.o.max_id = 4;
    nicsim_fw_maps *m = nicsim_fw_maps__new(&big.o);
    EXPECT_NE(m, nullptr); // zero tail: accepted
    nicsim_fw_maps__free(m);
    big.tail = 1;
    errno = 0;
    EXPECT_EQ(nicsim_fw_maps__new(&big.o), nullptr); // a field this library does not know
    EXPECT_EQ(errno, EINVAL);
    nicsim_fw_maps_opts o{};
    o.sz = offsetof(nicsim_fw_maps_opts, max_id); // max_id missing: reads 0
    o.n_cpus = 2;
    o.max_id = 4;
    EXPECT_EQ(nicsim_fw_maps__new(&o), nullptr);
    o.sz = 4; // cannot hold the size field
    EXPECT_EQ(nicsim_fw_maps__new(&o), nullptr);
}

// The per-CPU value layout is defined once (nicsim/maptypes.h) and the map library, the control
// client, the CLI and the kernel reference all use it: the library's host value size is that
// rule, and packing/padding round-trips with the padding zeroed.
TEST_F(FwMapsTest, PerCpuValueLayoutIsTheSharedRule)
{
    EXPECT_EQ(nicsim_map_type_is_percpu(PERCPU_HASH), 1);
    EXPECT_EQ(nicsim_map_type_is_percpu(PERCPU_ARRAY), 1);
    EXPECT_EQ(nicsim_map_type_is_percpu(LRU_PERCPU_HASH), 1);
    EXPECT_EQ(nicsim_map_type_is_percpu(HASH), 0);
    ASSERT_EQ(create(1, PERCPU_HASH, 4, 12, 4), 0) << msg;
    ASSERT_EQ(create(2, HASH, 4, 12, 4), 0) << msg;
    EXPECT_EQ(nicsim_fw_maps__host_value_size(m, 1), 16u * n_cpus);
    EXPECT_EQ(nicsim_fw_maps__host_value_size(m, 1), nicsim_map_value_bytes(1, 12, n_cpus));
    EXPECT_EQ(nicsim_fw_maps__host_value_size(m, 2), nicsim_map_value_bytes(0, 12, n_cpus));
    EXPECT_EQ(nicsim_map_value_bytes(0, 12, n_cpus), 12u);

    Bytes packed(12 * 3), padded(16 * 3, 0xee), back(12 * 3, 0);
    for (size_t i = 0; i < packed.size(); i++)
        packed[i] = (uint8_t)(i + 1);
    nicsim_percpu_pad(padded.data(), packed.data(), 12, 3);
    for (uint32_t c = 0; c < 3; c++) {
        EXPECT_EQ(memcmp(padded.data() + 16 * c, packed.data() + 12 * c, 12), 0) << c;
        for (uint32_t i = 12; i < 16; i++)
            EXPECT_EQ(padded[16 * c + i], 0) << c << " " << i;
    }
    nicsim_percpu_unpad(back.data(), padded.data(), 12, 3);
    EXPECT_EQ(back, packed);
}

TEST_F(FwMapsTest, MemoryIsChargedByTheDocumentedFormula)
{
    open(4, 64 << 10);
    nicsim_fw_map_info info{};
    EXPECT_EQ(create(1, ARRAY, 4, 1024, 128), -ENOMEM); // 128 KiB of values
    EXPECT_NE(std::string(msg).find("left"), std::string::npos) << msg;
    ASSERT_EQ(create(1, ARRAY, 4, 1020, 32), 0) << msg;
    ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
    EXPECT_EQ(info.mem, 64u + 32 * 1024); // 64 + N * round8(value)
    EXPECT_EQ(nicsim_fw_maps__mem_used(m), info.mem);
    ASSERT_EQ(create(2, PERCPU_HASH, 4, 4, 16), 0) << msg;
    ASSERT_EQ(nicsim_fw_maps__info(m, 2, &info), 0);
    EXPECT_EQ(info.mem, 64u + 8 * 16 + 16 * (32 + 8 + 8 * 4));
    EXPECT_EQ(create(3, ARRAY, 4, 1024, 40), -ENOMEM);
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 1), 0);
    EXPECT_EQ(create(3, ARRAY, 4, 1024, 40), 0) << msg;
}

// ---------------------------------------------------------------------------------------------
// Arrays.

TEST_F(FwMapsTest, ArrayFollowsKernelRules)
{
    ASSERT_EQ(create(1, ARRAY, 4, 8, 3), 0);
    Bytes v;
    EXPECT_EQ(lookup(1, u32(2), &v), 0);
    EXPECT_EQ(v, Bytes(8, 0)); // zeroed at creation
    EXPECT_EQ(lookup(1, u32(3)), -ENOENT);
    EXPECT_EQ(update(1, u32(3), u64(1)), -E2BIG);
    EXPECT_EQ(update(1, u32(1), u64(1), 1 /* NOEXIST */), -EEXIST);
    EXPECT_EQ(update(1, u32(1), u64(7), 2 /* EXIST */), 0);
    EXPECT_EQ(update(1, u32(1), u64(7), 4 /* F_LOCK */), -EINVAL);
    EXPECT_EQ(update(1, u32(1), u64(7), 3), -EINVAL);
    EXPECT_EQ(del(1, u32(1)), -EINVAL);
    EXPECT_EQ(lookup(1, u32(1), &v), 0);
    EXPECT_EQ(v, u64(7));
    Bytes k;
    EXPECT_EQ(next(1, nullptr, &k, 4), 0);
    EXPECT_EQ(k, u32(0));
    Bytes far = u32(99);
    EXPECT_EQ(next(1, &far, &k, 4), 0); // out of range restarts at 0
    EXPECT_EQ(k, u32(0));
    Bytes last = u32(2);
    EXPECT_EQ(next(1, &last, &k, 4), -ENOENT);
    EXPECT_EQ(walk(1, 4).size(), 3u);
    EXPECT_EQ(nicsim_fw_maps__lookup_and_delete(m, 1, u32(0).data(), v.data(), msg, sizeof(msg)),
              -ENOTSUPP_K);
}

TEST_F(FwMapsTest, AccessFlagsRestrictTheHost)
{
    ASSERT_EQ(create(1, ARRAY, 4, 8, 3, F_RDONLY), 0);
    EXPECT_EQ(update(1, u32(0), u64(1)), -EPERM);
    EXPECT_EQ(lookup(1, u32(0)), 0);
    ASSERT_EQ(create(2, HASH, 4, 8, 3, F_WRONLY), 0);
    EXPECT_EQ(update(2, u32(0), u64(1)), 0);
    EXPECT_EQ(lookup(2, u32(0)), -EPERM);
    Bytes k;
    EXPECT_EQ(next(2, nullptr, &k, 4), -EPERM);
}

TEST_F(FwMapsTest, PerCpuValuesHaveOneSlicePerCpu)
{
    ASSERT_EQ(create(1, PERCPU_ARRAY, 4, 4, 2), 0);
    EXPECT_EQ(nicsim_fw_maps__host_value_size(m, 1), 8u * 4);
    Bytes hv(32);
    for (size_t i = 0; i < hv.size(); i++)
        hv[i] = (uint8_t)(i + 1);
    ASSERT_EQ(update(1, u32(1), hv), 0);
    Bytes got;
    ASSERT_EQ(lookup(1, u32(1), &got), 0);
    EXPECT_EQ(got, hv); // whole 8-byte slices, padding included, as copy_map_value_long
    // a program sees its own slice in value memory
    uint32_t off = 0;
    ASSERT_EQ(nicsim_fw_maps__prog_lookup(m, 1, 2, u32(1).data(), &off), 0);
    size_t len = 0;
    uint8_t *mem = nicsim_fw_maps__value_mem(m, 1, &len);
    ASSERT_NE(mem, nullptr);
    nicsim_fw_map_info info{};
    ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
    EXPECT_EQ(info.value_stride, 32u);
    EXPECT_EQ(info.n_cpus, 4u);
    EXPECT_EQ(len, 2u * 32);
    EXPECT_EQ(off, 32u + 2 * 8);
    EXPECT_EQ(mem[off], 17);
    EXPECT_EQ(nicsim_fw_maps__prog_lookup(m, 1, 4, u32(1).data(), &off), -EINVAL); // no CPU 4

    // per-CPU hash: a program's update of a new element zeroes the other CPUs' slices
    ASSERT_EQ(create(2, PERCPU_HASH, 4, 4, 4), 0);
    Bytes v = u32(0xabcd);
    ASSERT_EQ(nicsim_fw_maps__prog_update(m, 2, 1, u32(5).data(), v.data(), 0), 0);
    ASSERT_EQ(lookup(2, u32(5), &got), 0);
    Bytes want(32, 0);
    memcpy(want.data() + 8, v.data(), 4);
    EXPECT_EQ(got, want);
    // an existing element: only that CPU's slice changes
    ASSERT_EQ(nicsim_fw_maps__prog_update(m, 2, 3, u32(5).data(), v.data(), 2), 0);
    memcpy(want.data() + 24, v.data(), 4);
    ASSERT_EQ(lookup(2, u32(5), &got), 0);
    EXPECT_EQ(got, want);
    EXPECT_EQ(nicsim_fw_maps__prog_update(m, 2, 0, u32(5).data(), v.data(), 1), -EEXIST);
}

// ---------------------------------------------------------------------------------------------
// Hash maps.

TEST_F(FwMapsTest, HashFollowsKernelUpdateRules)
{
    ASSERT_EQ(create(1, HASH, 4, 8, 2), 0);
    EXPECT_EQ(lookup(1, u32(1)), -ENOENT);
    EXPECT_EQ(update(1, u32(1), u64(1), 2), -ENOENT);
    EXPECT_EQ(update(1, u32(1), u64(1), 1), 0);
    EXPECT_EQ(update(1, u32(1), u64(2), 1), -EEXIST);
    EXPECT_EQ(update(1, u32(2), u64(2)), 0);
    EXPECT_EQ(update(1, u32(3), u64(3)), -E2BIG); // full
    EXPECT_EQ(update(1, u32(2), u64(9)), 0);      // replacing works when full
    EXPECT_EQ(update(1, u32(2), u64(9), 4), -EINVAL);
    EXPECT_EQ(del(1, u32(3)), -ENOENT);
    EXPECT_EQ(del(1, u32(1)), 0);
    EXPECT_EQ(update(1, u32(3), u64(3)), 0);
    Bytes v(8);
    EXPECT_EQ(nicsim_fw_maps__lookup_and_delete(m, 1, u32(3).data(), v.data(), msg, sizeof(msg)),
              0);
    EXPECT_EQ(v, u64(3));
    EXPECT_EQ(lookup(1, u32(3)), -ENOENT);
    nicsim_fw_map_info info{};
    ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
    EXPECT_EQ(info.count, 1u);
}

TEST_F(FwMapsTest, HashIterationFollowsTheKernelBuckets)
{
    // zero seed, 4-byte keys: bucket = jhash2(key, 1, 0) & (n_buckets - 1); within a bucket the
    // newest element first; a key not in the map restarts from the first.
    ASSERT_EQ(create(1, HASH, 4, 4, 8, F_ZERO_SEED), 0);
    for (uint32_t k = 0; k < 8; k++)
        ASSERT_EQ(update(1, u32(k), u32(k)), 0);
    auto keys = walk(1, 4);
    ASSERT_EQ(keys.size(), 8u);
    Bytes first, missing = u32(1000);
    ASSERT_EQ(next(1, &missing, &first, 4), 0);
    EXPECT_EQ(first, keys[0]);
    // replacing a key moves it to the head of its bucket: the walk changes only within buckets
    ASSERT_EQ(update(1, keys[1], u32(1)), 0);
    auto again = walk(1, 4);
    EXPECT_EQ(std::set<Bytes>(again.begin(), again.end()),
              std::set<Bytes>(keys.begin(), keys.end()));
}

TEST_F(FwMapsTest, LruEvictsInsteadOfFailing)
{
    ASSERT_EQ(create(1, LRU_HASH, 4, 8, 8), 0);
    for (uint32_t k = 0; k < 100; k++)
        ASSERT_EQ(update(1, u32(k), u64(k)), 0) << k;
    nicsim_fw_map_info info{};
    ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
    EXPECT_LE(info.count, 8u);
    EXPECT_GT(info.count, 0u);
    EXPECT_EQ(lookup(1, u32(99)), 0); // the newest survives
    EXPECT_EQ(lookup(1, u32(0)), -ENOENT);
    // a per-CPU LRU list per CPU: max_entries rounds up to a multiple of the CPUs
    ASSERT_EQ(create(2, LRU_HASH, 4, 8, 9, F_NO_COMMON_LRU), 0);
    ASSERT_EQ(nicsim_fw_maps__info(m, 2, &info), 0);
    EXPECT_EQ(info.max_entries, 12u);
}

TEST_F(FwMapsTest, LruProgramLookupProtectsAnElement)
{
    // one CPU, 4 elements: a referenced element survives the next shrink of the inactive list
    open(1, 1 << 20);
    ASSERT_EQ(create(1, LRU_HASH, 4, 8, 4), 0);
    for (uint32_t k = 1; k <= 4; k++)
        ASSERT_EQ(update(1, u32(k), u64(k)), 0);
    uint32_t off;
    ASSERT_EQ(nicsim_fw_maps__prog_lookup(m, 1, 0, u32(1).data(), &off), 0);
    ASSERT_EQ(update(1, u32(5), u64(5)), 0);
    EXPECT_EQ(lookup(1, u32(1)), 0) << "the referenced key was evicted";
    EXPECT_EQ(lookup(1, u32(2)), -ENOENT) << "the oldest unreferenced key should go";
}

// ---------------------------------------------------------------------------------------------
// LPM trie.

TEST_F(FwMapsTest, LpmFollowsKernelRules)
{
    ASSERT_EQ(create(1, LPM, 8, 4, 3, F_NO_PREALLOC), 0);
    EXPECT_EQ(update(1, lpm_key(33, {10}), u32(1)), -EINVAL); // > 8 * data size
    EXPECT_EQ(del(1, lpm_key(33, {10})), -EINVAL);
    EXPECT_EQ(update(1, lpm_key(8, {10}), u32(8), 2), -ENOENT);
    ASSERT_EQ(update(1, lpm_key(8, {10}), u32(8)), 0);
    ASSERT_EQ(update(1, lpm_key(16, {10, 1}), u32(16)), 0);
    EXPECT_EQ(update(1, lpm_key(16, {10, 1}), u32(17), 1), -EEXIST);
    ASSERT_EQ(update(1, lpm_key(24, {10, 1, 2}), u32(24)), 0);
    EXPECT_EQ(update(1, lpm_key(24, {10, 1, 3}), u32(1)), -ENOSPC); // full
    EXPECT_EQ(update(1, lpm_key(24, {10, 1, 2}), u32(25)), 0);      // replacing works when full
    Bytes v;
    EXPECT_EQ(lookup(1, lpm_key(32, {10, 1, 2, 7}), &v), 0);
    EXPECT_EQ(v, u32(25));
    EXPECT_EQ(lookup(1, lpm_key(32, {10, 1, 9, 7}), &v), 0);
    EXPECT_EQ(v, u32(16));
    EXPECT_EQ(lookup(1, lpm_key(32, {10, 2, 9, 7}), &v), 0);
    EXPECT_EQ(v, u32(8));
    EXPECT_EQ(lookup(1, lpm_key(32, {11}), &v), -ENOENT);
    EXPECT_EQ(lookup(1, lpm_key(40, {10}), &v), -ENOENT);
    // post-order: more specific first
    auto keys = walk(1, 8);
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_EQ(keys[0], lpm_key(24, {10, 1, 2}));
    EXPECT_EQ(keys[1], lpm_key(16, {10, 1}));
    EXPECT_EQ(keys[2], lpm_key(8, {10}));
    EXPECT_EQ(del(1, lpm_key(16, {10, 2})), -ENOENT);
    EXPECT_EQ(del(1, lpm_key(16, {10, 1})), 0);
    EXPECT_EQ(lookup(1, lpm_key(32, {10, 1, 9, 7}), &v), 0);
    EXPECT_EQ(v, u32(8));
}

// ---------------------------------------------------------------------------------------------
// Devmaps, prog arrays, event maps, queues (library rules: the kernel needs real ifindexes and
// program fds for these).

TEST_F(FwMapsTest, DevmapFollowsKernelRules)
{
    ASSERT_EQ(create(1, DEVMAP, 4, 4, 4), 0);
    EXPECT_EQ(nicsim_fw_maps__value_mem(m, 1, nullptr), nullptr);
    EXPECT_EQ(update(1, u32(4), u32(7)), -E2BIG);
    EXPECT_EQ(update(1, u32(0), u32(7), 1), -EEXIST);
    EXPECT_EQ(update(1, u32(0), u32(7), 3), -EINVAL);
    ASSERT_EQ(update(1, u32(1), u32(7)), 0);
    uint32_t ifindex = 0;
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 1, &ifindex), 0);
    EXPECT_EQ(ifindex, 7u);
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 0, &ifindex), -ENOENT);
    EXPECT_EQ(lookup(1, u32(0)), -ENOENT);
    EXPECT_EQ(del(1, u32(4)), -EINVAL);
    EXPECT_EQ(del(1, u32(0)), 0);            // empty slots delete fine
    ASSERT_EQ(update(1, u32(1), u32(0)), 0); // ifindex 0 empties the slot
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 1, &ifindex), -ENOENT);
    EXPECT_EQ(walk(1, 4).size(), 4u);
    ASSERT_EQ(create(2, DEVMAP, 4, 8, 4), 0);
    Bytes withprog = u64(7 | (5ull << 32)); // a program fd: not run by the NIC
    EXPECT_EQ(update(2, u32(0), withprog), -EINVAL);
    Bytes v;
    ASSERT_EQ(update(2, u32(0), u64(9 | (0xffffffffull << 32))), 0); // fd -1: none
    ASSERT_EQ(lookup(2, u32(0), &v), 0);
    EXPECT_EQ(v, u64(9)); // ifindex, prog id 0
}

TEST_F(FwMapsTest, CpumapFollowsKernelRules)
{
    EXPECT_EQ(create(1, CPUMAP, 4, 8, 129), -E2BIG); // more than the NIC's 128 host CPUs
    EXPECT_NE(std::string(msg).find("128 host CPUs"), std::string::npos) << msg;
    EXPECT_EQ(create(1, CPUMAP, 4, 8, 4, F_RDONLY), -EINVAL);
    ASSERT_EQ(create(1, CPUMAP, 4, 8, 4), 0) << msg;
    EXPECT_EQ(nicsim_fw_maps__value_mem(m, 1, nullptr), nullptr);
    Bytes q = u64(2048), v;
    EXPECT_EQ(update(1, u32(4), q), -E2BIG);
    EXPECT_EQ(update(1, u32(0), q, 1), -EEXIST); // BPF_NOEXIST
    EXPECT_EQ(update(1, u32(0), q, 3), -EINVAL);
    EXPECT_EQ(update(1, u32(0), u64(16385)), -EOVERFLOW);
    EXPECT_NE(std::string(msg).find("qsize 16385 is more than 16384"), std::string::npos) << msg;
    EXPECT_EQ(update(1, u32(2), u64(5 | (7ull << 32))), -EOPNOTSUPP); // a program fd
    EXPECT_NE(std::string(msg).find("CPU 2: bpf_prog.fd 7: the NIC cannot run a second program"),
              std::string::npos)
        << msg;
    uint32_t cpu = 99;
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 2, &cpu), -ENOENT);
    ASSERT_EQ(update(1, u32(2), u64(16384 | (0xffffffffull << 32))), 0); // fd -1: none
    ASSERT_EQ(lookup(1, u32(2), &v), 0);
    EXPECT_EQ(v, u64(16384)); // qsize, bpf_prog.id 0
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 2, &cpu), 0);
    EXPECT_EQ(cpu, 2u); // the host CPU is the key
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 4, &cpu), -ENOENT);
    EXPECT_EQ(lookup(1, u32(1)), -ENOENT);
    EXPECT_EQ(walk(1, 4).size(), 4u);
    ASSERT_EQ(update(1, u32(2), u64(0)), 0); // qsize 0: same as deleting
    EXPECT_EQ(lookup(1, u32(2)), -ENOENT);
    EXPECT_EQ(del(1, u32(4)), -EINVAL);
    EXPECT_EQ(del(1, u32(3)), 0); // empty slots delete fine
    // programs may only redirect into a cpumap
    EXPECT_EQ(nicsim_fw_maps__prog_update(m, 1, 0, u32(0).data(), q.data(), 0), -EOPNOTSUPP);
    ASSERT_EQ(create(2, CPUMAP, 4, 4, 2), 0) << msg; // value: qsize only
    ASSERT_EQ(update(2, u32(1), u32(64)), 0);
    ASSERT_EQ(lookup(2, u32(1), &v), 0);
    EXPECT_EQ(v, u32(64));
}

// Element rules next to the running kernel's cpumap (only CPUs this machine has: the kernel
// answers -ENODEV for others, the NIC's host has 128).
TEST(FwMapsKernelCpumapTest, SameUpdateLookupDeleteAsKernel)
{
    int n_cpus = libbpf_num_possible_cpus();
    ASSERT_GT(n_cpus, 0);
    int kfd = bpf_map_create(BPF_MAP_TYPE_CPUMAP, nullptr, 4, 8, 4, nullptr);
    if (kfd == -EPERM || kfd == -ENOSYS || kfd == -EACCES)
        GTEST_SKIP() << "bpf() is not available here (" << strerror(-kfd) << ")";
    ASSERT_GE(kfd, 0);
    nicsim_fw_maps_opts o{};
    o.sz = sizeof(o);
    o.n_cpus = 4;
    o.max_id = 1;
    o.mem_budget = 1 << 20;
    nicsim_fw_maps *m = nicsim_fw_maps__new(&o);
    ASSERT_NE(m, nullptr);
    nicsim_fw_map_attr a{};
    a.type = CPUMAP;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 4;
    char msg[256];
    ASSERT_EQ(nicsim_fw_maps__create(m, 1, &a, msg, sizeof(msg)), 0) << msg;
    uint32_t last = n_cpus >= 2 ? 1 : 0;
    struct Op {
        char kind; // u(pdate), d(elete), l(ookup)
        uint32_t key;
        uint64_t value, flags;
    } ops[] = {
        {'l', 0, 0, 0},     {'u', 0, 256, 0},  {'l', 0, 0, 0},
        {'u', 0, 512, 2},   {'l', 0, 0, 0},    {'u', 0, 512, 1},
        {'u', 0, 512, 4},   {'u', 4, 512, 0},  {'u', 0, 16385, 0},
        {'u', 0, 16384, 0}, {'l', 0, 0, 0},    {'u', last, 64, 0},
        {'l', last, 0, 0},  {'u', 0, 0, 0},    {'l', 0, 0, 0},
        {'d', 4, 0, 0},     {'d', last, 0, 0}, {'l', last, 0, 0},
        {'d', last, 0, 0},  {'l', 5, 0, 0},    {'u', 0, 8 | (0xffffffffull << 32), 0},
        {'l', 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        const Op &op = ops[i];
        uint64_t kv = 0xdeadbeefdeadbeefull, nv = kv;
        int ke, ne;
        switch (op.kind) {
        case 'u':
            ke = bpf_map_update_elem(kfd, &op.key, &op.value, op.flags) < 0 ? -errno : 0;
            ne = nicsim_fw_maps__update(m, 1, &op.key, &op.value, op.flags, msg, sizeof(msg));
            break;
        case 'd':
            ke = bpf_map_delete_elem(kfd, &op.key) < 0 ? -errno : 0;
            ne = nicsim_fw_maps__delete(m, 1, &op.key, msg, sizeof(msg));
            break;
        default:
            ke = bpf_map_lookup_elem(kfd, &op.key, &kv) < 0 ? -errno : 0;
            ne = nicsim_fw_maps__lookup(m, 1, &op.key, &nv, msg, sizeof(msg));
            break;
        }
        EXPECT_EQ(ne, ke) << "op " << i << " " << op.kind << " key " << op.key;
        if (op.kind == 'l' && ke == 0) {
            EXPECT_EQ(nv, kv) << "op " << i << ": qsize and bpf_prog.id";
        }
    }
    uint32_t kk, nk;
    for (uint32_t k = 0; k <= 4; k++) {
        int ke = bpf_map_get_next_key(kfd, k == 4 ? nullptr : &k, &kk) < 0 ? -errno : 0;
        int ne = nicsim_fw_maps__get_next_key(m, 1, k == 4 ? nullptr : &k, &nk, msg, sizeof(msg));
        EXPECT_EQ(ne, ke) << k;
        if (!ke) {
            EXPECT_EQ(nk, kk) << k;
        }
    }
    nicsim_fw_maps__free(m);
    close(kfd);
}

TEST_F(FwMapsTest, DevmapHashFollowsKernelRules)
{
    ASSERT_EQ(create(1, DEVMAP_HASH, 4, 4, 2), 0);
    EXPECT_EQ(update(1, u32(5), u32(0)), -EINVAL); // ifindex 0
    EXPECT_EQ(update(1, u32(5), u32(50), 2), 0);   // BPF_EXIST is not checked
    EXPECT_EQ(update(1, u32(5), u32(51), 1), -EEXIST);
    EXPECT_EQ(update(1, u32(6), u32(60)), 0);
    EXPECT_EQ(update(1, u32(7), u32(70)), -E2BIG);
    uint32_t ifindex = 0;
    EXPECT_EQ(nicsim_fw_maps__devmap_get(m, 1, 6, &ifindex), 0);
    EXPECT_EQ(ifindex, 60u);
    // buckets by index & (n_buckets - 1): 6 before 5? 2 buckets: 6 -> 0, 5 -> 1
    auto keys = walk(1, 4);
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0], u32(6));
    EXPECT_EQ(keys[1], u32(5));
    EXPECT_EQ(del(1, u32(7)), -ENOENT);
    EXPECT_EQ(del(1, u32(5)), 0);
}

TEST_F(FwMapsTest, ProgArrayHoldsProgramIds)
{
    ASSERT_EQ(create(1, PROG_ARRAY, 4, 4, 4), 0);
    EXPECT_EQ(update(1, u32(0), u32(3), 1), -EINVAL); // only BPF_ANY
    EXPECT_EQ(update(1, u32(4), u32(3)), -E2BIG);
    EXPECT_EQ(lookup(1, u32(0)), -ENOENT);
    ASSERT_EQ(update(1, u32(2), u32(3)), 0);
    Bytes v;
    ASSERT_EQ(lookup(1, u32(2), &v), 0);
    EXPECT_EQ(v, u32(3));
    uint32_t prog = 0;
    EXPECT_EQ(nicsim_fw_maps__prog_array_get(m, 1, 2, &prog), 0);
    EXPECT_EQ(prog, 3u);
    EXPECT_EQ(nicsim_fw_maps__prog_array_get(m, 1, 1, &prog), -ENOENT);
    EXPECT_EQ(del(1, u32(4)), -E2BIG);
    EXPECT_EQ(del(1, u32(1)), -ENOENT);
    EXPECT_EQ(del(1, u32(2)), 0);
    EXPECT_EQ(nicsim_fw_maps__prog_array_get(m, 1, 2, &prog), -ENOENT);
}

TEST_F(FwMapsTest, EventMapsAreCreatedOnly)
{
    ASSERT_EQ(create(1, PERF, 4, 4, 4), 0);
    EXPECT_EQ(lookup(1, u32(0)), -ENOTSUPP_K);
    ASSERT_EQ(create(2, RINGBUF, 0, 0, 8192), 0);
    Bytes none;
    EXPECT_EQ(update(2, u32(0), u32(0)), -ENOTSUPP_K);
    EXPECT_EQ(lookup(2, u32(0)), -ENOTSUPP_K);
    EXPECT_EQ(del(2, u32(0)), -ENOTSUPP_K);
    EXPECT_EQ(next(2, nullptr, &none, 4), -ENOTSUPP_K);
    EXPECT_EQ(nicsim_fw_maps__value_mem(m, 2, nullptr), nullptr);
}

TEST_F(FwMapsTest, QueueAndStack)
{
    ASSERT_EQ(create(1, QUEUE, 0, 8, 2), 0);
    ASSERT_EQ(create(2, STACK, 0, 8, 2), 0);
    for (uint64_t v : {1, 2}) {
        ASSERT_EQ(update(1, {}, u64(v)), 0);
        ASSERT_EQ(update(2, {}, u64(v)), 0);
    }
    EXPECT_EQ(update(1, {}, u64(3)), -E2BIG);
    EXPECT_EQ(update(1, {}, u64(3), 1), -EINVAL);
    EXPECT_EQ(update(1, {}, u64(3), 2), 0); // BPF_EXIST drops the oldest
    Bytes v(8);
    ASSERT_EQ(nicsim_fw_maps__lookup_and_delete(m, 1, nullptr, v.data(), msg, sizeof(msg)), 0);
    EXPECT_EQ(v, u64(2));
    ASSERT_EQ(nicsim_fw_maps__lookup_and_delete(m, 2, nullptr, v.data(), msg, sizeof(msg)), 0);
    EXPECT_EQ(v, u64(2));
    EXPECT_EQ(del(1, {}), -EINVAL);
}

// Sizes at the 32-bit boundaries: each of these once hung (roundup_pow2 looping on 2^31 + 1),
// divided by a wrapped zero or built a structure smaller than its max_entries. Every one is now
// refused with -E2BIG and a sentence naming the limit, with an unlimited budget (nothing else
// stops them).
TEST_F(FwMapsTest, SizesAtTheThirtyTwoBitBoundariesAreRefusedNotWrapped)
{
    open(3, 0); // 3 CPUs: the per-CPU LRU rounding of 2^31 passes 2^31; unlimited budget
    ASSERT_EQ(create(1, ARRAY, 4, 8, 4), 0) << msg; // template for the map-in-map cases
    for (uint32_t max : {0x80000001u, 0xffffffffu}) {
        EXPECT_EQ(create(2, HASH_OF_MAPS, 4, 4, max, 0, 1), -E2BIG) << max; // hung before
        EXPECT_NE(std::string(msg).find("2147483648"), std::string::npos) << msg;
        EXPECT_EQ(create(2, HASH, 4, 8, max), -E2BIG) << max;
        EXPECT_EQ(create(2, PERCPU_HASH, 4, 8, max), -E2BIG) << max;
        EXPECT_EQ(create(2, LRU_HASH, 4, 8, max), -E2BIG) << max;
        EXPECT_EQ(create(2, DEVMAP_HASH, 4, 4, max), -EINVAL) << max; // devmap.c says EINVAL
        EXPECT_EQ(create(2, ARRAY, 4, 4, max), -E2BIG) << max;
        EXPECT_EQ(create(2, ARRAY_OF_MAPS, 4, 4, max, 0, 1), -E2BIG) << max;
        EXPECT_EQ(create(2, PROG_ARRAY, 4, 4, max), -E2BIG) << max;
    }
    // 2^31 is the kernel's hash limit itself, but rounded up to 3 CPUs it passes it.
    EXPECT_EQ(create(2, LRU_PERCPU_HASH, 4, 8, 0x80000000u, F_NO_COMMON_LRU), -E2BIG);
    // queue of 0xffffffff: max_entries + 1 slots wrapped to 0 (a division by zero on push).
    EXPECT_EQ(create(2, QUEUE, 0, 1, 0xffffffffu), -E2BIG);
    EXPECT_NE(std::string(msg).find("4294967296 elements"), std::string::npos) << msg;
    EXPECT_EQ(create(2, STACK, 0, 1, 0xffffffffu), -E2BIG);
    // LPM: 2 * max_entries nodes wrapped to 0 (2^31) or 2 (2^31 + 1).
    for (uint32_t max : {0x80000000u, 0x80000001u, 0xffffffffu}) {
        EXPECT_EQ(create(2, LPM, 8, 4, max, F_NO_PREALLOC), -E2BIG) << max;
        EXPECT_NE(std::string(msg).find("LPM"), std::string::npos) << msg;
    }
    // slot * stride past the 32-bit region offset: 2^29 elements of 8 bytes is 4 GiB.
    EXPECT_EQ(create(2, ARRAY, 4, 8, 1u << 29), -E2BIG);
    EXPECT_NE(std::string(msg).find("map region"), std::string::npos) << msg;
    EXPECT_EQ(create(2, PERCPU_ARRAY, 4, 8, 1u << 28), -E2BIG); // 3 slices of 8 bytes
    EXPECT_EQ(create(2, HASH, 4, 0x7fffff, 1u << 10), -E2BIG);  // key + value >= 4 MiB
    EXPECT_EQ(create(2, BLOOM, 0, (4u << 20) + 1, 16), -E2BIG); // bloom_map_alloc_check
    EXPECT_EQ(nicsim_fw_maps__mem_used(m), 64u + 4 * 8) << "nothing was charged";

    // Below the limits the same types are sized in 64 bits: with a budget they are -ENOMEM,
    // with the 64-bit charge in the sentence.
    open(3, 1 << 20);
    EXPECT_EQ(create(2, BLOOM, 0, 8, 0xffffffffu), -ENOMEM); // 2^32 bits
    EXPECT_NE(std::string(msg).find("536870976"), std::string::npos) << msg;
    EXPECT_EQ(create(2, QUEUE, 0, 2, 0xfffffff0u), -E2BIG); // 0xfffffff1 slots of 2: region
    EXPECT_EQ(create(2, HASH, 4, 8, 0x80000000u), -E2BIG);  // 2^31 * 8 bytes of values: region
    EXPECT_EQ(create(2, HASH, 4, 4, 0x1fffffffu), -ENOMEM);
    EXPECT_NE(std::string(msg).find("needs 30064771088 bytes"), std::string::npos) << msg;
}

TEST_F(FwMapsTest, QueueWrapsAroundItsRingInSixtyFourBits)
{
    ASSERT_EQ(create(1, QUEUE, 0, 4, 3), 0) << msg;
    Bytes v(4);
    for (uint32_t i = 0; i < 20; i++) {
        ASSERT_EQ(update(1, {}, u32(i)), 0) << i;
        if (i >= 2) {
            ASSERT_EQ(nicsim_fw_maps__lookup_and_delete(m, 1, nullptr, v.data(), msg, sizeof(msg)),
                      0);
            EXPECT_EQ(v, u32(i - 2));
        }
    }
}

TEST_F(FwMapsTest, MapInMapChecksTheTemplate)
{
    ASSERT_EQ(create(1, ARRAY, 4, 8, 4), 0);
    ASSERT_EQ(create(2, ARRAY, 4, 8, 5), 0); // other max_entries
    ASSERT_EQ(create(3, ARRAY_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    ASSERT_EQ(create(4, HASH_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    EXPECT_EQ(update(3, u32(0), u32(1)), 0);
    EXPECT_EQ(update(3, u32(0), u32(2)), -EINVAL);
    EXPECT_EQ(update(3, u32(0), u32(9)), -EINVAL);
    EXPECT_EQ(update(4, u32(7), u32(1)), 0);
    Bytes v;
    ASSERT_EQ(lookup(4, u32(7), &v), 0);
    EXPECT_EQ(v, u32(1));
}

// The kernel's outer map holds a reference on each inner map: freeing an inner map an outer map
// still holds hides it from the host but keeps its id and memory until the last holder lets go.
TEST_F(FwMapsTest, FreedInnerMapLivesUntilTheLastOuterMapElementLetsGo)
{
    ASSERT_EQ(create(1, ARRAY, 4, 8, 4), 0);
    ASSERT_EQ(create(2, ARRAY, 4, 8, 4), 0);
    ASSERT_EQ(create(3, ARRAY_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    ASSERT_EQ(create(4, HASH_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    ASSERT_EQ(update(3, u32(0), u32(2)), 0) << msg;
    ASSERT_EQ(update(4, u32(7), u32(2)), 0) << msg;
    const uint64_t used = nicsim_fw_maps__mem_used(m), inner_mem = 64 + 4 * 8;

    EXPECT_EQ(nicsim_fw_maps__destroy(m, 2), 0);
    EXPECT_TRUE(nicsim_fw_maps__in_use(m, 2)) << "the id must not be reused under the outer maps";
    EXPECT_EQ(create(2, ARRAY, 4, 8, 4), -EEXIST);
    EXPECT_EQ(lookup(2, u32(0)), -ENOENT) << "gone for the host";
    EXPECT_EQ(nicsim_fw_maps__destroy(m, 2), -ENOENT);
    EXPECT_EQ(update(3, u32(1), u32(2)), -EINVAL) << "a freed map cannot be stored again";
    EXPECT_EQ(nicsim_fw_maps__mem_used(m), used) << "its memory lives";
    Bytes v;
    ASSERT_EQ(lookup(3, u32(0), &v), 0);
    EXPECT_EQ(v, u32(2));

    ASSERT_EQ(del(3, u32(0)), 0);
    EXPECT_TRUE(nicsim_fw_maps__in_use(m, 2)) << "the hash of maps still holds it";
    ASSERT_EQ(update(4, u32(7), u32(1)), 0) << msg; // replaced: the last reference goes
    EXPECT_FALSE(nicsim_fw_maps__in_use(m, 2));
    EXPECT_EQ(nicsim_fw_maps__mem_used(m), used - inner_mem);
    ASSERT_EQ(create(2, ARRAY, 4, 8, 4), 0) << msg;

    // Destroying the outer map drops its elements' references; storing the same map twice and
    // replacing an element by itself count right.
    ASSERT_EQ(update(3, u32(0), u32(2)), 0);
    ASSERT_EQ(update(3, u32(1), u32(2)), 0);
    ASSERT_EQ(update(3, u32(1), u32(2)), 0);
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 2), 0);
    EXPECT_TRUE(nicsim_fw_maps__in_use(m, 2));
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 3), 0);
    EXPECT_FALSE(nicsim_fw_maps__in_use(m, 2));
    EXPECT_FALSE(nicsim_fw_maps__in_use(m, 3));
    ASSERT_EQ(del(4, u32(7)), 0);
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 4), 0);
    ASSERT_EQ(nicsim_fw_maps__destroy(m, 1), 0);
    EXPECT_EQ(nicsim_fw_maps__mem_used(m), 0u);
}

// A program's lookup in a map of maps: the id of the inner map the element holds (the cores turn
// it into that map's handle), nothing for an empty element, and no other map type answers it.
TEST_F(FwMapsTest, ProgramLookupInAMapOfMapsGivesTheInnerMapId)
{
    ASSERT_EQ(create(1, ARRAY, 4, 8, 4), 0);
    ASSERT_EQ(create(2, ARRAY, 4, 8, 4), 0);
    ASSERT_EQ(create(3, ARRAY_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    ASSERT_EQ(create(4, HASH_OF_MAPS, 4, 4, 2, 0, 1), 0) << msg;
    ASSERT_EQ(update(3, u32(1), u32(2)), 0) << msg;
    ASSERT_EQ(update(4, u32(77), u32(1)), 0) << msg;
    uint32_t id = 0, k;
    k = 1;
    ASSERT_EQ(nicsim_fw_maps__prog_lookup_map(m, 3, 0, &k, &id), 0);
    EXPECT_EQ(id, 2u);
    k = 0;
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 3, 0, &k, &id), -ENOENT) << "empty slot";
    k = 2;
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 3, 0, &k, &id), -ENOENT) << "past the end";
    k = 77;
    ASSERT_EQ(nicsim_fw_maps__prog_lookup_map(m, 4, 3, &k, &id), 0);
    EXPECT_EQ(id, 1u);
    k = 78;
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 4, 0, &k, &id), -ENOENT);
    k = 0;
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 1, 0, &k, &id), -EINVAL) << "not a map of maps";
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 3, 4, &k, &id), -EINVAL) << "no such CPU";
    ASSERT_EQ(del(3, u32(1)), 0);
    k = 1;
    EXPECT_EQ(nicsim_fw_maps__prog_lookup_map(m, 3, 0, &k, &id), -ENOENT) << "deleted";
}

// ---------------------------------------------------------------------------------------------
// Kernel-differential tests.

struct KCase {
    const char *name;
    uint32_t type, key_size, value_size, max_entries, flags;
    uint32_t key_space; // distinct keys the operations draw from
    bool exact_order;   // the kernel's walk order is deterministic
};

void PrintTo(const KCase &c, std::ostream *os)
{
    *os << c.name;
}

class FwMapsKernelTest : public ::testing::TestWithParam<KCase>
{
  protected:
    static void SetUpTestSuite()
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        pinned = sched_setaffinity(0, sizeof(set), &set) == 0;
    }
    static bool pinned;
};
bool FwMapsKernelTest::pinned = false;

struct Fd {
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            close(fd);
    }
};

bool is_lpm(const KCase &c)
{
    return c.type == LPM;
}

Bytes random_key(const KCase &c, std::mt19937 &rng)
{
    Bytes k(c.key_size, 0);
    if (is_lpm(c)) {
        // overlapping prefixes over a few networks; prefixlen up to 8 * data + 1 (invalid)
        uint32_t data_bits = (c.key_size - 4) * 8;
        uint32_t plen = rng() % (data_bits + 2);
        memcpy(k.data(), &plen, 4);
        static const uint8_t nets[4][4] = {
            {10, 0, 0, 0}, {10, 1, 0, 0}, {10, 1, 2, 0}, {192, 168, 0, 0}};
        const uint8_t *n = nets[rng() % 4];
        for (uint32_t i = 0; i < c.key_size - 4; i++)
            k[4 + i] = i < 4 ? n[i] : 0;
        k[4 + (rng() % (c.key_size - 4))] ^= (uint8_t)(1u << (rng() % 8));
        return k;
    }
    uint32_t id = rng() % c.key_space;
    if (c.type == ARRAY || c.type == PERCPU_ARRAY) {
        memcpy(k.data(), &id, 4); // some out of range
        return k;
    }
    for (size_t i = 0; i < c.key_size; i++) // spread the id over the whole key
        k[i] = (uint8_t)((id >> (8 * (i % 4))) + i * 17);
    return k;
}

TEST_P(FwMapsKernelTest, SameAsKernel)
{
    const KCase &c = GetParam();
    int ncpu = libbpf_num_possible_cpus();
    ASSERT_GT(ncpu, 0);
    if (!pinned)
        GTEST_SKIP() << "cannot pin the test thread to CPU 0: LRU behaviour would not be "
                        "deterministic";
    LIBBPF_OPTS(bpf_map_create_opts, ko, .map_flags = c.flags);
    Fd k;
    k.fd =
        bpf_map_create((bpf_map_type)c.type, nullptr, c.key_size, c.value_size, c.max_entries, &ko);
    if (k.fd == -EPERM || k.fd == -ENOSYS || k.fd == -EACCES)
        GTEST_SKIP() << "bpf() is not available here (" << strerror(-k.fd)
                     << "): kernel-differential test skipped";
    ASSERT_GE(k.fd, 0) << "kernel refused the map: " << strerror(-k.fd);

    nicsim_fw_maps_opts o{};
    o.sz = sizeof(o);
    o.n_cpus = (uint32_t)ncpu;
    o.max_id = 1;
    o.host_cpu = 0;
    o.hash_seed = 0x1234;
    std::unique_ptr<nicsim_fw_maps, void (*)(nicsim_fw_maps *)> lib(nicsim_fw_maps__new(&o),
                                                                    nicsim_fw_maps__free);
    ASSERT_NE(lib, nullptr);
    nicsim_fw_map_attr a{};
    a.type = c.type;
    a.key_size = c.key_size;
    a.value_size = c.value_size;
    a.max_entries = c.max_entries;
    a.flags = c.flags;
    char msg[256];
    ASSERT_EQ(nicsim_fw_maps__create(lib.get(), 1, &a, msg, sizeof(msg)), 0) << msg;
    nicsim_fw_map_info info{};
    ASSERT_EQ(nicsim_fw_maps__info(lib.get(), 1, &info), 0);
    bpf_map_info kinfo{};
    uint32_t kinfo_len = sizeof(kinfo);
    ASSERT_EQ(bpf_obj_get_info_by_fd(k.fd, &kinfo, &kinfo_len), 0);
    EXPECT_EQ(info.max_entries, kinfo.max_entries);

    const size_t hv = nicsim_fw_maps__host_value_size(lib.get(), 1);
    const bool percpu =
        c.type == PERCPU_ARRAY || c.type == PERCPU_HASH || c.type == LRU_PERCPU_HASH;
    ASSERT_EQ(hv, percpu ? (size_t)((c.value_size + 7) / 8 * 8) * ncpu : c.value_size);

    std::mt19937 rng(0x5eed0000u + c.type * 131 + c.key_size * 7 + c.flags);
    auto rand_value = [&] {
        Bytes v(hv);
        for (auto &b : v)
            b = (uint8_t)rng();
        return v;
    };
    auto compare_walks = [&](int step) {
        std::vector<Bytes> kw, lw;
        Bytes cur(c.key_size), nx(c.key_size);
        int ke = bpf_map_get_next_key(k.fd, nullptr, nx.data());
        while (ke == 0 && kw.size() <= c.max_entries * 2u + 2) {
            kw.push_back(nx);
            cur = nx;
            ke = bpf_map_get_next_key(k.fd, cur.data(), nx.data());
        }
        int le = nicsim_fw_maps__get_next_key(lib.get(), 1, nullptr, nx.data(), msg, sizeof(msg));
        while (le == 0 && lw.size() <= c.max_entries * 2u + 2) {
            lw.push_back(nx);
            cur = nx;
            le =
                nicsim_fw_maps__get_next_key(lib.get(), 1, cur.data(), nx.data(), msg, sizeof(msg));
        }
        EXPECT_EQ(ke, le) << "step " << step;
        if (c.exact_order)
            ASSERT_EQ(kw, lw) << "walk order differs at step " << step;
        else
            ASSERT_EQ(std::set<Bytes>(kw.begin(), kw.end()), std::set<Bytes>(lw.begin(), lw.end()))
                << "walk contents differ at step " << step;
        // every value along the walk
        for (const Bytes &key : kw) {
            Bytes kv(hv), lv(hv);
            int a1 = bpf_map_lookup_elem(k.fd, key.data(), kv.data());
            int a2 = nicsim_fw_maps__lookup(lib.get(), 1, key.data(), lv.data(), msg, sizeof(msg));
            ASSERT_EQ(a1, a2) << "step " << step;
            if (!a1) {
                ASSERT_EQ(kv, lv) << "value differs at step " << step;
            }
        }
    };

    const int steps = 3000;
    for (int step = 0; step < steps; step++) {
        Bytes key = random_key(c, rng);
        unsigned op = rng() % 100;
        int ke, le;
        if (op < 50) {
            static const uint64_t flags[] = {0, 0, 0, 1, 2, 1, 2, 4, 3, 8};
            uint64_t f = flags[rng() % 10];
            Bytes v = rand_value();
            ke = bpf_map_update_elem(k.fd, key.data(), v.data(), f);
            le = nicsim_fw_maps__update(lib.get(), 1, key.data(), v.data(), f, msg, sizeof(msg));
            ASSERT_EQ(ke, le) << "update flags " << f << " at step " << step << ": " << msg;
        } else if (op < 70) {
            Bytes kv(hv), lv(hv);
            ke = bpf_map_lookup_elem(k.fd, key.data(), kv.data());
            le = nicsim_fw_maps__lookup(lib.get(), 1, key.data(), lv.data(), msg, sizeof(msg));
            ASSERT_EQ(ke, le) << "lookup at step " << step;
            if (!ke) {
                ASSERT_EQ(kv, lv) << "lookup value at step " << step;
            }
        } else if (op < 85) {
            ke = bpf_map_delete_elem(k.fd, key.data());
            le = nicsim_fw_maps__delete(lib.get(), 1, key.data(), msg, sizeof(msg));
            ASSERT_EQ(ke, le) << "delete at step " << step;
        } else if (op < 90) {
            Bytes kv(hv), lv(hv);
            ke = bpf_map_lookup_and_delete_elem(k.fd, key.data(), kv.data());
            le = nicsim_fw_maps__lookup_and_delete(lib.get(), 1, key.data(), lv.data(), msg,
                                                   sizeof(msg));
            ASSERT_EQ(ke, le) << "lookup_and_delete at step " << step;
            if (!ke) {
                ASSERT_EQ(kv, lv) << "lookup_and_delete value at step " << step;
            }
        } else if (op < 97) {
            Bytes kn(c.key_size), ln(c.key_size);
            ke = bpf_map_get_next_key(k.fd, key.data(), kn.data());
            le =
                nicsim_fw_maps__get_next_key(lib.get(), 1, key.data(), ln.data(), msg, sizeof(msg));
            // without a fixed seed the orders differ, and so does where a walk ends
            if (c.exact_order) {
                ASSERT_EQ(ke, le) << "get_next_key at step " << step;
                if (!ke) {
                    ASSERT_EQ(kn, ln) << "next key at step " << step;
                }
            }
        } else {
            compare_walks(step);
        }
        if (step % 500 == 499)
            compare_walks(step);
        if (HasFatalFailure())
            return;
    }
    compare_walks(steps);
}

// Creation: the same attributes give the kernel's answer (0 or the same errno).
TEST(FwMapsKernelCreateTest, SameErrnosAsKernel)
{
    struct A {
        uint32_t type, ks, vs, max, flags;
    } cases[] = {
        {ARRAY, 4, 8, 4, 0},
        {ARRAY, 8, 8, 4, 0},
        {ARRAY, 4, 0, 4, 0},
        {ARRAY, 4, 8, 0, 0},
        {ARRAY, 4, 8, 4, F_NO_PREALLOC},
        {ARRAY, 4, 8, 4, F_RDONLY | F_WRONLY},
        {ARRAY, 4, 8, 4, 1u << 10 /* MMAPABLE */},
        {PERCPU_ARRAY, 4, 8, 4, 1u << 10},
        {PERCPU_ARRAY, 4, 32768, 1, 0},
        {PERCPU_ARRAY, 4, 32769, 1, 0},
        {PERCPU_ARRAY, 4, 8, 4, 1u << 11 /* PRESERVE_ELEMS */},
        {PERF, 4, 4, 4, 1u << 11},
        {HASH, 4, 8, 4, 0},
        {HASH, 0, 8, 4, 0},
        {HASH, 4, 0, 4, 0},
        {HASH, 4, 8, 0, 0},
        {HASH, 4, 8, 4, F_NO_COMMON_LRU},
        {HASH, 4, 8, 4, F_ZERO_SEED | F_NO_PREALLOC},
        {HASH, 4, 8, 4, 1u << 5 /* STACK_BUILD_ID */},
        {HASH, 4, (4u << 20) - 52, 4, 0},
        {HASH, 4, (4u << 20) - 53, 1, F_NO_PREALLOC},
        {HASH, 600, 8, 4, 0},
        {PERCPU_HASH, 4, 32769, 4, 0},
        {LRU_HASH, 4, 8, 4, F_NO_PREALLOC},
        {LRU_HASH, 4, 8, 4, F_NO_COMMON_LRU},
        {LRU_PERCPU_HASH, 4, 8, 3, F_NO_COMMON_LRU},
        {LPM, 8, 8, 4, 0},
        {LPM, 8, 8, 4, F_NO_PREALLOC},
        {LPM, 4, 8, 4, F_NO_PREALLOC},
        {LPM, 5, 8, 4, F_NO_PREALLOC},
        {LPM, 260, 8, 4, F_NO_PREALLOC},
        {LPM, 261, 8, 4, F_NO_PREALLOC},
        {LPM, 8, 0, 4, F_NO_PREALLOC},
        {LPM, 8, 8, 0, F_NO_PREALLOC},
        {LPM, 8, 8, 4, F_NO_PREALLOC | F_ZERO_SEED},
        {PROG_ARRAY, 4, 4, 4, 0},
        {PROG_ARRAY, 4, 8, 4, 0},
        {PROG_ARRAY, 4, 4, 4, 1u << 7 /* RDONLY_PROG */},
        {PERF, 4, 4, 4, 0},
        {PERF, 8, 4, 4, 0},
        {DEVMAP, 4, 4, 4, 0},
        {DEVMAP, 4, 8, 4, 0},
        {DEVMAP, 4, 12, 4, 0},
        {DEVMAP, 4, 4, 4, F_NO_PREALLOC},
        {DEVMAP_HASH, 4, 4, 4, 0},
        {DEVMAP_HASH, 8, 4, 4, 0},
        {CPUMAP, 4, 4, 4, 0},
        {CPUMAP, 4, 8, 128, 0}, // the NIC's host CPUs, within the kernel's NR_CPUS
        {CPUMAP, 4, 12, 4, 0},
        {CPUMAP, 8, 8, 4, 0},
        {CPUMAP, 4, 8, 0, 0},
        {CPUMAP, 4, 8, 4, F_RDONLY},
        {CPUMAP, 4, 8, 4, F_NO_PREALLOC},
        {CPUMAP, 4, 8, 1u << 20, 0}, // more than NR_CPUS: E2BIG
        {QUEUE, 0, 8, 4, 0},
        {QUEUE, 4, 8, 4, 0},
        {STACK, 0, 0, 4, 0},
        {STACK, 0, 8, 0, 0},
        {RINGBUF, 0, 0, 4096, 0},
        {RINGBUF, 0, 0, 4000, 0},
        {RINGBUF, 0, 0, 2048, 0},
        {RINGBUF, 4, 0, 4096, 0},
        {30 /* BLOOM */, 0, 8, 16, 0},
        {30, 4, 8, 16, 0},
        {30, 0, (4u << 20) + 1, 16, 0},
        {30, 4, (4u << 20) + 1, 16, 0}, // bloom_map_alloc_check runs first: E2BIG
        // 32-bit boundaries refused before any allocation (the same errno as the kernel's)
        {HASH, 4, 8, 0x80000001u, 0},
        {HASH, 4, 8, 0xffffffffu, F_NO_PREALLOC},
        {PERCPU_HASH, 4, 8, 0x80000001u, 0},
        {LRU_HASH, 4, 8, 0x80000001u, 0},
        {LRU_PERCPU_HASH, 4, 8, 0xffffffffu, F_NO_COMMON_LRU},
        {DEVMAP_HASH, 4, 4, 0x80000001u, 0},
        {QUEUE, 0, (4u << 20) + 1, 0xffffffffu, 0},
    };
    int n_cpus = libbpf_num_possible_cpus();
    ASSERT_GT(n_cpus, 0);
    int probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 4, 1, nullptr);
    if (probe == -EPERM || probe == -ENOSYS || probe == -EACCES)
        GTEST_SKIP() << "bpf() is not available here (" << strerror(-probe)
                     << "): kernel-differential test skipped";
    ASSERT_GE(probe, 0);
    close(probe);
    nicsim_fw_maps_opts o{};
    o.sz = sizeof(o);
    o.n_cpus = (uint32_t)n_cpus;
    o.max_id = 1;
    for (const A &a : cases) {
        nicsim_fw_maps *m = nicsim_fw_maps__new(&o);
        ASSERT_NE(m, nullptr);
        LIBBPF_OPTS(bpf_map_create_opts, ko, .map_flags = a.flags);
        int fd = bpf_map_create((bpf_map_type)a.type, nullptr, a.ks, a.vs, a.max, &ko);
        nicsim_fw_map_attr attr{};
        attr.type = a.type;
        attr.key_size = a.ks;
        attr.value_size = a.vs;
        attr.max_entries = a.max;
        attr.flags = a.flags;
        char msg[256] = "";
        int err = nicsim_fw_maps__create(m, 1, &attr, msg, sizeof(msg));
        EXPECT_EQ(err, fd < 0 ? fd : 0)
            << "type " << a.type << " key " << a.ks << " value " << a.vs << " max " << a.max
            << " flags 0x" << std::hex << a.flags << ": " << msg;
        if (err) {
            EXPECT_NE(msg[0], 0) << "a refusal says why";
        }
        if (fd >= 0)
            close(fd);
        nicsim_fw_maps__free(m);
    }
}

// Hash of maps at max_entries 2^31 + 1 (it hung the firmware): the kernel's -E2BIG.
TEST(FwMapsKernelCreateTest, HashOfMapsPastTwoToTheThirtyOneAsKernel)
{
    int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 8, 4, nullptr);
    if (inner == -EPERM || inner == -ENOSYS || inner == -EACCES)
        GTEST_SKIP() << "bpf() is not available here (" << strerror(-inner)
                     << "): kernel-differential test skipped";
    ASSERT_GE(inner, 0);
    nicsim_fw_maps_opts o{};
    o.sz = sizeof(o);
    o.n_cpus = 1;
    o.max_id = 2;
    nicsim_fw_maps *m = nicsim_fw_maps__new(&o);
    ASSERT_NE(m, nullptr);
    nicsim_fw_map_attr a{};
    a.type = ARRAY;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 4;
    char msg[256] = "";
    ASSERT_EQ(nicsim_fw_maps__create(m, 1, &a, msg, sizeof(msg)), 0) << msg;
    for (uint32_t max : {0x80000001u, 0xffffffffu}) {
        LIBBPF_OPTS(bpf_map_create_opts, ko, .inner_map_fd = (uint32_t)inner);
        int fd = bpf_map_create(BPF_MAP_TYPE_HASH_OF_MAPS, nullptr, 4, 4, max, &ko);
        a = nicsim_fw_map_attr{};
        a.type = HASH_OF_MAPS;
        a.key_size = 4;
        a.value_size = 4;
        a.max_entries = max;
        a.inner_map_id = 1;
        EXPECT_EQ(nicsim_fw_maps__create(m, 2, &a, msg, sizeof(msg)), fd < 0 ? fd : 0)
            << max << ": " << msg;
        if (fd >= 0)
            close(fd);
    }
    close(inner);
    nicsim_fw_maps__free(m);
}

// map_extra: the bloom filter's hash function count (bits 0-3), 0 for every other type; the
// bit array grows with it (max_entries * k * 7 / 5 bits, rounded up to a power of two).
TEST(FwMapsKernelCreateTest, MapExtraAsKernel)
{
    struct A {
        uint32_t type, ks, vs, max;
        uint64_t extra;
        uint64_t mem; // expected charge on success (0: not checked)
    } cases[] = {
        {BLOOM, 0, 8, 16, 0, 64 + 16},     // 5 functions: 112 bits -> 128
        {BLOOM, 0, 8, 16, 15, 64 + 64},    // 15: 336 bits -> 512
        {BLOOM, 0, 8, 16, 1, 64 + 8},      // 1: 22 bits -> 64
        {BLOOM, 0, 8, 16, 0x10, 0},        // only bits 0-3
        {BLOOM, 0, 8, 0x40000000u, 15, 0}, // max * 15 passes u32: 2^32 bits
        {ARRAY, 4, 8, 4, 1, 0},            // map_extra is for bloom filters only
        {HASH, 4, 8, 4, 1ull << 40, 0},
    };
    int probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 4, 1, nullptr);
    if (probe == -EPERM || probe == -ENOSYS || probe == -EACCES)
        GTEST_SKIP() << "bpf() is not available here (" << strerror(-probe)
                     << "): kernel-differential test skipped";
    ASSERT_GE(probe, 0);
    close(probe);
    nicsim_fw_maps_opts o{};
    o.sz = sizeof(o);
    o.n_cpus = 1;
    o.max_id = 1;
    o.mem_budget = 1ull << 30;
    for (const A &a : cases) {
        nicsim_fw_maps *m = nicsim_fw_maps__new(&o);
        ASSERT_NE(m, nullptr);
        LIBBPF_OPTS(bpf_map_create_opts, ko, .map_extra = a.extra);
        int fd = bpf_map_create((bpf_map_type)a.type, nullptr, a.ks, a.vs, a.max, &ko);
        nicsim_fw_map_attr attr{};
        attr.type = a.type;
        attr.key_size = a.ks;
        attr.value_size = a.vs;
        attr.max_entries = a.max;
        attr.map_extra = a.extra;
        char msg[256] = "";
        int err = nicsim_fw_maps__create(m, 1, &attr, msg, sizeof(msg));
        EXPECT_EQ(err, fd < 0 ? fd : 0) << "type " << a.type << " max " << a.max << " extra 0x"
                                        << std::hex << a.extra << ": " << msg;
        nicsim_fw_map_info info{};
        if (!err && a.mem) {
            ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
            EXPECT_EQ(info.mem, a.mem) << "extra " << a.extra;
        }
        if (!err && a.max == 0x40000000u) {
            ASSERT_EQ(nicsim_fw_maps__info(m, 1, &info), 0);
            EXPECT_EQ(info.mem, 64u + (1ull << 29)) << "2^32 bits";
        }
        if (fd >= 0)
            close(fd);
        nicsim_fw_maps__free(m);
    }
}

const KCase kCases[] = {
    {"array", ARRAY, 4, 12, 32, 0, 40, true},
    {"percpu_array", PERCPU_ARRAY, 4, 4, 16, 0, 20, true},
    {"hash_zero_seed", HASH, 4, 8, 64, F_ZERO_SEED, 120, true},
    {"hash_odd_key_zero_seed", HASH, 6, 8, 32, F_ZERO_SEED, 60, true},
    {"hash_long_key_zero_seed", HASH, 20, 4, 50, F_ZERO_SEED, 90, true},
    {"hash_random_seed", HASH, 8, 16, 64, 0, 120, false},
    {"hash_no_prealloc", HASH, 4, 8, 48, F_NO_PREALLOC | F_ZERO_SEED, 90, true},
    {"percpu_hash_zero_seed", PERCPU_HASH, 4, 12, 32, F_ZERO_SEED, 60, true},
    {"lru_hash_zero_seed", LRU_HASH, 4, 8, 64, F_ZERO_SEED, 200, true},
    {"lru_hash_small", LRU_HASH, 8, 8, 10, F_ZERO_SEED, 40, true},
    {"lru_hash_big", LRU_HASH, 4, 4, 600, F_ZERO_SEED, 2000, true},
    {"lru_hash_random_seed", LRU_HASH, 4, 8, 64, 0, 200, false},
    {"lru_hash_no_common_lru", LRU_HASH, 4, 8, 63, F_NO_COMMON_LRU | F_ZERO_SEED, 200, true},
    {"lru_percpu_hash", LRU_PERCPU_HASH, 4, 4, 64, F_ZERO_SEED, 200, true},
    {"lru_percpu_hash_no_common_lru", LRU_PERCPU_HASH, 4, 12, 32, F_NO_COMMON_LRU | F_ZERO_SEED,
     100, true},
    {"lpm_ipv4", LPM, 8, 8, 20, F_NO_PREALLOC, 0, true},
    {"lpm_wide", LPM, 12, 4, 64, F_NO_PREALLOC, 0, true},
    {"lpm_one_byte", LPM, 5, 4, 8, F_NO_PREALLOC, 0, true},
};

INSTANTIATE_TEST_SUITE_P(Types, FwMapsKernelTest, ::testing::ValuesIn(kCases),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
