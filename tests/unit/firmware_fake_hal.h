// SPDX-License-Identifier: MIT
// A fake firmware HAL for unit tests: a register array, one window of "host memory" the firmware
// can DMA to, an interrupt log, and cores that keep what was loaded. Faults can be injected.
#ifndef NICSIM_TESTS_FIRMWARE_FAKE_HAL_H
#define NICSIM_TESTS_FIRMWARE_FAKE_HAL_H

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

// nic_image.h uses C11 _Static_assert; give C++ its spelling.
#ifndef _Static_assert
#define _Static_assert static_assert
#endif
#include "nicsim/ctrl.h"
#include "nicsim/fw_hal.h"
#include "nicsim/isa.h"
#include "nicsim/nic_image.h"
#include "nicsim/pcie.h"

struct FakeHal {
    static constexpr uint64_t kBus = 0x10000000ull;

    uint32_t regs[NICSIM_BAR0_SIZE / 4] = {};
    std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20); // host memory at kBus
    bool dma_fail = false;
    uint32_t irq_causes = 0;
    int irq_count = 0;
    // cores
    struct Prog {
        nicsim_fw_prog_desc desc;
        std::vector<nicsim_isa_insn> insns;
        std::vector<uint32_t> maps;
    };
    std::map<uint32_t, Prog> progs;
    std::map<uint32_t, uint32_t> port_prog;
    std::vector<uint32_t> maps_created, maps_freed;
    int load_err = 0;     // core->load fails with this
    int set_port_err = 0; // core->set_port_prog fails with this

    nicsim_fw_hal hal() { return nicsim_fw_hal{&kOps, this, &kCore, this}; }

    static FakeHal *self(void *ctx) { return static_cast<FakeHal *>(ctx); }
    static uint32_t rd(void *ctx, uint32_t off)
    {
        return off < NICSIM_BAR0_SIZE && !(off & 3) ? self(ctx)->regs[off / 4] : 0xffffffffu;
    }
    static void wr(void *ctx, uint32_t off, uint32_t v)
    {
        if (off < NICSIM_BAR0_SIZE && !(off & 3))
            self(ctx)->regs[off / 4] = v;
    }
    bool in_window(uint64_t bus, size_t len) const
    {
        return bus >= kBus && bus - kBus <= mem.size() && len <= mem.size() - (bus - kBus);
    }
    static int dma_read(void *ctx, uint64_t bus, void *buf, size_t len)
    {
        FakeHal *f = self(ctx);
        if (f->dma_fail || !f->in_window(bus, len))
            return -EFAULT;
        memcpy(buf, f->mem.data() + (bus - kBus), len);
        return 0;
    }
    static int dma_write(void *ctx, uint64_t bus, const void *buf, size_t len)
    {
        FakeHal *f = self(ctx);
        if (f->dma_fail || !f->in_window(bus, len))
            return -EFAULT;
        memcpy(f->mem.data() + (bus - kBus), buf, len);
        return 0;
    }
    static void irq(void *ctx, uint32_t causes)
    {
        self(ctx)->irq_causes |= causes;
        self(ctx)->irq_count++;
    }
    static int load(void *ctx, const nicsim_fw_prog_desc *d, char *msg, size_t len)
    {
        FakeHal *f = self(ctx);
        if (f->load_err) {
            snprintf(msg, len, "core says no");
            return f->load_err;
        }
        Prog p;
        p.desc = *d;
        p.insns.assign(d->insns, d->insns + d->n);
        p.maps.assign(d->map_ids, d->map_ids + d->n_maps);
        p.desc.insns = nullptr;
        p.desc.map_ids = nullptr;
        f->progs[d->prog_id] = p;
        return 0;
    }
    static void unload(void *ctx, uint32_t id) { self(ctx)->progs.erase(id); }
    static int set_port(void *ctx, uint32_t port, uint32_t prog)
    {
        FakeHal *f = self(ctx);
        if (f->set_port_err)
            return f->set_port_err;
        f->port_prog[port] = prog;
        return 0;
    }
    static void created(void *ctx, uint32_t id) { self(ctx)->maps_created.push_back(id); }
    static void freed(void *ctx, uint32_t id) { self(ctx)->maps_freed.push_back(id); }

    static constexpr nicsim_fw_hal_ops kOps = {rd, wr, dma_read, dma_write, irq};
    static constexpr nicsim_fw_core_ops kCore = {load, unload, set_port, created, freed};
};

// A NIC image under construction.
struct Image {
    nicsim_img_hdr hdr{};
    std::vector<uint32_t> maps;
    std::vector<nicsim_insn> insns;

    Image()
    {
        hdr.magic = NICSIM_IMG_MAGIC;
        hdr.version = NICSIM_IMG_VERSION;
        hdr.hdr_len = sizeof(hdr);
        hdr.prog_type = 6;
        hdr.stack_depth = 8;
        strcpy(hdr.name, "xdp_test");
    }
    Image &op(uint8_t code, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0)
    {
        nicsim_insn i{};
        i.code = code;
        i.dst = dst & 15;
        i.src = src & 15;
        i.off = off;
        i.imm = imm;
        insns.push_back(i);
        return *this;
    }
    Image &mov(uint8_t dst, int32_t imm) { return op(0xb7, dst, 0, 0, imm); }
    Image &exit() { return op(0x95); }
    Image &call(int32_t helper) { return op(0x85, 0, 0, 0, helper); }
    Image &lddw(uint8_t dst, uint8_t src, int32_t lo, int32_t hi)
    {
        op(0x18, dst, src, 0, lo);
        return op(0, 0, 0, 0, hi);
    }
    // the simplest valid program: return XDP_PASS
    static Image pass()
    {
        Image im;
        im.mov(0, 2).exit();
        return im;
    }
    std::vector<uint8_t> bytes()
    {
        if (!hdr.n_slots)
            hdr.n_slots = (uint32_t)insns.size();
        if (!hdr.n_maps)
            hdr.n_maps = (uint32_t)maps.size();
        std::vector<uint8_t> b(sizeof(hdr) + 4 * maps.size() + 8 * insns.size());
        nicsim_img_hdr_put(b.data(), &hdr);
        for (size_t i = 0; i < maps.size(); i++)
            nicsim_put_le32(b.data(), sizeof(hdr) + 4 * i, maps[i]);
        for (size_t i = 0; i < insns.size(); i++)
            nicsim_img_slot_put(b.data() + sizeof(hdr) + 4 * maps.size() + 8 * i, &insns[i]);
        return b;
    }
};

#endif
