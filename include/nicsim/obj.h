/* SPDX-License-Identifier: MIT */
/*
 * nicsim ELF object loader: BPF objects as clang (14 and newer) writes them, read with libelf,
 * BTF parsed with libbpf's btf API, turned into what a loader hands to bpf(2): programs with
 * their subprograms linked in, and map definitions (legacy `maps`, BTF `.maps`, global data
 * sections as single-entry arrays the way libbpf makes them).
 *
 * Map references in the programs are normalised: LDDW src NICSIM_LDDW_MAP_IDX with imm = index
 * into the object's map list, or NICSIM_LDDW_MAP_IDX_VALUE with imm = map index and the second
 * slot's imm = offset into the value (global data). bpf-to-bpf calls are CALL with src 1 and a
 * relative imm inside the linked program. CO-RE relocations (.BTF.ext) are resolved against the
 * running kernel's BTF as libbpf resolves them (nicsim_obj_prog.core_relos).
 *
 * Anything not supported (kfuncs, externs, unknown relocation types, map
 * kinds this loader cannot express) is refused with a message naming the section, the symbol and
 * the instruction: in a program's code it marks that program (nicsim_obj_prog.error), and the
 * object is refused only when none of its programs can be linked. Malformed input never crashes:
 * every offset and size is checked.
 */
#ifndef NICSIM_OBJ_H
#define NICSIM_OBJ_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_obj;

enum nicsim_obj_map_kind {
    NICSIM_OBJ_MAP_LEGACY = 0, /* SEC("maps"), struct bpf_map_def */
    NICSIM_OBJ_MAP_BTF,        /* SEC(".maps") */
    NICSIM_OBJ_MAP_DATA,       /* .data / .data.* */
    NICSIM_OBJ_MAP_RODATA,     /* .rodata / .rodata.* */
    NICSIM_OBJ_MAP_BSS,        /* .bss */
};

/* Static initialiser of a prog array in .maps (`__array(values, ...)` with `.values = {...}`). */
struct nicsim_obj_prog_init {
    uint32_t index;
    const char *prog; /* function name of a program in this object */
};

/* Static initialiser of a map-in-map in .maps (`.values = { [0] = &inner_a, ... }`). */
struct nicsim_obj_map_init {
    uint32_t index;
    const char *map; /* name of a BTF map of this object (the inner map) */
};

struct nicsim_obj_map {
    const char *name; /* symbol name; global data maps: the section name (".rodata", ".bss") */
    enum nicsim_obj_map_kind kind;
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size, value_size, max_entries, map_flags;
    uint32_t pinning; /* LIBBPF_PIN_* as declared (informational) */
    /* Global data: the section's bytes (value of key 0; NULL for .bss: zeros). */
    const uint8_t *init;
    size_t init_len;
    const struct nicsim_obj_prog_init *prog_inits; /* sorted by index */
    size_t n_prog_inits;
    uint64_t map_extra; /* BTF maps: `map_extra` as declared (bloom filter hashes), else 0 */
    /* Map-in-map (array / hash of maps): the inner map template declared with
     * `__array(values, struct def)`, named "<outer>.inner" as libbpf names it; NULL otherwise.
     * Its own `inner` is NULL (maps of maps of maps are refused). */
    const struct nicsim_obj_map *inner;
    const struct nicsim_obj_map_init *map_inits; /* sorted by index */
    size_t n_map_inits;
};

/* A source line of the object's BTF line info (.BTF.ext line_info, as clang -g writes it): the
 * first instruction of the line's code in the linked program. */
struct nicsim_obj_line {
    uint32_t insn;    /* slot in the linked program */
    uint32_t line;    /* line number (1-based) */
    uint32_t col;     /* column (1-based; 0 unknown) */
    const char *file; /* source file as the compiler named it */
    const char *src;  /* the line's text ("" when the compiler left it out) */
};

/* An instruction patched by a CO-RE relocation (resolved against the running kernel's BTF). */
struct nicsim_obj_core_relo {
    uint32_t insn; /* slot in the linked program */
    int poisoned;  /* matched nothing: the instruction is `call 0xbad2310`, as libbpf makes it */
    /* "CO-RE relocation (field byte offset) of struct xdp_md.data (access 0:0): 0 -> 0" */
    const char *what;
};

struct nicsim_obj_prog {
    const char *name;    /* function name */
    const char *section; /* ELF section, e.g. "xdp" or "xdp/parse" */
    uint32_t prog_type;  /* enum bpf_prog_type guessed from the section as libbpf does; 0 unknown */
    uint32_t expected_attach_type;
    const struct nicsim_insn *insns; /* linked: entry function first, then called subprograms */
    size_t n;                        /* slots */
    size_t entry_n;                  /* slots of the entry function alone (insns[0..entry_n)) */
    int autoload;                    /* 0 for SEC("?...") (the '?' is not part of `section`) */
    /* Why the program cannot be linked ("section 'tc' insn 4: call to kernel function 'x'
     * (kfunc) is not supported"), NULL if it can. Such a program has no instructions (insns
     * NULL, n 0); the object still opens as long as one of its programs links, so that one
     * program's unsupported feature does not block the others (libbpf fails only the program
     * it loads). */
    const char *error;
    /* CO-RE relocations (.BTF.ext) are resolved against the running kernel's BTF as libbpf does;
     * those that match nothing poison their instruction as libbpf does (`call 0xbad2310`, which
     * the verifier refuses if it is reachable). One entry per patched slot, in link order. */
    const struct nicsim_obj_core_relo *core_relos;
    size_t n_core_relos;
    /* BTF line info of the linked program (the entry function and its subprograms), sorted by
     * insn; none (NULL, 0) when the object has no .BTF.ext line info or it cannot be read. */
    const struct nicsim_obj_line *lines;
    size_t n_lines;
};

/* The poisoned CO-RE relocation at slot `insn` of `prog` (its description), NULL if none. */
const char *nicsim_obj_prog__core_poison(const struct nicsim_obj_prog *prog, size_t insn);

struct nicsim_obj_opts {
    size_t sz; /* sizeof(struct nicsim_obj_opts) */
};

/* Parse an object from a file or from memory (the buffer is copied). NULL on failure, with a
 * message in err (may be NULL) such as "foo.o: section 'xdp' insn 12: CO-RE relocation of
 * 'struct iphdr' is not supported". */
struct nicsim_obj *nicsim_obj__open_file(const char *path, const struct nicsim_obj_opts *opts,
                                         char *err, size_t err_len);
struct nicsim_obj *nicsim_obj__open_mem(const void *buf, size_t len, const char *name,
                                        const struct nicsim_obj_opts *opts, char *err,
                                        size_t err_len);
void nicsim_obj__free(struct nicsim_obj *obj);

/* The file's base name (open_file) or the name given to open_mem; error messages start with it. */
const char *nicsim_obj__name(const struct nicsim_obj *obj);
const char *nicsim_obj__license(const struct nicsim_obj *obj); /* "" if none */

size_t nicsim_obj__n_progs(const struct nicsim_obj *obj);
const struct nicsim_obj_prog *nicsim_obj__prog(const struct nicsim_obj *obj, size_t i);
/* By function name, else by section name; NULL if none. */
const struct nicsim_obj_prog *nicsim_obj__find_prog(const struct nicsim_obj *obj, const char *name);

size_t nicsim_obj__n_maps(const struct nicsim_obj *obj);
const struct nicsim_obj_map *nicsim_obj__map(const struct nicsim_obj *obj, size_t i);
/* Index of a map by name, -1 if none. */
int nicsim_obj__find_map(const struct nicsim_obj *obj, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* NICSIM_OBJ_H */
