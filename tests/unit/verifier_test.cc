// SPDX-License-Identifier: MIT
// The kernel emulation's verifier: each refusal with its instruction index, errno and message;
// the order in which it drives a driver's offload callbacks (recorded by a fake ops table); the
// dead-code optimisation; and the cross-check against the host kernel's verifier.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nicsim/kern.h"
#include "offload_insns.h"

using namespace ins;

namespace
{

// A fake offload device whose callbacks record what the verifier asks, in order.
struct Recorder {
    std::vector<std::string> events;
    int fail_prepare = 0;
    int fail_hook_at = -1;
    int fail_finalize = 0;
    int fail_translate = 0;
    std::vector<nicsim_insn> final_insns; // what translate saw
};

Recorder *rec_of(nicsim_bpf_prog *prog)
{
    return static_cast<Recorder *>(nicsim_bpf_offload_dev_priv(prog->aux->offload->offdev));
}

int fake_prepare(nicsim_bpf_prog *prog)
{
    Recorder *r = rec_of(prog);
    r->events.push_back("prepare");
    return r->fail_prepare;
}
int fake_hook(nicsim_verifier_env *env, int idx, int prev)
{
    Recorder *r = rec_of(env->prog);
    r->events.push_back("hook " + std::to_string(idx) + " " + std::to_string(prev));
    if (idx == r->fail_hook_at) {
        nicsim_verifier_log(env, "fake device refuses insn %d", idx);
        return -EOPNOTSUPP;
    }
    return 0;
}
int fake_finalize(nicsim_verifier_env *env)
{
    Recorder *r = rec_of(env->prog);
    r->events.push_back("finalize");
    return r->fail_finalize;
}
int fake_replace(nicsim_verifier_env *env, uint32_t off, nicsim_insn *insn)
{
    Recorder *r = rec_of(env->prog);
    r->events.push_back("replace " + std::to_string(off) + " code=" + std::to_string(insn->code) +
                        " off=" + std::to_string(insn->off));
    return 0;
}
int fake_remove(nicsim_verifier_env *env, uint32_t off, uint32_t cnt)
{
    Recorder *r = rec_of(env->prog);
    r->events.push_back("remove " + std::to_string(off) + " " + std::to_string(cnt));
    return 0;
}
int fake_translate(nicsim_bpf_prog *prog)
{
    Recorder *r = rec_of(prog);
    r->events.push_back("translate");
    r->final_insns.assign(prog->insnsi, prog->insnsi + prog->len);
    return r->fail_translate;
}
void fake_destroy(nicsim_bpf_prog *prog)
{
    rec_of(prog)->events.push_back("destroy");
}

const nicsim_bpf_prog_offload_ops fake_ops = {
    fake_hook, fake_finalize, fake_replace, fake_remove, fake_prepare, fake_translate, fake_destroy,
};

// Offloaded maps of the fake device: accepted, no element storage.
int fake_noop_get_next(nicsim_bpf_map *, void *, void *)
{
    return -ENOENT;
}
int fake_noop_lookup(nicsim_bpf_map *, void *, void *)
{
    return -ENOENT;
}
int fake_noop_update(nicsim_bpf_map *, void *, void *, uint64_t)
{
    return 0;
}
int fake_noop_delete(nicsim_bpf_map *, void *)
{
    return -ENOENT;
}
const nicsim_bpf_map_dev_ops fake_map_ops = {fake_noop_get_next, fake_noop_lookup, fake_noop_update,
                                             fake_noop_delete};

int fake_ndo_bpf(nicsim_netdev *, nicsim_netdev_bpf *bpf)
{
    if (bpf->command == NICSIM_BPF_OFFLOAD_MAP_ALLOC)
        bpf->offmap->dev_ops = &fake_map_ops;
    return 0;
}
const nicsim_netdev_ops fake_netdev_ops = {fake_ndo_bpf};

class VerifierTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        k = nicsim_kern__new(nullptr);
        ASSERT_NE(k, nullptr);
        offdev = nicsim_bpf_offload_dev_create(k, &fake_ops, &rec);
        ASSERT_NE(offdev, nullptr);
        dev = nicsim_kern_alloc_netdev(k, "fake0", &fake_netdev_ops, nullptr);
        ASSERT_NE(dev, nullptr);
        ASSERT_EQ(nicsim_kern_register_netdev(dev), 0);
        ASSERT_EQ(nicsim_bpf_offload_dev_netdev_register(offdev, dev), 0);
    }
    void TearDown() override
    {
        nicsim_kern_unregister_netdev(dev);
        nicsim_bpf_offload_dev_netdev_unregister(offdev, dev);
        nicsim_kern_free_netdev(dev);
        nicsim_bpf_offload_dev_destroy(offdev);
        nicsim_kern__free(k);
    }

    int host_map(uint32_t type = BPF_MAP_TYPE_ARRAY, uint32_t vs = 8, uint32_t max = 4)
    {
        auto a = map_attr(type, 4, vs, max);
        int fd = nicsim_kern_map_create(k, &a, nullptr);
        EXPECT_GE(fd, 0);
        return fd;
    }

    // Load as a host program; returns the errno (0 on success) and keeps the attr.
    int load(const Prog &p, const std::vector<int> &fds = {}, uint32_t ifindex = 0)
    {
        last = std::make_unique<Load>(p, fds, ifindex);
        int fd = nicsim_kern_prog_load(k, &last->attr);
        if (fd >= 0) {
            nicsim_kern_close(k, fd);
            return 0;
        }
        return fd;
    }
    void expect_refused(const Prog &p, int err, int insn, const std::string &msg,
                        const std::vector<int> &fds = {})
    {
        EXPECT_EQ(load(p, fds), err);
        EXPECT_EQ(last->attr.err_insn, insn);
        EXPECT_EQ(std::string(last->attr.err_msg), msg) << last->logs();
        EXPECT_NE(last->logs().find(msg), std::string::npos);
    }

    Recorder rec;
    nicsim_kern *k = nullptr;
    nicsim_bpf_offload_dev *offdev = nullptr;
    nicsim_netdev *dev = nullptr;
    std::unique_ptr<Load> last;
};

// ---- Accepted programs.

TEST_F(VerifierTest, AcceptsReturnConstant)
{
    EXPECT_EQ(load({mov64_imm(0, 2), exit_insn()}), 0) << last->logs();
    EXPECT_EQ(last->attr.err_insn, -1);
}

TEST_F(VerifierTest, AcceptsNullCheckedMapValueAndStackSpill)
{
    int m = host_map();
    Prog p;
    p.push_back(stx(BPF_DW, 10, 1, -16)); // spill ctx
    lookup_key0(p, 0);
    p.push_back(jmp_imm(BPF_JEQ, 0, 0, 1));
    p.push_back(ldx(BPF_DW, 3, 0, 0));    // map value read after the check
    p.push_back(ldx(BPF_DW, 1, 10, -16)); // fill ctx
    p.push_back(ldx(BPF_W, 2, 1, 0));     // ctx->data through the filled pointer
    p.push_back(mov64_imm(0, 2));
    p.push_back(exit_insn());
    EXPECT_EQ(load(p, {m}), 0) << last->logs();
}

TEST_F(VerifierTest, AcceptsBoundedLoopAndLocalCall)
{
    Prog p = {mov64_imm(6, 0),
              alu64_imm(BPF_ADD, 6, 1),
              jmp_imm(BPF_JNE, 6, 10, -2), // 10 iterations, decided by constants
              mov64_reg(1, 6),
              call_local(2),
              alu64_imm(BPF_AND, 0, 3),
              exit_insn(),
              mov64_reg(0, 1), // subprogram: return its argument
              exit_insn()};
    EXPECT_EQ(load(p), 0) << last->logs();
}

// ---- Structural refusals.

TEST_F(VerifierTest, RefusesUnreachableInsn)
{
    expect_refused({mov64_imm(0, 0), exit_insn(), mov64_imm(0, 1), exit_insn()}, -EINVAL, 2,
                   "unreachable insn 2");
}

TEST_F(VerifierTest, RefusesJumpOutOfRange)
{
    expect_refused({jmp_imm(BPF_JEQ, 1, 0, 5), mov64_imm(0, 0), exit_insn()}, -EINVAL, 0,
                   "jump out of range from insn 0 to 6");
}

TEST_F(VerifierTest, RefusesLastInsnNotExit)
{
    expect_refused({mov64_imm(0, 0), exit_insn(), mov64_imm(0, 0)}, -EINVAL, 2,
                   "last insn is not an exit or jmp");
}

TEST_F(VerifierTest, RefusesUnknownOpcode)
{
    expect_refused({mov64_imm(0, 0), raw(0xff, 0, 0, 0, 0), exit_insn()}, -EINVAL, 1,
                   "unknown opcode ff");
}

TEST_F(VerifierTest, RefusesJumpIntoLddw)
{
    Prog p = {jmp_imm(BPF_JEQ, 1, 0, 1)};
    ld_imm64(p, 0, 1);
    p.push_back(exit_insn());
    expect_refused(p, -EINVAL, 0, "jump into the middle of ldimm64 insn 1");
}

TEST_F(VerifierTest, RefusesLegacyPacketLoads)
{
    expect_refused({raw(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 12), exit_insn()}, -EINVAL, 0,
                   "BPF_LD_[ABS|IND] instructions not allowed for this program type");
}

TEST_F(VerifierTest, RefusesInfiniteLoop)
{
    expect_refused({mov64_imm(0, 0), jmp_imm(BPF_JEQ, 0, 0, -1), exit_insn()}, -EINVAL, 1,
                   "infinite loop detected at insn 1");
}

TEST_F(VerifierTest, RefusesProgramTooComplex)
{
    // A loop whose counter is a constant the walk follows, 2^20 times: more than 1M insns.
    Prog p = {mov64_imm(1, 0), alu64_imm(BPF_ADD, 1, 1), jmp_imm(BPF_JNE, 1, 1 << 20, -2),
              mov64_imm(0, 0), exit_insn()};
    expect_refused(p, -E2BIG, 2, "BPF program is too large. Processed 1000001 insn");
}

// Found by verifier_fuzz: a target computed as i + imm + 1 in int overflowed (UB) for imm near
// INT32_MAX before the range check.
TEST_F(VerifierTest, RefusesJumpAndCallTargetsBeyondInt)
{
    expect_refused({raw(BPF_JMP32 | BPF_JA, 0, 0, 0, INT32_MAX), mov64_imm(0, 0), exit_insn()},
                   -EINVAL, 0, "jump out of range from insn 0 to 2147483648");
    expect_refused({mov64_imm(0, 0), call_local(INT32_MAX), exit_insn()}, -EINVAL, 1,
                   "call to invalid destination");
}

// Found while bounding verifier_fuzz's time per input: eight frames with full stacks around a
// counting loop made every visit of the loop compare up to 64 checkpoints of ~4 KiB each (400 s
// for one load). The loop check
// now compares in full only states whose hashes match, and the work spent on states is limited:
// this program is refused long before the instruction limit.
TEST_F(VerifierTest, RefusesProgramWhoseStatesCostTooMuch)
{
    auto fill_stack = [](Prog &p) {
        for (int k = 0; k < 64; k++)
            p.push_back(st(BPF_DW, 10, (int16_t)(-8 * (k + 1)), k));
    };
    Prog p;
    for (int f = 0; f < 7; f++) { // each frame: fill its stack, call the next one
        fill_stack(p);
        p.push_back(call_local(2));
        p.push_back(mov64_imm(0, 0));
        p.push_back(exit_insn());
    }
    fill_stack(p);
    p.push_back(mov64_imm(0, 0));
    p.push_back(alu64_imm(BPF_ADD, 0, 1));
    p.push_back(jmp_imm(BPF_JNE, 0, INT32_MAX, -2));
    p.push_back(exit_insn());

    EXPECT_EQ(load(p), -E2BIG);
    const std::string msg = last->attr.err_msg;
    EXPECT_EQ(msg.rfind("BPF program is too complex: ", 0), 0u) << msg;
    size_t at = msg.find(" after ");
    ASSERT_NE(at, std::string::npos) << msg;
    unsigned long insns = std::stoul(msg.substr(at + 7));
    EXPECT_LT(insns, 1000000u) << msg; // the state work limit, not the instruction limit
}

// n subprograms that each call all the others once (r1 says whether to). The stack check, like
// the original one, takes every chain the call graph allows (main and 7 subprograms). Found while
// bounding verifier_fuzz's time per input: the stack depth check walked every chain of up to 8
// frames, n^7 steps (hours for n = 40).
Prog all_call_all(int n, int stack_bytes)
{
    const int main_len = 2 * n + 2, sub_len = 1 + 2 * (n - 1) + 2 + (stack_bytes ? 1 : 0);
    auto start = [&](int i) { return main_len + i * sub_len; };
    Prog p;
    for (int i = 0; i < n; i++) {
        p.push_back(mov64_imm(1, 1));
        p.push_back(call_local(start(i) - (int)p.size() - 1));
    }
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    for (int i = 0; i < n; i++) {
        if (stack_bytes)
            p.push_back(st(BPF_DW, 10, (int16_t)-stack_bytes, 0));
        p.push_back(jmp_imm(BPF_JEQ, 1, 0, (int16_t)(2 * (n - 1))));
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            p.push_back(mov64_imm(1, 0));
            p.push_back(call_local(start(j) - (int)p.size() - 1));
        }
        p.push_back(mov64_imm(0, 0));
        p.push_back(exit_insn());
    }
    return p;
}

TEST_F(VerifierTest, StackDepthOfManyMutuallyCallingSubprograms)
{
    Prog p = all_call_all(40, 64);
    last = std::make_unique<Load>(p);
    int fd = nicsim_kern_prog_load(k, &last->attr);
    ASSERT_GE(fd, 0) << last->logs();
    EXPECT_EQ(nicsim_kern_prog_by_fd(k, fd)->aux->stack_depth, 7 * 64u);
    nicsim_kern_close(k, fd);

    // main's 32 bytes (the kernel's rounding of an empty frame) and 7 frames of 96
    expect_refused(all_call_all(40, 72), -EACCES, -1,
                   "combined stack size of 8 calls is 704. Too large");
}

TEST_F(VerifierTest, RefusesTooManySubprograms)
{
    // main calls 256 distinct subprograms: with main, one more than BPF_MAX_SUBPROGS
    const int n = 256, main_len = n + 2;
    Prog p;
    for (int i = 0; i < n; i++)
        p.push_back(call_local(main_len + 2 * i - i - 1));
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    for (int i = 0; i < n; i++) {
        p.push_back(mov64_imm(0, 0));
        p.push_back(exit_insn());
    }
    expect_refused(p, -E2BIG, n - 1, "too many subprograms");
    p.erase(p.begin()); // 255 subprograms are fine
    p.erase(p.end() - 2, p.end());
    for (int i = 0; i < n - 1; i++)
        p[i] = call_local(main_len - 1 + 2 * i - i - 1);
    EXPECT_EQ(load(p), 0) << last->logs();
}

TEST_F(VerifierTest, RefusesInfiniteLoopInCalleeWithSpilledStack)
{
    // The loop check's hash covers every frame, spilled registers included.
    Prog p = {stx(BPF_DW, 10, 1, -8),     // main: spill ctx
              call_local(1),              // sub at 3
              exit_insn(),                //
              st(BPF_DW, 10, -16, 5),     // sub: a spilled constant
              mov64_imm(0, 0),            //
              jmp_imm(BPF_JEQ, 0, 0, -1), // 5: jumps to itself for ever
              exit_insn()};
    expect_refused(p, -EINVAL, 5, "infinite loop detected at insn 5");
}

// ---- Registers and stack.

TEST_F(VerifierTest, RefusesUninitialisedRegister)
{
    expect_refused({mov64_reg(0, 2), exit_insn()}, -EACCES, 0, "R2 !read_ok");
    expect_refused({exit_insn()}, -EACCES, 0, "R0 !read_ok");
}

TEST_F(VerifierTest, RefusesWriteToFramePointer)
{
    expect_refused({mov64_imm(10, 0), mov64_imm(0, 0), exit_insn()}, -EACCES, 0,
                   "frame pointer is read only");
}

TEST_F(VerifierTest, RefusesStackOutOfBounds)
{
    expect_refused({st(BPF_DW, 10, -520, 0), mov64_imm(0, 0), exit_insn()}, -EACCES, 0,
                   "invalid write to stack R10 off=-520 size=8");
    expect_refused({ldx(BPF_DW, 0, 10, 0), exit_insn()}, -EACCES, 0,
                   "invalid read from stack R10 off=0 size=8");
}

TEST_F(VerifierTest, UninitialisedStackReadIsRootsRightUnlessDenied)
{
    Prog p = {st(BPF_W, 10, -4, 0), ldx(BPF_DW, 0, 10, -8), exit_insn()};
    EXPECT_EQ(load(p), 0) << last->logs(); // the kernel lets root read unwritten stack

    nicsim_kern_opts o{};
    o.sz = sizeof(o);
    o.deny_uninit_stack = true;
    nicsim_kern *strict = nicsim_kern__new(&o);
    ASSERT_NE(strict, nullptr);
    Load l(p);
    EXPECT_EQ(nicsim_kern_prog_load(strict, &l.attr), -EACCES);
    EXPECT_EQ(l.attr.err_insn, 1);
    EXPECT_STREQ(l.attr.err_msg, "invalid read from stack off -8+0 size 8");

    // the same for a helper's key
    auto a = map_attr(BPF_MAP_TYPE_HASH, 4, 8, 4);
    int m = nicsim_kern_map_create(strict, &a, nullptr);
    ASSERT_GE(m, 0);
    Prog q = {mov64_reg(2, 10), alu64_imm(BPF_ADD, 2, -4)};
    ld_map_idx(q, 1, 0);
    q.push_back(call(BPF_FUNC_map_lookup_elem)); // insn 4
    q.push_back(mov64_imm(0, 0));
    q.push_back(exit_insn());
    Load l2(q, {m});
    EXPECT_EQ(nicsim_kern_prog_load(strict, &l2.attr), -EACCES);
    EXPECT_EQ(l2.attr.err_insn, 4);
    EXPECT_STREQ(l2.attr.err_msg, "invalid indirect read from stack R2 off -4+0 size 4");
    nicsim_kern__free(strict);
}

TEST_F(VerifierTest, RefusesDivisionByZeroAndBadShift)
{
    expect_refused({mov64_imm(0, 1), alu64_imm(BPF_DIV, 0, 0), exit_insn()}, -EINVAL, 1,
                   "div by zero");
    expect_refused({mov64_imm(0, 1), alu64_imm(BPF_LSH, 0, 64), exit_insn()}, -EINVAL, 1,
                   "invalid shift 64");
}

// ---- Pointer kinds.

TEST_F(VerifierTest, RefusesUncheckedMapValue)
{
    int m = host_map(BPF_MAP_TYPE_HASH);
    Prog p;
    lookup_key0(p, 0);
    p.push_back(ldx(BPF_DW, 0, 0, 0)); // insn 6
    p.push_back(exit_insn());
    expect_refused(p, -EACCES, 6, "R0 invalid mem access 'map_value_or_null'", {m});
}

TEST_F(VerifierTest, RefusesArithmeticOnMaybeNull)
{
    int m = host_map(BPF_MAP_TYPE_HASH);
    Prog p;
    lookup_key0(p, 0);
    p.push_back(alu64_imm(BPF_ADD, 0, 1)); // insn 6
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    expect_refused(p, -EACCES, 6,
                   "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
                   {m});
}

TEST_F(VerifierTest, ArrayLookupWithConstantKeyNeedsNoNullCheck)
{
    // can_elide_value_nullness: key 0 < max_entries of an array: the element exists
    int arr = host_map(BPF_MAP_TYPE_ARRAY);
    Prog p;
    lookup_key0(p, 0);
    p.push_back(ldx(BPF_DW, 0, 0, 0));
    p.push_back(exit_insn());
    EXPECT_EQ(load(p, {arr}), 0) << last->logs();
    // ... but not for a key past the end
    Prog q = {st(BPF_W, 10, -4, 9), mov64_reg(2, 10), alu64_imm(BPF_ADD, 2, -4)};
    ld_map_idx(q, 1, 0);
    q.push_back(call(BPF_FUNC_map_lookup_elem));
    q.push_back(ldx(BPF_DW, 0, 0, 0)); // insn 6
    q.push_back(exit_insn());
    expect_refused(q, -EACCES, 6, "R0 invalid mem access 'map_value_or_null'", {arr});
}

TEST_F(VerifierTest, RefusesMapValueOutOfBounds)
{
    int m = host_map(BPF_MAP_TYPE_ARRAY, 8);
    Prog p;
    lookup_key0(p, 0);
    p.push_back(jmp_imm(BPF_JEQ, 0, 0, 1));
    p.push_back(ldx(BPF_DW, 1, 0, 4)); // insn 7
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    expect_refused(p, -EACCES, 7, "invalid access to map value, value_size=8 off=4 size=8", {m});
}

TEST_F(VerifierTest, RefusesScalarDereference)
{
    expect_refused({mov64_imm(1, 64), ldx(BPF_W, 0, 1, 0), exit_insn()}, -EACCES, 1,
                   "R1 invalid mem access 'scalar'");
}

TEST_F(VerifierTest, RefusesBadContextAccesses)
{
    expect_refused({ldx(BPF_W, 0, 1, 24), exit_insn()}, -EACCES, 0,
                   "invalid bpf_context access off=24 size=4");
    expect_refused({ldx(BPF_DW, 0, 1, 0), exit_insn()}, -EACCES, 0,
                   "invalid bpf_context access off=0 size=8");
    // egress_ifindex is for devmap programs only
    expect_refused({ldx(BPF_W, 0, 1, 20), exit_insn()}, -EACCES, 0,
                   "invalid bpf_context access off=20 size=4");
    // a host program may not write the context
    expect_refused({mov64_imm(2, 0), stx(BPF_W, 1, 2, 16), mov64_imm(0, 0), exit_insn()}, -EACCES,
                   1, "invalid bpf_context access off=16 size=4");
    expect_refused({alu64_imm(BPF_ADD, 1, 4), ldx(BPF_W, 0, 1, 0), exit_insn()}, -EACCES, 1,
                   "dereference of modified ctx ptr R1 off=4 disallowed");
}

// ---- Helper calls.

TEST_F(VerifierTest, RefusesHelperArgumentTypes)
{
    int m = host_map();
    Prog p = {mov64_imm(1, 0),           mov64_reg(2, 10),
              alu64_imm(BPF_ADD, 2, -4), call(BPF_FUNC_map_lookup_elem),
              mov64_imm(0, 0),           exit_insn()};
    expect_refused(p, -EACCES, 3, "R1 type=scalar expected=map_ptr", {m});

    Prog q;
    ld_map_idx(q, 1, 0);
    q.push_back(mov64_imm(2, 0));
    q.push_back(call(BPF_FUNC_map_lookup_elem)); // insn 3
    q.push_back(mov64_imm(0, 0));
    q.push_back(exit_insn());
    expect_refused(q, -EACCES, 3, "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value",
                   {m});
}

TEST_F(VerifierTest, RefusesMapOfWrongTypeForHelper)
{
    int m = host_map(BPF_MAP_TYPE_ARRAY, 4);
    Prog p;
    ld_map_idx(p, 2, 0);
    p.push_back(mov64_imm(3, 0));
    p.push_back(call(BPF_FUNC_tail_call)); // insn 3
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    expect_refused(p, -EINVAL, 3, "cannot pass map_type 2 into func bpf_tail_call#12", {m});
}

TEST_F(VerifierTest, RefusesHelperXdpCannotUse)
{
    expect_refused({call(BPF_FUNC_get_current_pid_tgid), mov64_imm(0, 0), exit_insn()}, -EINVAL, 0,
                   "program of this type cannot use helper bpf_get_current_pid_tgid#14");
}

TEST_F(VerifierTest, RefusesBadMapReference)
{
    Prog p;
    p.push_back(raw(BPF_LD | BPF_IMM | BPF_DW, 1, NICSIM_LDDW_MAP_FD, 0, 42));
    p.push_back(raw(0, 0, 0, 0, 0));
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    expect_refused(p, -EBADF, 0, "fd 42 is not pointing to valid bpf_map");
}

// ---- Offload callbacks.

Prog branchy()
{
    // 0: r2 = ctx->ingress_ifindex  1: if r2 == 0 goto 3  2: r0 = 1  3: r0 = 2 (join)  4: exit
    return {ldx(BPF_W, 2, 1, 12), jmp_imm(BPF_JEQ, 2, 0, 1), mov64_imm(0, 1), mov64_imm(0, 2),
            exit_insn()};
}

TEST_F(VerifierTest, CallbackOrderForOffloadedProgram)
{
    Load l(branchy(), {}, (uint32_t)dev->ifindex);
    int fd = nicsim_kern_prog_load(k, &l.attr);
    ASSERT_GE(fd, 0) << l.logs();
    // prepare, then a hook per processed instruction on every path (the join at 3 twice, with
    // its two predecessors; the second visit of 3 is pruned only after enough history), then
    // finalize and translate.
    std::vector<std::string> want = {"prepare",  "hook 0 -1", "hook 1 0", "hook 2 1", "hook 3 2",
                                     "hook 4 3", "hook 3 1",  "hook 4 3", "finalize", "translate"};
    EXPECT_EQ(rec.events, want);
    nicsim_kern_close(k, fd);
    EXPECT_EQ(rec.events.back(), "destroy");
}

TEST_F(VerifierTest, HookRefusalStopsTheLoadAndDestroys)
{
    rec.fail_hook_at = 2;
    Load l(branchy(), {}, (uint32_t)dev->ifindex);
    EXPECT_EQ(nicsim_kern_prog_load(k, &l.attr), -EOPNOTSUPP);
    EXPECT_EQ(l.attr.err_insn, 2);
    EXPECT_STREQ(l.attr.err_msg, "fake device refuses insn 2");
    std::vector<std::string> want = {"prepare", "hook 0 -1", "hook 1 0", "hook 2 1", "destroy"};
    EXPECT_EQ(rec.events, want);
}

TEST_F(VerifierTest, PrepareRefusalSkipsEverythingElse)
{
    rec.fail_prepare = -ENOMEM;
    Load l(branchy(), {}, (uint32_t)dev->ifindex);
    EXPECT_EQ(nicsim_kern_prog_load(k, &l.attr), -ENOMEM);
    // prepare failed: the device has no state, destroy is not called
    EXPECT_EQ(rec.events, std::vector<std::string>{"prepare"});
}

TEST_F(VerifierTest, FinalizeAndTranslateRefusals)
{
    rec.fail_finalize = -E2BIG;
    Load a(branchy(), {}, (uint32_t)dev->ifindex);
    EXPECT_EQ(nicsim_kern_prog_load(k, &a.attr), -E2BIG);
    EXPECT_EQ(rec.events.back(), "destroy");
    EXPECT_EQ(rec.events[rec.events.size() - 2], "finalize");

    rec = Recorder{};
    rec.fail_translate = -EIO;
    Load b(branchy(), {}, (uint32_t)dev->ifindex);
    EXPECT_EQ(nicsim_kern_prog_load(k, &b.attr), -EIO);
    EXPECT_EQ(rec.events[rec.events.size() - 2], "translate");
    EXPECT_EQ(rec.events.back(), "destroy");
}

TEST_F(VerifierTest, DeviceRefusalsAreExplainedAtEveryLogLevel)
{
    // with log_level 1 the log ends in "processed N insns": the refusal must still be the last
    // message
    for (uint32_t level : {0u, 1u, 2u}) {
        rec = Recorder{};
        rec.fail_prepare = -ENOMEM;
        Load p(branchy(), {}, (uint32_t)dev->ifindex);
        p.attr.log_level = level;
        EXPECT_EQ(nicsim_kern_prog_load(k, &p.attr), -ENOMEM);
        EXPECT_STREQ(p.attr.err_msg, "device refused the program (-12)") << level;

        rec = Recorder{};
        rec.fail_finalize = -E2BIG;
        Load f(branchy(), {}, (uint32_t)dev->ifindex);
        f.attr.log_level = level;
        EXPECT_EQ(nicsim_kern_prog_load(k, &f.attr), -E2BIG);
        EXPECT_STREQ(f.attr.err_msg, "device refused the program at finalize (-7)") << level;

        rec = Recorder{};
        rec.fail_translate = -EIO;
        Load t(branchy(), {}, (uint32_t)dev->ifindex);
        t.attr.log_level = level;
        EXPECT_EQ(nicsim_kern_prog_load(k, &t.attr), -EIO);
        EXPECT_STREQ(t.attr.err_msg, "offloaded program translation failed (-5)") << level;
    }
}

TEST_F(VerifierTest, NoCallbacksForHostPrograms)
{
    EXPECT_EQ(load(branchy()), 0);
    EXPECT_TRUE(rec.events.empty());
}

TEST_F(VerifierTest, DeadCodeIsHardWiredAndRemoved)
{
    // 0: r1 = 0  1: if r1 == 1 goto 4  2: r0 = 1  3: exit  4: r0 = 2  5: exit
    Prog p = {mov64_imm(1, 0), jmp_imm(BPF_JEQ, 1, 1, 2), mov64_imm(0, 1),
              exit_insn(),     mov64_imm(0, 2),           exit_insn()};
    Load l(p, {}, (uint32_t)dev->ifindex);
    int fd = nicsim_kern_prog_load(k, &l.attr);
    ASSERT_GE(fd, 0) << l.logs();
    std::vector<std::string> want = {"prepare", "hook 0 -1", "hook 1 0", "hook 2 1", "hook 3 2",
                                     "finalize",
                                     // the branch never taken becomes `ja +0` ...
                                     "replace 1 code=5 off=0",
                                     // ... the never reached 4-5 go, then the nop
                                     "remove 4 2", "remove 1 1", "translate"};
    EXPECT_EQ(rec.events, want);
    ASSERT_EQ(rec.final_insns.size(), 3u);
    EXPECT_EQ(rec.final_insns[0].code, BPF_ALU64 | BPF_MOV | BPF_K);
    EXPECT_EQ(rec.final_insns[1].imm, 1);
    EXPECT_EQ(rec.final_insns[2].code, BPF_JMP | BPF_EXIT);
    nicsim_kern_prog_info info;
    ASSERT_EQ(nicsim_kern_prog_get_info(k, fd, &info), 0);
    EXPECT_EQ(info.xlated_len, 3u * 8u);
    nicsim_kern_close(k, fd);
}

TEST_F(VerifierTest, DeadCodeRemovalReaimsJumps)
{
    // 0: r3 = 5  1: if r3 != 5 goto 3 (dead)  2: ja 2 -> 5  3: r0 = 9  4: exit
    // 5: r2 = ctx->data  6: if r2 == 0 goto 8  7: r0 = 1  8: exit ... (r0 set on both paths)
    Prog p = {mov64_imm(3, 5), jmp_imm(BPF_JNE, 3, 5, 1),
              ja(2),           mov64_imm(0, 9),
              exit_insn(),     ldx(BPF_W, 2, 1, 0),
              mov64_imm(0, 2), jmp_imm(BPF_JEQ, 2, 0, 1),
              mov64_imm(0, 1), exit_insn()};
    Load l(p);
    int fd = nicsim_kern_prog_load(k, &l.attr);
    ASSERT_GE(fd, 0) << l.logs();
    nicsim_bpf_prog *prog = nicsim_kern_prog_by_fd(k, fd);
    ASSERT_NE(prog, nullptr);
    // 1 became `ja +0`; 3-4 went, which made 2 a `ja +0` too; both nops went:
    // r3 = 5; r2 = ctx->data; r0 = 2; if r2 == 0 goto +1; r0 = 1; exit
    ASSERT_EQ(prog->len, 6u);
    EXPECT_EQ(prog->insnsi[1].code, BPF_LDX | BPF_MEM | BPF_W);
    EXPECT_EQ(prog->insnsi[3].code, BPF_JMP | BPF_JEQ | BPF_K);
    EXPECT_EQ(prog->insnsi[3].off, 1); // still lands on the exit
    EXPECT_EQ(prog->insnsi[5].code, BPF_JMP | BPF_EXIT);
    nicsim_kern_close(k, fd);
}

TEST_F(VerifierTest, OffloadDeviceMismatchBetweenProgAndMap)
{
    auto a = map_attr(BPF_MAP_TYPE_ARRAY, 4, 8, 4, (uint32_t)dev->ifindex);
    int offmap = nicsim_kern_map_create(k, &a, nullptr);
    ASSERT_GE(offmap, 0);
    Prog p;
    lookup_key0(p, 0);
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    // a host program using an offloaded map, and an offloaded program using a host map
    expect_refused(p, -EINVAL, 3, "offload device mismatch between prog and map", {offmap});
    int hostm = host_map();
    Load l(p, {hostm}, (uint32_t)dev->ifindex);
    EXPECT_EQ(nicsim_kern_prog_load(k, &l.attr), -EINVAL);
    EXPECT_STREQ(l.attr.err_msg, "offload device mismatch between prog and map");
}

// ---- Cross-check with the host kernel's verifier.

struct Kcheck {
    struct nicsim_kern_kcheck res {
    };
    int rc;
    Kcheck(const Prog &p, const std::vector<nicsim_kern_map_create_attr> &maps = {})
    {
        Load l(p);
        rc = nicsim_kern_kcheck(&l.attr, maps.data(), maps.size(), &res);
    }
};

#define SKIP_WITHOUT_BPF(kc)                                                                       \
    do {                                                                                           \
        ASSERT_EQ((kc).rc, 0);                                                                     \
        if (!(kc).res.kernel_available)                                                            \
            GTEST_SKIP() << (kc).res.kernel_msg;                                                   \
    } while (0)

TEST(VerifierKernelCrossCheckTest, AgreesOnAcceptedProgram)
{
    Prog p;
    lookup_key0(p, 0);
    p.push_back(jmp_imm(BPF_JEQ, 0, 0, 1));
    p.push_back(ldx(BPF_DW, 1, 0, 0));
    p.push_back(mov64_imm(0, 2));
    p.push_back(exit_insn());
    Kcheck kc(p, {map_attr(BPF_MAP_TYPE_ARRAY, 4, 8, 4)});
    SKIP_WITHOUT_BPF(kc);
    EXPECT_FALSE(kc.res.disagree) << kc.res.report;
    EXPECT_EQ(kc.res.ours, 0) << kc.res.our_msg;
    EXPECT_EQ(kc.res.kernel, 0) << kc.res.kernel_msg;
}

TEST(VerifierKernelCrossCheckTest, AgreesOnRefusals)
{
    const Prog progs[] = {
        {mov64_reg(0, 2), exit_insn()},                               // R2 !read_ok
        {ldx(BPF_W, 0, 1, 24), exit_insn()},                          // bad ctx access
        {mov64_imm(0, 0), exit_insn(), mov64_imm(0, 1), exit_insn()}, // unreachable
        {st(BPF_DW, 10, -520, 0), mov64_imm(0, 0), exit_insn()},      // stack bounds
        {mov64_imm(10, 0), mov64_imm(0, 0), exit_insn()},             // r10 write
        {mov64_imm(0, 0), jmp_imm(BPF_JEQ, 0, 0, -1), exit_insn()},   // infinite loop
    };
    for (const Prog &p : progs) {
        Kcheck kc(p);
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_NE(kc.res.ours, 0);
        EXPECT_NE(kc.res.kernel, 0);
    }
    Prog nullderef;
    lookup_key0(nullderef, 0);
    nullderef.push_back(ldx(BPF_DW, 0, 0, 0));
    nullderef.push_back(exit_insn());
    Kcheck kc(nullderef, {map_attr(BPF_MAP_TYPE_HASH, 4, 8, 4)});
    SKIP_WITHOUT_BPF(kc);
    EXPECT_FALSE(kc.res.disagree) << kc.res.report;
    EXPECT_NE(std::string(kc.res.kernel_msg).find("map_value_or_null"), std::string::npos)
        << kc.res.kernel_msg;
}

TEST(VerifierKernelCrossCheckTest, AgreesOnWhatRootMayDo)
{
    const Prog progs[] = {
        {st(BPF_W, 10, -4, 0), ldx(BPF_DW, 0, 10, -8), exit_insn()}, // unwritten stack read
        {mov64_reg(0, 10), exit_insn()},                             // pointer as verdict
    };
    for (const Prog &p : progs) {
        Kcheck kc(p);
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_EQ(kc.res.ours, 0) << kc.res.our_msg;
    }
    Prog p; // array lookup with a constant key: no null check needed
    lookup_key0(p, 0);
    p.push_back(ldx(BPF_DW, 0, 0, 0));
    p.push_back(exit_insn());
    Kcheck kc(p, {map_attr(BPF_MAP_TYPE_ARRAY, 4, 8, 4)});
    SKIP_WITHOUT_BPF(kc);
    EXPECT_FALSE(kc.res.disagree) << kc.res.report;
}

TEST(VerifierKernelCrossCheckTest, AgreesOnUncheckedPacketAccess)
{
    // No data_end check: both refuse, with the kernel's words.
    Prog p = {ldx(BPF_W, 2, 1, 0), ldx(BPF_B, 0, 2, 0), exit_insn()};
    Kcheck kc(p);
    SKIP_WITHOUT_BPF(kc);
    EXPECT_FALSE(kc.res.disagree) << kc.res.report;
    EXPECT_EQ(kc.res.ours, -EACCES);
    EXPECT_EQ(kc.res.kernel, -EACCES);
    EXPECT_STREQ(kc.res.our_msg, "insn 1: R2 offset is outside of the packet");
    EXPECT_STREQ(kc.res.our_log, "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0) / "
                                 "R2 offset is outside of the packet");
    EXPECT_STREQ(kc.res.kernel_msg, kc.res.our_log);
}

// Every form of `data + 8 ? data_end`: JGT / JGE / JLT / JLE, the packet pointer on either side,
// the access on either branch, reading the last byte the check covers (7) or the one after (8,
// only a strict comparison covers it). Our verdict and message must be the kernel's.
TEST(VerifierKernelCrossCheckTest, AgreesOnEveryFormOfTheDataEndCheck)
{
    const uint8_t ops[] = {BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE};
    int accepted = 0, refused = 0;

    for (uint8_t op : ops) {
        for (int pkt_first = 0; pkt_first < 2; pkt_first++) {
            for (int on_jump = 0; on_jump < 2; on_jump++) {
                for (int16_t byte : {7, 8}) {
                    Insn cmp = pkt_first ? jmp_reg(op, 4, 3, 3) : jmp_reg(op, 3, 4, 3);
                    Insn access = ldx(BPF_B, 5, 2, byte);
                    Prog p = {ldx(BPF_W, 2, 1, 0), ldx(BPF_W, 3, 1, 4), mov64_reg(4, 2),
                              alu64_imm(BPF_ADD, 4, 8), cmp};
                    // fall-through: [access or nothing]; r0 = PASS; exit; jump: same
                    p.push_back(on_jump ? mov64_imm(5, 0) : access);
                    p.push_back(mov64_imm(0, XDP_PASS));
                    p.push_back(exit_insn());
                    p.push_back(on_jump ? access : mov64_imm(5, 0));
                    p.push_back(mov64_imm(0, XDP_DROP));
                    p.push_back(exit_insn());
                    Kcheck kc(p);
                    SKIP_WITHOUT_BPF(kc);
                    SCOPED_TRACE(std::string("op ") + std::to_string(op >> 4) +
                                 (pkt_first ? " pkt first" : " end first") +
                                 (on_jump ? ", on the jump" : ", on the fall-through") + ", byte " +
                                 std::to_string(byte));
                    EXPECT_FALSE(kc.res.disagree) << kc.res.report;
                    EXPECT_EQ(kc.res.ours, kc.res.kernel) << kc.res.our_msg;
                    if (kc.res.kernel) {
                        EXPECT_STREQ(kc.res.our_log, kc.res.kernel_msg);
                        refused++;
                    } else {
                        accepted++;
                    }
                }
            }
        }
    }
    // each form makes one branch safe: 8 bytes on it (9 if strict)
    EXPECT_EQ(accepted, 8 + 4);
    EXPECT_EQ(refused, 32 - 12);
}

TEST(VerifierKernelCrossCheckTest, AgreesOnPacketPointersSpilledAcrossAdjustHead)
{
    // A checked pointer spilled to the stack keeps its range; after bpf_xdp_adjust_head the
    // spilled copy is a number too. (adjust_head, not adjust_meta: some 6.18 kernels do not offer
    // bpf_xdp_adjust_meta to XDP programs at all.)
    Prog ok = {mov64_reg(6, 1),
               ldx(BPF_W, 2, 6, 0),
               ldx(BPF_W, 3, 6, 4),
               mov64_reg(4, 2),
               alu64_imm(BPF_ADD, 4, 4),
               jmp_reg(BPF_JGT, 4, 3, 3),
               stx(BPF_DW, 10, 2, -8),
               ldx(BPF_DW, 7, 10, -8),
               ldx(BPF_W, 0, 7, 0),
               mov64_imm(0, XDP_PASS),
               exit_insn()};
    Kcheck a(ok);
    SKIP_WITHOUT_BPF(a);
    EXPECT_FALSE(a.res.disagree) << a.res.report;
    EXPECT_EQ(a.res.ours, 0) << a.res.our_msg;

    Prog stale = ok;
    stale.insert(stale.begin() + 7,
                 {mov64_reg(1, 6), mov64_imm(2, -8), call(BPF_FUNC_xdp_adjust_head)});
    stale[5].off += 3;
    Kcheck r(stale);
    SKIP_WITHOUT_BPF(r);
    EXPECT_FALSE(r.res.disagree) << r.res.report;
    EXPECT_EQ(r.res.ours, -EACCES) << r.res.our_msg;
    EXPECT_STREQ(r.res.our_msg, "insn 11: R7 invalid mem access 'scalar'");
    EXPECT_NE(std::string(r.res.kernel_msg).find("R7 invalid mem access 'scalar'"),
              std::string::npos)
        << r.res.kernel_msg;
}

} // namespace
