// SPDX-License-Identifier: MIT
// NIC firmware on a fake HAL: every control message, every validation failure and its status,
// program image validation and relocation, the map-memory budget, the rings, counters, events.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "firmware_fake_hal.h"

namespace
{

struct Reply {
    nicsim_cmsg_hdr h{};
    std::vector<uint8_t> body;
    size_t len = 0;

    int err() const { return nicsim_cmsg_status_to_errno(h.status); }
    // The error sentence: body start, or after `skip` bytes (map ops: map-op body + elements).
    std::string text(size_t skip = 0) const
    {
        if (body.size() <= skip)
            return "";
        return std::string(
            reinterpret_cast<const char *>(body.data() + skip),
            strnlen(reinterpret_cast<const char *>(body.data() + skip), body.size() - skip));
    }
    template <class T> T as(size_t off = 0) const
    {
        T v{};
        EXPECT_GE(body.size(), off + sizeof(T));
        if (body.size() >= off + sizeof(T))
            memcpy(&v, body.data() + off, sizeof(T));
        return v;
    }
    nicsim_cmsg_map_op op() const { return as<nicsim_cmsg_map_op>(); }
    std::string op_text() const
    {
        return text(sizeof(nicsim_cmsg_map_op) + (size_t)op().count * elem_out);
    }
    size_t elem_out = 0;
};

std::vector<uint8_t> msg(uint8_t type, const void *body, size_t len, uint16_t flags = 0,
                         uint32_t seq = 77)
{
    std::vector<uint8_t> m(sizeof(nicsim_cmsg_hdr) + len);
    nicsim_cmsg_hdr h{};
    h.version = NICSIM_CMSG_VERSION;
    h.type = type;
    h.flags = flags;
    h.seq = seq;
    h.len = (uint32_t)m.size();
    memcpy(m.data(), &h, sizeof(h));
    if (len)
        memcpy(m.data() + sizeof(h), body, len);
    return m;
}

void put(std::vector<uint8_t> &v, const void *p, size_t n)
{
    const uint8_t *b = static_cast<const uint8_t *>(p);
    v.insert(v.end(), b, b + n);
    v.resize((v.size() + 7) & ~size_t(7), 0);
}

struct FirmwareTest : ::testing::Test {
    FakeHal fake;
    nicsim_fw *fw = nullptr;
    size_t cap = 4096;

    void SetUp() override { boot(); }
    void boot(uint64_t map_mem = 1 << 20, uint32_t max_maps = 8, uint32_t max_progs = 4,
              uint32_t evq = 1024)
    {
        nicsim_fw__free(fw);
        nicsim_fw_hal hal = fake.hal();
        nicsim_fw_opts o{};
        o.sz = sizeof(o);
        o.n_ports = 2;
        o.n_cores = 4;
        o.map_mem_bytes = map_mem;
        o.max_maps = max_maps;
        o.max_progs = max_progs;
        o.event_queue_bytes = evq;
        fw = nicsim_fw__new(&hal, &o);
        ASSERT_NE(fw, nullptr);
    }
    void TearDown() override { nicsim_fw__free(fw); }

    Reply raw(const std::vector<uint8_t> &m)
    {
        std::vector<uint8_t> resp(cap, 0xee);
        Reply r;
        r.len = nicsim_fw__handle(fw, m.data(), m.size(), resp.data(), cap);
        EXPECT_GE(r.len, sizeof(nicsim_cmsg_hdr));
        EXPECT_LE(r.len, cap);
        EXPECT_EQ(r.len % 8, 0u);
        memcpy(&r.h, resp.data(), sizeof(r.h));
        EXPECT_EQ(r.h.len, r.len);
        EXPECT_EQ(r.h.version, NICSIM_CMSG_VERSION);
        r.body.assign(resp.begin() + sizeof(r.h), resp.begin() + r.len);
        return r;
    }
    Reply sendb(uint8_t type, const void *body, size_t len, uint16_t flags = 0)
    {
        return raw(msg(type, body, len, flags));
    }
    template <class T> Reply send(uint8_t type, const T &body, uint16_t flags = 0)
    {
        return sendb(type, &body, sizeof(body), flags);
    }

    Reply alloc(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags = 0,
                uint32_t inner = 0)
    {
        nicsim_cmsg_map_alloc a{};
        a.type = type;
        a.key_size = ks;
        a.value_size = vs;
        a.max_entries = max;
        a.map_flags = flags;
        a.inner_map_id = inner;
        return send(NICSIM_CMSG_MAP_ALLOC, a);
    }
    uint32_t map(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags = 0)
    {
        Reply r = alloc(type, ks, vs, max, flags);
        EXPECT_EQ(r.err(), 0) << r.text();
        return r.err() ? 0 : r.as<nicsim_cmsg_map_alloc_reply>().map_id;
    }

    // A map operation; elems is the packed element area.
    Reply mapop(uint8_t type, uint32_t id, uint32_t count, uint32_t ks, uint32_t vs,
                const std::vector<uint8_t> &elems, uint64_t flags = 0, uint32_t max_count = 0,
                uint16_t hflags = 0, size_t elem_out = 0)
    {
        nicsim_cmsg_map_op op{};
        op.map_id = id;
        op.count = count;
        op.key_size = ks;
        op.value_size = vs;
        op.flags = flags;
        op.max_count = max_count;
        std::vector<uint8_t> b(sizeof(op));
        memcpy(b.data(), &op, sizeof(op));
        b.insert(b.end(), elems.begin(), elems.end());
        Reply r = sendb(type, b.data(), b.size(), hflags);
        r.elem_out = elem_out;
        return r;
    }
    Reply update_u32(uint32_t id, uint32_t key, uint64_t value, uint32_t vs = 8, uint64_t flags = 0)
    {
        std::vector<uint8_t> e;
        put(e, &key, 4);
        put(e, &value, vs);
        return mapop(NICSIM_CMSG_MAP_UPDATE, id, 1, 4, vs, e, flags);
    }
    Reply lookup_u32(uint32_t id, uint32_t key, uint32_t vs = 8)
    {
        std::vector<uint8_t> e;
        put(e, &key, 4);
        return mapop(NICSIM_CMSG_MAP_LOOKUP, id, 1, 4, vs, e, 0, 0, 0, 8 + ((vs + 7) & ~7u));
    }

    Reply load_inline(std::vector<uint8_t> img)
    {
        nicsim_cmsg_prog_load pl{};
        pl.image_len = (uint32_t)img.size();
        std::vector<uint8_t> b(sizeof(pl));
        memcpy(b.data(), &pl, sizeof(pl));
        b.insert(b.end(), img.begin(), img.end());
        return sendb(NICSIM_CMSG_PROG_LOAD, b.data(), b.size(), NICSIM_CMSG_F_INLINE);
    }
    uint32_t load(Image im)
    {
        Reply r = load_inline(im.bytes());
        EXPECT_EQ(r.err(), 0) << r.text();
        return r.err() ? 0 : r.as<nicsim_cmsg_prog_load_reply>().prog_id;
    }
    Reply xdp(uint8_t type, uint32_t port, uint32_t prog, uint32_t flags = 0)
    {
        nicsim_cmsg_xdp x{};
        x.port = port;
        x.prog_id = prog;
        x.flags = flags;
        return send(type, x);
    }
    Reply stats(uint32_t scope, uint32_t id, uint32_t flags = 0)
    {
        nicsim_cmsg_stats_req s{};
        s.scope = scope;
        s.id = id;
        s.flags = flags;
        return send(NICSIM_CMSG_STATS, s);
    }
    Reply events(uint32_t max_bytes = 0)
    {
        nicsim_cmsg_events_req e{};
        e.max_bytes = max_bytes;
        return send(NICSIM_CMSG_EVENTS, e);
    }
};

constexpr uint32_t HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERF = 4, PERCPU_HASH = 5, PERCPU_ARRAY = 6,
                   LRU_HASH = 9, LRU_PERCPU_HASH = 10, LPM = 11, ARRAY_OF_MAPS = 12,
                   HASH_OF_MAPS = 13, DEVMAP = 14, QUEUE = 22, STACK = 23, DEVMAP_HASH = 25,
                   RINGBUF = 27, BLOOM = 30;

// ---------------------------------------------------------------------------------------------
// Boot and header validation.

TEST_F(FirmwareTest, BootWritesIdentificationRegisters)
{
    EXPECT_EQ(fake.regs[NICSIM_BAR0_ID / 4], NICSIM_BAR0_ID_VALUE);
    EXPECT_EQ(fake.regs[NICSIM_BAR0_NUM_PORTS / 4], 2u);
    EXPECT_EQ(fake.regs[NICSIM_BAR0_NUM_CORES / 4], 4u);
    EXPECT_EQ(fake.regs[NICSIM_BAR0_MAP_MEM_LO / 4], 1u << 20);
    EXPECT_EQ(fake.regs[NICSIM_BAR0_FW_STATUS / 4], (uint32_t)NICSIM_FW_STATUS_READY);
    EXPECT_TRUE(fake.regs[NICSIM_BAR0_CAPS / 4] & NICSIM_CAP_CMSG);
}

TEST_F(FirmwareTest, BadOptionsAreRefused)
{
    nicsim_fw_hal hal = fake.hal();
    nicsim_fw_opts o{};
    o.sz = sizeof(o);
    o.n_ports = 0;
    o.n_cores = 1;
    EXPECT_EQ(nicsim_fw__new(&hal, &o), nullptr);
    o.n_ports = 17;
    EXPECT_EQ(nicsim_fw__new(&hal, &o), nullptr);
    o.n_ports = 1;
    o.n_cores = 65;
    EXPECT_EQ(nicsim_fw__new(&hal, &o), nullptr);
    EXPECT_EQ(nicsim_fw__new(nullptr, &o), nullptr);
    /* the one options rule (nicsim_opts_copy): a larger struct only with a zero tail */
    struct {
        nicsim_fw_opts o;
        uint64_t future;
    } big{};
    big.o = o;
    big.o.sz = sizeof(big);
    big.o.n_cores = 4;
    nicsim_fw *f = nicsim_fw__new(&hal, &big.o);
    EXPECT_NE(f, nullptr);
    nicsim_fw__free(f);
    big.future = 1;
    EXPECT_EQ(nicsim_fw__new(&hal, &big.o), nullptr);
}

TEST_F(FirmwareTest, ReplyEchoesTypeAndSequence)
{
    Reply r = raw(msg(NICSIM_CMSG_FW_INFO, nullptr, 0, 0, 0xabcdef01));
    EXPECT_EQ(r.err(), 0);
    EXPECT_EQ(r.h.type, NICSIM_CMSG_FW_INFO | NICSIM_CMSG_REPLY);
    EXPECT_EQ(r.h.seq, 0xabcdef01u);
}

TEST_F(FirmwareTest, MessageShorterThanHeaderIsBadMessage)
{
    std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0);
    m.resize(15);
    Reply r = raw(m);
    EXPECT_EQ(r.err(), -EBADMSG);
    EXPECT_NE(r.text().find("shorter than the 16-byte header"), std::string::npos) << r.text();
    EXPECT_EQ(raw({}).err(), -EBADMSG);
}

TEST_F(FirmwareTest, WrongVersionIsBadMessage)
{
    std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0);
    m[0] = 2;
    Reply r = raw(m);
    EXPECT_EQ(r.err(), -EBADMSG);
    EXPECT_NE(r.text().find("version 2"), std::string::npos) << r.text();
}

TEST_F(FirmwareTest, LengthFieldMustMatchTheMessage)
{
    std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0);
    m.push_back(0);
    Reply r = raw(m);
    EXPECT_EQ(r.err(), -EBADMSG);
    EXPECT_NE(r.text().find("header length 16, message has 17"), std::string::npos) << r.text();
}

TEST_F(FirmwareTest, UnknownTypesAndRepliesAreBadMessages)
{
    for (unsigned t : {0u, 15u, 0x7fu, NICSIM_CMSG_FW_INFO | NICSIM_CMSG_REPLY}) {
        Reply r = sendb(t, nullptr, 0);
        EXPECT_EQ(r.err(), -EBADMSG) << (int)t;
        EXPECT_NE(r.text().find("unknown message type"), std::string::npos);
    }
}

TEST_F(FirmwareTest, RequestWithStatusIsBadMessage)
{
    std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0);
    m[12] = 1;
    EXPECT_EQ(raw(m).err(), -EBADMSG);
}

TEST_F(FirmwareTest, UndefinedHeaderFlagsAreInvalid)
{
    Reply r = sendb(NICSIM_CMSG_FW_INFO, nullptr, 0, 0x1);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.text().find("flags 0x1 are not defined"), std::string::npos) << r.text();
    nicsim_cmsg_id id{};
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id, 0x2).err(), -EINVAL);
}

TEST_F(FirmwareTest, TooSmallReplyBufferGivesNoReply)
{
    std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0);
    uint8_t resp[128];
    EXPECT_EQ(nicsim_fw__handle(fw, m.data(), m.size(), resp, sizeof(resp)), 0u);
}

TEST_F(FirmwareTest, NullMessageIsBadMessage)
{
    std::vector<uint8_t> resp(256);
    ASSERT_EQ(nicsim_fw__handle(fw, nullptr, 100, resp.data(), resp.size()) % 8, 0u);
    nicsim_cmsg_hdr h;
    memcpy(&h, resp.data(), sizeof(h));
    EXPECT_EQ(nicsim_cmsg_status_to_errno(h.status), -EBADMSG);
}

TEST_F(FirmwareTest, StatusErrnoMappingRoundTrips)
{
    for (uint32_t s = 0; s <= NICSIM_CMSG__MAX_STATUS; s++)
        EXPECT_EQ(nicsim_cmsg_errno_to_status(nicsim_cmsg_status_to_errno(s)), s);
    EXPECT_EQ(nicsim_cmsg_status_to_errno(999), -EIO);
    EXPECT_EQ(nicsim_cmsg_errno_to_status(-ENOTTY), (uint32_t)NICSIM_CMSG_EIO);
    EXPECT_EQ(nicsim_cmsg_status_to_errno(NICSIM_CMSG_EEXIST), -EEXIST);
}

// ---------------------------------------------------------------------------------------------
// FW_INFO

TEST_F(FirmwareTest, FwInfoDescribesTheNic)
{
    map(ARRAY, 4, 8, 4);
    Reply r = sendb(NICSIM_CMSG_FW_INFO, nullptr, 0);
    ASSERT_EQ(r.err(), 0);
    auto info = r.as<nicsim_cmsg_fw_info>();
    EXPECT_EQ(info.cmsg_version, NICSIM_CMSG_VERSION);
    EXPECT_EQ(info.n_ports, 2u);
    EXPECT_EQ(info.n_cores, 4u);
    EXPECT_EQ(info.map_mem_total, 1u << 20);
    EXPECT_GT(info.map_mem_used, 0u);
    EXPECT_EQ(info.n_maps, 1u);
    EXPECT_EQ(info.max_maps, 8u);
    EXPECT_EQ(info.max_progs, 4u);
    EXPECT_TRUE(info.map_types & (1ull << ARRAY));
    EXPECT_TRUE(info.map_types & (1ull << HASH));
    EXPECT_TRUE(info.helpers & (1ull << NICSIM_HW_MAP_LOOKUP));
    EXPECT_FALSE(info.helpers & 1ull);
    EXPECT_STRNE(info.name, "");
}

TEST_F(FirmwareTest, FwInfoTakesNoBody)
{
    uint32_t junk = 0;
    Reply r = sendb(NICSIM_CMSG_FW_INFO, &junk, 4);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.text().find("body of 4 bytes, expected 0"), std::string::npos) << r.text();
}

// ---------------------------------------------------------------------------------------------
// MAP_ALLOC / MAP_FREE

TEST_F(FirmwareTest, MapsOfEveryTypeCanBeAllocated)
{
    boot(8 << 20, 32);
    struct {
        uint32_t type, ks, vs, max, flags;
    } cases[] = {
        {HASH, 8, 16, 64, 0},      {ARRAY, 4, 8, 16, 0},           {PROG_ARRAY, 4, 4, 4, 0},
        {PERF, 4, 4, 4, 0},        {PERCPU_HASH, 4, 8, 16, 0},     {PERCPU_ARRAY, 4, 12, 4, 0},
        {LRU_HASH, 4, 8, 16, 0},   {LRU_PERCPU_HASH, 4, 8, 16, 0}, {LPM, 8, 4, 16, 1},
        {DEVMAP, 4, 4, 4, 0},      {QUEUE, 0, 8, 16, 0},           {STACK, 0, 8, 16, 0},
        {DEVMAP_HASH, 4, 4, 4, 0}, {RINGBUF, 0, 0, 4096, 0},       {BLOOM, 0, 8, 16, 0},
    };
    std::vector<uint32_t> ids;
    for (auto &c : cases) {
        Reply r = alloc(c.type, c.ks, c.vs, c.max, c.flags);
        ASSERT_EQ(r.err(), 0) << "type " << c.type << ": " << r.text();
        uint32_t id = r.as<nicsim_cmsg_map_alloc_reply>().map_id;
        EXPECT_GE(id, 1u);
        for (uint32_t other : ids)
            EXPECT_NE(other, id);
        ids.push_back(id);
    }
    // map-in-map with a template
    Reply r = alloc(ARRAY_OF_MAPS, 4, 4, 4, 0, ids[1]);
    EXPECT_EQ(r.err(), 0) << r.text();
    r = alloc(HASH_OF_MAPS, 4, 4, 4, 0, ids[1]);
    EXPECT_EQ(r.err(), 0) << r.text();
    EXPECT_EQ(fake.maps_created.size(), ids.size() + 2);
}

TEST_F(FirmwareTest, MapAllocChecksItsBody)
{
    nicsim_cmsg_map_alloc a{};
    a.type = ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    EXPECT_EQ(sendb(NICSIM_CMSG_MAP_ALLOC, &a, sizeof(a) - 4).err(), -EINVAL);
    a.map_extra = 1; // the kernel's map_create: map_extra is for bloom filters only
    Reply r = send(NICSIM_CMSG_MAP_ALLOC, a);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.text().find("map_extra 0x1 is for bloom filters only"), std::string::npos)
        << r.text();
    a.map_extra = 0;
    a.inner_map_id = 1;
    r = send(NICSIM_CMSG_MAP_ALLOC, a);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.text().find("holds no maps"), std::string::npos) << r.text();
}

TEST_F(FirmwareTest, MapAllocAppliesKernelRules)
{
    EXPECT_EQ(alloc(ARRAY, 8, 4, 4).err(), -EINVAL); // array keys are u32
    EXPECT_EQ(alloc(HASH, 0, 4, 4).err(), -EINVAL);
    EXPECT_EQ(alloc(HASH, 4, 4, 0).err(), -EINVAL);
    EXPECT_NE(alloc(9999, 4, 4, 4).err(), 0);
}

TEST_F(FirmwareTest, MapMemoryBudgetIsEnforced)
{
    boot(64 << 10);
    Reply r = alloc(ARRAY, 4, 1024, 128); // 128 KiB of values > 64 KiB
    EXPECT_EQ(r.err(), -ENOMEM) << r.text();
    uint32_t a = map(ARRAY, 4, 1024, 32); // 32 KiB
    ASSERT_NE(a, 0u);
    EXPECT_EQ(alloc(ARRAY, 4, 1024, 40).err(), -ENOMEM);
    auto info = sendb(NICSIM_CMSG_FW_INFO, nullptr, 0).as<nicsim_cmsg_fw_info>();
    EXPECT_GE(info.map_mem_used, 32u << 10);
    EXPECT_LE(info.map_mem_used, 64u << 10);
    // freeing gives the memory back
    nicsim_cmsg_id id{a, 0};
    ASSERT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), 0);
    EXPECT_EQ(alloc(ARRAY, 4, 1024, 40).err(), 0);
}

TEST_F(FirmwareTest, MapIdsRunOut)
{
    for (int i = 0; i < 8; i++)
        ASSERT_NE(map(ARRAY, 4, 4, 1), 0u);
    Reply r = alloc(ARRAY, 4, 4, 1);
    EXPECT_EQ(r.err(), -ENOSPC);
    EXPECT_NE(r.text().find("all 8 map ids"), std::string::npos) << r.text();
}

TEST_F(FirmwareTest, MapFreeChecksItsTarget)
{
    nicsim_cmsg_id id{42, 0};
    Reply r = send(NICSIM_CMSG_MAP_FREE, id);
    EXPECT_EQ(r.err(), -ENOENT);
    EXPECT_NE(r.text().find("map 42 does not exist"), std::string::npos);
    uint32_t m = map(ARRAY, 4, 4, 1);
    id = {m, 1};
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), -EINVAL); // reserved
    id = {m, 0};
    EXPECT_EQ(sendb(NICSIM_CMSG_MAP_FREE, &id, 4).err(), -EINVAL); // short body
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), 0);
    EXPECT_EQ(fake.maps_freed, std::vector<uint32_t>{m});
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), -ENOENT);
}

TEST_F(FirmwareTest, MapUsedByAProgramCannotBeFreed)
{
    uint32_t m = map(ARRAY, 4, 8, 1);
    Image im;
    im.maps = {m};
    im.lddw(1, NICSIM_LDDW_MAP_IDX, (int32_t)m, 0).mov(0, 2).exit();
    uint32_t p = load(im);
    ASSERT_NE(p, 0u);
    nicsim_cmsg_id id{m, 0};
    Reply r = send(NICSIM_CMSG_MAP_FREE, id);
    EXPECT_EQ(r.err(), -EBUSY);
    EXPECT_NE(r.text().find("used by program"), std::string::npos) << r.text();
    nicsim_cmsg_id pid{p, 0};
    ASSERT_EQ(send(NICSIM_CMSG_PROG_UNLOAD, pid).err(), 0);
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), 0);
}

// MAP_ALLOC at the 32-bit boundaries: refused with the limit named, and the firmware goes on
// answering (a hash of maps of 0x80000001 entries hung it in roundup_pow2).
TEST_F(FirmwareTest, MapAllocAtThirtyTwoBitBoundariesIsRefusedAndTheFirmwareAnswers)
{
    uint32_t tmpl = map(ARRAY, 4, 8, 4);
    ASSERT_NE(tmpl, 0u);
    for (uint32_t max : {0x80000001u, 0xffffffffu}) {
        Reply r = alloc(HASH_OF_MAPS, 4, 4, max, 0, tmpl);
        EXPECT_EQ(r.err(), -E2BIG) << max;
        EXPECT_NE(r.text().find("MAP_ALLOC: max_entries " + std::to_string(max)), std::string::npos)
            << r.text();
        EXPECT_EQ(alloc(LRU_HASH, 4, 8, max).err(), -E2BIG);
        EXPECT_EQ(alloc(QUEUE, 0, 8, max).err(), -E2BIG); // (max + 1) * 8 bytes
        EXPECT_EQ(alloc(LPM, 8, 8, max, 1).err(), -E2BIG);
    }
    auto info = sendb(NICSIM_CMSG_FW_INFO, nullptr, 0).as<nicsim_cmsg_fw_info>();
    EXPECT_EQ(info.n_maps, 1u);
    EXPECT_EQ(info.map_mem_used, 64u + 4 * 8);
}

// The kernel's outer map holds its inner maps: MAP_FREE of an inner map an outer map holds
// succeeds for the host, but its id is not handed out again until the outer map lets go.
TEST_F(FirmwareTest, FreedInnerMapIdIsNotReusedWhileAnOuterMapHoldsIt)
{
    uint32_t inner = map(ARRAY, 4, 8, 4);
    ASSERT_NE(inner, 0u);
    Reply r = alloc(ARRAY_OF_MAPS, 4, 4, 2, 0, inner);
    ASSERT_EQ(r.err(), 0) << r.text();
    uint32_t outer = r.as<nicsim_cmsg_map_alloc_reply>().map_id;
    ASSERT_EQ(update_u32(outer, 0, inner, 4).err(), 0);
    nicsim_cmsg_id id{inner, 0};
    ASSERT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), 0);
    EXPECT_EQ(fake.maps_freed, std::vector<uint32_t>{inner}) << "the cores unmap it";
    EXPECT_EQ(lookup_u32(inner, 0).err(), -ENOENT);
    EXPECT_EQ(send(NICSIM_CMSG_MAP_FREE, id).err(), -ENOENT);
    uint32_t again = map(ARRAY, 4, 8, 4);
    EXPECT_NE(again, inner) << "a freed inner map's id must not be reused under its outer map";
    EXPECT_EQ(update_u32(outer, 1, inner, 4).err(), -EINVAL) << "nor stored again";
    r = lookup_u32(outer, 0, 4);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<uint32_t>(40), inner);
    // the outer map lets go: the id is free again
    nicsim_cmsg_id oid{outer, 0};
    ASSERT_EQ(send(NICSIM_CMSG_MAP_FREE, oid).err(), 0);
    EXPECT_EQ(map(ARRAY, 4, 8, 4), inner);
}

// Refused elements say which index, which limit, which map type: not a bare errno.
TEST_F(FirmwareTest, MapOpRefusalsNameTheIndexAndTheLimit)
{
    uint32_t arr = map(ARRAY, 4, 8, 3), h = map(HASH, 4, 8, 2), pa = map(PROG_ARRAY, 4, 4, 2);
    Reply r = update_u32(arr, 7, 1);
    EXPECT_EQ(r.err(), -E2BIG);
    EXPECT_NE(r.op_text().find("(key 07000000): array: index 7 is past max_entries 3"),
              std::string::npos)
        << r.op_text();
    ASSERT_EQ(update_u32(h, 1, 1).err(), 0);
    ASSERT_EQ(update_u32(h, 2, 1).err(), 0);
    r = update_u32(h, 3, 1);
    EXPECT_EQ(r.err(), -E2BIG);
    EXPECT_NE(r.op_text().find("hash: the map is full (max_entries 2)"), std::string::npos)
        << r.op_text();
    uint32_t p = load(Image::pass());
    r = update_u32(pa, 2, p, 4);
    EXPECT_EQ(r.err(), -E2BIG);
    EXPECT_NE(r.op_text().find("prog array: index 2 is past max_entries 2"), std::string::npos)
        << r.op_text();
}

// ---------------------------------------------------------------------------------------------
// Map element operations: validation.

TEST_F(FirmwareTest, MapOpValidation)
{
    uint32_t m = map(ARRAY, 4, 8, 4);
    std::vector<uint8_t> key(8, 0);

    // body shorter than the map-op header
    Reply r = sendb(NICSIM_CMSG_MAP_LOOKUP, key.data(), 8);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_EQ(r.op().count, 0u); // the map-op body leads even an error reply
    EXPECT_NE(r.op_text().find("map-op header needs 32"), std::string::npos) << r.op_text();

    r = mapop(NICSIM_CMSG_MAP_LOOKUP, 99, 1, 4, 8, key);
    EXPECT_EQ(r.err(), -ENOENT);
    EXPECT_EQ(r.op_text(), "map 99 does not exist");

    r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 1, 3, 8, key);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_EQ(r.op_text(), "map " + std::to_string(m) + ": key size 3 does not match the map's 4");

    r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 1, 4, 16, key);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.op_text().find("value size 16 does not match the map's 8"), std::string::npos);

    // count disagrees with the body
    r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 2, 4, 8, key);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.op_text().find("2 elements of 8 bytes need 16 bytes, the body has 8"),
              std::string::npos)
        << r.op_text();

    // flags where none are defined, bad update flags, max_count on a lookup
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_LOOKUP, m, 1, 4, 8, key, 1).err(), -EINVAL);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_DELETE, m, 1, 4, 8, key, 0, 1).err(), -EINVAL);
    std::vector<uint8_t> kv(16, 0);
    r = mapop(NICSIM_CMSG_MAP_UPDATE, m, 1, 4, 8, kv, 3);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.op_text().find("update flags 0x3"), std::string::npos) << r.op_text();
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_UPDATE, m, 1, 4, 8, kv, 8).err(), -EINVAL);

    // GETFIRST takes no key and needs max_count; GETNEXT takes exactly one key
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_GETFIRST, m, 1, 4, 8, key, 0, 1).err(), -EINVAL);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_GETFIRST, m, 0, 4, 8, {}, 0, 0).err(), -EINVAL);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_GETNEXT, m, 0, 4, 8, {}, 0, 1).err(), -EINVAL);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_GETFIRST, m, 0, 4, 8, {}, 0, 1u << 20).err(), -EINVAL);

    // reserved field
    nicsim_cmsg_map_op op{};
    op.map_id = m;
    op.count = 1;
    op.key_size = 4;
    op.value_size = 8;
    op.reserved = 1;
    std::vector<uint8_t> b(sizeof(op));
    memcpy(b.data(), &op, sizeof(op));
    b.insert(b.end(), key.begin(), key.end());
    EXPECT_EQ(sendb(NICSIM_CMSG_MAP_LOOKUP, b.data(), b.size()).err(), -EINVAL);

    // lookup-and-delete takes one element
    std::vector<uint8_t> two(16, 0);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_LOOKUP, m, 2, 4, 8, two, 0, 0, NICSIM_CMSG_F_AND_DELETE).err(),
              -EINVAL);
}

TEST_F(FirmwareTest, RepliesThatCannotFitAreRefusedUpFront)
{
    cap = 256;
    uint32_t m = map(ARRAY, 4, 64, 64);
    std::vector<uint8_t> keys(8 * 4, 0); // 4 lookups of 72 bytes each > 256 - 16 - 32
    Reply r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 4, 4, 64, keys);
    EXPECT_EQ(r.err(), -E2BIG);
    EXPECT_EQ(r.op().count, 0u);
    r = mapop(NICSIM_CMSG_MAP_GETFIRST, m, 0, 4, 64, {}, 0, 4);
    EXPECT_EQ(r.err(), -E2BIG);
    r = mapop(NICSIM_CMSG_MAP_GETFIRST, m, 0, 4, 64, {}, 0, 4, NICSIM_CMSG_F_KEYS_ONLY);
    EXPECT_EQ(r.err(), 0) << r.text(32); // keys only: 4 x 8 bytes fit
    EXPECT_EQ(r.op().count, 4u);
}

// ---------------------------------------------------------------------------------------------
// Map element operations: semantics.

TEST_F(FirmwareTest, HashMapFollowsKernelUpdateSemantics)
{
    uint32_t m = map(HASH, 4, 8, 2);
    EXPECT_EQ(lookup_u32(m, 1).err(), -ENOENT);
    EXPECT_EQ(update_u32(m, 1, 100, 8, 2 /* EXIST */).err(), -ENOENT);
    EXPECT_EQ(update_u32(m, 1, 100, 8, 1 /* NOEXIST */).err(), 0);
    EXPECT_EQ(update_u32(m, 1, 101, 8, 1).err(), -EEXIST);
    EXPECT_EQ(update_u32(m, 1, 102, 8, 2).err(), 0);
    Reply r = lookup_u32(m, 1);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.op().count, 1u);
    EXPECT_EQ(r.as<uint32_t>(sizeof(nicsim_cmsg_map_op)), 1u);       // key
    EXPECT_EQ(r.as<uint64_t>(sizeof(nicsim_cmsg_map_op) + 8), 102u); // value
    EXPECT_EQ(update_u32(m, 2, 200).err(), 0);
    Reply full = update_u32(m, 3, 300);
    EXPECT_EQ(full.err(), -E2BIG);
    EXPECT_NE(full.op_text().find("element 0 (key 03000000)"), std::string::npos) << full.op_text();
    std::vector<uint8_t> k;
    uint32_t one = 1;
    put(k, &one, 4);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_DELETE, m, 1, 4, 8, k).err(), 0);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_DELETE, m, 1, 4, 8, k).err(), -ENOENT);
    EXPECT_EQ(update_u32(m, 3, 300).err(), 0);
}

TEST_F(FirmwareTest, BatchStopsAtTheFirstFailingElement)
{
    uint32_t m = map(HASH, 4, 8, 16);
    ASSERT_EQ(update_u32(m, 1, 11).err(), 0);
    ASSERT_EQ(update_u32(m, 3, 33).err(), 0);
    std::vector<uint8_t> keys;
    for (uint32_t k : {1u, 3u, 2u, 1u})
        put(keys, &k, 4);
    Reply r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 4, 4, 8, keys, 0, 0, 0, 16);
    EXPECT_EQ(r.err(), -ENOENT);
    ASSERT_EQ(r.op().count, 2u);
    EXPECT_EQ(r.as<uint64_t>(32 + 8), 11u);
    EXPECT_EQ(r.as<uint64_t>(32 + 16 + 8), 33u);
    EXPECT_NE(r.op_text().find("element 2 (key 02000000)"), std::string::npos) << r.op_text();

    // batch update with NOEXIST stops at the existing key
    std::vector<uint8_t> kv;
    for (uint32_t k : {5u, 6u, 3u, 7u}) {
        uint64_t v = k * 10;
        put(kv, &k, 4);
        put(kv, &v, 8);
    }
    r = mapop(NICSIM_CMSG_MAP_UPDATE, m, 4, 4, 8, kv, 1);
    EXPECT_EQ(r.err(), -EEXIST);
    EXPECT_EQ(r.op().count, 2u);
    EXPECT_EQ(lookup_u32(m, 6).err(), 0);
    EXPECT_EQ(lookup_u32(m, 7).err(), -ENOENT);
}

TEST_F(FirmwareTest, ArrayMapIterationAndBounds)
{
    uint32_t m = map(ARRAY, 4, 8, 3);
    EXPECT_EQ(update_u32(m, 3, 1).err(), -E2BIG); // index out of range
    Reply r = lookup_u32(m, 2);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<uint64_t>(40), 0u); // arrays start zeroed
    std::vector<uint8_t> k;
    uint32_t zero = 0;
    put(k, &zero, 4);
    EXPECT_EQ(mapop(NICSIM_CMSG_MAP_DELETE, m, 1, 4, 8, k).err(), -EINVAL); // kernel: no delete

    ASSERT_EQ(update_u32(m, 1, 0x1111).err(), 0);
    r = mapop(NICSIM_CMSG_MAP_GETFIRST, m, 0, 4, 8, {}, 0, 10, 0, 16);
    ASSERT_EQ(r.err(), 0) << r.op_text();
    ASSERT_EQ(r.op().count, 3u);
    for (uint32_t i = 0; i < 3; i++)
        EXPECT_EQ(r.as<uint32_t>(32 + 16 * i), i);
    EXPECT_EQ(r.as<uint64_t>(32 + 16 + 8), 0x1111u);

    r = mapop(NICSIM_CMSG_MAP_GETNEXT, m, 1, 4, 8, k, 0, 1, NICSIM_CMSG_F_KEYS_ONLY, 8);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.op().count, 1u);
    EXPECT_EQ(r.as<uint32_t>(32), 1u);
    EXPECT_EQ(r.len, 16 + 32 + 8u); // keys only

    uint32_t last = 2;
    k.clear();
    put(k, &last, 4);
    r = mapop(NICSIM_CMSG_MAP_GETNEXT, m, 1, 4, 8, k, 0, 1);
    EXPECT_EQ(r.err(), -ENOENT);
    EXPECT_NE(r.op_text().find("no key after 02000000"), std::string::npos) << r.op_text();
}

TEST_F(FirmwareTest, PerCpuValuesHaveOneSlicePerCore)
{
    uint32_t m = map(PERCPU_ARRAY, 4, 4, 2);
    // host view: round_up(4, 8) * 4 cores = 32 bytes
    std::vector<uint8_t> kv;
    uint32_t key = 1;
    put(kv, &key, 4);
    uint64_t slices[4] = {10, 11, 12, 13};
    put(kv, slices, sizeof(slices));
    ASSERT_EQ(mapop(NICSIM_CMSG_MAP_UPDATE, m, 1, 4, 4, kv).err(), 0);
    Reply r = lookup_u32(m, 1, 4);
    std::vector<uint8_t> k;
    put(k, &key, 4);
    r = mapop(NICSIM_CMSG_MAP_LOOKUP, m, 1, 4, 4, k, 0, 0, 0, 40);
    ASSERT_EQ(r.err(), 0) << r.op_text();
    ASSERT_EQ(r.len, 16u + 32 + 8 + 32);
    for (int c = 0; c < 4; c++)
        EXPECT_EQ(r.as<uint32_t>(40 + 8 * c), 10u + c);
    // the element must carry the whole host view
    EXPECT_EQ(update_u32(m, 1, 5, 4).err(), -EINVAL);
}

TEST_F(FirmwareTest, QueuePopIsLookupAndDelete)
{
    uint32_t q = map(QUEUE, 0, 8, 4);
    for (uint64_t v : {7ull, 8ull}) {
        std::vector<uint8_t> e;
        put(e, &v, 8);
        ASSERT_EQ(mapop(NICSIM_CMSG_MAP_UPDATE, q, 1, 0, 8, e).err(), 0);
    }
    Reply r = mapop(NICSIM_CMSG_MAP_LOOKUP, q, 1, 0, 8, {}, 0, 0, NICSIM_CMSG_F_AND_DELETE, 8);
    ASSERT_EQ(r.err(), 0) << r.op_text();
    EXPECT_EQ(r.as<uint64_t>(32), 7u);
    r = mapop(NICSIM_CMSG_MAP_LOOKUP, q, 1, 0, 8, {}, 0, 0, 0, 8); // peek
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<uint64_t>(32), 8u);
    r = mapop(NICSIM_CMSG_MAP_LOOKUP, q, 1, 0, 8, {}, 0, 0, NICSIM_CMSG_F_AND_DELETE, 8);
    EXPECT_EQ(r.err(), 0);
    r = mapop(NICSIM_CMSG_MAP_LOOKUP, q, 1, 0, 8, {}, 0, 0, NICSIM_CMSG_F_AND_DELETE, 8);
    EXPECT_EQ(r.err(), -ENOENT);
}

TEST_F(FirmwareTest, ProgArrayValuesMustBeLoadedPrograms)
{
    uint32_t pa = map(PROG_ARRAY, 4, 4, 4);
    Reply r = update_u32(pa, 0, 3, 4);
    EXPECT_EQ(r.err(), -EINVAL);
    EXPECT_NE(r.op_text().find("prog array value 3 is not a loaded program"), std::string::npos)
        << r.op_text();
    uint32_t p = load(Image::pass());
    ASSERT_EQ(update_u32(pa, 0, p, 4).err(), 0);
    nicsim_cmsg_id id{p, 0};
    r = send(NICSIM_CMSG_PROG_UNLOAD, id);
    EXPECT_EQ(r.err(), -EBUSY);
    EXPECT_NE(r.text().find("prog array map"), std::string::npos) << r.text();
    std::vector<uint8_t> k(8, 0);
    ASSERT_EQ(mapop(NICSIM_CMSG_MAP_DELETE, pa, 1, 4, 4, k).err(), 0);
    EXPECT_EQ(send(NICSIM_CMSG_PROG_UNLOAD, id).err(), 0);
}

// ---------------------------------------------------------------------------------------------
// PROG_LOAD: image validation and relocation.

TEST_F(FirmwareTest, LoadsAProgramIntoTheCores)
{
    Reply r = load_inline(Image::pass().bytes());
    ASSERT_EQ(r.err(), 0) << r.text();
    auto rep = r.as<nicsim_cmsg_prog_load_reply>();
    EXPECT_GE(rep.prog_id, 1u);
    EXPECT_EQ(rep.n_slots, 2u);
    ASSERT_EQ(fake.progs.count(rep.prog_id), 1u);
    auto &p = fake.progs[rep.prog_id];
    EXPECT_STREQ(p.desc.name, "xdp_test");
    EXPECT_EQ(p.desc.prog_type, 6u);
    ASSERT_EQ(p.insns.size(), 2u);
    EXPECT_EQ(p.insns[0].op, NICSIM_OP_MOV64_K);
    EXPECT_EQ(p.insns[0].imm, 2);
    EXPECT_EQ(p.insns[1].op, NICSIM_OP_EXIT);
}

TEST_F(FirmwareTest, LoadsAnImageByDma)
{
    std::vector<uint8_t> img = Image::pass().bytes();
    memcpy(fake.mem.data() + 0x100, img.data(), img.size());
    nicsim_cmsg_prog_load pl{};
    pl.image_addr = FakeHal::kBus + 0x100;
    pl.image_len = (uint32_t)img.size();
    Reply r = send(NICSIM_CMSG_PROG_LOAD, pl);
    ASSERT_EQ(r.err(), 0) << r.text();
    EXPECT_EQ(fake.progs.size(), 1u);

    pl.image_addr = 0x1000; // outside host memory
    r = send(NICSIM_CMSG_PROG_LOAD, pl);
    EXPECT_EQ(r.err(), -EFAULT);
    EXPECT_NE(r.text().find("not readable"), std::string::npos) << r.text();
}

TEST_F(FirmwareTest, ProgLoadChecksItsBody)
{
    nicsim_cmsg_prog_load pl{};
    pl.image_len = 0;
    EXPECT_EQ(send(NICSIM_CMSG_PROG_LOAD, pl).err(), -E2BIG);
    pl.image_len = 1u << 30;
    EXPECT_EQ(send(NICSIM_CMSG_PROG_LOAD, pl).err(), -E2BIG);
    pl.image_len = 80;
    pl.reserved = 1;
    EXPECT_EQ(send(NICSIM_CMSG_PROG_LOAD, pl).err(), -EINVAL);
    // inline: the length must match what follows, the address must be 0
    std::vector<uint8_t> img = Image::pass().bytes();
    nicsim_cmsg_prog_load in{};
    in.image_len = (uint32_t)img.size() + 8;
    std::vector<uint8_t> b(sizeof(in));
    memcpy(b.data(), &in, sizeof(in));
    b.insert(b.end(), img.begin(), img.end());
    EXPECT_EQ(sendb(NICSIM_CMSG_PROG_LOAD, b.data(), b.size(), NICSIM_CMSG_F_INLINE).err(),
              -EINVAL);
    // a DMA load with trailing bytes
    pl = {};
    pl.image_addr = FakeHal::kBus;
    pl.image_len = 80;
    std::vector<uint8_t> c(sizeof(pl) + 8);
    memcpy(c.data(), &pl, sizeof(pl));
    EXPECT_EQ(sendb(NICSIM_CMSG_PROG_LOAD, c.data(), c.size()).err(), -EINVAL);
}

struct ImageCase {
    const char *name;
    void (*mutate)(Image &im, uint32_t map_array, uint32_t map_hash);
    int err;
    const char *text;
};

void PrintTo(const ImageCase &c, std::ostream *os)
{
    *os << c.name;
}

class ImageValidationTest : public FirmwareTest, public ::testing::WithParamInterface<ImageCase>
{
};

TEST_P(ImageValidationTest, BadImageIsRefused)
{
    uint32_t arr = map(ARRAY, 4, 16, 1);
    uint32_t hash = map(HASH, 4, 8, 4);
    Image im;
    im.maps = {arr, hash};
    im.lddw(1, NICSIM_LDDW_MAP_IDX, (int32_t)arr, 0).mov(0, 2).exit();
    GetParam().mutate(im, arr, hash);
    Reply r = load_inline(im.bytes());
    EXPECT_EQ(r.err(), GetParam().err) << r.text();
    EXPECT_NE(r.text().find(GetParam().text), std::string::npos) << r.text();
    EXPECT_TRUE(fake.progs.empty());
}

const ImageCase kImageCases[] = {
    {"magic", [](Image &im, uint32_t, uint32_t) { im.hdr.magic = 0x12345678; }, -EINVAL,
     "image magic 0x12345678"},
    {"version", [](Image &im, uint32_t, uint32_t) { im.hdr.version = 2; }, -EINVAL,
     "image version 2"},
    {"hdr_len", [](Image &im, uint32_t, uint32_t) { im.hdr.hdr_len = 60; }, -EINVAL,
     "header length 60"},
    {"no_slots",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.clear();
         im.hdr.n_slots = 0;
     },
     -E2BIG, "image has 0 slots"},
    {"too_many_maps", [](Image &im, uint32_t, uint32_t) { im.hdr.n_maps = 65; }, -E2BIG,
     "references 65 maps"},
    {"length", [](Image &im, uint32_t, uint32_t) { im.hdr.n_slots = 5; }, -EINVAL,
     "its header (2 maps, 5 slots) describes"},
    {"prog_type", [](Image &im, uint32_t, uint32_t) { im.hdr.prog_type = 1; }, -EOPNOTSUPP,
     "program type 1"},
    {"stack", [](Image &im, uint32_t, uint32_t) { im.hdr.stack_depth = 1u << 20; }, -EPERM,
     "stack depth"},
    {"flags", [](Image &im, uint32_t, uint32_t) { im.hdr.flags = 0x80; }, -EINVAL,
     "image flags 0x80"},
    {"reserved", [](Image &im, uint32_t, uint32_t) { im.hdr.reserved[2] = 1; }, -EINVAL,
     "reserved"},
    {"name", [](Image &im, uint32_t, uint32_t) { im.hdr.name[3] = '\n'; }, -EINVAL,
     "image name: byte 3"},
    {"missing_map", [](Image &im, uint32_t, uint32_t) { im.maps[1] = 60; }, -ENOENT,
     "map table entry 1: map 60 does not exist"},
    {"duplicate_map", [](Image &im, uint32_t a, uint32_t) { im.maps[1] = a; }, -EINVAL,
     "is listed twice"},
    {"lddw_unlisted", [](Image &im, uint32_t, uint32_t h) { im.maps = {h}; }, -EINVAL,
     "the image's map table does not list"},
    {"lddw_map_fd", [](Image &im, uint32_t, uint32_t) { im.insns[0].src = NICSIM_LDDW_MAP_FD; },
     -EPERM, "LDDW source 1 (map fd)"},
    {"lddw_func", [](Image &im, uint32_t, uint32_t) { im.insns[0].src = NICSIM_LDDW_FUNC; }, -EPERM,
     "LDDW source 4"},
    {"lddw_handle_hi", [](Image &im, uint32_t, uint32_t) { im.insns[1].imm = 4; }, -EINVAL,
     "non-zero second immediate"},
    {"lddw_value_of_hash",
     [](Image &im, uint32_t, uint32_t h) {
         im.insns[0].src = NICSIM_LDDW_MAP_IDX_VALUE;
         im.insns[0].imm = (int32_t)h;
     },
     -EPERM, "has no direct value access"},
    {"lddw_value_offset",
     [](Image &im, uint32_t, uint32_t) {
         im.insns[0].src = NICSIM_LDDW_MAP_IDX_VALUE;
         im.insns[1].imm = 16;
     },
     -EPERM, "offset 16 is outside map"},
    {"lddw_last_slot",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.resize(3);
         im.insns[2] = im.insns[0];
     },
     -EINVAL, "insn 2: LDDW in the last slot"},
    {"helper_zero",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0x85, 0, 0, 0, 0});
     },
     -EPERM, "insn 2: helper 0 is not a NIC helper unit"},
    {"helper_range",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0x85, 0, 0, 0, NICSIM_HW__COUNT});
     },
     -EPERM, "is not a NIC helper unit"},
    {"kfunc",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0x85, 0, 2, 0, 5});
     },
     -EPERM, "kfunc"},
    {"callx",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0x8d, 1, 0, 0, 0});
     },
     -EPERM, "callx"},
    {"legacy_load",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0x30, 0, 0, 0, 0});
     },
     -EPERM, "legacy packet load"},
    {"bad_encoding",
     [](Image &im, uint32_t, uint32_t) {
         im.insns.insert(im.insns.begin() + 2, {0xff, 0, 0, 0, 0});
     },
     -EINVAL, "insn 2"},
    {"no_exit", [](Image &im, uint32_t, uint32_t) { im.insns.pop_back(); }, -EINVAL, "insn"},
};

INSTANTIATE_TEST_SUITE_P(Images, ImageValidationTest, ::testing::ValuesIn(kImageCases),
                         [](const auto &info) { return std::string(info.param.name); });

TEST_F(FirmwareTest, LddwMapFormsAreRelocatedToNicAddresses)
{
    uint32_t arr = map(ARRAY, 4, 16, 1);
    uint32_t hash = map(HASH, 4, 8, 4);
    Image im;
    im.maps = {arr, hash};
    im.lddw(1, NICSIM_LDDW_MAP_IDX, (int32_t)hash, 0)
        .lddw(2, NICSIM_LDDW_MAP_IDX_VALUE, (int32_t)arr, 12)
        .lddw(3, NICSIM_LDDW_IMM64, 0x11223344, 0x55667788)
        .mov(0, 2)
        .exit();
    uint32_t p = load(im);
    ASSERT_EQ(fake.progs.count(p), 1u);
    auto &insns = fake.progs[p].insns;
    ASSERT_EQ(insns.size(), 8u);
    EXPECT_EQ(insns[0].op, NICSIM_OP_LDDW);
    EXPECT_EQ(insns[0].src, NICSIM_LDDW_IMM64);
    EXPECT_EQ(insns[0].imm64, ((uint64_t)(NICSIM_MAP_REGION_BASE + hash) << 32));
    EXPECT_EQ(insns[2].src, NICSIM_LDDW_IMM64);
    EXPECT_EQ(insns[2].imm64, ((uint64_t)(NICSIM_MAP_REGION_BASE + arr) << 32) | 12u);
    EXPECT_EQ(insns[4].imm64, 0x5566778811223344ull);
    EXPECT_EQ(fake.progs[p].maps, (std::vector<uint32_t>{arr, hash}));
}

TEST_F(FirmwareTest, CoreRefusalIsReported)
{
    fake.load_err = -ENOSPC;
    Reply r = load_inline(Image::pass().bytes());
    EXPECT_EQ(r.err(), -ENOSPC);
    EXPECT_NE(r.text().find("the cores refused it: core says no"), std::string::npos) << r.text();
    fake.load_err = 0;
    // the slot was not used up
    auto info = sendb(NICSIM_CMSG_FW_INFO, nullptr, 0).as<nicsim_cmsg_fw_info>();
    EXPECT_EQ(info.n_progs, 0u);
}

TEST_F(FirmwareTest, ProgramSlotsRunOut)
{
    for (int i = 0; i < 4; i++)
        ASSERT_NE(load(Image::pass()), 0u);
    Reply r = load_inline(Image::pass().bytes());
    EXPECT_EQ(r.err(), -ENOSPC);
    EXPECT_NE(r.text().find("all 4 program slots"), std::string::npos);
}

TEST_F(FirmwareTest, ProgUnloadChecksItsTarget)
{
    nicsim_cmsg_id id{3, 0};
    EXPECT_EQ(send(NICSIM_CMSG_PROG_UNLOAD, id).err(), -ENOENT);
    uint32_t p = load(Image::pass());
    id = {p, 7};
    EXPECT_EQ(send(NICSIM_CMSG_PROG_UNLOAD, id).err(), -EINVAL);
    ASSERT_EQ(xdp(NICSIM_CMSG_XDP_ATTACH, 1, p).err(), 0);
    id = {p, 0};
    Reply r = send(NICSIM_CMSG_PROG_UNLOAD, id);
    EXPECT_EQ(r.err(), -EBUSY);
    EXPECT_NE(r.text().find("attached to port 1"), std::string::npos) << r.text();
    ASSERT_EQ(xdp(NICSIM_CMSG_XDP_DETACH, 1, 0).err(), 0);
    EXPECT_EQ(send(NICSIM_CMSG_PROG_UNLOAD, id).err(), 0);
    EXPECT_TRUE(fake.progs.empty());
}

// ---------------------------------------------------------------------------------------------
// XDP attach / detach.

TEST_F(FirmwareTest, AttachDetachProgramThePortRegister)
{
    uint32_t a = load(Image::pass()), b = load(Image::pass());
    Reply r = xdp(NICSIM_CMSG_XDP_ATTACH, 0, a);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<nicsim_cmsg_xdp_reply>().old_prog_id, 0u);
    EXPECT_EQ(fake.port_prog[0], a);
    EXPECT_EQ(nicsim_fw__port_prog(fw, 0), a);
    r = xdp(NICSIM_CMSG_XDP_ATTACH, 0, b); // replace
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<nicsim_cmsg_xdp_reply>().old_prog_id, a);
    r = xdp(NICSIM_CMSG_XDP_ATTACH, 0, a, NICSIM_XDP_ATTACH_F_NOEXIST);
    EXPECT_EQ(r.err(), -EBUSY);
    EXPECT_NE(r.text().find("already runs program"), std::string::npos);
    r = xdp(NICSIM_CMSG_XDP_DETACH, 0, 0);
    ASSERT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<nicsim_cmsg_xdp_reply>().old_prog_id, b);
    EXPECT_EQ(fake.port_prog[0], 0u);
    r = xdp(NICSIM_CMSG_XDP_DETACH, 0, 0); // idempotent
    EXPECT_EQ(r.err(), 0);
    EXPECT_EQ(r.as<nicsim_cmsg_xdp_reply>().old_prog_id, 0u);
}

TEST_F(FirmwareTest, AttachValidation)
{
    uint32_t p = load(Image::pass());
    Reply r = xdp(NICSIM_CMSG_XDP_ATTACH, 2, p);
    EXPECT_EQ(r.err(), -ENODEV);
    EXPECT_EQ(r.text(), "port 2: the NIC has 2 ports");
    r = xdp(NICSIM_CMSG_XDP_ATTACH, 0, p + 1);
    EXPECT_EQ(r.err(), -ENOENT);
    EXPECT_EQ(xdp(NICSIM_CMSG_XDP_ATTACH, 0, p, 0x2).err(), -EINVAL);
    EXPECT_EQ(xdp(NICSIM_CMSG_XDP_DETACH, 0, p).err(), -EINVAL);
    EXPECT_EQ(xdp(NICSIM_CMSG_XDP_DETACH, 5, 0).err(), -ENODEV);
    nicsim_cmsg_xdp x{0, p, 0, 1};
    EXPECT_EQ(send(NICSIM_CMSG_XDP_ATTACH, x).err(), -EINVAL);
    fake.set_port_err = -EIO;
    r = xdp(NICSIM_CMSG_XDP_ATTACH, 0, p);
    EXPECT_EQ(r.err(), -EIO);
    EXPECT_NE(r.text().find("datapath refused"), std::string::npos);
    EXPECT_EQ(nicsim_fw__port_prog(fw, 0), 0u);
}

// ---------------------------------------------------------------------------------------------
// Counters and events.

TEST_F(FirmwareTest, StatsCountPerPortAndPerProgram)
{
    uint32_t p = load(Image::pass());
    nicsim_fw__count(fw, 1, p, 2 /* PASS */, 100, 50, 0);
    nicsim_fw__count(fw, 1, p, 1 /* DROP */, 60, 40, 0);
    nicsim_fw__count(fw, 0, 0, 2, 64, 0, 0);
    nicsim_fw__count(fw, 1, p, 77 /* unknown */, 10, 5, 1);
    Reply r = stats(NICSIM_STATS_PORT, 1);
    ASSERT_EQ(r.err(), 0);
    auto s = r.as<nicsim_stats>();
    EXPECT_EQ(s.scope, NICSIM_STATS_PORT);
    EXPECT_EQ(s.id, 1u);
    EXPECT_EQ(s.packets, 3u);
    EXPECT_EQ(s.bytes, 170u);
    EXPECT_EQ(s.verdicts[2], 1u);
    EXPECT_EQ(s.verdicts[1], 1u);
    EXPECT_EQ(s.verdicts[5], 1u);
    EXPECT_EQ(s.errors, 1u);
    EXPECT_EQ(s.cycles, 95u);
    s = stats(NICSIM_STATS_PROG, p, NICSIM_STATS_F_RESET).as<nicsim_stats>();
    EXPECT_EQ(s.packets, 3u);
    EXPECT_EQ(stats(NICSIM_STATS_PROG, p).as<nicsim_stats>().packets, 0u);
    EXPECT_EQ(stats(NICSIM_STATS_PORT, 0).as<nicsim_stats>().packets, 1u);
}

TEST_F(FirmwareTest, StatsValidation)
{
    EXPECT_EQ(stats(NICSIM_STATS_PORT, 2).err(), -ENODEV);
    EXPECT_EQ(stats(NICSIM_STATS_PROG, 1).err(), -ENOENT);
    EXPECT_EQ(stats(3, 0).err(), -EINVAL);
    EXPECT_EQ(stats(NICSIM_STATS_PORT, 0, 2).err(), -EINVAL);
    nicsim_cmsg_stats_req s{NICSIM_STATS_PORT, 0, 0, 9};
    EXPECT_EQ(send(NICSIM_CMSG_STATS, s).err(), -EINVAL);
}

TEST_F(FirmwareTest, EventsAreQueuedAndDrained)
{
    uint32_t rb = map(RINGBUF, 0, 0, 4096);
    uint32_t perf = map(PERF, 4, 4, 2);
    EXPECT_EQ(nicsim_fw__event_output(fw, rb, 1, 0, "hello", 5), 0);
    EXPECT_TRUE(fake.irq_causes & NICSIM_IRQ_EVENTS);
    int irqs = fake.irq_count;
    EXPECT_EQ(nicsim_fw__event_output(fw, perf, 3, 1, "0123456789", 10), 0);
    EXPECT_EQ(fake.irq_count, irqs); // interrupt only when the queue becomes non-empty
    EXPECT_EQ(nicsim_fw__event_output(fw, perf, 3, 2, "x", 1), -E2BIG); // index >= max_entries
    uint32_t arr = map(ARRAY, 4, 4, 1);
    EXPECT_EQ(nicsim_fw__event_output(fw, arr, 0, 0, "x", 1), -ENOENT);

    Reply r = events();
    ASSERT_EQ(r.err(), 0);
    auto rep = r.as<nicsim_cmsg_events_reply>();
    EXPECT_EQ(rep.count, 2u);
    EXPECT_EQ(rep.pending, 0u);
    EXPECT_EQ(rep.lost, 0u);
    auto r1 = r.as<nicsim_event_rec>(16);
    EXPECT_EQ(r1.map_id, rb);
    EXPECT_EQ(r1.cpu, 1u);
    EXPECT_EQ(r1.len, 5u);
    EXPECT_EQ(memcmp(r.body.data() + 16 + 24, "hello", 5), 0);
    auto r2 = r.as<nicsim_event_rec>(16 + 24 + 8);
    EXPECT_EQ(r2.map_id, perf);
    EXPECT_EQ(r2.index, 1u);
    EXPECT_EQ(memcmp(r.body.data() + 16 + 24 + 8 + 24, "0123456789", 10), 0);
    EXPECT_EQ(events().as<nicsim_cmsg_events_reply>().count, 0u);
}

TEST_F(FirmwareTest, FullEventQueueCountsLostRecords)
{
    uint32_t rb = map(RINGBUF, 0, 0, 4096);
    std::vector<uint8_t> data(200, 7);
    int ok = 0;
    while (nicsim_fw__event_output(fw, rb, 0, 0, data.data(), 200) == 0)
        ok++;
    EXPECT_EQ(ok, 1024 / (24 + 200));
    EXPECT_EQ(nicsim_fw__event_output(fw, rb, 0, 0, data.data(), 200), -ENOSPC);
    EXPECT_EQ(nicsim_fw__event_output(fw, rb, 0, 0, data.data(), 2000), -E2BIG);
    // max_bytes limits one drain
    Reply r = events(300);
    auto rep = r.as<nicsim_cmsg_events_reply>();
    EXPECT_EQ(rep.count, 1u);
    EXPECT_EQ(rep.pending, (uint32_t)ok - 1);
    EXPECT_EQ(rep.lost, 2u);
    rep = events().as<nicsim_cmsg_events_reply>();
    EXPECT_EQ(rep.count, (uint32_t)ok - 1);
    EXPECT_EQ(rep.lost, 0u);
    nicsim_cmsg_events_req bad{0, 1};
    EXPECT_EQ(send(NICSIM_CMSG_EVENTS, bad).err(), -EINVAL);
}

// ---------------------------------------------------------------------------------------------
// The rings, through the fake HAL's host memory.

struct FirmwareRingTest : FirmwareTest {
    static constexpr uint64_t kReq = FakeHal::kBus, kResp = FakeHal::kBus + 0x40000;
    uint32_t head = 0, tail = 0;

    void setreg(uint32_t off, uint32_t v) { fake.regs[off / 4] = v; }
    uint32_t reg(uint32_t off) { return fake.regs[off / 4]; }
    void rings(uint32_t entries = 4, uint32_t slot = 1024)
    {
        setreg(NICSIM_BAR0_REQ_BASE_LO, (uint32_t)kReq);
        setreg(NICSIM_BAR0_REQ_BASE_HI, (uint32_t)(kReq >> 32));
        setreg(NICSIM_BAR0_REQ_ENTRIES, entries);
        setreg(NICSIM_BAR0_REQ_SLOT_SIZE, slot);
        setreg(NICSIM_BAR0_RESP_BASE_LO, (uint32_t)kResp);
        setreg(NICSIM_BAR0_RESP_BASE_HI, (uint32_t)(kResp >> 32));
        setreg(NICSIM_BAR0_RESP_ENTRIES, entries);
        setreg(NICSIM_BAR0_RESP_SLOT_SIZE, slot);
        setreg(NICSIM_BAR0_CONTROL, NICSIM_CTRL_ENABLE);
        nicsim_fw__control(fw, NICSIM_CTRL_RESET | NICSIM_CTRL_ENABLE);
    }
    void push(uint32_t seq)
    {
        uint32_t entries = reg(NICSIM_BAR0_REQ_ENTRIES), slot = reg(NICSIM_BAR0_REQ_SLOT_SIZE);
        std::vector<uint8_t> m = msg(NICSIM_CMSG_FW_INFO, nullptr, 0, 0, seq);
        memcpy(fake.mem.data() + (kReq - FakeHal::kBus) + (head & (entries - 1)) * slot, m.data(),
               m.size());
        head++;
        setreg(NICSIM_BAR0_REQ_HEAD, head);
    }
    // seq of the next reply, consuming it
    uint32_t pop()
    {
        uint32_t entries = reg(NICSIM_BAR0_RESP_ENTRIES), slot = reg(NICSIM_BAR0_RESP_SLOT_SIZE);
        nicsim_cmsg_hdr h;
        memcpy(&h, fake.mem.data() + (kResp - FakeHal::kBus) + (tail & (entries - 1)) * slot,
               sizeof(h));
        EXPECT_EQ(h.type, NICSIM_CMSG_FW_INFO | NICSIM_CMSG_REPLY);
        EXPECT_EQ(h.status, 0u);
        tail++;
        setreg(NICSIM_BAR0_RESP_TAIL, tail);
        return h.seq;
    }
};

TEST_F(FirmwareRingTest, ServesRequestsAndWrapsAround)
{
    rings(4);
    uint32_t seq = 100;
    for (int round = 0; round < 5; round++) {
        push(seq);
        push(seq + 1);
        push(seq + 2);
        fake.irq_causes = 0;
        EXPECT_EQ(nicsim_fw__poll(fw), 3);
        EXPECT_TRUE(fake.irq_causes & NICSIM_IRQ_RESP);
        EXPECT_EQ(reg(NICSIM_BAR0_REQ_TAIL), head);
        EXPECT_EQ(reg(NICSIM_BAR0_RESP_HEAD), head);
        EXPECT_EQ(pop(), seq);
        EXPECT_EQ(pop(), seq + 1);
        EXPECT_EQ(pop(), seq + 2);
        seq += 3;
    }
    EXPECT_EQ(nicsim_fw__poll(fw), 0);
}

TEST_F(FirmwareRingTest, WaitsForRoomInTheResponseRing)
{
    rings(2);
    push(1);
    push(2);
    EXPECT_EQ(nicsim_fw__poll(fw), 2);
    push(3);
    EXPECT_EQ(nicsim_fw__poll(fw), 0); // response ring full
    EXPECT_EQ(reg(NICSIM_BAR0_REQ_TAIL), 2u);
    EXPECT_EQ(pop(), 1u);
    EXPECT_EQ(nicsim_fw__poll(fw), 1);
    EXPECT_EQ(pop(), 2u);
    EXPECT_EQ(pop(), 3u);
}

TEST_F(FirmwareRingTest, DisabledRingsAreNotServed)
{
    rings(4);
    setreg(NICSIM_BAR0_CONTROL, 0);
    push(1);
    EXPECT_EQ(nicsim_fw__poll(fw), 0);
    EXPECT_EQ(reg(NICSIM_BAR0_REQ_TAIL), 0u);
}

TEST_F(FirmwareRingTest, BadRingConfigurationHaltsUntilReset)
{
    rings(4);
    setreg(NICSIM_BAR0_REQ_ENTRIES, 3);
    push(1);
    EXPECT_EQ(nicsim_fw__poll(fw), -EINVAL);
    EXPECT_EQ(reg(NICSIM_BAR0_FW_STATUS), (uint32_t)NICSIM_FW_STATUS_HALTED);
    EXPECT_EQ(reg(NICSIM_BAR0_FW_ERROR), (uint32_t)NICSIM_FW_ERR_RING_CONFIG);
    EXPECT_TRUE(fake.irq_causes & NICSIM_IRQ_FW_ERROR);
    setreg(NICSIM_BAR0_REQ_ENTRIES, 4);
    EXPECT_EQ(nicsim_fw__poll(fw), -EIO); // still halted
    head = 0;
    setreg(NICSIM_BAR0_REQ_HEAD, 0);
    nicsim_fw__control(fw, NICSIM_CTRL_RESET);
    EXPECT_EQ(reg(NICSIM_BAR0_FW_STATUS), (uint32_t)NICSIM_FW_STATUS_READY);
    push(5);
    EXPECT_EQ(nicsim_fw__poll(fw), 1);
    EXPECT_EQ(pop(), 5u);
}

TEST_F(FirmwareRingTest, OtherBadGeometriesHalt)
{
    for (auto [off, val] :
         std::vector<std::pair<uint32_t, uint32_t>>{{NICSIM_BAR0_REQ_SLOT_SIZE, 100},
                                                    {NICSIM_BAR0_RESP_SLOT_SIZE, 1u << 21},
                                                    {NICSIM_BAR0_REQ_BASE_LO, 0x10000004},
                                                    {NICSIM_BAR0_RESP_ENTRIES, 8192},
                                                    {NICSIM_BAR0_RESP_ENTRIES, 0}}) {
        rings(4);
        setreg(off, val);
        EXPECT_EQ(nicsim_fw__poll(fw), -EINVAL) << std::hex << off << " " << val;
        EXPECT_EQ(reg(NICSIM_BAR0_FW_ERROR), (uint32_t)NICSIM_FW_ERR_RING_CONFIG);
    }
}

TEST_F(FirmwareRingTest, HeadTooFarAheadIsAnOverflow)
{
    rings(4);
    setreg(NICSIM_BAR0_REQ_HEAD, 5);
    EXPECT_EQ(nicsim_fw__poll(fw), -EOVERFLOW);
    EXPECT_EQ(reg(NICSIM_BAR0_FW_ERROR), (uint32_t)NICSIM_FW_ERR_RING_OVERFLOW);
}

TEST_F(FirmwareRingTest, DmaFaultHalts)
{
    rings(4);
    push(1);
    fake.dma_fail = true;
    EXPECT_EQ(nicsim_fw__poll(fw), -EFAULT);
    EXPECT_EQ(reg(NICSIM_BAR0_FW_ERROR), (uint32_t)NICSIM_FW_ERR_DMA);
}

TEST_F(FirmwareRingTest, OversizedLengthIsClampedToTheSlotAndRefused)
{
    rings(4, 256);
    push(9);
    // claim a length beyond the slot
    uint32_t big = 100000;
    memcpy(fake.mem.data() + 8, &big, 4);
    EXPECT_EQ(nicsim_fw__poll(fw), 1);
    nicsim_cmsg_hdr h;
    memcpy(&h, fake.mem.data() + (kResp - FakeHal::kBus), sizeof(h));
    EXPECT_EQ(h.seq, 9u);
    EXPECT_EQ(nicsim_cmsg_status_to_errno(h.status), -EBADMSG);
}

} // namespace
