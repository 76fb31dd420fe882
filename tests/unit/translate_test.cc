// SPDX-License-Identifier: MIT
// The NIC driver's translator: image header, map table, and the three rewrites (map references,
// helper ids, struct xdp_md -> packet descriptor), alone and through the whole offload path
// (verifier -> driver translate -> firmware loader -> what reaches the cores).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nicsim/core.h"
#include "nicsim/ctrl.h"
#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/nic_image.h"
#include "nicsim/nicdev.h"
#include "offload_insns.h"

using namespace ins;

namespace
{

struct Image {
    std::vector<uint8_t> bytes;
    nicsim_img_hdr hdr{};
    std::vector<uint32_t> maps;
    std::vector<nicsim_insn> slots;

    explicit Image(const void *p, size_t len)
        : bytes(static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + len)
    {
        nicsim_img_hdr_get(&hdr, p);
        maps.resize(hdr.n_maps);
        for (uint32_t i = 0; i < hdr.n_maps; i++)
            maps[i] = nicsim_get_le32(bytes.data(), sizeof(hdr) + 4u * i);
        slots.resize(hdr.n_slots);
        for (uint32_t i = 0; i < hdr.n_slots; i++)
            nicsim_img_slot_get(&slots[i], bytes.data() + sizeof(hdr) + 4u * hdr.n_maps + 8u * i);
    }
};

struct Xlate {
    int rc;
    std::string msg;
    long index = -2;
    std::unique_ptr<Image> img;

    Xlate(const Prog &p, const std::vector<uint8_t> &ctx, const std::vector<uint32_t> &map_ids,
          const char *name = "xl", uint32_t stack = 0, uint32_t flags = 0)
    {
        nicsim_drv_xlate x{};
        nicsim_msg m;
        void *out = nullptr;
        size_t len = 0;

        x.sz = sizeof(x);
        x.insns = p.data();
        x.n = (uint32_t)p.size();
        x.ctx = ctx.empty() ? nullptr : ctx.data();
        x.map_ids = map_ids.data();
        x.n_maps = (uint32_t)map_ids.size();
        x.stack_depth = stack;
        x.flags = flags;
        x.name = name;
        rc = nicsim_drv_translate(&x, &out, &len, &m);
        msg = m.msg;
        index = m.index;
        if (!rc) {
            img = std::make_unique<Image>(out, len);
            EXPECT_EQ(len, sizeof(nicsim_img_hdr) + 4 * map_ids.size() + 8 * p.size());
        }
        free(out);
    }
};

TEST(TranslateTest, HeaderAndMapTable)
{
    Prog p;
    ld_map_idx(p, 1, 1); // used map 1
    p.push_back(raw(BPF_LD | BPF_IMM | BPF_DW, 2, NICSIM_LDDW_MAP_IDX_VALUE, 0, 0));
    p.push_back(raw(0, 0, 0, 0, 4)); // used map 0, value offset 4
    ld_imm64(p, 3, 0x1122334455667788ull);
    p.push_back(mov64_imm(0, 2));
    p.push_back(exit_insn());
    Xlate x(p, {}, {7, 9}, "xdp_prog", 24, NICSIM_IMG_F_USES_TAIL_CALL);
    ASSERT_EQ(x.rc, 0) << x.msg;
    const nicsim_img_hdr &h = x.img->hdr;
    EXPECT_EQ(h.magic, NICSIM_IMG_MAGIC);
    EXPECT_EQ(h.version, NICSIM_IMG_VERSION);
    EXPECT_EQ(h.hdr_len, sizeof(nicsim_img_hdr));
    EXPECT_EQ(h.n_slots, p.size());
    EXPECT_EQ(h.n_maps, 2u);
    EXPECT_EQ(h.prog_type, (uint32_t)BPF_PROG_TYPE_XDP);
    EXPECT_EQ(h.stack_depth, 24u);
    EXPECT_EQ(h.flags, NICSIM_IMG_F_USES_TAIL_CALL);
    EXPECT_STREQ(h.name, "xdp_prog");
    EXPECT_EQ(x.img->maps, (std::vector<uint32_t>{7, 9}));
    // map references now carry NIC map ids; value offsets and plain immediates are untouched
    EXPECT_EQ(x.img->slots[0].src, NICSIM_LDDW_MAP_IDX);
    EXPECT_EQ(x.img->slots[0].imm, 9);
    EXPECT_EQ(x.img->slots[1].imm, 0);
    EXPECT_EQ(x.img->slots[2].src, NICSIM_LDDW_MAP_IDX_VALUE);
    EXPECT_EQ(x.img->slots[2].imm, 7);
    EXPECT_EQ(x.img->slots[3].imm, 4);
    EXPECT_EQ((uint32_t)x.img->slots[4].imm, 0x55667788u);
    EXPECT_EQ((uint32_t)x.img->slots[5].imm, 0x11223344u);
}

TEST(TranslateTest, HelperCallsBecomeHelperUnits)
{
    struct {
        int32_t kernel;
        int hw;
    } table[] = {
        {BPF_FUNC_map_lookup_elem, NICSIM_HW_MAP_LOOKUP},
        {BPF_FUNC_map_update_elem, NICSIM_HW_MAP_UPDATE},
        {BPF_FUNC_map_delete_elem, NICSIM_HW_MAP_DELETE},
        {BPF_FUNC_ktime_get_ns, NICSIM_HW_KTIME},
        {BPF_FUNC_get_prandom_u32, NICSIM_HW_PRANDOM},
        {BPF_FUNC_get_smp_processor_id, NICSIM_HW_SMP_ID},
        {BPF_FUNC_tail_call, NICSIM_HW_TAIL_CALL},
        {BPF_FUNC_redirect, NICSIM_HW_REDIRECT},
        {BPF_FUNC_perf_event_output, NICSIM_HW_PERF_EVENT_OUTPUT},
        {BPF_FUNC_csum_diff, NICSIM_HW_CSUM_DIFF},
        {BPF_FUNC_xdp_adjust_head, NICSIM_HW_ADJUST_HEAD},
        {BPF_FUNC_redirect_map, NICSIM_HW_REDIRECT_MAP},
        {BPF_FUNC_xdp_adjust_meta, NICSIM_HW_ADJUST_META},
        {BPF_FUNC_xdp_adjust_tail, NICSIM_HW_ADJUST_TAIL},
        {BPF_FUNC_ringbuf_output, NICSIM_HW_RINGBUF_OUTPUT},
        {BPF_FUNC_xdp_get_buff_len, NICSIM_HW_GET_BUFF_LEN},
        {BPF_FUNC_xdp_load_bytes, NICSIM_HW_LOAD_BYTES},
        {BPF_FUNC_xdp_store_bytes, NICSIM_HW_STORE_BYTES},
        {BPF_FUNC_trace_printk, NICSIM_HW_TRACE_PRINTK},
    };
    Prog p;
    for (const auto &t : table) {
        EXPECT_EQ(nicsim_drv_hw_helper(t.kernel), t.hw) << t.kernel;
        p.push_back(call(t.kernel));
    }
    p.push_back(exit_insn());
    Xlate x(p, {}, {});
    ASSERT_EQ(x.rc, 0) << x.msg;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        EXPECT_EQ(x.img->slots[i].code, BPF_JMP | BPF_CALL);
        EXPECT_EQ(x.img->slots[i].imm, table[i].hw);
    }
    // exactly the 19: nothing else maps
    int n = 0;
    for (int32_t id = 0; id < 256; id++)
        n += nicsim_drv_hw_helper(id) != 0;
    EXPECT_EQ(n, 19);
}

TEST(TranslateTest, ContextLoadsBecomeDescriptorLoads)
{
    // r2 = ctx->data; r3 = ctx->data_end; r4 = ctx->data_meta; r5 = ctx->ingress_ifindex;
    // r6 = ctx->rx_queue_index; r7 = ctx->egress_ifindex; plus a non-context load left alone
    Prog p = {ldx(BPF_W, 2, 1, 0),  ldx(BPF_W, 3, 1, 4),  ldx(BPF_W, 4, 1, 8),
              ldx(BPF_W, 5, 1, 12), ldx(BPF_W, 6, 1, 16), ldx(BPF_W, 7, 1, 20),
              ldx(BPF_W, 8, 2, 0),  mov64_imm(0, 2),      exit_insn()};
    Xlate x(p, {1, 1, 1, 1, 1, 1, 0, 0, 0}, {});
    ASSERT_EQ(x.rc, 0) << x.msg;
    const struct {
        uint8_t code;
        int16_t off;
    } want[] = {
        {BPF_LDX | BPF_MEM | BPF_DW, 0},  {BPF_LDX | BPF_MEM | BPF_DW, 8},
        {BPF_LDX | BPF_MEM | BPF_DW, 16}, {BPF_LDX | BPF_MEM | BPF_W, 24},
        {BPF_LDX | BPF_MEM | BPF_W, 28},  {BPF_LDX | BPF_MEM | BPF_W, 32},
        {BPF_LDX | BPF_MEM | BPF_W, 0},
    };
    for (size_t i = 0; i < 7; i++) {
        EXPECT_EQ(x.img->slots[i].code, want[i].code) << i;
        EXPECT_EQ(x.img->slots[i].off, want[i].off) << i;
        EXPECT_EQ(x.img->slots[i].dst, p[i].dst) << i;
        EXPECT_EQ(x.img->slots[i].src, p[i].src) << i;
    }
    EXPECT_EQ(offsetof(nicsim_pkt_desc, data_end), 8u);
    EXPECT_EQ(offsetof(nicsim_pkt_desc, ingress_ifindex), 24u);
}

TEST(TranslateTest, RxQueueIndexWriteBecomesADescriptorStore)
{
    // ctx->rx_queue_index = r2 (an offloaded program's host queue for XDP_PASS)
    Prog p = {mov64_imm(2, 3), stx(BPF_W, 1, 2, 16), mov64_imm(0, 2), exit_insn()};
    Xlate x(p, {0, 1, 0, 0}, {});
    ASSERT_EQ(x.rc, 0) << x.msg;
    EXPECT_EQ(x.img->slots[1].code, BPF_STX | BPF_MEM | BPF_W);
    EXPECT_EQ(x.img->slots[1].off, (int16_t)offsetof(nicsim_pkt_desc, rx_queue_index));
    // any other context store has no NIC form
    Xlate other({mov64_imm(2, 3), stx(BPF_W, 1, 2, 12), mov64_imm(0, 2), exit_insn()}, {0, 1, 0, 0},
                {});
    EXPECT_EQ(other.rc, -EOPNOTSUPP);
    EXPECT_EQ(other.msg, "insn 1: context write at struct xdp_md offset 12");
    EXPECT_EQ(other.index, 1) << "the message carrier names the instruction";
}

TEST(TranslateTest, RefusalsNameTheInstruction)
{
    Xlate fib(
        {mov64_imm(0, 0), mov64_imm(1, 0), mov64_imm(2, 0), call(BPF_FUNC_fib_lookup), exit_insn()},
        {}, {});
    EXPECT_EQ(fib.rc, -EOPNOTSUPP);
    EXPECT_EQ(fib.msg, "unsupported helper bpf_fib_lookup (69) at insn 3");
    EXPECT_EQ(fib.index, 3);

    Prog bad;
    ld_map_idx(bad, 1, 5);
    bad.push_back(exit_insn());
    Xlate ref(bad, {}, {3, 4});
    EXPECT_EQ(ref.rc, -EINVAL);
    EXPECT_EQ(ref.msg, "insn 0: map reference 5, the program uses 2 maps");

    Xlate field({ldx(BPF_W, 0, 1, 2), exit_insn()}, {1, 0}, {});
    EXPECT_EQ(field.rc, -EOPNOTSUPP);
    EXPECT_EQ(field.msg, "insn 0: struct xdp_md offset 2 has no NIC equivalent");

    Xlate dup({mov64_imm(0, 0), exit_insn()}, {}, {3, 3});
    EXPECT_EQ(dup.rc, -EINVAL);
    EXPECT_EQ(dup.msg, "translate: NIC map id 3 listed twice");
    EXPECT_EQ(dup.index, -1);

    Prog big(NICSIM_IMG_MAX_SLOTS + 1, mov64_imm(0, 0));
    big.back() = exit_insn();
    Xlate huge(big, {}, {});
    EXPECT_EQ(huge.rc, -E2BIG);
    EXPECT_EQ(huge.msg, "program of 65537 instructions exceeds the NIC's 65536-slot instruction "
                        "memory");
}

TEST(TranslateTest, NameIsTruncatedAndPrintable)
{
    Xlate x({mov64_imm(0, 0), exit_insn()}, {}, {}, "a_very_long_program_name\x01");
    ASSERT_EQ(x.rc, 0) << x.msg;
    EXPECT_EQ(std::string(x.img->hdr.name, strnlen(x.img->hdr.name, 16)), "a_very_long_pro");
    EXPECT_EQ(x.img->hdr.name[15], '\0');
}

// ---- Through the whole path.

class TranslatePathTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        k = nicsim_kern__new(nullptr);
        ASSERT_NE(k, nullptr);
        nicsim_nic_opts o{};
        o.sz = sizeof(o);
        o.n_ports = 2;
        nic = nicsim_nic__new(&o);
        ASSERT_NE(nic, nullptr);
        drv = nicsim_drv__probe(k, nicsim_nic__ctrl(nic), nullptr);
        ASSERT_NE(drv, nullptr);
        ifindex = nicsim_drv__netdev(drv, 0)->ifindex;
    }
    void TearDown() override
    {
        nicsim_drv__remove(drv);
        nicsim_nic__free(nic);
        nicsim_kern__free(k);
    }
    nicsim_kern *k = nullptr;
    nicsim_nic *nic = nullptr;
    nicsim_drv *drv = nullptr;
    int ifindex = 0;
};

TEST_F(TranslatePathTest, OffloadedProgramReachesTheCoresRewritten)
{
    auto ma = map_attr(BPF_MAP_TYPE_HASH, 4, 8, 16, (uint32_t)ifindex, "flows");
    int m = nicsim_kern_map_create(k, &ma, nullptr);
    ASSERT_GE(m, 0);
    uint32_t nic_map = nicsim_drv__nic_map_id(nicsim_kern_map_by_fd(k, m));
    ASSERT_NE(nic_map, 0u);

    // 0: r6 = ctx->data_end  1: r7 = ctx->data  2: r3 = 7  3: if r3 == 8 goto 12 (dead)
    // 4..9: lookup  10: r0 = 2  11: exit  12: r0 = 1  13: exit (dead)
    Prog p = {ldx(BPF_W, 6, 1, 4), ldx(BPF_W, 7, 1, 0), mov64_imm(3, 7), jmp_imm(BPF_JEQ, 3, 8, 8)};
    lookup_key0(p, 0);
    p.push_back(mov64_imm(0, 2));
    p.push_back(exit_insn());
    p.push_back(mov64_imm(0, 1));
    p.push_back(exit_insn());
    ASSERT_EQ(p.size(), 14u);
    Load l(p, {m}, (uint32_t)ifindex, "path");
    int fd = nicsim_kern_prog_load(k, &l.attr);
    ASSERT_GE(fd, 0) << l.logs();
    nicsim_bpf_prog *prog = nicsim_kern_prog_by_fd(k, fd);
    EXPECT_STREQ(nicsim_drv__prog_state(prog), "xlated");

    size_t len = 0;
    const void *raw_img = nicsim_drv__image(prog, &len);
    ASSERT_NE(raw_img, nullptr);
    Image img(raw_img, len);
    // the dead branch and its target went: 14 - 1 (ja +0) - 2 = 11 slots
    ASSERT_EQ(img.hdr.n_slots, 11u);
    EXPECT_EQ(img.maps, (std::vector<uint32_t>{nic_map}));
    EXPECT_EQ(img.slots[0].code, BPF_LDX | BPF_MEM | BPF_DW);
    EXPECT_EQ(img.slots[0].off, 8);
    EXPECT_EQ(img.slots[1].off, 0);
    EXPECT_EQ(img.slots[6].imm, (int32_t)nic_map);     // LDDW map handle
    EXPECT_EQ(img.slots[8].imm, NICSIM_HW_MAP_LOOKUP); // helper unit
    nicsim_kern_prog_info info;
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
    EXPECT_EQ(info.jited_len, len);
    EXPECT_EQ(info.ifindex, (uint32_t)ifindex);

    // attach: the firmware loads and relocates it; the cores get the descriptor loads and the
    // map's NIC address
    nicsim_msg ea{};
    ASSERT_EQ(nicsim_kern_xdp_attach(k, ifindex, fd, -1, XDP_FLAGS_HW_MODE, &ea), 0) << ea.msg;
    uint32_t nic_prog = nicsim_drv__nic_prog_id(prog);
    ASSERT_NE(nic_prog, 0u);
    EXPECT_STREQ(nicsim_drv__prog_state(prog), "loaded");
    EXPECT_EQ(nicsim_nic__port_prog(nic, 0), nic_prog);
    size_t n = 0;
    const nicsim_isa_insn *dec = nicsim_nic__prog(nic, nic_prog, &n);
    ASSERT_NE(dec, nullptr);
    ASSERT_EQ(n, 11u);
    EXPECT_EQ(dec[0].op, NICSIM_OP_LDXDW);
    EXPECT_EQ(dec[0].off, 8);
    EXPECT_EQ(dec[6].op, NICSIM_OP_LDDW);
    EXPECT_EQ(dec[6].imm64, nicsim_addr(NICSIM_MAP_REGION_BASE + nic_map, 0));
    EXPECT_EQ(dec[8].op, NICSIM_OP_CALL_HELPER);
    EXPECT_EQ(dec[8].imm, NICSIM_HW_MAP_LOOKUP);
    ASSERT_EQ(nicsim_kern_xdp_attach(k, ifindex, -1, -1, XDP_FLAGS_HW_MODE, &ea), 0);
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog), 0u); // unloaded with its last port
    nicsim_kern_close(k, fd);
    nicsim_kern_close(k, m);
}

} // namespace

/* The one options rule (nicsim_opts_copy): a larger struct only with a zero tail; a smaller one
 * (a caller without flags and name) reads them as zero instead of past its end. */
TEST(TranslateTest, RequestFollowsTheOptionsRule)
{
    Prog p = {mov64_imm(0, 2), exit_insn()};
    struct {
        nicsim_drv_xlate x;
        uint64_t future;
    } big{};
    void *out = nullptr;
    size_t len = 0;
    nicsim_msg m;
    big.x.sz = sizeof(big);
    big.x.insns = p.data();
    big.x.n = (uint32_t)p.size();
    EXPECT_EQ(nicsim_drv_translate(&big.x, &out, &len, &m), 0) << m.msg;
    free(out);
    out = nullptr;
    big.future = 1;
    EXPECT_EQ(nicsim_drv_translate(&big.x, &out, &len, &m), -EINVAL);
    EXPECT_STREQ(m.msg, "translate: missing program, map table or output");
    EXPECT_EQ(m.index, -1);

    big.future = 0;
    big.x.sz = offsetof(nicsim_drv_xlate, flags);
    big.x.flags = NICSIM_IMG_F_USES_TAIL_CALL; /* past sz: not the caller's */
    ASSERT_EQ(nicsim_drv_translate(&big.x, &out, &len, &m), 0) << m.msg;
    nicsim_img_hdr h;
    nicsim_img_hdr_get(&h, out);
    EXPECT_EQ(h.flags, 0u);
    free(out);
}

/* The image's instruction slots are encoded little-endian at the offsets docs/nic-image.md gives
 * (opcode, dst | src << 4, off, imm), whatever the host's byte and bit-field order, by the
 * translator and decoded the same way by the firmware's loader. */
TEST(TranslateTest, SlotsAreLittleEndianAtDocumentedOffsets)
{
    nicsim_insn in{};
    in.code = 0x61;
    in.dst = 3;
    in.src = 0xa;
    in.off = (int16_t)0x8102;
    in.imm = (int32_t)0x80c0d0e0u;
    uint8_t b[8];
    memset(b, 0xff, sizeof(b));
    nicsim_img_slot_put(b, &in);
    const uint8_t want[8] = {0x61, 0xa3, 0x02, 0x81, 0xe0, 0xd0, 0xc0, 0x80};
    EXPECT_EQ(0, memcmp(b, want, sizeof(b)));
    nicsim_insn back{};
    nicsim_img_slot_get(&back, b);
    EXPECT_EQ(back.code, 0x61);
    EXPECT_EQ(back.dst, 3);
    EXPECT_EQ(back.src, 0xa);
    EXPECT_EQ(back.off, (int16_t)0x8102);
    EXPECT_EQ(back.imm, (int32_t)0x80c0d0e0u);

    /* the translator writes them so: a helper call rewritten to its NIC id */
    Prog p = {call(BPF_FUNC_ktime_get_ns), exit_insn()};
    Xlate x(p, {}, {});
    ASSERT_EQ(x.rc, 0) << x.msg;
    const uint8_t *slot0 = x.img->bytes.data() + sizeof(nicsim_img_hdr);
    const uint8_t call0[8] = {BPF_JMP | BPF_CALL, 0, 0, 0, NICSIM_HW_KTIME, 0, 0, 0};
    EXPECT_EQ(0, memcmp(slot0, call0, 8));
}
