// SPDX-License-Identifier: MIT
// Instruction builders for the offload tests, after the kernel's BPF_* insn macros
// (include/linux/filter.h), plus small helpers shared by verifier_test, translate_test and
// offload_lifecycle_test.
#ifndef NICSIM_TESTS_OFFLOAD_INSNS_H
#define NICSIM_TESTS_OFFLOAD_INSNS_H

#include <cstdint>
#include <string>
#include <vector>

#include "nicsim/kern.h"

namespace ins
{

using Insn = nicsim_insn;
using Prog = std::vector<nicsim_insn>;

inline Insn raw(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    Insn i{};
    i.code = code;
    i.dst = dst & 0xf;
    i.src = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

inline Insn mov64_imm(int dst, int32_t imm)
{
    return raw(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
inline Insn mov32_imm(int dst, int32_t imm)
{
    return raw(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
inline Insn mov64_reg(int dst, int src)
{
    return raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
inline Insn alu64_imm(uint8_t op, int dst, int32_t imm)
{
    return raw(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
inline Insn alu64_reg(uint8_t op, int dst, int src)
{
    return raw(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}
inline Insn alu32_imm(uint8_t op, int dst, int32_t imm)
{
    return raw(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
inline Insn ldx(uint8_t size, int dst, int src, int16_t off)
{
    return raw(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}
inline Insn stx(uint8_t size, int dst, int src, int16_t off)
{
    return raw(BPF_STX | BPF_MEM | size, dst, src, off, 0);
}
inline Insn st(uint8_t size, int dst, int16_t off, int32_t imm)
{
    return raw(BPF_ST | BPF_MEM | size, dst, 0, off, imm);
}
inline Insn jmp_imm(uint8_t op, int dst, int32_t imm, int16_t off)
{
    return raw(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
inline Insn jmp_reg(uint8_t op, int dst, int src, int16_t off)
{
    return raw(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
inline Insn ja(int16_t off)
{
    return raw(BPF_JMP | BPF_JA, 0, 0, off, 0);
}
inline Insn call(int32_t func)
{
    return raw(BPF_JMP | BPF_CALL, 0, 0, 0, func);
}
inline Insn call_local(int32_t rel)
{
    return raw(BPF_JMP | BPF_CALL, 0, 1, 0, rel);
}
inline Insn exit_insn()
{
    return raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// Two slots: LDDW of a map by index into the load's fd_array (src NICSIM_LDDW_MAP_IDX).
inline void ld_map_idx(Prog &p, int dst, int32_t idx)
{
    p.push_back(raw(BPF_LD | BPF_IMM | BPF_DW, dst, NICSIM_LDDW_MAP_IDX, 0, idx));
    p.push_back(raw(0, 0, 0, 0, 0));
}
inline void ld_imm64(Prog &p, int dst, uint64_t v)
{
    p.push_back(raw(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (int32_t)(uint32_t)v));
    p.push_back(raw(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

// r0 = lookup(map idx, key u32 = 0 on the stack at fp-4); leaves r0 map_value_or_null.
inline void lookup_key0(Prog &p, int map_idx)
{
    p.push_back(st(BPF_W, 10, -4, 0));
    p.push_back(mov64_reg(2, 10));
    p.push_back(alu64_imm(BPF_ADD, 2, -4));
    ld_map_idx(p, 1, map_idx);
    p.push_back(call(BPF_FUNC_map_lookup_elem));
}

// A load attribute for an XDP program.
struct Load {
    nicsim_kern_prog_load_attr attr{};
    std::vector<char> log = std::vector<char>(1 << 16);
    std::vector<int> fds;
    Prog prog; // owned copies: the attr points into them

    Load(const Prog &p, const std::vector<int> &fd_array = {}, uint32_t ifindex = 0,
         const char *name = "test")
        : fds(fd_array), prog(p)
    {
        attr.sz = sizeof(attr);
        attr.prog_type = BPF_PROG_TYPE_XDP;
        attr.expected_attach_type = BPF_XDP;
        attr.insns = prog.data();
        attr.insn_cnt = (uint32_t)prog.size();
        attr.license = "GPL";
        attr.prog_name = name;
        attr.prog_ifindex = ifindex;
        attr.fd_array = fds.empty() ? nullptr : fds.data();
        attr.fd_array_cnt = (uint32_t)fds.size();
        attr.log_buf = log.data();
        attr.log_size = (uint32_t)log.size();
    }
    std::string logs() const { return std::string(log.data()); }
};

inline nicsim_kern_map_create_attr map_attr(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max,
                                            uint32_t ifindex = 0, const char *name = "m",
                                            uint32_t flags = 0)
{
    nicsim_kern_map_create_attr a{};
    a.sz = sizeof(a);
    a.map_type = type;
    a.key_size = ks;
    a.value_size = vs;
    a.max_entries = max;
    a.map_flags = flags;
    a.map_ifindex = ifindex;
    a.map_name = name;
    return a;
}

} // namespace ins

#endif
