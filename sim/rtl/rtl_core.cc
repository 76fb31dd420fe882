// SPDX-License-Identifier: MIT
// nicsim_rtl: the Verilated ebpf_core behind the C model's interfaces (see rtl.h).
//
// Harness pattern (Verilator's examples): a VerilatedContext owned by a unique_ptr, the model
// built on it once, then for each cycle: clock low + eval (outputs of the current cycle settle),
// answer the helper port and sample the retire port, clock high + eval (the edge).
#include "rtl.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

} // namespace

// A span of the RTL's data memory that the harness's helpers see through a host buffer: the
// buffer is filled from the RTL's memory before every helper call and what the helper changed
// is written back before the core continues, so the RTL's memory stays the only backing store.
struct Mirror {
    uint32_t pa;   // data-memory address of the first byte
    uint8_t *host; // the helper vm's region buffer
    size_t len;
};

struct nicsim_rtl {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vebpf_core> m;
    std::unique_ptr<VerilatedFstC> wave;
    uint64_t sim_cycles = 0;
    // the data memory's eight byte banks (rtl/ebpf_lsu.sv g_bank[b].u_bank.mem, public through
    // rtl/lint.vlt): byte `pa` is row pa / 8 of bank pa % 8
    CData *bank[8] = {};
    std::vector<Mirror> mirrors;

    uint8_t peek(uint32_t pa) const { return bank[pa % 8][pa / 8]; }
    void poke(uint32_t pa, uint8_t v) { bank[pa % 8][pa / 8] = v; }
    void sync_in()
    {
        for (const Mirror &mr : mirrors)
            for (size_t i = 0; i < mr.len; i++)
                mr.host[i] = peek(mr.pa + (uint32_t)i);
    }
    void sync_out()
    {
        for (const Mirror &mr : mirrors)
            for (size_t i = 0; i < mr.len; i++)
                if (peek(mr.pa + (uint32_t)i) != mr.host[i])
                    poke(mr.pa + (uint32_t)i, mr.host[i]);
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
        if (!wave) {
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
    rtl->mirrors.push_back({0, stack.data(), kStackBytes});
    if (memlen)
        rtl->mirrors.push_back({kMemBase, copy.data(), memlen});
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
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, &raw[i], 8);
        c.write_imem((uint32_t)i, w);
    }
    for (unsigned i = 0; i < 16; i++)
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
        if (m.retire_valid_o && trace) {
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

} // extern "C"
