// SPDX-License-Identifier: MIT
// The SmartNIC as SystemC modules (include/nicsim/nic/nic.hpp, docs/nic-model.md).
#include "nicsim/nic/nic.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace nicsim::nic {

using sc_core::sc_time;
using sc_core::SC_PS;

static uint64_t now_ps()
{
    return sc_core::sc_time_stamp().value(); // the resolution is SystemC's default, 1 ps
}

// ---- Tracer --------------------------------------------------------------------------------

Tracer::Tracer(sc_core::sc_module_name name, double cycle_ns) : sc_module(name), cycle_ns_(cycle_ns)
{
    SC_THREAD(run);
}

Tracer::~Tracer()
{
    close();
}

uint32_t Tracer::add(const std::string &name)
{
    sigs_.emplace_back(new sc_core::sc_signal<int32_t>((std::string("sig_") + name).c_str(), 0));
    names_.push_back(name);
    value_.push_back(0);
    return (uint32_t)(sigs_.size() - 1);
}

void Tracer::open(const std::string &vcd_path)
{
    std::string base = vcd_path;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0)
        base.resize(base.size() - 4); // SystemC adds .vcd
    tf_ = sc_core::sc_create_vcd_trace_file(base.c_str());
    if (!tf_)
        return;
    tf_->set_time_unit(1, SC_PS);
    for (size_t i = 0; i < sigs_.size(); i++)
        sc_core::sc_trace(tf_, *sigs_[i], names_[i]);
    enabled_ = true;
}

void Tracer::close()
{
    if (tf_)
        sc_core::sc_close_vcd_trace_file(tf_);
    tf_ = nullptr;
    enabled_ = false; // the waveform is complete: nothing more is recorded
}

void Tracer::run()
{
    for (;;) {
        uint64_t now = now_ps();
        while (!pending_.empty() && pending_.top().cycle <= now) {
            const Change c = pending_.top();
            pending_.pop();
            value_[c.signal] += c.delta;
            sigs_[c.signal]->write(value_[c.signal]);
            last_ = c.cycle;
        }
        if (pending_.empty())
            wait(wake);
        else
            wait(sc_time((double)(pending_.top().cycle - now), SC_PS), wake);
    }
}

// ---- Ports, buffers, dispatcher, cores -------------------------------------------------------

Mac::Mac(sc_core::sc_module_name name, uint32_t port_, double rate)
    : sc_module(name), port(port_), line_rate_gbps(rate)
{
}

RxBuffer::RxBuffer(sc_core::sc_module_name name, uint64_t bytes, uint32_t descs)
    : sc_module(name), capacity_bytes(bytes), capacity_descs(descs)
{
}

bool RxBuffer::admit(uint64_t arrival, uint32_t len)
{
    while (!held_.empty() && held_.top().release <= arrival) {
        used_bytes -= held_.top().len;
        used_descs--;
        held_.pop();
    }
    return used_descs < capacity_descs && used_bytes + len <= capacity_bytes;
}

void RxBuffer::hold(uint64_t release, uint32_t len)
{
    held_.push(Held{release, len});
    used_bytes += len;
    used_descs++;
    if (used_descs > max_descs)
        max_descs = used_descs;
    if (used_bytes > max_bytes)
        max_bytes = used_bytes;
}

Dispatcher::Dispatcher(sc_core::sc_module_name name, uint32_t n, uint32_t pol)
    : sc_module(name), n_cores(n), policy(pol)
{
}

uint32_t Dispatcher::pick(const uint8_t *frame, uint32_t len)
{
    if (policy == NICSIM_NIC_DISPATCH_RR) {
        uint32_t c = next;
        next = next + 1 == n_cores ? 0 : next + 1;
        return c;
    }
    return nicsim_dp_flow_hash(frame, len) % n_cores;
}

Core::Core(sc_core::sc_module_name name, uint32_t id_) : sc_module(name), id(id_) {}

bool OrderedQueue::admit(uint64_t ready, uint64_t service, uint64_t hold, uint64_t drain_gap,
                         uint64_t *admitted_at, uint64_t *departure)
{
    if (ready < last_ready)
        ready = last_ready; // frames leave in dispatch order
    last_ready = ready;
    *admitted_at = ready;
    while (!leave_.empty() && leave_.front() <= ready)
        leave_.pop_front();
    if (leave_.size() >= depth_) {
        *departure = ready;
        return false;
    }
    uint64_t start = busy_until > ready ? busy_until : ready;
    uint64_t done = start + service;
    busy_until = done;
    uint64_t leave = done + hold;
    if (drain_gap) {
        uint64_t next_take = taken_until ? taken_until + drain_gap : 0;
        leave = leave > next_take ? leave : next_take;
        taken_until = leave;
    }
    leave_.push_back(leave);
    if (leave_.size() > max_occupancy)
        max_occupancy = (uint32_t)leave_.size();
    *departure = done;
    return true;
}

TxQueue::TxQueue(sc_core::sc_module_name name, uint32_t port_, uint32_t frames_, double rate)
    : sc_module(name), port(port_), line_rate_gbps(rate)
{
    q.configure(frames_);
}

HostQueues::HostQueues(sc_core::sc_module_name name, uint32_t n, uint32_t entries)
    : sc_module(name), rings(n)
{
    for (auto &r : rings)
        r.configure(entries);
}

// ---- BAR -----------------------------------------------------------------------------------

Bar::Bar(sc_core::sc_module_name name, struct nicsim_pcie *pcie)
    : sc_module(name), socket("socket"), irq("irq"), pcie_(pcie)
{
    socket.register_b_transport(this, &Bar::b_transport);
    socket.register_transport_dbg(this, &Bar::transport_dbg);
    SC_THREAD(mgmt_core);
    set_stack_size(16 << 20); // the firmware's C code runs on this thread's stack
}

void Bar::b_transport(tlm::tlm_generic_payload &trans, sc_core::sc_time &delay)
{
    tlm::tlm_command cmd = trans.get_command();
    uint64_t addr = trans.get_address();
    unsigned char *ptr = trans.get_data_ptr();

    trans.set_dmi_allowed(false);
    if (cmd == tlm::TLM_IGNORE_COMMAND) {
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND) {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (trans.get_byte_enable_ptr() && trans.get_byte_enable_length()) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    if (trans.get_data_length() != 4 || trans.get_streaming_width() != 4 || !ptr) {
        trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    if (addr >= NICSIM_BAR0_SIZE || (addr & 3u)) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    uint32_t off = (uint32_t)addr;
    if (cmd == tlm::TLM_READ_COMMAND) {
        uint32_t v = nicsim_pcie__read32(pcie_, off);
        for (int i = 0; i < 4; i++)
            ptr[i] = (unsigned char)(v >> (8 * i)); // little endian, as PCIe
    } else {
        uint32_t v = (uint32_t)ptr[0] | (uint32_t)ptr[1] << 8 | (uint32_t)ptr[2] << 16 |
                     (uint32_t)ptr[3] << 24;
        if (off == NICSIM_BAR0_DOORBELL) {
            doorbells_pending++;
            doorbell.notify(sc_core::SC_ZERO_TIME);
        } else {
            nicsim_pcie__write32(pcie_, off, v);
        }
    }
    uint32_t line = nicsim_pcie__dev_read32(pcie_, NICSIM_BAR0_IRQ_STATUS) &
                    ~nicsim_pcie__dev_read32(pcie_, NICSIM_BAR0_IRQ_MASK);
    irq.write(line != 0);
    (void)delay; // register accesses take no modelled time
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int Bar::transport_dbg(tlm::tlm_generic_payload &trans)
{
    uint64_t addr = trans.get_address();
    unsigned len = trans.get_data_length();
    if (trans.get_command() != tlm::TLM_READ_COMMAND || addr >= NICSIM_BAR0_SIZE)
        return 0;
    unsigned n = 0;
    for (; n < len && addr + n < NICSIM_BAR0_SIZE; n++) {
        uint32_t v = nicsim_pcie__dev_read32(pcie_, (uint32_t)((addr + n) & ~3ull));
        trans.get_data_ptr()[n] = (unsigned char)(v >> (8 * ((addr + n) & 3)));
    }
    return n;
}

// The management core: the firmware runs here, one doorbell at a time.
void Bar::mgmt_core()
{
    for (;;) {
        while (!doorbells_pending)
            wait(doorbell);
        doorbells_pending--;
        nicsim_pcie__write32(pcie_, NICSIM_BAR0_DOORBELL, 1); // the device hook: firmware poll
        doorbells_served++;
        uint32_t line = nicsim_pcie__dev_read32(pcie_, NICSIM_BAR0_IRQ_STATUS) &
                        ~nicsim_pcie__dev_read32(pcie_, NICSIM_BAR0_IRQ_MASK);
        irq.write(line != 0);
    }
}

HostPort::HostPort(sc_core::sc_module_name name, Bar *bar)
    : sc_module(name), socket("socket"), bar_(bar)
{
    socket.bind(bar->socket);
}

tlm::tlm_response_status HostPort::access(tlm::tlm_command cmd, uint64_t addr, uint8_t *data,
                                          unsigned len)
{
    tlm::tlm_generic_payload t;
    sc_time delay = sc_core::SC_ZERO_TIME;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_byte_enable_length(0);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    tlm::tlm_response_status st = t.get_response_status();
    if (st != tlm::TLM_OK_RESPONSE)
        errors++;
    // A doorbell: let the management core run before the host goes on (outside a process; from
    // inside one the thread serves it after the current doorbell).
    if (cmd == tlm::TLM_WRITE_COMMAND && st == tlm::TLM_OK_RESPONSE &&
        addr == NICSIM_BAR0_DOORBELL && !sc_core::sc_get_current_process_handle().valid()) {
        for (int guard = 0; bar_->doorbells_pending && guard < 64; guard++)
            sc_core::sc_start(sc_core::SC_ZERO_TIME);
    }
    return st;
}

uint32_t HostPort::read32(uint32_t off)
{
    uint8_t b[4];
    if (access(tlm::TLM_READ_COMMAND, off, b, 4) != tlm::TLM_OK_RESPONSE)
        return 0xffffffffu;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void HostPort::write32(uint32_t off, uint32_t val)
{
    uint8_t b[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24)};
    access(tlm::TLM_WRITE_COMMAND, off, b, 4);
}

// ---- The NIC --------------------------------------------------------------------------------

static std::string nm(const char *base, uint32_t i)
{
    return std::string(base) + std::to_string(i);
}

Nic::Nic(sc_core::sc_module_name name, const struct nicsim_nic_model_opts &o, bool with_host_port)
    : sc_module(name), opts(o)
{
    for (uint32_t p = 0; p < opts.n_ports; p++) {
        macs.emplace_back(new Mac(nm("mac", p).c_str(), p, opts.line_rate_gbps[p]));
        rx_buffers.emplace_back(
            new RxBuffer(nm("rx_buffer", p).c_str(), opts.rx_buffer_bytes, opts.rx_buffer_descs));
        tx_queues.emplace_back(new TxQueue(nm("tx_queue", p).c_str(), p, opts.tx_queue_frames,
                                           opts.line_rate_gbps[p]));
    }
    dispatcher.reset(new Dispatcher("dispatcher", opts.n_cores, opts.dispatch));
    for (uint32_t c = 0; c < opts.n_cores; c++)
        cores.emplace_back(new Core(nm("core", c).c_str(), c));
    host_queues.reset(new HostQueues("host_queues", opts.host_queues, opts.host_ring_entries));
    if (opts.pcie) {
        bar.reset(new Bar("bar", opts.pcie));
        if (with_host_port)
            host.reset(new HostPort("host", bar.get()));
    }
    tracer.reset(new Tracer("tracer", 0));
    if (opts.vcd_path) {
        trace_ids();
        tracer->open(opts.vcd_path);
    }
}

Nic::~Nic()
{
    if (tracer)
        tracer->close();
}

void Nic::trace_ids()
{
    for (uint32_t p = 0; p < opts.n_ports; p++) {
        sig_rx_.push_back(tracer->add(nm("port", p) + "_rx_active"));
        sig_rxbuf_.push_back(tracer->add(nm("port", p) + "_rx_buffer_frames"));
        sig_txq_.push_back(tracer->add(nm("port", p) + "_tx_queue_frames"));
        sig_tx_.push_back(tracer->add(nm("port", p) + "_tx_active"));
    }
    for (uint32_t c = 0; c < opts.n_cores; c++)
        sig_core_.push_back(tracer->add(nm("core", c) + "_busy"));
    for (uint32_t q = 0; q < opts.host_queues; q++)
        sig_host_.push_back(tracer->add(nm("host_ring", q) + "_entries"));
}

uint64_t Nic::cycles_of_ns(uint64_t ns) const
{
    return ns / 1000 * clock_mhz + ns % 1000 * clock_mhz / 1000;
}

// ps of a cycle count, and the cycle a ps time falls in (rounded up: a departure is never early)
static uint64_t ps_of_cycles(uint64_t c, uint32_t mhz)
{
    return c / mhz * 1000000ull + c % mhz * 1000000ull / mhz;
}
static uint64_t cycles_of_ps(uint64_t ps, uint32_t mhz)
{
    return ps / 1000000ull * mhz + (ps % 1000000ull * mhz + 999999ull) / 1000000ull;
}

uint64_t Nic::ns_of_cycles(uint64_t cycles) const
{
    return ps_of_cycles(cycles, clock_mhz) / 1000;
}

// The time `bytes` take at `gbps`, in ps.
static uint64_t wire_ps(uint32_t bytes, double gbps)
{
    return (uint64_t)std::llround((double)bytes * 8.0 * 1000.0 / gbps);
}

void Nic::sync(uint64_t ps)
{
    if (!tracer->enabled())
        return;
    tracer->wake.notify(sc_core::SC_ZERO_TIME);
    uint64_t now = now_ps();
    if (ps > now)
        sc_core::sc_start(sc_time((double)(ps - now), SC_PS));
    else
        sc_core::sc_start(sc_core::SC_ZERO_TIME);
}

void Nic::finish()
{
    if (!tracer->enabled())
        return;
    struct nicsim_dp_stats *st = dp_ ? nicsim_dp__stats_mut(dp_) : nullptr;
    uint64_t end = st ? ps_of_cycles(st->last_departure_cycle, clock_mhz) : now_ps();
    // every change is at or before the last departure, plus a frame's serialisation after it
    sync(end + 1000000);
    sync(now_ps() + 1000000);
    tracer->close();
}

int Nic::rx(uint32_t port, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
            uint64_t arrival_ns, struct nicsim_dp_result *res)
{
    if (!dp_ || !res || port >= opts.n_ports)
        return -EINVAL;
    if (arrival_ns < last_arrival_)
        arrival_ns = last_arrival_;
    last_arrival_ = arrival_ns;
    uint64_t arrival = cycles_of_ns(arrival_ns);
    uint64_t arrival_ps = ps_of_cycles(arrival, clock_mhz);
    bool tr = tracer->enabled();
    if (tr)
        sync(arrival_ps);
    struct nicsim_dp_stats *st = nicsim_dp__stats_mut(dp_);
    Mac &mac = *macs[port];
    int rc = nicsim_dp__mac_check(dp_, port, frame, caplen, wirelen, res);
    if (rc < 0)
        return rc;
    mac.frames++;
    if (tr) {
        uint64_t on = wire_ps(wirelen + 24, mac.line_rate_gbps);
        tracer->post(arrival_ps, sig_rx_[port], 1);
        tracer->post(arrival_ps + on, sig_rx_[port], -1);
    }
    uint64_t ready_ps = arrival_ps;
    uint32_t len = wirelen;
    if (rc == 0) {
        RxBuffer &rb = *rx_buffers[port];
        if (!rb.admit(arrival, wirelen)) {
            res->dest = NICSIM_DP_DEST_DROP;
            res->drop = NICSIM_DP_DROP_RX_BUFFER_FULL;
            res->arrival_cycle = res->start_cycle = res->end_cycle = res->departure_cycle =
                arrival;
            nicsim_dp__account(dp_, res, wirelen);
            return 0;
        }
        uint32_t core = dispatcher->pick(frame, wirelen);
        rc = nicsim_dp__run(dp_, core, frame, wirelen, arrival, res);
        if (rc < 0)
            return rc;
        rb.hold(res->start_cycle, wirelen);
        if (rb.max_descs > st->max_rx_buffer_frames[port])
            st->max_rx_buffer_frames[port] = rb.max_descs;
        if (rb.max_bytes > st->max_rx_buffer_bytes[port])
            st->max_rx_buffer_bytes[port] = rb.max_bytes;
        Core &c = *cores[core];
        c.packets++;
        c.busy_cycles += res->end_cycle - res->start_cycle;
        uint64_t start_ps = ps_of_cycles(res->start_cycle, clock_mhz);
        ready_ps = ps_of_cycles(res->end_cycle, clock_mhz);
        if (tr) {
            tracer->post(arrival_ps, sig_rxbuf_[port], 1);
            tracer->post(start_ps, sig_rxbuf_[port], -1);
            tracer->post(start_ps, sig_core_[core], 1);
            tracer->post(ready_ps, sig_core_[core], -1);
        }
        len = res->xdp.len;
    } else {
        res->arrival_cycle = res->start_cycle = res->end_cycle = res->departure_cycle = arrival;
    }

    uint64_t admitted = 0, departure = 0;
    if (res->dest == NICSIM_DP_DEST_PORT && res->egress_port < opts.n_ports) {
        TxQueue &tx = *tx_queues[res->egress_port];
        uint64_t ser = wire_ps(len + 24, tx.line_rate_gbps);
        if (tx.q.admit(ready_ps, ser, 0, 0, &admitted, &departure)) {
            tx.frames++;
            tx.bytes += len;
            if (tr) {
                tracer->post(admitted, sig_txq_[tx.port], 1);
                tracer->post(departure, sig_txq_[tx.port], -1);
                tracer->post(departure - ser, sig_tx_[tx.port], 1);
                tracer->post(departure, sig_tx_[tx.port], -1);
            }
        } else {
            res->dest = NICSIM_DP_DEST_DROP;
            res->drop = NICSIM_DP_DROP_TX_QUEUE_FULL;
        }
        if (tx.q.max_occupancy > st->max_tx_queue_frames[tx.port])
            st->max_tx_queue_frames[tx.port] = tx.q.max_occupancy;
        res->departure_cycle = cycles_of_ps(departure, clock_mhz);
    } else if (res->dest == NICSIM_DP_DEST_HOST) {
        uint32_t nq = opts.host_queues;
        uint32_t q;
        if (res->error == NICSIM_DP_OK && res->xdp.action == NICSIM_XDP_PASS)
            q = res->xdp.rx_queue % nq; // ctx->rx_queue_index (the receive queue unless written)
        else if (res->error == NICSIM_DP_OK && res->xdp.redirect_cpu >= 0)
            q = (uint32_t)res->xdp.redirect_cpu % nq; // cpumap: that CPU's queue
        else
            q = nicsim_dp_flow_hash(frame, caplen < wirelen ? caplen : wirelen) % nq;
        res->host_queue = q;
        OrderedQueue &ring = host_queues->rings[q];
        uint64_t dma = wire_ps(len, opts.dma_gbps);
        uint64_t gap = opts.host_drain_mpps > 0
                           ? (uint64_t)std::llround(1e6 / opts.host_drain_mpps)
                           : 0;
        if (ring.admit(ready_ps, dma, 0, gap, &admitted, &departure)) {
            if (tr) {
                tracer->post(admitted, sig_host_[q], 1);
                tracer->post(ring.leave_.back(), sig_host_[q], -1);
            }
        } else {
            res->dest = NICSIM_DP_DEST_DROP;
            res->drop = NICSIM_DP_DROP_HOST_RING_FULL;
        }
        if (q < NICSIM_DP_MAX_HOST_QUEUES && ring.max_occupancy > st->max_host_ring_entries[q])
            st->max_host_ring_entries[q] = ring.max_occupancy;
        res->departure_cycle = cycles_of_ps(departure, clock_mhz);
    }
    nicsim_dp__account(dp_, res, len);
    return 0;
}

} // namespace nicsim::nic

// ---- C API ------------------------------------------------------------------------------------

using nicsim::nic::Nic;

struct nicsim_nic_model {
    Nic *nic;
};

static int g_live;   // models alive in this process
static unsigned g_seq; // module names stay unique within a context

// SystemC's library calls sc_main from its own main(); programs with their own main never do.
extern "C" __attribute__((weak)) int sc_main(int, char **)
{
    return 1;
}

static void set_err(char *err, size_t len, const char *fmt, const char *what, double v)
{
    if (err && len)
        snprintf(err, len, fmt, what, v);
}

extern "C" struct nicsim_nic_model *nicsim_nic_model_new(const struct nicsim_nic_model_opts *opts,
                                                         char *err, size_t err_len)
{
    struct nicsim_nic_model_opts o;
    std::memset(&o, 0, sizeof(o));
    if (!opts || opts->sz == 0) {
        set_err(err, err_len, "%s%g", "NIC model: no options", 0);
        errno = EINVAL;
        return nullptr;
    }
    std::memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
    o.sz = sizeof(o);
    if (o.n_ports == 0 || o.n_ports > NICSIM_DP_MAX_PORTS || o.n_cores == 0 ||
        o.n_cores > NICSIM_DP_MAX_CORES) {
        set_err(err, err_len, "NIC model: %s (%g)", "1..16 ports and 1..64 cores",
                (double)o.n_ports);
        errno = EINVAL;
        return nullptr;
    }
    for (uint32_t p = 0; p < o.n_ports; p++) {
        if (o.line_rate_gbps[p] == 0)
            o.line_rate_gbps[p] = NICSIM_NIC_DEFAULT_LINE_RATE_GBPS;
        if (!(o.line_rate_gbps[p] > 0 && o.line_rate_gbps[p] <= 10000)) {
            set_err(err, err_len, "--line-rate %s%g: a rate in Gb/s, above 0 and at most 10000",
                    "", o.line_rate_gbps[p]);
            errno = EINVAL;
            return nullptr;
        }
    }
    o.rx_buffer_bytes = o.rx_buffer_bytes ? o.rx_buffer_bytes : NICSIM_NIC_DEFAULT_RX_BUFFER_BYTES;
    o.rx_buffer_descs = o.rx_buffer_descs ? o.rx_buffer_descs : NICSIM_NIC_DEFAULT_RX_BUFFER_DESCS;
    o.tx_queue_frames = o.tx_queue_frames ? o.tx_queue_frames : NICSIM_NIC_DEFAULT_TX_QUEUE_FRAMES;
    o.host_queues = o.host_queues ? o.host_queues : o.n_cores;
    o.host_ring_entries =
        o.host_ring_entries ? o.host_ring_entries : NICSIM_NIC_DEFAULT_HOST_RING_ENTRIES;
    o.dma_gbps = o.dma_gbps > 0 ? o.dma_gbps : NICSIM_NIC_DEFAULT_DMA_GBPS;
    if (o.host_queues > NICSIM_DP_MAX_HOST_QUEUES) {
        set_err(err, err_len, "--host-queues %s%g: at most 64", "", (double)o.host_queues);
        errno = EINVAL;
        return nullptr;
    }
    if (o.dispatch > NICSIM_NIC_DISPATCH_RR || o.host_drain_mpps < 0) {
        set_err(err, err_len, "NIC model: %s%g", "bad dispatch or drain rate ", 0);
        errno = EINVAL;
        return nullptr;
    }

    // SystemC's informational messages (the VCD's timescale) are not the model's output
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_simcontext *ctx = sc_core::sc_get_curr_simcontext();
    if (ctx->elaboration_done()) {
        if (g_live) {
            set_err(err, err_len, "NIC model: %s%g", "another model is simulating in this process",
                    0);
            errno = EBUSY;
            return nullptr;
        }
        // A fresh simulation context for this model: the last one has simulated and is done.
        // The old one is kept, not deleted: SystemC's static objects (sc_event::none, ...)
        // still name the context they were made in and use it at exit.
        static std::vector<sc_core::sc_simcontext *> done;
        done.push_back(sc_core::sc_curr_simcontext);
        sc_core::sc_curr_simcontext = new sc_core::sc_simcontext;
        sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
        g_seq = 0;
    }
    auto *m = new (std::nothrow) nicsim_nic_model;
    if (!m) {
        errno = ENOMEM;
        return nullptr;
    }
    try {
        m->nic = new Nic(("nic" + std::to_string(g_seq++)).c_str(), o);
    } catch (const std::exception &e) {
        if (err && err_len)
            snprintf(err, err_len, "NIC model: %s", e.what());
        delete m;
        errno = ENOMEM;
        return nullptr;
    }
    g_live++;
    return m;
}

extern "C" void nicsim_nic_model_free(struct nicsim_nic_model *m)
{
    if (!m)
        return;
    m->nic->finish();
    delete m->nic;
    delete m;
    g_live--;
}

extern "C" int nicsim_nic_model_set_datapath(struct nicsim_nic_model *m, struct nicsim_dp *dp)
{
    if (!m || !dp || nicsim_dp__n_ports(dp) != m->nic->opts.n_ports ||
        nicsim_dp__n_cores(dp) != m->nic->opts.n_cores)
        return -EINVAL;
    m->nic->set_datapath(dp);
    m->nic->clock_mhz = nicsim_dp__clock_mhz(dp);
    return 0;
}

extern "C" int nicsim_nic_model_rx(struct nicsim_nic_model *m, uint32_t port, const uint8_t *frame,
                                   uint32_t caplen, uint32_t wirelen, uint64_t arrival_ns,
                                   struct nicsim_dp_result *res)
{
    return m ? m->nic->rx(port, frame, caplen, wirelen, arrival_ns, res) : -EINVAL;
}

extern "C" void nicsim_nic_model_finish(struct nicsim_nic_model *m)
{
    if (m)
        m->nic->finish();
}

extern "C" uint64_t nicsim_nic_model_time_ns(const struct nicsim_nic_model *m)
{
    (void)m;
    return sc_core::sc_time_stamp().value() / 1000;
}

extern "C" uint64_t nicsim_nic_model_bar_errors(const struct nicsim_nic_model *m)
{
    return m && m->nic->host ? m->nic->host->errors : 0;
}

extern "C" int nicsim_nic_model_irq_line(const struct nicsim_nic_model *m)
{
    return m && m->nic->bar ? (int)m->nic->bar->irq.read() : 0;
}

// ---- the host's BAR operations through the initiator
static nicsim_pcie *pcie_of(void *ctx)
{
    return static_cast<nicsim_nic_model *>(ctx)->nic->opts.pcie;
}
static uint32_t hb_read32(void *ctx, uint32_t off)
{
    Nic *nic = static_cast<nicsim_nic_model *>(ctx)->nic;
    return nic->host ? nic->host->read32(off) : 0xffffffffu;
}
static void hb_write32(void *ctx, uint32_t off, uint32_t val)
{
    Nic *nic = static_cast<nicsim_nic_model *>(ctx)->nic;
    if (nic->host)
        nic->host->write32(off, val);
}
static int hb_dma_read(void *ctx, uint64_t bus, void *buf, size_t len)
{
    return nicsim_pcie__dma_read(pcie_of(ctx), bus, buf, len);
}
static int hb_dma_write(void *ctx, uint64_t bus, const void *buf, size_t len)
{
    return nicsim_pcie__dma_write(pcie_of(ctx), bus, buf, len);
}
static void hb_raise_irq(void *ctx, uint32_t causes)
{
    nicsim_pcie__raise_irq(pcie_of(ctx), causes);
}
static int hb_dma_map(void *ctx, void *ptr, size_t len, uint32_t dir, uint64_t *bus)
{
    return nicsim_pcie__dma_map(pcie_of(ctx), ptr, len, dir, bus);
}
static void hb_dma_unmap(void *ctx, uint64_t bus)
{
    nicsim_pcie__dma_unmap(pcie_of(ctx), bus);
}

static const struct nicsim_bar_ops host_bar_ops = {
    hb_read32, hb_write32, hb_dma_read, hb_dma_write, hb_raise_irq, hb_dma_map, hb_dma_unmap,
};

extern "C" const struct nicsim_bar_ops *nicsim_nic_model_host_bar_ops(void)
{
    return &host_bar_ops;
}
