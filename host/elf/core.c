/* SPDX-License-Identifier: MIT */
/*
 * nicsim ELF object loader: CO-RE relocations (.BTF.ext core_relo records) resolved against the
 * running kernel's BTF (/sys/kernel/btf/vmlinux), with the rules of libbpf's relo_core.c, so that
 * the NIC runs the instructions libbpf would hand the kernel for the same object:
 *
 *   - the record's access string is walked over the object's own BTF (the "local spec": a chain
 *     of member and array accesses from the root type, with its bit offset);
 *   - candidates are the kernel types of the same kind whose names match with any "___flavor"
 *     suffix ignored; each candidate is matched by walking the same access chain by member name
 *     (through anonymous members), with libbpf's compatibility rules for the types met on the way;
 *   - every matching candidate must give the same result, else the relocation is ambiguous;
 *   - the value (byte offset, size, existence, signedness, shifts, type id, type size, enum
 *     value) patches the instruction's offset or immediate, checked against what the compiler
 *     wrote; a load or store whose field changed size gets the new access size.
 *
 * A relocation that matches nothing gives 0 for the "exists" and "matches" kinds, as in libbpf,
 * and otherwise poisons the instruction as libbpf does: it becomes `call 0xbad2310` (the verifier
 * refuses it as an unknown function only if it is reachable), and the loader records which
 * relocation it was so that the refusal can name it.
 *
 * Candidates come from vmlinux's BTF, and from kernel modules' BTF (/sys/kernel/btf/<module>)
 * when vmlinux has none and no NICSIM_VMLINUX_BTF replaces it, as in libbpf; a module type's
 * BPF_CORE_TYPE_ID_TARGET is its id in the module's split BTF. One difference: libbpf narrows a
 * local type's candidate list to those that matched its earlier relocations; here every
 * relocation looks at all candidates (the same unless the kernel has two types of that name).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "obj_internal.h"

#define SPEC_MAX_LEN 64
#define MAX_DEPTH    32
#define POISON_IMM   0xbad2310 /* libbpf's bpf_core_poison_insn */

struct acc {
    uint32_t type_id;
    uint32_t idx;
    const char *name; /* NULL for array accesses */
};

struct spec {
    const struct btf *btf;
    uint32_t root_type_id;
    uint32_t kind;
    struct acc spec[SPEC_MAX_LEN]; /* named members and array accesses */
    int len;
    int raw_spec[SPEC_MAX_LEN];
    int raw_len;
    uint32_t bit_offset;
};

static bool is_field_based(uint32_t k)
{
    return k <= BPF_CORE_FIELD_RSHIFT_U64;
}

static bool is_type_based(uint32_t k)
{
    return k == BPF_CORE_TYPE_ID_LOCAL || k == BPF_CORE_TYPE_ID_TARGET ||
           k == BPF_CORE_TYPE_EXISTS || k == BPF_CORE_TYPE_SIZE || k == 12 /* TYPE_MATCHES */;
}

static bool is_enumval_based(uint32_t k)
{
    return k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_ENUMVAL_VALUE;
}

static const struct btf_type *skip(const struct btf *btf, uint32_t id, uint32_t *res_id)
{
    return nicsim_ld_btf_skip(btf, id, res_id);
}

/* "task_struct___v2" -> length of "task_struct" (libbpf's bpf_core_essential_name_len: the last
 * "___" preceded and followed by something other than '_'). */
static size_t essential_len(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
        if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' &&
            name[i + 4] != '_')
            return i + 1;
    return n;
}

static bool ess_eq(const char *a, const char *b)
{
    size_t la = essential_len(a), lb = essential_len(b);

    return la == lb && !strncmp(a, b, la);
}

static bool is_composite(const struct btf_type *t)
{
    return btf_is_struct(t) || btf_is_union(t);
}

static bool kind_core_compat(const struct btf_type *a, const struct btf_type *b)
{
    return btf_kind(a) == btf_kind(b) || (btf_is_any_enum(a) && btf_is_any_enum(b));
}

static const char *name_of(const struct btf *btf, uint32_t off)
{
    const char *n = btf__name_by_offset(btf, off);

    return n ? n : "";
}

/* bpf_core_parse_spec */
static int parse_spec(const struct btf *btf, uint32_t type_id, const char *str, uint32_t kind,
                      struct spec *s)
{
    const struct btf_type *t;
    uint32_t id;
    long long sz;

    if (!str || !*str || *str == ':')
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    s->btf = btf;
    s->root_type_id = type_id;
    s->kind = kind;
    if (is_type_based(kind))
        return strcmp(str, "0") ? -EINVAL : 0;
    while (*str) {
        char *end;
        long v;

        if (*str == ':')
            str++;
        v = strtol(str, &end, 10);
        if (end == str || v < 0 || v > INT_MAX)
            return -EINVAL;
        if (s->raw_len == SPEC_MAX_LEN)
            return -E2BIG;
        str = end;
        s->raw_spec[s->raw_len++] = (int)v;
    }
    if (!s->raw_len)
        return -EINVAL;
    t = skip(btf, type_id, &id);
    if (!t)
        return -EINVAL;
    s->spec[0] = (struct acc){.type_id = id, .idx = (uint32_t)s->raw_spec[0]};
    s->len = 1;
    if (is_enumval_based(kind)) {
        if (!btf_is_any_enum(t) || s->raw_len > 1 || s->spec[0].idx >= btf_vlen(t))
            return -EINVAL;
        s->spec[0].name = name_of(btf, btf_is_enum(t) ? btf_enum(t)[s->spec[0].idx].name_off
                                                      : btf_enum64(t)[s->spec[0].idx].name_off);
        return 0;
    }
    if (!is_field_based(kind))
        return -EINVAL;
    sz = btf__resolve_size(btf, id);
    if (sz < 0)
        return (int)sz;
    s->bit_offset = (uint32_t)(s->raw_spec[0] * sz * 8);
    for (int i = 1; i < s->raw_len; i++) {
        uint32_t ai = (uint32_t)s->raw_spec[i];
        struct acc *a = &s->spec[s->len];

        t = skip(btf, id, &id);
        if (!t)
            return -EINVAL;
        if (is_composite(t)) {
            const struct btf_member *m;

            if (ai >= btf_vlen(t))
                return -EINVAL;
            s->bit_offset += btf_member_bit_offset(t, ai);
            m = btf_members(t) + ai;
            if (m->name_off) {
                const char *n = name_of(btf, m->name_off);

                if (!*n)
                    return -EINVAL;
                *a = (struct acc){.type_id = id, .idx = ai, .name = n};
                s->len++;
            }
            id = m->type;
        } else if (btf_is_array(t)) {
            const struct btf_array *arr = btf_array(t);
            const struct acc *prev = a - 1;
            bool flex = prev->name && !arr->nelems &&
                        prev->idx == btf_vlen(btf__type_by_id(btf, prev->type_id)) - 1u;

            if (!skip(btf, arr->type, &id))
                return -EINVAL;
            if (!flex && ai >= arr->nelems)
                return -EINVAL;
            *a = (struct acc){.type_id = id, .idx = ai};
            s->len++;
            sz = btf__resolve_size(btf, id);
            if (sz < 0)
                return (int)sz;
            s->bit_offset += (uint32_t)(ai * sz * 8);
        } else {
            return -EINVAL;
        }
        if (s->len >= SPEC_MAX_LEN)
            return -E2BIG;
    }
    return 0;
}

/* bpf_core_types_are_compat */
static int types_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
                        int depth)
{
    const struct btf_type *lt, *tt;

    if (depth <= 0)
        return -EINVAL;
    lt = skip(lb, lid, &lid);
    tt = skip(tb, tid, &tid);
    if (!lt || !tt)
        return -EINVAL;
    if (!kind_core_compat(lt, tt))
        return 0;
    switch (btf_kind(lt)) {
    case BTF_KIND_UNKN:
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
    case BTF_KIND_FWD:
        return 1;
    case BTF_KIND_INT:
        return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
    case BTF_KIND_PTR:
        return types_compat(lb, lt->type, tb, tt->type, depth - 1);
    case BTF_KIND_ARRAY:
        return types_compat(lb, btf_array(lt)->type, tb, btf_array(tt)->type, depth - 1);
    case BTF_KIND_FUNC_PROTO: {
        const struct btf_param *lp = btf_params(lt), *tp = btf_params(tt);

        if (btf_vlen(lt) != btf_vlen(tt))
            return 0;
        for (uint16_t i = 0; i < btf_vlen(lt); i++) {
            int r = types_compat(lb, lp[i].type, tb, tp[i].type, depth - 1);

            if (r <= 0)
                return r;
        }
        return types_compat(lb, lt->type, tb, tt->type, depth - 1);
    }
    default:
        return 0;
    }
}

/* bpf_core_fields_are_compat */
static int fields_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid)
{
    for (int depth = 0; depth < MAX_DEPTH; depth++) {
        const struct btf_type *lt = skip(lb, lid, &lid), *tt = skip(tb, tid, &tid);

        if (!lt || !tt)
            return -EINVAL;
        if (is_composite(lt) && is_composite(tt))
            return 1;
        if (!kind_core_compat(lt, tt))
            return 0;
        switch (btf_kind(lt)) {
        case BTF_KIND_PTR:
        case BTF_KIND_FLOAT:
            return 1;
        case BTF_KIND_FWD:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64: {
            const char *ln = name_of(lb, lt->name_off), *tn = name_of(tb, tt->name_off);

            return !*ln || !*tn || ess_eq(ln, tn);
        }
        case BTF_KIND_INT:
            return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
        case BTF_KIND_ARRAY:
            lid = btf_array(lt)->type;
            tid = btf_array(tt)->type;
            continue;
        default:
            return 0;
        }
    }
    return -EINVAL;
}

/* bpf_core_names_match: names equal with flavors ignored; an empty target name matches only an
 * empty local one */
static bool names_match(const struct btf *lb, uint32_t loff, const struct btf *tb, uint32_t toff)
{
    const char *ln = name_of(lb, loff), *tn = name_of(tb, toff);

    return !*tn ? !*ln : ess_eq(ln, tn);
}

static int types_match(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
                       bool behind_ptr, int level);

/* bpf_core_enums_match: every local enumerator has a target enumerator of the same name */
static int enums_match(const struct btf *lb, const struct btf_type *lt, const struct btf *tb,
                       const struct btf_type *tt)
{
    if (lt->size != tt->size || btf_vlen(lt) > btf_vlen(tt))
        return 0;
    for (uint16_t i = 0; i < btf_vlen(lt); i++) {
        uint32_t ln = btf_is_enum(lt) ? btf_enum(lt)[i].name_off : btf_enum64(lt)[i].name_off;
        bool found = false;

        for (uint16_t j = 0; j < btf_vlen(tt) && !found; j++)
            found = names_match(lb, ln, tb,
                                btf_is_enum(tt) ? btf_enum(tt)[j].name_off
                                                : btf_enum64(tt)[j].name_off);
        if (!found)
            return 0;
    }
    return 1;
}

/* bpf_core_composites_match: every local member has a target member of the same name whose type
 * matches */
static int composites_match(const struct btf *lb, const struct btf_type *lt, const struct btf *tb,
                            const struct btf_type *tt, bool behind_ptr, int level)
{
    const struct btf_member *lm = btf_members(lt), *tm = btf_members(tt);

    if (btf_vlen(lt) > btf_vlen(tt))
        return 0;
    for (uint16_t i = 0; i < btf_vlen(lt); i++) {
        int r = 0;

        for (uint16_t j = 0; j < btf_vlen(tt); j++) {
            if (!names_match(lb, lm[i].name_off, tb, tm[j].name_off))
                continue;
            r = types_match(lb, lm[i].type, tb, tm[j].type, behind_ptr, level - 1);
            if (r < 0)
                return r;
            if (r)
                break;
        }
        if (!r)
            return 0;
    }
    return 1;
}

/* __bpf_core_types_match */
static int types_match(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
                       bool behind_ptr, int level)
{
    const struct btf_type *lt, *tt;
    int lk, tk;

    if (level <= 0)
        return -EINVAL;
    lt = skip(lb, lid, &lid);
    tt = skip(tb, tid, &tid);
    if (!lt || !tt)
        return -EINVAL;
    if (!names_match(lb, lt->name_off, tb, tt->name_off))
        return 0;
    lk = btf_kind(lt);
    tk = btf_kind(tt);
    switch (lk) {
    case BTF_KIND_UNKN:
        return lk == tk;
    case BTF_KIND_FWD: {
        bool lf = btf_kflag(lt);

        if (lk == tk)
            return lf == btf_kflag(tt);
        if (!behind_ptr)
            return 0;
        return (tk == BTF_KIND_STRUCT && !lf) || (tk == BTF_KIND_UNION && lf);
    }
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
        return btf_is_any_enum(tt) ? enums_match(lb, lt, tb, tt) : 0;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
        if (behind_ptr) {
            if (lk == tk)
                return 1;
            return tk == BTF_KIND_FWD && (lk == BTF_KIND_UNION) == btf_kflag(tt);
        }
        return lk == tk ? composites_match(lb, lt, tb, tt, behind_ptr, level) : 0;
    case BTF_KIND_INT:
        return lk == tk && lt->size == tt->size &&
               (btf_int_encoding(lt) & BTF_INT_SIGNED) == (btf_int_encoding(tt) & BTF_INT_SIGNED);
    case BTF_KIND_PTR:
        return lk == tk ? types_match(lb, lt->type, tb, tt->type, true, level - 1) : 0;
    case BTF_KIND_ARRAY:
        if (lk != tk || btf_array(lt)->nelems != btf_array(tt)->nelems)
            return 0;
        return types_match(lb, btf_array(lt)->type, tb, btf_array(tt)->type, behind_ptr, level - 1);
    case BTF_KIND_FUNC_PROTO:
        if (lk != tk || btf_vlen(lt) != btf_vlen(tt))
            return 0;
        for (uint16_t i = 0; i < btf_vlen(lt); i++) {
            int r = types_match(lb, btf_params(lt)[i].type, tb, btf_params(tt)[i].type, behind_ptr,
                                level - 1);

            if (r <= 0)
                return r;
        }
        return types_match(lb, lt->type, tb, tt->type, behind_ptr, level - 1);
    default:
        return 0;
    }
}

/* bpf_core_match_member: finds the local accessor's member in target type `tid` (through
 * anonymous members), extending the target spec */
static int match_member(const struct btf *lb, const struct acc *la, const struct btf *tb,
                        uint32_t tid, struct spec *ts, uint32_t *next_tid, int depth)
{
    const struct btf_type *lt = btf__type_by_id(lb, la->type_id), *tt;
    const struct btf_member *lm = btf_members(lt) + la->idx, *m;
    const char *ln = name_of(lb, lm->name_off);

    if (depth > MAX_DEPTH)
        return -E2BIG;
    tt = skip(tb, tid, &tid);
    if (!tt)
        return -EINVAL;
    if (!is_composite(tt))
        return 0;
    m = btf_members(tt);
    for (uint16_t i = 0; i < btf_vlen(tt); i++, m++) {
        uint32_t bo = btf_member_bit_offset(tt, i);
        const char *tn = name_of(tb, m->name_off);

        if (ts->raw_len == SPEC_MAX_LEN || ts->len == SPEC_MAX_LEN)
            return -E2BIG;
        ts->bit_offset += bo;
        ts->raw_spec[ts->raw_len++] = i;
        if (!*tn) {
            int r = match_member(lb, la, tb, m->type, ts, next_tid, depth + 1);

            if (r)
                return r;
        } else if (!strcmp(ln, tn)) { /* field names carry no flavor */
            int r;

            ts->spec[ts->len++] = (struct acc){.type_id = tid, .idx = i, .name = tn};
            *next_tid = m->type;
            r = fields_compat(lb, lm->type, tb, m->type);
            if (!r)
                ts->len--;
            return r;
        }
        ts->bit_offset -= bo;
        ts->raw_len--;
    }
    return 0;
}

/* bpf_core_spec_match: 1 if target type `tid` matches the local spec (target spec filled) */
static int spec_match(const struct spec *ls, const struct btf *tb, uint32_t tid, struct spec *ts)
{
    memset(ts, 0, sizeof(*ts));
    ts->btf = tb;
    ts->root_type_id = tid;
    ts->kind = ls->kind;
    if (is_type_based(ls->kind)) {
        if (ls->kind == 12 /* TYPE_MATCHES */)
            return types_match(ls->btf, ls->root_type_id, tb, tid, false, MAX_DEPTH);
        return types_compat(ls->btf, ls->root_type_id, tb, tid, MAX_DEPTH);
    }
    if (is_enumval_based(ls->kind)) {
        const struct btf_type *tt = skip(tb, tid, &tid);

        if (!tt || !btf_is_any_enum(tt))
            return 0;
        for (uint16_t i = 0; i < btf_vlen(tt); i++) {
            const char *tn = name_of(tb, btf_is_enum(tt) ? btf_enum(tt)[i].name_off
                                                         : btf_enum64(tt)[i].name_off);

            if (ess_eq(ls->spec[0].name, tn)) {
                ts->spec[0] = (struct acc){.type_id = tid, .idx = i, .name = tn};
                ts->len = 1;
                ts->raw_spec[0] = i;
                ts->raw_len = 1;
                return 1;
            }
        }
        return 0;
    }
    if (!is_field_based(ls->kind))
        return -EINVAL;
    for (int i = 0; i < ls->len; i++) {
        const struct acc *la = &ls->spec[i];
        long long sz;

        if (la->name) {
            int r = match_member(ls->btf, la, tb, tid, ts, &tid, 0);

            if (r <= 0)
                return r;
            continue;
        }
        if (i > 0) {
            const struct btf_type *tt = skip(tb, tid, &tid);
            const struct btf_array *arr;
            const struct acc *prev = &ts->spec[ts->len - 1];
            bool flex;

            if (!tt || !btf_is_array(tt))
                return 0;
            arr = btf_array(tt);
            flex = prev->name && !arr->nelems &&
                   prev->idx == btf_vlen(btf__type_by_id(tb, prev->type_id)) - 1u;
            if (!flex && la->idx >= arr->nelems)
                return 0;
            if (!skip(tb, arr->type, &tid))
                return -EINVAL;
        }
        if (ts->raw_len == SPEC_MAX_LEN || ts->len == SPEC_MAX_LEN)
            return -E2BIG;
        ts->spec[ts->len++] = (struct acc){.type_id = tid, .idx = la->idx};
        ts->raw_spec[ts->raw_len++] = (int)la->idx;
        sz = btf__resolve_size(tb, tid);
        if (sz < 0)
            return (int)sz;
        ts->bit_offset += (uint32_t)(la->idx * sz * 8);
    }
    return 1;
}

/* bpf_core_calc_field_relo; -EUCLEAN asks for poisoning */
static int calc_field(uint32_t kind, const struct spec *s, uint64_t *val, uint32_t *field_sz,
                      uint32_t *type_id, bool *validate)
{
    const struct acc *a;
    const struct btf_type *t, *mt;
    uint32_t byte_off, byte_sz, bit_off, bit_sz, ftid;
    long long sz;
    bool bitfield;

    *field_sz = 0;
    if (kind == BPF_CORE_FIELD_EXISTS) {
        *val = s ? 1 : 0;
        return 0;
    }
    if (!s)
        return -EUCLEAN;
    a = &s->spec[s->len - 1];
    t = btf__type_by_id(s->btf, a->type_id);
    if (!a->name) {
        sz = btf__resolve_size(s->btf, a->type_id);
        if (sz < 0)
            return -EINVAL;
        if (kind == BPF_CORE_FIELD_BYTE_OFFSET) {
            *val = s->bit_offset / 8;
            *field_sz = (uint32_t)sz;
            *type_id = a->type_id;
        } else if (kind == BPF_CORE_FIELD_BYTE_SIZE) {
            *val = (uint64_t)sz;
        } else {
            return -EINVAL; /* libbpf: can't be applied to array access */
        }
        if (validate)
            *validate = true;
        return 0;
    }
    mt = skip(s->btf, btf_members(t)[a->idx].type, &ftid);
    if (!mt)
        return -EINVAL;
    bit_off = s->bit_offset;
    bit_sz = btf_member_bitfield_size(t, a->idx);
    bitfield = bit_sz > 0;
    if (bitfield) {
        byte_sz = mt->size;
        if (!byte_sz)
            return -EINVAL;
        byte_off = bit_off / 8 / byte_sz * byte_sz;
        while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
            if (byte_sz >= 8)
                return -E2BIG;
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
    } else {
        sz = btf__resolve_size(s->btf, ftid);
        if (sz < 0)
            return -EINVAL;
        byte_sz = (uint32_t)sz;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    if (validate)
        *validate = !bitfield;
    switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
        *val = byte_off;
        if (!bitfield) {
            *field_sz = byte_sz;
            *type_id = ftid;
        }
        return 0;
    case BPF_CORE_FIELD_BYTE_SIZE:
        *val = byte_sz;
        return 0;
    case BPF_CORE_FIELD_SIGNED:
        *val = (btf_is_any_enum(mt) && btf_kflag(mt)) ||
               (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED));
        if (validate)
            *validate = true;
        return 0;
    case BPF_CORE_FIELD_LSHIFT_U64:
        *val = 64 - (bit_off + bit_sz - byte_off * 8);
        return 0;
    case BPF_CORE_FIELD_RSHIFT_U64:
        *val = 64 - bit_sz;
        if (validate)
            *validate = true;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

static int calc_type(uint32_t kind, const struct spec *s, uint64_t *val, bool *validate)
{
    long long sz;

    if (!s) {
        *val = 0;
        return 0;
    }
    switch (kind) {
    case BPF_CORE_TYPE_ID_TARGET:
        *val = s->root_type_id;
        if (validate)
            *validate = false;
        return 0;
    case BPF_CORE_TYPE_EXISTS:
    case 12: /* TYPE_MATCHES */
        *val = 1;
        return 0;
    case BPF_CORE_TYPE_SIZE:
        sz = btf__resolve_size(s->btf, s->root_type_id);
        if (sz < 0)
            return -EINVAL;
        *val = (uint64_t)sz;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

static int calc_enumval(uint32_t kind, const struct spec *s, uint64_t *val)
{
    const struct btf_type *t;

    if (kind == BPF_CORE_ENUMVAL_EXISTS) {
        *val = s ? 1 : 0;
        return 0;
    }
    if (!s)
        return -EUCLEAN;
    t = btf__type_by_id(s->btf, s->spec[0].type_id);
    if (btf_is_enum(t))
        *val = (uint64_t)(int64_t)btf_enum(t)[s->spec[0].idx].val;
    else
        *val = btf_enum64_value(btf_enum64(t) + s->spec[0].idx);
    return 0;
}

/* A load or store may change size with its field only for pointers and unsigned integers
 * (zero extension keeps the value); otherwise libbpf poisons it. */
static bool same_sz_class(const struct btf_type *a, const struct btf_type *b)
{
    return a && b &&
           ((btf_is_ptr(a) && btf_is_ptr(b)) ||
            (btf_is_int(a) && btf_is_int(b) && btf_int_encoding(a) != BTF_INT_SIGNED &&
             btf_int_encoding(b) != BTF_INT_SIGNED));
}

/* bpf_core_calc_relo */
static int calc_relo(uint32_t kind, const struct spec *ls, const struct spec *ts,
                     struct ld_core_res *r)
{
    int err = 0;

    memset(r, 0, sizeof(*r));
    r->validate = true;
    if (is_field_based(kind)) {
        err = calc_field(kind, ls, &r->orig_val, &r->orig_sz, &r->orig_type_id, &r->validate);
        if (!err)
            err = calc_field(kind, ts, &r->new_val, &r->new_sz, &r->new_type_id, NULL);
        if (!err && ts && r->orig_sz != r->new_sz &&
            !same_sz_class(skip(ls->btf, r->orig_type_id, NULL),
                           skip(ts->btf, r->new_type_id, NULL)))
            r->fail_memsz_adjust = true;
    } else if (is_type_based(kind)) {
        err = calc_type(kind, ls, &r->orig_val, &r->validate);
        if (!err)
            err = calc_type(kind, ts, &r->new_val, NULL);
    } else if (is_enumval_based(kind)) {
        err = calc_enumval(kind, ls, &r->orig_val);
        if (!err)
            err = calc_enumval(kind, ts, &r->new_val);
    } else {
        err = -EOPNOTSUPP;
    }
    if (err == -EUCLEAN) {
        r->poison = true;
        err = 0;
    }
    return err;
}

static const char *kind_str(uint32_t kind)
{
    static const char *const names[] = {
        "field byte offset", "field byte size",   "field existence",      "field signedness",
        "field left shift",  "field right shift", "local type id",        "target type id",
        "type existence",    "type size",         "enum value existence", "enum value",
        "type match",
    };

    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown kind";
}

/* "struct xdp_md.rx_queue_index (0:4)" into buf */
static const char *spec_str(const struct btf *btf, uint32_t type_id, const char *access,
                            const struct spec *s, char *buf, size_t len)
{
    char tb[96];
    size_t n;

    n = (size_t)snprintf(buf, len, "%s", nicsim_ld_btf_type_str(btf, type_id, tb, sizeof(tb)));
    for (int i = 1; s && i < s->len && n < len; i++)
        n += (size_t)(s->spec[i].name ? snprintf(buf + n, len - n, ".%s", s->spec[i].name)
                                      : snprintf(buf + n, len - n, "[%u]", s->spec[i].idx));
    if (s && is_enumval_based(s->kind) && s->spec[0].name && n < len)
        n += (size_t)snprintf(buf + n, len - n, "::%s", s->spec[0].name);
    if (n < len)
        snprintf(buf + n, len - n, " (access %s)", access);
    return buf;
}

static const char *getenv_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static int target_btf(struct ld *ld)
{
    const char *path = getenv_nonempty("NICSIM_VMLINUX_BTF");
    long err;

    if (ld->targ_btf)
        return 0;
    errno = 0;
    ld->targ_btf = path && *path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
    if (!ld->targ_btf) {
        err = errno ? errno : ENOENT;
        return nicsim_ld_fail(
            ld, (int)-err, "CO-RE relocations need the kernel's BTF (%s), which cannot be read: %s",
            path && *path ? path : "/sys/kernel/btf/vmlinux", strerror((int)err));
    }
    return 0;
}

struct cands {
    int n;                /* matching candidates so far */
    uint32_t bit_offset;  /* the first one's field bit offset */
    uint32_t best;        /* the first one */
    struct ld_core_res r; /* its result */
};

/* Kernel modules' BTF (/sys/kernel/btf/<module>, split on vmlinux's), loaded once. */
static int module_btfs(struct ld *ld)
{
    DIR *d;
    struct dirent *e;

    if (ld->mods_loaded)
        return 0;
    ld->mods_loaded = true;
    d = opendir("/sys/kernel/btf");
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[300];
        struct btf *b, **v;

        if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
            continue;
        snprintf(path, sizeof(path), "/sys/kernel/btf/%s", e->d_name);
        b = btf__parse_split(path, ld->targ_btf);
        if (!b)
            continue; /* as libbpf: a module whose BTF cannot be read offers no candidate */
        v = realloc(ld->mod_btfs, (ld->n_mod_btfs + 1) * sizeof(*v));
        if (!v) {
            btf__free(b);
            closedir(d);
            return nicsim_ld_fail(ld, -ENOMEM, "out of memory");
        }
        ld->mod_btfs = v;
        ld->mod_btfs[ld->n_mod_btfs++] = b;
    }
    closedir(d);
    return 0;
}

/* Every type of `tb` from `start` with the local root type's kind and name (flavor ignored)
 * that matches the local spec: all must give the same result (libbpf's candidate loop). */
static int scan_cands(struct ld *ld, struct ld_core *c, const struct spec *lsp,
                      const struct btf_type *lt, const struct btf *tb, uint32_t start,
                      struct cands *m, const char *secname, size_t slot)
{
    const char *lname = name_of(ld->btf, lt->name_off);
    uint32_t n = btf__type_cnt(tb);
    struct spec ts;
    int rc;

    for (uint32_t id = start; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(tb, id);
        struct ld_core_res cr;

        if (!t || !kind_core_compat(t, lt) || !ess_eq(lname, name_of(tb, t->name_off)))
            continue;
        rc = spec_match(lsp, tb, id, &ts);
        if (rc < 0)
            return nicsim_ld_fail(
                ld, rc,
                "section '%s' insn %zu: CO-RE relocation (%s) of %s: error matching "
                "kernel type [%u]",
                secname, slot, kind_str(c->kind), c->what, id);
        if (!rc)
            continue;
        rc = calc_relo(c->kind, lsp, &ts, &cr);
        if (rc)
            return nicsim_ld_fail(ld, rc,
                                  "section '%s' insn %zu: CO-RE relocation (%s) of %s cannot be "
                                  "computed for kernel type [%u]",
                                  secname, slot, kind_str(c->kind), c->what, id);
        if (!m->n) {
            m->r = cr;
            m->best = id;
            m->bit_offset = ts.bit_offset;
        } else if (ts.bit_offset != m->bit_offset) {
            return nicsim_ld_fail(
                ld, -EINVAL,
                "section '%s' insn %zu: CO-RE relocation (%s) of %s is ambiguous: "
                "kernel types [%u] and [%u] place the field at bits %u and %u",
                secname, slot, kind_str(c->kind), c->what, m->best, id, m->bit_offset,
                ts.bit_offset);
        } else if (cr.poison != m->r.poison || cr.new_val != m->r.new_val) {
            return nicsim_ld_fail(
                ld, -EINVAL,
                "section '%s' insn %zu: CO-RE relocation (%s) of %s is ambiguous: "
                "kernel types [%u] and [%u] give %llu and %llu",
                secname, slot, kind_str(c->kind), c->what, m->best, id,
                (unsigned long long)m->r.new_val, (unsigned long long)cr.new_val);
        }
        m->n++;
    }
    return 0;
}

/* Resolves CO-RE record `ci` (computed once per record) into c->res. */
static int resolve(struct ld *ld, struct ld_core *c, const char *secname, size_t slot)
{
    const struct btf *lb = ld->btf, *tb;
    const char *access = name_of(lb, c->access_off);
    struct spec ls;
    struct ld_core_res r;
    struct cands m = {0};
    const struct btf_type *lt;
    const char *lname;
    char buf[256];
    int nmatch, rc;

    rc = parse_spec(lb, c->type_id, access, c->kind, &ls);
    if (rc)
        return nicsim_ld_fail(
            ld, rc == -E2BIG ? -E2BIG : -EINVAL,
            "section '%s' insn %zu: CO-RE relocation (%s) of %s: bad access string", secname, slot,
            kind_str(c->kind), spec_str(lb, c->type_id, access, NULL, buf, sizeof(buf)));
    spec_str(lb, c->type_id, access, &ls, c->what, sizeof(c->what));
    if (c->kind == BPF_CORE_TYPE_ID_LOCAL) {
        /* libbpf: the object's own id, not validated */
        c->res = (struct ld_core_res){.orig_val = c->type_id, .new_val = c->type_id};
        return 0;
    }
    if ((rc = target_btf(ld)))
        return rc;
    tb = ld->targ_btf;
    lt = btf__type_by_id(lb, c->type_id);
    lname = lt ? name_of(lb, lt->name_off) : "";
    if (!lt || !*lname)
        return nicsim_ld_fail(
            ld, -EINVAL,
            "section '%s' insn %zu: CO-RE relocation (%s) of %s: the root type has "
            "no name",
            secname, slot, kind_str(c->kind), c->what);
    rc = scan_cands(ld, c, &ls, lt, tb, 1, &m, secname, slot);
    if (!rc && !m.n && !getenv_nonempty("NICSIM_VMLINUX_BTF")) {
        /* libbpf: kernel modules' BTF when vmlinux has no candidate */
        rc = module_btfs(ld);
        for (size_t i = 0; !rc && i < ld->n_mod_btfs; i++)
            rc = scan_cands(ld, c, &ls, lt, ld->mod_btfs[i], btf__type_cnt(tb), &m, secname, slot);
    }
    if (rc)
        return rc;
    r = m.r;
    nmatch = m.n;
    if (!nmatch) {
        rc = calc_relo(c->kind, &ls, NULL, &r);
        if (rc)
            return nicsim_ld_fail(ld, rc,
                                  "section '%s' insn %zu: CO-RE relocation (%s) of %s failed",
                                  secname, slot, kind_str(c->kind), c->what);
    }
    c->res = r;
    return 0;
}

static void poison(struct nicsim_insn *insn)
{
    insn->code = BPF_JMP | BPF_CALL;
    insn->dst = 0;
    insn->src = 0;
    insn->off = 0;
    insn->imm = POISON_IMM;
}

static int size_bytes(uint8_t code)
{
    switch (code & 0x18) {
    case BPF_B:
        return 1;
    case BPF_H:
        return 2;
    case BPF_W:
        return 4;
    default:
        return 8;
    }
}

int nicsim_ld_core_apply(struct ld *ld, struct ld_core *c, const char *secname, size_t slot,
                         struct nicsim_insn *insn, size_t avail, bool *poisoned)
{
    const struct ld_core_res *r;
    uint8_t cls = insn->code & 0x07;
    int rc;

    *poisoned = false;
    if (!c->done) {
        if ((rc = resolve(ld, c, secname, slot)))
            return rc;
        c->done = true;
    }
    r = &c->res;
    if (r->poison) {
    poison:
        if (insn->code == (BPF_LD | BPF_IMM | BPF_DW) && avail > 1)
            poison(insn + 1);
        poison(insn);
        *poisoned = true;
        return 0;
    }
    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        if ((insn->code & 0x08) != BPF_K)
            break;
        if (r->validate && (uint64_t)(int64_t)insn->imm != r->orig_val &&
            (uint32_t)insn->imm != r->orig_val)
            return nicsim_ld_fail(
                ld, -EINVAL,
                "section '%s' insn %zu: CO-RE relocation (%s) of %s: immediate %d, "
                "expected %llu",
                secname, slot, kind_str(c->kind), c->what, insn->imm,
                (unsigned long long)r->orig_val);
        insn->imm = (int32_t)r->new_val;
        return 0;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
        if (r->validate && (int64_t)insn->off != (int64_t)r->orig_val)
            return nicsim_ld_fail(ld, -EINVAL,
                                  "section '%s' insn %zu: CO-RE relocation (%s) of %s: offset %d, "
                                  "expected %llu",
                                  secname, slot, kind_str(c->kind), c->what, insn->off,
                                  (unsigned long long)r->orig_val);
        if (r->new_val > SHRT_MAX)
            return nicsim_ld_fail(ld, -ERANGE,
                                  "section '%s' insn %zu: CO-RE relocation (%s) of %s: offset %llu "
                                  "does not fit an instruction",
                                  secname, slot, kind_str(c->kind), c->what,
                                  (unsigned long long)r->new_val);
        if (r->fail_memsz_adjust) /* the field changed size and type: no safe access size */
            goto poison;
        insn->off = (int16_t)r->new_val;
        if (r->new_sz != r->orig_sz) {
            static const uint8_t sz_code[9] = {[1] = BPF_B, [2] = BPF_H, [4] = BPF_W, [8] = BPF_DW};

            if (size_bytes(insn->code) != (int)r->orig_sz)
                return nicsim_ld_fail(
                    ld, -EINVAL,
                    "section '%s' insn %zu: CO-RE relocation (%s) of %s: access of "
                    "%d bytes, expected %u",
                    secname, slot, kind_str(c->kind), c->what, size_bytes(insn->code), r->orig_sz);
            if (r->new_sz > 8 || (r->new_sz != 8 && !sz_code[r->new_sz]))
                return nicsim_ld_fail(
                    ld, -EINVAL,
                    "section '%s' insn %zu: CO-RE relocation (%s) of %s: the kernel's "
                    "field has %u bytes, no access size",
                    secname, slot, kind_str(c->kind), c->what, r->new_sz);
            insn->code = (uint8_t)((insn->code & ~0x18) | sz_code[r->new_sz]);
        }
        return 0;
    case BPF_LD:
        if (insn->code == (BPF_LD | BPF_IMM | BPF_DW) && avail > 1 && !insn->src && !insn->off &&
            !insn[1].code && !insn[1].dst && !insn[1].src && !insn[1].off) {
            uint64_t imm = (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32);

            if (r->validate && imm != r->orig_val)
                return nicsim_ld_fail(
                    ld, -EINVAL,
                    "section '%s' insn %zu: CO-RE relocation (%s) of %s: immediate "
                    "%llu, expected %llu",
                    secname, slot, kind_str(c->kind), c->what, (unsigned long long)imm,
                    (unsigned long long)r->orig_val);
            insn[0].imm = (int32_t)(uint32_t)r->new_val;
            insn[1].imm = (int32_t)(uint32_t)(r->new_val >> 32);
            return 0;
        }
        break;
    default:
        break;
    }
    return nicsim_ld_fail(ld, -EINVAL,
                          "section '%s' insn %zu: CO-RE relocation (%s) of %s on an instruction it "
                          "cannot patch (code 0x%02x)",
                          secname, slot, kind_str(c->kind), c->what, (unsigned)insn->code);
}
