// SPDX-License-Identifier: MIT
// Core model: the timing rules of docs/microarchitecture.md §4, one by one, traps, the watchdog,
// tail calls and load-time refusals.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>

#include <cstring>
#include <string>
#include <vector>

#include "nicsim/core.h"
#include "nicsim/isa.h"

namespace
{

struct Harness {
    struct nicsim_helper helpers[NICSIM_MAX_HELPERS] = {};
    std::vector<struct nicsim_prog *> progs;
    struct nicsim_vm *vm = nullptr;
    std::vector<uint8_t> mem = std::vector<uint8_t>(256, 0);
    uint64_t mem_addr = 0;
    std::vector<struct nicsim_trace_rec> trace;

    explicit Harness(uint64_t budget = 0, uint8_t mem_latency = 1, bool writable = true)
    {
        struct nicsim_vm_opts o = {};
        o.sz = sizeof(o);
        o.budget = budget;
        o.core_id = 3;
        vm = nicsim_vm__new(&o);
        struct nicsim_region r = {};
        r.host = mem.data();
        r.lo = 0;
        r.hi = (uint32_t)mem.size();
        r.kind = mem_latency == 1 ? NICSIM_RGN_MEM : NICSIM_RGN_MAP;
        r.writable = writable;
        r.latency = mem_latency;
        int idx = nicsim_vm__map(vm, &r);
        mem_addr = nicsim_addr((uint32_t)idx, 0);
    }
    ~Harness()
    {
        for (auto *p : progs)
            nicsim_prog__free(p);
        nicsim_vm__free(vm);
    }

    struct nicsim_prog *load(const std::string &text, std::string *error = nullptr)
    {
        struct nicsim_insn *raw = nullptr;
        size_t n = 0;
        struct nicsim_msg err = {};
        EXPECT_EQ(nicsim_asm(text.c_str(), &raw, &n, &err), 0) << err.msg << "\n" << text;
        if (!raw)
            return nullptr;
        std::vector<struct nicsim_isa_insn> dec(n);
        int rc = nicsim_isa_decode(raw, n, dec.data(), &err);
        free(raw);
        EXPECT_EQ(rc, 0) << err.msg;
        struct nicsim_prog_opts po = {};
        po.sz = sizeof(po);
        po.helpers = helpers;
        po.name = "t";
        struct nicsim_prog *p = nicsim_prog__load(dec.data(), n, &po, &err);
        if (!p) {
            if (error)
                *error = err.msg;
            return nullptr;
        }
        progs.push_back(p);
        return p;
    }

    struct nicsim_run run(const std::string &text)
    {
        struct nicsim_run r = {};
        struct nicsim_prog *p = load(text);
        EXPECT_NE(p, nullptr);
        if (p) {
            EXPECT_EQ(nicsim_vm__run(vm, p, mem_addr, mem.size(), &r), 0);
        }
        return r;
    }

    void enable_trace()
    {
        nicsim_vm__set_trace(
            vm,
            [](void *user, const struct nicsim_trace_rec *rec) {
                static_cast<Harness *>(user)->trace.push_back(*rec);
            },
            this);
    }
};

// The default pipeline fill, from the document.
constexpr uint64_t kFill = 4;

TEST(CoreTest, DefaultTimingMatchesTheDocument)
{
    struct nicsim_timing t;
    nicsim_timing_default(&t);
    EXPECT_EQ(t.pipeline_fill, 4u);
    EXPECT_EQ(t.taken_branch, 2u);
    EXPECT_EQ(t.jump, 1u);
    EXPECT_EQ(t.call_local, 1u);
    EXPECT_EQ(t.ret_local, 1u);
    EXPECT_EQ(t.lddw, 1u);
    EXPECT_EQ(t.load_use, 1u);
    EXPECT_EQ(t.mul, 2u);
    EXPECT_EQ(t.div32, 32u);
    EXPECT_EQ(t.div64, 64u);
    EXPECT_EQ(t.atomic, 1u);
    EXPECT_EQ(t.helper_call, 2u);
    EXPECT_EQ(t.tail_call, 3u);
    EXPECT_EQ(t.region_latency[NICSIM_RGN_MAP], 2u);
    EXPECT_EQ(t.region_latency[NICSIM_RGN_PACKET], 1u);
}

TEST(CoreTest, WorkedExampleTakesElevenCycles)
{
    Harness h;
    h.mem[0] = 4;
    h.enable_trace();
    auto r = h.run("ldxw %r2, [%r1+0]\nadd %r2, 1\njeq %r2, 5, +1\nmov %r0, 1\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.insns, 4u);
    EXPECT_EQ(r.cycles, 11u);
    ASSERT_EQ(h.trace.size(), 4u);
    const uint32_t pcs[] = {0, 1, 2, 4}, costs[] = {1, 2, 3, 1};
    for (size_t i = 0; i < 4; i++) {
        EXPECT_EQ(h.trace[i].pc, pcs[i]);
        EXPECT_EQ(h.trace[i].cycles, costs[i]) << "instruction " << i;
    }
    EXPECT_EQ(h.trace.back().cycle, r.cycles);
}

// Each trace record carries the run's stalls by cause so far: the load-use stall of `add` (it
// reads the loaded r2) and the taken branch's appear at their own instruction, and the last
// record's equal the run's.
TEST(CoreTest, TraceRecordsCarryTheStallsSoFar)
{
    Harness h;
    h.mem[0] = 4;
    h.enable_trace();
    auto r = h.run("ldxw %r2, [%r1+0]\nadd %r2, 1\njeq %r2, 5, +1\nmov %r0, 1\nexit\n");
    ASSERT_EQ(h.trace.size(), 4u);
    EXPECT_EQ(h.trace[0].stalls.load_use, 0u);
    EXPECT_EQ(h.trace[1].stalls.load_use, 1u);
    EXPECT_EQ(h.trace[1].stalls.branch, 0u);
    EXPECT_EQ(h.trace[2].stalls.branch, 2u);
    const struct nicsim_stalls &last = h.trace.back().stalls;
    EXPECT_EQ(last.load_use, r.stalls.load_use);
    EXPECT_EQ(last.memory, r.stalls.memory);
    EXPECT_EQ(last.branch, r.stalls.branch);
    EXPECT_EQ(last.jump, r.stalls.jump);
    EXPECT_EQ(last.call, r.stalls.call);
    EXPECT_EQ(last.muldiv, r.stalls.muldiv);
    EXPECT_EQ(last.helper, r.stalls.helper);
    // each record's cycles: one issue and the growth of the stalls since the one before
    uint64_t prev = 0;
    for (const auto &t : h.trace) {
        uint64_t s = t.stalls.load_use + t.stalls.memory + t.stalls.branch + t.stalls.jump +
                     t.stalls.call + t.stalls.muldiv + t.stalls.helper;
        EXPECT_EQ(t.cycles, 1 + s - prev) << "pc " << t.pc;
        prev = s;
    }
}

TEST(CoreTest, StraightLineAluIsOneCyclePerInstruction)
{
    Harness h;
    auto r = h.run("mov %r0, 1\nadd %r0, 2\nxor %r0, 3\nlsh32 %r0, 1\nexit\n");
    EXPECT_EQ(r.insns, 5u);
    EXPECT_EQ(r.cycles, kFill + 5);
    EXPECT_EQ(r.r0, ((1u + 2u) ^ 3u) << 1);
}

TEST(CoreTest, LddwCostsItsSecondSlot)
{
    Harness h;
    auto r = h.run("lddw %r0, 0x1122334455667788\nexit\n");
    EXPECT_EQ(r.insns, 2u);
    EXPECT_EQ(r.cycles, kFill + 2 + 1);
    EXPECT_EQ(r.stalls.jump, 1u);
}

TEST(CoreTest, UnconditionalJumpCostsOne)
{
    Harness h;
    auto r = h.run("mov %r0, 0\nja +1\nmov %r0, 9\nexit\n");
    EXPECT_EQ(r.insns, 3u);
    EXPECT_EQ(r.cycles, kFill + 3 + 1);
    EXPECT_EQ(r.r0, 0u);
}

TEST(CoreTest, TakenBranchCostsTwoNotTakenNothing)
{
    Harness taken, not_taken;
    auto a = taken.run("mov %r0, 5\njeq %r0, 5, +1\nmov %r0, 9\nexit\n");
    auto b = not_taken.run("mov %r0, 4\njeq %r0, 5, +1\nmov %r0, 9\nexit\n");
    EXPECT_EQ(a.insns, 3u);
    EXPECT_EQ(a.cycles, kFill + 3 + 2);
    EXPECT_EQ(a.stalls.branch, 2u);
    EXPECT_EQ(b.insns, 4u);
    EXPECT_EQ(b.cycles, kFill + 4);
    EXPECT_EQ(b.stalls.branch, 0u);
}

TEST(CoreTest, LoadUseStallsOnlyTheImmediateConsumer)
{
    Harness use, gap;
    auto a = use.run("ldxdw %r2, [%r1]\nadd %r2, 1\nmov %r0, %r2\nexit\n");
    auto b = gap.run("ldxdw %r2, [%r1]\nmov %r3, 1\nadd %r2, 1\nmov %r0, %r2\nexit\n");
    EXPECT_EQ(a.cycles, kFill + 4 + 1);
    EXPECT_EQ(a.stalls.load_use, 1u);
    EXPECT_EQ(b.cycles, kFill + 5);
    EXPECT_EQ(b.stalls.load_use, 0u);
}

TEST(CoreTest, StoreDataAfterLoadIsALoadUse)
{
    Harness h;
    auto r = h.run("ldxdw %r2, [%r1]\nstxdw [%r1+8], %r2\nmov %r0, 0\nexit\n");
    EXPECT_EQ(r.stalls.load_use, 1u);
    EXPECT_EQ(r.cycles, kFill + 4 + 1);
}

TEST(CoreTest, MultiplierAndDividerLatencies)
{
    Harness m, d32, d64, md;
    EXPECT_EQ(m.run("mov %r0, 3\nmul %r0, 5\nexit\n").cycles, kFill + 3 + 2);
    EXPECT_EQ(d32.run("mov %r0, 30\ndiv32 %r0, 5\nexit\n").cycles, kFill + 3 + 32);
    EXPECT_EQ(d64.run("mov %r0, 30\nsdiv %r0, 0\nexit\n").cycles, kFill + 3 + 64);
    auto r = md.run("mov %r0, 30\nmov %r1, 0\nmod32 %r0, %r1\nexit\n");
    EXPECT_EQ(r.cycles, kFill + 4 + 32);
    EXPECT_EQ(r.r0, 30u) << "x % 0 leaves x (RFC 9669)";
    EXPECT_EQ(r.stalls.muldiv, 32u);
}

TEST(CoreTest, RegionLatencyAddsToEveryAccess)
{
    Harness slow(0, /*mem_latency=*/2);
    auto r = slow.run("ldxdw %r2, [%r1]\nstxdw [%r1+8], %r0\nmov %r0, 0\nexit\n");
    EXPECT_EQ(r.stalls.memory, 2u);
    EXPECT_EQ(r.cycles, kFill + 4 + 2);
}

TEST(CoreTest, AtomicIsTwoAccessesAndAModifyCycle)
{
    Harness fast, slow(0, 2);
    auto a = fast.run("mov %r2, 1\nlock add [%r1], %r2\nmov %r0, 0\nexit\n");
    EXPECT_EQ(a.stalls.memory, 2u * 1 - 1 + 1);
    auto b = slow.run("mov %r2, 1\nlock fetch add [%r1], %r2\nmov %r0, %r2\nexit\n");
    EXPECT_EQ(b.stalls.memory, 2u * 2 - 1 + 1);
    EXPECT_EQ(b.stalls.load_use, 1u) << "FETCH writes src from memory";
    EXPECT_EQ(b.cycles, kFill + 4 + 4 + 1);
}

TEST(CoreTest, LocalCallAndReturnCostOneEachAndPreserveR6ToR9)
{
    Harness h;
    auto r = h.run("mov %r6, 7\ncall local f\nadd %r0, %r6\nexit\n"
                   "f:\nmov %r6, 100\nmov %r0, 1\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.r0, 8u);
    EXPECT_EQ(r.insns, 7u);
    EXPECT_EQ(r.stalls.call, 2u);
    EXPECT_EQ(r.cycles, kFill + 7 + 2);
}

static void helper_add(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                       struct nicsim_helper_out *out)
{
    (void)vm;
    (void)user;
    out->ret = args[0] + args[1];
    out->cycles = 10;
}

TEST(CoreTest, HelperCallCostsHandshakePlusUnitCycles)
{
    Harness h;
    h.helpers[1] = {"add", helper_add, nullptr};
    auto r = h.run("mov %r1, 2\nmov %r2, 3\ncall 1\nexit\n");
    EXPECT_EQ(r.r0, 5u);
    EXPECT_EQ(r.stalls.helper, 2u + 10u);
    EXPECT_EQ(r.cycles, kFill + 4 + 12);
}

static void helper_core_and_clock(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                                  struct nicsim_helper_out *out)
{
    (void)user;
    (void)args;
    out->ret = nicsim_vm__core_id(vm) * 1000 + nicsim_vm__cycles_now(vm);
}

TEST(CoreTest, HelpersSeeTheCoreAndTheCycleCount)
{
    Harness h;
    h.helpers[8] = {"clock", helper_core_and_clock, nullptr};
    auto r = h.run("mov %r0, 0\nmov %r0, 0\ncall 8\nexit\n");
    // At the call: fill 4 + three issued instructions.
    EXPECT_EQ(r.r0, 3000u + kFill + 3);
}

struct TailTarget {
    const struct nicsim_prog *prog;
};

static void helper_tail(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                        struct nicsim_helper_out *out)
{
    (void)vm;
    out->action = NICSIM_HELPER_TAIL_CALL;
    out->tail = static_cast<TailTarget *>(user)->prog;
    out->cycles = 1;
    (void)args;
}

TEST(CoreTest, TailCallRestartsAtTheTargetAndStopsAtTheKernelLimit)
{
    Harness h;
    TailTarget target = {nullptr};
    h.helpers[12] = {"tail_call", helper_tail, &target};
    struct nicsim_prog *callee = h.load("mov %r0, 42\nexit\n");
    target.prog = callee;
    auto r = h.run("call 12\nmov %r0, 1\nexit\n");
    EXPECT_EQ(r.r0, 42u);
    EXPECT_EQ(r.tail_calls, 1u);
    EXPECT_EQ(r.stalls.call, 3u);
    EXPECT_EQ(r.cycles, kFill + 3 + (2 + 1) + 3);

    // A program that tail-calls itself: 33 calls succeed, the 34th falls through.
    Harness loop;
    TailTarget self = {nullptr};
    loop.helpers[12] = {"tail_call", helper_tail, &self};
    struct nicsim_prog *p = loop.load("add %r6, 1\ncall 12\nmov %r0, %r6\nexit\n");
    self.prog = p;
    struct nicsim_run out = {};
    ASSERT_EQ(nicsim_vm__run(loop.vm, p, 0, 0, &out), 0);
    EXPECT_EQ(out.status, NICSIM_RUN_OK);
    EXPECT_EQ(out.tail_calls, (uint32_t)NICSIM_MAX_TAIL_CALLS);
    EXPECT_EQ(out.r0, (uint64_t)NICSIM_MAX_TAIL_CALLS + 1);
}

TEST(CoreTest, OutOfBoundsReadTrapsWithPcAddressSizeAndRegion)
{
    Harness h;
    auto r = h.run("mov %r0, 0\nldxw %r0, [%r1+254]\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_TRAP);
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_BOUNDS);
    EXPECT_EQ(r.trap.pc, 1u);
    EXPECT_EQ(r.trap.size, 4u);
    EXPECT_EQ(r.trap.addr, h.mem_addr + 254);
    EXPECT_EQ(r.trap.region_kind, NICSIM_RGN_MEM);
    std::string msg = r.trap.msg;
    EXPECT_NE(msg.find("insn 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("4 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("memory region"), std::string::npos) << msg;
    EXPECT_EQ(r.insns, 2u);
    EXPECT_EQ(r.cycles, kFill + 2) << "a faulting access costs its issue cycle only";
}

TEST(CoreTest, NullAndUnmappedAccessesTrap)
{
    Harness h;
    auto r = h.run("mov %r2, 0\nldxb %r0, [%r2+16]\nexit\n");
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_UNMAPPED);
    EXPECT_EQ(r.trap.addr, 16u);
    Harness far;
    auto f = far.run("lddw %r2, 0x7fff00000000\nstb [%r2], 1\nexit\n");
    EXPECT_EQ(f.trap.kind, NICSIM_TRAP_UNMAPPED);
    EXPECT_EQ(f.trap.is_write, 1u);
}

TEST(CoreTest, WriteToReadOnlyRegionTraps)
{
    Harness h(0, 1, /*writable=*/false);
    auto r = h.run("mov %r0, 0\nstw [%r1], 5\nexit\n");
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_READONLY);
    EXPECT_EQ(h.mem[0], 0u);
}

TEST(CoreTest, StackAboveTheFramePointerTraps)
{
    Harness h;
    auto ok = h.run("stdw [%r10-512], 1\nldxdw %r0, [%r10-512]\nexit\n");
    EXPECT_EQ(ok.status, NICSIM_RUN_OK);
    EXPECT_EQ(ok.r0, 1u);
    Harness bad;
    auto r = bad.run("stdw [%r10], 1\nexit\n");
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_BOUNDS);
    EXPECT_EQ(r.trap.region_kind, NICSIM_RGN_STACK);
}

TEST(CoreTest, StackIsZeroedBetweenRuns)
{
    Harness h;
    struct nicsim_prog *p = h.load("ldxdw %r0, [%r10-8]\nstdw [%r10-8], 77\nexit\n");
    struct nicsim_run a = {}, b = {};
    nicsim_vm__run(h.vm, p, 0, 0, &a);
    nicsim_vm__run(h.vm, p, 0, 0, &b);
    EXPECT_EQ(a.r0, 0u);
    EXPECT_EQ(b.r0, 0u);
}

TEST(CoreTest, RecursionDeeperThanEightFramesTraps)
{
    Harness h;
    auto r = h.run("call local f\nexit\nf:\ncall local f\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_TRAP);
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_CALL_DEPTH);
    EXPECT_EQ(r.insns, (uint64_t)NICSIM_MAX_CALL_DEPTH);
}

TEST(CoreTest, WatchdogEndsAnEndlessLoop)
{
    Harness h(/*budget=*/1000);
    auto r = h.run("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_WATCHDOG);
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_WATCHDOG);
    EXPECT_EQ(r.insns, 1000u);
    EXPECT_NE(std::string(r.trap.msg).find("watchdog"), std::string::npos);
}

// may_goto as the kernel rewrites it (BPF_MAX_LOOPS): 2^23 fall-throughs, then the jump, timed
// as a conditional branch taken once. A callee counts on its own and the caller's count goes on.
TEST(CoreTest, MayGotoFallsThroughWhileItsFramesCounterLasts)
{
    Harness h(/*budget=*/1u << 26);
    auto r = h.run("mov %r0, 0\nloop:\nmay_goto out\nadd %r0, 1\nja loop\nout:\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.r0, 8388608u);
    EXPECT_EQ(r.insns, 3u * 8388608 + 3);
    EXPECT_EQ(r.stalls.branch, 2u);
    EXPECT_EQ(r.stalls.jump, 8388608u);

    Harness c(/*budget=*/1u << 26);
    r = c.run("mov %r6, 0\nmay_goto +0\nmay_goto +0\ncall local f\nadd %r6, %r0\n"
              "loop:\nmay_goto out\nadd %r6, 1\nja loop\nout:\nmov %r0, %r6\nexit\n"
              "f:\nmov %r0, 0\nfl:\nmay_goto fo\nadd %r0, 1\nja fl\nfo:\nexit\n");
    EXPECT_EQ(r.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.r0, 8388608u + 8388606u);
}

TEST(CoreTest, CallxToAMissingHelperTraps)
{
    Harness h;
    auto r = h.run("mov %r3, 77\ncall %r3\nexit\n");
    EXPECT_EQ(r.trap.kind, NICSIM_TRAP_BAD_HELPER);
    EXPECT_NE(std::string(r.trap.msg).find("77"), std::string::npos);
}

TEST(CoreTest, LoadRefusesUnknownHelpersAndUnresolvedReferences)
{
    Harness h;
    std::string err;
    EXPECT_EQ(h.load("call 69\nexit\n", &err), nullptr);
    EXPECT_NE(err.find("insn 0"), std::string::npos) << err;
    EXPECT_NE(err.find("69"), std::string::npos) << err;

    // lddw with src = 1 (map by fd) must be resolved by the driver before it reaches the core.
    struct nicsim_insn raw[3] = {};
    raw[0].code = 0x18;
    raw[0].src = 1;
    raw[0].imm = 5;
    raw[2].code = 0x95;
    struct nicsim_isa_insn dec[3];
    struct nicsim_msg e = {};
    ASSERT_EQ(nicsim_isa_decode(raw, 3, dec, &e), 0) << e.msg;
    struct nicsim_prog_opts po = {};
    po.sz = sizeof(po);
    EXPECT_EQ(nicsim_prog__load(dec, 3, &po, &e), nullptr);
    EXPECT_NE(std::string(e.msg).find("unresolved"), std::string::npos) << e.msg;

    // Legacy packet loads are refused for XDP.
    struct nicsim_insn abs[2] = {};
    abs[0].code = 0x20; // LD_ABS W
    abs[1].code = 0x95;
    ASSERT_EQ(nicsim_isa_decode(abs, 2, dec, &e), 0) << e.msg;
    EXPECT_EQ(nicsim_prog__load(dec, 2, &po, &e), nullptr);
    EXPECT_NE(std::string(e.msg).find("LD_ABS"), std::string::npos) << e.msg;
}

TEST(CoreTest, TraceCyclesSumToTheRunTotal)
{
    Harness h;
    h.enable_trace();
    auto r = h.run("mov %r6, 0\nloop:\nldxdw %r2, [%r1]\nadd %r2, %r6\nmul %r2, 3\n"
                   "add %r6, 1\njlt %r6, 10, loop\nmov %r0, %r2\nexit\n");
    ASSERT_EQ(r.status, NICSIM_RUN_OK);
    uint64_t sum = kFill;
    for (auto &t : h.trace)
        sum += t.cycles;
    EXPECT_EQ(h.trace.size(), r.insns);
    EXPECT_EQ(sum, r.cycles);
}

// docs/microarchitecture.md §4 "Registers read": a local call reads nothing, so a load into an
// argument register just before it does not stall.
TEST(CoreTest, LocalCallReadsNoRegisterForTheLoadUseRule)
{
    Harness h;
    auto r = h.run("ldxdw %r1, [%r1]\ncall local f\nexit\nf:\nmov %r0, %r1\nexit\n");
    ASSERT_EQ(r.status, NICSIM_RUN_OK);
    EXPECT_EQ(r.stalls.load_use, 0u);
    EXPECT_EQ(r.cycles, kFill + 5 + 2);
}

// The trapping instruction is executed: the trace's last record is it, and the records sum to
// the run's cycles (the RTL lockstep compares this stream).
TEST(CoreTest, TraceIncludesTheTrappingInstruction)
{
    Harness h;
    h.enable_trace();
    auto r = h.run("mov %r0, 0\nldxdw %r2, [%r1+4096]\nexit\n");
    ASSERT_EQ(r.status, NICSIM_RUN_TRAP);
    ASSERT_EQ(h.trace.size(), 2u);
    EXPECT_EQ(h.trace.back().pc, 1u);
    EXPECT_EQ(h.trace.back().cycle, r.cycles);
    EXPECT_EQ(r.cycles, kFill + 2) << "a trapping load costs its issue cycle, no memory latency";
}

// The watchdog's instruction is not executed: no record, not counted.
TEST(CoreTest, WatchdogInstructionIsNotExecuted)
{
    Harness h(/*budget=*/10);
    h.enable_trace();
    auto r = h.run("loop:\nadd %r0, 1\nja loop\nexit\n");
    ASSERT_EQ(r.status, NICSIM_RUN_WATCHDOG);
    EXPECT_EQ(r.insns, 10u);
    EXPECT_EQ(h.trace.size(), 10u);
    EXPECT_EQ(r.trap.pc, 0u) << "the 11th instruction, add at pc 0, would exceed the budget";
    EXPECT_EQ(r.cycles, kFill + 10 + 5) << "five JA, one extra cycle each";
}

// An unknown helper is answered by the helper unit after the handshake.
TEST(CoreTest, CallxToAMissingHelperCostsTheHandshake)
{
    Harness h;
    auto r = h.run("mov %r3, 77\ncall %r3\nexit\n");
    ASSERT_EQ(r.trap.kind, NICSIM_TRAP_BAD_HELPER);
    EXPECT_EQ(r.stalls.helper, 2u);
    EXPECT_EQ(r.cycles, kFill + 2 + 2);
}

// Depth: the program's frame plus seven calls fill the eight frames; the eighth call traps.
TEST(CoreTest, CallDepthTrapIsAtTheEighthCallAndCostsItsIssueOnly)
{
    Harness h;
    auto r = h.run("call local f\nexit\nf:\ncall local f\nexit\n");
    ASSERT_EQ(r.trap.kind, NICSIM_TRAP_CALL_DEPTH);
    EXPECT_EQ(r.trap.pc, 2u);
    EXPECT_EQ(r.stalls.call, 7u);
    EXPECT_EQ(r.cycles, kFill + 8 + 7);
}

// The trace record of a tail-calling instruction names the program it is in, not the target.
TEST(CoreTest, TraceOfATailCallNamesTheCallersProgram)
{
    Harness h;
    TailTarget target = {nullptr};
    h.helpers[12] = {"tail_call", helper_tail, &target};
    struct nicsim_prog *callee = h.load("mov %r0, 42\nexit\n");
    struct nicsim_prog *caller = h.load("mov %r0, 1\ncall 12\nexit\n");
    target.prog = callee;
    h.enable_trace();
    struct nicsim_run r = {};
    ASSERT_EQ(nicsim_vm__run(h.vm, caller, 0, 0, &r), 0);
    ASSERT_EQ(h.trace.size(), 4u);
    EXPECT_EQ(h.trace[1].prog, caller);
    EXPECT_EQ(h.trace[1].pc, 1u);
    EXPECT_EQ(h.trace[2].prog, callee);
    EXPECT_EQ(h.trace[2].pc, 0u);
}

TEST(CoreTest, RegionTableRefusesBadEntries)
{
    Harness h;
    uint8_t buf[8];
    struct nicsim_region r = {};
    r.host = buf;
    r.hi = 8;
    r.kind = NICSIM_RGN_MEM;
    r.writable = 1;
    r.latency = 0;
    EXPECT_LT(nicsim_vm__map(h.vm, &r), 0) << "latency 0";
    r.latency = 1;
    r.lo = 9;
    EXPECT_LT(nicsim_vm__map(h.vm, &r), 0) << "lo > hi";
    r.lo = 2;
    int idx = nicsim_vm__map(h.vm, &r);
    ASSERT_GT(idx, 1);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 1), 1, 0), nullptr);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 2), 6, 1), buf + 2);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 2), 7, 0), nullptr);
    EXPECT_LT(nicsim_vm__map_at(h.vm, 0, &r), 0) << "region 0 stays unmapped";
}

TEST(CoreTest, GrantedRegionsAreVisibleOnlyToTheProgramsGrantedThem)
{
    Harness h;
    uint8_t buf[16] = {7};
    struct nicsim_region r = {};
    r.host = buf;
    r.hi = 16;
    r.kind = NICSIM_RGN_MAP;
    r.latency = 1;
    r.flags = NICSIM_RGN_F_GRANTED;
    ASSERT_EQ(nicsim_vm__map_at(h.vm, 40, &r), 40);
    EXPECT_EQ(nicsim_vm__region(h.vm, 40), nullptr) << "no program granted it yet";
    const std::string text =
        "lddw %r1, " + std::to_string(nicsim_addr(40, 0)) + "\nldxb %r0, [%r1]\nexit\n";
    auto plain = h.run(text);
    EXPECT_EQ(plain.trap.kind, NICSIM_TRAP_UNMAPPED);
    EXPECT_EQ(plain.trap.addr, nicsim_addr(40, 0));
    EXPECT_NE(std::string(plain.trap.msg).find("not granted"), std::string::npos) << plain.trap.msg;

    struct nicsim_insn *raw = nullptr;
    size_t n = 0;
    struct nicsim_msg err = {};
    ASSERT_EQ(nicsim_asm(text.c_str(), &raw, &n, &err), 0);
    std::vector<struct nicsim_isa_insn> dec(n);
    ASSERT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0);
    free(raw);
    uint32_t grant = 40, bad = 0;
    struct nicsim_prog_opts po = {};
    po.sz = sizeof(po);
    po.regions = &bad;
    po.n_regions = 1;
    EXPECT_EQ(nicsim_prog__load(dec.data(), n, &po, &err), nullptr) << "region 0 is no grant";
    po.regions = &grant;
    struct nicsim_prog *p = nicsim_prog__load(dec.data(), n, &po, &err);
    ASSERT_NE(p, nullptr) << err.msg;
    struct nicsim_run run = {};
    ASSERT_EQ(nicsim_vm__run(h.vm, p, 0, 0, &run), 0);
    EXPECT_EQ(run.status, NICSIM_RUN_OK) << run.trap.msg;
    EXPECT_EQ(run.r0, 7u);
    // the next program without the grant does not inherit it
    EXPECT_EQ(h.run(text).trap.kind, NICSIM_TRAP_UNMAPPED);
    // unmapping while granted: gone for the granted program too
    nicsim_vm__unmap(h.vm, 40);
    ASSERT_EQ(nicsim_vm__run(h.vm, p, 0, 0, &run), 0);
    EXPECT_EQ(run.trap.kind, NICSIM_TRAP_UNMAPPED);
    nicsim_prog__free(p);
}

TEST(CoreTest, ElementWindowsKeepAccessesInsideOneElement)
{
    Harness h;
    uint8_t buf[64] = {};
    struct nicsim_region r = {};
    r.host = buf;
    r.hi = 64;
    r.kind = NICSIM_RGN_MAP;
    r.writable = 1;
    r.latency = 1;
    r.elem_stride = 16;
    r.elem_lo = 4;
    r.elem_hi = 12;
    int idx = nicsim_vm__map(h.vm, &r);
    ASSERT_GT(idx, 1);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 4), 8, 1), buf + 4);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 52), 8, 1), buf + 52);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 3), 1, 0), nullptr);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 8), 8, 0), nullptr);
    EXPECT_EQ(nicsim_vm__translate(h.vm, nicsim_addr(idx, 12), 1, 0), nullptr);
    auto t =
        h.run("lddw %r1, " + std::to_string(nicsim_addr(idx, 24)) + "\nldxdw %r0, [%r1]\nexit\n");
    EXPECT_EQ(t.trap.kind, NICSIM_TRAP_BOUNDS);
    EXPECT_NE(std::string(t.trap.msg).find("element 1"), std::string::npos) << t.trap.msg;
    // cycles are those of an unchecked access
    auto ok =
        h.run("lddw %r1, " + std::to_string(nicsim_addr(idx, 20)) + "\nldxw %r0, [%r1]\nexit\n");
    auto plain = h.run("mov %r0, %r1\nldxw %r0, [%r1]\nexit\n");
    EXPECT_EQ(ok.status, NICSIM_RUN_OK) << ok.trap.msg;
    EXPECT_EQ(ok.cycles, plain.cycles + 1) << "one more for the LDDW's second slot only";
    r.elem_hi = 17;
    EXPECT_LT(nicsim_vm__map(h.vm, &r), 0) << "window past the stride";
    r.elem_hi = 4;
    EXPECT_LT(nicsim_vm__map(h.vm, &r), 0) << "empty window";
}

} // namespace

/* The one options rule (nicsim_opts_copy): a larger options struct only with a zero tail. */
TEST(CoreTest, VmOptionsRefuseANonZeroTail)
{
    struct {
        nicsim_vm_opts o;
        uint64_t future;
    } big{};
    big.o.sz = sizeof(big);
    nicsim_vm *vm = nicsim_vm__new(&big.o);
    EXPECT_NE(vm, nullptr);
    nicsim_vm__free(vm);
    big.future = 1;
    errno = 0;
    EXPECT_EQ(nicsim_vm__new(&big.o), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

/* Program options follow the one options rule too (nicsim_opts_copy), saying so in the carrier. */
TEST(CoreTest, ProgOptionsRefuseANonZeroTail)
{
    struct nicsim_insn raw[2] = {{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
    struct nicsim_isa_insn dec[2];
    struct nicsim_msg err = {};
    ASSERT_EQ(nicsim_isa_decode(raw, 2, dec, &err), 0);
    struct {
        nicsim_prog_opts o;
        uint64_t future;
    } big{};
    big.o.sz = sizeof(big);
    struct nicsim_prog *p = nicsim_prog__load(dec, 2, &big.o, &err);
    EXPECT_NE(p, nullptr) << err.msg;
    nicsim_prog__free(p);
    big.future = 1;
    EXPECT_EQ(nicsim_prog__load(dec, 2, &big.o, &err), nullptr);
    EXPECT_EQ(std::string(err.msg), "program options: size " + std::to_string(sizeof(big)) +
                                        " with unknown non-zero fields");
    EXPECT_EQ(err.index, -1);
}

// ---- the core backend seam (nicsim_vm__set_backend: the RTL harness, sim/rtl) ----------------

struct BackendSeen {
    int calls = 0;
    uint64_t a1 = 0, a2 = 0;
    bool stack_zero = false;
    const struct nicsim_helper *helpers = nullptr;
    uint64_t now = 0;
};

static int test_backend(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                        uint64_t a1, uint64_t a2, struct nicsim_run *out)
{
    auto *s = static_cast<BackendSeen *>(ctx);
    s->calls++;
    s->a1 = a1;
    s->a2 = a2;
    const struct nicsim_region *st = nicsim_vm__region(vm, 1);
    s->stack_zero = st != nullptr;
    for (uint32_t i = 0; st && i < st->hi; i++)
        s->stack_zero = s->stack_zero && st->host[i] == 0;
    st->host[7] = 0xaa; // the next run must see a zeroed stack again
    s->helpers = nicsim_prog__helpers(prog);
    uint64_t now = 1234;
    nicsim_vm__set_cycles_now(vm, &now);
    s->now = nicsim_vm__cycles_now(vm);
    out->r0 = 77;
    out->cycles = 9;
    return 0;
}

TEST(CoreTest, BackendRunsInPlaceOfTheRunLoopWithAZeroedStack)
{
    Harness h;
    h.helpers[1] = {"add", helper_add, nullptr};
    BackendSeen seen;
    nicsim_vm__set_backend(h.vm, test_backend, &seen);
    auto r = h.run("mov %r0, 1\nexit\n");
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(r.r0, 77u) << "the backend's report, not the C model's";
    EXPECT_EQ(seen.a1, h.mem_addr);
    EXPECT_EQ(seen.a2, h.mem.size());
    EXPECT_TRUE(seen.stack_zero);
    ASSERT_NE(seen.helpers, nullptr);
    EXPECT_EQ(seen.helpers[1].fn, helper_add);
    EXPECT_EQ(seen.now, 1234u);
    EXPECT_EQ(nicsim_vm__cycles_now(h.vm), 0u) << "the backend's clock ends with its run";
    h.run("mov %r0, 1\nexit\n");
    EXPECT_TRUE(seen.stack_zero) << "the stack is zeroed before every run";
    EXPECT_EQ(nicsim_vm__budget(h.vm), (uint64_t)NICSIM_DEFAULT_BUDGET);
    nicsim_vm__set_backend(h.vm, nullptr, nullptr);
    EXPECT_EQ(h.run("mov %r0, 1\nexit\n").r0, 1u) << "the C model again";
}

static void hook_answers(void *user, struct nicsim_vm *vm, uint32_t id,
                         const struct nicsim_helper *h, const uint64_t args[5],
                         struct nicsim_helper_out *out)
{
    (void)vm;
    (void)args;
    *static_cast<const struct nicsim_helper **>(user) = h;
    out->ret = 1000 + id;
    out->cycles = 3;
}

TEST(CoreTest, HelperHookAnswersInPlaceOfTheHelper)
{
    Harness h;
    h.helpers[1] = {"add", helper_add, nullptr};
    const struct nicsim_helper *called = nullptr;
    nicsim_vm__set_helper_hook(h.vm, hook_answers, &called);
    auto r = h.run("mov %r1, 2\nmov %r2, 3\ncall 1\nexit\n");
    EXPECT_EQ(r.r0, 1001u);
    EXPECT_EQ(r.stalls.helper, 2u + 3u);
    ASSERT_NE(called, nullptr);
    EXPECT_EQ(called->fn, helper_add) << "the hook is told which helper the program calls";
    nicsim_vm__set_helper_hook(h.vm, nullptr, nullptr);
    EXPECT_EQ(h.run("mov %r1, 2\nmov %r2, 3\ncall 1\nexit\n").r0, 5u);
}

TEST(CoreTest, AccessTrapSaysWhatTheRunLoopSays)
{
    Harness h;
    auto r = h.run("mov %r0, 0\nldxw %r0, [%r1+254]\nexit\n");
    ASSERT_EQ(r.status, NICSIM_RUN_TRAP);
    struct nicsim_run t = {};
    EXPECT_EQ(nicsim_vm__access_trap(h.vm, h.progs.back(), 1, h.mem_addr + 254, 4, 0, &t),
              -EFAULT);
    EXPECT_EQ(t.status, r.status);
    EXPECT_EQ(t.trap.kind, r.trap.kind);
    EXPECT_EQ(t.trap.addr, r.trap.addr);
    EXPECT_STREQ(t.trap.msg, r.trap.msg);
    struct nicsim_run ok = {};
    EXPECT_EQ(nicsim_vm__access_trap(h.vm, h.progs.back(), 1, h.mem_addr + 252, 4, 1, &ok), 0);
    EXPECT_EQ(ok.status, NICSIM_RUN_OK);
}
