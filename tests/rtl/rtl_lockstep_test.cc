// SPDX-License-Identifier: MIT
// Random programs, C model against RTL in lockstep: every executed instruction's pc, retire
// cycle and written register value, the final memory block, r0, counts and traps must agree.
//
// The generator writes valid programs over every instruction class: ALU and byte order (32 and
// 64 bit, K and X), MUL/DIV/MOD signed and unsigned with 0, -1 and INT_MIN operands, LDDW,
// loads (sign-extending too), stores and atomics on the memory block (r1) and the stack (r10),
// unaligned and sometimes out of bounds (traps), forward and backward branches and jumps (loops
// end at the watchdog, budgets are small), may_goto (its counter never runs out within these
// budgets: MayGotoCounters tests that), local calls (recursion ends at the call-depth trap),
// helpers (5: continuing, or ending the run with r1 = 0; 6: unit cycles; 7: a helper fault; 8:
// a copy between the stack and the block that must see and change the RTL's memory)
// and callx to a helper that exists or not; the memory block is sometimes map-like (latency
// 2-4) or read-only.
// NICSIM_RTL_SEED picks the seed (printed), NICSIM_RTL_PROGRAMS the count (default 1000; the
// soak knob: set it to 100000).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "bpfconf.h"
#include "nicsim/core.h"
#include "nicsim/isa.h"
#include "rtl.h"
}

namespace
{

nicsim_insn I(uint8_t code, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
    nicsim_insn i{};
    i.code = code;
    i.dst = dst & 15;
    i.src = src & 15;
    i.off = off;
    i.imm = imm;
    return i;
}

struct Gen {
    std::mt19937_64 rng;
    explicit Gen(uint64_t seed) : rng(seed) {}
    uint64_t u(uint64_t n) { return rng() % n; }
    bool p(unsigned pct) { return u(100) < pct; }

    unsigned wreg() // registers a program may write: never r1 (the block) or r10
    {
        static const unsigned r[] = {0, 2, 3, 4, 5, 6, 7, 8, 9};
        return r[u(9)];
    }
    unsigned rreg() { return (unsigned)u(11); }
    int32_t imm()
    {
        static const int32_t special[] = {0, 1, -1, 2, 7, 31, 32, 63, 64, INT32_MIN, INT32_MAX,
                                          0x10000, 0xff, 0x7fff};
        return p(40) ? special[u(sizeof(special) / sizeof(special[0]))] : (int32_t)rng();
    }

    // a memory operand: base register and offset, usually in bounds
    void mem(size_t memlen, unsigned size, unsigned &base, int16_t &off)
    {
        if (p(50)) {
            base = 1;
            off = (int16_t)(p(93) ? u(memlen - size + 1) : (int64_t)u(memlen + 16) - 8);
        } else {
            base = 10;
            off = (int16_t)(p(93) ? -(int64_t)(1 + u(600 - size)) - 0 : (int64_t)u(16) - 8);
            if (off < 0 && off > -(int16_t)size)
                off = -(int16_t)size;
        }
    }

    std::vector<nicsim_insn> program(size_t memlen)
    {
        std::vector<nicsim_insn> main, sub;
        std::vector<size_t> jumps; // slots in main whose offsets are fixed up later
        size_t body = 8 + u(40);
        static const uint8_t alu_ops[] = {0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9,
                                          0xa, 0xb, 0xc};
        static const uint8_t sizes[] = {0x00, 0x08, 0x10, 0x18}; // W H B DW
        static const unsigned bytes[] = {4, 2, 1, 8};
        static const uint8_t jops[] = {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0xa, 0xb, 0xc, 0xd};
        static const int32_t amo[] = {0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1};
        auto emit_alu = [&](std::vector<nicsim_insn> &v) {
            uint8_t cls = p(50) ? 0x07 : 0x04;
            uint8_t op = alu_ops[u(sizeof(alu_ops))];
            bool x = p(50);
            int16_t off = 0;
            if ((op == 0x3 || op == 0x9) && p(50))
                off = 1; // SDIV, SMOD
            if (op == 0xb && x && p(40))
                off = cls == 0x07 ? (int16_t)(8 << u(3)) : (int16_t)(8 << u(2)); // MOVSX
            if (op == 0x8)
                x = false; // NEG has no X form
            v.push_back(I((uint8_t)(cls | (x ? 0x08 : 0) | op << 4), wreg(), x ? rreg() : 0, off,
                          x || op == 0x8 ? 0 : imm()));
        };
        for (size_t k = 0; k < body; k++) {
            unsigned what = (unsigned)u(100);
            unsigned base;
            int16_t off;
            if (what < 35) {
                emit_alu(main);
            } else if (what < 40) { // byte order
                static const int32_t w[] = {16, 32, 64};
                uint8_t code = p(33) ? 0xd7 : (p(50) ? 0xd4 : 0xdc);
                main.push_back(I(code, wreg(), 0, 0, w[u(3)]));
            } else if (what < 44) { // LDDW
                uint64_t v = rng();
                main.push_back(I(0x18, wreg(), 0, 0, (int32_t)v));
                main.push_back(I(0, 0, 0, 0, (int32_t)(v >> 32)));
            } else if (what < 56) { // loads
                unsigned s = (unsigned)u(4);
                bool sx = s != 3 && p(30);
                mem(memlen, bytes[s], base, off);
                main.push_back(I((uint8_t)((sx ? 0x81 : 0x61) | sizes[s]), wreg(), base, off, 0));
            } else if (what < 64) { // stores
                unsigned s = (unsigned)u(4);
                mem(memlen, bytes[s], base, off);
                if (p(50))
                    main.push_back(I((uint8_t)(0x62 | sizes[s]), base, 0, off, imm()));
                else
                    main.push_back(I((uint8_t)(0x63 | sizes[s]), base, rreg(), off, 0));
            } else if (what < 68) { // atomics
                bool dw = p(50);
                mem(memlen, dw ? 8 : 4, base, off);
                main.push_back(I(dw ? 0xdb : 0xc3, base, wreg(), off, amo[u(10)]));
            } else if (what < 80) { // conditional branches, forward or back
                uint8_t cls = p(50) ? 0x05 : 0x06;
                bool x = p(50);
                jumps.push_back(main.size());
                main.push_back(I((uint8_t)(cls | (x ? 0x08 : 0) | jops[u(11)] << 4), rreg(),
                                 x ? rreg() : 0, 0, x ? 0 : imm() % 16));
            } else if (what < 83) { // JA, JA32, may_goto
                jumps.push_back(main.size());
                unsigned k = (unsigned)u(3);
                main.push_back(k == 0 ? I(0x05, 0, 0, 0, 0)
                                      : k == 1 ? I(0x06, 0, 0, 0, 0) : I(0xe5, 0, 0, 0, 0));
            } else if (what < 88) { // local call
                main.push_back(I(0x85, 0, 1, 0, 0)); // target fixed up below
                main.back().off = 0x7fff;              // marker: call to the subprogram
            } else if (what < 92) { // helper 5
                if (p(15))
                    main.push_back(I(0xb7, 1, 0, 0, 0)); // r1 = 0: the helper ends the run
                main.push_back(I(0x85, 0, 0, 0, p(50) ? 5 : (int32_t)(6 + u(2))));
            } else if (what < 96 && p(50)) { // helper 8 on program memory
                // r2 = destination, r3 = source (stack or block, sometimes out of bounds), r4 =
                // length: the helper must see and change the RTL's memory as the C model's
                unsigned n = (unsigned)u(32);
                for (unsigned reg = 2; reg <= 3; reg++) {
                    bool stack = p(50);
                    int32_t o = stack ? -(int32_t)(n + u(480)) - 1
                                     : (int32_t)u(memlen >= n ? memlen - n + 1 : 1);
                    if (p(5))
                        o += p(50) ? 600 : -600; // out of the region: the helper traps
                    main.push_back(I(0xbf, reg, stack ? 10 : 1, 0, 0));
                    main.push_back(I(0x07, reg, 0, 0, o));
                }
                main.push_back(I(0xb7, 4, 0, 0, (int32_t)n));
                main.push_back(I(0x85, 0, 0, 0, 8));
            } else if (what < 94) { // callx
                main.push_back(I(0xb7, 3, 0, 0, p(70) ? (int32_t)(5 + u(3)) : 77));
                main.push_back(I(0x8d, 3, 0, 0, 0));
            } else { // mul/div with special operands
                main.push_back(I(0xb7, 4, 0, 0, p(50) ? INT32_MIN : -1));
                emit_alu(main);
            }
        }
        main.push_back(I(0x95, 0, 0, 0, 0));
        // the subprogram: a few ALU ops and memory accesses on its own frame, maybe recursion
        size_t sub_at = main.size();
        size_t n_sub = 1 + u(5);
        for (size_t k = 0; k < n_sub; k++) {
            if (p(30)) {
                unsigned base;
                int16_t off;
                mem(memlen, 8, base, off);
                sub.push_back(I(0x7b, 10, wreg(), -8, 0));
            } else {
                emit_alu(sub);
            }
        }
        if (p(20))
            sub.push_back(I(0x85, 0, 1, 0, -(int32_t)sub.size() - 1)); // recurse
        sub.push_back(I(0x95, 0, 0, 0, 0));

        // fix up: valid jump targets are instruction starts in main (not LDDW second halves)
        std::vector<size_t> starts;
        for (size_t k = 0; k < main.size(); k++) {
            starts.push_back(k);
            if (main[k].code == 0x18)
                k++;
        }
        for (size_t j : jumps) {
            int64_t t = (int64_t)starts[u(starts.size())];
            int64_t rel = t - (int64_t)j - 1;
            if (main[j].code == 0x06)
                main[j].imm = (int32_t)rel; // JA32 takes its offset in imm
            else
                main[j].off = (int16_t)rel;
        }
        for (size_t k = 0; k < main.size(); k++)
            if (main[k].code == 0x85 && main[k].src == 1 && main[k].off == 0x7fff) {
                main[k].off = 0;
                main[k].imm = (int32_t)((int64_t)sub_at - (int64_t)k - 1);
            }
        main.insert(main.end(), sub.begin(), sub.end());
        return main;
    }
};

// Helpers of the lockstep environment: 5 as bpf_conformance's; 6 adds r1 and r2 and costs
// r3 & 15 unit cycles; 7 faults when r2 is odd (a helper trap), else returns r2.
void helper_add(struct nicsim_vm *, void *, const uint64_t a[5], struct nicsim_helper_out *o)
{
    o->ret = a[0] + a[1];
    o->cycles = (uint32_t)(a[2] & 15);
}
void helper_picky(struct nicsim_vm *, void *, const uint64_t a[5], struct nicsim_helper_out *o)
{
    o->ret = a[1];
    o->cycles = 3;
    if (a[1] & 1) {
        o->action = NICSIM_HELPER_TRAP;
        snprintf(o->trap_msg, sizeof(o->trap_msg), "odd r2");
    }
}
// 8 copies r4 bytes from r3 to r2 (program memory: block or stack) and returns the sum of the
// bytes it read; an address out of its region is a helper fault.
void helper_xfer(struct nicsim_vm *vm, void *, const uint64_t a[5], struct nicsim_helper_out *o)
{
    uint32_t n = (uint32_t)a[3] & 31; // r4 is arbitrary when a jump lands on the call
    const uint8_t *src = (const uint8_t *)nicsim_vm__translate(vm, a[2], n ? n : 1, 0);
    uint8_t *dst = (uint8_t *)nicsim_vm__translate(vm, a[1], n ? n : 1, 1);
    o->cycles = 2 + (n + 7) / 8;
    if (!src || !dst) {
        o->action = NICSIM_HELPER_TRAP;
        snprintf(o->trap_msg, sizeof(o->trap_msg), "xfer: address out of its region");
        return;
    }
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum = sum * 31 + src[i];
    memmove(dst, src, n);
    o->ret = sum;
}
const struct nicsim_helper *lockstep_helpers()
{
    static struct nicsim_helper h[NICSIM_MAX_HELPERS];
    if (!h[5].fn) {
        memcpy(h, nicsim_bpfconf_helpers(), sizeof(h));
        h[6] = {"add", helper_add, nullptr};
        h[7] = {"picky", helper_picky, nullptr};
        h[8] = {"xfer", helper_xfer, nullptr};
    }
    return h;
}

struct Rec {
    uint32_t pc;
    uint64_t cycle;
    uint64_t value;
};

void collect(void *user, const struct nicsim_trace_rec *rec)
{
    static_cast<std::vector<Rec> *>(user)->push_back({rec->pc, rec->cycle, rec->dst_value});
}

std::string dump(const std::vector<nicsim_insn> &p)
{
    std::string s;
    char b[64];
    for (size_t i = 0; i < p.size(); i++) {
        snprintf(b, sizeof(b), "%3zu: %02x %x %x %6d %d\n", i, p[i].code, p[i].dst, p[i].src,
                 p[i].off, p[i].imm);
        s += b;
    }
    return s;
}

TEST(RtlLockstep, RandomProgramsAgreeInstructionByInstruction)
{
    uint64_t seed = getenv("NICSIM_RTL_SEED") ? strtoull(getenv("NICSIM_RTL_SEED"), nullptr, 0)
                                              : 20261207;
    unsigned count =
        getenv("NICSIM_RTL_PROGRAMS") ? (unsigned)atoi(getenv("NICSIM_RTL_PROGRAMS")) : 1000;
    printf("RtlLockstep: seed %llu, %u programs (NICSIM_RTL_SEED, NICSIM_RTL_PROGRAMS)\n",
           (unsigned long long)seed, count);
    Gen g(seed);
    nicsim_rtl *rtl = nicsim_rtl__new();
    ASSERT_NE(rtl, nullptr);
    unsigned traps = 0, watchdogs = 0, oks = 0;
    for (unsigned t = 0; t < count; t++) {
        size_t memlen = 16 + 8 * g.u(16);
        std::vector<uint8_t> mem(memlen);
        for (auto &b : mem)
            b = (uint8_t)g.rng();
        std::vector<nicsim_insn> prog = g.program(memlen);
        uint64_t budget = 20 + g.u(400);
        unsigned latency = g.p(30) ? 2 + (unsigned)g.u(3) : 1; // map-like block sometimes
        bool readonly = g.p(10);                                 // stores to it trap

        // C model: the bpf_conformance environment, with the block visible afterwards
        std::vector<nicsim_isa_insn> dec(prog.size());
        nicsim_isa_err err{};
        ASSERT_EQ(nicsim_isa_decode(prog.data(), prog.size(), dec.data(), &err), 0)
            << "program " << t << ": " << err.msg << "\n"
            << dump(prog);
        nicsim_prog_opts po{};
        po.sz = sizeof(po);
        po.helpers = lockstep_helpers();
        po.name = "prog";
        nicsim_prog *cp = nicsim_prog__load(dec.data(), dec.size(), &po, &err);
        ASSERT_NE(cp, nullptr) << "program " << t << ": " << err.msg << "\n" << dump(prog);
        nicsim_vm_opts vo{};
        vo.sz = sizeof(vo);
        vo.budget = budget;
        nicsim_vm *vm = nicsim_vm__new(&vo);
        std::vector<uint8_t> cmem = mem;
        nicsim_region r{};
        r.host = cmem.data();
        r.hi = (uint32_t)memlen;
        r.kind = NICSIM_RGN_MEM;
        r.writable = !readonly;
        r.latency = (uint8_t)latency;
        uint64_t r1 = nicsim_addr((uint32_t)nicsim_vm__map(vm, &r), 0);
        std::vector<Rec> ct, rt;
        nicsim_vm__set_trace(vm, collect, &ct);
        nicsim_run c{}, rr{};
        nicsim_vm__run(vm, cp, r1, memlen, &c);
        nicsim_vm__free(vm);

        nicsim_rtl_block blk{latency, readonly};
        int rc = nicsim_rtl__run_conf(rtl, prog.data(), prog.size(), mem.data(), memlen, &blk,
                                      budget, lockstep_helpers(), collect, &rt, &rr, &err);
        ASSERT_NE(rc, -EINVAL) << err.msg;
        std::vector<uint8_t> rmem(memlen);
        ASSERT_EQ(nicsim_rtl__read_mem(rtl, rmem.data(), memlen), 0);

        std::string where = "program " + std::to_string(t) + " of seed " + std::to_string(seed) +
                            " (budget " + std::to_string(budget) + ", latency " +
                            std::to_string(latency) + (readonly ? ", read-only" : "") + ")\n" + dump(prog) +
                            "C: " + c.trap.msg + "\nRTL: " + rr.trap.msg;
        size_t n = std::min(ct.size(), rt.size());
        for (size_t i = 0; i < n; i++) {
            const nicsim_isa_insn &in = dec[ct[i].pc];
            enum nicsim_op_class k = nicsim_isa_op_class((enum nicsim_op)in.op);
            bool writes_dst = k == NICSIM_CLASS_ALU || k == NICSIM_CLASS_MULDIV ||
                              k == NICSIM_CLASS_LOAD || k == NICSIM_CLASS_LDDW;
            bool trapped = i + 1 == ct.size() && c.status == NICSIM_RUN_TRAP;
            ASSERT_EQ(rt[i].pc, ct[i].pc) << "record " << i << " " << where;
            ASSERT_EQ(rt[i].cycle, ct[i].cycle)
                << "record " << i << " pc " << ct[i].pc << " (cycles " << ct[i].cycle - 5
                << ".." << ct[i].cycle << " in a waveform) " << where;
            if (writes_dst && !trapped) {
                ASSERT_EQ(rt[i].value, ct[i].value) << "record " << i << " pc " << ct[i].pc
                                                    << " register r" << (int)in.dst << " "
                                                    << where;
            }
        }
        ASSERT_EQ(rt.size(), ct.size()) << where;
        ASSERT_EQ(rr.status, c.status) << where;
        ASSERT_EQ(rr.r0, c.r0) << where;
        ASSERT_EQ(rr.insns, c.insns) << where;
        ASSERT_EQ(rr.cycles, c.cycles) << where;
        ASSERT_EQ(rr.stalls.load_use, c.stalls.load_use) << where;
        ASSERT_EQ(rr.stalls.memory, c.stalls.memory) << where;
        ASSERT_EQ(rr.stalls.branch, c.stalls.branch) << where;
        ASSERT_EQ(rr.stalls.jump, c.stalls.jump) << where;
        ASSERT_EQ(rr.stalls.call, c.stalls.call) << where;
        ASSERT_EQ(rr.stalls.muldiv, c.stalls.muldiv) << where;
        ASSERT_EQ(rr.stalls.helper, c.stalls.helper) << where;
        ASSERT_EQ(rr.trap.kind, c.trap.kind) << where;
        ASSERT_EQ(rr.trap.pc, c.trap.pc) << where;
        if (c.trap.kind == NICSIM_TRAP_BOUNDS || c.trap.kind == NICSIM_TRAP_UNMAPPED ||
            c.trap.kind == NICSIM_TRAP_READONLY) {
            ASSERT_EQ(rr.trap.addr, c.trap.addr) << where;
            ASSERT_EQ(rr.trap.size, c.trap.size) << where;
            ASSERT_EQ(rr.trap.is_write, c.trap.is_write) << where;
        }
        ASSERT_EQ(rmem, cmem) << "memory block " << where;
        traps += c.status == NICSIM_RUN_TRAP;
        watchdogs += c.status == NICSIM_RUN_WATCHDOG;
        oks += c.status == NICSIM_RUN_OK;
        nicsim_prog__free(cp);
    }
    nicsim_rtl__free(rtl);
    printf("RtlLockstep: %u ended normally, %u trapped, %u hit the watchdog\n", oks, traps,
           watchdogs);
    EXPECT_GT(oks, 0u);
    EXPECT_GT(traps, 0u);
    EXPECT_GT(watchdogs, 0u);
}

// may_goto's counter per frame (docs/microarchitecture.md 4a): the subprogram loops on
// may_goto until its counter runs out (8,388,608 times), returns, and the caller's may_goto
// must still fall through on the caller's own counter; both models must agree on r0, the
// counts, the cycles and the stall breakdown (no trace: 25 million instructions).
TEST(RtlLockstep, MayGotoCountersArePerFrameAndRunOut)
{
    const char *text = "mov %r6, 0\n"
                       "call local f\n"
                       "mov %r6, %r0\n"
                       "may_goto +1\n"        /* the caller's counter is untouched: falls through */
                       "add %r6, 1000\n"
                       "mov %r0, %r6\n"
                       "exit\n"
                       "f:\n"
                       "mov %r0, 0\n"
                       "loop:\n"
                       "may_goto +2\n"
                       "add %r0, 1\n"
                       "ja loop\n"
                       "exit\n";
    nicsim_insn *raw = nullptr;
    size_t n = 0;
    nicsim_isa_err err{};
    ASSERT_EQ(nicsim_asm(text, &raw, &n, &err), 0) << err.msg;
    std::vector<nicsim_isa_insn> dec(n);
    ASSERT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0) << err.msg;
    nicsim_prog_opts po{};
    po.sz = sizeof(po);
    po.name = "prog";
    nicsim_prog *cp = nicsim_prog__load(dec.data(), n, &po, &err);
    ASSERT_NE(cp, nullptr) << err.msg;
    nicsim_vm_opts vo{};
    vo.sz = sizeof(vo);
    vo.budget = 100000000;
    nicsim_vm *vm = nicsim_vm__new(&vo);
    nicsim_run c{}, r{};
    nicsim_vm__run(vm, cp, 0, 0, &c);
    nicsim_vm__free(vm);
    ASSERT_EQ(c.status, NICSIM_RUN_OK) << c.trap.msg;
    ASSERT_EQ(c.r0, 8388608u + 1000u); // the loop ran until the counter was 0

    nicsim_rtl *rtl = nicsim_rtl__new();
    ASSERT_NE(rtl, nullptr);
    ASSERT_EQ(nicsim_rtl__run_conf(rtl, raw, n, nullptr, 0, nullptr, vo.budget, nullptr,
                                   nullptr, nullptr, &r, &err),
              0)
        << err.msg << r.trap.msg;
    nicsim_rtl__free(rtl);
    free(raw);
    nicsim_prog__free(cp);
    EXPECT_EQ(r.r0, c.r0);
    EXPECT_EQ(r.insns, c.insns);
    EXPECT_EQ(r.cycles, c.cycles);
    EXPECT_EQ(0, memcmp(&r.stalls, &c.stalls, sizeof(r.stalls))) << "stall breakdown";
}

// Tail calls: two programs calling each other through a tail-call helper; the 34th tail call
// fails (the kernel's limit) and falls through with r0 = 0. Both models must agree on r0, the
// counts, the stalls and the trace (program, pc, cycle).
const struct nicsim_prog *g_tail_targets[2];
void helper_tail(struct nicsim_vm *, void *, const uint64_t a[5], struct nicsim_helper_out *o)
{
    o->cycles = 4;
    o->action = NICSIM_HELPER_TAIL_CALL;
    o->tail = g_tail_targets[a[1] & 1];
}

struct TRec {
    const nicsim_prog *prog;
    uint32_t pc;
    uint64_t cycle;
};
void tcollect(void *user, const struct nicsim_trace_rec *rec)
{
    static_cast<std::vector<TRec> *>(user)->push_back({rec->prog, rec->pc, rec->cycle});
}

TEST(RtlLockstep, TailCallsSwitchProgramsAndStopAtTheKernelLimit)
{
    static struct nicsim_helper h[NICSIM_MAX_HELPERS];
    h[12] = {"tail_call", helper_tail, nullptr};
    const char *text[2] = {"add %r6, 1\nmov %r2, 1\ncall 12\nmov %r0, %r6\nexit\n",
                           "add %r6, 2\nldxdw %r3, [%r10-8]\nmov %r2, 0\ncall 12\n"
                           "mov %r0, %r6\nadd %r0, 1000\nexit\n"};
    nicsim_prog *progs[2];
    for (int k = 0; k < 2; k++) {
        nicsim_insn *raw = nullptr;
        size_t n = 0;
        nicsim_isa_err err{};
        ASSERT_EQ(nicsim_asm(text[k], &raw, &n, &err), 0) << err.msg;
        std::vector<nicsim_isa_insn> dec(n);
        ASSERT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0) << err.msg;
        free(raw);
        nicsim_prog_opts po{};
        po.sz = sizeof(po);
        po.helpers = h;
        po.name = k ? "b" : "a";
        progs[k] = nicsim_prog__load(dec.data(), n, &po, &err);
        ASSERT_NE(progs[k], nullptr) << err.msg;
        g_tail_targets[k] = progs[k];
    }
    std::vector<TRec> ct, rt;
    nicsim_vm_opts vo{};
    vo.sz = sizeof(vo);
    nicsim_vm *vm = nicsim_vm__new(&vo);
    nicsim_vm__set_trace(vm, tcollect, &ct);
    nicsim_run c{}, r{};
    nicsim_vm__run(vm, progs[0], 0, 0, &c);
    nicsim_vm__free(vm);

    nicsim_rtl *rtl = nicsim_rtl__new();
    ASSERT_NE(rtl, nullptr);
    nicsim_isa_err err{};
    const nicsim_prog *image[2] = {progs[0], progs[1]};
    ASSERT_NE(nicsim_rtl__run_image(rtl, image, 2, nullptr, 0, nullptr, 0, h, tcollect, &rt, &r,
                                    &err),
              -EINVAL)
        << err.msg;
    nicsim_rtl__free(rtl);

    ASSERT_EQ(c.status, NICSIM_RUN_OK) << c.trap.msg;
    EXPECT_EQ(c.tail_calls, (uint32_t)NICSIM_MAX_TAIL_CALLS);
    EXPECT_EQ(r.status, c.status) << r.trap.msg;
    EXPECT_EQ(r.r0, c.r0);
    EXPECT_EQ(r.tail_calls, c.tail_calls);
    EXPECT_EQ(r.insns, c.insns);
    EXPECT_EQ(r.cycles, c.cycles);
    EXPECT_EQ(0, memcmp(&r.stalls, &c.stalls, sizeof(r.stalls))) << "stall breakdown";
    ASSERT_EQ(rt.size(), ct.size());
    for (size_t i = 0; i < ct.size(); i++) {
        ASSERT_EQ(rt[i].prog, ct[i].prog) << "record " << i;
        ASSERT_EQ(rt[i].pc, ct[i].pc) << "record " << i;
        ASSERT_EQ(rt[i].cycle, ct[i].cycle) << "record " << i;
    }
    nicsim_prog__free(progs[0]);
    nicsim_prog__free(progs[1]);
}

} // namespace

// ebpf_helper: with the NIC's helper numbering (nicsim_rtl__run_vm, XDP runs), the core answers
// get_smp_processor_id (NICSIM_HW_SMP_ID = 6) itself: the harness's helper is never called, r0
// is the vm's core id and the cycles are the C model's (1 unit cycle + the handshake). In the
// conformance numbering (run_conf) the same id goes out through the port.
int g_port_calls;
void helper_port_smp(struct nicsim_vm *vm, void *, const uint64_t *, struct nicsim_helper_out *o)
{
    g_port_calls++;
    o->ret = nicsim_vm__core_id(vm) + 100; // what the C model's run below returns
    o->cycles = 1;
}

TEST(RtlLockstep, SmpProcessorIdIsAnsweredInsideTheCore)
{
    const char *text = "mov %r1, 7\ncall 6\nmov %r6, %r0\ncall 6\nadd %r0, %r6\nexit\n";
    nicsim_insn *raw = nullptr;
    size_t n = 0;
    nicsim_isa_err err{};
    ASSERT_EQ(nicsim_asm(text, &raw, &n, &err), 0) << err.msg;
    std::vector<nicsim_isa_insn> dec(n);
    ASSERT_EQ(nicsim_isa_decode(raw, n, dec.data(), &err), 0) << err.msg;
    static nicsim_helper helpers[NICSIM_MAX_HELPERS] = {};
    helpers[6] = {"get_smp_processor_id", helper_port_smp, nullptr};
    nicsim_prog_opts po{};
    po.sz = sizeof(po);
    po.name = "prog";
    po.helpers = helpers;
    nicsim_prog *cp = nicsim_prog__load(dec.data(), n, &po, &err);
    ASSERT_NE(cp, nullptr) << err.msg;
    nicsim_vm_opts vo{};
    vo.sz = sizeof(vo);
    vo.core_id = 5;
    nicsim_vm *vm = nicsim_vm__new(&vo);
    nicsim_run c{}, r{};
    nicsim_vm__run(vm, cp, 0, 0, &c); // the C model, through its helper: 105 + 105
    ASSERT_EQ(g_port_calls, 2);
    nicsim_rtl *rtl = nicsim_rtl__new();
    ASSERT_NE(rtl, nullptr);
    nicsim_vm__set_backend(vm, nicsim_rtl__run_vm, rtl);
    g_port_calls = 0;
    nicsim_vm__run(vm, cp, 0, 0, &r);
    EXPECT_EQ(g_port_calls, 0) << "the helper port saw get_smp_processor_id";
    EXPECT_EQ(r.status, NICSIM_RUN_OK) << r.trap.msg;
    EXPECT_EQ(r.r0, 10u) << "r0 = the core id (5), twice";
    EXPECT_EQ(r.cycles, c.cycles);
    EXPECT_EQ(r.insns, c.insns);
    EXPECT_EQ(0, memcmp(&r.stalls, &c.stalls, sizeof(r.stalls))) << "stall breakdown";
    // the conformance numbering: id 6 is the environment's own helper, through the port
    nicsim_run k{};
    ASSERT_EQ(nicsim_rtl__run_conf(rtl, raw, n, nullptr, 0, nullptr, 0, helpers, nullptr, nullptr,
                                   &k, &err),
              0)
        << err.msg << k.trap.msg;
    EXPECT_EQ(g_port_calls, 2);
    EXPECT_EQ(k.r0, 200u); // core id 0 + 100, twice
    nicsim_rtl__free(rtl);
    nicsim_vm__free(vm);
    nicsim_prog__free(cp);
    free(raw);
}
