// SPDX-License-Identifier: MIT
//
// The SmartNIC as SystemC modules (C++17; docs/nic-model.md), for embedding the NIC in another
// SystemC top. The C API over these is include/nicsim/nic/nic_model.h.
//
//   frames ─> Mac[p] ─> RxBuffer[p] ─> Dispatcher ─> Core[c] ─┬─> TxQueue[p] ─> wire
//                                                             └─> HostQueues (DMA rings) ─> host
//   bar (tlm target socket) ─ register logic (sim/pcie) ─ doorbell ─> MgmtCore thread (firmware)
//
// Loosely timed with temporal decoupling: the packet path is a chain of direct calls with
// annotated times (the core's busy time is the packet's cycle count; no event per clock). The
// SystemC kernel's time follows the arrivals only when something needs it: the waveform
// (Tracer), the management core thread, and sync() by the embedding top.
#ifndef NICSIM_NIC_NIC_HPP
#define NICSIM_NIC_NIC_HPP

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "nicsim/nic/nic_model.h"

namespace nicsim::nic {

// A cycle of the NIC clock (uint64) and a change of a traced quantity at that time.
struct Change {
    uint64_t cycle;
    uint32_t signal;
    int32_t delta;
    bool operator>(const Change &o) const { return cycle > o.cycle; }
};

// Records the queue depths, core busy and port activity as sc_signals at their times: changes
// are posted as they are computed (always at or after the current arrival), applied by a thread
// as SystemC time passes them.
class Tracer : public sc_core::sc_module {
  public:
    SC_HAS_PROCESS(Tracer);
    Tracer(sc_core::sc_module_name name, double cycle_ns);
    ~Tracer() override;
    uint32_t add(const std::string &name); // a traced counter, before simulation
    void post(uint64_t cycle, uint32_t signal, int32_t delta)
    {
        if (enabled_)
            pending_.push(Change{cycle, signal, delta});
    }
    bool enabled() const { return enabled_; }
    void open(const std::string &vcd_path); // starts recording into FILE (.vcd added by SystemC)
    void close();
    uint64_t last_cycle() const { return last_; }
    sc_core::sc_event wake;

  private:
    void run();
    double cycle_ns_;
    bool enabled_ = false;
    uint64_t last_ = 0;
    sc_core::sc_trace_file *tf_ = nullptr;
    std::vector<std::unique_ptr<sc_core::sc_signal<int32_t>>> sigs_;
    std::vector<std::string> names_;
    std::vector<int32_t> value_;
    std::priority_queue<Change, std::vector<Change>, std::greater<Change>> pending_;
};

// One port's receive side: the MAC checks of the datapath (runt, oversize, truncated).
class Mac : public sc_core::sc_module {
  public:
    Mac(sc_core::sc_module_name name, uint32_t port, double line_rate_gbps);
    uint32_t port;
    double line_rate_gbps;
    uint64_t frames = 0, errors = 0;
};

// A port's receive buffer: bytes and descriptors, held from arrival until a core starts the frame.
class RxBuffer : public sc_core::sc_module {
  public:
    RxBuffer(sc_core::sc_module_name name, uint64_t bytes, uint32_t descs);
    // Room at `arrival` for `len` bytes? Releases what left before.
    bool admit(uint64_t arrival, uint32_t len);
    void hold(uint64_t release, uint32_t len); // the admitted frame leaves the buffer at release
    uint64_t capacity_bytes;
    uint32_t capacity_descs;
    uint64_t used_bytes = 0;
    uint32_t used_descs = 0, max_descs = 0;
    uint64_t max_bytes = 0;

  private:
    struct Held {
        uint64_t release;
        uint32_t len;
        bool operator>(const Held &o) const { return release > o.release; }
    };
    std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held_;
};

// Chooses the core of a frame: the flow hash (as the plain loop), or round robin.
class Dispatcher : public sc_core::sc_module {
  public:
    Dispatcher(sc_core::sc_module_name name, uint32_t n_cores, uint32_t policy);
    uint32_t pick(const uint8_t *frame, uint32_t len);
    uint32_t n_cores, policy, next = 0;
};

// One core: the datapath's C model of that core (nicsim_dp__run); busy for the packet's cycles.
class Core : public sc_core::sc_module {
  public:
    Core(sc_core::sc_module_name name, uint32_t id);
    uint32_t id;
    uint64_t packets = 0, busy_cycles = 0;
};

// A FIFO of frames leaving in their dispatch order: a transmit queue (serialised at line rate)
// or a host receive ring (DMA, then held until the host takes the frame).
class OrderedQueue {
  public:
    void configure(uint32_t depth) { depth_ = depth; }
    // Frame ready at `ready` (its core's end): kept in dispatch order, so never before the
    // previous frame. Returns false (full) or the departure in *departure.
    bool admit(uint64_t ready, uint64_t service, uint64_t hold, uint64_t drain_gap,
               uint64_t *admitted_at, uint64_t *departure);
    uint32_t depth_ = 0, max_occupancy = 0;
    uint64_t last_ready = 0, busy_until = 0, taken_until = 0;
    std::deque<uint64_t> leave_; // when each queued frame frees its slot, in order
};

class TxQueue : public sc_core::sc_module {
  public:
    TxQueue(sc_core::sc_module_name name, uint32_t port, uint32_t frames, double line_rate_gbps);
    uint32_t port;
    double line_rate_gbps;
    OrderedQueue q;
    uint64_t frames = 0, bytes = 0;
};

class HostQueues : public sc_core::sc_module {
  public:
    HostQueues(sc_core::sc_module_name name, uint32_t n, uint32_t entries);
    std::vector<OrderedQueue> rings;
};

// The BAR: a TLM-2.0 target over the register logic of sim/pcie; the management core's thread
// runs the firmware (the register logic's doorbell hook) when the doorbell is written.
class Bar : public sc_core::sc_module {
  public:
    SC_HAS_PROCESS(Bar);
    Bar(sc_core::sc_module_name name, struct nicsim_pcie *pcie);
    tlm_utils::simple_target_socket<Bar> socket;
    // the interrupt line (level); written by the BAR access and the management core
    sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq;
    sc_core::sc_event doorbell;      // wakes the management core
    uint64_t doorbells_pending = 0;  // written, not yet served by the thread
    uint64_t doorbells_served = 0;

  private:
    void b_transport(tlm::tlm_generic_payload &trans, sc_core::sc_time &delay);
    unsigned int transport_dbg(tlm::tlm_generic_payload &trans);
    void mgmt_core();
    struct nicsim_pcie *pcie_;
};

// The driver's side of the BAR in the model: an initiator socket; the C host code calls
// read32/write32, which run the simulation until the management core has served a doorbell.
class HostPort : public sc_core::sc_module {
  public:
    HostPort(sc_core::sc_module_name name, Bar *bar);
    tlm_utils::simple_initiator_socket<HostPort> socket;
    uint32_t read32(uint32_t off);
    void write32(uint32_t off, uint32_t val);
    tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint8_t *data,
                                    unsigned len);
    uint64_t errors = 0;

  private:
    Bar *bar_;
};

// The NIC top.
class Nic : public sc_core::sc_module {
  public:
    // with_host_port: the model's own initiator (HostPort) on the BAR, for hosts outside the
    // simulation (the C API); an embedding top binds its own initiator to bar->socket instead.
    Nic(sc_core::sc_module_name name, const struct nicsim_nic_model_opts &opts,
        bool with_host_port = true);
    ~Nic() override;
    void set_datapath(struct nicsim_dp *dp) { dp_ = dp; }
    // One frame (see nicsim_nic_model_rx).
    int rx(uint32_t port, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
           uint64_t arrival_ns, struct nicsim_dp_result *res);
    // Lets SystemC time reach `cycle` (the waveform and threads catch up).
    void sync(uint64_t cycle);
    void finish();
    uint64_t cycles_of_ns(uint64_t ns) const;
    uint64_t ns_of_cycles(uint64_t cycles) const;

    struct nicsim_nic_model_opts opts;
    uint32_t clock_mhz = 250;
    std::vector<std::unique_ptr<Mac>> macs;
    std::vector<std::unique_ptr<RxBuffer>> rx_buffers;
    std::unique_ptr<Dispatcher> dispatcher;
    std::vector<std::unique_ptr<Core>> cores;
    std::vector<std::unique_ptr<TxQueue>> tx_queues;
    std::unique_ptr<HostQueues> host_queues;
    std::unique_ptr<Bar> bar;           // NULL without a pcie
    std::unique_ptr<HostPort> host;     // the driver's initiator
    std::unique_ptr<Tracer> tracer;

  private:
    void trace_ids();
    struct nicsim_dp *dp_ = nullptr;
    uint64_t last_arrival_ = 0;
    std::vector<uint32_t> sig_rxbuf_, sig_txq_, sig_rx_, sig_tx_, sig_core_, sig_host_;
};

} // namespace nicsim::nic

#endif // NICSIM_NIC_NIC_HPP
