// SPDX-License-Identifier: MIT
// Offload lifecycle over the real stack (kernel emulation + NIC driver + control client + the
// emulated NIC with its firmware), walking the scenarios of the kernel's netdevsim selftest
// tools/testing/selftests/net/bpf_offload.py: loading bound and unbound programs, XDP attach in
// every mode with the kernel's and the driver's messages, replace, multi-attach, verifier
// refusals, offloaded maps and their element errors, info, port removal moving objects between
// the ports of one NIC, the last removal orphaning them, and what reaches the firmware.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/nic_image.h"
#include "nicsim/nicdev.h"
#include "offload_insns.h"

using namespace ins;

namespace
{

constexpr uint32_t NOEXIST = XDP_FLAGS_UPDATE_IF_NOEXIST; // `ip link set xdp` without -force
constexpr uint32_t SKB = XDP_FLAGS_SKB_MODE;
constexpr uint32_t DRV = XDP_FLAGS_DRV_MODE;
constexpr uint32_t HW = XDP_FLAGS_HW_MODE;

// sample_ret0: return XDP_PASS.
Prog ret_pass()
{
    return {mov64_imm(0, XDP_PASS), exit_insn()};
}

// sample_map_ret0: look key 0 up in two maps (fd_array 0 and 1), return XDP_PASS.
Prog map_prog()
{
    Prog p;
    lookup_key0(p, 0);
    lookup_key0(p, 1);
    p.push_back(mov64_imm(0, XDP_PASS));
    p.push_back(exit_insn());
    return p;
}

// One emulated NIC with its driver bound.
struct Nic {
    nicsim_nic *nic = nullptr;
    nicsim_drv *drv = nullptr;

    Nic(nicsim_kern *k, uint32_t ports, const char *prefix)
    {
        nicsim_nic_opts o{};
        o.sz = sizeof(o);
        o.n_ports = ports;
        nic = nicsim_nic__new(&o);
        if (!nic)
            return;
        nicsim_drv_opts d{};
        d.sz = sizeof(d);
        d.prefix = prefix;
        drv = nicsim_drv__probe(k, nicsim_nic__ctrl(nic), &d);
    }
    ~Nic()
    {
        remove();
        nicsim_nic__free(nic);
    }
    void remove()
    {
        nicsim_drv__remove(drv);
        drv = nullptr;
    }
    int ifindex(uint32_t port) const
    {
        nicsim_netdev *n = nicsim_drv__netdev(drv, port);
        return n ? n->ifindex : 0;
    }
};

class LifecycleTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        k = nicsim_kern__new(nullptr);
        ASSERT_NE(k, nullptr);
        a = std::make_unique<Nic>(k, 1, "nsa");
        ASSERT_NE(a->drv, nullptr);
        sim = a->ifindex(0);
    }
    void TearDown() override
    {
        b.reset();
        a.reset();
        nicsim_kern__free(k);
    }

    // BPF_PROG_LOAD; keeps the attr (log, err_msg) in `last`.
    int load(const Prog &p, uint32_t ifindex = 0, const std::vector<int> &fds = {},
             uint32_t flags = 0, const char *name = "test")
    {
        last = std::make_unique<Load>(p, fds, ifindex, name);
        last->attr.prog_flags = flags;
        return nicsim_kern_prog_load(k, &last->attr);
    }
    // `ip link set dev X xdp...`: the errno, the extack message in `msg`.
    int attach(int ifindex, int fd, uint32_t flags, int expected_fd = -1)
    {
        nicsim_msg ea{};
        int rc = nicsim_kern_xdp_attach(k, ifindex, fd, expected_fd, flags, &ea);
        msg = ea.msg;
        return rc;
    }
    struct nicsim_kern_xdp_query query(int ifindex)
    {
        struct nicsim_kern_xdp_query q {
        };
        EXPECT_EQ(nicsim_kern_xdp_query(k, ifindex, &q), 0);
        return q;
    }
    int map(uint32_t type, uint32_t ifindex, uint32_t max = 2, const char *name = "m")
    {
        auto at = map_attr(type, 4, 8, max, ifindex, name);
        nicsim_msg ea{};
        int fd = nicsim_kern_map_create(k, &at, &ea);
        msg = ea.msg;
        return fd;
    }
    nicsim_bpf_prog *prog(int fd) { return nicsim_kern_prog_by_fd(k, fd); }
    uint32_t id(int fd)
    {
        nicsim_kern_prog_info info{};
        EXPECT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
        return info.id;
    }
    // How many programs BPF_PROG_GET_NEXT_ID lists.
    int n_progs()
    {
        int n = 0;
        for (uint32_t cur = 0; nicsim_kern_prog_get_next_id(k, cur, &cur) == 0;)
            n++;
        return n;
    }
    int n_maps()
    {
        int n = 0;
        for (uint32_t cur = 0; nicsim_kern_map_get_next_id(k, cur, &cur) == 0;)
            n++;
        return n;
    }
    std::string err_msg() const { return last->attr.err_msg; }

    nicsim_kern *k = nullptr;
    std::unique_ptr<Nic> a, b;
    int sim = 0; // ifindex of NIC a's only port
    std::unique_ptr<Load> last;
    std::string msg;
};

// ---- Loading.

TEST_F(LifecycleTest, HostProgramIsNotBound)
{
    int fd = load(ret_pass());
    ASSERT_GE(fd, 0) << last->logs();
    nicsim_kern_prog_info info{};
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
    EXPECT_EQ(info.ifindex, 0u);
    EXPECT_FALSE(info.dev_bound);
    EXPECT_FALSE(info.offloaded);
    EXPECT_EQ(info.jited_len, 0u);
    EXPECT_EQ(nicsim_drv__prog_state(prog(fd)), nullptr);
    EXPECT_EQ(nicsim_kern_close(k, fd), 0);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, BoundProgramIsTranslatedNotLoaded)
{
    int fd = load(ret_pass(), (uint32_t)sim, {}, 0, "ret0");
    ASSERT_GE(fd, 0) << last->logs();
    nicsim_kern_prog_info info{};
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
    EXPECT_EQ(info.ifindex, (uint32_t)sim);
    EXPECT_TRUE(info.dev_bound);
    EXPECT_TRUE(info.offloaded);
    EXPECT_STREQ(info.name, "ret0");
    size_t len = 0;
    ASSERT_NE(nicsim_drv__image(prog(fd), &len), nullptr);
    EXPECT_EQ(info.jited_len, len);
    // netdevsim's state after load; the NIC has not been asked to load it yet
    EXPECT_STREQ(nicsim_drv__prog_state(prog(fd)), "xlated");
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(fd)), 0u);
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, BindingNeedsAnOffloadCapableDevice)
{
    EXPECT_EQ(load(ret_pass(), 999), -EINVAL);                             // no such device
    EXPECT_EQ(load(ret_pass(), 1), -EOPNOTSUPP);                           // lo: no ndo_bpf
    EXPECT_EQ(load(ret_pass(), 0, {}, BPF_F_XDP_DEV_BOUND_ONLY), -EINVAL); // nothing to bind to
    // frags only for dev-bound-only programs, not offloaded ones
    EXPECT_EQ(load(ret_pass(), (uint32_t)sim, {}, BPF_F_XDP_HAS_FRAGS), -EINVAL);
    int fd = load(ret_pass(), (uint32_t)sim, {}, BPF_F_XDP_DEV_BOUND_ONLY | BPF_F_XDP_HAS_FRAGS);
    ASSERT_GE(fd, 0) << last->logs();
    nicsim_kern_prog_info info{};
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
    EXPECT_TRUE(info.dev_bound);
    EXPECT_FALSE(info.offloaded);
    EXPECT_EQ(info.ifindex, (uint32_t)sim);
    EXPECT_EQ(nicsim_drv__prog_state(prog(fd)), nullptr); // not the driver's to translate
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, VerifierRefusesWhatTheNicCannotRun)
{
    // bpf_get_numa_node_id is fine on the host, the NIC has no helper unit for it
    Prog p = {call(BPF_FUNC_get_numa_node_id), mov64_imm(0, XDP_PASS), exit_insn()};
    int fd = load(p);
    ASSERT_GE(fd, 0) << last->logs();
    nicsim_kern_close(k, fd);
    EXPECT_EQ(load(p, (uint32_t)sim), -EOPNOTSUPP);
    EXPECT_EQ(last->attr.err_insn, 0);
    EXPECT_EQ(err_msg(), "unsupported helper bpf_get_numa_node_id (42) at insn 0");
    EXPECT_NE(last->logs().find("unsupported helper bpf_get_numa_node_id (42) at insn 0"),
              std::string::npos)
        << last->logs();
    EXPECT_EQ(n_progs(), 0);
}

// The driver's insn_hook runs before the verifier has checked an instruction: a register field
// beyond r10 must reach the verifier's refusal, not index the register file (found by the
// verifier fuzzer; under ASan this read out of bounds).
TEST_F(LifecycleTest, BadRegisterNumberIsRefusedNotReadByTheDriver)
{
    Prog p = {raw(BPF_LDX | BPF_MEM | BPF_W, 0, 12, 0, 0), exit_insn()};
    EXPECT_EQ(load(p, (uint32_t)sim), -EINVAL);
    EXPECT_EQ(last->attr.err_insn, 0);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, DriverTakesRxQueueWritesAndRefusesHostMaps)
{
    // the kernel lets an offloaded program write rx_queue_index (its host receive queue): the
    // driver takes it (translated into a store to the descriptor)
    Prog w = {mov64_imm(2, 3), stx(BPF_W, 1, 2, 16), mov64_imm(0, XDP_PASS), exit_insn()};
    int fd = load(w, (uint32_t)sim);
    EXPECT_GE(fd, 0) << err_msg();
    if (fd >= 0)
        nicsim_kern_close(k, fd);
    // ... and refuses it to a host program
    EXPECT_EQ(load(w), -EACCES);
    // an immediate store into the context stays refused, by the verifier, as the kernel does
    Prog st_w = {st(BPF_W, 1, 16, 0), mov64_imm(0, XDP_PASS), exit_insn()};
    EXPECT_EQ(load(st_w, (uint32_t)sim), -EACCES);
    EXPECT_EQ(err_msg(), "BPF_ST stores into R1 ctx is not allowed");

    // a perf event array is "offload neutral" for the kernel, but lives in host memory
    auto at = map_attr(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, "events");
    int events = nicsim_kern_map_create(k, &at, nullptr);
    ASSERT_GE(events, 0);
    Prog p;
    ld_map_idx(p, 2, 0);
    p.push_back(mov64_imm(0, XDP_PASS));
    p.push_back(exit_insn());
    EXPECT_EQ(load(p, (uint32_t)sim, {events}), -EOPNOTSUPP);
    EXPECT_EQ(err_msg(), "insn 0 references host map events (perf_event_array): the NIC can "
                         "only reach maps offloaded to it");
    nicsim_kern_close(k, events);
    EXPECT_EQ(n_progs(), 0);
}

// ---- XDP attach in every mode.

TEST_F(LifecycleTest, GenericXdpAndItsDestruction)
{
    int fd = load(ret_pass());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(attach(sim, fd, SKB | NOEXIST), 0) << msg;
    auto q = query(sim);
    EXPECT_EQ(q.attach_mode, XDP_ATTACHED_SKB);
    EXPECT_EQ(q.prog_id, id(fd));
    EXPECT_EQ(q.skb_prog_id, id(fd));
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_progs(), 1); // the device holds it
    a->remove();             // "Test destruction of generic XDP"
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, NativeXdpReportingAndReplace)
{
    int p1 = load(ret_pass());
    int p2 = load(ret_pass());
    ASSERT_GE(p1, 0);
    ASSERT_GE(p2, 0);
    // no mode flag: the driver has ndo_bpf, so native
    ASSERT_EQ(attach(sim, p1, NOEXIST), 0) << msg;
    auto q = query(sim);
    EXPECT_EQ(q.attach_mode, XDP_ATTACHED_DRV);
    EXPECT_EQ(q.prog_id, id(p1));
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), 0u); // native XDP never reaches the NIC

    // "Test XDP prog replace without force"
    EXPECT_EQ(attach(sim, p2, DRV | NOEXIST), -EBUSY);
    EXPECT_EQ(msg, "XDP program already attached");
    // "... with force"
    ASSERT_EQ(attach(sim, p2, DRV), 0) << msg;
    EXPECT_EQ(query(sim).drv_prog_id, id(p2));
    // "... with bad flags"
    EXPECT_EQ(attach(sim, p1, SKB), -EEXIST);
    EXPECT_EQ(msg, "Native and generic XDP can't be active at the same time");

    // XDP_FLAGS_REPLACE: the expected program must be the one attached
    EXPECT_EQ(attach(sim, p1, DRV | XDP_FLAGS_REPLACE, p1), -EEXIST);
    EXPECT_EQ(msg, "Active program does not match expected");
    EXPECT_EQ(attach(sim, p1, DRV | XDP_FLAGS_REPLACE, -1), -EEXIST);
    EXPECT_EQ(msg, "Active program does not match expected");
    ASSERT_EQ(attach(sim, p1, DRV | XDP_FLAGS_REPLACE, p2), 0) << msg;
    EXPECT_EQ(query(sim).drv_prog_id, id(p1));

    // the replaced program's device reference is gone
    uint32_t id2 = id(p2);
    nicsim_kern_close(k, p2);
    EXPECT_EQ(nicsim_kern_prog_get_fd_by_id(k, id2), -ENOENT);

    // "Test removing XDP program many times"
    for (uint32_t f : {HW, HW, DRV, DRV, 0u, 0u})
        EXPECT_EQ(attach(sim, -1, f), 0) << msg;
    EXPECT_EQ(query(sim).attach_mode, XDP_ATTACHED_NONE);
    nicsim_kern_close(k, p1);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, NonOffloadedProgramToHw)
{
    int fd = load(ret_pass());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(attach(sim, fd, HW | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "nicsim: xdpoffload of non-bound program");
    EXPECT_EQ(query(sim).attach_mode, XDP_ATTACHED_NONE);
    nicsim_kern_close(k, fd);
}

TEST_F(LifecycleTest, OffloadedProgramToDrvOrGeneric)
{
    int fd = load(ret_pass(), (uint32_t)sim);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(attach(sim, fd, DRV | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "Using offloaded program without HW_MODE flag is not supported");
    EXPECT_EQ(attach(sim, fd, NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "Using offloaded program without HW_MODE flag is not supported");
    // generic: bpf_prog_get_type_dev refuses an offloaded program before dev_xdp_attach
    msg.clear();
    EXPECT_EQ(attach(sim, fd, SKB | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "");
    nicsim_kern_close(k, fd);

    // "Test dev-bound program in generic mode"
    int devbound = load(ret_pass(), (uint32_t)sim, {}, BPF_F_XDP_DEV_BOUND_ONLY);
    ASSERT_GE(devbound, 0);
    EXPECT_EQ(attach(sim, devbound, SKB | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "Can't attach device-bound programs in generic mode");
    // ... which runs natively on its device, and is not offloaded to the NIC
    EXPECT_EQ(attach(sim, devbound, DRV | NOEXIST), 0) << msg;
    EXPECT_EQ(query(sim).drv_prog_id, id(devbound));
    EXPECT_EQ(attach(sim, devbound, HW | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "nicsim: xdpoffload of non-bound program");
    EXPECT_EQ(attach(sim, -1, DRV), 0);
    nicsim_kern_close(k, devbound);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, XdpOffloadReachesTheFirmware)
{
    int fd = load(ret_pass(), (uint32_t)sim);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(attach(sim, fd, HW | NOEXIST), 0) << msg;
    auto q = query(sim);
    EXPECT_EQ(q.attach_mode, XDP_ATTACHED_HW);
    EXPECT_EQ(q.prog_id, id(fd));
    EXPECT_EQ(q.hw_prog_id, id(fd));
    // netdevsim: state xlated + loaded Y; here the NIC program id and "loaded"
    EXPECT_STREQ(nicsim_drv__prog_state(prog(fd)), "loaded");
    uint32_t nic_id = nicsim_drv__nic_prog_id(prog(fd));
    ASSERT_NE(nic_id, 0u);
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), nic_id);
    size_t n = 0;
    const nicsim_isa_insn *insns = nicsim_nic__prog(a->nic, nic_id, &n);
    ASSERT_NE(insns, nullptr);
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(insns[0].op, NICSIM_OP_MOV64_K);
    EXPECT_EQ(insns[0].imm, XDP_PASS);

    EXPECT_EQ(attach(sim, fd, HW | NOEXIST), -EBUSY);
    EXPECT_EQ(msg, "XDP program already attached");
    // re-attaching the same program with force changes nothing
    EXPECT_EQ(attach(sim, fd, HW), 0) << msg;
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(fd)), nic_id);

    ASSERT_EQ(attach(sim, -1, HW), 0) << msg;
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), 0u);
    EXPECT_EQ(nicsim_nic__prog(a->nic, nic_id, &n), nullptr); // unloaded with its last port
    EXPECT_STREQ(nicsim_drv__prog_state(prog(fd)), "xlated");
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(fd)), 0u);
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, HwReplaceSwapsTheNicProgram)
{
    int p1 = load(ret_pass(), (uint32_t)sim);
    int p2 = load({mov64_imm(0, XDP_DROP), exit_insn()}, (uint32_t)sim);
    ASSERT_GE(p1, 0);
    ASSERT_GE(p2, 0);
    ASSERT_EQ(attach(sim, p1, HW | NOEXIST), 0) << msg;
    uint32_t nic1 = nicsim_drv__nic_prog_id(prog(p1));
    EXPECT_EQ(attach(sim, p2, HW | XDP_FLAGS_REPLACE, p2), -EEXIST);
    EXPECT_EQ(msg, "Active program does not match expected");
    ASSERT_EQ(attach(sim, p2, HW | XDP_FLAGS_REPLACE, p1), 0) << msg;
    uint32_t nic2 = nicsim_drv__nic_prog_id(prog(p2));
    ASSERT_NE(nic2, 0u);
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), nic2);
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(p1)), 0u);
    size_t n = 0;
    EXPECT_EQ(nicsim_nic__prog(a->nic, nic1, &n), nullptr);
    EXPECT_EQ(query(sim).hw_prog_id, id(p2));
    // the device's hold is what keeps p2 alive once its descriptor is closed
    nicsim_kern_close(k, p1);
    nicsim_kern_close(k, p2);
    EXPECT_EQ(n_progs(), 1);
    a->remove(); // "Test destroying device gets rid of XDP"
    EXPECT_EQ(n_progs(), 0);
}

// test_multi_prog(): another mode + offload at the same time.
struct MultiCase {
    const char *name;
    uint32_t flags;  // how the second program is attached
    uint8_t mode_id; // what is reported once only it is left
};
void PrintTo(const MultiCase &c, std::ostream *os)
{
    *os << c.name;
}

class LifecycleMultiTest : public LifecycleTest, public ::testing::WithParamInterface<MultiCase>
{
};

TEST_P(LifecycleMultiTest, OffloadPlusAnotherMode)
{
    const MultiCase &c = GetParam();
    int off = load(ret_pass(), (uint32_t)sim);
    int other = load(ret_pass());
    ASSERT_GE(off, 0);
    ASSERT_GE(other, 0);
    ASSERT_EQ(attach(sim, off, HW | NOEXIST), 0) << msg;
    auto q = query(sim);
    EXPECT_EQ(q.attach_mode, XDP_ATTACHED_HW);
    EXPECT_EQ(q.prog_id, id(off));
    uint32_t offloaded = nicsim_nic__port_prog(a->nic, 0);
    EXPECT_NE(offloaded, 0u);

    ASSERT_EQ(attach(sim, other, c.flags | NOEXIST), 0) << msg;
    q = query(sim);
    EXPECT_EQ(q.attach_mode, XDP_ATTACHED_MULTI);
    EXPECT_EQ(q.prog_id, 0u); // no base program in multi mode
    EXPECT_EQ(q.hw_prog_id, id(off));
    EXPECT_EQ(c.mode_id == XDP_ATTACHED_SKB ? q.skb_prog_id : q.drv_prog_id, id(other));
    EXPECT_NE(q.hw_prog_id, c.mode_id == XDP_ATTACHED_SKB ? q.skb_prog_id : q.drv_prog_id);
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), offloaded); // "Offload ID changed"

    // "replace": without force
    EXPECT_EQ(attach(sim, off, HW | NOEXIST), -EBUSY);
    EXPECT_EQ(msg, "XDP program already attached");
    // "remove without mode"
    EXPECT_EQ(attach(sim, -1, 0), -EINVAL);
    EXPECT_EQ(msg, "More than one program loaded, unset mode is ambiguous");
    // and attaching without a mode is just as ambiguous
    EXPECT_EQ(attach(sim, other, 0), -EINVAL);
    EXPECT_EQ(msg, "More than one program loaded, unset mode is ambiguous");

    ASSERT_EQ(attach(sim, -1, HW), 0) << msg;
    q = query(sim);
    EXPECT_EQ(q.attach_mode, c.mode_id);
    EXPECT_EQ(q.prog_id, id(other));
    EXPECT_EQ(q.hw_prog_id, 0u);
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), 0u); // "Offload ID reported"

    // "reattach"
    ASSERT_EQ(attach(sim, off, HW | NOEXIST), 0) << msg;
    EXPECT_EQ(query(sim).attach_mode, XDP_ATTACHED_MULTI);

    // "device remove": both detached, the references dropped
    nicsim_kern_close(k, off);
    nicsim_kern_close(k, other);
    EXPECT_EQ(n_progs(), 2);
    a->remove();
    EXPECT_EQ(n_progs(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, LifecycleMultiTest,
                         ::testing::Values(MultiCase{"default", 0, XDP_ATTACHED_DRV},
                                           MultiCase{"drv", DRV, XDP_ATTACHED_DRV},
                                           MultiCase{"generic", SKB, XDP_ATTACHED_SKB}),
                         [](const ::testing::TestParamInfo<MultiCase> &i) {
                             return std::string(i.param.name);
                         });

// ---- Two NICs.

TEST_F(LifecycleTest, ProgramBoundToDifferentDevice)
{
    b = std::make_unique<Nic>(k, 1, "nsb");
    ASSERT_NE(b->drv, nullptr);
    int sim2 = b->ifindex(0);
    int fd = load(ret_pass(), (uint32_t)sim2);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(attach(sim2, fd, HW | NOEXIST), 0) << msg;
    EXPECT_EQ(attach(sim, fd, HW | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "Program bound to different device");
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), 0u);

    // the other NIC goes away: the program is orphaned, and still refused
    b->remove();
    EXPECT_EQ(attach(sim, fd, HW | NOEXIST), -EINVAL);
    EXPECT_EQ(msg, "Program bound to different device");
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_progs(), 0);
}

TEST_F(LifecycleTest, MultiPortNicSharesPrograms)
{
    b = std::make_unique<Nic>(k, 3, "nsb");
    ASSERT_NE(b->drv, nullptr);
    int progA = load(map_prog(), 0, {}, 0); // placeholder replaced below
    EXPECT_LT(progA, 0);                    // map references without maps: refused
    int mapA = map(BPF_MAP_TYPE_HASH, (uint32_t)sim);
    int mapA2 = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim);
    int mapB = map(BPF_MAP_TYPE_HASH, (uint32_t)b->ifindex(0));
    int mapB2 = map(BPF_MAP_TYPE_ARRAY, (uint32_t)b->ifindex(0));
    ASSERT_GE(mapA, 0);
    ASSERT_GE(mapB2, 0);
    progA = load(map_prog(), (uint32_t)sim, {mapA, mapA2});
    ASSERT_GE(progA, 0) << last->logs();
    int progB = load(map_prog(), (uint32_t)b->ifindex(0), {mapB, mapB2});
    ASSERT_GE(progB, 0) << last->logs();

    // "multi-dev ASIC program reuse": B's program runs on every port of B, loaded once
    ASSERT_EQ(attach(sim, progA, HW), 0) << msg;
    for (uint32_t port = 0; port < 3; port++)
        ASSERT_EQ(attach(b->ifindex(port), progB, HW), 0) << msg;
    uint32_t nicB = nicsim_drv__nic_prog_id(prog(progB));
    for (uint32_t port = 0; port < 3; port++)
        EXPECT_EQ(nicsim_nic__port_prog(b->nic, port), nicB);

    // "cross-dev replace" / "cross-dev install"
    EXPECT_EQ(attach(sim, progB, HW), -EINVAL);
    EXPECT_EQ(msg, "Program bound to different device");
    for (uint32_t port = 0; port < 3; port++) {
        EXPECT_EQ(attach(b->ifindex(port), progA, HW), -EINVAL);
        EXPECT_EQ(msg, "Program bound to different device");
    }
    // detaching from two ports keeps the NIC program for the third
    ASSERT_EQ(attach(b->ifindex(0), -1, HW), 0);
    ASSERT_EQ(attach(b->ifindex(1), -1, HW), 0);
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(progB)), nicB);
    size_t n = 0;
    EXPECT_NE(nicsim_nic__prog(b->nic, nicB, &n), nullptr);

    // "cross-dev map reuse": a map of the same NIC, bound to another port, is fine
    int ok = load(map_prog(), (uint32_t)b->ifindex(2), {mapB, mapB2});
    EXPECT_GE(ok, 0) << last->logs();
    nicsim_kern_close(k, ok);
    EXPECT_EQ(load(map_prog(), (uint32_t)sim, {mapB, mapA2}), -EINVAL);
    EXPECT_EQ(err_msg(), "offload device mismatch between prog and map");
    EXPECT_EQ(load(map_prog(), (uint32_t)b->ifindex(0), {mapB, mapA2}), -EINVAL);
    EXPECT_EQ(err_msg(), "offload device mismatch between prog and map");
    // host maps cannot be used by offloaded programs, offloaded maps not by host programs
    int host = map(BPF_MAP_TYPE_HASH, 0);
    EXPECT_EQ(load(map_prog(), (uint32_t)sim, {host, mapA2}), -EINVAL);
    EXPECT_EQ(err_msg(), "offload device mismatch between prog and map");
    EXPECT_EQ(load(map_prog(), 0, {mapA, mapA2}), -EINVAL);
    EXPECT_EQ(err_msg(), "offload device mismatch between prog and map");

    for (int fd : {progA, progB, mapA, mapA2, mapB, mapB2, host})
        nicsim_kern_close(k, fd);
}

// ---- Offloaded maps.

TEST_F(LifecycleTest, MapCreateWithMapIfindex)
{
    int m = map(BPF_MAP_TYPE_HASH, (uint32_t)sim, 2, "htab");
    ASSERT_GE(m, 0) << msg;
    nicsim_kern_map_info info{};
    ASSERT_EQ(nicsim_kern_map_get_info(k, m, &info), 0);
    EXPECT_EQ(info.ifindex, (uint32_t)sim);
    EXPECT_STREQ(info.name, "htab");
    EXPECT_EQ(info.type, (uint32_t)BPF_MAP_TYPE_HASH);
    EXPECT_NE(nicsim_drv__nic_map_id(nicsim_kern_map_by_fd(k, m)), 0u);

    EXPECT_EQ(map(BPF_MAP_TYPE_HASH, 999), -EINVAL);   // no such device
    EXPECT_EQ(map(BPF_MAP_TYPE_HASH, 1), -EOPNOTSUPP); // lo
    EXPECT_EQ(map(BPF_MAP_TYPE_SOCKMAP, (uint32_t)sim), -EOPNOTSUPP);
    EXPECT_EQ(msg, "nicsim: map type sockmap cannot be offloaded");
    EXPECT_EQ(n_maps(), 1);

    // a program using it reports its id and its device
    int fd = load(map_prog(), (uint32_t)sim, {m, m});
    ASSERT_GE(fd, 0) << last->logs();
    nicsim_kern_prog_info pi{};
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), 0);
    ASSERT_EQ(pi.nr_map_ids, 1u);
    EXPECT_EQ(pi.map_ids[0], info.id);
    EXPECT_EQ(pi.ifindex, (uint32_t)sim);
    // the program holds the map: closing its descriptor keeps it
    nicsim_kern_close(k, m);
    EXPECT_EQ(n_maps(), 1);
    nicsim_kern_close(k, fd);
    EXPECT_EQ(n_maps(), 0);
}

// Maps of maps on the NIC: created with an offloaded template; elements hold offloaded maps of the
// same NIC (the firmware checks them against the template), user space reads back kernel ids, and
// the driver keeps each held map alive until the element lets go of it.
TEST_F(LifecycleTest, MapOfMapsOnTheNic)
{
    int host_tmpl = map(BPF_MAP_TYPE_ARRAY, 0, 4);
    int tmpl = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 4, "tmpl");
    ASSERT_GE(tmpl, 0) << msg;
    auto outer_attr = map_attr(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, (uint32_t)sim, "outer");
    outer_attr.inner_map_fd = (uint32_t)host_tmpl;
    nicsim_msg ea{};
    EXPECT_EQ(nicsim_kern_map_create(k, &outer_attr, &ea), -EINVAL);
    EXPECT_EQ(std::string(ea.msg),
              "nicsim: map of maps outer: its inner map template must be a map offloaded to this "
              "NIC");
    outer_attr.inner_map_fd = (uint32_t)tmpl;
    int outer = nicsim_kern_map_create(k, &outer_attr, &ea);
    ASSERT_GE(outer, 0) << ea.msg;
    nicsim_kern_close(k, tmpl); // the NIC took its attributes

    int inner = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 4, "inner");
    int wrong = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 2, "wrong"); // max_entries differ
    ASSERT_GE(inner, 0);
    uint32_t key = 1, v = (uint32_t)wrong;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, outer, &key, &v, BPF_ANY), -EINVAL);
    EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("map outer: update"), std::string::npos)
        << nicsim_kern_last_error(k);
    v = (uint32_t)host_tmpl;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, outer, &key, &v, BPF_ANY), -EINVAL);
    EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("is not offloaded to this NIC"),
              std::string::npos)
        << nicsim_kern_last_error(k);
    v = (uint32_t)inner;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, outer, &key, &v, BPF_ANY), 0)
        << nicsim_kern_last_error(k);
    uint32_t inner_id = nicsim_kern_map_by_fd(k, inner)->id, got = 0;
    ASSERT_EQ(nicsim_kern_map_lookup_elem(k, outer, &key, &got), 0);
    EXPECT_EQ(got, inner_id) << "user space reads the kernel's id";
    nicsim_kern_close(k, inner);
    int again = nicsim_kern_map_get_fd_by_id(k, inner_id);
    EXPECT_GE(again, 0) << "the element holds the map";
    nicsim_kern_close(k, again);
    nicsim_kern_close(k, outer); // the last reference to the inner map goes with it
    EXPECT_EQ(nicsim_kern_map_get_fd_by_id(k, inner_id), -ENOENT);
    nicsim_kern_close(k, wrong);
    nicsim_kern_close(k, host_tmpl);
    EXPECT_EQ(n_maps(), 0);
}

struct Kv {
    uint32_t key;
    uint64_t value;
};

TEST_F(LifecycleTest, MapOperationsThroughTheDriver)
{
    int htab = map(BPF_MAP_TYPE_HASH, (uint32_t)sim, 2);
    int array = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 2);
    ASSERT_GE(htab, 0);
    ASSERT_GE(array, 0);
    int fd = load(map_prog(), (uint32_t)sim, {htab, array});
    ASSERT_GE(fd, 0) << last->logs();
    ASSERT_EQ(attach(sim, fd, HW), 0) << msg;

    // "map update (no flags)"
    for (int m : {htab, array}) {
        for (uint32_t i = 0; i < 2; i++) {
            uint64_t v = i * 3;
            EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &i, &v, BPF_ANY), 0);
        }
        uint32_t key = 3;
        uint64_t v = 9;
        EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_ANY), -E2BIG) << m;
        EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_EXIST + 1), -EINVAL);
    }
    // "map update (exists)"
    for (int m : {htab, array}) {
        for (uint32_t i = 0; i < 2; i++) {
            uint64_t v = i * 3;
            EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &i, &v, BPF_EXIST), 0);
        }
    }
    uint32_t key = 3;
    uint64_t v = 9;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, htab, &key, &v, BPF_EXIST), -ENOENT);
    EXPECT_EQ(nicsim_kern_map_update_elem(k, array, &key, &v, BPF_EXIST), -E2BIG);
    // "map update (noexist)"
    for (int m : {htab, array}) {
        for (uint32_t i = 0; i < 2; i++) {
            uint64_t w = i * 3;
            EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &i, &w, BPF_NOEXIST), -EEXIST);
        }
    }
    // "map dump" / "map getnext": keys in order, ENOENT past the end
    for (int m : {htab, array}) {
        std::vector<Kv> dump;
        uint32_t cur = 0, next = 0;
        const uint32_t *prev = nullptr;
        while (nicsim_kern_map_get_next_key(k, m, prev, &next) == 0 && dump.size() < 8) {
            uint64_t val = 0;
            EXPECT_EQ(nicsim_kern_map_lookup_elem(k, m, &next, &val), 0);
            dump.push_back({next, val});
            cur = next;
            prev = &cur;
        }
        ASSERT_EQ(dump.size(), 2u) << m;
        for (uint32_t i = 0; i < 2; i++) {
            EXPECT_EQ(dump[i].key, i);
            EXPECT_EQ(dump[i].value, i * 3u);
        }
        uint32_t last_key = 1;
        EXPECT_EQ(nicsim_kern_map_get_next_key(k, m, &last_key, &next), -ENOENT);
    }
    // "map delete (htab)", then again: gone
    for (uint32_t i = 0; i < 2; i++)
        EXPECT_EQ(nicsim_kern_map_delete_elem(k, htab, &i), 0);
    for (uint32_t i = 0; i < 2; i++) {
        EXPECT_EQ(nicsim_kern_map_delete_elem(k, htab, &i), -ENOENT);
        EXPECT_EQ(nicsim_kern_map_lookup_elem(k, htab, &i, &v), -ENOENT);
    }
    uint32_t first = 0;
    EXPECT_EQ(nicsim_kern_map_get_next_key(k, htab, nullptr, &first), -ENOENT);
    // array elements cannot be deleted (array_map_delete_elem)
    uint32_t zero = 0;
    EXPECT_EQ(nicsim_kern_map_delete_elem(k, array, &zero), -EINVAL);

    // "map remove": detaching and closing frees both maps on the NIC
    uint32_t nic_htab = nicsim_drv__nic_map_id(nicsim_kern_map_by_fd(k, htab));
    EXPECT_NE(nic_htab, 0u);
    ASSERT_EQ(attach(sim, -1, HW), 0);
    for (int f : {fd, htab, array})
        nicsim_kern_close(k, f);
    EXPECT_EQ(n_maps(), 0);
    EXPECT_EQ(n_progs(), 0);
}

// A field of struct bpf_map read through a map pointer (the kernel's verifier_map_ptr.c): the
// NIC image has, in the load's slot, a move of the value the load reads, sign-extended for a
// sign-extending load; the program's other slots are unchanged.
TEST_F(LifecycleTest, MapPointerFieldsBecomeConstantsOnTheNic)
{
    auto a = map_attr(BPF_MAP_TYPE_ARRAY, 4, 200, 7, (uint32_t)sim, "fields");
    int m = nicsim_kern_map_create(k, &a, nullptr);
    ASSERT_GE(m, 0);
    Prog p;
    ld_map_idx(p, 1, 0);
    p.push_back(ldx(BPF_W, 0, 1, 76));                     // max_entries: 7
    p.push_back(raw(BPF_LDX | 0x80 | BPF_B, 2, 1, 72, 0)); // (s8)value_size: -56
    p.push_back(alu64_reg(BPF_ADD, 0, 2));
    p.push_back(exit_insn());
    int fd = load(p, (uint32_t)sim, {m});
    ASSERT_GE(fd, 0) << last->logs();
    size_t len = 0;
    const uint8_t *img = static_cast<const uint8_t *>(nicsim_drv__image(prog(fd), &len));
    ASSERT_NE(img, nullptr);
    nicsim_img_hdr h;
    nicsim_img_hdr_get(&h, img);
    ASSERT_EQ(h.n_slots, p.size());
    nicsim_insn slot[6];
    for (size_t i = 0; i < 6; i++)
        nicsim_img_slot_get(&slot[i], img + h.hdr_len + 4u * h.n_maps + 8u * i);
    EXPECT_EQ(slot[2].code, BPF_ALU64 | BPF_MOV | BPF_K);
    EXPECT_EQ(slot[2].dst, 0);
    EXPECT_EQ(slot[2].imm, 7);
    EXPECT_EQ(slot[3].code, BPF_ALU64 | BPF_MOV | BPF_K);
    EXPECT_EQ(slot[3].dst, 2);
    EXPECT_EQ(slot[3].imm, -56);
    EXPECT_EQ(memcmp(&slot[4], &p[4], sizeof(slot[4])), 0);
    nicsim_kern_close(k, fd);
    nicsim_kern_close(k, m);
}

TEST_F(LifecycleTest, OffloadedProgArrayLoadsItsPrograms)
{
    auto at = map_attr(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, (uint32_t)sim, "jmp");
    int pa = nicsim_kern_map_create(k, &at, nullptr);
    ASSERT_GE(pa, 0);
    int tail = load(ret_pass(), (uint32_t)sim);
    int host = load(ret_pass());
    ASSERT_GE(tail, 0);
    ASSERT_GE(host, 0);
    uint32_t slot = 1, value = (uint32_t)tail;
    // a host program cannot sit in a NIC's prog array
    uint32_t hv = (uint32_t)host;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, pa, &slot, &hv, BPF_ANY), -EINVAL);
    ASSERT_EQ(nicsim_kern_map_update_elem(k, pa, &slot, &value, BPF_ANY), 0);
    EXPECT_EQ(nicsim_kern_map_update_elem(k, pa, &slot, &value, BPF_NOEXIST), -EEXIST);
    uint32_t far = 4;
    EXPECT_EQ(nicsim_kern_map_update_elem(k, pa, &far, &value, BPF_ANY), -E2BIG);
    // in a slot, the program is on the NIC; user space reads its id back
    EXPECT_STREQ(nicsim_drv__prog_state(prog(tail)), "loaded");
    EXPECT_NE(nicsim_drv__nic_prog_id(prog(tail)), 0u);
    uint32_t got = 0;
    ASSERT_EQ(nicsim_kern_map_lookup_elem(k, pa, &slot, &got), 0);
    EXPECT_EQ(got, id(tail));
    uint32_t empty = 0;
    EXPECT_EQ(nicsim_kern_map_lookup_elem(k, pa, &empty, &got), -ENOENT);
    ASSERT_EQ(nicsim_kern_map_delete_elem(k, pa, &slot), 0);
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(tail)), 0u);
    EXPECT_STREQ(nicsim_drv__prog_state(prog(tail)), "xlated");
    // the slot holds a reference: closing the descriptor leaves the program in the array
    ASSERT_EQ(nicsim_kern_map_update_elem(k, pa, &slot, &value, BPF_ANY), 0);
    nicsim_kern_close(k, tail);
    nicsim_kern_close(k, host);
    EXPECT_EQ(n_progs(), 1);
    nicsim_kern_close(k, pa);
    EXPECT_EQ(n_progs(), 0);
    EXPECT_EQ(n_maps(), 0);
}

// What the NIC refuses reaches the caller as a sentence naming the map, the key and the reason
// (nicsim_kern_last_error), not as the bare errno; a program too large for the NIC's
// instruction memory says so in the load's message.
TEST_F(LifecycleTest, NicRefusalsNameTheMapTheKeyAndTheReason)
{
    int htab = map(BPF_MAP_TYPE_HASH, (uint32_t)sim, 2, "flows");
    int array = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 2, "cfg");
    ASSERT_GE(htab, 0);
    ASSERT_GE(array, 0);
    uint64_t v = 1;
    for (uint32_t i = 0; i < 2; i++)
        ASSERT_EQ(nicsim_kern_map_update_elem(k, htab, &i, &v, BPF_ANY), 0);
    EXPECT_STREQ(nicsim_kern_last_error(k), "");
    uint32_t key = 3;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, htab, &key, &v, BPF_ANY), -E2BIG);
    std::string e = nicsim_kern_last_error(k);
    EXPECT_NE(e.find("map flows"), std::string::npos) << e;
    EXPECT_NE(e.find("key 03000000"), std::string::npos) << e;
    EXPECT_NE(e.find("full (max_entries 2)"), std::string::npos) << e;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, array, &key, &v, BPF_ANY), -E2BIG);
    e = nicsim_kern_last_error(k);
    EXPECT_NE(e.find("map cfg"), std::string::npos) << e;
    EXPECT_NE(e.find("index 3 is past max_entries 2"), std::string::npos) << e;
    ASSERT_EQ(nicsim_kern_map_lookup_elem(k, array, &(key = 1), &v), 0);
    EXPECT_STREQ(nicsim_kern_last_error(k), "") << "a call that succeeds clears it";

    auto at = map_attr(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, (uint32_t)sim, "jmp");
    int pa = nicsim_kern_map_create(k, &at, nullptr);
    int tail = load(ret_pass(), (uint32_t)sim);
    ASSERT_GE(pa, 0);
    ASSERT_GE(tail, 0);
    uint32_t far = 4, value = (uint32_t)tail;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, pa, &far, &value, BPF_ANY), -E2BIG);
    e = nicsim_kern_last_error(k);
    EXPECT_NE(e.find("prog array jmp: index 4 is past max_entries 4"), std::string::npos) << e;

    Prog big(70000, mov64_imm(0, XDP_PASS));
    big.push_back(exit_insn());
    EXPECT_EQ(load(big, (uint32_t)sim), -E2BIG);
    EXPECT_NE(err_msg().find("instruction memory"), std::string::npos) << err_msg();
    for (int f : {tail, pa, htab, array})
        nicsim_kern_close(k, f);
}

// ---- Device removal.

TEST_F(LifecycleTest, PortRemovalMovesObjectsThenOrphansThem)
{
    b = std::make_unique<Nic>(k, 3, "nsb");
    ASSERT_NE(b->drv, nullptr);
    const int p0 = b->ifindex(0), p1 = b->ifindex(1), p2 = b->ifindex(2);
    int htab = map(BPF_MAP_TYPE_HASH, (uint32_t)p0, 2);
    int array = map(BPF_MAP_TYPE_ARRAY, (uint32_t)p0, 2);
    ASSERT_GE(array, 0);
    int fd = load(map_prog(), (uint32_t)p0, {htab, array});
    ASSERT_GE(fd, 0) << last->logs();
    uint32_t key = 1;
    uint64_t v = 42;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, htab, &key, &v, BPF_ANY), 0);
    // running on port 1, bound to port 0
    ASSERT_EQ(attach(p1, fd, HW), 0) << msg;
    uint32_t nic_prog = nicsim_drv__nic_prog_id(prog(fd));
    uint32_t map_id = 0, prog_id = id(fd);
    nicsim_kern_map_info mi{};
    ASSERT_EQ(nicsim_kern_map_get_info(k, htab, &mi), 0);
    map_id = mi.id;

    // NIC A goes away entirely: nothing of B's is touched
    a->remove();
    nicsim_kern_prog_info pi{};
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), 0);
    EXPECT_EQ(pi.ifindex, (uint32_t)p0); // "program not bound to original device"

    // "cross-dev destruction - move": to another port of the same NIC
    ASSERT_EQ(nicsim_drv__port_remove(b->drv, 0), 0);
    EXPECT_EQ(nicsim_drv__port_remove(b->drv, 0), -ENODEV);
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), 0);
    EXPECT_TRUE(pi.ifindex == (uint32_t)p1 || pi.ifindex == (uint32_t)p2) << pi.ifindex;
    ASSERT_EQ(nicsim_kern_map_get_info(k, htab, &mi), 0);
    EXPECT_EQ(mi.ifindex, pi.ifindex); // "Map's device different than program's"
    uint64_t got = 0;
    EXPECT_EQ(nicsim_kern_map_lookup_elem(k, htab, &key, &got), 0);
    EXPECT_EQ(got, 42u);
    EXPECT_EQ(nicsim_nic__port_prog(b->nic, 1), nic_prog); // still running on port 1
    EXPECT_STREQ(nicsim_drv__prog_state(prog(fd)), "loaded");

    // port 1 goes: XDP is detached from it, what is bound moves to port 2
    ASSERT_EQ(nicsim_drv__port_remove(b->drv, 1), 0);
    EXPECT_EQ(nicsim_nic__port_prog(b->nic, 1), 0u);
    EXPECT_EQ(nicsim_drv__nic_prog_id(prog(fd)), 0u);
    EXPECT_STREQ(nicsim_drv__prog_state(prog(fd)), "xlated");
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), 0);
    EXPECT_EQ(pi.ifindex, (uint32_t)p2);
    ASSERT_EQ(nicsim_kern_map_get_info(k, array, &mi), 0);
    EXPECT_EQ(mi.ifindex, (uint32_t)p2);
    ASSERT_EQ(attach(p2, fd, HW), 0) << msg;
    nic_prog = nicsim_drv__nic_prog_id(prog(fd));
    EXPECT_EQ(nicsim_nic__port_prog(b->nic, 2), nic_prog);

    // the last port: everything bound to the NIC is orphaned
    uint32_t nic_map = nicsim_drv__nic_map_id(nicsim_kern_map_by_fd(k, htab));
    ASSERT_EQ(nicsim_drv__port_remove(b->drv, 2), 0);
    size_t n = 0;
    EXPECT_EQ(nicsim_nic__prog(b->nic, nic_prog, &n), nullptr);
    EXPECT_EQ(nicsim_nic__port_prog(b->nic, 2), 0u);
    EXPECT_EQ(nicsim_drv__prog_state(prog(fd)), nullptr);
    EXPECT_EQ(nicsim_drv__nic_map_id(nicsim_kern_map_by_fd(k, htab)), 0u);
    (void)nic_map;

    // "removed dev": prog info and map info fail, every map operation too
    EXPECT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), -ENODEV);
    EXPECT_EQ(nicsim_kern_map_get_info(k, htab, &mi), -ENODEV);
    for (int m : {htab, array}) {
        uint32_t next = 0;
        EXPECT_EQ(nicsim_kern_map_lookup_elem(k, m, &key, &got), -ENODEV);
        EXPECT_EQ(nicsim_kern_map_update_elem(k, m, &key, &v, BPF_ANY), -ENODEV);
        EXPECT_EQ(nicsim_kern_map_delete_elem(k, m, &key), -ENODEV);
        EXPECT_EQ(nicsim_kern_map_get_next_key(k, m, nullptr, &next), -ENODEV);
    }
    // orphaned maps lose their ids; orphaned programs keep theirs (bpftool lists them as
    // "orphaned", kernel >= 6.3)
    EXPECT_EQ(n_maps(), 0);
    EXPECT_EQ(nicsim_kern_map_get_fd_by_id(k, map_id), -ENOENT);
    EXPECT_EQ(n_progs(), 1);
    int again = nicsim_kern_prog_get_fd_by_id(k, prog_id);
    ASSERT_GE(again, 0);
    EXPECT_EQ(nicsim_kern_prog_get_info(k, again, &pi), -ENODEV);
    nicsim_kern_close(k, again);
    // nowhere to attach it
    EXPECT_EQ(attach(sim, fd, HW), -ENODEV); // NIC A is gone too
    EXPECT_EQ(nicsim_kern_close(k, fd), 0);
    EXPECT_EQ(n_progs(), 0);
    EXPECT_EQ(nicsim_kern_close(k, htab), 0);
    EXPECT_EQ(nicsim_kern_close(k, array), 0);
    b->remove(); // after every port went: only the offload device is left
}

TEST_F(LifecycleTest, RemovingTheDriverOrphansWhatIsBound)
{
    int m = map(BPF_MAP_TYPE_ARRAY, (uint32_t)sim, 2);
    ASSERT_GE(m, 0);
    int fd = load(map_prog(), (uint32_t)sim, {m, m});
    ASSERT_GE(fd, 0) << last->logs();
    ASSERT_EQ(attach(sim, fd, HW), 0) << msg;
    uint32_t nic_prog = nicsim_drv__nic_prog_id(prog(fd));
    a->remove();
    size_t n = 0;
    EXPECT_EQ(nicsim_nic__prog(a->nic, nic_prog, &n), nullptr);
    EXPECT_EQ(nicsim_nic__port_prog(a->nic, 0), 0u);
    nicsim_kern_prog_info pi{};
    EXPECT_EQ(nicsim_kern_prog_get_info(k, fd, &pi), -ENODEV);
    uint32_t key = 0;
    uint64_t v = 0;
    EXPECT_EQ(nicsim_kern_map_lookup_elem(k, m, &key, &v), -ENODEV);
    EXPECT_EQ(n_progs(), 1);
    EXPECT_EQ(n_maps(), 0);
    nicsim_kern_close(k, fd);
    nicsim_kern_close(k, m);
    EXPECT_EQ(n_progs(), 0);
}

// ---- The emulated verifier against the host kernel's.

struct KcheckCase {
    const char *name;
    Prog prog;
    std::vector<nicsim_kern_map_create_attr> maps;
    bool accepted;
    // Refusals whose wording we pin: the errno and the log's last two lines (" / "-joined), the
    // same in our log and in the host kernel's.
    int err = 0;
    const char *msg = nullptr;
};
void PrintTo(const KcheckCase &c, std::ostream *os)
{
    *os << c.name;
}

// r2 = data, r3 = data_end (from the context in r1, kept in r6).
void load_data(Prog &p, int data = 2, int end = 3)
{
    p.push_back(ldx(BPF_W, data, 6, 0));
    p.push_back(ldx(BPF_W, end, 6, 4));
}

constexpr int16_t TO_DROP = 0x7fff; // a jump to with_verdict()'s XDP_DROP

// if (r2 + n > r3) return XDP_DROP;
void check_len(Prog &p, int32_t n, int ptr = 2, int end = 3)
{
    p.push_back(mov64_reg(4, ptr));
    p.push_back(alu64_imm(BPF_ADD, 4, n));
    p.push_back(jmp_reg(BPF_JGT, 4, end, TO_DROP));
}

// p; return XDP_PASS; and the XDP_DROP exit check_len() jumps to.
Prog with_verdict(Prog p)
{
    p.push_back(mov64_imm(0, XDP_PASS));
    p.push_back(exit_insn());
    int16_t drop = (int16_t)p.size();
    for (size_t i = 0; i < p.size(); i++)
        if (p[i].off == TO_DROP &&
            ((p[i].code & 0x07) == BPF_JMP || (p[i].code & 0x07) == BPF_JMP32))
            p[i].off = (int16_t)(drop - (int16_t)i - 1);
    p.push_back(mov64_imm(0, XDP_DROP));
    p.push_back(exit_insn());
    return p;
}

// Direct packet access: what the kernel's data_end tracking accepts and refuses.
void packet_cases(std::vector<KcheckCase> &c)
{
    Prog p = {mov64_reg(6, 1)};
    load_data(p);
    // the classic bug: no data_end check at all
    c.push_back({"pkt_no_check",
                 {mov64_reg(6, 1), ldx(BPF_W, 2, 6, 0), ldx(BPF_B, 0, 2, 0), exit_insn()},
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0) / "
                 "R2 offset is outside of the packet"});

    Prog q = p; // data + 14 checked, byte 14 read
    check_len(q, 14);
    q.push_back(ldx(BPF_B, 5, 2, 14));
    c.push_back({"pkt_off_by_one",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14) / "
                 "R2 offset is outside of the packet"});

    q = p; // a u32 at 12 of 14 checked bytes
    check_len(q, 14);
    q.push_back(ldx(BPF_W, 5, 2, 12));
    c.push_back({"pkt_beyond_checked_range",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=12 size=4, R2(id=0,off=12,r=14) / "
                 "R2 offset is outside of the packet"});

    q = p; // through a copy moved forward: the range is shared, the offset counts
    check_len(q, 14);
    q.push_back(mov64_reg(7, 2));
    q.push_back(alu64_imm(BPF_ADD, 7, 12));
    q.push_back(ldx(BPF_H, 5, 7, 0));
    c.push_back({"pkt_copy_shares_range", with_verdict(q), {}, true});

    q = p; // the packet moved: the old pointer (kept in r7) is a number now
    check_len(q, 14);
    q.push_back(mov64_reg(7, 2));
    q.push_back(mov64_reg(1, 6));
    q.push_back(mov64_imm(2, 4));
    q.push_back(call(BPF_FUNC_xdp_adjust_head));
    q.push_back(ldx(BPF_B, 5, 7, 0));
    c.push_back({"pkt_stale_after_adjust_head",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "R7 invalid mem access 'scalar'"});

    q = {mov64_reg(6, 1), mov64_reg(1, 6), mov64_imm(2, 4), call(BPF_FUNC_xdp_adjust_head)};
    load_data(q); // ... and checked again: fine
    check_len(q, 14);
    q.push_back(ldx(BPF_B, 5, 2, 13));
    c.push_back({"pkt_rechecked_after_adjust_head", with_verdict(q), {}, true});

    q = {mov64_reg(6, 1), ldx(BPF_W, 2, 6, 8), ldx(BPF_W, 3, 6, 0)}; // data_meta + 4 <= data
    check_len(q, 4);
    q.push_back(ldx(BPF_W, 5, 2, 0));
    c.push_back({"pkt_meta_checked_against_data", with_verdict(q), {}, true});

    q = {mov64_reg(6, 1), ldx(BPF_W, 2, 6, 8), ldx(BPF_W, 3, 6, 0)}; // meta read past the check
    check_len(q, 4);
    q.push_back(ldx(BPF_W, 5, 2, 2));
    c.push_back({"pkt_meta_beyond_check",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=2 size=4, R2(id=0,off=2,r=4) / "
                 "R2 offset is outside of the packet"});

    q = p; // IPv4 options: data + 14 + (ihl & 15) * 4, then its own check
    check_len(q, 15);
    q.push_back(ldx(BPF_B, 5, 2, 14));
    q.push_back(alu64_imm(BPF_AND, 5, 15));
    q.push_back(alu64_imm(BPF_LSH, 5, 2));
    q.push_back(alu64_reg(BPF_ADD, 2, 5));
    check_len(q, 22);
    q.push_back(ldx(BPF_DW, 5, 2, 14));
    c.push_back({"pkt_bounded_variable_offset", with_verdict(q), {}, true});

    q = p; // the same without the second check: the new pointer has no range
    check_len(q, 15);
    q.push_back(ldx(BPF_B, 5, 2, 14));
    q.push_back(alu64_imm(BPF_AND, 5, 15));
    q.push_back(alu64_reg(BPF_ADD, 2, 5));
    q.push_back(ldx(BPF_B, 5, 2, 0));
    c.push_back({"pkt_variable_offset_unchecked",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=0 size=1, R2(id=1,off=0,r=0) / "
                 "R2 offset is outside of the packet"});

    q = p; // a u32 from the packet can move the pointer past 64 KiB: no range is learnt
    check_len(q, 4);
    q.push_back(ldx(BPF_W, 5, 2, 0));
    q.push_back(alu64_reg(BPF_ADD, 2, 5));
    check_len(q, 1);
    q.push_back(ldx(BPF_B, 5, 2, 0));
    c.push_back({"pkt_offset_too_large_to_check",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=0 size=1, R2(id=1,off=0,r=0) / "
                 "R2 offset is outside of the packet"});

    q = {mov64_reg(6, 1), call(BPF_FUNC_ktime_get_ns)}; // an unbounded scalar
    load_data(q);
    q.push_back(alu64_reg(BPF_ADD, 2, 0));
    q.push_back(mov64_imm(0, XDP_PASS));
    q.push_back(exit_insn());
    c.push_back({"pkt_plus_unbounded_scalar",
                 q,
                 {},
                 false,
                 -EINVAL,
                 "math between pkt pointer and register with unbounded min value is not allowed"});

    q = p; // a 32-bit comparison teaches nothing about pointers
    q.push_back(mov64_reg(4, 2));
    q.push_back(alu64_imm(BPF_ADD, 4, 14));
    q.push_back(raw(BPF_JMP32 | BPF_JGT | BPF_X, 4, 3, TO_DROP, 0));
    q.push_back(ldx(BPF_B, 5, 2, 0));
    c.push_back({"pkt_jmp32_check_learns_nothing",
                 with_verdict(q),
                 {},
                 false,
                 -EACCES,
                 "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0) / "
                 "R2 offset is outside of the packet"});
}

std::vector<KcheckCase> kcheck_cases()
{
    std::vector<KcheckCase> c;
    c.push_back({"ret_pass", ret_pass(), {}, true});
    Prog checked;
    lookup_key0(checked, 0);
    checked.push_back(jmp_imm(BPF_JEQ, 0, 0, 1));
    checked.push_back(ldx(BPF_DW, 1, 0, 0));
    checked.push_back(mov64_imm(0, XDP_PASS));
    checked.push_back(exit_insn());
    c.push_back({"null_checked_hash_value", checked, {map_attr(BPF_MAP_TYPE_HASH, 4, 8, 2)}, true});
    // data + 14 <= data_end before reading the first byte
    c.push_back(
        {"bounded_packet_read",
         {ldx(BPF_W, 2, 1, 0), ldx(BPF_W, 3, 1, 4), mov64_reg(4, 2), alu64_imm(BPF_ADD, 4, 14),
          jmp_reg(BPF_JGT, 4, 3, 1), ldx(BPF_B, 5, 2, 0), mov64_imm(0, XDP_PASS), exit_insn()},
         {},
         true});
    c.push_back(
        {"helper_ktime", {call(BPF_FUNC_ktime_get_ns), mov64_imm(0, 2), exit_insn()}, {}, true});
    Prog unchecked;
    lookup_key0(unchecked, 0);
    unchecked.push_back(ldx(BPF_DW, 0, 0, 0));
    unchecked.push_back(exit_insn());
    c.push_back({"unchecked_hash_value", unchecked, {map_attr(BPF_MAP_TYPE_HASH, 4, 8, 2)}, false});
    c.push_back({"uninit_register", {mov64_reg(0, 3), exit_insn()}, {}, false});
    c.push_back({"ctx_write", {st(BPF_W, 1, 0, 0), mov64_imm(0, 2), exit_insn()}, {}, false});
    c.push_back({"no_exit", {mov64_imm(0, 2)}, {}, false});
    c.push_back({"back_edge_forever", {mov64_imm(0, 0), ja(-2), exit_insn()}, {}, false});
    c.push_back({"stack_underflow", {ldx(BPF_DW, 0, 10, 8), exit_insn()}, {}, false});
    packet_cases(c);
    return c;
}

class LifecycleKernelCrossCheckTest : public ::testing::TestWithParam<KcheckCase>
{
};

TEST_P(LifecycleKernelCrossCheckTest, AgreesWithTheHostKernel)
{
    const KcheckCase &c = GetParam();
    Load l(c.prog);
    struct nicsim_kern_kcheck res {
    };
    ASSERT_EQ(nicsim_kern_kcheck(&l.attr, c.maps.data(), c.maps.size(), &res), 0);
    if (!res.kernel_available)
        GTEST_SKIP() << "bpf() unavailable: " << res.kernel_msg;
    EXPECT_FALSE(res.disagree) << res.report;
    EXPECT_EQ(res.ours == 0, c.accepted) << res.our_msg;
    EXPECT_EQ(res.kernel == 0, c.accepted) << res.kernel_msg;
    if (c.err) {
        EXPECT_EQ(res.ours, c.err) << res.our_msg;
        EXPECT_EQ(res.kernel, c.err) << res.kernel_msg;
    }
    if (c.msg) {
        EXPECT_EQ(std::string(res.our_log), c.msg);
        EXPECT_NE(std::string(res.kernel_msg).find(c.msg), std::string::npos)
            << "[" << res.kernel_msg << "]";
    }
}

INSTANTIATE_TEST_SUITE_P(Programs, LifecycleKernelCrossCheckTest,
                         ::testing::ValuesIn(kcheck_cases()),
                         [](const ::testing::TestParamInfo<KcheckCase> &i) {
                             return std::string(i.param.name);
                         });

} // namespace
