// SPDX-License-Identifier: MIT
// Embedding the nicsim SmartNIC in another SystemC top (docs/nic-model.md): the top instantiates
// the NIC module (nicsim::nic::Nic from include/nicsim/nic/nic.hpp, library nicsim_nic), drives
// its BAR through its own TLM initiator socket, rings the doorbell (the NIC's management-core
// thread serves it), and feeds frames to a port from its own thread. Prints what it saw; exit
// status 0 when every check held.
#include <cstdio>
#include <cstring>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "nicsim/core.h"
#include "nicsim/datapath.h"
#include "nicsim/isa.h"
#include "nicsim/nic/nic.hpp"
#include "nicsim/pcie.h"
#include "nicsim/xdp.h"

using namespace sc_core;

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            std::printf("FAILED: %s (line %d)\n", #c, __LINE__);                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int doorbells;
static void on_doorbell(void *) // what firmware would do: here, count and post a value
{
    doorbells++;
}
static const struct nicsim_pcie_dev_ops dev_ops = {on_doorbell, nullptr};

struct Top : sc_module {
    tlm_utils::simple_initiator_socket<Top> bar_init{"bar_init"};
    nicsim::nic::Nic *nic;
    SC_HAS_PROCESS(Top);
    Top(sc_module_name n, const nicsim_nic_model_opts &o) : sc_module(n)
    {
        nic = new nicsim::nic::Nic("nic", o, /*with_host_port=*/false);
        bar_init.bind(nic->bar->socket);
        SC_THREAD(driver);
    }
    tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint32_t *v)
    {
        tlm::tlm_generic_payload t;
        sc_time d = SC_ZERO_TIME;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(reinterpret_cast<unsigned char *>(v));
        t.set_data_length(4);
        t.set_streaming_width(4);
        bar_init->b_transport(t, d);
        return t.get_response_status();
    }
    void driver()
    {
        uint32_t v = 0;
        CHECK(access(tlm::TLM_READ_COMMAND, NICSIM_BAR0_ID, &v) == tlm::TLM_OK_RESPONSE);
        std::printf("BAR ID 0x%08x\n", v);
        CHECK(v == NICSIM_BAR0_ID_VALUE);
        CHECK(access(tlm::TLM_READ_COMMAND, 0x1000, &v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        v = 1;
        CHECK(access(tlm::TLM_WRITE_COMMAND, NICSIM_BAR0_DOORBELL, &v) == tlm::TLM_OK_RESPONSE);
        wait(10, SC_NS); // the management core runs
        std::printf("doorbells served by the management core: %d\n", doorbells);
        CHECK(doorbells == 1);
        // frames, back to back at 10 Gb/s on port 0, from this thread's time
        std::vector<uint8_t> f(64, 0);
        for (int i = 0; i < 8; i++) {
            f[0] = (uint8_t)i;
            struct nicsim_dp_result r;
            uint64_t now_ns = (uint64_t)(sc_time_stamp().to_seconds() * 1e9 + 0.5);
            CHECK(nic->rx(0, f.data(), 64, 64, now_ns, &r) == 0);
            std::printf("frame %d: core %u, verdict %u, start %llu end %llu departure %llu\n", i,
                        r.core, r.xdp.action, (unsigned long long)r.start_cycle,
                        (unsigned long long)r.end_cycle, (unsigned long long)r.departure_cycle);
            CHECK(r.dest == NICSIM_DP_DEST_PORT && r.departure_cycle > r.end_cycle);
            wait(sc_time(70.4, SC_NS));
        }
        sc_stop();
    }
};

int sc_main(int, char **)
{
    // one core's program: XDP_TX
    struct nicsim_insn *raw = nullptr;
    size_t n = 0;
    struct nicsim_isa_err e = {};
    if (nicsim_asm("mov %r0, 3\nexit\n", &raw, &n, &e))
        return 1;
    std::vector<nicsim_isa_insn> insns(n);
    if (nicsim_isa_decode(raw, n, insns.data(), &e))
        return 1;
    free(raw);
    struct nicsim_prog_opts po = {};
    po.sz = sizeof(po);
    po.helpers = nicsim_xdp_helpers();
    struct nicsim_prog *prog = nicsim_prog__load(insns.data(), n, &po, &e);
    struct nicsim_dp_opts dpo = {};
    dpo.sz = sizeof(dpo);
    dpo.n_ports = 1;
    dpo.ports[0] = {1, 1500};
    dpo.n_cores = 2;
    struct nicsim_dp *dp = nicsim_dp__new(&dpo);
    if (!prog || !dp)
        return 1;
    nicsim_dp__set_prog(dp, 0, prog);

    struct nicsim_pcie *pcie = nicsim_pcie__new();
    nicsim_pcie__set_device(pcie, &dev_ops, nullptr);
    nicsim_pcie__dev_write32(pcie, NICSIM_BAR0_ID, NICSIM_BAR0_ID_VALUE);
    nicsim_nic_model_opts o = {};
    o.sz = sizeof(o);
    o.n_ports = 1;
    o.n_cores = 2;
    o.line_rate_gbps[0] = 10;
    o.rx_buffer_bytes = 1 << 20;
    o.rx_buffer_descs = 64;
    o.tx_queue_frames = 64;
    o.host_queues = 2;
    o.host_ring_entries = 64;
    o.dma_gbps = 64;
    o.pcie = pcie;
    Top top("top", o);
    top.nic->set_datapath(dp);
    sc_start();
    const struct nicsim_dp_stats *st = nicsim_dp__stats(dp);
    std::printf("port 0 sent %llu frames; %d check(s) failed\n",
                (unsigned long long)st->tx_frames[0], failures);
    CHECK(st->tx_frames[0] == 8);
    delete top.nic;
    nicsim_dp__free(dp);
    nicsim_prog__free(prog);
    nicsim_pcie__free(pcie);
    return failures ? 1 : 0;
}
