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

// Seven layers of `width` subprograms; main calls each of them with r1 = 1, and each one called
// with r1 = 1 calls every subprogram of the next layer with r1 = 0. Every subprogram is walked
// and the call graph has width^7 chains of main and 7 subprograms. Found while bounding
// verifier_fuzz's time per input: the stack depth check walked every chain, n^7 steps.
Prog layered_calls(int width, int stack_bytes)
{
    const int layers = 7, n = layers * width, main_len = 2 * n + 2;
    auto sub_len = [&](int layer) { return 1 + (layer < layers - 1 ? 1 + 2 * width : 0) + 2; };
    std::vector<int> start(n);
    for (int i = 0, at = main_len; i < n; i++) {
        start[i] = at;
        at += sub_len(i / width);
    }
    Prog p;
    for (int i = 0; i < n; i++) {
        p.push_back(mov64_imm(1, 1));
        p.push_back(call_local(start[i] - (int)p.size() - 1));
    }
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    for (int i = 0; i < n; i++) {
        int layer = i / width;
        p.push_back(st(BPF_DW, 10, (int16_t)-stack_bytes, 0));
        if (layer < layers - 1) {
            p.push_back(jmp_imm(BPF_JEQ, 1, 0, (int16_t)(2 * width)));
            for (int j = 0; j < width; j++) {
                p.push_back(mov64_imm(1, 0));
                p.push_back(call_local(start[(layer + 1) * width + j] - (int)p.size() - 1));
            }
        }
        p.push_back(mov64_imm(0, 0));
        p.push_back(exit_insn());
    }
    return p;
}

TEST_F(VerifierTest, StackDepthOfManyChainsOfSubprograms)
{
    Prog p = layered_calls(30, 64);
    last = std::make_unique<Load>(p);
    int fd = nicsim_kern_prog_load(k, &last->attr);
    ASSERT_GE(fd, 0) << last->logs();
    EXPECT_EQ(nicsim_kern_prog_by_fd(k, fd)->aux->stack_depth, 7 * 64u);
    nicsim_kern_close(k, fd);

    // 7 frames of 72 bytes, 80 each as the JIT-ing kernel rounds them (to 16; main's empty frame
    // counts 0)
    expect_refused(layered_calls(30, 72), -EACCES, -1,
                   "combined stack size of 8 calls is 560. Too large");
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
    // the kernel's two lines: the access, then which end of the offset's range is outside
    expect_refused(p, -EACCES, 7, "R0 min value is outside of the allowed memory range", {m});
    EXPECT_NE(last->logs().find("invalid access to map value, value_size=8 off=4 size=8\n"
                                "R0 min value is outside of the allowed memory range"),
              std::string::npos)
        << last->logs();
}

// r0 = a non-null element of map 0 (array, key 0), then `body`.
Prog with_value(std::initializer_list<Insn> body)
{
    Prog p;
    lookup_key0(p, 0);
    p.push_back(jmp_imm(BPF_JNE, 0, 0, 2)); // insn 6
    p.push_back(mov64_imm(0, 0));
    p.push_back(exit_insn());
    p.insert(p.end(), body); // from insn 9
    return p;
}

// Issue 8: programs the kernel proves to have dead code, as its selftests write them
// (verifier_bounds*.c, verifier_spill_fill.c, verifier_reg_equal.c, verifier_and.c), each with a
// variant that makes the code live. The dead code reads an unwritten register or writes r10.
Insn jmp32_imm(uint8_t op, int dst, int32_t imm, int16_t off)
{
    return raw(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
}
Insn jmp32_reg(uint8_t op, int dst, int src, int16_t off)
{
    return raw(BPF_JMP32 | op | BPF_X, dst, src, off, 0);
}
Insn mov32_reg(int dst, int src)
{
    return raw(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
Insn movsx64_reg(int dst, int src, int16_t bits)
{
    return raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, bits, 0);
}
const Insn kRand = call(BPF_FUNC_get_prandom_u32);
const Insn kDeadUse = alu64_reg(BPF_SUB, 0, 1); // R1 !read_ok after a call
const Insn kDeadFp = mov64_imm(10, 0);          // frame pointer is read only

struct PrecisionCase {
    const char *name;
    Prog p;
    int dead_insn;   // the instruction only a less precise verifier walks
    const char *msg; // what it then says there
    bool dead;       // the kernel proves it dead (else: the variant where it is live)
};

std::vector<PrecisionCase> precision_cases()
{
    auto spill_link = [](uint8_t size, Insn mask, bool fits) {
        // r0 = a value of one random bit; spilled and filled with `size`; r1 == 0 decides r0
        return Prog{kRand,
                    fits ? mask : raw(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0, (int32_t)0x80000000),
                    stx(size, 10, 0, -8),
                    ldx(size, 1, 10, -8),
                    mov64_imm(2, 0),
                    jmp_reg(BPF_JNE, 1, 2, 2),
                    jmp_reg(BPF_JEQ, 0, 2, 1),
                    ldx(BPF_DW, 0, 9, 0),
                    mov64_imm(0, 0),
                    exit_insn()};
    };
    return {
        // u32 range [4, U32_MAX] after `if w0 < 4`: w0 == 3 never holds (== 4 may)
        {"jmp32 range",
         {call(BPF_FUNC_ktime_get_ns), jmp32_imm(BPF_JLT, 0, 4, 2), mov32_imm(2, 3),
          jmp32_reg(BPF_JEQ, 0, 2, 2), mov64_imm(0, 0), exit_insn(), kDeadUse, exit_insn()},
         6,
         "R1 !read_ok",
         true},
        {"jmp32 range, live",
         {call(BPF_FUNC_ktime_get_ns), jmp32_imm(BPF_JLT, 0, 4, 2), mov32_imm(2, 4),
          jmp32_reg(BPF_JEQ, 0, 2, 2), mov64_imm(0, 0), exit_insn(), kDeadUse, exit_insn()},
         6,
         "R1 !read_ok",
         false},
        // the low half known to be 0 while the upper one is unknown
        {"known low half",
         {kRand, alu64_imm(BPF_LSH, 0, 32), alu64_imm(BPF_ADD, 0, 1),
          alu64_imm(BPF_AND, 0, (int32_t)0xFFFF1234), jmp32_imm(BPF_JLT, 0, 1, 1), kDeadUse,
          mov64_imm(0, 0), exit_insn()},
         5,
         "R1 !read_ok",
         true},
        {"known low half, live",
         {kRand, alu64_imm(BPF_LSH, 0, 32), alu64_imm(BPF_ADD, 0, 1),
          alu64_imm(BPF_AND, 0, (int32_t)0xFFFF1235), jmp32_imm(BPF_JLT, 0, 1, 1), kDeadUse,
          mov64_imm(0, 0), exit_insn()},
         5,
         "R1 !read_ok",
         false},
        // u32 [0, S32_MIN + 3] and s32 [-3, 5] make [0, 5]
        {"32-bit signed and unsigned",
         {kRand, alu32_imm(BPF_AND, 0, -1), jmp32_imm(BPF_JGT, 0, (int32_t)0x80000003, 4),
          jmp32_imm(BPF_JSLT, 0, -3, 3), jmp32_imm(BPF_JSGT, 0, 5, 2), jmp32_imm(BPF_JLE, 0, 5, 1),
          kDeadFp, exit_insn()},
         6,
         "frame pointer is read only",
         true},
        {"32-bit signed and unsigned, live",
         {kRand, alu32_imm(BPF_AND, 0, -1), jmp32_imm(BPF_JGT, 0, (int32_t)0x80000003, 4),
          jmp32_imm(BPF_JSLT, 0, -3, 3), jmp32_imm(BPF_JSGT, 0, 5, 2), jmp32_imm(BPF_JLE, 0, 4, 1),
          kDeadFp, exit_insn()},
         6,
         "frame pointer is read only",
         false},
        // s64 [-128, 127], u64 [128, 2^64 - 256]: nothing left
        {"64-bit signed and unsigned",
         {kRand, movsx64_reg(0, 0, 8), mov64_imm(1, -256), jmp_reg(BPF_JGT, 0, 1, 2),
          jmp_imm(BPF_JLT, 0, 128, 1), kDeadFp, mov64_imm(0, 0), exit_insn()},
         5,
         "frame pointer is read only",
         true},
        {"64-bit signed and unsigned, live",
         {kRand, movsx64_reg(0, 0, 8), mov64_imm(1, -128), jmp_reg(BPF_JGT, 0, 1, 2),
          jmp_imm(BPF_JLT, 0, 128, 1), kDeadFp, mov64_imm(0, 0), exit_insn()},
         5,
         "frame pointer is read only",
         false},
        // w7 = (s8)w3 of [0x80, 0x8f]: [-128, -113]
        {"movsx of a negative byte",
         {kRand, mov64_reg(3, 0), alu64_imm(BPF_AND, 3, 0xf), alu64_imm(BPF_OR, 3, 0x80),
          raw(BPF_ALU | BPF_MOV | BPF_X, 7, 3, 8, 0), jmp32_imm(BPF_JSGE, 7, -5, 2),
          mov32_imm(0, 0), exit_insn(), kDeadFp, exit_insn()},
         8,
         "frame pointer is read only",
         true},
        {"movsx of a negative byte, live",
         {kRand, mov64_reg(3, 0), alu64_imm(BPF_AND, 3, 0xf), alu64_imm(BPF_OR, 3, 0xf0),
          raw(BPF_ALU | BPF_MOV | BPF_X, 7, 3, 8, 0), jmp32_imm(BPF_JSGE, 7, -5, 2),
          mov32_imm(0, 0), exit_insn(), kDeadFp, exit_insn()},
         8,
         "frame pointer is read only",
         false},
        // a 32-bit subtraction from a value whose upper half is known
        {"alu32 of a 64-bit range",
         {kRand, alu64_imm(BPF_AND, 0, 255), mov64_imm(2, 1), alu64_imm(BPF_LSH, 2, 36),
          alu64_reg(BPF_ADD, 0, 2), alu64_imm(BPF_ADD, 0, 0x7fffffff),
          alu32_imm(BPF_SUB, 0, 0x7fffffff), jmp_imm(BPF_JLE, 0, 255, 1), kDeadUse, mov64_imm(0, 0),
          exit_insn()},
         8,
         "R1 !read_ok",
         true},
        {"alu32 of a 64-bit range, live",
         {kRand, alu64_imm(BPF_AND, 0, 255), mov64_imm(2, 1), alu64_imm(BPF_LSH, 2, 36),
          alu64_reg(BPF_ADD, 0, 2), alu64_imm(BPF_ADD, 0, 0x7fffffff),
          alu32_imm(BPF_SUB, 0, 0x7fffffff), jmp_imm(BPF_JLE, 0, 254, 1), kDeadUse, mov64_imm(0, 0),
          exit_insn()},
         8,
         "R1 !read_ok",
         false},
        // spills and fills of every size keep the link with the register when the value fits
        {"8-bit spill link", spill_link(BPF_B, alu64_imm(BPF_AND, 0, 0x80), true), 7, "R9 !read_ok",
         true},
        {"16-bit spill link", spill_link(BPF_H, alu64_imm(BPF_AND, 0, 0x8000), true), 7,
         "R9 !read_ok", true},
        {"32-bit spill link", spill_link(BPF_W, alu32_imm(BPF_AND, 0, (int32_t)0x80000000), true),
         7, "R9 !read_ok", true},
        {"64-bit spill link", spill_link(BPF_DW, alu64_imm(BPF_AND, 0, 0x100), true), 7,
         "R9 !read_ok", true},
        {"16-bit spill of a 32-bit value: no link", spill_link(BPF_H, Insn{}, false), 7,
         "R9 !read_ok", false},
        // an unbounded value spilled, checked in the register, filled: the fill learnt too
        {"spill then check",
         {kRand, stx(BPF_DW, 10, 0, -8), jmp_imm(BPF_JGT, 0, 16, 3), ldx(BPF_DW, 0, 10, -8),
          jmp_imm(BPF_JLE, 0, 16, 1), ldx(BPF_DW, 0, 9, 0), mov64_imm(0, 0), exit_insn()},
         5,
         "R9 !read_ok",
         true},
        {"spill then change then check",
         {kRand, stx(BPF_DW, 10, 0, -8), alu64_imm(BPF_ADD, 0, 1), jmp_imm(BPF_JGT, 0, 16, 3),
          ldx(BPF_DW, 0, 10, -8), jmp_imm(BPF_JLE, 0, 16, 1), ldx(BPF_DW, 0, 9, 0), mov64_imm(0, 0),
          exit_insn()},
         6,
         "R9 !read_ok",
         false},
        // a 32-bit fill of a 64-bit spill whose upper half is unknown and low half zero
        {"32-bit fill of a 64-bit spill",
         {kRand, alu64_imm(BPF_LSH, 0, 32), stx(BPF_DW, 10, 0, -8), ldx(BPF_W, 0, 10, -8),
          jmp_imm(BPF_JEQ, 0, 0, 1), ldx(BPF_DW, 0, 9, 0), exit_insn()},
         5,
         "R9 !read_ok",
         true},
        // w3 = w2 of a value below 2^32 is a copy: w2 < 9 teaches r3 < 9
        {"mov32 link",
         {call(BPF_FUNC_ktime_get_ns), stx(BPF_DW, 10, 0, -8), ldx(BPF_W, 2, 10, -8),
          mov32_reg(3, 2), jmp32_imm(BPF_JLT, 2, 9, 1), exit_insn(), jmp_imm(BPF_JLT, 3, 9, 1),
          kDeadUse, exit_insn()},
         7,
         "R1 !read_ok",
         true},
        {"mov32 link, live",
         {call(BPF_FUNC_ktime_get_ns), stx(BPF_DW, 10, 0, -8), ldx(BPF_W, 2, 10, -8),
          mov32_reg(3, 2), jmp32_imm(BPF_JLT, 2, 9, 1), exit_insn(), jmp_imm(BPF_JLT, 3, 8, 1),
          kDeadUse, exit_insn()},
         7,
         "R1 !read_ok",
         false},
    };
}

TEST_F(VerifierTest, ProvesDeadWhatTheKernelProvesDead)
{
    for (const PrecisionCase &c : precision_cases()) {
        SCOPED_TRACE(c.name);
        if (c.dead)
            EXPECT_EQ(load(c.p), 0) << last->logs();
        else
            expect_refused(c.p, -EACCES, c.dead_insn, c.msg);
    }
}

// Issue 7 C: a map value at a variable offset is checked at both ends of the offset's range
// (check_mem_region_access), as the kernel does; the NIC does not check it again.
TEST_F(VerifierTest, RefusesMapValueAccessAtVariableOffsetOutsideTheValue)
{
    int m = host_map(BPF_MAP_TYPE_ARRAY, 16);
    // a u32 from the value as offset: umax 2^32-1
    expect_refused(with_value({ldx(BPF_W, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0),
                               exit_insn()}),
                   -EACCES, 11,
                   "R0 unbounded memory access, make sure to bounds check any such access", {m});
    // a u8 minus 4: [-4, 251]
    expect_refused(with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_SUB, 1, 4),
                               alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0), exit_insn()}),
                   -EACCES, 12,
                   "R0 min value is negative, either use unsigned index or do a if (index >=0) "
                   "check.",
                   {m});
    // a u8: [0, 255] past a 16-byte value
    expect_refused(with_value({ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0),
                               exit_insn()}),
                   -EACCES, 11, "R0 max value is outside of the allowed memory range", {m});
    EXPECT_NE(last->logs().find("invalid access to map value, value_size=16 off=255 size=1"),
              std::string::npos);
    // stores and atomics too
    expect_refused(
        with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 15), alu64_reg(BPF_ADD, 0, 1),
                    st(BPF_W, 0, 0, 1), mov64_imm(0, 0), exit_insn()}),
        -EACCES, 12, "R0 max value is outside of the allowed memory range", {m});
    expect_refused(
        with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 8), alu64_reg(BPF_ADD, 0, 1),
                    mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 8, BPF_ADD),
                    mov64_imm(0, 0), exit_insn()}),
        -EACCES, 13, "R0 max value is outside of the allowed memory range", {m});
    // after a spill and fill of the pointer
    expect_refused(
        with_value({ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), stx(BPF_DW, 10, 0, -16),
                    ldx(BPF_DW, 3, 10, -16), ldx(BPF_B, 0, 3, 0), exit_insn()}),
        -EACCES, 13, "R3 max value is outside of the allowed memory range", {m});
    // a helper's memory argument: the key of a lookup read from the value at [0, 255]
    Prog h = with_value({ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), mov64_reg(2, 0)});
    ld_map_idx(h, 1, 0);
    h.push_back(call(BPF_FUNC_map_lookup_elem)); // insn 14
    h.push_back(mov64_imm(0, 0));
    h.push_back(exit_insn());
    expect_refused(h, -EACCES, 14, "R2 max value is outside of the allowed memory range", {m});
    EXPECT_NE(last->logs().find("invalid access to map value, value_size=16 off=255 size=4"),
              std::string::npos);
    // a 32-bit shift by 32 is unknown, whatever a core does with it (verifier_bounds.c)
    expect_refused(
        with_value({mov64_imm(2, 32), mov64_imm(1, 1), raw(BPF_ALU | BPF_LSH | BPF_X, 1, 2, 0, 0),
                    alu64_imm(BPF_AND, 1, 0xffff), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0),
                    exit_insn()}),
        -EACCES, 14, "R0 max value is outside of the allowed memory range", {m});
    // within the value at every offset: accepted
    EXPECT_EQ(load(with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 7),
                               alu64_reg(BPF_ADD, 0, 1), ldx(BPF_DW, 0, 0, 0), exit_insn()}),
                   {m}),
              0)
        << last->logs();
}

// Issue 7 C2: atomics need an aligned address (strict_alignment_once), BPF_F_WRONLY_PROG and
// BPF_F_RDONLY_PROG limit what the program may do with a map's values.
TEST_F(VerifierTest, RefusesMisalignedAtomicAndForbiddenMapAccess)
{
    int m = host_map(BPF_MAP_TYPE_ARRAY, 16);
    expect_refused(
        with_value({mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 3, BPF_ADD),
                    mov64_imm(0, 0), exit_insn()}),
        -EACCES, 10, "misaligned value access off 0+0+3 size 8", {m});
    expect_refused(
        with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 4), alu64_reg(BPF_ADD, 0, 1),
                    mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD),
                    mov64_imm(0, 0), exit_insn()}),
        -EACCES, 13, "misaligned value access off (0x0; 0x4)+0+0 size 8", {m});
    // the same offsets are fine for plain loads and stores, and aligned atomics are fine
    EXPECT_EQ(load(with_value({ldx(BPF_DW, 1, 0, 3), st(BPF_DW, 0, 3, 1), mov64_imm(1, 1),
                               raw(BPF_STX | BPF_ATOMIC | BPF_W, 0, 1, 4, BPF_ADD), mov64_imm(0, 0),
                               exit_insn()}),
                   {m}),
              0)
        << last->logs();

    auto wo = map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, "wo", BPF_F_WRONLY_PROG);
    auto ro = map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, "ro", BPF_F_RDONLY_PROG);
    int wofd = nicsim_kern_map_create(k, &wo, nullptr),
        rofd = nicsim_kern_map_create(k, &ro, nullptr);
    ASSERT_GE(wofd, 0);
    ASSERT_GE(rofd, 0);
    expect_refused(with_value({ldx(BPF_DW, 1, 0, 8), mov64_imm(0, 0), exit_insn()}), -EACCES, 9,
                   "read from map forbidden, value_size=16 off=8 size=8", {wofd});
    EXPECT_EQ(load(with_value({st(BPF_DW, 0, 8, 1), mov64_imm(0, 0), exit_insn()}), {wofd}), 0)
        << last->logs();
    expect_refused(with_value({st(BPF_DW, 0, 8, 1), mov64_imm(0, 0), exit_insn()}), -EACCES, 9,
                   "write into map forbidden, value_size=16 off=8 size=8", {rofd});
    // an atomic both reads and writes
    expect_refused(
        with_value({mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD),
                    mov64_imm(0, 0), exit_insn()}),
        -EACCES, 10, "read from map forbidden, value_size=16 off=0 size=8", {wofd});
    // a helper reading the value (here as a key)
    Prog h = with_value({mov64_reg(2, 0)});
    ld_map_idx(h, 1, 0);
    h.push_back(call(BPF_FUNC_map_lookup_elem)); // insn 12
    h.push_back(mov64_imm(0, 0));
    h.push_back(exit_insn());
    expect_refused(h, -EACCES, 12, "read from map forbidden, value_size=16 off=0 size=4", {wofd});
    // both flags at once: the kernel refuses the map
    auto both =
        map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, "both", BPF_F_WRONLY_PROG | BPF_F_RDONLY_PROG);
    EXPECT_EQ(nicsim_kern_map_create(k, &both, nullptr), -EINVAL);
}

// Issue 7 C2: adjust_ptr_min_max_vals' rules for copies of r10 and other pointers.
TEST_F(VerifierTest, PointerArithmeticFollowsTheKernelsRules)
{
    expect_refused({mov64_reg(1, 10), alu64_imm(BPF_SUB, 1, 8), mov64_imm(0, 0), exit_insn()},
                   -EACCES, 1, "R1 subtraction from stack pointer prohibited");
    expect_refused(
        {mov64_reg(1, 10), mov64_imm(2, 8), alu64_reg(BPF_SUB, 1, 2), mov64_imm(0, 0), exit_insn()},
        -EACCES, 2, "R1 subtraction from stack pointer prohibited");
    expect_refused({mov64_reg(1, 10), alu32_imm(BPF_ADD, 1, 8), mov64_imm(0, 0), exit_insn()},
                   -EACCES, 1, "R1 32-bit pointer arithmetic prohibited");
    // a 32-bit subtraction makes a number of a pointer (allow_ptr_leaks): no longer a pointer
    expect_refused({mov64_reg(1, 10), alu32_imm(BPF_SUB, 1, 8), ldx(BPF_DW, 0, 1, 0), exit_insn()},
                   -EACCES, 2, "R1 invalid mem access 'scalar'");
    // a map pointer plus a known zero stays the map pointer, in either operand order
    int h = host_map(BPF_MAP_TYPE_HASH);
    for (int swap = 0; swap < 2; swap++) {
        Prog p = {st(BPF_W, 10, -4, 0), mov64_reg(2, 10), alu64_imm(BPF_ADD, 2, -4),
                  mov64_imm(swap ? 1 : 0, 0)};
        ld_map_idx(p, swap ? 0 : 1, 0);
        p.push_back(alu64_reg(BPF_ADD, 1, 0));
        p.push_back(call(BPF_FUNC_map_lookup_elem));
        p.push_back(mov64_imm(0, 0));
        p.push_back(exit_insn());
        EXPECT_EQ(load(p, {h}), 0) << last->logs();
        p[3] = mov64_imm(swap ? 1 : 0, 1);
        expect_refused(p, -EACCES, 6, "R1 pointer arithmetic on map_ptr prohibited", {h});
    }
}

// Issue 7 C2: the call chain limit. The walk refuses a recursion that does not stop (9 frames);
// check_max_stack_depth follows every call instruction whatever guards it, so a recursion the
// walk proves finite is refused too (8 frames), as by the kernel.
TEST_F(VerifierTest, RefusesRecursiveCalls)
{
    expect_refused({call_local(1), exit_insn(), call_local(-1), mov64_imm(0, 0), exit_insn()},
                   -E2BIG, 2, "the call stack of 9 frames is too deep");
    // r1 = 1; sub(r1): if r1 == 0 return; sub(0)
    Prog bounded = {mov64_imm(1, 1),           call_local(2),   mov64_imm(0, 0), exit_insn(),
                    jmp_imm(BPF_JEQ, 1, 0, 2), mov64_imm(1, 0), call_local(-3),  exit_insn()};
    expect_refused(bounded, -E2BIG, -1, "the call stack of 8 frames is too deep !");
    // through another subprogram
    Prog mutual = {
        mov64_imm(1, 1), call_local(2), mov64_imm(0, 0), exit_insn(),    jmp_imm(BPF_JEQ, 1, 0, 2),
        mov64_imm(1, 0), call_local(1), exit_insn(),     call_local(-5), exit_insn()};
    expect_refused(mutual, -E2BIG, -1, "the call stack of 8 frames is too deep !");
    // a chain of 7 calls is fine
    Prog chain;
    for (int i = 0; i < 7; i++) {
        chain.push_back(call_local(1));
        chain.push_back(exit_insn());
    }
    chain.push_back(mov64_imm(0, 0));
    chain.push_back(exit_insn());
    chain[0] = call_local(1);
    EXPECT_EQ(load(chain), 0) << last->logs();
    // one more: the walk gets there first
    chain.insert(chain.end() - 2, {call_local(1), exit_insn()});
    expect_refused(chain, -E2BIG, 14, "the call stack of 9 frames is too deep");
}

// Issue 8 item 1: only the main program's exit needs R0 (check_return_code); a subprogram
// returning void leaves the caller's R0 unwritten, which the caller then may not read.
TEST_F(VerifierTest, SubprogramReturningVoid)
{
    EXPECT_EQ(load({mov64_imm(6, 1), call_local(2), mov64_imm(0, XDP_PASS), exit_insn(),
                    mov64_imm(1, 0), exit_insn()}),
              0)
        << last->logs();
    expect_refused({call_local(1), exit_insn(), mov64_imm(1, 0), exit_insn()}, -EACCES, 1,
                   "R0 !read_ok");
    expect_refused({call_local(2), mov64_reg(6, 0), exit_insn(), mov64_imm(1, 0), exit_insn()},
                   -EACCES, 1, "R0 !read_ok");
    // the main program's exit still needs it
    expect_refused({mov64_imm(1, 0), exit_insn()}, -EACCES, 1, "R0 !read_ok");
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

// xdp_is_valid_access: an offloaded program (and only one) may write rx_queue_index, 4 bytes.
TEST_F(VerifierTest, OffloadedProgramMayWriteRxQueueIndexOnly)
{
    uint32_t ifx = (uint32_t)dev->ifindex;
    EXPECT_EQ(load({mov64_imm(2, 3), stx(BPF_W, 1, 2, 16), mov64_imm(0, 2), exit_insn()}, {}, ifx),
              0)
        << last->logs();
    struct Case {
        Prog p;
        const char *msg;
    } refused[] = {
        {{mov64_imm(2, 3), stx(BPF_H, 1, 2, 16), mov64_imm(0, 2), exit_insn()},
         "invalid bpf_context access off=16 size=2"},
        {{mov64_imm(2, 3), stx(BPF_DW, 1, 2, 16), mov64_imm(0, 2), exit_insn()},
         "invalid bpf_context access off=16 size=8"},
        {{mov64_imm(2, 3), stx(BPF_W, 1, 2, 12), mov64_imm(0, 2), exit_insn()},
         "invalid bpf_context access off=12 size=4"},
        {{mov64_imm(2, 3), stx(BPF_W, 1, 2, 0), mov64_imm(0, 2), exit_insn()},
         "invalid bpf_context access off=0 size=4"},
        // an immediate store into the context is never allowed (check_mem_access's caller)
        {{mov64_imm(2, 3), st(BPF_W, 1, 16, 1), mov64_imm(0, 2), exit_insn()},
         "BPF_ST stores into R1 ctx is not allowed"},
    };
    for (const Case &c : refused) {
        EXPECT_EQ(load(c.p, {}, ifx), -EACCES) << c.msg;
        EXPECT_EQ(last->attr.err_insn, 1) << c.msg;
        EXPECT_STREQ(last->attr.err_msg, c.msg) << last->logs();
    }
    // the same write from a program that is not offloaded: the kernel's refusal
    expect_refused({mov64_imm(2, 3), stx(BPF_W, 1, 2, 16), mov64_imm(0, 2), exit_insn()}, -EACCES,
                   1, "invalid bpf_context access off=16 size=4");
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

// Issue 8: fields of struct bpf_map read through a map pointer (verifier_map_ptr.c), as the
// running kernel lays the struct out.
struct MapPtrCase {
    const char *name;
    uint32_t map_type;
    Insn access; // through r1 = the map
    int err;
    const char *msg;
};

std::vector<MapPtrCase> map_ptr_cases()
{
    return {
        {"max_entries", BPF_MAP_TYPE_ARRAY, ldx(BPF_W, 0, 1, 76), 0, ""},
        {"sha as u64", BPF_MAP_TYPE_ARRAY, ldx(BPF_DW, 0, 1, 0), 0, ""},
        {"sha bytes 1-4", BPF_MAP_TYPE_ARRAY, ldx(BPF_W, 0, 1, 1), 0, ""},
        {"hash map's key_size", BPF_MAP_TYPE_HASH, ldx(BPF_W, 0, 1, 68), 0, ""},
        {"negative", BPF_MAP_TYPE_ARRAY, ldx(BPF_DW, 0, 1, -8), -EACCES,
         "R1 is bpf_array invalid negative access: off=-8"},
        {"write", BPF_MAP_TYPE_ARRAY, st(BPF_W, 1, 76, 0), -EACCES,
         "only read from bpf_array is supported"},
        {"padding", BPF_MAP_TYPE_ARRAY, ldx(BPF_W, 0, 1, 36), -EINVAL,
         "struct bpf_map doesn't have field at offset 36"},
        {"part of a pointer", BPF_MAP_TYPE_HASH, ldx(BPF_W, 0, 1, 44), -EACCES,
         "cannot access ptr member ops with moff 40 in struct bpf_map with off 44 size 4"},
        {"beyond a member", BPF_MAP_TYPE_ARRAY, ldx(BPF_DW, 0, 1, 72), -EACCES,
         "access beyond the end of member value_size (mend:76) in struct bpf_map with off 72 size "
         "8"},
    };
}

Prog map_ptr_prog(const Insn &access)
{
    Prog p;
    ld_map_idx(p, 1, 0);
    p.push_back(mov64_imm(0, 1));
    p.push_back(access); // insn 3
    p.push_back(exit_insn());
    return p;
}

TEST_F(VerifierTest, ReadsFieldsOfAMapPointer)
{
    for (const MapPtrCase &c : map_ptr_cases()) {
        SCOPED_TRACE(c.name);
        int m = host_map(c.map_type, 16);
        if (!c.err)
            EXPECT_EQ(load(map_ptr_prog(c.access), {m}), 0) << last->logs();
        else
            expect_refused(map_ptr_prog(c.access), c.err, 3, c.msg, {m});
    }
    // a pointer member would be a BTF pointer, which this verifier does not model
    int m = host_map();
    expect_refused(map_ptr_prog(ldx(BPF_DW, 0, 1, 40)), -EOPNOTSUPP, 3,
                   "reading pointer member ops of struct bpf_map (a BTF pointer) is not supported "
                   "by the nicsim verifier",
                   {m});
    // what the NIC gets instead of the load: the map's own values
    auto a = map_attr(BPF_MAP_TYPE_HASH, 8, 16, 1000, 0, "h", BPF_F_NO_PREALLOC);
    int h = nicsim_kern_map_create(k, &a, nullptr);
    ASSERT_GE(h, 0);
    nicsim_kern_map_info info{};
    ASSERT_EQ(nicsim_kern_map_get_info(k, h, &info), 0);
    const nicsim_bpf_map *map = nicsim_kern_map_by_fd(k, h);
    ASSERT_NE(map, nullptr);
    uint64_t v = 0;
    EXPECT_EQ(nicsim_bpf_map_field(map, 76, 4, &v), 0);
    EXPECT_EQ(v, 1000u);
    EXPECT_EQ(nicsim_bpf_map_field(map, 64, 4, &v), 0);
    EXPECT_EQ(v, (uint64_t)BPF_MAP_TYPE_HASH);
    EXPECT_EQ(nicsim_bpf_map_field(map, 68, 2, &v), 0);
    EXPECT_EQ(v, 8u);
    EXPECT_EQ(nicsim_bpf_map_field(map, 88, 4, &v), 0);
    EXPECT_EQ(v, (uint64_t)BPF_F_NO_PREALLOC);
    EXPECT_EQ(nicsim_bpf_map_field(map, 92, 4, &v), 0);
    EXPECT_EQ(v, info.id);
    EXPECT_EQ(nicsim_bpf_map_field(map, 0, 8, &v), 0);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(nicsim_bpf_map_field(map, 40, 8, &v), -EINVAL); // ops: a pointer
    EXPECT_EQ(nicsim_bpf_map_field(map, 92, 8, &v), -EINVAL); // past id
}

// Issue 8: may_goto (BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO), the kernel's bounded loop.
Insn may_goto(int16_t off)
{
    return raw(BPF_JMP | 0xe0, 0, 0, off, 0);
}

struct MayGotoCase {
    const char *name;
    Prog p;
    bool with_map;
    int err, insn; // 0: accepted
    const char *msg;
};

std::vector<MayGotoCase> may_goto_cases()
{
    return {
        // a loop with no bound of its own: the fall-through is widened and converges
        {"counting loop",
         {mov64_imm(0, 0), may_goto(2), alu64_imm(BPF_ADD, 0, 1), ja(-3), exit_insn()},
         false,
         0,
         0,
         ""},
        // an index re-checked in the loop reads a map value
        {"indexed loop",
         with_value({mov64_reg(6, 0), mov64_imm(1, 0), may_goto(6), jmp_imm(BPF_JGE, 1, 16, 5),
                     mov64_reg(2, 6), alu64_reg(BPF_ADD, 2, 1), ldx(BPF_B, 3, 2, 0),
                     alu64_imm(BPF_ADD, 1, 1), ja(-7), mov64_imm(0, 0), exit_insn()}),
         true, 0, 0, ""},
        // ... and not re-checked: refused like any unbounded offset
        {"unchecked index",
         with_value({mov64_reg(6, 0), mov64_imm(1, 0), may_goto(5), mov64_reg(2, 6),
                     alu64_reg(BPF_ADD, 2, 1), ldx(BPF_B, 3, 2, 0), alu64_imm(BPF_ADD, 1, 1),
                     ja(-6), mov64_imm(0, 0), exit_insn()}),
         true, -EACCES, 14, "R2 min value is outside of the allowed memory range"},
        {"may_goto +0", {mov64_imm(0, 0), may_goto(0), exit_insn()}, false, 0, 0, ""},
        {"to itself",
         {mov64_imm(0, 0), may_goto(-1), exit_insn()},
         false,
         -EINVAL,
         1,
         "infinite loop detected at insn 1"},
        {"imm",
         {mov64_imm(0, 0), raw(BPF_JMP | 0xe0, 0, 0, 0, 1), exit_insn()},
         false,
         -EINVAL,
         1,
         "invalid may_goto imm 1"},
        {"dst",
         {mov64_imm(0, 0), raw(BPF_JMP | 0xe0, 1, 0, 0, 0), exit_insn()},
         false,
         -EINVAL,
         1,
         "invalid may_goto imm 0"},
        {"register form",
         {mov64_imm(0, 0), raw(BPF_JMP | 0xe8, 0, 0, 0, 0), exit_insn()},
         false,
         -EINVAL,
         1,
         "unknown opcode ed"},
        {"JMP32 form",
         {mov64_imm(0, 0), raw(BPF_JMP32 | 0xe0, 0, 0, 0, 0), exit_insn()},
         false,
         -EINVAL,
         1,
         "unknown opcode e6"},
    };
}

TEST_F(VerifierTest, MayGotoIsABoundedLoop)
{
    for (const MayGotoCase &c : may_goto_cases()) {
        SCOPED_TRACE(c.name);
        std::vector<int> fds;
        if (c.with_map)
            fds.push_back(host_map(BPF_MAP_TYPE_ARRAY, 16));
        if (!c.err)
            EXPECT_EQ(load(c.p, fds), 0) << last->logs();
        else
            expect_refused(c.p, c.err, c.insn, c.msg, fds);
    }
    // may_goto +0 is removed as a nop, as the kernel does
    last = std::make_unique<Load>(Prog{mov64_imm(0, 0), may_goto(0), exit_insn()});
    int fd = nicsim_kern_prog_load(k, &last->attr);
    ASSERT_GE(fd, 0) << last->logs();
    EXPECT_EQ(nicsim_kern_prog_by_fd(k, fd)->len, 2u);
    nicsim_kern_close(k, fd);
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

// Issue 7 C / C2 and issue 8 item 1 against the running kernel: the same verdict, and for a
// refusal our last lines are the end of the kernel's log.
TEST(VerifierKernelCrossCheckTest, AgreesOnMapValueBoundsAccessRightsCallsAndPointerRules)
{
    auto arr = map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4);
    auto wo = map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, "wo", BPF_F_WRONLY_PROG);
    auto ro = map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, "ro", BPF_F_RDONLY_PROG);
    Prog helper_key = with_value({ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), mov64_reg(2, 0)});
    ld_map_idx(helper_key, 1, 0);
    helper_key.insert(helper_key.end(),
                      {call(BPF_FUNC_map_lookup_elem), mov64_imm(0, 0), exit_insn()});
    // a helper memory argument (ARG_PTR_TO_MEM with its size) into the value at [0, 15]
    Prog helper_mem =
        with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 15), alu64_reg(BPF_ADD, 0, 1),
                    mov64_reg(1, 0), mov64_imm(2, 4), mov64_imm(3, 0), mov64_imm(4, 0),
                    mov64_imm(5, 0), call(BPF_FUNC_csum_diff), mov64_imm(0, 0), exit_insn()});
    Prog helper_mem_ok = helper_mem;
    helper_mem_ok[10] = alu64_imm(BPF_AND, 1, 7); // [0, 7] + 4 bytes fit 16
    struct Case {
        const char *name;
        Prog p;
        std::vector<nicsim_kern_map_create_attr> maps;
        bool accepted;
    };
    const Case cases[] = {
        {"unbounded offset",
         with_value(
             {ldx(BPF_W, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0), exit_insn()}),
         {arr},
         false},
        {"negative min",
         with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_SUB, 1, 4), alu64_reg(BPF_ADD, 0, 1),
                     ldx(BPF_B, 0, 0, 0), exit_insn()}),
         {arr},
         false},
        {"max outside",
         with_value(
             {ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0), exit_insn()}),
         {arr},
         false},
        {"fixed offset outside",
         with_value({ldx(BPF_DW, 1, 0, 12), mov64_imm(0, 0), exit_insn()}),
         {arr},
         false},
        {"after spill and fill",
         with_value({ldx(BPF_B, 1, 0, 0), alu64_reg(BPF_ADD, 0, 1), stx(BPF_DW, 10, 0, -16),
                     ldx(BPF_DW, 3, 10, -16), ldx(BPF_B, 0, 3, 0), exit_insn()}),
         {arr},
         false},
        {"helper key", helper_key, {arr}, false},
        {"helper memory", helper_mem, {arr}, false},
        {"helper memory within", helper_mem_ok, {arr}, true},
        {"oversized 32-bit shift",
         with_value({mov64_imm(2, 32), mov64_imm(1, 1), raw(BPF_ALU | BPF_LSH | BPF_X, 1, 2, 0, 0),
                     alu64_imm(BPF_AND, 1, 0xffff), alu64_reg(BPF_ADD, 0, 1), ldx(BPF_B, 0, 0, 0),
                     exit_insn()}),
         {arr},
         false},
        {"bounded offset",
         with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 7), alu64_reg(BPF_ADD, 0, 1),
                     ldx(BPF_DW, 0, 0, 0), exit_insn()}),
         {arr},
         true},
        {"misaligned atomic",
         with_value({mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 3, BPF_ADD),
                     mov64_imm(0, 0), exit_insn()}),
         {arr},
         false},
        {"misaligned atomic, variable offset",
         with_value({ldx(BPF_B, 1, 0, 0), alu64_imm(BPF_AND, 1, 4), alu64_reg(BPF_ADD, 0, 1),
                     mov64_imm(1, 1), raw(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD),
                     mov64_imm(0, 0), exit_insn()}),
         {arr},
         false},
        {"ctx pointer moved back",
         {alu64_imm(BPF_ADD, 1, -1), ldx(BPF_W, 0, 1, 1), exit_insn()},
         {},
         false},
        {"ctx pointer moved at a variable offset",
         {ldx(BPF_W, 2, 1, 12), alu64_imm(BPF_AND, 2, 4), alu64_reg(BPF_ADD, 1, 2),
          ldx(BPF_W, 0, 1, 0), exit_insn()},
         {},
         false},
        {"a subprogram's 496 bytes under an empty main",
         {call_local(2), mov64_imm(0, 0), exit_insn(), st(BPF_DW, 10, -496, 0), mov64_imm(0, 0),
          exit_insn()},
         {},
         true},
        {"a subprogram's 504 bytes under main's 8",
         {st(BPF_DW, 10, -8, 0), call_local(2), mov64_imm(0, 0), exit_insn(),
          st(BPF_DW, 10, -504, 0), mov64_imm(0, 0), exit_insn()},
         {},
         false},
        {"misaligned stack store",
         {mov64_reg(1, 10), alu64_imm(BPF_ADD, 1, -8), st(BPF_DW, 1, 2, 0), mov64_imm(0, 0),
          exit_insn()},
         {},
         false},
        {"misaligned stack atomic",
         {st(BPF_DW, 10, -8, 0), mov64_imm(1, 1),
          raw(BPF_STX | BPF_ATOMIC | BPF_W, 10, 1, -7, BPF_ADD), mov64_imm(0, 0), exit_insn()},
         {},
         false},
        {"read of a write-only map",
         with_value({ldx(BPF_DW, 1, 0, 0), mov64_imm(0, 0), exit_insn()}),
         {wo},
         false},
        {"write of a write-only map",
         with_value({st(BPF_DW, 0, 0, 1), mov64_imm(0, 0), exit_insn()}),
         {wo},
         true},
        {"write of a read-only map",
         with_value({st(BPF_DW, 0, 0, 1), mov64_imm(0, 0), exit_insn()}),
         {ro},
         false},
        {"r10 copy minus a constant",
         {mov64_reg(1, 10), alu64_imm(BPF_SUB, 1, 8), mov64_imm(0, 0), exit_insn()},
         {},
         false},
        {"r10 copy minus a register",
         {mov64_reg(1, 10), mov64_imm(2, 8), alu64_reg(BPF_SUB, 1, 2), mov64_imm(0, 0),
          exit_insn()},
         {},
         false},
        {"32-bit subtraction from r10 copy",
         {mov64_reg(1, 10), alu32_imm(BPF_SUB, 1, 8), mov64_imm(0, 0), exit_insn()},
         {},
         true},
        {"endless recursion",
         {call_local(1), exit_insn(), call_local(-1), mov64_imm(0, 0), exit_insn()},
         {},
         false},
        {"bounded recursion",
         {mov64_imm(1, 1), call_local(2), mov64_imm(0, 0), exit_insn(), jmp_imm(BPF_JEQ, 1, 0, 2),
          mov64_imm(1, 0), call_local(-3), exit_insn()},
         {},
         false},
        {"void subprogram",
         {mov64_imm(6, 1), call_local(2), mov64_imm(0, XDP_PASS), exit_insn(), mov64_imm(1, 0),
          exit_insn()},
         {},
         true},
        {"R0 of a void subprogram read",
         {call_local(2), mov64_reg(6, 0), exit_insn(), mov64_imm(1, 0), exit_insn()},
         {},
         false},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Kcheck kc(c.p, c.maps);
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_EQ(kc.res.kernel == 0, c.accepted) << kc.res.kernel_msg;
        EXPECT_EQ(kc.res.ours, kc.res.kernel) << kc.res.our_msg;
        if (!c.accepted) {
            std::string km = kc.res.kernel_msg, ol = kc.res.our_log;
            EXPECT_TRUE(km.size() >= ol.size() &&
                        km.compare(km.size() - ol.size(), ol.size(), ol) == 0)
                << "ours: " << ol << "\nkernel: " << km;
        }
    }
}

TEST(VerifierKernelCrossCheckTest, AgreesOnWhatIsDeadCode)
{
    for (const PrecisionCase &c : precision_cases()) {
        SCOPED_TRACE(c.name);
        Kcheck kc(c.p);
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_EQ(kc.res.kernel == 0, c.dead) << kc.res.kernel_msg;
        EXPECT_EQ(kc.res.ours, kc.res.kernel) << kc.res.our_msg;
        if (!c.dead) {
            EXPECT_NE(std::string(kc.res.kernel_msg).find(c.msg), std::string::npos)
                << kc.res.kernel_msg;
        }
    }
}

TEST(VerifierKernelCrossCheckTest, AgreesOnMayGoto)
{
    for (const MayGotoCase &c : may_goto_cases()) {
        SCOPED_TRACE(c.name);
        std::vector<nicsim_kern_map_create_attr> maps;
        if (c.with_map)
            maps.push_back(map_attr(BPF_MAP_TYPE_ARRAY, 4, 16, 4));
        Kcheck kc(c.p, maps);
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_EQ(kc.res.ours, kc.res.kernel) << kc.res.our_msg << " / " << kc.res.kernel_msg;
        // (the kernel's log ends an infinite loop with the two states compared)
        if (c.err && std::string(c.msg).find("infinite loop") == std::string::npos) {
            EXPECT_NE(std::string(kc.res.kernel_msg).find(c.msg), std::string::npos)
                << kc.res.kernel_msg;
        }
    }
}

TEST(VerifierKernelCrossCheckTest, AgreesOnMapPointerFields)
{
    for (const MapPtrCase &c : map_ptr_cases()) {
        SCOPED_TRACE(c.name);
        Kcheck kc(map_ptr_prog(c.access), {map_attr(c.map_type, 4, 16, 4)});
        SKIP_WITHOUT_BPF(kc);
        EXPECT_FALSE(kc.res.disagree) << kc.res.report;
        EXPECT_EQ(kc.res.ours, kc.res.kernel) << kc.res.our_msg << " / " << kc.res.kernel_msg;
        if (c.err) {
            EXPECT_NE(std::string(kc.res.kernel_msg).find(c.msg), std::string::npos)
                << kc.res.kernel_msg;
        }
    }
}

} // namespace

// ---- Maps of maps (kernel/bpf/map_in_map.c, mark_ptr_or_null_reg).

class MapInMapTest : public VerifierTest
{
  protected:
    int outer(uint32_t type, int inner_fd, uint32_t max = 4, uint32_t vs = 4)
    {
        auto a = map_attr(type, 4, vs, max);
        a.inner_map_fd = (uint32_t)inner_fd;
        return nicsim_kern_map_create(k, &a, nullptr);
    }
    uint32_t map_id(int fd) { return nicsim_kern_map_by_fd(k, fd)->id; }
};

TEST_F(MapInMapTest, TemplateChecksAsTheKernel)
{
    int tmpl = host_map(BPF_MAP_TYPE_ARRAY, 8, 4);
    // creation: the template must be a map descriptor, not itself a map of maps; value 4 bytes
    EXPECT_EQ(outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, 77), -EBADF);
    EXPECT_EQ(outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, tmpl, 4, 8), -EINVAL);
    int arr = outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, tmpl);
    ASSERT_GE(arr, 0);
    EXPECT_EQ(outer(BPF_MAP_TYPE_HASH_OF_MAPS, arr), -EINVAL); // >1 level
    int hash = outer(BPF_MAP_TYPE_HASH_OF_MAPS, tmpl, 8);
    ASSERT_GE(hash, 0);

    int same = host_map(BPF_MAP_TYPE_ARRAY, 8, 4);
    int other_max = host_map(BPF_MAP_TYPE_ARRAY, 8, 2); // arrays: max_entries must match
    int other_vs = host_map(BPF_MAP_TYPE_ARRAY, 4, 4);  // value size must match
    int other_type = host_map(BPF_MAP_TYPE_HASH, 8, 4); // type must match
    uint32_t key = 1, v;
    for (int bad : {other_max, other_vs, other_type}) {
        v = (uint32_t)bad;
        EXPECT_EQ(nicsim_kern_map_update_elem(k, arr, &key, &v, BPF_ANY), -EINVAL) << bad;
    }
    EXPECT_NE(std::string(nicsim_kern_last_error(k)).find("inner map template"), std::string::npos)
        << nicsim_kern_last_error(k);
    v = 99; // not a descriptor
    EXPECT_EQ(nicsim_kern_map_update_elem(k, arr, &key, &v, BPF_ANY), -EBADF);
    v = (uint32_t)same;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, arr, &key, &v, BPF_ANY), 0);
    // user space reads back the inner map's id (bpf_map_fd_sys_lookup_elem)
    uint32_t got = 0;
    ASSERT_EQ(nicsim_kern_map_lookup_elem(k, arr, &key, &got), 0);
    EXPECT_EQ(got, map_id(same));
    key = 0;
    EXPECT_EQ(nicsim_kern_map_lookup_elem(k, arr, &key, &got), -ENOENT);

    // the element holds the inner map: closing its last descriptor does not free it
    uint32_t id = map_id(same);
    nicsim_kern_close(k, same);
    int again = nicsim_kern_map_get_fd_by_id(k, id);
    EXPECT_GE(again, 0);
    nicsim_kern_close(k, again);
    key = 1;
    ASSERT_EQ(nicsim_kern_map_delete_elem(k, arr, &key), 0); // the last reference goes
    EXPECT_EQ(nicsim_kern_map_get_fd_by_id(k, id), -ENOENT);

    // a hash of maps the same way; freeing the outer map drops what it holds
    int in2 = host_map(BPF_MAP_TYPE_ARRAY, 8, 4);
    uint32_t id2 = map_id(in2);
    key = 12345;
    v = (uint32_t)in2;
    ASSERT_EQ(nicsim_kern_map_update_elem(k, hash, &key, &v, BPF_ANY), 0);
    nicsim_kern_close(k, in2);
    ASSERT_EQ(nicsim_kern_map_lookup_elem(k, hash, &key, &got), 0);
    EXPECT_EQ(got, id2);
    nicsim_kern_close(k, hash);
    EXPECT_EQ(nicsim_kern_map_get_fd_by_id(k, id2), -ENOENT);
}

TEST_F(MapInMapTest, LookupInAnOuterMapYieldsTheInnerMap)
{
    int tmpl = host_map(BPF_MAP_TYPE_ARRAY, 8, 4);
    int arr = outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, tmpl);
    ASSERT_GE(arr, 0);
    auto prog = [](int read_off, bool check) {
        Prog p;
        lookup_key0(p, 0); // insns 0-5: r0 = outer[0]
        if (check)
            p.push_back(jmp_imm(BPF_JNE, 0, 0, 2));
        p.push_back(mov64_imm(0, 2));
        p.push_back(exit_insn());
        p.push_back(mov64_reg(1, 0)); // the inner map as the next lookup's map
        p.push_back(mov64_reg(2, 10));
        p.push_back(alu64_imm(BPF_ADD, 2, -4));
        p.push_back(call(BPF_FUNC_map_lookup_elem));
        p.push_back(jmp_imm(BPF_JNE, 0, 0, 2));
        p.push_back(mov64_imm(0, 2));
        p.push_back(exit_insn());
        p.push_back(ldx(BPF_DW, 0, 0, (int16_t)read_off)); // the inner map's value: 8 bytes
        p.push_back(exit_insn());
        return p;
    };
    EXPECT_EQ(load(prog(0, true), {arr}), 0) << last->logs();
    // the inner value's size is the template's
    expect_refused(prog(8, true), -EACCES, 16,
                   "R0 min value is outside of the allowed memory range", {arr});
    EXPECT_NE(last->logs().find("invalid access to map value, value_size=8 off=8 size=8"),
              std::string::npos)
        << last->logs();
    // without the null check the lookup's result is no map
    Prog unchecked;
    lookup_key0(unchecked, 0);
    unchecked.push_back(mov64_reg(1, 0));
    unchecked.push_back(mov64_reg(2, 10));
    unchecked.push_back(alu64_imm(BPF_ADD, 2, -4));
    unchecked.push_back(call(BPF_FUNC_map_lookup_elem)); // insn 9
    unchecked.push_back(exit_insn());
    EXPECT_EQ(load(unchecked, {arr}), -EACCES);
    EXPECT_EQ(last->attr.err_insn, 9);
    // a program cannot write an outer map (check_map_func_compatibility)
    Prog upd;
    lookup_key0(upd, 0);
    upd.back() = call(BPF_FUNC_map_delete_elem);
    upd.push_back(mov64_imm(0, 2));
    upd.push_back(exit_insn());
    EXPECT_EQ(load(upd, {arr}), -EINVAL) << last->logs();
}

/* The one options rule (nicsim_opts_copy): BPF_PROG_LOAD's attr and kcheck's copy of it accept a
 * larger struct only when its unknown tail is zero, and a smaller one reads the rest as zero. */
TEST_F(VerifierTest, ProgLoadAttrFollowsTheOptionsRule)
{
    Prog p = {mov64_imm(0, 2), exit_insn()};
    Load keep(p); /* owns the instructions and log the copies point to */
    struct {
        nicsim_kern_prog_load_attr attr;
        uint64_t future;
    } ext{};
    ext.attr = keep.attr;
    ext.attr.sz = sizeof(ext);
    EXPECT_GE(nicsim_kern_prog_load(k, &ext.attr), 0);
    ext.future = 1;
    EXPECT_EQ(nicsim_kern_prog_load(k, &ext.attr), -EINVAL);
    struct nicsim_kern_kcheck res {
    };
    EXPECT_EQ(nicsim_kern_kcheck(&ext.attr, nullptr, 0, &res), -EINVAL);

    /* a caller whose struct ends before the log fields: no log, no out fields written */
    nicsim_kern_prog_load_attr small = keep.attr;
    small.sz = offsetof(nicsim_kern_prog_load_attr, log_buf);
    small.err_insn = 42;
    EXPECT_GE(nicsim_kern_prog_load(k, &small), 0);
    EXPECT_EQ(small.err_insn, 42);
}

/* The emulated kernel's extack is the one message carrier (struct nicsim_msg, util.h). */
TEST(ExtackTest, IsTheOneMessageCarrier)
{
    nicsim_msg ea{};
    ea.index = 5;
    nicsim_extack_set(&ea, "Only one XDP mode flag can be set");
    EXPECT_STREQ(ea.msg, "Only one XDP mode flag can be set");
    EXPECT_EQ(ea.index, -1) << "an extack is not about one instruction";
    nicsim_extack_set(nullptr, "nothing written");
}
