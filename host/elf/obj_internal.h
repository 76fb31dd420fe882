/* SPDX-License-Identifier: MIT */
/*
 * nicsim ELF object loader, internals shared by obj.c (ELF, programs, relocations, linking),
 * maps.c (map definitions) and sec_def.c (program types from section names).
 *
 * One `struct ld` lives for the duration of one open: it holds the libelf handle, the section
 * and symbol tables as read (every index and offset checked once, when read), the BTF, and the
 * object being built. Every failure goes through nicsim_ld_fail(), which writes "<file>:
 * <message>".
 */
#ifndef NICSIM_OBJ_INTERNAL_H
#define NICSIM_OBJ_INTERNAL_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/btf.h>

#include "nicsim/obj.h"

enum ld_sec_kind {
    LD_SEC_OTHER = 0,
    LD_SEC_PROG,    /* executable, not .text: programs */
    LD_SEC_TEXT,    /* .text: subprograms */
    LD_SEC_DATA,    /* .data, .data.* */
    LD_SEC_RODATA,  /* .rodata, .rodata.* */
    LD_SEC_BSS,     /* .bss, .bss.* (NOBITS) */
    LD_SEC_MAPS,    /* "maps": legacy struct bpf_map_def records */
    LD_SEC_BTFMAPS, /* ".maps" */
};

struct ld_sec {
    const char *name;
    GElf_Shdr sh;
    Elf_Data *data; /* read for the sections the loader uses, else NULL */
    enum ld_sec_kind kind;
    long map;         /* data sections: index of their map, else -1 */
    int32_t *rel_at;  /* executable sections: relocation index per slot, -1 if none */
    int32_t *core_at; /* executable sections: CO-RE record index per slot, -1 if none */
};

struct ld_sym {
    GElf_Sym s;
    const char *name; /* "" if none; STT_SECTION symbols: the section's name */
};

struct ld_func {
    size_t sec;    /* section index */
    size_t off, n; /* first slot in the section, number of slots */
    const char *name;
    bool is_prog;
    long link_at; /* slot in the program being linked, -1 if not linked yet */
};

/* A line info record of .BTF.ext: an instruction of an executable section, its strings. */
struct ld_line {
    size_t sec;
    uint32_t slot;
    uint32_t line, col;
    const char *file, *src; /* BTF strings (valid while ld->btf lives) */
};

struct ld_rel {
    size_t sym;
    uint32_t type;
};

/* A CO-RE relocation as resolved against the kernel's BTF (core.c; libbpf's bpf_core_relo_res) */
struct ld_core_res {
    uint64_t orig_val, new_val;
    uint32_t orig_sz, new_sz, orig_type_id, new_type_id;
    bool poison, validate, fail_memsz_adjust;
};

struct ld_core {
    uint32_t type_id;
    uint32_t access_off; /* BTF string: "0:1:2" */
    uint32_t kind;       /* enum bpf_core_relo_kind */
    bool done;           /* res computed (once per record, whichever program links it first) */
    struct ld_core_res res;
    char what[192]; /* "struct xdp_md.rx_queue_index (access 0:4)" once parsed */
};

/* Where a map's definition lives ("maps", ".maps"), parallel to obj->maps. */
struct ld_mapsrc {
    size_t off, len; /* the definition in its section */
    long values_off; /* BTF prog arrays: offset of `values` in the definition, else -1 */
};

struct nicsim_obj {
    char *name;
    char *license;
    struct nicsim_obj_prog *progs;
    size_t n_progs;
    struct nicsim_obj_map *maps;
    size_t n_maps;
};

struct ld {
    const char *name;
    char *err;
    size_t err_len;
    Elf *elf;
    size_t nsec, shstrndx, symtab, strtab;
    struct ld_sec *secs;
    struct ld_sym *syms;
    size_t nsyms;
    struct btf *btf;
    struct btf *targ_btf;  /* the kernel's, loaded at the first CO-RE relocation */
    struct btf **mod_btfs; /* kernel modules' (split on targ_btf), when vmlinux has no candidate */
    size_t n_mod_btfs;
    bool mods_loaded;
    long text, maps_sec, btfmaps_sec, btf_sec, btf_ext_sec, license_sec;
    struct ld_func *funcs;
    size_t nfuncs;
    struct ld_rel *rels;
    size_t nrels;
    struct ld_core *cores;
    size_t ncores;
    struct ld_line *lines; /* .BTF.ext line info, by section then slot */
    size_t nlines;
    struct ld_mapsrc *mapsrc;
    struct nicsim_obj *obj;
};

/* Writes "<file>: <message>" into the caller's buffer; returns `code` (a negative errno). */
int nicsim_ld_fail(struct ld *ld, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads relocation `k` of section `rs` (data read) with its symbol index checked. */
int nicsim_ld_read_rel(struct ld *ld, const struct ld_sec *rs, size_t k, GElf_Rel *r);

/* Appends one zeroed map to ld->obj and returns it (NULL and a message on failure). */
struct nicsim_obj_map *nicsim_ld_add_map(struct ld *ld);

/* maps.c: legacy "maps", BTF ".maps", global data sections; prog array initialisers. */
int nicsim_ld_legacy_maps(struct ld *ld);
int nicsim_ld_btf_maps(struct ld *ld);
int nicsim_ld_data_maps(struct ld *ld);
int nicsim_ld_map_relos(struct ld *ld, size_t relsec);

/* BTF helpers (maps.c): a type with modifiers and typedefs skipped, NULL if broken. */
const struct btf_type *nicsim_ld_btf_skip(const struct btf *btf, uint32_t id, uint32_t *res_id);
/* "struct iphdr", "typedef u32", "[12]" ... into buf. */
const char *nicsim_ld_btf_type_str(const struct btf *btf, uint32_t id, char *buf, size_t len);

/* core.c: resolves CO-RE record `c` (once) and patches `insn` (`avail` slots from it in the
 * program); *poisoned tells that the instruction was poisoned as libbpf does (no match). */
int nicsim_ld_core_apply(struct ld *ld, struct ld_core *c, const char *secname, size_t slot,
                         struct nicsim_insn *insn, size_t avail, bool *poisoned);

/* sec_def.c: program type and expected attach type as libbpf derives them from SEC(). */
void nicsim_ld_sec_def(const char *sec, uint32_t *prog_type, uint32_t *attach_type);

#endif /* NICSIM_OBJ_INTERNAL_H */
