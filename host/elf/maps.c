/* SPDX-License-Identifier: MIT */
/*
 * nicsim ELF object loader: map definitions, the way libbpf reads them.
 *
 *  - legacy SEC("maps"): records of struct bpf_map_def; the record size is the section size
 *    divided by the number of symbols in it (libbpf 0.x); longer records (iproute2's
 *    struct bpf_elf_map) are accepted only when the extra bytes are zero, as libbpf does.
 *  - BTF SEC(".maps"): one DATASEC variable per map, its struct's members encoding the
 *    attributes (`int (*type)[N]` means type = N; `key`/`value` are pointers to the types).
 *    Clang leaves the DATASEC offsets zero, so a variable's offset comes from its ELF symbol.
 *  - global data: every non-empty .data*, .rodata*, .bss* section is a one-entry array.
 *  - `.rel.maps`: `__array(values, ...)` initialisers of prog arrays (programs) and of arrays /
 *    hashes of maps (maps of the object), as libbpf's bpf_object__init_user_btf_maps and
 *    init_map_in_map_slots read them; a map-in-map's inner template is the struct its `values`
 *    points to (`__array(values, struct inner_def)`), named "<outer>.inner" as libbpf does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "obj_internal.h"

#define MAX_BTF_DEPTH 32

const struct btf_type *nicsim_ld_btf_skip(const struct btf *btf, uint32_t id, uint32_t *res_id)
{
    const struct btf_type *t = btf__type_by_id(btf, id);

    for (int depth = 0; t && (btf_is_mod(t) || btf_is_typedef(t)); depth++) {
        if (depth == MAX_BTF_DEPTH)
            return NULL;
        id = t->type;
        t = btf__type_by_id(btf, id);
    }
    if (res_id)
        *res_id = id;
    return t;
}

const char *nicsim_ld_btf_type_str(const struct btf *btf, uint32_t id, char *buf, size_t len)
{
    const struct btf_type *t = btf ? btf__type_by_id(btf, id) : NULL;
    const char *name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
    const char *kind = "";

    if (!t || !name) {
        snprintf(buf, len, "type [%u]", id);
        return buf;
    }
    if (btf_is_struct(t) || (btf_is_fwd(t) && !btf_kflag(t)))
        kind = "struct ";
    else if (btf_is_union(t) || btf_is_fwd(t))
        kind = "union ";
    else if (btf_is_any_enum(t))
        kind = "enum ";
    else if (btf_is_typedef(t))
        kind = "typedef ";
    snprintf(buf, len, "%s%s", kind, name[0] ? name : "(anonymous)");
    return buf;
}

/* ---- legacy "maps" ---- */

struct legacy_def {
    uint32_t type, key_size, value_size, max_entries, map_flags;
};

int nicsim_ld_legacy_maps(struct ld *ld)
{
    const struct ld_sec *s;
    size_t n = 0, size, def_sz;

    if (ld->maps_sec < 0)
        return 0;
    s = &ld->secs[ld->maps_sec];
    size = s->data->d_size;
    for (size_t i = 0; i < ld->nsyms; i++)
        n += ld->syms[i].s.st_shndx == (size_t)ld->maps_sec &&
             GELF_ST_TYPE(ld->syms[i].s.st_info) != STT_SECTION;
    if (!size || !n || size % n)
        return nicsim_ld_fail(
            ld, -EINVAL,
            "section 'maps': cannot tell the size of a map definition (%zu bytes, "
            "%zu symbols)",
            size, n);
    def_sz = size / n;
    for (size_t i = 0; i < ld->nsyms; i++) {
        const struct ld_sym *sym = &ld->syms[i];
        struct legacy_def def = {0};
        const uint8_t *rec;
        struct nicsim_obj_map *m;

        if (sym->s.st_shndx != (size_t)ld->maps_sec || GELF_ST_TYPE(sym->s.st_info) == STT_SECTION)
            continue;
        if (!sym->name[0])
            return nicsim_ld_fail(ld, -EINVAL, "section 'maps': map symbol %zu has no name", i);
        if (sym->s.st_value > size || def_sz > size - sym->s.st_value)
            return nicsim_ld_fail(
                ld, -EINVAL,
                "map '%s' in section 'maps': definition at offset %llu runs past the "
                "end of the section",
                sym->name, (unsigned long long)sym->s.st_value);
        rec = (const uint8_t *)s->data->d_buf + sym->s.st_value;
        memcpy(&def, rec, def_sz < sizeof(def) ? def_sz : sizeof(def));
        for (size_t b = sizeof(def); b < def_sz; b++)
            if (rec[b])
                return nicsim_ld_fail(
                    ld, -EOPNOTSUPP,
                    "map '%s' in section 'maps': %zu-byte definition with non-zero "
                    "fields past struct bpf_map_def (byte %zu) is not supported",
                    sym->name, def_sz, b);
        m = nicsim_ld_add_map(ld);
        if (!m || !(m->name = strdup(sym->name)))
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        m->kind = NICSIM_OBJ_MAP_LEGACY;
        m->type = def.type;
        m->key_size = def.key_size;
        m->value_size = def.value_size;
        m->max_entries = def.max_entries;
        m->map_flags = def.map_flags;
        ld->mapsrc[ld->obj->n_maps - 1].off = sym->s.st_value;
        ld->mapsrc[ld->obj->n_maps - 1].len = def_sz;
    }
    return 0;
}

/* ---- BTF ".maps" ---- */

/* `int (*name)[N]` → N */
static int btf_int_attr(struct ld *ld, const char *map, const char *attr, uint32_t type,
                        uint32_t *out)
{
    const struct btf_type *t = nicsim_ld_btf_skip(ld->btf, type, NULL);
    const struct btf_type *arr = t && btf_is_ptr(t) ? btf__type_by_id(ld->btf, t->type) : NULL;

    if (!arr || !btf_is_array(arr))
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': attribute '%s' is not encoded as int (*)[N]",
                              map, attr);
    *out = btf_array(arr)->nelems;
    return 0;
}

/* `T *name` → sizeof(T) */
static int btf_type_attr(struct ld *ld, const char *map, const char *attr, uint32_t type,
                         uint32_t *out)
{
    const struct btf_type *t = btf__type_by_id(ld->btf, type);
    long long sz;

    if (!t || !btf_is_ptr(t))
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': attribute '%s' is not a pointer to a type",
                              map, attr);
    sz = btf__resolve_size(ld->btf, t->type);
    if (sz < 0 || sz > UINT32_MAX)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': cannot tell the size of the %s type [%u]",
                              map, attr, t->type);
    *out = (uint32_t)sz;
    return 0;
}

static int set_size(struct ld *ld, const char *map, const char *what, uint32_t *field, uint32_t v)
{
    if (*field && *field != v)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': conflicting %s size %u != %u", map, what,
                              *field, v);
    *field = v;
    return 0;
}

static bool is_map_in_map(uint32_t type)
{
    return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int btf_map_def(struct ld *ld, struct nicsim_obj_map *m, const struct btf_type *def,
                       bool inner);

/* The inner template of a map-in-map: `values` is `struct def *values[]`. */
static int btf_inner_def(struct ld *ld, struct nicsim_obj_map *m, const struct btf_type *t)
{
    struct nicsim_obj_map *in;
    size_t len = strlen(m->name) + sizeof(".inner");
    int rc;

    t = t && btf_is_ptr(t) ? nicsim_ld_btf_skip(ld->btf, t->type, NULL) : NULL;
    if (!t || !btf_is_struct(t))
        return nicsim_ld_fail(
            ld, -EINVAL,
            "map '%s': 'values' of a map-in-map is not an array of pointers to a map "
            "definition struct",
            m->name);
    if (m->inner)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': 'values' is given twice", m->name);
    in = calloc(1, sizeof(*in));
    if (!in || !(in->name = malloc(len))) {
        free(in);
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    }
    snprintf((char *)in->name, len, "%s.inner", m->name);
    in->kind = NICSIM_OBJ_MAP_BTF;
    m->inner = in;
    rc = btf_map_def(ld, in, t, true);
    if (rc)
        return rc;
    if (is_map_in_map(in->type))
        return nicsim_ld_fail(
            ld, -EINVAL,
            "map '%s': its inner map is itself a map-in-map (%s), which the kernel "
            "refuses",
            m->name, in->name);
    return 0;
}

static int btf_values_attr(struct ld *ld, struct nicsim_obj_map *m, const struct btf_type *def,
                           uint16_t i)
{
    const struct btf_member *mb = &btf_members(def)[i];
    const struct btf_type *t = btf__type_by_id(ld->btf, mb->type);

    if (!is_map_in_map(m->type) && m->type != BPF_MAP_TYPE_PROG_ARRAY)
        return nicsim_ld_fail(ld, -EINVAL,
                              "map '%s': 'values' is only allowed in a prog array or a map-in-map "
                              "(the type must come before it)",
                              m->name);
    if (i != btf_vlen(def) - 1)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': 'values' must be the last member", m->name);
    if (!t || !btf_is_array(t) || btf_array(t)->nelems)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': 'values' is not a zero-sized array", m->name);
    t = nicsim_ld_btf_skip(ld->btf, btf_array(t)->type, NULL);
    if (is_map_in_map(m->type)) {
        int rc = btf_inner_def(ld, m, t);

        if (rc)
            return rc;
    } else {
        t = t && btf_is_ptr(t) ? nicsim_ld_btf_skip(ld->btf, t->type, NULL) : NULL;
        if (!t || !btf_is_func_proto(t))
            return nicsim_ld_fail(
                ld, -EINVAL, "map '%s': 'values' is not an array of function pointers", m->name);
    }
    ld->mapsrc[ld->obj->n_maps - 1].values_off = btf_member_bit_offset(def, i) / 8;
    return set_size(ld, m->name, "value", &m->value_size, 4);
}

static int btf_map_def(struct ld *ld, struct nicsim_obj_map *m, const struct btf_type *def,
                       bool inner)
{
    const struct btf_member *mb = btf_members(def);
    int rc = 0;

    for (uint16_t i = 0; i < btf_vlen(def) && !rc; i++) {
        const char *a = btf__name_by_offset(ld->btf, mb[i].name_off);
        uint32_t v = 0;

        if (!a)
            return nicsim_ld_fail(ld, -EINVAL, "map '%s': member %u has no name", m->name, i);
        if (!strcmp(a, "type")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &m->type);
        } else if (!strcmp(a, "max_entries")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &m->max_entries);
        } else if (!strcmp(a, "map_flags")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &m->map_flags);
        } else if (!strcmp(a, "numa_node")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &v); /* host NUMA: meaningless here */
        } else if (!strcmp(a, "pinning")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &m->pinning);
        } else if (!strcmp(a, "map_extra")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &v);
            m->map_extra = v;
        } else if (!strcmp(a, "key_size") || !strcmp(a, "value_size")) {
            rc = btf_int_attr(ld, m->name, a, mb[i].type, &v);
            if (!rc)
                rc = set_size(ld, m->name, a[0] == 'k' ? "key" : "value",
                              a[0] == 'k' ? &m->key_size : &m->value_size, v);
        } else if (!strcmp(a, "key") || !strcmp(a, "value")) {
            rc = btf_type_attr(ld, m->name, a, mb[i].type, &v);
            if (!rc)
                rc = set_size(ld, m->name, a, a[0] == 'k' ? &m->key_size : &m->value_size, v);
        } else if (!strcmp(a, "values") && !inner) {
            rc = btf_values_attr(ld, m, def, i);
        } else if (!strcmp(a, "values")) {
            rc = nicsim_ld_fail(ld, -EOPNOTSUPP,
                                "map '%s': multi-level inner maps are not supported (an inner map "
                                "definition holds 'values')",
                                m->name);
        } else {
            rc = nicsim_ld_fail(ld, -EOPNOTSUPP, "map '%s': unknown attribute '%s'", m->name, a);
        }
    }
    if (rc)
        return rc;
    if (!m->type)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': map type isn't specified", m->name);
    if (is_map_in_map(m->type) && !m->inner)
        return nicsim_ld_fail(ld, -EINVAL,
                              "map '%s': a map-in-map needs its inner map definition "
                              "(__array(values, struct ...))",
                              m->name);
    if (m->pinning > 1)
        return nicsim_ld_fail(ld, -EINVAL, "map '%s': invalid pinning value %u", m->name,
                              m->pinning);
    return 0;
}

/* Offset of a .maps variable: from the DATASEC if the compiler filled it, else its symbol. */
static int btf_map_off(struct ld *ld, const struct btf_type *sec, const struct btf_var_secinfo *vi,
                       const char *name, size_t *off)
{
    if (sec->size) {
        *off = vi->offset;
        return 0;
    }
    for (size_t i = 0; i < ld->nsyms; i++) {
        const struct ld_sym *s = &ld->syms[i];

        if (s->s.st_shndx == (size_t)ld->btfmaps_sec && GELF_ST_TYPE(s->s.st_info) == STT_OBJECT &&
            GELF_ST_BIND(s->s.st_info) != STB_LOCAL && !strcmp(s->name, name)) {
            *off = s->s.st_value;
            return 0;
        }
    }
    return nicsim_ld_fail(ld, -EINVAL, "map '%s': no symbol for it in section '.maps'", name);
}

int nicsim_ld_btf_maps(struct ld *ld)
{
    const struct btf_var_secinfo *vi;
    const struct btf_type *sec;
    size_t size;
    int id, rc;

    if (ld->btfmaps_sec < 0)
        return 0;
    if (!ld->btf)
        return nicsim_ld_fail(ld, -EINVAL,
                              "section '.maps' needs BTF, and there is none (compile with -g)");
    size = ld->secs[ld->btfmaps_sec].data->d_size;
    id = btf__find_by_name_kind(ld->btf, ".maps", BTF_KIND_DATASEC);
    sec = id > 0 ? btf__type_by_id(ld->btf, (uint32_t)id) : NULL;
    if (!sec)
        return nicsim_ld_fail(ld, -EINVAL, "section '.maps': BTF has no DATASEC '.maps'");
    vi = btf_var_secinfos(sec);
    for (uint16_t i = 0; i < btf_vlen(sec); i++) {
        const struct btf_type *var = btf__type_by_id(ld->btf, vi[i].type), *def;
        const char *name = var ? btf__name_by_offset(ld->btf, var->name_off) : NULL;
        struct nicsim_obj_map *m;
        size_t off = 0;

        if (!var || !btf_is_var(var) || !name || !name[0])
            return nicsim_ld_fail(ld, -EINVAL, "section '.maps': entry %u is not a named variable",
                                  i);
        if (btf_var(var)->linkage != BTF_VAR_GLOBAL_ALLOCATED)
            return nicsim_ld_fail(ld, -EOPNOTSUPP,
                                  "map '%s': static or extern maps are not supported", name);
        if ((rc = btf_map_off(ld, sec, &vi[i], name, &off)))
            return rc;
        if (off > size || vi[i].size > size - off)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "map '%s': definition at %zu+%u is outside section '.maps'", name,
                                  off, vi[i].size);
        def = nicsim_ld_btf_skip(ld->btf, var->type, NULL);
        if (!def || !btf_is_struct(def) || def->size > vi[i].size)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "map '%s': the definition is not a struct of its size", name);
        m = nicsim_ld_add_map(ld);
        if (!m || !(m->name = strdup(name)))
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        m->kind = NICSIM_OBJ_MAP_BTF;
        ld->mapsrc[ld->obj->n_maps - 1].off = off;
        ld->mapsrc[ld->obj->n_maps - 1].len = vi[i].size;
        if ((rc = btf_map_def(ld, m, def, false)))
            return rc;
    }
    return 0;
}

/* ---- global data ---- */

int nicsim_ld_data_maps(struct ld *ld)
{
    for (size_t i = 1; i < ld->nsec; i++) {
        struct ld_sec *s = &ld->secs[i];
        struct nicsim_obj_map *m;

        if (s->kind != LD_SEC_DATA && s->kind != LD_SEC_RODATA && s->kind != LD_SEC_BSS)
            continue;
        m = nicsim_ld_add_map(ld);
        if (!m || !(m->name = strdup(s->name)))
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        m->kind = s->kind == LD_SEC_DATA     ? NICSIM_OBJ_MAP_DATA
                  : s->kind == LD_SEC_RODATA ? NICSIM_OBJ_MAP_RODATA
                                             : NICSIM_OBJ_MAP_BSS;
        m->type = BPF_MAP_TYPE_ARRAY;
        m->key_size = 4;
        m->value_size = (uint32_t)s->sh.sh_size;
        m->max_entries = 1;
        m->map_flags = s->kind == LD_SEC_RODATA ? BPF_F_RDONLY_PROG : 0;
        s->map = (long)ld->obj->n_maps - 1;
        if (s->kind == LD_SEC_BSS)
            continue;
        m->init = malloc(m->value_size);
        if (!m->init)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        memcpy((void *)m->init, s->data->d_buf, m->value_size);
        m->init_len = m->value_size;
    }
    return 0;
}

/* ---- .rel.maps: prog array initialisers ---- */

static int cmp_inits(const void *a, const void *b)
{
    const struct nicsim_obj_prog_init *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

static long find_map_by_off(const struct ld *ld, uint64_t off)
{
    for (size_t m = 0; m < ld->obj->n_maps; m++) {
        const struct ld_mapsrc *s = &ld->mapsrc[m];

        if (ld->obj->maps[m].kind == NICSIM_OBJ_MAP_BTF && s->off <= off && off < s->off + s->len &&
            s->off + s->len - off >= 8)
            return (long)m;
    }
    return -1;
}

static const char *find_prog_entry(const struct ld *ld, const struct ld_sym *sym)
{
    for (size_t f = 0; f < ld->nfuncs; f++)
        if (ld->funcs[f].is_prog && ld->funcs[f].sec == sym->s.st_shndx &&
            ld->funcs[f].off * 8 == sym->s.st_value && !strcmp(ld->funcs[f].name, sym->name))
            return ld->funcs[f].name;
    return NULL;
}

static int cmp_map_inits(const void *a, const void *b)
{
    const struct nicsim_obj_map_init *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

/* `.values = { [idx] = &inner }` of a map-in-map: inner must be a BTF map of this object. */
static int map_in_map_init(struct ld *ld, struct nicsim_obj_map *m, size_t idx,
                           const struct ld_sym *sym)
{
    struct nicsim_obj_map_init *inits;
    int in = -1;

    if (sym->s.st_shndx == (size_t)ld->btfmaps_sec && GELF_ST_TYPE(sym->s.st_info) == STT_OBJECT)
        in = nicsim_obj__find_map(ld->obj, sym->name);
    if (in < 0 || ld->obj->maps[in].kind != NICSIM_OBJ_MAP_BTF)
        return nicsim_ld_fail(ld, -EINVAL,
                              "map '%s' slot %zu: '%s' is not a map of section '.maps'", m->name,
                              idx, sym->name);
    if (is_map_in_map(ld->obj->maps[in].type))
        return nicsim_ld_fail(ld, -EINVAL, "map '%s' slot %zu: '%s' is itself a map-in-map",
                              m->name, idx, sym->name);
    for (size_t i = 0; i < m->n_map_inits; i++)
        if (m->map_inits[i].index == idx)
            return nicsim_ld_fail(ld, -EINVAL, "map '%s': slot %zu is initialised twice", m->name,
                                  idx);
    inits = realloc((void *)m->map_inits, (m->n_map_inits + 1) * sizeof(*inits));
    if (!inits)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    m->map_inits = inits;
    inits[m->n_map_inits] =
        (struct nicsim_obj_map_init){.index = (uint32_t)idx, .map = strdup(sym->name)};
    if (!inits[m->n_map_inits++].map)
        return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
    qsort(inits, m->n_map_inits, sizeof(*inits), cmp_map_inits);
    return 0;
}

int nicsim_ld_map_relos(struct ld *ld, size_t relsec)
{
    const struct ld_sec *rs = &ld->secs[relsec];
    size_t n = rs->data->d_size / sizeof(Elf64_Rel);
    int rc;

    for (size_t k = 0; k < n; k++) {
        struct nicsim_obj_prog_init *inits;
        struct nicsim_obj_map *m;
        const struct ld_sym *sym;
        const char *prog;
        uint64_t rel_off;
        size_t idx;
        long mi;
        GElf_Rel r;

        if ((rc = nicsim_ld_read_rel(ld, rs, k, &r)))
            return rc;
        sym = &ld->syms[GELF_R_SYM(r.r_info)];
        mi = find_map_by_off(ld, r.r_offset);
        if (mi < 0)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '%s' relocation #%zu: offset %llu is not inside a map "
                                  "definition",
                                  rs->name, k, (unsigned long long)r.r_offset);
        m = &ld->obj->maps[mi];
        rel_off = r.r_offset - ld->mapsrc[mi].off;
        if (ld->mapsrc[mi].values_off < 0 || rel_off < (uint64_t)ld->mapsrc[mi].values_off ||
            (rel_off - (uint64_t)ld->mapsrc[mi].values_off) % 8)
            return nicsim_ld_fail(
                ld, -EINVAL, "map '%s': relocation against '%s' outside its 'values' initialiser",
                m->name, sym->name);
        idx = (rel_off - (uint64_t)ld->mapsrc[mi].values_off) / 8;
        if (idx >= m->max_entries)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "map '%s': initialiser slot %zu is past max_entries %u", m->name,
                                  idx, m->max_entries);
        if (is_map_in_map(m->type)) {
            if ((rc = map_in_map_init(ld, m, idx, sym)))
                return rc;
            continue;
        }
        prog = find_prog_entry(ld, sym);
        if (!prog)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "map '%s' slot %zu: '%s' is not a program of this object",
                                  m->name, idx, sym->name);
        for (size_t i = 0; i < m->n_prog_inits; i++)
            if (m->prog_inits[i].index == idx)
                return nicsim_ld_fail(ld, -EINVAL, "map '%s': slot %zu is initialised twice",
                                      m->name, idx);
        inits = realloc((void *)m->prog_inits, (m->n_prog_inits + 1) * sizeof(*inits));
        if (!inits)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        m->prog_inits = inits;
        inits[m->n_prog_inits] =
            (struct nicsim_obj_prog_init){.index = (uint32_t)idx, .prog = strdup(prog)};
        if (!inits[m->n_prog_inits++].prog)
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        qsort(inits, m->n_prog_inits, sizeof(*inits), cmp_inits);
    }
    return 0;
}
