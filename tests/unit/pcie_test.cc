// SPDX-License-Identifier: MIT
// PCIe transport model: BAR0 access rules, doorbell, interrupt latch and mask, DMA window; and
// the control client's ring protocol over it against a minimal echo device (wrap-around, stale
// replies, a device that never answers).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "nicsim/ctrl.h"
#include "nicsim/pcie.h"

namespace
{

struct PcieFixture : ::testing::Test {
    nicsim_pcie *pcie = nullptr;
    void SetUp() override
    {
        pcie = nicsim_pcie__new();
        ASSERT_NE(pcie, nullptr);
    }
    void TearDown() override { nicsim_pcie__free(pcie); }
};

using PcieTest = PcieFixture;

TEST_F(PcieTest, ReadOnlyRegistersIgnoreHostWrites)
{
    nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_ID, NICSIM_BAR0_ID_VALUE);
    nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_REQ_TAIL, 5);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_ID, 0x12345678);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_REQ_TAIL, 9);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_ID), NICSIM_BAR0_ID_VALUE);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_REQ_TAIL), 5u);
    EXPECT_EQ(nicsim_pcie__stats(pcie)->bad_mmio, 2u);
}

TEST_F(PcieTest, ReadWriteRegistersKeepHostValues)
{
    nicsim_pcie__write32(pcie, NICSIM_BAR0_SCRATCH, 0xdeadbeef);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_REQ_HEAD, 7);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_SCRATCH), 0xdeadbeefu);
    EXPECT_EQ(nicsim_pcie__dev_read32(pcie, NICSIM_BAR0_REQ_HEAD), 7u);
}

TEST_F(PcieTest, OutOfRangeAndUnalignedAccessesReadAllOnes)
{
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_SIZE), 0xffffffffu);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_SCRATCH + 1), 0xffffffffu);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_SCRATCH + 2, 1);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_SCRATCH), 0u);
    EXPECT_EQ(nicsim_pcie__stats(pcie)->bad_mmio, 3u);
    // a hole in the register map reads 0 and ignores writes
    nicsim_pcie__write32(pcie, 0x0f0, 5);
    EXPECT_EQ(nicsim_pcie__read32(pcie, 0x0f0), 0u);
}

TEST_F(PcieTest, IrqMaskResetsToAllMasked)
{
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_IRQ_MASK), 0xffffffffu);
}

struct DevLog {
    int doorbells = 0;
    std::vector<uint32_t> controls;
};

void dev_doorbell(void *dev)
{
    static_cast<DevLog *>(dev)->doorbells++;
}
void dev_control(void *dev, uint32_t v)
{
    static_cast<DevLog *>(dev)->controls.push_back(v);
}

TEST_F(PcieTest, DoorbellCallsTheDeviceSynchronouslyAndReadsZero)
{
    DevLog log;
    nicsim_pcie_dev_ops ops = {dev_doorbell, dev_control};
    nicsim_pcie__set_device(pcie, &ops, &log);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_DOORBELL, 1);
    EXPECT_EQ(log.doorbells, 1);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_DOORBELL, 0);
    EXPECT_EQ(log.doorbells, 2);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_DOORBELL), 0u);
    EXPECT_EQ(nicsim_pcie__stats(pcie)->doorbells, 2u);
}

TEST_F(PcieTest, ControlResetBitSelfClears)
{
    DevLog log;
    nicsim_pcie_dev_ops ops = {dev_doorbell, dev_control};
    nicsim_pcie__set_device(pcie, &ops, &log);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_CONTROL, NICSIM_CTRL_RESET | NICSIM_CTRL_ENABLE);
    ASSERT_EQ(log.controls.size(), 1u);
    EXPECT_EQ(log.controls[0], NICSIM_CTRL_RESET | NICSIM_CTRL_ENABLE);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_CONTROL), NICSIM_CTRL_ENABLE);
}

void count_irq(void *user)
{
    (*static_cast<int *>(user))++;
}

TEST_F(PcieTest, IrqStatusLatchesAndIsWriteOneToClear)
{
    nicsim_pcie__raise_irq(pcie, NICSIM_IRQ_RESP | NICSIM_IRQ_EVENTS);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_IRQ_STATUS),
              NICSIM_IRQ_RESP | NICSIM_IRQ_EVENTS);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_IRQ_STATUS, NICSIM_IRQ_RESP);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_IRQ_STATUS), NICSIM_IRQ_EVENTS);
    // writing 0 clears nothing
    nicsim_pcie__write32(pcie, NICSIM_BAR0_IRQ_STATUS, 0);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_IRQ_STATUS), NICSIM_IRQ_EVENTS);
}

TEST_F(PcieTest, MaskedCausesDoNotInterruptUntilUnmasked)
{
    int irqs = 0;
    nicsim_pcie__set_irq_handler(pcie, count_irq, &irqs);
    nicsim_pcie__raise_irq(pcie, NICSIM_IRQ_EVENTS); // masked at reset
    EXPECT_EQ(irqs, 0);
    nicsim_pcie__write32(pcie, NICSIM_BAR0_IRQ_MASK, ~NICSIM_IRQ_EVENTS);
    EXPECT_EQ(irqs, 1); // pending cause fires on unmask
    nicsim_pcie__write32(pcie, NICSIM_BAR0_IRQ_STATUS, NICSIM_IRQ_EVENTS);
    nicsim_pcie__raise_irq(pcie, NICSIM_IRQ_RESP); // still masked
    EXPECT_EQ(irqs, 1);
    nicsim_pcie__raise_irq(pcie, NICSIM_IRQ_EVENTS);
    EXPECT_EQ(irqs, 2);
    EXPECT_EQ(nicsim_pcie__stats(pcie)->irqs, 2u);
}

TEST_F(PcieTest, DmaReachesOnlyMappedBuffersInTheirDirection)
{
    std::vector<uint8_t> a(100), b(100, 0xbb);
    for (size_t i = 0; i < a.size(); i++)
        a[i] = (uint8_t)i;
    uint64_t ba = 0, bb = 0;
    ASSERT_EQ(nicsim_pcie__dma_map(pcie, a.data(), a.size(), NICSIM_DMA_TO_DEVICE, &ba), 0);
    ASSERT_EQ(nicsim_pcie__dma_map(pcie, b.data(), b.size(), NICSIM_DMA_FROM_DEVICE, &bb), 0);
    EXPECT_EQ(nicsim_pcie__n_mappings(pcie), 2u);

    uint8_t buf[16];
    ASSERT_EQ(nicsim_pcie__dma_read(pcie, ba + 90, buf, 10), 0);
    EXPECT_EQ(buf[0], 90);
    EXPECT_EQ(buf[9], 99);
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, ba + 91, buf, 10), -EFAULT); // one past the end
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, ba - 1, buf, 1), -EFAULT);
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, bb, buf, 4), -EFAULT);  // device may not read b
    EXPECT_EQ(nicsim_pcie__dma_write(pcie, ba, buf, 4), -EFAULT); // nor write a
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, UINT64_MAX, buf, 2), -EFAULT);
    memset(buf, 0x5a, sizeof(buf));
    ASSERT_EQ(nicsim_pcie__dma_write(pcie, bb + 96, buf, 4), 0);
    EXPECT_EQ(b[96], 0x5a);
    EXPECT_EQ(b[95], 0xbb);
    EXPECT_EQ(nicsim_pcie__stats(pcie)->dma_faults, 5u);

    nicsim_pcie__dma_unmap(pcie, ba);
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, ba, buf, 1), -EFAULT);
    nicsim_pcie__dma_unmap(pcie, bb);
    EXPECT_EQ(nicsim_pcie__n_mappings(pcie), 0u);
}

TEST_F(PcieTest, MappingsAreSeparatedByGuardPages)
{
    std::vector<uint8_t> a(4096), b(4096);
    uint64_t ba = 0, bb = 0;
    ASSERT_EQ(nicsim_pcie__dma_map(pcie, a.data(), a.size(), NICSIM_DMA_BIDIR, &ba), 0);
    ASSERT_EQ(nicsim_pcie__dma_map(pcie, b.data(), b.size(), NICSIM_DMA_BIDIR, &bb), 0);
    EXPECT_GE(bb, ba + 8192);
    uint8_t buf[8];
    EXPECT_EQ(nicsim_pcie__dma_read(pcie, ba + 4092, buf, 8), -EFAULT);
}

TEST_F(PcieTest, BadMappingsAreRefused)
{
    uint8_t x[8];
    uint64_t bus;
    EXPECT_EQ(nicsim_pcie__dma_map(pcie, nullptr, 8, NICSIM_DMA_BIDIR, &bus), -EINVAL);
    EXPECT_EQ(nicsim_pcie__dma_map(pcie, x, 0, NICSIM_DMA_BIDIR, &bus), -EINVAL);
    EXPECT_EQ(nicsim_pcie__dma_map(pcie, x, 8, 0, &bus), -EINVAL);
    EXPECT_EQ(nicsim_pcie__dma_map(pcie, x, 8, 8, &bus), -EINVAL);
}

TEST_F(PcieTest, VtableReachesTheSameModel)
{
    const nicsim_bar_ops *ops = nicsim_pcie_bar_ops();
    ops->write32(pcie, NICSIM_BAR0_SCRATCH, 42);
    EXPECT_EQ(ops->read32(pcie, NICSIM_BAR0_SCRATCH), 42u);
    ops->raise_irq(pcie, NICSIM_IRQ_RESP);
    EXPECT_EQ(nicsim_pcie__read32(pcie, NICSIM_BAR0_IRQ_STATUS), NICSIM_IRQ_RESP);
}

// ---------------------------------------------------------------------------------------------
// The ring protocol, with an echo device standing in for the firmware: it answers every request
// with a reply of the same type and seq whose body is the request body.
struct EchoDev {
    nicsim_pcie *pcie;
    bool mute = false;        // never answers
    bool stale_first = false; // posts a reply with a wrong seq before the real one
    int served = 0;
    uint32_t req_tail = 0, resp_head = 0;

    uint32_t rd(uint32_t off) { return nicsim_pcie__dev_read32(pcie, off); }
    uint64_t base(uint32_t lo) { return rd(lo) | (uint64_t)rd(lo + 4) << 32; }
    void post(const std::vector<uint8_t> &msg)
    {
        uint32_t entries = rd(NICSIM_BAR0_RESP_ENTRIES), slot = rd(NICSIM_BAR0_RESP_SLOT_SIZE);
        uint64_t at = base(NICSIM_BAR0_RESP_BASE_LO) + (uint64_t)(resp_head & (entries - 1)) * slot;
        ASSERT_EQ(nicsim_pcie__dma_write(pcie, at, msg.data(), msg.size()), 0);
        resp_head++;
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_RESP_HEAD, resp_head);
    }
    void poll()
    {
        if (mute)
            return;
        uint32_t entries = rd(NICSIM_BAR0_REQ_ENTRIES), slot = rd(NICSIM_BAR0_REQ_SLOT_SIZE);
        uint32_t resp_entries = rd(NICSIM_BAR0_RESP_ENTRIES);
        while (req_tail != rd(NICSIM_BAR0_REQ_HEAD)) {
            uint32_t room = resp_entries - (resp_head - rd(NICSIM_BAR0_RESP_TAIL));
            if (room < (stale_first ? 2u : 1u))
                return;
            uint64_t at =
                base(NICSIM_BAR0_REQ_BASE_LO) + (uint64_t)(req_tail & (entries - 1)) * slot;
            nicsim_cmsg_hdr h;
            ASSERT_EQ(nicsim_pcie__dma_read(pcie, at, &h, sizeof(h)), 0);
            std::vector<uint8_t> msg(h.len);
            ASSERT_EQ(nicsim_pcie__dma_read(pcie, at, msg.data(), h.len), 0);
            h.type |= NICSIM_CMSG_REPLY;
            if (stale_first) {
                nicsim_cmsg_hdr s = h;
                s.seq = h.seq - 1000;
                std::vector<uint8_t> stale(sizeof(s));
                memcpy(stale.data(), &s, sizeof(s));
                post(stale);
            }
            memcpy(msg.data(), &h, sizeof(h));
            post(msg);
            req_tail++;
            nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_REQ_TAIL, req_tail);
            served++;
        }
    }
    static void doorbell(void *d) { static_cast<EchoDev *>(d)->poll(); }
    static void control(void *d, uint32_t v)
    {
        auto *e = static_cast<EchoDev *>(d);
        if (v & NICSIM_CTRL_RESET) {
            e->req_tail = e->resp_head = 0;
            nicsim_pcie__dev_write32(e->pcie, NICSIM_BAR0_REQ_TAIL, 0);
            nicsim_pcie__dev_write32(e->pcie, NICSIM_BAR0_RESP_HEAD, 0);
        }
    }
};

struct RingTest : PcieFixture {
    EchoDev dev;
    nicsim_pcie_dev_ops ops = {EchoDev::doorbell, EchoDev::control};
    nicsim_ctrl *ctrl = nullptr;
    void SetUp() override
    {
        PcieFixture::SetUp();
        dev.pcie = pcie;
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_ID, NICSIM_BAR0_ID_VALUE);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_VERSION, NICSIM_BAR0_VERSION_VALUE);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_CAPS, NICSIM_CAP_CMSG);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_NUM_PORTS, 2);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_NUM_CORES, 3);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_MAX_SLOT_SIZE, 4096);
        nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_FW_STATUS, NICSIM_FW_STATUS_READY);
        nicsim_pcie__set_device(pcie, &ops, &dev);
    }
    void open(uint32_t entries, uint32_t polls = 0)
    {
        nicsim_ctrl_opts o = {};
        o.sz = sizeof(o);
        o.ring_entries = entries;
        o.poll_budget = polls;
        ctrl = nicsim_ctrl__new(nicsim_pcie_bar_ops(), pcie, &o);
        ASSERT_NE(ctrl, nullptr) << strerror(errno);
    }
    void TearDown() override
    {
        nicsim_ctrl__free(ctrl);
        EXPECT_EQ(nicsim_pcie__n_mappings(pcie), 0u);
        PcieFixture::TearDown();
    }
    int echo(uint32_t tag)
    {
        uint8_t req[24] = {}, resp[64] = {};
        nicsim_cmsg_hdr h = {};
        h.type = NICSIM_CMSG_STATS;
        memcpy(req, &h, sizeof(h));
        memcpy(req + 16, &tag, 4);
        int n = nicsim_ctrl__xfer(ctrl, req, sizeof(req), resp, sizeof(resp));
        if (n < 0)
            return n;
        uint32_t got;
        memcpy(&got, resp + 16, 4);
        return got == tag && n == 24 ? 0 : -1;
    }
};

TEST_F(RingTest, ClientProgramsTheRingRegisters)
{
    open(4);
    EXPECT_EQ(dev.rd(NICSIM_BAR0_REQ_ENTRIES), 4u);
    EXPECT_EQ(dev.rd(NICSIM_BAR0_RESP_ENTRIES), 4u);
    EXPECT_EQ(dev.rd(NICSIM_BAR0_REQ_SLOT_SIZE), 4096u); // clamped to MAX_SLOT_SIZE
    EXPECT_NE(dev.base(NICSIM_BAR0_REQ_BASE_LO), 0u);
    EXPECT_EQ(dev.rd(NICSIM_BAR0_CONTROL), NICSIM_CTRL_ENABLE);
    EXPECT_EQ(nicsim_ctrl__n_ports(ctrl), 2u);
    EXPECT_EQ(nicsim_ctrl__n_cores(ctrl), 3u);
    EXPECT_EQ(nicsim_pcie__n_mappings(pcie), 2u);
}

TEST_F(RingTest, RequestsWrapAroundTheRing)
{
    open(4);
    for (uint32_t i = 0; i < 11; i++)
        ASSERT_EQ(echo(0x1000 + i), 0) << i;
    EXPECT_EQ(dev.served, 11);
    EXPECT_EQ(dev.rd(NICSIM_BAR0_REQ_HEAD), 11u); // free-running, slot = count & 3
    EXPECT_EQ(dev.rd(NICSIM_BAR0_RESP_TAIL), 11u);
}

TEST_F(RingTest, StaleRepliesAreSkipped)
{
    open(8);
    dev.stale_first = true;
    for (uint32_t i = 0; i < 9; i++)
        ASSERT_EQ(echo(i), 0) << i;
    EXPECT_EQ(dev.rd(NICSIM_BAR0_RESP_TAIL), 18u);
}

TEST_F(RingTest, SilentDeviceTimesOut)
{
    open(2, 5);
    dev.mute = true;
    EXPECT_EQ(echo(1), -ETIMEDOUT);
    EXPECT_NE(std::string(nicsim_ctrl__last_error(ctrl)).find("no reply"), std::string::npos);
    // the ring now holds one unconsumed request; a second fills it, a third finds it full
    EXPECT_EQ(echo(2), -ETIMEDOUT);
    EXPECT_EQ(echo(3), -ETIMEDOUT);
    EXPECT_NE(std::string(nicsim_ctrl__last_error(ctrl)).find("ring full"), std::string::npos);
    // once the device answers again, the late replies are discarded as stale
    dev.mute = false;
    EXPECT_EQ(echo(4), 0);
}

TEST_F(RingTest, NoDeviceBehindTheBar)
{
    nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_ID, 0);
    errno = 0;
    EXPECT_EQ(nicsim_ctrl__new(nicsim_pcie_bar_ops(), pcie, nullptr), nullptr);
    EXPECT_EQ(errno, ENODEV);
}

TEST_F(RingTest, BadRingGeometryIsRefused)
{
    nicsim_ctrl_opts o = {};
    o.sz = sizeof(o);
    o.ring_entries = 3;
    errno = 0;
    EXPECT_EQ(nicsim_ctrl__new(nicsim_pcie_bar_ops(), pcie, &o), nullptr);
    EXPECT_EQ(errno, EINVAL);
    o.ring_entries = 4;
    o.slot_size = 8192; // above the device's MAX_SLOT_SIZE
    EXPECT_EQ(nicsim_ctrl__new(nicsim_pcie_bar_ops(), pcie, &o), nullptr);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(nicsim_pcie__n_mappings(pcie), 0u);
}

TEST_F(RingTest, ReplyWithWrongTypeIsBadMessage)
{
    open(4);
    // a reply whose type does not match the request's
    uint8_t req[16] = {};
    nicsim_cmsg_hdr h = {};
    h.type = NICSIM_CMSG_FW_INFO;
    memcpy(req, &h, sizeof(h));
    dev.mute = true;
    EXPECT_EQ(nicsim_ctrl__xfer(ctrl, req, sizeof(req), nullptr, 0), -ETIMEDOUT);
    // forge the reply for seq 2 (the next request) with a wrong type
    nicsim_cmsg_hdr bad = {};
    bad.version = NICSIM_CMSG_VERSION;
    bad.type = NICSIM_CMSG_EVENTS | NICSIM_CMSG_REPLY;
    bad.seq = 2;
    bad.len = 16;
    std::vector<uint8_t> m(16);
    memcpy(m.data(), &bad, 16);
    dev.post(m);
    EXPECT_EQ(nicsim_ctrl__xfer(ctrl, req, sizeof(req), nullptr, 0), -EBADMSG);
}

} // namespace
