// SPDX-License-Identifier: MIT
// nicsim_rtl: the Verilated ebpf_core behind the C model's interfaces (see rtl.h).
//
// Harness pattern (Verilator's examples): a VerilatedContext owned by a unique_ptr, the model
// built on it once, then for each cycle: clock low + eval (outputs of the current cycle settle),
// answer the helper port and sample the retire port, clock high + eval (the edge).
#include "rtl.h"

#include "nicsim/xdp.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vebpf_core.h"
#include "Vebpf_core___024root.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace
{

// region_t of rtl/ebpf_pkg.sv, packed MSB first: kind[3] writable latency[4] base[14] lo hi
constexpr unsigned kDmemAw = 14;
constexpr uint32_t kStackBytes = NICSIM_STACK_SIZE * NICSIM_MAX_CALL_DEPTH;
constexpr uint32_t kMemBase = kStackBytes; // the plain-memory block follows the stack
constexpr size_t kImemSlots = 4096;
constexpr unsigned kRegions = 32;       // ebpf_pkg::NumRegions
constexpr uint32_t kDmemBytes = 1u << kDmemAw;

} // namespace

// A span of the RTL's data memory that the harness's helpers see through a host buffer: the
// buffer is filled from the RTL's memory before every helper call and what the helper changed
// is written back before the core continues, so the RTL's memory stays the only backing store.
struct Mirror {
    uint32_t pa;   // data-memory address of the first byte
    uint8_t *host; // the helper vm's region buffer
    size_t len;
    uint64_t nic;  // NIC address of host[0] (lockstep's record of what helpers wrote)
};

// What the harness wrote into the RTL's memory on a helper's behalf (lockstep replays it).
struct ByteWrite {
    uint64_t nic;
    uint8_t v;
};

// A program in the instruction memory, kept across runs of nicsim_rtl__run_vm.
struct Loaded {
    const struct nicsim_prog *prog;
    uint32_t base;
    std::vector<struct nicsim_isa_insn> insns; // what was loaded: a freed and reused pointer
                                               // with other code is loaded again
};

// Lockstep: one helper call of the RTL's run, with everything it changed.
struct HelperRec {
    uint32_t id;
    uint64_t args[5];
    struct nicsim_helper_out out;
    std::vector<ByteWrite> writes;
    std::vector<std::array<uint32_t, 3>> bounds; // region, lo, hi of regions 2..31 after it
    // regions that became visible (a tail call's grants, an inner map): index, entry, contents
    std::vector<std::pair<uint32_t, struct nicsim_region>> shown;
    std::vector<std::vector<uint8_t>> shown_mem;
};
struct RetireRec {
    const struct nicsim_prog *prog;
    uint32_t pc;
    uint64_t cycle, value;
};

struct nicsim_rtl {
    std::vector<Loaded> loaded;
    // lockstep (nicsim_rtl__run_vm_lockstep): the RTL run's helper calls and retired
    // instructions, and the report callback
    bool recording = false;
    std::vector<HelperRec> hrecs;
    std::vector<RetireRec> rrecs;
    void (*diverged)(void *user, const char *report) = nullptr;
    void *diverged_user = nullptr;
    uint32_t imem_next = 0;
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vebpf_core> m;
    std::unique_ptr<VerilatedFstC> wave;
    bool wave_on = true;                 // dumping now (--wave-packets: only some runs)
    uint64_t vm_runs = 0;                // nicsim_rtl__run_vm calls so far
    uint64_t wave_first = 0, wave_last = UINT64_MAX;
    uint64_t sim_cycles = 0;
    // the data memory's eight byte banks (rtl/ebpf_lsu.sv g_bank[b].u_bank.mem, public through
    // rtl/lint.vlt): byte `pa` is row pa / 8 of bank pa % 8
    CData *bank[8] = {};
    std::vector<Mirror> mirrors;
    std::vector<Mirror> last_mirrors; // what the last nicsim_rtl__run_vm held (lockstep)

    uint8_t peek(uint32_t pa) const { return bank[pa % 8][pa / 8]; }
    void poke(uint32_t pa, uint8_t v) { bank[pa % 8][pa / 8] = v; }
    // the 8 bytes of data-memory row `row` (one from each bank)
    uint64_t row_of(uint32_t row) const
    {
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; b++)
            v |= (uint64_t)bank[b][row] << (8 * b);
        return v;
    }
    void sync_in()
    {
        for (const Mirror &mr : mirrors) {
            size_t i = 0;
            for (; i < mr.len && (mr.pa + i) % 8; i++)
                mr.host[i] = peek(mr.pa + (uint32_t)i);
            for (; i + 8 <= mr.len; i += 8) { // whole rows
                uint64_t v = row_of((uint32_t)((mr.pa + i) / 8));
                memcpy(mr.host + i, &v, 8);
            }
            for (; i < mr.len; i++)
                mr.host[i] = peek(mr.pa + (uint32_t)i);
        }
    }
    std::vector<ByteWrite> *wrec = nullptr; // lockstep: record the writes of this helper call
    void sync_out()
    {
        for (const Mirror &mr : mirrors)
            for (size_t i = 0; i < mr.len; i++) {
                if ((mr.pa + i) % 8 == 0 && i + 8 <= mr.len) { // a whole row that is unchanged
                    uint64_t h;
                    memcpy(&h, mr.host + i, 8);
                    if (row_of((uint32_t)((mr.pa + i) / 8)) == h) {
                        i += 7;
                        continue;
                    }
                }
                if (peek(mr.pa + (uint32_t)i) != mr.host[i]) {
                    poke(mr.pa + (uint32_t)i, mr.host[i]);
                    if (wrec)
                        wrec->push_back({mr.nic + i, mr.host[i]});
                }
            }
    }

    nicsim_rtl() { build(false); }

    // A model with tracing compiled in but off runs faster: the model is rebuilt with tracing
    // on when a waveform is asked for (nicsim_rtl__set_wave, before the runs it records).
    void build(bool traced)
    {
        if (m)
            m->final();
        m.reset();
        ctx.reset(new VerilatedContext);
        ctx->threads(1);
        ctx->traceEverOn(traced);
        m.reset(new Vebpf_core{ctx.get(), "ebpf_core"});
        Vebpf_core___024root *r = m->rootp;
        bank[0] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__0__KET____DOT__u_bank__DOT__mem[0];
        bank[1] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__1__KET____DOT__u_bank__DOT__mem[0];
        bank[2] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__2__KET____DOT__u_bank__DOT__mem[0];
        bank[3] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__3__KET____DOT__u_bank__DOT__mem[0];
        bank[4] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__4__KET____DOT__u_bank__DOT__mem[0];
        bank[5] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__5__KET____DOT__u_bank__DOT__mem[0];
        bank[6] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__6__KET____DOT__u_bank__DOT__mem[0];
        bank[7] = &r->ebpf_core__DOT__u_lsu__DOT__g_bank__BRA__7__KET____DOT__u_bank__DOT__mem[0];
        m->hw_helpers_i = 0;
        m->core_id_i = 0;
        m->rst_ni = 0;
        m->clk_i = 0;
        m->eval();
        m->clk_i = 1;
        m->eval();
        m->rst_ni = 1;
        m->clk_i = 0;
        m->eval();
    }
    ~nicsim_rtl()
    {
        m->final();
        if (wave)
            wave->close();
    }

    // one clock cycle: rising edge, then the low phase in which the outputs of the new cycle
    // settle (10 time units per cycle in a waveform)
    void edge()
    {
        if (!wave || !wave_on) {
            // One eval per cycle: nothing in the core is sensitive to the falling edge and the
            // outputs settle in the rising edge's eval, so the low phase only has to be seen by
            // Verilator's edge detection, whose record of the clock (Verilator 5's trigger
            // state) is set low directly instead of evaluating the model with clk_i low.
            m->rootp->__Vtrigrprev__TOP__clk_i = 0;
            m->clk_i = 1;
            m->eval();
            ctx->timeInc(10);
            sim_cycles++;
            return;
        }
        if (m->clk_i) { // after fast cycles (--wave-packets): the low phase first
            m->clk_i = 0;
            m->eval();
        }
        m->clk_i = 1;
        m->eval();
        ctx->timeInc(5);
        if (wave)
            wave->dump(ctx->time());
        m->clk_i = 0;
        m->eval();
        ctx->timeInc(5);
        if (wave)
            wave->dump(ctx->time());
        sim_cycles++;
    }

    void write_imem(uint32_t slot, uint64_t word)
    {
        m->imem_we_i = 1;
        m->imem_addr_i = slot;
        m->imem_wdata_i = word;
        edge();
        m->imem_we_i = 0;
    }

    void write_row(uint32_t row, uint64_t data, uint8_t be)
    {
        m->dmem_we_i = 1;
        m->dmem_row_i = row;
        m->dmem_wdata_i = data;
        m->dmem_be_i = be;
        edge();
        m->dmem_we_i = 0;
    }

    // the data-memory host port is registered (rtl/ebpf_lsu.sv): the request is sampled at
    // the first edge and served at the second
    uint64_t read_row(uint32_t row)
    {
        m->dmem_re_i = 1;
        m->dmem_row_i = row;
        edge();
        m->dmem_re_i = 0;
        edge();
        return m->dmem_rdata_o;
    }

    // bytes at data-memory address `pa`, whole rows with byte enables
    void write_bytes(uint32_t pa, const uint8_t *p, size_t n)
    {
        for (size_t i = 0; i < n;) {
            uint32_t row = (uint32_t)((pa + i) / 8);
            uint64_t data = 0;
            uint8_t be = 0;
            for (unsigned b = (unsigned)((pa + i) % 8); b < 8 && i < n; b++, i++) {
                data |= (uint64_t)(p ? p[i] : 0) << (8 * b);
                be |= (uint8_t)(1u << b);
            }
            write_row(row, data, be);
        }
    }

    // A region-table entry written directly into the LSU's table in the model's state: between
    // runs and while a helper call holds the core in MEM. Not a public signal (that would put
    // the LSU's logic in Verilator's input region, a third of the speed): the table is only
    // read by logic the next clock edge evaluates.
    void poke_region(unsigned idx, enum nicsim_region_kind kind, bool writable, unsigned latency,
                     uint32_t base, uint32_t lo, uint32_t hi)
    {
        auto &e = m->rootp->ebpf_core__DOT__u_lsu__DOT__table_q[idx];
        e[0] = hi;
        e[1] = lo;
        e[2] = (base & ((1u << kDmemAw) - 1)) | (latency & 0xf) << kDmemAw |
               (writable ? 1u : 0u) << (kDmemAw + 4) | ((uint32_t)kind & 7u) << (kDmemAw + 5);
    }
    uint64_t cycle_now() const { return m->rootp->ebpf_core__DOT__cycle_q; }

    void map_region(unsigned idx, enum nicsim_region_kind kind, bool writable, unsigned latency,
                    uint32_t base, uint32_t lo, uint32_t hi)
    {
        m->rgn_we_i = 1;
        m->rgn_idx_i = idx;
        m->rgn_i[0] = hi;
        m->rgn_i[1] = lo;
        m->rgn_i[2] = (base & ((1u << kDmemAw) - 1)) | (latency & 0xf) << kDmemAw |
                      (writable ? 1u : 0u) << (kDmemAw + 4) | ((uint32_t)kind & 7u) << (kDmemAw + 5);
        edge();
        m->rgn_we_i = 0;
    }
};


// ---- a C-model vm's environment on the RTL (nicsim_rtl__run_vm) ------------------------------
//
// Data-memory layout of one run: the stack (4 KiB) at 0, then each visible region 2..31 of the
// vm that is one block (context, packet frame, small map memories) at its own base, then for each
// element-divided region (map values) one window the size of a value. The vm's host memory is
// the backing store between runs: copied in at the start, out at the end and around every helper
// call (Mirror). A helper that returns a pointer into an element-divided region (a lookup) moves
// that region's window to the element it points at, as the C model grants one value per element.
namespace
{

struct VmRegion {
    bool mapped = false;  // allocated in the data memory this run
    bool elem = false;    // element-divided: one value window
    uint32_t pa = 0;      // data-memory address of its block or window
    uint32_t cap = 0;     // bytes of the block or window
    uint32_t es = UINT32_MAX; // window: offset of the element's first accessible byte
    int mirror = -1;      // index in nicsim_rtl::mirrors
};

struct VmRun {
    nicsim_rtl &c;
    struct nicsim_vm *vm;
    VmRegion r[kRegions];
    uint32_t bump = kStackBytes;

    void write_full(const Mirror &mr)
    {
        size_t i = 0;
        if (!c.wrec && mr.pa % 8 == 0) // whole rows, one byte into each bank
            for (; i + 8 <= mr.len; i += 8) {
                uint32_t row = (mr.pa + (uint32_t)i) / 8;
                for (unsigned b = 0; b < 8; b++)
                    c.bank[b][row] = mr.host[i + b];
            }
        for (; i < mr.len; i++) {
            c.poke(mr.pa + (uint32_t)i, mr.host[i]);
            if (c.wrec)
                c.wrec->push_back({mr.nic + i, mr.host[i]});
        }
    }

    // Follow the vm's region table for regions 2..31 (at the start and after each helper).
    void refresh()
    {
        for (unsigned i = 2; i < kRegions; i++) {
            const struct nicsim_region *rg = nicsim_vm__region(vm, i);
            VmRegion &v = r[i];
            if (!rg) {
                if (v.mirror >= 0)
                    c.mirrors[v.mirror].len = 0;
                v.mirror = -1;
                v.es = UINT32_MAX;
                c.poke_region(i, NICSIM_RGN_UNMAPPED, false, 1, 0, 0, 0);
                continue;
            }
            if (rg->elem_stride) {
                if (!v.mapped) {
                    uint32_t ws = rg->elem_hi - rg->elem_lo;
                    v.mapped = true;
                    v.elem = true;
                    v.cap = ws;
                    if (bump + ws <= kDmemBytes) {
                        v.pa = bump;
                        bump = (bump + ws + 7) & ~7u;
                    } else {
                        v.cap = 0; // no room: every access traps (an RTL limit, said so)
                    }
                }
                if (v.es == UINT32_MAX && v.cap && rg->hi > rg->lo)
                    follow(nicsim_addr(i, rg->lo)); // element 0 (global data: no lookup)
                else if (v.es == UINT32_MAX || !v.cap)
                    c.poke_region(i, (enum nicsim_region_kind)rg->kind, rg->writable, rg->latency, 0,
                                  0, 0);
                continue;
            }
            uint32_t cap = rg->kind == NICSIM_RGN_PACKET ? NICSIM_XDP_FRAME_SIZE : rg->hi;
            if (!v.mapped || v.elem || v.mirror < 0 || c.mirrors[v.mirror].host != rg->host) {
                v = VmRegion();
                v.mapped = true;
                if (bump + cap <= kDmemBytes) {
                    v.pa = bump;
                    v.cap = cap;
                    bump = (bump + cap + 7) & ~7u;
                    v.mirror = (int)c.mirrors.size();
                    c.mirrors.push_back({v.pa, rg->host, cap, nicsim_addr(i, 0)});
                    write_full(c.mirrors.back());
                }
            }
            if (v.mirror >= 0 && rg->hi <= v.cap)
                c.poke_region(i, (enum nicsim_region_kind)rg->kind, rg->writable, rg->latency, v.pa,
                              rg->lo, rg->hi);
            else // larger than the data memory left: every access traps (an RTL limit)
                c.poke_region(i, (enum nicsim_region_kind)rg->kind, rg->writable, rg->latency, 0, 0,
                              0);
        }
    }

    // A helper returned `ptr`: when it is in an element-divided region, open that element.
    void follow(uint64_t ptr)
    {
        uint32_t i = nicsim_addr_region(ptr), off = nicsim_addr_offset(ptr);
        if (i < 2 || i >= kRegions)
            return;
        const struct nicsim_region *rg = nicsim_vm__region(vm, i);
        VmRegion &v = r[i];
        if (!rg || !rg->elem_stride || !v.mapped || !v.cap || off < rg->lo || off >= rg->hi)
            return;
        uint32_t es = rg->lo + (off - rg->lo) / rg->elem_stride * rg->elem_stride + rg->elem_lo;
        if (es + v.cap > rg->hi)
            return;
        if (v.es != es) {
            v.es = es;
            Mirror mr = {v.pa, rg->host + es, v.cap, nicsim_addr(i, es)};
            if (v.mirror < 0) {
                v.mirror = (int)c.mirrors.size();
                c.mirrors.push_back(mr);
            } else {
                c.mirrors[v.mirror] = mr;
            }
            write_full(mr);
        }
        c.poke_region(i, (enum nicsim_region_kind)rg->kind, rg->writable, rg->latency,
                      (v.pa - es) & (kDmemBytes - 1), es, es + v.cap);
    }
};

} // namespace

static int refuse(struct nicsim_isa_err *err, const char *msg)
{
    if (err) {
        err->index = -1;
        snprintf(err->msg, sizeof(err->msg), "%s", msg);
    }
    return -EINVAL;
}

extern "C" {

struct nicsim_rtl *nicsim_rtl__new(void)
{
    try {
        return new nicsim_rtl;
    } catch (...) {
        errno = ENOMEM;
        return nullptr;
    }
}

void nicsim_rtl__free(struct nicsim_rtl *rtl)
{
    delete rtl;
}

int nicsim_rtl__set_wave(struct nicsim_rtl *rtl, const char *path)
{
    if (rtl->wave) {
        rtl->wave->close();
        rtl->wave.reset();
    }
    if (!path)
        return 0;
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".fst") != 0)
        return -EINVAL;
    rtl->build(true);
    rtl->wave.reset(new VerilatedFstC);
    rtl->m->trace(rtl->wave.get(), 99);
    rtl->wave->open(path);
    if (!rtl->wave->isOpen()) {
        rtl->wave.reset();
        return -EIO;
    }
    return 0;
}

uint64_t nicsim_rtl__runs(const struct nicsim_rtl *rtl)
{
    return rtl->vm_runs;
}

void nicsim_rtl__set_wave_runs(struct nicsim_rtl *rtl, uint64_t first, uint64_t last)
{
    rtl->wave_first = first;
    rtl->wave_last = last;
}

uint64_t nicsim_rtl__sim_cycles(const struct nicsim_rtl *rtl)
{
    return rtl->sim_cycles;
}

int nicsim_rtl__read_mem(struct nicsim_rtl *rtl, uint8_t *out, size_t memlen)
{
    if (memlen > NICSIM_RTL_MEM_MAX)
        return -EINVAL;
    for (size_t i = 0; i < memlen; i++)
        out[i] = rtl->peek(kMemBase + (uint32_t)i);
    // Tests only (--lockstep's memory comparison): NICSIM_RTL_TEST_CORRUPT_MEM=K flips bit 0 of
    // byte K of what is read back.
    if (const char *e = getenv("NICSIM_RTL_TEST_CORRUPT_MEM")) {
        size_t k = strtoull(e, nullptr, 0);
        if (k < memlen)
            out[k] ^= 1;
    }
    return 0;
}

int nicsim_rtl__run_conf(struct nicsim_rtl *rtl, const struct nicsim_insn *raw, size_t n,
                         const uint8_t *mem, size_t memlen,
                         const struct nicsim_rtl_block *block, uint64_t budget,
                         const struct nicsim_helper *helpers, nicsim_trace_fn trace,
                         void *trace_user, struct nicsim_run *run, struct nicsim_isa_err *err)
{
    memset(run, 0, sizeof(*run));
    // The C model's loader decides what is refused, with its messages.
    std::vector<struct nicsim_isa_insn> dec(n ? n : 1);
    if (nicsim_isa_decode(raw, n, dec.data(), err) < 0)
        return -EINVAL;
    struct nicsim_prog_opts po = {};
    po.sz = sizeof(po);
    po.helpers = helpers;
    po.name = "prog";
    struct nicsim_prog *prog = nicsim_prog__load(dec.data(), n, &po, err);
    if (!prog)
        return -EINVAL;
    const struct nicsim_prog *progs[1] = {prog};
    int rc = nicsim_rtl__run_image(rtl, progs, 1, mem, memlen, block, budget, helpers, trace,
                                   trace_user, run, err);
    nicsim_prog__free(prog);
    return rc;
}

int nicsim_rtl__run_image(struct nicsim_rtl *rtl, const struct nicsim_prog *const *progs,
                          size_t nprogs, const uint8_t *mem, size_t memlen,
                          const struct nicsim_rtl_block *block, uint64_t budget,
                          const struct nicsim_helper *helpers, nicsim_trace_fn trace,
                          void *trace_user, struct nicsim_run *run, struct nicsim_isa_err *err)
{
    memset(run, 0, sizeof(*run));
    rtl->wave_on = true;
    unsigned mem_latency = block ? block->latency : 0;
    bool writable = !block || !block->readonly;
    if (mem_latency > 15)
        return refuse(err, "a region latency above 15 cycles does not fit the RTL region table");
    if (memlen > NICSIM_RTL_MEM_MAX)
        return refuse(err, "memory block larger than the RTL core's data memory (12288 bytes)");
    if (nprogs == 0)
        return refuse(err, "an image needs at least one program");
    // The image: the programs one after the other in the instruction memory.
    std::vector<uint32_t> base(nprogs + 1, 0);
    std::vector<struct nicsim_insn> image;
    for (size_t k = 0; k < nprogs; k++) {
        size_t n = nicsim_prog__len(progs[k]);
        base[k] = (uint32_t)image.size();
        if (image.size() + n > kImemSlots)
            return refuse(err, "image longer than the RTL core's instruction memory (4096 slots)");
        image.resize(image.size() + n);
        if (nicsim_isa_encode(nicsim_prog__insns(progs[k]), n, &image[base[k]], err) < 0)
            return -EINVAL;
    }
    base[nprogs] = (uint32_t)image.size();
    auto locate = [&](uint32_t abs, const struct nicsim_prog **p) {
        for (size_t k = 0; k < nprogs; k++)
            if (abs < base[k + 1]) {
                *p = progs[k];
                return abs - base[k];
            }
        *p = progs[nprogs - 1];
        return abs - base[nprogs - 1];
    };
    const struct nicsim_insn *raw = image.data();
    size_t n = image.size();
    const struct nicsim_prog *prog = progs[0];

    // A C-model vm for the helpers: same region table, so that nicsim_vm__translate agrees;
    // its stack and memory block are mirrors of the RTL's data memory (sync_in/sync_out around
    // every helper call).
    std::vector<uint8_t> copy(mem, mem + memlen), stack(kStackBytes);
    struct nicsim_vm_opts vo = {};
    vo.sz = sizeof(vo);
    vo.budget = budget;
    struct nicsim_vm *vm = nicsim_vm__new(&vo);
    if (!vm)
        return -ENOMEM;
    {
        struct nicsim_region sr = {};
        sr.host = stack.data();
        sr.hi = kStackBytes;
        sr.kind = NICSIM_RGN_STACK;
        sr.writable = 1;
        sr.latency = 1;
        nicsim_vm__map_at(vm, 1, &sr);
    }
    rtl->mirrors.clear();
    rtl->mirrors.push_back({0, stack.data(), kStackBytes, nicsim_addr(1, 0)});
    if (memlen)
        rtl->mirrors.push_back({kMemBase, copy.data(), memlen, 0});
    uint64_t r1 = 0;
    if (memlen) {
        struct nicsim_region r = {};
        r.host = copy.data();
        r.hi = (uint32_t)memlen;
        r.kind = NICSIM_RGN_MEM;
        r.writable = writable;
        r.latency = (uint8_t)(mem_latency ? mem_latency : 1);
        r1 = nicsim_addr((uint32_t)nicsim_vm__map(vm, &r), 0);
    }

    // Load the image, the region table and the memories.
    nicsim_rtl &c = *rtl;
    c.loaded.clear(); // nicsim_rtl__run_vm's programs are overwritten
    c.imem_next = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, &raw[i], 8);
        c.write_imem((uint32_t)i, w);
    }
    for (unsigned i = 0; i < kRegions; i++)
        c.map_region(i, NICSIM_RGN_UNMAPPED, false, 1, 0, 0, 0);
    struct nicsim_timing t;
    nicsim_timing_default(&t);
    c.map_region(1, NICSIM_RGN_STACK, true, t.region_latency[NICSIM_RGN_STACK], 0, 0,
                 kStackBytes);
    c.write_bytes(0, nullptr, kStackBytes); // the stack starts zeroed, as the C model's
    if (memlen) {
        c.map_region(nicsim_addr_region(r1), NICSIM_RGN_MEM, writable,
                     mem_latency ? mem_latency : t.region_latency[NICSIM_RGN_MEM], kMemBase, 0,
                     (uint32_t)memlen);
        c.write_bytes(kMemBase, mem, memlen);
    }

    c.edge(); // the last host write, sampled by the registered port, lands here

    // Run.
    Vebpf_core &m = *c.m;
    m.hw_helpers_i = 0; // the conformance numbering: every helper through the port
    m.entry_i = 0;
    m.r1_i = r1;
    m.r2_i = memlen;
    m.budget_i = budget ? budget : NICSIM_DEFAULT_BUDGET;
    m.start_i = 1;
    c.edge();
    m.start_i = 0;
    uint64_t limit = (uint64_t)m.budget_i * 300 + 100000, last = t.pipeline_fill;
    bool hung = true;
    // Tests only (--lockstep's divergence report): NICSIM_RTL_TEST_CORRUPT_RETIRE=K flips bit 0
    // of the value the K-th retired instruction (from 0) reports on the retire port.
    const char *corrupt_env = getenv("NICSIM_RTL_TEST_CORRUPT_RETIRE");
    uint64_t corrupt_at = corrupt_env ? strtoull(corrupt_env, nullptr, 0) : UINT64_MAX, retired = 0;
    std::string hmsg; // what the helper unit said, for a helper trap's message
    for (uint64_t cyc = 0; cyc < limit; cyc++) {
        m.helper_resp_valid_i = 0;
        if (m.helper_req_valid_o) {
            uint64_t args[5];
            for (int i = 0; i < 5; i++)
                args[i] = (uint64_t)m.helper_args_o[2 * i] |
                          (uint64_t)m.helper_args_o[2 * i + 1] << 32;
            uint32_t id = m.helper_id_o;
            uint32_t tail_pc = 0;
            struct nicsim_helper_out ho = {};
            ho.action = NICSIM_HELPER_CONTINUE;
            const struct nicsim_helper *h =
                id < NICSIM_MAX_HELPERS && helpers && helpers[id].fn ? &helpers[id] : nullptr;
            uint8_t action = 4; // HelperNoSuch
            if (h) {
                c.sync_in();
                h->fn(vm, h->user, args, &ho);
                c.sync_out();
                size_t target = nprogs;
                for (size_t k = 0; k < nprogs; k++)
                    if (ho.tail == progs[k])
                        target = k;
                bool tail_ok = ho.tail && target < nprogs;
                action = ho.action == NICSIM_HELPER_CONTINUE    ? 0
                         : ho.action == NICSIM_HELPER_EXIT      ? 1
                         : ho.action == NICSIM_HELPER_TAIL_CALL ? (tail_ok ? 2 : 0)
                                                                : 3;
                if (ho.action == NICSIM_HELPER_TAIL_CALL && !tail_ok)
                    ho.ret = 0; // a failed tail call falls through with r0 = 0
                tail_pc = tail_ok ? base[target] : 0;
                if (ho.cycles > 0xffff) { // never silently truncated: a loud divergence
                    action = 3;
                    snprintf(ho.trap_msg, sizeof(ho.trap_msg),
                             "%u unit cycles do not fit the RTL helper port (16 bits)", ho.cycles);
                }
                if (action == 3)
                    hmsg = std::string("helper ") + (h->name ? h->name : "?") + ": " + ho.trap_msg;
            } else {
                hmsg = "callx to helper " + std::to_string(id) + ", which this core does not provide";
            }
            m.helper_resp_valid_i = 1;
            m.helper_r0_i = ho.ret;
            m.helper_cycles_i = (uint16_t)ho.cycles;
            m.helper_action_i = action;
            m.helper_tail_pc_i = tail_pc;
            m.eval();
        }
        if (m.retire_valid_o && (trace || c.recording)) {
            struct nicsim_trace_rec rec = {};
            rec.pc = locate(m.retire_pc_o, &rec.prog);
            rec.cycle = m.retire_cycle_o;
            rec.cycles = (uint32_t)(rec.cycle - last);
            rec.dst_value = m.retire_we_o ? m.retire_value_o : 0;
            if (retired++ == corrupt_at)
                rec.dst_value ^= 1;
            last = rec.cycle;
            trace(trace_user, &rec);
        }
        c.edge();
        if (m.done_o) {
            hung = false;
            break;
        }
    }

    run->r0 = m.r0_o;
    run->insns = m.insns_o;
    run->issue = m.insns_o;
    run->cycles = m.cycles_o;
    run->tail_calls = m.tail_calls_o;
    run->status = m.status_o;
    run->stalls.load_use = m.stall_load_use_o;
    run->stalls.memory = m.stall_memory_o;
    run->stalls.branch = m.stall_branch_o;
    run->stalls.jump = m.stall_jump_o;
    run->stalls.call = m.stall_call_o;
    run->stalls.muldiv = m.stall_muldiv_o;
    run->stalls.helper = m.stall_helper_o;
    int rc = 0;
    if (hung) {
        run->status = NICSIM_RUN_TRAP;
        run->trap.kind = NICSIM_TRAP_ILLEGAL;
        snprintf(run->trap.msg, sizeof(run->trap.msg),
                 "prog: the RTL core did not finish within %llu cycles (an RTL bug)",
                 (unsigned long long)limit);
        rc = -EFAULT;
    } else if (run->status != NICSIM_RUN_OK) {
        struct nicsim_trap &tr = run->trap;
        tr.kind = m.trap_kind_o;
        const struct nicsim_prog *tp = prog;
        tr.pc = locate(m.trap_pc_o, &tp);
        tr.addr = m.trap_addr_o;
        tr.size = m.trap_size_o;
        tr.is_write = m.trap_write_o;
        tr.region_kind = m.trap_rgn_o;
        snprintf(tr.prog_name, sizeof(tr.prog_name), "%s", nicsim_prog__name(tp));
        const char *dir = tr.is_write ? "write" : "read";
        switch (tr.kind) {
        case NICSIM_TRAP_UNMAPPED:
            snprintf(tr.msg, sizeof(tr.msg),
                     "%s: insn %u: %s of %u bytes at 0x%llx: address is in no mapped region",
                     tr.prog_name, tr.pc, dir, tr.size, (unsigned long long)tr.addr);
            break;
        case NICSIM_TRAP_BOUNDS: { // the C model's words (sim/core/vm.c mem_trap)
            uint32_t r = nicsim_addr_region(tr.addr);
            uint32_t hi = r == 1 ? kStackBytes : (uint32_t)memlen; // the regions mapped above
            snprintf(tr.msg, sizeof(tr.msg),
                     "%s: insn %u: out-of-bounds %s of %u bytes at 0x%llx: %s region %u offset %u "
                     "is outside [0, %u)",
                     tr.prog_name, tr.pc, dir, tr.size, (unsigned long long)tr.addr,
                     nicsim_region_kind_name((enum nicsim_region_kind)tr.region_kind), r,
                     (uint32_t)tr.addr, hi);
            break;
        }
        case NICSIM_TRAP_READONLY:
            snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: write of %u bytes at 0x%llx: %s region %u is read-only",
                     tr.prog_name, tr.pc, tr.size, (unsigned long long)tr.addr,
                     nicsim_region_kind_name((enum nicsim_region_kind)tr.region_kind),
                     nicsim_addr_region(tr.addr));
            break;
        case NICSIM_TRAP_CALL_DEPTH:
            tr.size = 0;
            tr.addr = 0;
            snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: local call would exceed %d call frames",
                     tr.prog_name, tr.pc, NICSIM_MAX_CALL_DEPTH);
            break;
        case NICSIM_TRAP_ILLEGAL:
            tr.size = 0;
            tr.addr = 0;
            snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s cannot be executed", tr.prog_name,
                     tr.pc,
                     tr.pc < nicsim_prog__len(tp)
                         ? nicsim_isa_op_name((enum nicsim_op)nicsim_prog__insns(tp)[tr.pc].op)
                         : "?");
            break;
        case NICSIM_TRAP_HELPER:
        case NICSIM_TRAP_BAD_HELPER:
            tr.size = 0;
            tr.addr = 0;
            snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s", tr.prog_name, tr.pc, hmsg.c_str());
            break;
        case NICSIM_TRAP_WATCHDOG:
            tr.size = 0;
            tr.addr = 0;
            snprintf(tr.msg, sizeof(tr.msg),
                     "%s: insn %u: watchdog: instruction budget of %llu exhausted (the program "
                     "does not terminate in time)",
                     tr.prog_name, tr.pc, (unsigned long long)m.budget_i);
            break;
        default:
            tr.size = 0;
            tr.addr = 0;
            snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s", tr.prog_name, tr.pc,
                     nicsim_trap_kind_name((enum nicsim_trap_kind)tr.kind));
            break;
        }
        rc = -EFAULT;
    }
    rtl->mirrors.clear();
    nicsim_vm__free(vm);
    return rc;
}

// The slot of `p`'s entry in the instruction memory, loading it (written directly into the
// memory, also while a helper call holds the core) if it is not there; -1 when it does not fit.
static int64_t imem_slot(nicsim_rtl &c, const struct nicsim_prog *p, std::string &why)
{
    size_t n = nicsim_prog__len(p);
    const struct nicsim_isa_insn *in = nicsim_prog__insns(p);
    for (const Loaded &l : c.loaded)
        if (l.prog == p && l.insns.size() == n &&
            std::equal(l.insns.begin(), l.insns.end(), in, [](const nicsim_isa_insn &a,
                                                                const nicsim_isa_insn &b) {
                return memcmp(&a, &b, sizeof(a)) == 0;
            }))
            return l.base;
    std::vector<struct nicsim_insn> raw(n ? n : 1);
    struct nicsim_isa_err err = {};
    if (nicsim_isa_encode(in, n, raw.data(), &err) < 0) {
        why = std::string("cannot encode program ") + nicsim_prog__name(p) + ": " + err.msg;
        return -1;
    }
    if (c.imem_next + n > kImemSlots) {
        if (n > kImemSlots) {
            why = std::string("program ") + nicsim_prog__name(p) + " (" + std::to_string(n) +
                  " slots) is longer than the RTL core's instruction memory (4096 slots)";
            return -1;
        }
        return -2; // full: the caller starts over (between runs only)
    }
    uint32_t base = c.imem_next;
    auto &mem = c.m->rootp->ebpf_core__DOT__u_fetch__DOT__u_imem__DOT__mem;
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, &raw[i], 8);
        mem[base + i] = w;
    }
    c.imem_next += (uint32_t)n;
    c.loaded.push_back({p, base, std::vector<struct nicsim_isa_insn>(in, in + n)});
    return base;
}

static const struct nicsim_prog *prog_at(const nicsim_rtl &c, uint32_t abs, uint32_t *pc)
{
    const Loaded *best = nullptr;
    for (const Loaded &l : c.loaded)
        if (abs >= l.base && abs < l.base + l.insns.size())
            best = &l;
    *pc = best ? abs - best->base : abs;
    return best ? best->prog : nullptr;
}

static int vm_fail(struct nicsim_run *out, const struct nicsim_prog *prog, const std::string &why)
{
    out->status = NICSIM_RUN_TRAP;
    out->trap.kind = NICSIM_TRAP_ILLEGAL;
    snprintf(out->trap.prog_name, sizeof(out->trap.prog_name), "%s", nicsim_prog__name(prog));
    snprintf(out->trap.msg, sizeof(out->trap.msg), "%s: RTL core: %s", nicsim_prog__name(prog),
             why.c_str());
    return 0;
}

int nicsim_rtl__run_vm(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                       uint64_t arg1, uint64_t arg2, struct nicsim_run *out)
{
    nicsim_rtl &c = *static_cast<nicsim_rtl *>(ctx);
    memset(out, 0, sizeof(*out));
    uint64_t run_index = c.vm_runs++;
    c.wave_on = run_index >= c.wave_first && run_index <= c.wave_last;
    std::string why;
    int64_t entry = imem_slot(c, prog, why);
    if (entry == -2) { // the instruction memory is full: start over with this program
        c.loaded.clear();
        c.imem_next = 0;
        entry = imem_slot(c, prog, why);
    }
    if (entry < 0)
        return vm_fail(out, prog, why);

    struct nicsim_timing t;
    nicsim_timing_default(&t);
    c.mirrors.clear();
    const struct nicsim_region *st = nicsim_vm__region(vm, 1);
    if (!st || st->hi != kStackBytes)
        return vm_fail(out, prog, "the vm's stack is not the RTL's 8 x 512 bytes");
    c.mirrors.push_back({0, st->host, kStackBytes, nicsim_addr(1, 0)});
    VmRun env{c, vm, {}, kStackBytes};
    c.poke_region(0, NICSIM_RGN_UNMAPPED, false, 1, 0, 0, 0);
    c.poke_region(1, NICSIM_RGN_STACK, true, st->latency, 0, 0, kStackBytes);
    env.write_full(c.mirrors[0]);
    env.refresh();

    void *trace_user = nullptr;
    nicsim_trace_fn trace = nicsim_vm__trace(vm, &trace_user);
    uint64_t budget = nicsim_vm__budget(vm);
    Vebpf_core &m = *c.m;
    // the NIC's helper numbering: ebpf_helper answers get_smp_processor_id itself
    m.hw_helpers_i = 1;
    m.core_id_i = nicsim_vm__core_id(vm);
    m.entry_i = (uint32_t)entry;
    m.r1_i = arg1;
    m.r2_i = arg2;
    m.budget_i = budget;
    m.start_i = 1;
    c.edge();
    m.start_i = 0;
    uint64_t limit = budget * 300 + 100000, last = t.pipeline_fill;
    bool hung = true;
    const char *corrupt_env = getenv("NICSIM_RTL_TEST_CORRUPT_RETIRE");
    uint64_t corrupt_at = corrupt_env ? strtoull(corrupt_env, nullptr, 0) : UINT64_MAX, retired = 0;
    std::string hmsg;
    const struct nicsim_prog *cur = prog; // the running program (tail calls switch it)
    uint64_t regs[11] = {0, arg1, arg2, 0, 0, 0, 0, 0, 0, 0, nicsim_addr(1, kStackBytes)};
    std::vector<std::array<uint64_t, 4>> frames;
    unsigned tails = 0;
    for (uint64_t cyc = 0; cyc < limit; cyc++) {
        m.helper_resp_valid_i = 0;
        if (m.helper_req_valid_o) {
            uint64_t args[5];
            for (int i = 0; i < 5; i++)
                args[i] = (uint64_t)m.helper_args_o[2 * i] |
                          (uint64_t)m.helper_args_o[2 * i + 1] << 32;
            uint32_t id = m.helper_id_o;
            uint32_t tail_pc = 0;
            struct nicsim_helper_out ho = {};
            ho.action = NICSIM_HELPER_CONTINUE;
            const struct nicsim_helper *helpers = nicsim_prog__helpers(cur);
            const struct nicsim_helper *h =
                id < NICSIM_MAX_HELPERS && helpers[id].fn ? &helpers[id] : nullptr;
            uint8_t action = 4; // HelperNoSuch
            if (h) {
                // the C model's cycle count when it calls the helper: the call's MEM cycle + 1
                uint64_t now = c.cycle_now() + 1;
                nicsim_vm__set_cycles_now(vm, &now);
                c.sync_in();
                std::vector<uint8_t> vis_before;
                if (c.recording) {
                    vis_before.resize(NICSIM_MAX_REGIONS);
                    for (uint32_t i = 2; i < NICSIM_MAX_REGIONS; i++)
                        vis_before[i] = nicsim_vm__region(vm, i) != nullptr;
                }
                h->fn(vm, h->user, args, &ho);
                HelperRec *hr = nullptr;
                if (c.recording) {
                    c.hrecs.push_back(HelperRec());
                    hr = &c.hrecs.back();
                    hr->id = id;
                    memcpy(hr->args, args, sizeof(args));
                    hr->out = ho;
                    c.wrec = &hr->writes;
                }
                action = ho.action == NICSIM_HELPER_CONTINUE    ? 0
                         : ho.action == NICSIM_HELPER_EXIT      ? 1
                         : ho.action == NICSIM_HELPER_TAIL_CALL ? 2
                                                                : 3;
                if (ho.action == NICSIM_HELPER_TAIL_CALL) {
                    int64_t slot = -1;
                    if (ho.tail && tails < NICSIM_MAX_TAIL_CALLS) {
                        slot = imem_slot(c, ho.tail, why);
                        if (slot == -2)
                            why = "the instruction memory (4096 slots) cannot hold the tail "
                                  "call's target beside the running programs";
                        if (slot < 0) {
                            action = 3;
                            snprintf(ho.trap_msg, sizeof(ho.trap_msg), "RTL core: %s", why.c_str());
                        } else {
                            tails++;
                            cur = ho.tail;
                            nicsim_vm__activate(vm, cur);
                            tail_pc = (uint32_t)slot;
                        }
                    } else {
                        action = 0; // a failed tail call falls through with r0 = 0
                        ho.ret = 0;
                    }
                }
                env.refresh();
                if (action == 0)
                    env.follow(ho.ret);
                c.sync_out();
                if (hr) {
                    c.wrec = nullptr;
                    for (uint32_t i = 2; i < NICSIM_MAX_REGIONS; i++) {
                        const struct nicsim_region *rg = nicsim_vm__region(vm, i);
                        if (!rg || vis_before[i])
                            continue;
                        uint32_t cap = rg->kind == NICSIM_RGN_PACKET ? NICSIM_XDP_FRAME_SIZE : rg->hi;
                        hr->shown.push_back({i, *rg});
                        hr->shown_mem.emplace_back(rg->host, rg->host + cap);
                    }
                    for (unsigned i = 2; i < kRegions; i++)
                        if (const struct nicsim_region *rg = nicsim_vm__region(vm, i))
                            hr->bounds.push_back({i, rg->lo, rg->hi});
                }
                if (ho.cycles > 0xffff) {
                    action = 3;
                    snprintf(ho.trap_msg, sizeof(ho.trap_msg),
                             "%u unit cycles do not fit the RTL helper port (16 bits)", ho.cycles);
                }
                if (action == 3)
                    hmsg = std::string("helper ") + (h->name ? h->name : "?") + ": " + ho.trap_msg;
            } else {
                hmsg = "callx to helper " + std::to_string(id) + ", which this core does not provide";
            }
            m.helper_resp_valid_i = 1;
            m.helper_r0_i = ho.ret;
            m.helper_cycles_i = (uint16_t)ho.cycles;
            m.helper_action_i = action;
            m.helper_tail_pc_i = tail_pc;
            m.eval();
        }
        if (m.retire_valid_o && (trace || c.recording)) {
            struct nicsim_trace_rec rec = {};
            rec.prog = prog_at(c, m.retire_pc_o, &rec.pc);
            rec.cycle = m.retire_cycle_o;
            rec.cycles = (uint32_t)(rec.cycle - last);
            // the C model's record carries the value of the instruction's dst register after
            // it, whether or not it wrote it: the harness follows the register file from the
            // retire port (writes, and r6-r10 across local calls)
            if (m.retire_we_o && m.retire_rd_o < 11)
                regs[m.retire_rd_o] = m.retire_value_o;
            const struct nicsim_isa_insn *in =
                rec.prog && rec.pc < nicsim_prog__len(rec.prog) ? &nicsim_prog__insns(rec.prog)[rec.pc]
                                                                : nullptr;
            if (in && in->op == NICSIM_OP_CALL_LOCAL && frames.size() < NICSIM_MAX_CALL_DEPTH) {
                frames.push_back({regs[6], regs[7], regs[8], regs[9]});
                regs[10] -= NICSIM_STACK_SIZE;
            } else if (in && in->op == NICSIM_OP_EXIT && !frames.empty()) {
                for (int k = 0; k < 4; k++)
                    regs[6 + k] = frames.back()[k];
                frames.pop_back();
                regs[10] += NICSIM_STACK_SIZE;
            }
            rec.dst_value = in && in->dst < 11 ? regs[in->dst] : 0;
            if (retired++ == corrupt_at)
                rec.dst_value ^= 1;
            last = rec.cycle;
            if (c.recording)
                c.rrecs.push_back({rec.prog, rec.pc, rec.cycle, rec.dst_value});
            if (trace)
                trace(trace_user, &rec);
        }
        c.edge();
        if (m.done_o) {
            hung = false;
            break;
        }
    }
    // Tests only (run --lockstep's memory comparison): NICSIM_RTL_TEST_CORRUPT_MEM=K flips bit 0
    // of byte K of the RTL's data memory (K < 4096: the stack) as the run ends.
    if (const char *e = getenv("NICSIM_RTL_TEST_CORRUPT_MEM")) {
        uint32_t k = (uint32_t)strtoul(e, nullptr, 0) & (kDmemBytes - 1);
        c.poke(k, c.peek(k) ^ 1);
    }
    c.sync_in(); // the RTL's memory back into the vm's
    c.last_mirrors.swap(c.mirrors);
    c.mirrors.clear();

    out->r0 = m.r0_o;
    out->insns = m.insns_o;
    out->issue = m.insns_o;
    out->cycles = m.cycles_o;
    out->tail_calls = m.tail_calls_o;
    out->status = m.status_o;
    out->stalls.load_use = m.stall_load_use_o;
    out->stalls.memory = m.stall_memory_o;
    out->stalls.branch = m.stall_branch_o;
    out->stalls.jump = m.stall_jump_o;
    out->stalls.call = m.stall_call_o;
    out->stalls.muldiv = m.stall_muldiv_o;
    out->stalls.helper = m.stall_helper_o;
    if (hung)
        return vm_fail(out, prog, "did not finish within " + std::to_string(limit) +
                                      " cycles (an RTL bug)");
    if (out->status == NICSIM_RUN_OK)
        return 0;
    struct nicsim_trap &tr = out->trap;
    uint32_t tpc = 0;
    const struct nicsim_prog *tp = prog_at(c, m.trap_pc_o, &tpc);
    if (!tp)
        tp = cur;
    tr.kind = m.trap_kind_o;
    tr.pc = tpc;
    snprintf(tr.prog_name, sizeof(tr.prog_name), "%s", nicsim_prog__name(tp));
    switch (tr.kind) {
    case NICSIM_TRAP_UNMAPPED:
    case NICSIM_TRAP_BOUNDS:
    case NICSIM_TRAP_READONLY: {
        // the C model's words for the same access against the same region table
        uint64_t addr = m.trap_addr_o;
        uint32_t size = m.trap_size_o;
        bool write = m.trap_write_o;
        uint8_t rk = m.trap_rgn_o, kind = tr.kind;
        if (nicsim_vm__access_trap(vm, tp, tpc, addr, size, write, out) == 0) {
            // the C model would allow it: the RTL's data memory holds one value per map region
            // (the last one a helper returned) or the region did not fit
            tr.kind = kind;
            tr.addr = addr;
            tr.size = (uint8_t)size;
            tr.is_write = write;
            tr.region_kind = rk;
            snprintf(tr.msg, sizeof(tr.msg),
                     "%s: insn %u: RTL core: %s of %u bytes at 0x%llx: not in the RTL's copy of "
                     "region %u (one map value per region)",
                     tr.prog_name, tpc, write ? "write" : "read", size, (unsigned long long)addr,
                     nicsim_addr_region(addr));
        }
        out->status = NICSIM_RUN_TRAP;
        break;
    }
    case NICSIM_TRAP_CALL_DEPTH:
        snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: local call would exceed %d call frames",
                 tr.prog_name, tpc, NICSIM_MAX_CALL_DEPTH);
        break;
    case NICSIM_TRAP_ILLEGAL:
        snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s cannot be executed", tr.prog_name, tpc,
                 tpc < nicsim_prog__len(tp)
                     ? nicsim_isa_op_name((enum nicsim_op)nicsim_prog__insns(tp)[tpc].op)
                     : "?");
        break;
    case NICSIM_TRAP_HELPER:
    case NICSIM_TRAP_BAD_HELPER:
        snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s", tr.prog_name, tpc, hmsg.c_str());
        break;
    case NICSIM_TRAP_WATCHDOG:
        snprintf(tr.msg, sizeof(tr.msg),
                 "%s: insn %u: watchdog: instruction budget of %llu exhausted (the program "
                 "does not terminate in time)",
                 tr.prog_name, tpc, (unsigned long long)budget);
        break;
    default:
        snprintf(tr.msg, sizeof(tr.msg), "%s: insn %u: %s", tr.prog_name, tpc,
                 nicsim_trap_kind_name((enum nicsim_trap_kind)tr.kind));
        break;
    }
    return 0;
}

} // extern "C"

// ---- lockstep: the C model beside the RTL on the same run --------------------------------------

namespace
{

struct Replay {
    const std::vector<HelperRec> *recs;
    size_t next = 0;
    std::string mismatch; // the first helper call the C model made differently
    std::vector<RetireRec> crecs;
};

void replay_helper(void *user, struct nicsim_vm *vm, uint32_t id, const struct nicsim_helper *h,
                   const uint64_t args[5], struct nicsim_helper_out *out)
{
    Replay &rp = *static_cast<Replay *>(user);
    if (id == NICSIM_HW_SMP_ID && h) { // answered inside the RTL core (ebpf_helper): no record
        h->fn(vm, h->user, args, out);
        return;
    }
    if (rp.next >= rp.recs->size() || (*rp.recs)[rp.next].id != id ||
        memcmp((*rp.recs)[rp.next].args, args, 5 * sizeof(uint64_t)) != 0) {
        if (rp.mismatch.empty()) {
            char b[256];
            snprintf(b, sizeof(b),
                     "helper call #%zu: the C model calls helper %u with r1-r5 = 0x%llx 0x%llx "
                     "0x%llx 0x%llx 0x%llx, the RTL %s",
                     rp.next, id, (unsigned long long)args[0], (unsigned long long)args[1],
                     (unsigned long long)args[2], (unsigned long long)args[3],
                     (unsigned long long)args[4],
                     rp.next < rp.recs->size() ? "made another call" : "made no such call");
            rp.mismatch = b;
        }
        out->action = NICSIM_HELPER_TRAP;
        snprintf(out->trap_msg, sizeof(out->trap_msg), "lockstep: not the RTL's helper call");
        return;
    }
    HelperRec &r = const_cast<HelperRec &>((*rp.recs)[rp.next++]);
    for (size_t k = 0; k < r.shown.size(); k++) {
        struct nicsim_region rg = r.shown[k].second;
        if (nicsim_vm__region(vm, r.shown[k].first) || r.shown_mem[k].empty())
            continue;
        rg.host = r.shown_mem[k].data();
        rg.flags = 0;
        nicsim_vm__map_at(vm, r.shown[k].first, &rg);
    }
    for (const ByteWrite &w : r.writes) {
        struct nicsim_region *rg = nicsim_vm__region(vm, nicsim_addr_region(w.nic));
        if (rg)
            rg->host[nicsim_addr_offset(w.nic)] = w.v;
    }
    for (const auto &b : r.bounds)
        if (struct nicsim_region *rg = nicsim_vm__region(vm, b[0])) {
            rg->lo = b[1];
            rg->hi = b[2];
        }
    *out = r.out;
}

void collect_c(void *user, const struct nicsim_trace_rec *r)
{
    static_cast<Replay *>(user)->crecs.push_back({r->prog, r->pc, r->cycle, r->dst_value});
}

std::string describe(const RetireRec *r)
{
    if (!r)
        return "retired no such instruction (its run had ended)";
    char b[256];
    const struct nicsim_isa_insn *in =
        r->prog && r->pc < nicsim_prog__len(r->prog) ? &nicsim_prog__insns(r->prog)[r->pc] : nullptr;
    snprintf(b, sizeof(b), "%s pc %u (%s dst r%u src r%u off %d imm %d): retired in cycle %llu, "
                           "dst register 0x%llx",
             r->prog ? nicsim_prog__name(r->prog) : "?", r->pc,
             in ? nicsim_isa_op_name((enum nicsim_op)in->op) : "?", in ? in->dst : 0,
             in ? in->src : 0, in ? in->off : 0, in ? in->imm : 0, (unsigned long long)r->cycle,
             (unsigned long long)r->value);
    return b;
}

std::string describe_run(const struct nicsim_run &r)
{
    char b[512];
    snprintf(b, sizeof(b), "status %u, r0 0x%llx, %llu instructions, %llu cycles%s%s", r.status,
             (unsigned long long)r.r0, (unsigned long long)r.insns, (unsigned long long)r.cycles,
             r.status ? ", " : "", r.status ? r.trap.msg : "");
    return b;
}

} // namespace

extern "C" {

void nicsim_rtl__set_lockstep_report(struct nicsim_rtl *rtl,
                                     void (*fn)(void *user, const char *report), void *user)
{
    rtl->diverged = fn;
    rtl->diverged_user = user;
}

int nicsim_rtl__run_vm_lockstep(void *ctx, struct nicsim_vm *vm, const struct nicsim_prog *prog,
                                uint64_t arg1, uint64_t arg2, struct nicsim_run *out)
{
    nicsim_rtl &c = *static_cast<nicsim_rtl *>(ctx);
    uint64_t run_index = c.vm_runs;
    // The C model's copy of the environment as the run starts: every visible region
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<struct nicsim_region> regs;
    std::vector<uint32_t> idx;
    for (uint32_t i = 2; i < NICSIM_MAX_REGIONS; i++) {
        const struct nicsim_region *rg = nicsim_vm__region(vm, i);
        if (!rg)
            continue;
        uint32_t cap = rg->kind == NICSIM_RGN_PACKET ? NICSIM_XDP_FRAME_SIZE : rg->hi;
        bufs.emplace_back(rg->host, rg->host + cap);
        regs.push_back(*rg);
        idx.push_back(i);
    }
    // The RTL's run: the one that counts, recorded
    c.recording = true;
    c.hrecs.clear();
    c.rrecs.clear();
    int rc = nicsim_rtl__run_vm(ctx, vm, prog, arg1, arg2, out);
    c.recording = false;
    if (rc < 0)
        return rc;
    // The C model on the copy, its helper calls answered from the RTL's record
    struct nicsim_vm_opts vo = {};
    vo.sz = sizeof(vo);
    vo.core_id = nicsim_vm__core_id(vm);
    vo.budget = nicsim_vm__budget(vm);
    struct nicsim_vm *cv = nicsim_vm__new(&vo);
    if (!cv)
        return -ENOMEM;
    for (size_t k = 0; k < regs.size(); k++) {
        struct nicsim_region r = regs[k];
        r.host = bufs[k].data();
        r.flags = 0;
        if (!bufs[k].empty())
            nicsim_vm__map_at(cv, idx[k], &r);
    }
    nicsim_vm__set_user(cv, nicsim_vm__user(vm)); // for the helpers the RTL answers itself
    Replay rp;
    rp.recs = &c.hrecs;
    nicsim_vm__set_helper_hook(cv, replay_helper, &rp);
    nicsim_vm__set_trace(cv, collect_c, &rp);
    struct nicsim_run cr;
    nicsim_vm__run(cv, prog, arg1, arg2, &cr);

    // Compare: every retired instruction, the helper calls, the end of the run, the memory
    std::string what;
    size_t i = 0, both = std::min(rp.crecs.size(), c.rrecs.size());
    for (; i < both && what.empty(); i++) {
        const RetireRec &a = rp.crecs[i], &b = c.rrecs[i];
        bool trapped = i + 1 == rp.crecs.size() && cr.status == NICSIM_RUN_TRAP;
        if (a.prog != b.prog || a.pc != b.pc)
            what = "pc";
        else if (a.cycle != b.cycle)
            what = "retire cycle";
        else if (!trapped && a.value != b.value)
            what = "dst register value";
    }
    if (!what.empty())
        i--;
    else if (!rp.mismatch.empty())
        what = rp.mismatch;
    else if (rp.crecs.size() != c.rrecs.size())
        what = "number of retired instructions";
    else if (cr.status != out->status || cr.r0 != out->r0 || cr.cycles != out->cycles ||
             cr.insns != out->insns || cr.trap.kind != out->trap.kind ||
             cr.trap.pc != out->trap.pc ||
             memcmp(&cr.stalls, &out->stalls, sizeof(cr.stalls)) != 0)
        what = "end of the run (status, r0, instructions, cycles, stalls or trap)";
    if (what.empty()) {
        // memory after the run: stack, every block the RTL held, the map values it held last
        auto cmp_range = [&](uint32_t r, uint32_t lo, uint32_t len) {
            const struct nicsim_region *a = nicsim_vm__region(cv, r), *b = nicsim_vm__region(vm, r);
            if (!a || !b)
                return;
            for (uint32_t k = 0; k < len && what.empty(); k++)
                if (a->host[lo + k] != b->host[lo + k]) {
                    char t[160];
                    snprintf(t, sizeof(t),
                             "memory after the run: byte 0x%llx is 0x%02x on the C model, 0x%02x "
                             "on the RTL",
                             (unsigned long long)nicsim_addr(r, lo + k), a->host[lo + k],
                             b->host[lo + k]);
                    what = t;
                }
        };
        cmp_range(1, 0, kStackBytes);
        for (const Mirror &mr : c.last_mirrors)
            if (mr.len && nicsim_addr_region(mr.nic) >= 2)
                cmp_range(nicsim_addr_region(mr.nic), nicsim_addr_offset(mr.nic), (uint32_t)mr.len);
    }
    nicsim_vm__free(cv);
    if (what.empty())
        return 0;
    std::string rep = "lockstep: DIVERGENCE in run #" + std::to_string(run_index) +
                      " (the packets that reached a core, from 0; core " +
                      std::to_string(nicsim_vm__core_id(vm)) + ")";
    if (i < both || rp.crecs.size() != c.rrecs.size()) {
        rep += " at retired instruction #" + std::to_string(i) + ": the " + what + " differs\n";
        rep += "  C    " + describe(i < rp.crecs.size() ? &rp.crecs[i] : nullptr) + "\n";
        rep += "  RTL  " + describe(i < c.rrecs.size() ? &c.rrecs[i] : nullptr) + "\n";
        if (i > 0)
            rep += "  previous instruction, the same in both: " + describe(&rp.crecs[i - 1]) + "\n";
        uint64_t lo = i > 0 ? rp.crecs[i - 1].cycle : 0,
                 hi = i < rp.crecs.size() ? rp.crecs[i].cycle : cr.cycles;
        rep += "  cycle window to open in a waveform (--wave, --wave-packets " +
               std::to_string(run_index) + "): where the core's cycle counter is " +
               std::to_string(lo > 5 ? lo - 5 : 0) + ".." + std::to_string(hi + 1) + "\n";
    } else {
        rep += ": the " + what + " differs\n";
    }
    rep += "  C model: " + describe_run(cr) + "\n";
    rep += "  RTL:     " + describe_run(*out) + "\n";
    if (c.diverged)
        c.diverged(c.diverged_user, rep.c_str());
    return 0;
}

} // extern "C"
