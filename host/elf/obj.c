/* SPDX-License-Identifier: MIT */
/*
 * nicsim ELF object loader: sections, symbols, programs, relocations and subprogram linking.
 *
 * The order of work follows libbpf's bpf_object__open: the ELF header and section table, the
 * symbol table, BTF, the functions of the executable sections (programs outside .text,
 * subprograms in .text), the maps (legacy, BTF, global data: maps.c), the relocations of the
 * executable sections and of .maps, the CO-RE records of .BTF.ext (resolved in core.c), and
 * last, for every program, its entry function followed by the subprograms it reaches, in the
 * order libbpf appends them (depth first, at the first call), with every relocation applied on
 * the way.
 *
 * Every index and offset read from the file is checked where it is read; functions, relocations
 * and CO-RE records are kept per section slot so that linking needs no search.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <elf.h>
#include <linux/bpf.h>

#include "obj_internal.h"

#define INSN_SZ   8u
#define CODE_CALL 0x85 /* BPF_JMP | BPF_CALL | BPF_K */
#define CODE_LDDW 0x18 /* BPF_LD | BPF_IMM | BPF_DW */
/* Nesting of subprogram appends while linking one program (a recursion bound, not a verifier
 * rule: real programs nest a handful). */
#define MAX_LINK_DEPTH 256

int nicsim_ld_fail(struct ld *ld, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!ld->err || !ld->err_len)
        return code;
    n = snprintf(ld->err, ld->err_len, "%s: ", ld->name);
    if (n < 0 || (size_t)n >= ld->err_len)
        return code;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->err_len - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

struct nicsim_obj_map *nicsim_ld_add_map(struct ld *ld)
{
    struct nicsim_obj *obj = ld->obj;
    struct nicsim_obj_map *maps;
    struct ld_mapsrc *src;

    maps = realloc(obj->maps, (obj->n_maps + 1) * sizeof(*maps));
    if (!maps)
        return NULL;
    obj->maps = maps;
    src = realloc(ld->mapsrc, (obj->n_maps + 1) * sizeof(*src));
    if (!src)
        return NULL;
    ld->mapsrc = src;
    memset(&maps[obj->n_maps], 0, sizeof(*maps));
    src[obj->n_maps] = (struct ld_mapsrc){.values_off = -1};
    return &maps[obj->n_maps++];
}

/* ---- ELF header and sections ---- */

static int read_header(struct ld *ld)
{
    GElf_Ehdr eh;

    if (elf_kind(ld->elf) != ELF_K_ELF)
        return nicsim_ld_fail(ld, -EINVAL, "not an ELF file");
    if (gelf_getclass(ld->elf) != ELFCLASS64)
        return nicsim_ld_fail(ld, -EINVAL, "not a BPF object (ELF class %d, not 64-bit)",
                              gelf_getclass(ld->elf));
    if (!gelf_getehdr(ld->elf, &eh))
        return nicsim_ld_fail(ld, -EINVAL, "bad ELF header: %s", elf_errmsg(-1));
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return nicsim_ld_fail(ld, -EINVAL, "not a BPF object (big-endian)");
    if (eh.e_machine != EM_BPF)
        return nicsim_ld_fail(ld, -EINVAL, "not a BPF object (machine %u)", (unsigned)eh.e_machine);
    if (eh.e_type != ET_REL)
        return nicsim_ld_fail(ld, -EINVAL, "not a BPF object file (ELF type %u, not relocatable)",
                              (unsigned)eh.e_type);
    if (elf_getshdrnum(ld->elf, &ld->nsec) || elf_getshdrstrndx(ld->elf, &ld->shstrndx))
        return nicsim_ld_fail(ld, -EINVAL, "bad section table: %s", elf_errmsg(-1));
    if (ld->nsec < 2)
        return nicsim_ld_fail(ld, -EINVAL, "no sections");
    if (ld->shstrndx == 0 || ld->shstrndx >= ld->nsec)
        return nicsim_ld_fail(ld, -EINVAL, "section name table index %zu out of range",
                              ld->shstrndx);
    return 0;
}

static int sec_data(struct ld *ld, size_t i)
{
    struct ld_sec *s = &ld->secs[i];
    Elf_Scn *scn = elf_getscn(ld->elf, i);

    if (s->data)
        return 0;
    s->data = scn ? elf_getdata(scn, NULL) : NULL;
    if (!s->data)
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': cannot read its contents (%s)", s->name,
                              elf_errmsg(-1));
    if (s->sh.sh_type != SHT_NOBITS && s->data->d_size && !s->data->d_buf)
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': no contents", s->name);
    /* everything after this reads sh_size bytes (functions, relocations, global data copied
     * into maps): the data libelf handed back must be exactly that long */
    if (s->sh.sh_type != SHT_NOBITS && s->data->d_size != s->sh.sh_size)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '%s': %zu bytes of contents where its header says %llu "
                              "(compressed or damaged)",
                              s->name, s->data->d_size, (unsigned long long)s->sh.sh_size);
    return 0;
}

static bool has_prefix_dot(const char *name, const char *base)
{
    size_t n = strlen(base);

    return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* One special section of a given name; a second one is an error. */
static int set_special(struct ld *ld, long *slot, size_t i, uint32_t need_type)
{
    struct ld_sec *s = &ld->secs[i];

    if (*slot >= 0)
        return nicsim_ld_fail(ld, -EINVAL, "two sections named '%s' (%ld and %zu)", s->name, *slot,
                              i);
    if (s->sh.sh_type != need_type)
        return nicsim_ld_fail(ld, -EINVAL, "section '%s' has type %u, expected %u", s->name,
                              (unsigned)s->sh.sh_type, (unsigned)need_type);
    *slot = (long)i;
    return sec_data(ld, i);
}

static int classify(struct ld *ld, size_t i)
{
    struct ld_sec *s = &ld->secs[i];
    const GElf_Shdr *sh = &s->sh;
    const char *n = s->name;
    int rc;

    if (sh->sh_type == SHT_SYMTAB) {
        if (ld->symtab)
            return nicsim_ld_fail(ld, -EINVAL, "more than one symbol table");
        ld->symtab = i;
        return sec_data(ld, i);
    }
    if (!strcmp(n, "license"))
        return set_special(ld, &ld->license_sec, i, SHT_PROGBITS);
    if (!strcmp(n, "maps")) {
        rc = set_special(ld, &ld->maps_sec, i, SHT_PROGBITS);
        s->kind = LD_SEC_MAPS;
        return rc;
    }
    if (!strcmp(n, ".maps")) {
        rc = set_special(ld, &ld->btfmaps_sec, i, SHT_PROGBITS);
        s->kind = LD_SEC_BTFMAPS;
        return rc;
    }
    if (!strcmp(n, ".BTF"))
        return set_special(ld, &ld->btf_sec, i, SHT_PROGBITS);
    if (!strcmp(n, ".BTF.ext"))
        return set_special(ld, &ld->btf_ext_sec, i, SHT_PROGBITS);
    if (!strcmp(n, ".struct_ops") || !strcmp(n, ".struct_ops.link"))
        return nicsim_ld_fail(ld, -EOPNOTSUPP, "section '%s': struct_ops maps are not supported",
                              n);
    if (sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR) && sh->sh_size) {
        if (sh->sh_size % INSN_SZ)
            return nicsim_ld_fail(ld, -EINVAL, "section '%s': size %llu is not a multiple of 8", n,
                                  (unsigned long long)sh->sh_size);
        if (!strcmp(n, ".text")) {
            rc = set_special(ld, &ld->text, i, SHT_PROGBITS);
            s->kind = LD_SEC_TEXT;
        } else {
            rc = sec_data(ld, i);
            s->kind = LD_SEC_PROG;
        }
        if (rc)
            return rc;
        s->rel_at = malloc(sh->sh_size / INSN_SZ * sizeof(*s->rel_at));
        s->core_at = malloc(sh->sh_size / INSN_SZ * sizeof(*s->core_at));
        if (!s->rel_at || !s->core_at)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        memset(s->rel_at, 0xff, sh->sh_size / INSN_SZ * sizeof(*s->rel_at));
        memset(s->core_at, 0xff, sh->sh_size / INSN_SZ * sizeof(*s->core_at));
        return 0;
    }
    if (sh->sh_type == SHT_PROGBITS && sh->sh_size && has_prefix_dot(n, ".data"))
        s->kind = LD_SEC_DATA;
    else if (sh->sh_type == SHT_PROGBITS && sh->sh_size && has_prefix_dot(n, ".rodata"))
        s->kind = LD_SEC_RODATA;
    else if (sh->sh_type == SHT_NOBITS && sh->sh_size && has_prefix_dot(n, ".bss"))
        s->kind = LD_SEC_BSS;
    else
        return 0;
    if (sh->sh_size > UINT32_MAX)
        return nicsim_ld_fail(ld, -E2BIG, "section '%s': %llu bytes is too large for a map value",
                              n, (unsigned long long)sh->sh_size);
    return sec_data(ld, i);
}

static int read_sections(struct ld *ld)
{
    int rc;

    ld->secs = calloc(ld->nsec, sizeof(*ld->secs));
    if (!ld->secs)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    for (size_t i = 0; i < ld->nsec; i++) {
        ld->secs[i].map = -1;
        ld->secs[i].name = "";
    }
    for (size_t i = 1; i < ld->nsec; i++) {
        struct ld_sec *s = &ld->secs[i];
        Elf_Scn *scn = elf_getscn(ld->elf, i);

        if (!scn || !gelf_getshdr(scn, &s->sh))
            return nicsim_ld_fail(ld, -EINVAL, "section %zu: bad header: %s", i, elf_errmsg(-1));
        s->name = elf_strptr(ld->elf, ld->shstrndx, s->sh.sh_name);
        if (!s->name)
            return nicsim_ld_fail(ld, -EINVAL, "section %zu: name offset %u out of range", i,
                                  (unsigned)s->sh.sh_name);
    }
    for (size_t i = 1; i < ld->nsec; i++)
        if ((rc = classify(ld, i)))
            return rc;
    return 0;
}

/* ---- symbols and functions ---- */

static int read_symbols(struct ld *ld)
{
    const struct ld_sec *st;
    Elf_Data *d;

    if (!ld->symtab)
        return nicsim_ld_fail(ld, -EINVAL, "no symbol table (stripped object?)");
    st = &ld->secs[ld->symtab];
    d = st->data;
    ld->strtab = st->sh.sh_link;
    if (st->sh.sh_entsize != sizeof(Elf64_Sym))
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': entry size %llu, expected %zu", st->name,
                              (unsigned long long)st->sh.sh_entsize, sizeof(Elf64_Sym));
    if (!ld->strtab || ld->strtab >= ld->nsec || ld->secs[ld->strtab].sh.sh_type != SHT_STRTAB)
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': string table index %zu is invalid",
                              st->name, ld->strtab);
    ld->nsyms = d->d_size / sizeof(Elf64_Sym);
    ld->syms = calloc(ld->nsyms ? ld->nsyms : 1, sizeof(*ld->syms));
    if (!ld->syms)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    for (size_t i = 0; i < ld->nsyms; i++) {
        struct ld_sym *s = &ld->syms[i];

        if (!gelf_getsym(d, (int)i, &s->s))
            return nicsim_ld_fail(ld, -EINVAL, "symbol %zu: unreadable: %s", i, elf_errmsg(-1));
        if (s->s.st_shndx >= ld->nsec && s->s.st_shndx < SHN_LORESERVE)
            return nicsim_ld_fail(ld, -EINVAL, "symbol %zu: section index %u out of range", i,
                                  (unsigned)s->s.st_shndx);
        if (GELF_ST_TYPE(s->s.st_info) == STT_SECTION && !s->s.st_name) {
            s->name = s->s.st_shndx < ld->nsec ? ld->secs[s->s.st_shndx].name : "";
            continue;
        }
        s->name = elf_strptr(ld->elf, ld->strtab, s->s.st_name);
        if (!s->name)
            return nicsim_ld_fail(ld, -EINVAL, "symbol %zu: name offset %u out of range", i,
                                  (unsigned)s->s.st_name);
    }
    return 0;
}

static int cmp_funcs(const void *a, const void *b)
{
    const struct ld_func *x = a, *y = b;

    if (x->sec != y->sec)
        return x->sec < y->sec ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int collect_funcs(struct ld *ld)
{
    ld->funcs = calloc(ld->nsyms ? ld->nsyms : 1, sizeof(*ld->funcs));
    if (!ld->funcs)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    for (size_t i = 0; i < ld->nsyms; i++) {
        const struct ld_sym *sym = &ld->syms[i];
        uint64_t v = sym->s.st_value, sz = sym->s.st_size;
        const struct ld_sec *sec;

        if (GELF_ST_TYPE(sym->s.st_info) != STT_FUNC || sym->s.st_shndx >= ld->nsec)
            continue;
        sec = &ld->secs[sym->s.st_shndx];
        if (sec->kind != LD_SEC_PROG && sec->kind != LD_SEC_TEXT)
            continue;
        if (!sym->name[0])
            return nicsim_ld_fail(ld, -EINVAL, "section '%s': function symbol %zu has no name",
                                  sec->name, i);
        if (!sz || v % INSN_SZ || sz % INSN_SZ || v > sec->sh.sh_size || sz > sec->sh.sh_size - v)
            return nicsim_ld_fail(
                ld, -EINVAL,
                "section '%s': function '%s' at offset %llu, size %llu, is outside "
                "the section or not made of whole instructions",
                sec->name, sym->name, (unsigned long long)v, (unsigned long long)sz);
        if (sec->kind == LD_SEC_PROG && GELF_ST_BIND(sym->s.st_info) == STB_LOCAL)
            return nicsim_ld_fail(ld, -EOPNOTSUPP,
                                  "section '%s': program '%s' is static; programs must be global "
                                  "functions",
                                  sec->name, sym->name);
        ld->funcs[ld->nfuncs++] = (struct ld_func){.sec = sym->s.st_shndx,
                                                   .off = v / INSN_SZ,
                                                   .n = sz / INSN_SZ,
                                                   .name = sym->name,
                                                   .is_prog = sec->kind == LD_SEC_PROG,
                                                   .link_at = -1};
    }
    qsort(ld->funcs, ld->nfuncs, sizeof(*ld->funcs), cmp_funcs);
    for (size_t i = 1; i < ld->nfuncs; i++) {
        const struct ld_func *a = &ld->funcs[i - 1], *b = &ld->funcs[i];

        if (a->sec == b->sec && a->off + a->n > b->off)
            return nicsim_ld_fail(ld, -EINVAL, "section '%s': functions '%s' and '%s' overlap",
                                  ld->secs[a->sec].name, a->name, b->name);
    }
    return 0;
}

/* The function of section `sec` that contains slot `slot` (or starts there, if `start`). */
static long find_func(const struct ld *ld, size_t sec, size_t slot, bool start)
{
    size_t lo = 0, hi = ld->nfuncs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ld_func *f = &ld->funcs[mid];

        if (f->sec < sec || (f->sec == sec && f->off + f->n <= slot))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ld->nfuncs || ld->funcs[lo].sec != sec || ld->funcs[lo].off > slot)
        return -1;
    if (start && ld->funcs[lo].off != slot)
        return -1;
    return (long)lo;
}

/* ---- BTF and .BTF.ext ---- */

static int read_btf(struct ld *ld)
{
    const struct ld_sec *s;

    if (ld->btf_sec < 0)
        return 0;
    s = &ld->secs[ld->btf_sec];
    if (s->data->d_size && s->data->d_size <= UINT32_MAX)
        ld->btf = btf__new(s->data->d_buf, (uint32_t)s->data->d_size);
    if (!ld->btf) {
        /* like libbpf: broken BTF only matters to objects that need it */
        if (ld->btfmaps_sec >= 0)
            return nicsim_ld_fail(ld, -EINVAL, "section '.BTF' is corrupt; '.maps' needs it");
        return 0;
    }
    btf__set_pointer_size(ld->btf, 8);
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static long find_exec_sec(const struct ld *ld, const char *name)
{
    for (size_t i = 1; i < ld->nsec; i++)
        if ((ld->secs[i].kind == LD_SEC_PROG || ld->secs[i].kind == LD_SEC_TEXT) &&
            !strcmp(ld->secs[i].name, name))
            return (long)i;
    return -1;
}

/*
 * The CO-RE records of .BTF.ext (libbpf's struct btf_ext_header has no public accessor, so the
 * few fields needed are read here, each checked against the section size): header {u16 magic
 * 0xeB9F, u8 version, u8 flags, u32 hdr_len, func_info off/len, line_info off/len, core_relo
 * off/len}, offsets relative to the end of the header; the CO-RE part is {u32 record size} then
 * per section {u32 name (BTF string), u32 count, count records {insn_off, type_id, access, kind}}.
 */
static int read_core(struct ld *ld)
{
    const struct ld_sec *s;
    const uint8_t *p;
    size_t size, off, end, rec_size;

    if (ld->btf_ext_sec < 0)
        return 0;
    s = &ld->secs[ld->btf_ext_sec];
    p = s->data->d_buf;
    size = s->data->d_size;
    if (size < 8 || (rd32(p) & 0xffff) != 0xeB9F)
        return nicsim_ld_fail(ld, -EINVAL, "section '.BTF.ext': bad header");
    off = rd32(p + 4); /* hdr_len */
    if (off < 24 || off > size)
        return nicsim_ld_fail(ld, -EINVAL, "section '.BTF.ext': header length %zu is invalid", off);
    if (off < 32)
        return 0; /* no CO-RE part */
    {
        size_t hdr_len = off, core_off = rd32(p + 24), core_len = rd32(p + 28);

        if (!core_len)
            return 0;
        if (core_off > size - hdr_len || core_len > size - hdr_len - core_off || core_len < 4)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '.BTF.ext': CO-RE records outside the section");
        off = hdr_len + core_off;
        end = off + core_len;
    }
    if (!ld->btf)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '.BTF.ext' has CO-RE relocations but no usable .BTF");
    rec_size = rd32(p + off);
    off += 4;
    if (rec_size < 16 || rec_size > 1024)
        return nicsim_ld_fail(ld, -EINVAL, "section '.BTF.ext': CO-RE record size %zu is invalid",
                              rec_size);
    while (off < end) {
        const char *name;
        size_t count;
        long sec;

        if (end - off < 8)
            return nicsim_ld_fail(ld, -EINVAL, "section '.BTF.ext': truncated CO-RE records");
        name = btf__name_by_offset(ld->btf, rd32(p + off));
        count = rd32(p + off + 4);
        off += 8;
        if (!name || count > (end - off) / rec_size)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '.BTF.ext': truncated or unnamed CO-RE records");
        sec = find_exec_sec(ld, name);
        for (size_t k = 0; k < count; k++, off += rec_size) {
            uint32_t insn_off = rd32(p + off);
            struct ld_core *c;
            struct ld_sec *es;

            if (sec < 0)
                continue;
            es = &ld->secs[sec];
            if (insn_off % INSN_SZ || insn_off >= es->sh.sh_size)
                return nicsim_ld_fail(
                    ld, -EINVAL,
                    "section '.BTF.ext': CO-RE record for '%s' offset %u is outside "
                    "the section",
                    name, insn_off);
            c = realloc(ld->cores, (ld->ncores + 1) * sizeof(*c));
            if (!c)
                return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
            ld->cores = c;
            c[ld->ncores] = (struct ld_core){.type_id = rd32(p + off + 4),
                                             .access_off = rd32(p + off + 8),
                                             .kind = rd32(p + off + 12)};
            if (es->core_at[insn_off / INSN_SZ] < 0)
                es->core_at[insn_off / INSN_SZ] = (int32_t)ld->ncores;
            ld->ncores++;
        }
    }
    return 0;
}

/*
 * The line info of .BTF.ext (what `perf annotate` and bpftool show beside the instructions):
 * {u32 record size} then per section {u32 name, u32 count, count records {u32 insn_off (bytes),
 * u32 file name, u32 line text (BTF strings), u32 line << 10 | column}}. Line info only annotates:
 * a section that holds none, or holds records this reader cannot make sense of, leaves the object
 * without it (never a load failure).
 */
static void read_lines(struct ld *ld)
{
    const struct ld_sec *s;
    const uint8_t *p;
    size_t size, hdr_len, off, end, rec_size;

    if (ld->btf_ext_sec < 0 || !ld->btf)
        return;
    s = &ld->secs[ld->btf_ext_sec];
    p = s->data->d_buf;
    size = s->data->d_size;
    if (size < 24 || (rd32(p) & 0xffff) != 0xeB9F)
        return;
    hdr_len = rd32(p + 4);
    if (hdr_len < 24 || hdr_len > size)
        return;
    {
        size_t l_off = rd32(p + 16), l_len = rd32(p + 20);
        if (l_len < 4 || l_off > size - hdr_len || l_len > size - hdr_len - l_off)
            return;
        off = hdr_len + l_off;
        end = off + l_len;
    }
    rec_size = rd32(p + off);
    off += 4;
    if (rec_size < 16 || rec_size > 1024)
        return;
    while (end - off >= 8) {
        const char *name = btf__name_by_offset(ld->btf, rd32(p + off));
        size_t count = rd32(p + off + 4);
        off += 8;
        if (!name || count > (end - off) / rec_size)
            break;
        long sec = find_exec_sec(ld, name);
        for (size_t k = 0; k < count; k++, off += rec_size) {
            uint32_t insn_off = rd32(p + off), lc = rd32(p + off + 12);
            if (sec < 0 || insn_off % INSN_SZ || insn_off >= ld->secs[sec].sh.sh_size)
                continue;
            const char *file = btf__name_by_offset(ld->btf, rd32(p + off + 4));
            const char *src = btf__name_by_offset(ld->btf, rd32(p + off + 8));
            struct ld_line *l = realloc(ld->lines, (ld->nlines + 1) * sizeof(*l));
            if (!l)
                return;
            ld->lines = l;
            l[ld->nlines++] = (struct ld_line){.sec = (size_t)sec,
                                               .slot = insn_off / INSN_SZ,
                                               .line = lc >> 10,
                                               .col = lc & 0x3ff,
                                               .file = file ? file : "",
                                               .src = src ? src : ""};
        }
    }
}

static int cmp_line(const void *a, const void *b)
{
    const struct nicsim_obj_line *x = a, *y = b;
    return (x->insn > y->insn) - (x->insn < y->insn);
}

static void free_lines(struct nicsim_obj_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)l[i].file);
        free((char *)l[i].src);
    }
    free(l);
}

/* The line info of a program just linked: every function placed in it (link_at >= 0) brings
 * the records of its slots, moved to where it was placed. Out of memory: no line info. */
static void prog_lines(struct ld *ld, struct nicsim_obj_prog *p)
{
    struct nicsim_obj_line *out = NULL;
    size_t n = 0;

    for (size_t fi = 0; fi < ld->nfuncs; fi++) {
        const struct ld_func *f = &ld->funcs[fi];
        if (f->link_at < 0)
            continue;
        for (size_t k = 0; k < ld->nlines; k++) {
            const struct ld_line *l = &ld->lines[k];
            if (l->sec != f->sec || l->slot < f->off || l->slot >= f->off + f->n || !l->line)
                continue;
            struct nicsim_obj_line *o = realloc(out, (n + 1) * sizeof(*o));
            if (!o)
                goto oom;
            out = o;
            out[n] = (struct nicsim_obj_line){.insn = (uint32_t)(f->link_at + l->slot - f->off),
                                              .line = l->line,
                                              .col = l->col,
                                              .file = strdup(l->file),
                                              .src = strdup(l->src)};
            n++;
            if (!out[n - 1].file || !out[n - 1].src)
                goto oom;
        }
    }
    if (n)
        qsort(out, n, sizeof(*out), cmp_line);
    p->lines = out;
    p->n_lines = n;
    return;
oom:
    free_lines(out, n);
}

/* ---- relocations ---- */

static int check_rel_sec(struct ld *ld, const struct ld_sec *rs)
{
    if (rs->sh.sh_entsize != sizeof(Elf64_Rel))
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': entry size %llu, expected %zu", rs->name,
                              (unsigned long long)rs->sh.sh_entsize, sizeof(Elf64_Rel));
    if (rs->sh.sh_link != ld->symtab)
        return nicsim_ld_fail(ld, -EINVAL, "section '%s': does not use the symbol table", rs->name);
    return 0;
}

int nicsim_ld_read_rel(struct ld *ld, const struct ld_sec *rs, size_t k, GElf_Rel *r)
{
    if (!gelf_getrel(rs->data, (int)k, r))
        return nicsim_ld_fail(ld, -EINVAL, "section '%s' relocation #%zu: unreadable: %s", rs->name,
                              k, elf_errmsg(-1));
    if (GELF_R_SYM(r->r_info) >= ld->nsyms)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '%s' relocation #%zu: symbol index %llu out of range",
                              rs->name, k, (unsigned long long)GELF_R_SYM(r->r_info));
    return 0;
}

static int collect_exec_relos(struct ld *ld, size_t ri)
{
    const struct ld_sec *rs = &ld->secs[ri];
    struct ld_sec *ts = &ld->secs[rs->sh.sh_info];
    size_t n;
    int rc;

    if ((rc = check_rel_sec(ld, rs)) || (rc = sec_data(ld, ri)))
        return rc;
    n = rs->data->d_size / sizeof(Elf64_Rel);
    for (size_t k = 0; k < n; k++) {
        struct ld_rel *rels;
        GElf_Rel r;
        size_t slot;

        if ((rc = nicsim_ld_read_rel(ld, rs, k, &r)))
            return rc;
        if (r.r_offset % INSN_SZ || r.r_offset >= ts->sh.sh_size)
            return nicsim_ld_fail(
                ld, -EINVAL, "section '%s' relocation #%zu: offset %llu is outside section '%s'",
                rs->name, k, (unsigned long long)r.r_offset, ts->name);
        slot = r.r_offset / INSN_SZ;
        if (find_func(ld, rs->sh.sh_info, slot, false) < 0)
            continue; /* not in any function: libbpf skips these too */
        if (ts->rel_at[slot] >= 0)
            return nicsim_ld_fail(ld, -EINVAL, "section '%s' insn %zu: more than one relocation",
                                  ts->name, slot);
        rels = realloc(ld->rels, (ld->nrels + 1) * sizeof(*rels));
        if (!rels)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        ld->rels = rels;
        rels[ld->nrels] =
            (struct ld_rel){.sym = GELF_R_SYM(r.r_info), .type = (uint32_t)GELF_R_TYPE(r.r_info)};
        ts->rel_at[slot] = (int32_t)ld->nrels++;
    }
    return 0;
}

static int collect_relos(struct ld *ld)
{
    int rc;

    for (size_t i = 1; i < ld->nsec; i++) {
        const struct ld_sec *rs = &ld->secs[i];
        size_t t = rs->sh.sh_info;

        if (rs->sh.sh_type != SHT_REL && rs->sh.sh_type != SHT_RELA)
            continue;
        if (t == 0 || t >= ld->nsec)
            return nicsim_ld_fail(ld, -EINVAL, "section '%s': target section %zu out of range",
                                  rs->name, t);
        if (ld->secs[t].kind == LD_SEC_PROG || ld->secs[t].kind == LD_SEC_TEXT) {
            if (rs->sh.sh_type == SHT_RELA)
                return nicsim_ld_fail(ld, -EOPNOTSUPP,
                                      "section '%s': RELA relocations are not supported", rs->name);
            rc = collect_exec_relos(ld, i);
        } else if ((long)t == ld->btfmaps_sec && rs->sh.sh_type == SHT_REL) {
            if (!(rc = check_rel_sec(ld, rs)) && !(rc = sec_data(ld, i)))
                rc = nicsim_ld_map_relos(ld, i);
        } else {
            rc = 0; /* debug info, BTF: nothing to do */
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* "kconfig" or "ksym" for an extern declared in those BTF sections. */
static const char *extern_kind(const struct ld *ld, const char *name)
{
    static const char *const secs[][2] = {{".kconfig", "kconfig"}, {".ksyms", "ksym"}};

    for (size_t k = 0; ld->btf && k < 2; k++) {
        int id = btf__find_by_name_kind(ld->btf, secs[k][0], BTF_KIND_DATASEC);
        const struct btf_type *t = id > 0 ? btf__type_by_id(ld->btf, (uint32_t)id) : NULL;
        const struct btf_var_secinfo *vsi;

        if (!t)
            continue;
        vsi = btf_var_secinfos(t);
        for (uint16_t v = 0; v < btf_vlen(t); v++) {
            const struct btf_type *vt = btf__type_by_id(ld->btf, vsi[v].type);
            const char *vn = vt ? btf__name_by_offset(ld->btf, vt->name_off) : NULL;

            if (vn && !strcmp(vn, name))
                return secs[k][1];
        }
    }
    return "extern";
}

/* ---- linking ---- */

struct linkbuf {
    struct nicsim_insn *insns;
    size_t n, cap;
    struct nicsim_obj_core_relo *relos;
    size_t n_relos;
};

/* Slot `at` was patched by CO-RE record `c` (or poisoned: it matched nothing). */
static int add_core_relo(struct ld *ld, struct linkbuf *lb, size_t at, const struct ld_core *c,
                         bool poisoned)
{
    static const char *const kinds[] = {
        "field byte offset", "field byte size",   "field existence",      "field signedness",
        "field left shift",  "field right shift", "local type id",        "target type id",
        "type existence",    "type size",         "enum value existence", "enum value",
        "type match",
    };
    struct nicsim_obj_core_relo *p = realloc(lb->relos, (lb->n_relos + 1) * sizeof(*p));
    char buf[320];

    if (!p)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    lb->relos = p;
    const char *kind = c->kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[c->kind] : "unknown";

    if (poisoned)
        snprintf(buf, sizeof(buf),
                 "CO-RE relocation (%s) of %s matches nothing in the kernel's BTF; libbpf "
                 "poisons the instruction (call 0xbad2310)",
                 kind, c->what);
    else
        snprintf(buf, sizeof(buf), "CO-RE relocation (%s) of %s: %llu -> %llu", kind, c->what,
                 (unsigned long long)c->res.orig_val, (unsigned long long)c->res.new_val);
    p[lb->n_relos].insn = (uint32_t)at;
    p[lb->n_relos].poisoned = poisoned;
    if (!(p[lb->n_relos].what = strdup(buf)))
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    lb->n_relos++;
    return 0;
}

static void free_core_relos(struct nicsim_obj_core_relo *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)p[i].what);
    free(p);
}

static int lb_append(struct ld *ld, struct linkbuf *lb, const struct ld_func *f)
{
    const uint8_t *src = (const uint8_t *)ld->secs[f->sec].data->d_buf + f->off * INSN_SZ;

    if (lb->n + f->n > NICSIM_ISA_MAX_INSNS)
        return nicsim_ld_fail(ld, -E2BIG, "section '%s': program linked with '%s' exceeds %u slots",
                              ld->secs[f->sec].name, f->name, NICSIM_ISA_MAX_INSNS);
    if (lb->n + f->n > lb->cap) {
        size_t cap = (lb->n + f->n) * 2;
        struct nicsim_insn *p = realloc(lb->insns, cap * sizeof(*p));

        if (!p)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        lb->insns = p;
        lb->cap = cap;
    }
    memcpy(lb->insns + lb->n, src, f->n * INSN_SZ);
    lb->n += f->n;
    return 0;
}

static long map_at(const struct ld *ld, enum nicsim_obj_map_kind kind, uint64_t off)
{
    for (size_t m = 0; m < ld->obj->n_maps; m++)
        if (ld->obj->maps[m].kind == kind && ld->mapsrc[m].off == off)
            return (long)m;
    return -1;
}

/* Applies the relocation of slot i of function f (linked at `base`); a call sets *target. */
static int apply_rel(struct ld *ld, struct linkbuf *lb, const struct ld_func *f, size_t base,
                     size_t i, long *target)
{
    const struct ld_sec *sec = &ld->secs[f->sec];
    size_t slot = f->off + i;
    const struct ld_rel *r = &ld->rels[sec->rel_at[slot]];
    const struct ld_sym *sym = &ld->syms[r->sym];
    const char *sn = sym->name[0] ? sym->name : "<unnamed>";
    struct nicsim_insn *insn = &lb->insns[base + i];
    unsigned shndx = sym->s.st_shndx;
    const struct ld_sec *ss = shndx < ld->nsec ? &ld->secs[shndx] : NULL;

    if (insn->code == CODE_CALL) {
        long long t;

        if (r->type != R_BPF_64_32)
            return nicsim_ld_fail(
                ld, -EOPNOTSUPP,
                "section '%s' insn %zu: relocation type %u on a call to '%s' is not "
                "supported",
                sec->name, slot, r->type, sn);
        if (shndx == SHN_UNDEF)
            return nicsim_ld_fail(
                ld, -EOPNOTSUPP,
                "section '%s' insn %zu: call to kernel function '%s' (kfunc) is not "
                "supported",
                sec->name, slot, sn);
        if (insn->src != BPF_PSEUDO_CALL)
            return nicsim_ld_fail(
                ld, -EINVAL, "section '%s' insn %zu: relocation against '%s' on a call with src %u",
                sec->name, slot, sn, (unsigned)insn->src);
        if ((long)shndx != ld->text || sym->s.st_value % INSN_SZ)
            return nicsim_ld_fail(
                ld, -EOPNOTSUPP,
                "section '%s' insn %zu: call to '%s' in section '%s': subprograms "
                "must be functions in .text",
                sec->name, slot, sn, ss ? ss->name : "?");
        t = (long long)(sym->s.st_value / INSN_SZ) + insn->imm + 1;
        *target = t >= 0 && (uint64_t)t < ss->sh.sh_size / INSN_SZ
                      ? find_func(ld, shndx, (size_t)t, true)
                      : -1;
        if (*target < 0)
            return nicsim_ld_fail(
                ld, -EINVAL,
                "section '%s' insn %zu: call to '%s' %+lld does not start a function "
                "in .text",
                sec->name, slot, sn, (long long)insn->imm + 1);
        return 0;
    }
    if (insn->code != CODE_LDDW)
        return nicsim_ld_fail(
            ld, -EINVAL,
            "section '%s' insn %zu: relocation against '%s' on an instruction that is "
            "neither lddw nor call (code 0x%02x)",
            sec->name, slot, sn, (unsigned)insn->code);
    if (i + 1 >= f->n)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '%s' insn %zu: lddw of '%s' is cut off at the end "
                              "of function '%s'",
                              sec->name, slot, sn, f->name);
    if (r->type != R_BPF_64_64)
        return nicsim_ld_fail(ld, -EOPNOTSUPP,
                              "section '%s' insn %zu: relocation type %u on lddw of '%s' is not "
                              "supported",
                              sec->name, slot, r->type, sn);
    if (shndx == SHN_UNDEF)
        return nicsim_ld_fail(ld, -EOPNOTSUPP,
                              "section '%s' insn %zu: extern '%s' (%s) is not supported", sec->name,
                              slot, sn, extern_kind(ld, sym->name));
    if (ss && ss->kind == LD_SEC_TEXT) {
        /* a static callback is relocated against .text with its offset in imm */
        long long at = ((long long)sym->s.st_value + insn->imm) / INSN_SZ;
        long fn = at >= 0 ? find_func(ld, shndx, (size_t)at, true) : -1;

        if (fn >= 0)
            sn = ld->funcs[fn].name;
    }
    if (insn->src == BPF_PSEUDO_FUNC ||
        (ss && (ss->kind == LD_SEC_PROG || ss->kind == LD_SEC_TEXT)))
        return nicsim_ld_fail(
            ld, -EOPNOTSUPP,
            "section '%s' insn %zu: address of function '%s' (a callback, lddw src "
            "4) is not supported",
            sec->name, slot, sn);
    if (!ss)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '%s' insn %zu: lddw of '%s' in special section 0x%x (an "
                              "uninitialised global?)",
                              sec->name, slot, sn, shndx);
    if (ss->kind == LD_SEC_MAPS || ss->kind == LD_SEC_BTFMAPS) {
        long m = map_at(ld, ss->kind == LD_SEC_MAPS ? NICSIM_OBJ_MAP_LEGACY : NICSIM_OBJ_MAP_BTF,
                        sym->s.st_value);

        if (m < 0)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '%s' insn %zu: lddw of '%s': no map at offset %llu of "
                                  "section '%s'",
                                  sec->name, slot, sn, (unsigned long long)sym->s.st_value,
                                  ss->name);
        insn->src = NICSIM_LDDW_MAP_IDX;
        insn->imm = (int32_t)m;
        return 0;
    }
    if (ss->kind == LD_SEC_DATA || ss->kind == LD_SEC_RODATA || ss->kind == LD_SEC_BSS) {
        long long voff = (long long)sym->s.st_value + insn->imm;

        /* the kernel takes a value offset below the value size (array_map_direct_value_addr):
         * the end of the section is outside it */
        if (sym->s.st_value > ss->sh.sh_size || voff < 0 || (uint64_t)voff >= ss->sh.sh_size)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '%s' insn %zu: lddw of '%s' %+d: offset %lld is outside "
                                  "'%s' (%llu bytes)",
                                  sec->name, slot, sn, insn->imm,
                                  (long long)sym->s.st_value + insn->imm, ss->name,
                                  (unsigned long long)ss->sh.sh_size);
        insn->src = NICSIM_LDDW_MAP_IDX_VALUE;
        insn->imm = (int32_t)ss->map;
        insn[1].imm = (int32_t)voff;
        return 0;
    }
    return nicsim_ld_fail(
        ld, -EOPNOTSUPP,
        "section '%s' insn %zu: lddw of '%s' in section '%s', which is neither a map "
        "nor a global data section",
        sec->name, slot, sn, ss->name);
}

/* Links function `fi`, already copied at funcs[fi].link_at: relocations, then every callee not
 * yet in this program is appended and linked in turn (libbpf's bpf_object__reloc_code). */
static int link_func(struct ld *ld, struct linkbuf *lb, size_t fi, int depth)
{
    const struct ld_func *f = &ld->funcs[fi];
    const struct ld_sec *sec = &ld->secs[f->sec];
    size_t base = (size_t)f->link_at, nslots = sec->sh.sh_size / INSN_SZ;
    int rc;

    if (depth > MAX_LINK_DEPTH)
        return nicsim_ld_fail(ld, -E2BIG,
                              "section '%s': subprogram calls from '%s' nest deeper than %d",
                              sec->name, f->name, MAX_LINK_DEPTH);
    for (size_t i = 0; i < f->n; i++) {
        size_t slot = f->off + i;
        struct nicsim_insn *insn = &lb->insns[base + i];
        long target = -1;

        if (sec->core_at[slot] >= 0) {
            bool poisoned;

            rc = nicsim_ld_core_apply(ld, &ld->cores[sec->core_at[slot]], sec->name, slot, insn,
                                      f->n - i, &poisoned);
            if (rc)
                return rc;
            if ((rc = add_core_relo(ld, lb, base + i, &ld->cores[sec->core_at[slot]], poisoned)))
                return rc;
        }
        if (sec->rel_at[slot] >= 0) {
            if ((rc = apply_rel(ld, lb, f, base, i, &target)))
                return rc;
        } else if (insn->code == CODE_CALL && insn->src == BPF_PSEUDO_CALL) {
            long long t = (long long)slot + insn->imm + 1;

            if (t < 0 || (uint64_t)t >= nslots || (target = find_func(ld, f->sec, t, true)) < 0)
                return nicsim_ld_fail(
                    ld, -EINVAL,
                    "section '%s' insn %zu: bpf-to-bpf call to insn %lld, which does "
                    "not start a function of the section",
                    sec->name, slot, t);
            if ((long)f->sec != ld->text)
                return nicsim_ld_fail(ld, -EOPNOTSUPP,
                                      "section '%s' insn %zu: call to '%s': subprograms must be "
                                      "functions in .text",
                                      sec->name, slot, ld->funcs[target].name);
        } else if (insn->code == CODE_CALL && insn->src == BPF_PSEUDO_KFUNC_CALL) {
            return nicsim_ld_fail(ld, -EOPNOTSUPP,
                                  "section '%s' insn %zu: call to a kernel function (kfunc) is not "
                                  "supported",
                                  sec->name, slot);
        } else if (insn->code == CODE_LDDW && insn->src == BPF_PSEUDO_FUNC) {
            return nicsim_ld_fail(
                ld, -EOPNOTSUPP,
                "section '%s' insn %zu: address of a function (a callback, lddw src "
                "4) is not supported",
                sec->name, slot);
        } else if (insn->code == CODE_LDDW && insn->src != 0) {
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '%s' insn %zu: lddw with src %u and no relocation",
                                  sec->name, slot, (unsigned)insn->src);
        }
        if (target >= 0) {
            struct ld_func *t = &ld->funcs[target];

            if (t->link_at < 0) {
                t->link_at = (long)lb->n;
                if ((rc = lb_append(ld, lb, t)) ||
                    (rc = link_func(ld, lb, (size_t)target, depth + 1)))
                    return rc;
            }
            insn = &lb->insns[base + i];
            insn->imm = (int32_t)(t->link_at - (long)(base + i) - 1);
        }
    }
    return 0;
}

/*
 * Every program is linked on its own. A program that cannot be linked (a kfunc call, a CO-RE
 * relocation the kernel's BTF cannot resolve ...) does not take the others down with it: it is kept
 * with its reason in `error` and no instructions, the way libbpf opens such an object and fails
 * only the program it loads. Only an object none of whose programs links is refused as a whole
 * (with the first reason).
 */
static int build_progs(struct ld *ld)
{
    struct nicsim_obj *obj = ld->obj;
    char first_err[512] = "", pbuf[512];
    char *saved_err = ld->err;
    size_t saved_len = ld->err_len, np = 0, n_ok = 0;
    int first_rc = 0, rc;

    for (size_t i = 0; i < ld->nfuncs; i++)
        np += ld->funcs[i].is_prog;
    obj->progs = calloc(np ? np : 1, sizeof(*obj->progs));
    if (!obj->progs)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    for (size_t i = 0; i < ld->nfuncs; i++) {
        struct ld_func *f = &ld->funcs[i];
        struct nicsim_obj_prog *p = &obj->progs[obj->n_progs];
        const char *secname = ld->secs[f->sec].name;
        struct linkbuf lb = {0};

        if (!f->is_prog)
            continue;
        for (size_t k = 0; k < ld->nfuncs; k++)
            ld->funcs[k].link_at = -1;
        f->link_at = 0;
        pbuf[0] = '\0';
        ld->err = pbuf;
        ld->err_len = sizeof(pbuf);
        rc = lb_append(ld, &lb, f);
        if (!rc)
            rc = link_func(ld, &lb, i, 0);
        ld->err = saved_err;
        ld->err_len = saved_len;
        if (rc == -ENOMEM) {
            free(lb.insns);
            free_core_relos(lb.relos, lb.n_relos);
            return nicsim_ld_fail(ld, rc, "out of memory");
        }
        p->autoload = secname[0] != '?';
        p->name = strdup(f->name);
        p->section = strdup(secname + !p->autoload);
        obj->n_progs++;
        if (rc) {
            free(lb.insns);
            free_core_relos(lb.relos, lb.n_relos);
            if (!first_rc) {
                first_rc = rc;
                snprintf(first_err, sizeof(first_err), "%s", pbuf);
            }
            /* without the "<file>: " prefix: the program is named by whoever reports it */
            const char *why = strncmp(pbuf, ld->name, strlen(ld->name)) == 0 &&
                                      !strncmp(pbuf + strlen(ld->name), ": ", 2)
                                  ? pbuf + strlen(ld->name) + 2
                                  : pbuf;
            p->error = strdup(why);
            if (!p->error)
                return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        } else {
            p->insns = lb.insns;
            p->n = lb.n;
            p->core_relos = lb.relos;
            p->n_core_relos = lb.n_relos;
            p->entry_n = f->n;
            prog_lines(ld, p);
            n_ok++;
        }
        if (!p->name || !p->section)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        nicsim_ld_sec_def(p->section, &p->prog_type, &p->expected_attach_type);
    }
    if (np && !n_ok) {
        if (ld->err && ld->err_len)
            snprintf(ld->err, ld->err_len, "%s", first_err);
        return first_rc;
    }
    return 0;
}

static int read_license(struct ld *ld)
{
    const Elf_Data *d;
    size_t n = 0;

    if (ld->license_sec < 0)
        return 0;
    d = ld->secs[ld->license_sec].data;
    while (n < d->d_size && ((const char *)d->d_buf)[n])
        n++;
    free(ld->obj->license);
    ld->obj->license = strndup(d->d_buf ? d->d_buf : "", n);
    return ld->obj->license ? 0 : nicsim_ld_fail(ld, -ENOMEM, "out of memory");
}

/* ---- open / free ---- */

static int ld_load(struct ld *ld, char *buf, size_t len)
{
    int rc;

    ld->obj = calloc(1, sizeof(*ld->obj));
    if (!ld->obj || !(ld->obj->name = strdup(ld->name)) || !(ld->obj->license = strdup("")))
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    if (elf_version(EV_CURRENT) == EV_NONE)
        return nicsim_ld_fail(ld, -EINVAL, "libelf is unusable: %s", elf_errmsg(-1));
    ld->elf = elf_memory(buf, len);
    if (!ld->elf)
        return nicsim_ld_fail(ld, -EINVAL, "not an ELF file (%s)", elf_errmsg(-1));
    if ((rc = read_header(ld)) || (rc = read_sections(ld)) || (rc = read_symbols(ld)) ||
        (rc = read_btf(ld)) || (rc = collect_funcs(ld)) || (rc = nicsim_ld_legacy_maps(ld)) ||
        (rc = nicsim_ld_btf_maps(ld)) || (rc = nicsim_ld_data_maps(ld)) ||
        (rc = collect_relos(ld)) || (rc = read_core(ld)) || (read_lines(ld), 0) ||
        (rc = read_license(ld)) || (rc = build_progs(ld)))
        return rc;
    return 0;
}

static void ld_cleanup(struct ld *ld)
{
    if (ld->secs) {
        for (size_t i = 0; i < ld->nsec; i++) {
            free(ld->secs[i].rel_at);
            free(ld->secs[i].core_at);
        }
    }
    free(ld->secs);
    free(ld->syms);
    free(ld->funcs);
    free(ld->rels);
    free(ld->cores);
    free(ld->lines);
    free(ld->mapsrc);
    btf__free(ld->btf);
    for (size_t i = 0; i < ld->n_mod_btfs; i++)
        btf__free(ld->mod_btfs[i]);
    free(ld->mod_btfs);
    btf__free(ld->targ_btf);
    if (ld->elf)
        elf_end(ld->elf);
}

static struct nicsim_obj *open_buf(char *buf, size_t len, const char *name,
                                   const struct nicsim_obj_opts *opts, char *err, size_t err_len)
{
    struct ld ld = {.name = name,
                    .err = err,
                    .err_len = err_len,
                    .text = -1,
                    .maps_sec = -1,
                    .btfmaps_sec = -1,
                    .btf_sec = -1,
                    .btf_ext_sec = -1,
                    .license_sec = -1};
    int rc;

    if (opts && opts->sz < sizeof(opts->sz))
        rc = nicsim_ld_fail(&ld, -EINVAL, "bad options (sz %zu)", opts->sz);
    else
        rc = ld_load(&ld, buf, len);
    ld_cleanup(&ld);
    if (rc) {
        nicsim_obj__free(ld.obj);
        errno = -rc;
        return NULL;
    }
    return ld.obj;
}

struct nicsim_obj *nicsim_obj__open_mem(const void *buf, size_t len, const char *name,
                                        const struct nicsim_obj_opts *opts, char *err,
                                        size_t err_len)
{
    struct nicsim_obj *obj;
    char *copy;

    if (err && err_len)
        err[0] = '\0';
    if (!name)
        name = "<memory>";
    if (!buf && len) {
        if (err && err_len)
            snprintf(err, err_len, "%s: no buffer", name);
        errno = EINVAL;
        return NULL;
    }
    /* libelf reads from the buffer while parsing; the copy ends with the parse */
    copy = malloc(len ? len : 1);
    if (!copy) {
        if (err && err_len)
            snprintf(err, err_len, "%s: out of memory", name);
        errno = ENOMEM;
        return NULL;
    }
    if (len)
        memcpy(copy, buf, len);
    obj = open_buf(copy, len, name, opts, err, err_len);
    free(copy);
    return obj;
}

struct nicsim_obj *nicsim_obj__open_file(const char *path, const struct nicsim_obj_opts *opts,
                                         char *err, size_t err_len)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct nicsim_obj *obj = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    int e = 0;

    if (err && err_len)
        err[0] = '\0';
    if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        e = f && !errno ? EINVAL : errno;
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot open: %s", path, strerror(e ? e : EINVAL));
        goto out;
    }
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf || (st.st_size && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)) {
        e = buf ? EIO : ENOMEM;
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot read: %s", path, strerror(e));
        goto out;
    }
    obj = open_buf(buf, (size_t)st.st_size, base, opts, err, err_len);
    e = obj ? 0 : errno;
out:
    free(buf);
    if (f)
        fclose(f);
    errno = e;
    return obj;
}

const char *nicsim_obj_prog__core_poison(const struct nicsim_obj_prog *prog, size_t insn)
{
    for (size_t i = 0; prog && i < prog->n_core_relos; i++)
        if (prog->core_relos[i].insn == insn && prog->core_relos[i].poisoned)
            return prog->core_relos[i].what;
    return NULL;
}

void nicsim_obj__free(struct nicsim_obj *obj)
{
    if (!obj)
        return;
    for (size_t i = 0; i < obj->n_progs; i++) {
        free((void *)obj->progs[i].name);
        free((void *)obj->progs[i].section);
        free((void *)obj->progs[i].insns);
        free((void *)obj->progs[i].error);
        free_core_relos((struct nicsim_obj_core_relo *)obj->progs[i].core_relos,
                        obj->progs[i].n_core_relos);
        free_lines((struct nicsim_obj_line *)obj->progs[i].lines, obj->progs[i].n_lines);
    }
    for (size_t i = 0; i < obj->n_maps; i++) {
        struct nicsim_obj_map *m = &obj->maps[i];

        for (size_t k = 0; k < m->n_prog_inits; k++)
            free((void *)m->prog_inits[k].prog);
        free((void *)m->prog_inits);
        for (size_t k = 0; k < m->n_map_inits; k++)
            free((void *)m->map_inits[k].map);
        free((void *)m->map_inits);
        if (m->inner)
            free((void *)m->inner->name);
        free((void *)m->inner);
        free((void *)m->name);
        free((void *)m->init);
    }
    free(obj->progs);
    free(obj->maps);
    free(obj->name);
    free(obj->license);
    free(obj);
}

const char *nicsim_obj__name(const struct nicsim_obj *obj)
{
    return obj->name;
}
const char *nicsim_obj__license(const struct nicsim_obj *obj)
{
    return obj->license;
}
size_t nicsim_obj__n_progs(const struct nicsim_obj *obj)
{
    return obj->n_progs;
}
size_t nicsim_obj__n_maps(const struct nicsim_obj *obj)
{
    return obj->n_maps;
}

const struct nicsim_obj_prog *nicsim_obj__prog(const struct nicsim_obj *obj, size_t i)
{
    return i < obj->n_progs ? &obj->progs[i] : NULL;
}

const struct nicsim_obj_prog *nicsim_obj__find_prog(const struct nicsim_obj *obj, const char *name)
{
    for (size_t i = 0; i < obj->n_progs; i++)
        if (!strcmp(obj->progs[i].name, name))
            return &obj->progs[i];
    for (size_t i = 0; i < obj->n_progs; i++)
        if (!strcmp(obj->progs[i].section, name))
            return &obj->progs[i];
    return NULL;
}

const struct nicsim_obj_map *nicsim_obj__map(const struct nicsim_obj *obj, size_t i)
{
    return i < obj->n_maps ? &obj->maps[i] : NULL;
}

int nicsim_obj__find_map(const struct nicsim_obj *obj, const char *name)
{
    for (size_t i = 0; i < obj->n_maps; i++)
        if (!strcmp(obj->maps[i].name, name))
            return (int)i;
    return -1;
}
