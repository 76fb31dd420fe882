// SPDX-License-Identifier: MIT
// Tests of the ELF object loader (host/elf): every feature on the objects of tests/elf/progs,
// every refusal with its exact message, malformed input built by patching real objects, and a
// differential test against libbpf's bpf_object__open over every object of the project and the
// xdp-tools objects Debian installs.
#include <gelf.h>
#include <libelf.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nicsim/isa.h"
#include "nicsim/obj.h"

namespace
{

using Bytes = std::vector<uint8_t>;

struct ObjDeleter {
    void operator()(nicsim_obj *o) const { nicsim_obj__free(o); }
};
using Obj = std::unique_ptr<nicsim_obj, ObjDeleter>;

std::string ObjPath(const std::string &name)
{
    return std::string(ELF_TEST_OBJ_DIR) + "/" + name + ".bpf.o";
}

Bytes ReadFile(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Obj Open(const std::string &name, std::string *err = nullptr)
{
    char buf[512];
    Obj o(nicsim_obj__open_file(ObjPath(name).c_str(), nullptr, buf, sizeof(buf)));
    if (err)
        *err = o ? "" : buf;
    return o;
}

std::string OpenMemError(const Bytes &b, const char *name = "t.o")
{
    char buf[512];
    Obj o(nicsim_obj__open_mem(b.data(), b.size(), name, nullptr, buf, sizeof(buf)));
    return o ? "" : buf;
}

// Section headers and symbols of an object, read with libelf, to locate bytes to patch.
struct ElfInfo {
    struct Sec {
        std::string name;
        GElf_Shdr sh;
    };
    uint64_t shoff = 0;
    std::vector<Sec> secs;
    std::map<std::string, GElf_Sym> syms;

    explicit ElfInfo(const Bytes &b)
    {
        elf_version(EV_CURRENT);
        Bytes copy = b;
        Elf *e = elf_memory(reinterpret_cast<char *>(copy.data()), copy.size());
        GElf_Ehdr eh;
        size_t n, strndx;
        gelf_getehdr(e, &eh);
        shoff = eh.e_shoff;
        elf_getshdrnum(e, &n);
        elf_getshdrstrndx(e, &strndx);
        for (size_t i = 0; i < n; i++) {
            Sec s;
            gelf_getshdr(elf_getscn(e, i), &s.sh);
            s.name = elf_strptr(e, strndx, s.sh.sh_name);
            secs.push_back(s);
        }
        for (size_t i = 0; i < n; i++) {
            if (secs[i].sh.sh_type != SHT_SYMTAB)
                continue;
            Elf_Data *d = elf_getdata(elf_getscn(e, i), nullptr);
            for (size_t k = 0; k < d->d_size / sizeof(Elf64_Sym); k++) {
                GElf_Sym s;
                gelf_getsym(d, (int)k, &s);
                const char *nm = elf_strptr(e, secs[i].sh.sh_link, s.st_name);
                if (nm && *nm)
                    syms[nm] = s;
            }
        }
        elf_end(e);
    }
    size_t Index(const std::string &name) const
    {
        for (size_t i = 0; i < secs.size(); i++)
            if (secs[i].name == name)
                return i;
        ADD_FAILURE() << "no section " << name;
        return 0;
    }
    uint64_t ShdrAt(const std::string &name) const
    {
        return shoff + Index(name) * sizeof(Elf64_Shdr);
    }
};

uint32_t StaticVarOffset(const std::string &path, const char *sec, const char *var)
{
    btf *b = btf__parse_elf(path.c_str(), nullptr);
    uint32_t off = UINT32_MAX;
    int id = b ? btf__find_by_name_kind(b, sec, BTF_KIND_DATASEC) : -1;
    const btf_type *t = id > 0 ? btf__type_by_id(b, id) : nullptr;
    for (int i = 0; t && i < btf_vlen(t); i++) {
        const btf_type *vt = btf__type_by_id(b, btf_var_secinfos(t)[i].type);
        if (!strcmp(btf__name_by_offset(b, vt->name_off), var))
            off = btf_var_secinfos(t)[i].offset;
    }
    btf__free(b);
    EXPECT_NE(off, UINT32_MAX) << var;
    return off;
}

template <typename T> void Poke(Bytes &b, uint64_t off, T v)
{
    memcpy(b.data() + off, &v, sizeof(v));
}

const nicsim_obj_map &MapNamed(nicsim_obj *o, const char *name)
{
    int i = nicsim_obj__find_map(o, name);
    EXPECT_GE(i, 0) << name;
    return *nicsim_obj__map(o, i < 0 ? 0 : i);
}

// Every relocated LDDW of a program: (slot, src, imm, second imm).
struct Lddw {
    size_t slot;
    unsigned src;
    int32_t imm, imm2;
};
std::vector<Lddw> MapLoads(const nicsim_obj_prog *p)
{
    std::vector<Lddw> v;
    for (size_t i = 0; i + 1 < p->n; i++)
        if (p->insns[i].code == 0x18 && p->insns[i].src >= NICSIM_LDDW_MAP_IDX) {
            v.push_back({i, p->insns[i].src, p->insns[i].imm, p->insns[i + 1].imm});
            i++;
        }
    return v;
}

void ExpectValidProgram(const nicsim_obj_prog *p)
{
    std::vector<nicsim_isa_insn> dec(p->n);
    nicsim_isa_err err{};
    EXPECT_EQ(nicsim_isa_decode(p->insns, p->n, dec.data(), &err), 0)
        << p->name << ": " << err.msg << " at " << err.index;
}

// ---- loading: header checks and malformed files ----

TEST(ElfTest, RefusesNonElfInput)
{
    const char text[] = "not an ELF file at all";
    EXPECT_EQ(OpenMemError(Bytes(text, text + sizeof(text))), "t.o: not an ELF file");
    EXPECT_EQ(OpenMemError(Bytes()), "t.o: not an ELF file");
}

TEST(ElfTest, RefusesWrongMachineClassAndByteOrder)
{
    Bytes b = ReadFile(ObjPath("nomaps"));
    ASSERT_GT(b.size(), 64u);
    Bytes m = b;
    Poke<uint16_t>(m, 18, 62); // e_machine = EM_X86_64
    EXPECT_EQ(OpenMemError(m, "foo.o"), "foo.o: not a BPF object (machine 62)");
    Bytes c = b;
    c[EI_CLASS] = ELFCLASS32;
    EXPECT_EQ(OpenMemError(c), "t.o: not a BPF object (ELF class 1, not 64-bit)");
    Bytes d = b;
    d[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(OpenMemError(d), "t.o: not a BPF object (big-endian)");
    Bytes t = b;
    Poke<uint16_t>(t, 16, ET_EXEC);
    EXPECT_EQ(OpenMemError(t), "t.o: not a BPF object file (ELF type 2, not relocatable)");
}

TEST(ElfTest, MissingFileNamesThePath)
{
    char err[256];
    EXPECT_EQ(nicsim_obj__open_file("/nonexistent/x.o", nullptr, err, sizeof(err)), nullptr);
    EXPECT_STREQ(err, "/nonexistent/x.o: cannot open: No such file or directory");
}

TEST(ElfTest, SectionPastTheEndOfTheFile)
{
    Bytes b = ReadFile(ObjPath("subprogs"));
    ElfInfo info(b);
    Poke<uint64_t>(b, info.ShdrAt("xdp") + 24, b.size() + 4096); // sh_offset
    std::string e = OpenMemError(b);
    EXPECT_EQ(e.rfind("t.o: section 'xdp': cannot read its contents", 0), 0u) << e;
}

TEST(ElfTest, ExecutableSectionOfOddSize)
{
    Bytes b = ReadFile(ObjPath("subprogs"));
    ElfInfo info(b);
    uint64_t size = info.secs[info.Index("xdp")].sh.sh_size;
    Poke<uint64_t>(b, info.ShdrAt("xdp") + 32, size - 4);
    EXPECT_EQ(OpenMemError(b),
              "t.o: section 'xdp': size " + std::to_string(size - 4) + " is not a multiple of 8");
}

TEST(ElfTest, RelocationSymbolIndexOutOfRange)
{
    Bytes b = ReadFile(ObjPath("legacy_maps"));
    ElfInfo info(b);
    uint64_t rel = info.secs[info.Index(".relxdp")].sh.sh_offset;
    Poke<uint64_t>(b, rel + 8, (uint64_t)0xffff << 32 | R_BPF_64_64);
    EXPECT_EQ(OpenMemError(b),
              "t.o: section '.relxdp' relocation #0: symbol index 65535 out of range");
}

TEST(ElfTest, RelocationOutsideItsSection)
{
    Bytes b = ReadFile(ObjPath("legacy_maps"));
    ElfInfo info(b);
    uint64_t rel = info.secs[info.Index(".relxdp")].sh.sh_offset;
    Poke<uint64_t>(b, rel, 0x100000);
    EXPECT_EQ(OpenMemError(b), "t.o: section '.relxdp' relocation #0: offset 1048576 is outside "
                               "section 'xdp'");
}

TEST(ElfTest, SymbolSectionIndexOutOfRange)
{
    Bytes b = ReadFile(ObjPath("nomaps"));
    ElfInfo info(b);
    uint64_t symtab = info.secs[info.Index(".symtab")].sh.sh_offset;
    Poke<uint16_t>(b, symtab + sizeof(Elf64_Sym) + 6, 0x7000); // symbol 1's st_shndx
    EXPECT_EQ(OpenMemError(b), "t.o: symbol 1: section index 28672 out of range");
}

// issue 7 E: an lddw of a global whose offset is the end of its section points past the value;
// the kernel refuses value offsets >= the value size, and so does the loader.
TEST(ElfTest, LddwOfAGlobalAtTheEndOfItsSectionIsRefused)
{
    Bytes b = ReadFile(ObjPath("globals"));
    ElfInfo info(b);
    const ElfInfo::Sec &rel = info.secs[info.Index(".relxdp")];
    const ElfInfo::Sec &symtab = info.secs[info.Index(".symtab")];
    size_t data = info.Index(".data.counters");
    uint64_t size = info.secs[data].sh.sh_size;
    bool patched = false;
    for (uint64_t k = 0; k < rel.sh.sh_size / sizeof(Elf64_Rel) && !patched; k++) {
        Elf64_Rel r;
        memcpy(&r, b.data() + rel.sh.sh_offset + k * sizeof(r), sizeof(r));
        Elf64_Sym sym;
        memcpy(&sym, b.data() + symtab.sh.sh_offset + ELF64_R_SYM(r.r_info) * sizeof(sym),
               sizeof(sym));
        if (sym.st_shndx != data)
            continue;
        // imm of the lddw: st_value + imm == the section's size
        Poke<int32_t>(b, info.secs[info.Index("xdp")].sh.sh_offset + r.r_offset + 4,
                      (int32_t)(size - sym.st_value));
        patched = true;
    }
    ASSERT_TRUE(patched) << "no lddw of .data.counters in globals";
    std::string e = OpenMemError(b);
    EXPECT_NE(e.find("is outside '.data.counters' (" + std::to_string(size) + " bytes)"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.rfind("t.o: section 'xdp' insn ", 0), 0u) << e;
}

TEST(ElfTest, TruncatedFilesAreRefusedWithAMessage)
{
    for (const char *name : {"globals", "maps_btf", "subprogs", "tail_calls", "legacy_maps"}) {
        Bytes b = ReadFile(ObjPath(name));
        ASSERT_FALSE(b.empty()) << name;
        for (size_t len = 0; len < b.size(); len += 1 + len / 16) {
            Bytes t(b.begin(), b.begin() + len);
            std::string e = OpenMemError(t, "cut.o");
            EXPECT_EQ(e.rfind("cut.o: ", 0), 0u) << name << " cut at " << len << ": " << e;
            EXPECT_GT(e.size(), strlen("cut.o: ")) << name << " cut at " << len;
        }
    }
}

TEST(ElfTest, BadOptionsAreRefused)
{
    Bytes b = ReadFile(ObjPath("nomaps"));
    nicsim_obj_opts opts{};
    char err[128];
    EXPECT_EQ(nicsim_obj__open_mem(b.data(), b.size(), "o.o", &opts, err, sizeof(err)), nullptr);
    EXPECT_STREQ(err, "o.o: bad options (sz 0)");
    opts.sz = sizeof(opts);
    Obj o(nicsim_obj__open_mem(b.data(), b.size(), "o.o", &opts, err, sizeof(err)));
    EXPECT_TRUE(o) << err;
}

// ---- programs ----

TEST(ElfTest, ProgramWithoutMapsLoads)
{
    std::string err;
    Obj o = Open("nomaps", &err);
    ASSERT_TRUE(o) << err;
    EXPECT_STREQ(nicsim_obj__name(o.get()), "nomaps.bpf.o");
    EXPECT_STREQ(nicsim_obj__license(o.get()), "GPL");
    EXPECT_EQ(nicsim_obj__n_maps(o.get()), 0u);
    ASSERT_EQ(nicsim_obj__n_progs(o.get()), 1u);
    const nicsim_obj_prog *p = nicsim_obj__prog(o.get(), 0);
    EXPECT_STREQ(p->name, "xdp_refused");
    EXPECT_STREQ(p->section, "xdp");
    EXPECT_EQ(p->prog_type, (uint32_t)BPF_PROG_TYPE_XDP);
    EXPECT_EQ(p->expected_attach_type, (uint32_t)BPF_XDP);
    ASSERT_EQ(p->n, 2u); // r0 = 2; exit
    EXPECT_EQ(p->insns[0].code, 0xb7);
    EXPECT_EQ(p->insns[0].imm, XDP_PASS);
    EXPECT_EQ(p->insns[1].code, 0x95);
    EXPECT_EQ(nicsim_obj__prog(o.get(), 1), nullptr);
}

TEST(ElfTest, ProgramTypesFromSectionNames)
{
    Obj o = Open("subprogs");
    ASSERT_TRUE(o);
    struct Want {
        const char *name, *section;
        uint32_t type, attach;
        int autoload;
    };
    const Want want[] = {
        {"xdp_first", "xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 1},
        {"xdp_second", "xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 1},
        {"xdp_frags_prog", "xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, 1},
        {"xdp_devmap_prog", "xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 1},
        {"xdp_custom", "xdp/custom_hook", BPF_PROG_TYPE_UNSPEC, 0, 1},
        {"tc_prog", "tc", BPF_PROG_TYPE_SCHED_CLS, 0, 1},
        {"cls_prog", "classifier", BPF_PROG_TYPE_SCHED_CLS, 0, 1},
        {"sock_prog", "socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 1},
        {"xdp_optional", "xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 0},
        {"tp_prog", "tracepoint/syscalls/sys_enter_write", BPF_PROG_TYPE_TRACEPOINT, 0, 1},
        {"unknown_prog", "nicsim_unknown", BPF_PROG_TYPE_UNSPEC, 0, 1},
    };
    ASSERT_EQ(nicsim_obj__n_progs(o.get()), std::size(want));
    for (const Want &w : want) {
        const nicsim_obj_prog *p = nicsim_obj__find_prog(o.get(), w.name);
        ASSERT_NE(p, nullptr) << w.name;
        EXPECT_STREQ(p->section, w.section) << w.name;
        EXPECT_EQ(p->prog_type, w.type) << w.name;
        EXPECT_EQ(p->expected_attach_type, w.attach) << w.name;
        EXPECT_EQ(p->autoload, w.autoload) << w.name;
        ExpectValidProgram(p);
    }
    EXPECT_STREQ(nicsim_obj__license(o.get()), "Dual MIT/GPL");
    // lookup by section name: the first program of the section
    EXPECT_STREQ(nicsim_obj__find_prog(o.get(), "xdp/devmap")->name, "xdp_devmap_prog");
    EXPECT_EQ(nicsim_obj__find_prog(o.get(), "nope"), nullptr);
}

// The instructions of a .text function as in the file, by name.
std::vector<nicsim_insn> TextFunc(const std::string &obj, const std::string &fn)
{
    Bytes b = ReadFile(ObjPath(obj));
    ElfInfo info(b);
    const GElf_Sym &s = info.syms.at(fn);
    const GElf_Shdr &sh = info.secs[s.st_shndx].sh;
    std::vector<nicsim_insn> v(s.st_size / 8);
    memcpy(v.data(), b.data() + sh.sh_offset + s.st_value, s.st_size);
    return v;
}

// Checks that the linked program holds each listed function once, at a call target, with its
// instructions as in the file except the relocated ones; returns the function order.
std::vector<std::string> LinkedFunctions(const nicsim_obj_prog *p,
                                         const std::vector<std::string> &fns)
{
    std::vector<std::pair<size_t, std::string>> found;
    for (const std::string &fn : fns) {
        std::vector<nicsim_insn> want = TextFunc("subprogs", fn);
        for (size_t at = p->entry_n; at + want.size() <= p->n; at++) {
            bool same = true;
            for (size_t k = 0; k < want.size() && same; k++) {
                const nicsim_insn &a = p->insns[at + k], &w = want[k];
                bool relocated = a.code == 0x85 && a.src == 1;
                relocated |= a.code == 0x18 && a.src >= NICSIM_LDDW_MAP_IDX;
                relocated |= k > 0 && p->insns[at + k - 1].code == 0x18 &&
                             p->insns[at + k - 1].src >= NICSIM_LDDW_MAP_IDX;
                same = a.code == w.code && a.dst == w.dst && a.off == w.off &&
                       (relocated || (a.src == w.src && a.imm == w.imm));
            }
            if (same) {
                found.emplace_back(at, fn);
                break;
            }
        }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> order;
    size_t end = p->entry_n;
    for (auto &f : found) {
        EXPECT_EQ(f.first, end) << p->name << ": " << f.second << " not where expected";
        end = f.first + TextFunc("subprogs", f.second).size();
        order.push_back(f.second);
    }
    EXPECT_EQ(end, p->n) << p->name << ": linked program has unexplained slots";
    // every local call lands on the start of one of them
    for (size_t i = 0; i < p->n; i++) {
        if (p->insns[i].code != 0x85 || p->insns[i].src != 1)
            continue;
        long t = (long)i + p->insns[i].imm + 1;
        bool ok = false;
        for (auto &f : found)
            ok |= (size_t)t == f.first;
        EXPECT_TRUE(ok) << p->name << ": call at " << i << " to " << t;
    }
    return order;
}

TEST(ElfTest, SubprogramsAreLinkedAfterTheEntryInFirstCallOrder)
{
    Obj o = Open("subprogs");
    ASSERT_TRUE(o);
    // xdp_first: classify(global_len(ctx)): global_len is called first, then classify, which
    // calls bump (libbpf appends depth first at the first call)
    EXPECT_EQ(LinkedFunctions(nicsim_obj__find_prog(o.get(), "xdp_first"),
                              {"global_len", "classify", "bump"}),
              (std::vector<std::string>{"global_len", "classify", "bump"}));
    EXPECT_EQ(LinkedFunctions(nicsim_obj__find_prog(o.get(), "xdp_second"), {"global_len", "bump"}),
              (std::vector<std::string>{"global_len", "bump"}));
    EXPECT_EQ(LinkedFunctions(nicsim_obj__find_prog(o.get(), "xdp_custom"), {"bump"}),
              (std::vector<std::string>{"bump"}));
    EXPECT_EQ(LinkedFunctions(nicsim_obj__find_prog(o.get(), "tc_prog"), {}),
              std::vector<std::string>{});
    // bump's map reference is relocated in every program that links it
    const nicsim_obj_prog *custom = nicsim_obj__find_prog(o.get(), "xdp_custom");
    int hits = nicsim_obj__find_map(o.get(), "hits"), bss = nicsim_obj__find_map(o.get(), ".bss");
    std::vector<Lddw> loads = MapLoads(custom);
    ASSERT_EQ(loads.size(), 2u);
    EXPECT_EQ(loads[0].src, (unsigned)NICSIM_LDDW_MAP_IDX);
    EXPECT_EQ(loads[0].imm, hits);
    EXPECT_EQ(loads[1].src, (unsigned)NICSIM_LDDW_MAP_IDX_VALUE);
    EXPECT_EQ(loads[1].imm, bss);
    EXPECT_EQ(loads[1].imm2, 0); // `total`, the only .bss variable
}

// BTF line info: each function placed in a program brings its lines to where it was linked.
TEST(ElfTest, LineInfoFollowsEachFunctionToWhereItIsLinked)
{
    Obj o = Open("subprogs");
    ASSERT_TRUE(o);
    const nicsim_obj_prog *first = nicsim_obj__find_prog(o.get(), "xdp_first");
    const nicsim_obj_prog *custom = nicsim_obj__find_prog(o.get(), "xdp_custom");
    ASSERT_TRUE(first && custom);
    auto find = [](const nicsim_obj_prog *p, const char *text) -> const nicsim_obj_line * {
        for (size_t i = 0; i < p->n_lines; i++)
            if (strstr(p->lines[i].src, text))
                return &p->lines[i];
        return nullptr;
    };
    for (const nicsim_obj_prog *p : {first, custom}) {
        ASSERT_GT(p->n_lines, 0u) << p->name;
        for (size_t i = 0; i < p->n_lines; i++) {
            EXPECT_LT(p->lines[i].insn, p->n) << p->name;
            EXPECT_GT(p->lines[i].line, 0u) << p->name;
            EXPECT_NE(strstr(p->lines[i].file, "subprogs.bpf.c"), nullptr) << p->lines[i].file;
            if (i) {
                EXPECT_LE(p->lines[i - 1].insn, p->lines[i].insn) << p->name;
            }
        }
    }
    // the entry's own line is in the entry; bump's `*v += 1` after it, in each program where
    // bump was placed, on the same instruction
    const nicsim_obj_line *entry = find(first, "return classify(");
    ASSERT_NE(entry, nullptr);
    EXPECT_LT(entry->insn, first->entry_n);
    const nicsim_obj_line *a = find(first, "*v += 1"), *b = find(custom, "*v += 1");
    ASSERT_TRUE(a && b);
    EXPECT_GE(a->insn, first->entry_n);
    EXPECT_GE(b->insn, custom->entry_n);
    EXPECT_EQ(a->line, b->line);
    EXPECT_EQ(memcmp(&first->insns[a->insn], &custom->insns[b->insn], sizeof(first->insns[0])), 0);
    // classify is not part of xdp_custom
    EXPECT_EQ(find(custom, "len > 1000"), nullptr);
    EXPECT_NE(find(first, "len > 1000"), nullptr);
    // an object without BTF has no line info
    Obj nobtf = Open("legacy_maps_nobtf");
    ASSERT_TRUE(nobtf);
    for (size_t i = 0; i < nicsim_obj__n_progs(nobtf.get()); i++)
        EXPECT_EQ(nicsim_obj__prog(nobtf.get(), i)->n_lines, 0u);
}

// ---- maps ----

TEST(ElfTest, LegacyMapsSection)
{
    for (const char *name : {"legacy_maps", "legacy_maps_ext", "legacy_maps_nobtf"}) {
        std::string err;
        Obj o = Open(name, &err);
        ASSERT_TRUE(o) << err;
        ASSERT_EQ(nicsim_obj__n_maps(o.get()), 4u) << name;
        struct Want {
            const char *name;
            uint32_t type, key, value, max, flags;
        };
        const Want want[] = {{"legacy_hash", BPF_MAP_TYPE_HASH, 4, 8, 128, 0},
                             {"legacy_array", BPF_MAP_TYPE_ARRAY, 4, 16, 10, 0},
                             {"legacy_lru", BPF_MAP_TYPE_LRU_HASH, 8, 8, 256, BPF_F_NO_COMMON_LRU}};
        for (const Want &w : want) {
            const nicsim_obj_map &m = MapNamed(o.get(), w.name);
            EXPECT_EQ(m.kind, NICSIM_OBJ_MAP_LEGACY);
            EXPECT_EQ(m.type, w.type) << w.name;
            EXPECT_EQ(m.key_size, w.key) << w.name;
            EXPECT_EQ(m.value_size, w.value) << w.name;
            EXPECT_EQ(m.max_entries, w.max) << w.name;
            EXPECT_EQ(m.map_flags, w.flags) << w.name;
        }
        // the three lookups, in source order, then `seen` in .bss
        const nicsim_obj_prog *p = nicsim_obj__prog(o.get(), 0);
        std::vector<Lddw> loads = MapLoads(p);
        ASSERT_EQ(loads.size(), 4u) << name;
        EXPECT_EQ(loads[0].imm, nicsim_obj__find_map(o.get(), "legacy_hash"));
        EXPECT_EQ(loads[1].imm, nicsim_obj__find_map(o.get(), "legacy_array"));
        EXPECT_EQ(loads[2].src, (unsigned)NICSIM_LDDW_MAP_IDX_VALUE);
        EXPECT_EQ(loads[2].imm, nicsim_obj__find_map(o.get(), ".bss"));
        EXPECT_EQ(loads[3].imm, nicsim_obj__find_map(o.get(), "legacy_lru"));
        ExpectValidProgram(p);
    }
}

TEST(ElfTest, BtfMaps)
{
    Obj o = Open("maps_btf");
    ASSERT_TRUE(o);
    struct Want {
        const char *name;
        uint32_t type, key, value, max, flags, pinning;
        uint64_t extra;
    };
    const Want want[] = {
        {"flows", BPF_MAP_TYPE_HASH, 16, 16, 1024, 0, 0, 0},
        {"sized", BPF_MAP_TYPE_ARRAY, 4, 24, 8, 0, 0, 0},
        {"pcpu", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0, 0, 0},
        {"lru", BPF_MAP_TYPE_LRU_HASH, 8, 4, 512, BPF_F_NO_COMMON_LRU, 0, 0},
        {"routes", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 64, BPF_F_NO_PREALLOC, 0, 0},
        {"ports", BPF_MAP_TYPE_DEVMAP, 4, 4, 16, 0, 0, 0},
        {"xsks", BPF_MAP_TYPE_XSKMAP, 4, 4, 4, 0, 0, 0},
        {"events", BPF_MAP_TYPE_RINGBUF, 0, 0, 16384, 0, 0, 0},
        {"bloom", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, 0, 3},
        {"pinned", BPF_MAP_TYPE_HASH, 4, 4, 32, 0, 1 /* LIBBPF_PIN_BY_NAME */, 0},
    };
    ASSERT_EQ(nicsim_obj__n_maps(o.get()), std::size(want));
    for (const Want &w : want) {
        const nicsim_obj_map &m = MapNamed(o.get(), w.name);
        EXPECT_EQ(m.kind, NICSIM_OBJ_MAP_BTF) << w.name;
        EXPECT_EQ(m.type, w.type) << w.name;
        EXPECT_EQ(m.key_size, w.key) << w.name;
        EXPECT_EQ(m.value_size, w.value) << w.name;
        EXPECT_EQ(m.max_entries, w.max) << w.name;
        EXPECT_EQ(m.map_flags, w.flags) << w.name;
        EXPECT_EQ(m.pinning, w.pinning) << w.name;
        EXPECT_EQ(m.map_extra, w.extra) << w.name;
        EXPECT_EQ(m.init, nullptr);
        EXPECT_EQ(m.n_prog_inits, 0u);
    }
    EXPECT_EQ(nicsim_obj__find_map(o.get(), "outer"), -1);
    // xdp_events reserves from `events` first
    const nicsim_obj_prog *ev = nicsim_obj__find_prog(o.get(), "xdp_events");
    ASSERT_FALSE(MapLoads(ev).empty());
    EXPECT_EQ(MapLoads(ev)[0].imm, nicsim_obj__find_map(o.get(), "events"));
    ExpectValidProgram(ev);
    ExpectValidProgram(nicsim_obj__find_prog(o.get(), "xdp_maps"));
}

TEST(ElfTest, GlobalDataSectionsBecomeArrays)
{
    Obj o = Open("globals");
    ASSERT_TRUE(o);
    Bytes file = ReadFile(ObjPath("globals"));
    ElfInfo info(file);
    struct Want {
        const char *name;
        nicsim_obj_map_kind kind;
        uint32_t flags;
    };
    const Want want[] = {{".rodata", NICSIM_OBJ_MAP_RODATA, BPF_F_RDONLY_PROG},
                         {".data", NICSIM_OBJ_MAP_DATA, 0},
                         {".data.counters", NICSIM_OBJ_MAP_DATA, 0},
                         {".rodata.table", NICSIM_OBJ_MAP_RODATA, BPF_F_RDONLY_PROG},
                         {".bss.scratch", NICSIM_OBJ_MAP_BSS, 0},
                         {".bss", NICSIM_OBJ_MAP_BSS, 0},
                         {".rodata.str1.1", NICSIM_OBJ_MAP_RODATA, BPF_F_RDONLY_PROG}};
    ASSERT_EQ(nicsim_obj__n_maps(o.get()), std::size(want));
    for (size_t i = 0; i < std::size(want); i++) {
        const nicsim_obj_map *m = nicsim_obj__map(o.get(), i);
        const GElf_Shdr &sh = info.secs[info.Index(want[i].name)].sh;
        EXPECT_STREQ(m->name, want[i].name); // in section order
        EXPECT_EQ(m->kind, want[i].kind) << m->name;
        EXPECT_EQ(m->type, (uint32_t)BPF_MAP_TYPE_ARRAY);
        EXPECT_EQ(m->key_size, 4u);
        EXPECT_EQ(m->value_size, sh.sh_size) << m->name;
        EXPECT_EQ(m->max_entries, 1u);
        EXPECT_EQ(m->map_flags, want[i].flags) << m->name;
        if (want[i].kind == NICSIM_OBJ_MAP_BSS) {
            EXPECT_EQ(m->init, nullptr);
            EXPECT_EQ(m->init_len, 0u);
            continue;
        }
        ASSERT_EQ(m->init_len, sh.sh_size);
        EXPECT_EQ(0, memcmp(m->init, file.data() + sh.sh_offset, m->init_len)) << m->name;
    }
    // initial values where the symbols say
    const nicsim_obj_map &data = MapNamed(o.get(), ".data");
    uint64_t v;
    memcpy(&v, data.init + info.syms.at("pkt_count").st_value, 8);
    EXPECT_EQ(v, 7u);
    // a static variable has no symbol: its offset is in the BTF DATASEC
    uint32_t static_init = StaticVarOffset(ObjPath("globals"), ".data", "static_init");
    memcpy(&v, data.init + static_init, 8);
    EXPECT_EQ(v, 0x1122334455667788ull);
    EXPECT_EQ(0, memcmp(MapNamed(o.get(), ".rodata.str1.1").init, "seven\n", 7));
    // references: map index in imm, symbol offset (global symbol or section + imm) in slot 2
    const nicsim_obj_prog *p = nicsim_obj__prog(o.get(), 0);
    ExpectValidProgram(p);
    std::vector<std::pair<int, int>> refs;
    for (const Lddw &l : MapLoads(p)) {
        EXPECT_EQ(l.src, (unsigned)NICSIM_LDDW_MAP_IDX_VALUE);
        refs.emplace_back(l.imm, l.imm2);
    }
    auto has_off = [&](const char *map, uint32_t off) {
        std::pair<int, int> r(nicsim_obj__find_map(o.get(), map), (int)off);
        return std::find(refs.begin(), refs.end(), r) != refs.end();
    };
    auto has = [&](const char *map, const char *sym) {
        return info.syms.count(sym) && has_off(map, (uint32_t)info.syms.at(sym).st_value);
    };
    EXPECT_TRUE(has(".data", "pkt_count"));
    EXPECT_TRUE(has_off(".data", static_init)); // static: relocated against the section + imm
    EXPECT_TRUE(has(".data", "hidden_flag"));
    EXPECT_TRUE(has(".bss", "drop_count"));
    EXPECT_TRUE(has_off(".rodata.str1.1", 0));
    EXPECT_TRUE(has(".rodata.table", "custom_table"));
    EXPECT_TRUE(has(".bss.scratch", "scratch"));
    EXPECT_TRUE(has(".rodata", "cfg_mac"));
}

TEST(ElfTest, ProgArrayStaticInitialisers)
{
    Obj o = Open("tail_calls");
    ASSERT_TRUE(o);
    ASSERT_EQ(nicsim_obj__n_maps(o.get()), 1u);
    const nicsim_obj_map &m = MapNamed(o.get(), "jumps");
    EXPECT_EQ(m.type, (uint32_t)BPF_MAP_TYPE_PROG_ARRAY);
    EXPECT_EQ(m.key_size, 4u);
    EXPECT_EQ(m.value_size, 4u);
    EXPECT_EQ(m.max_entries, 4u);
    ASSERT_EQ(m.n_prog_inits, 2u);
    EXPECT_EQ(m.prog_inits[0].index, 1u);
    EXPECT_STREQ(m.prog_inits[0].prog, "tail_b");
    EXPECT_EQ(m.prog_inits[1].index, 3u);
    EXPECT_STREQ(m.prog_inits[1].prog, "tail_c");
    for (const char *name : {"tail_a", "tail_b"}) {
        const nicsim_obj_prog *p = nicsim_obj__find_prog(o.get(), name);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(MapLoads(p).size(), 1u);
        EXPECT_EQ(MapLoads(p)[0].imm, 0);
    }
}

TEST(ElfTest, MapInMapTemplatesAndStaticInitialisers)
{
    Obj o = Open("map_in_map");
    ASSERT_TRUE(o);
    const nicsim_obj_map &arr = MapNamed(o.get(), "outer_arr");
    EXPECT_EQ(arr.type, (uint32_t)BPF_MAP_TYPE_ARRAY_OF_MAPS);
    EXPECT_EQ(arr.key_size, 4u);
    EXPECT_EQ(arr.value_size, 4u); // a map's descriptor / id
    EXPECT_EQ(arr.max_entries, 4u);
    ASSERT_NE(arr.inner, nullptr);
    EXPECT_STREQ(arr.inner->name, "outer_arr.inner"); // libbpf's name for the template
    EXPECT_EQ(arr.inner->type, (uint32_t)BPF_MAP_TYPE_ARRAY);
    EXPECT_EQ(arr.inner->key_size, 4u);
    EXPECT_EQ(arr.inner->value_size, 8u);
    EXPECT_EQ(arr.inner->max_entries, 2u);
    EXPECT_EQ(arr.inner->inner, nullptr);
    ASSERT_EQ(arr.n_map_inits, 2u);
    EXPECT_EQ(arr.map_inits[0].index, 0u);
    EXPECT_STREQ(arr.map_inits[0].map, "inner_a");
    EXPECT_EQ(arr.map_inits[1].index, 2u);
    EXPECT_STREQ(arr.map_inits[1].map, "inner_b");
    EXPECT_EQ(arr.n_prog_inits, 0u);

    const nicsim_obj_map &h = MapNamed(o.get(), "outer_hash");
    EXPECT_EQ(h.type, (uint32_t)BPF_MAP_TYPE_HASH_OF_MAPS);
    ASSERT_NE(h.inner, nullptr);
    EXPECT_STREQ(h.inner->name, "outer_hash.inner");
    EXPECT_EQ(h.inner->type, (uint32_t)BPF_MAP_TYPE_HASH);
    EXPECT_EQ(h.inner->value_size, 4u);
    EXPECT_EQ(h.inner->max_entries, 16u);
    EXPECT_EQ(h.n_map_inits, 0u);
    EXPECT_EQ(MapNamed(o.get(), "inner_a").inner, nullptr);
}

// ---- refusals ----

struct Refusal {
    const char *object, *message;
};
const Refusal kRefusals[] = {
    {"refused_kfunc", "refused_kfunc.bpf.o: section 'xdp' insn 0: call to kernel function "
                      "'bpf_rcu_read_lock' (kfunc) is not supported"},
    {"refused_ksym",
     "refused_ksym.bpf.o: section 'xdp' insn 0: extern 'bpf_prog_active' (ksym) is not supported"},
    {"refused_kconfig", "refused_kconfig.bpf.o: section 'xdp' insn 0: extern "
                        "'LINUX_KERNEL_VERSION' (kconfig) is not supported"},
    {"refused_callback", "refused_callback.bpf.o: section 'xdp' insn 5: address of function "
                         "'loop_cb' (a callback, lddw src 4) is not supported"},
    {"refused_map_in_map", "refused_map_in_map.bpf.o: map 'outer.inner': multi-level inner maps "
                           "are not supported (an inner map definition holds 'values')"},
    {"refused_static_prog", "refused_static_prog.bpf.o: section 'xdp': program 'xdp_static' is "
                            "static; programs must be global functions"},
    {"legacy_maps_pinned", "legacy_maps_pinned.bpf.o: map 'legacy_hash' in section 'maps': "
                           "36-byte definition with non-zero fields past struct bpf_map_def "
                           "(byte 24) is not supported"},
};

TEST(ElfTest, RefusalsNameSectionSymbolAndInstruction)
{
    for (const Refusal &r : kRefusals) {
        std::string err;
        Obj o = Open(r.object, &err);
        EXPECT_FALSE(o) << r.object;
        EXPECT_EQ(err, r.message);
    }
}

TEST(ElfTest, KfuncCallWithoutRelocationIsRefused)
{
    // a CALL src 2 (kfunc by BTF id) written directly into nomaps' first slot
    Bytes b = ReadFile(ObjPath("nomaps"));
    ElfInfo info(b);
    uint64_t at = info.secs[info.Index("xdp")].sh.sh_offset;
    const uint8_t call[8] = {0x85, 0x20, 0, 0, 7, 0, 0, 0};
    memcpy(b.data() + at, call, 8);
    EXPECT_EQ(OpenMemError(b), "t.o: section 'xdp' insn 0: call to a kernel function (kfunc) is "
                               "not supported");
}

// ---- CO-RE relocations (resolved against /sys/kernel/btf/vmlinux) ----

bool HaveKernelBtf()
{
    return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

const nicsim_obj_core_relo *CoreRelo(const nicsim_obj_prog *p, const std::string &what)
{
    for (size_t i = 0; i < p->n_core_relos; i++)
        if (std::string(p->core_relos[i].what).find(what) != std::string::npos)
            return &p->core_relos[i];
    ADD_FAILURE() << p->name << ": no CO-RE relocation like '" << what << "'";
    return nullptr;
}

TEST(ElfCoreTest, VmlinuxStyleTypesAndFlavorsAreRelocatedOntoTheKernelsLayout)
{
    if (!HaveKernelBtf())
        GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    std::string err;
    Obj o = Open("core", &err);
    ASSERT_TRUE(o) << err;
    const nicsim_obj_prog *p = nicsim_obj__find_prog(o.get(), "core_parse");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->error, nullptr) << p->error;
    ExpectValidProgram(p);
    // struct xdp_md___x is a flavor of struct xdp_md: rx_queue_index is at 8 locally, 16 in the
    // kernel, and the load that reads it now reads offset 16
    const nicsim_obj_core_relo *r = CoreRelo(
        p, "(field byte offset) of struct xdp_md___x.rx_queue_index (access 0:2): 8 -> 16");
    ASSERT_TRUE(r);
    EXPECT_EQ(p->insns[r->insn].code, BPF_LDX | BPF_MEM | BPF_W);
    EXPECT_EQ(p->insns[r->insn].off, 16);
    EXPECT_FALSE(r->poisoned);
    // the context itself: data at 0, data_end at 4 (unchanged values, still relocations)
    EXPECT_TRUE(CoreRelo(p, "of struct xdp_md.data_end (access 0:1): 4 -> 4"));
    // existence, enum values, type size, bitfields (the compiler wrote 4 as the byte size of
    // ihl; a u8 bitfield is read with a 1-byte load, as libbpf computes it)
    EXPECT_TRUE(CoreRelo(p, "(field existence) of struct xdp_md___x.rx_queue_index (access 0:2): "
                            "1 -> 1"));
    EXPECT_TRUE(CoreRelo(p, "(field existence) of struct xdp_md___x.no_such_field___in_any_kernel"
                            " (access 0:3): 1 -> 0"));
    EXPECT_TRUE(CoreRelo(p, "(type existence) of struct nicsim_no_such_type___anywhere (access "
                            "0): 1 -> 0"));
    EXPECT_TRUE(CoreRelo(p, "(enum value existence) of enum nicsim_no_such_enum::"
                            "NICSIM_NO_SUCH_VALUE (access 0): 1 -> 0"));
    EXPECT_TRUE(CoreRelo(p, "(enum value) of enum xdp_action::XDP_TX (access 3): 3 -> 3"));
    EXPECT_TRUE(CoreRelo(p, "(type size) of struct ethhdr (access 0): 14 -> 14"));
    EXPECT_TRUE(CoreRelo(p, "(field byte size) of struct iphdr.ihl (access 0:0): 1 -> 1"));
    EXPECT_TRUE(CoreRelo(p, "(field left shift) of struct iphdr.ihl (access 0:0): 60 -> 60"));
    EXPECT_TRUE(CoreRelo(p, "(field left shift) of struct iphdr.version (access 0:1): 56 -> 56"));
    EXPECT_TRUE(CoreRelo(p, "(field right shift) of struct iphdr.version (access 0:1): 60 -> 60"));
    EXPECT_TRUE(CoreRelo(p, "(field signedness) of struct iphdr.ttl (access 0:6): 0 -> 0"));
    // the guarded read of the missing field is poisoned (dead code: the verifier never sees it)
    r = CoreRelo(p, "(field byte offset) of struct xdp_md___x.no_such_field___in_any_kernel");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->poisoned);
    EXPECT_EQ(p->insns[r->insn].code, BPF_JMP | BPF_CALL);
    EXPECT_EQ(p->insns[r->insn].imm, 0xbad2310);
    EXPECT_NE(nicsim_obj_prog__core_poison(p, r->insn), nullptr);
    EXPECT_EQ(nicsim_obj_prog__core_poison(p, 0), nullptr);
}

TEST(ElfCoreTest, RelocationThatMatchesNothingPoisonsItsInstructionAndSaysWhich)
{
    if (!HaveKernelBtf())
        GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    std::string err;
    Obj o = Open("core_poison", &err);
    ASSERT_TRUE(o) << err;
    const nicsim_obj_prog *p = nicsim_obj__find_prog(o.get(), "core_poisoned");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->error, nullptr) << p->error;
    size_t at = p->n;
    for (size_t i = 0; i < p->n; i++)
        if (p->insns[i].code == (BPF_JMP | BPF_CALL) && p->insns[i].imm == 0xbad2310)
            at = i;
    ASSERT_LT(at, p->n);
    const char *why = nicsim_obj_prog__core_poison(p, at);
    ASSERT_NE(why, nullptr);
    EXPECT_STREQ(why, "CO-RE relocation (field byte offset) of struct "
                      "xdp_md___x.no_such_field___in_any_kernel (access 0:3) matches nothing in "
                      "the kernel's BTF; libbpf poisons the instruction (call 0xbad2310)");
}

TEST(ElfCoreTest, UnreadableKernelBtfFailsTheProgramNamingThePath)
{
    setenv("NICSIM_VMLINUX_BTF", "/nonexistent/vmlinux", 1);
    std::string err;
    Obj o = Open("core", &err);
    unsetenv("NICSIM_VMLINUX_BTF");
    EXPECT_FALSE(o); // its only program needs the relocations
    EXPECT_NE(err.find("CO-RE relocations need the kernel's BTF (/nonexistent/vmlinux), which "
                       "cannot be read"),
              std::string::npos)
        << err;
}

// libbpf, given the same objects, relocates them itself when it loads them: after its load the
// program's instructions must be ours, slot for slot (map references aside).
TEST(ElfCoreTest, RelocatedProgramsAreWhatLibbpfLoads)
{
    if (!HaveKernelBtf())
        GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    for (const char *name : {"core", "core_poison", "refused_core"}) {
        SCOPED_TRACE(name);
        Obj ours = Open(name);
        ASSERT_TRUE(ours);
        libbpf_print_fn_t old = libbpf_set_print(nullptr);
        bpf_object *lb = bpf_object__open_file(ObjPath(name).c_str(), nullptr);
        ASSERT_NE(lb, nullptr);
        bpf_program *bp;
        bpf_object__for_each_program(bp, lb) bpf_program__set_type(bp, BPF_PROG_TYPE_XDP);
        int rc = bpf_object__load(lb); // core_poison: the kernel refuses it, after relocation
        libbpf_set_print(old);
        if (rc == -EPERM) {
            bpf_object__close(lb);
            GTEST_SKIP() << "bpf() not permitted";
        }
        size_t i = 0;
        bpf_object__for_each_program(bp, lb)
        {
            const nicsim_obj_prog *p = nicsim_obj__prog(ours.get(), i++);
            ASSERT_EQ(p->n, bpf_program__insn_cnt(bp));
            const bpf_insn *li = bpf_program__insns(bp);
            for (size_t k = 0; k < p->n; k++) {
                const nicsim_insn &a = p->insns[k];
                bool map_ref = (a.code == 0x18 && a.src >= NICSIM_LDDW_MAP_IDX) ||
                               (k > 0 && p->insns[k - 1].code == 0x18 &&
                                p->insns[k - 1].src >= NICSIM_LDDW_MAP_IDX);
                EXPECT_EQ(a.code, li[k].code) << "insn " << k;
                EXPECT_EQ(a.dst, li[k].dst_reg) << "insn " << k;
                EXPECT_EQ(a.off, li[k].off) << "insn " << k;
                if (!map_ref) {
                    EXPECT_EQ(a.src, li[k].src_reg) << "insn " << k;
                    EXPECT_EQ(a.imm, li[k].imm) << "insn " << k;
                }
            }
        }
        bpf_object__close(lb);
    }
}

// ---- differential test against libbpf ----

std::vector<std::string> &LibbpfLog()
{
    static std::vector<std::string> log;
    return log;
}

int CaptureLibbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[512];
    if (level == LIBBPF_DEBUG)
        return 0;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    LibbpfLog().push_back(buf);
    return 0;
}

struct DiffCase {
    std::string label, path;
};

std::vector<std::string> ObjectsIn(const std::string &dir)
{
    std::vector<std::string> v;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 2 && n.compare(n.size() - 2, 2, ".o") == 0)
                v.push_back(dir + "/" + n);
        }
        closedir(d);
    }
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<DiffCase> DiffCases()
{
    std::vector<DiffCase> cases;
    auto add = [&](const std::string &prefix, const std::vector<std::string> &paths) {
        for (const std::string &p : paths) {
            std::string label = prefix + p.substr(p.rfind('/') + 1);
            for (char &c : label)
                if (!isalnum((unsigned char)c))
                    c = '_';
            cases.push_back({label, p});
        }
    };
    add("elf_", ObjectsIn(ELF_TEST_OBJ_DIR));
    add("example_", ObjectsIn(NICSIM_EXAMPLES_DIR));
    std::vector<std::string> sys = ObjectsIn(ELF_SYSTEM_OBJ_DIR);
    if (sys.empty())
        cases.push_back({"system_objects_absent", ""});
    add("system_", sys);
    return cases;
}

// What libbpf (1.1) does with objects nicsim loads but libbpf will not open.
const std::map<std::string, std::string> kLibbpfRefuses = {
    {"legacy_maps.bpf.o", "legacy map definitions in 'maps' section are not supported"},
    {"legacy_maps_ext.bpf.o", "legacy map definitions in 'maps' section are not supported"},
    {"legacy_maps_nobtf.bpf.o", "legacy map definitions in 'maps' section are not supported"},
    {"legacy_maps_pinned.bpf.o", "legacy map definitions in 'maps' section are not supported"},
    {"refused_static_prog.bpf.o", "program 'xdp_static' is static and not supported"},
    {"refused_map_in_map.bpf.o", "map 'outer.inner': multi-level inner maps not supported"},
};

// Objects nicsim refuses (the exact message); libbpf opens the others of them.
std::map<std::string, std::string> NicsimRefuses()
{
    std::map<std::string, std::string> m;
    for (const Refusal &r : kRefusals)
        m[std::string(r.object) + ".bpf.o"] = r.message;
    return m;
}

// libbpf's name of an internal map (libbpf.c internal_map_name): object name prefix unless the
// section name has a second dot, 15 characters at most.
std::string LibbpfDataMapName(const std::string &obj_path, const std::string &sec)
{
    std::string obj = obj_path.substr(obj_path.rfind('/') + 1);
    obj = obj.substr(0, std::min(obj.find('.'), (size_t)BPF_OBJ_NAME_LEN - 1));
    size_t sfx = std::min(std::max((size_t)7, sec.size()), (size_t)BPF_OBJ_NAME_LEN - 1);
    size_t pfx = sec.find('.', 1) != std::string::npos
                     ? 0
                     : std::min((size_t)BPF_OBJ_NAME_LEN - sfx - 1, obj.size());
    std::string name = obj.substr(0, pfx) + sec.substr(0, sfx);
    for (char &c : name)
        if (!isalnum((unsigned char)c) && c != '_' && c != '.')
            c = '_';
    return name;
}

void PrintTo(const DiffCase &c, std::ostream *os)
{
    *os << (c.path.empty() ? c.label : c.path);
}

class ElfDiffTest : public ::testing::TestWithParam<DiffCase>
{
};

TEST_P(ElfDiffTest, MatchesLibbpf)
{
    const DiffCase &c = GetParam();
    if (c.path.empty())
        GTEST_SKIP() << "no objects in " ELF_SYSTEM_OBJ_DIR " (install xdp-tools and libxdp1)";
    std::string base = c.path.substr(c.path.rfind('/') + 1);
    char err[512];
    Obj ours(nicsim_obj__open_file(c.path.c_str(), nullptr, err, sizeof(err)));

    LibbpfLog().clear();
    libbpf_print_fn_t old = libbpf_set_print(CaptureLibbpf);
    bpf_object *lb = bpf_object__open_file(c.path.c_str(), nullptr);
    libbpf_set_print(old);
    std::unique_ptr<bpf_object, void (*)(bpf_object *)> lb_guard(lb, bpf_object__close);
    std::string lb_log;
    for (auto &l : LibbpfLog())
        lb_log += l;

    auto refused = NicsimRefuses();
    if (refused.count(base)) {
        EXPECT_FALSE(ours);
        EXPECT_EQ(std::string(err), refused[base]);
    } else {
        ASSERT_TRUE(ours) << err;
    }
    if (kLibbpfRefuses.count(base)) {
        EXPECT_EQ(lb, nullptr) << base;
        EXPECT_NE(lb_log.find(kLibbpfRefuses.at(base)), std::string::npos) << lb_log;
        return;
    }
    ASSERT_NE(lb, nullptr) << "libbpf refuses " << base << ": " << lb_log;
    if (!ours)
        return;

    // programs: same entry points, in the same order
    std::vector<bpf_program *> progs;
    bpf_program *bp;
    bpf_object__for_each_program(bp, lb) progs.push_back(bp);
    ASSERT_EQ(progs.size(), nicsim_obj__n_progs(ours.get()));
    for (size_t i = 0; i < progs.size(); i++) {
        const nicsim_obj_prog *p = nicsim_obj__prog(ours.get(), i);
        SCOPED_TRACE(p->name);
        EXPECT_STREQ(p->name, bpf_program__name(progs[i]));
        EXPECT_STREQ(p->section, bpf_program__section_name(progs[i]));
        EXPECT_EQ(p->prog_type, (uint32_t)bpf_program__type(progs[i]));
        EXPECT_EQ(p->expected_attach_type, (uint32_t)bpf_program__expected_attach_type(progs[i]));
        EXPECT_EQ(p->autoload, bpf_program__autoload(progs[i]) ? 1 : 0);
        if (p->error) // not linked (a kfunc call ...): libbpf fails it only when loading it
            continue;
        // before bpf_object__load, libbpf holds the entry function's own instructions
        ASSERT_EQ(p->entry_n, bpf_program__insn_cnt(progs[i]));
        const bpf_insn *li = bpf_program__insns(progs[i]);
        std::vector<bool> core(p->n);
        for (size_t k = 0; k < p->n_core_relos; k++)
            core[p->core_relos[k].insn] = true;
        for (size_t k = 0; k < p->entry_n; k++) {
            const nicsim_insn &a = p->insns[k];
            if (core[k] || (k > 0 && core[k - 1] && p->insns[k - 1].code == 0x18))
                continue; // CO-RE: libbpf patches it at load (CoreTest compares after the load)
            bool relocated = (a.code == 0x85 && a.src == BPF_PSEUDO_CALL) ||
                             (a.code == 0x18 && a.src >= NICSIM_LDDW_MAP_IDX) ||
                             (k > 0 && p->insns[k - 1].code == 0x18 &&
                              p->insns[k - 1].src == NICSIM_LDDW_MAP_IDX_VALUE);
            ASSERT_EQ(a.code, li[k].code) << "insn " << k;
            ASSERT_EQ(a.dst, li[k].dst_reg) << "insn " << k;
            ASSERT_EQ(a.off, li[k].off) << "insn " << k;
            if (!relocated) {
                ASSERT_EQ(a.src, li[k].src_reg) << "insn " << k;
                ASSERT_EQ(a.imm, li[k].imm) << "insn " << k;
            }
        }
        ExpectValidProgram(p);
    }

    // maps: same definitions, in the same order
    std::vector<bpf_map *> maps;
    bpf_map *bm;
    bpf_object__for_each_map(bm, lb) maps.push_back(bm);
    ASSERT_EQ(maps.size(), nicsim_obj__n_maps(ours.get()));
    for (size_t i = 0; i < maps.size(); i++) {
        const nicsim_obj_map *m = nicsim_obj__map(ours.get(), i);
        SCOPED_TRACE(m->name);
        bool data = m->kind >= NICSIM_OBJ_MAP_DATA;
        EXPECT_EQ(data ? LibbpfDataMapName(c.path, m->name) : std::string(m->name),
                  bpf_map__name(maps[i]));
        EXPECT_EQ(data, bpf_map__is_internal(maps[i]));
        EXPECT_EQ(m->type, (uint32_t)bpf_map__type(maps[i]));
        EXPECT_EQ(m->key_size, bpf_map__key_size(maps[i]));
        EXPECT_EQ(m->value_size, bpf_map__value_size(maps[i]));
        EXPECT_EQ(m->max_entries, bpf_map__max_entries(maps[i]));
        // libbpf makes global data mmap()able for its skeletons; the NIC has no use for it
        uint32_t lflags = bpf_map__map_flags(maps[i]) & ~(data ? (uint32_t)BPF_F_MMAPABLE : 0u);
        EXPECT_EQ(m->map_flags, lflags);
        EXPECT_EQ(m->map_extra, bpf_map__map_extra(maps[i]));
        // map-in-map: the same inner template
        bpf_map *li = bpf_map__inner_map(maps[i]);
        ASSERT_EQ(m->inner != nullptr, li != nullptr);
        if (li) {
            EXPECT_STREQ(m->inner->name, bpf_map__name(li));
            EXPECT_EQ(m->inner->type, (uint32_t)bpf_map__type(li));
            EXPECT_EQ(m->inner->key_size, bpf_map__key_size(li));
            EXPECT_EQ(m->inner->value_size, bpf_map__value_size(li));
            EXPECT_EQ(m->inner->max_entries, bpf_map__max_entries(li));
            EXPECT_EQ(m->inner->map_flags, bpf_map__map_flags(li));
        }
        if (data && m->init) {
            size_t sz = 0;
            const void *init = bpf_map__initial_value(maps[i], &sz);
            ASSERT_EQ(sz, m->init_len);
            EXPECT_EQ(0, memcmp(init, m->init, sz));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Objects, ElfDiffTest, ::testing::ValuesIn(DiffCases()),
                         [](const ::testing::TestParamInfo<DiffCase> &i) { return i.param.label; });

} // namespace
