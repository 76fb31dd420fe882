/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes as a BPF ELF object into the loader (host/elf).
 *
 * The loader must either refuse the input with a message that starts with the object's name, or
 * return an object whose every program and map is consistent: instructions, names and initial
 * values readable to their stated lengths (ASan checks the reads), local calls and map indexes
 * inside their ranges. Seeds: the compiled test objects of tests/elf.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "nicsim/obj.h"

static volatile uint8_t sink;

static void check_prog(const struct nicsim_obj *obj, const struct nicsim_obj_prog *p)
{
    if (p->error) { /* a program that cannot be linked has a reason and no instructions */
        if (p->n || p->insns || !p->error[0] || !p->name[0] || !p->section)
            abort();
        return;
    }
    if (!p->n || p->entry_n > p->n || !p->name[0] || !p->section)
        abort();
    for (size_t i = 0; i < p->n; i++) {
        const struct nicsim_insn *in = &p->insns[i];

        sink ^= in->code;
        if (in->code == 0x85 && in->src == 1) {
            long t = (long)i + in->imm + 1;

            if (t < 0 || (size_t)t >= p->n)
                abort(); /* a linked call must stay inside the program */
        }
        if (in->code == 0x18 && (in->src == 5 || in->src == 6) &&
            (in->imm < 0 || (size_t)in->imm >= nicsim_obj__n_maps(obj)))
            abort(); /* a relocated map reference names a map of the object */
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    libbpf_set_print(NULL); /* libbpf's BTF parser warns on every malformed input */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct nicsim_obj *obj = nicsim_obj__open_mem(data, size, "fuzz.o", NULL, err, sizeof(err));

    if (!obj) {
        if (strncmp(err, "fuzz.o: ", 8) != 0 || !err[8])
            abort(); /* every refusal says which file and why */
        return 0;
    }
    sink ^= (uint8_t)strlen(nicsim_obj__license(obj));
    for (size_t i = 0; i < nicsim_obj__n_progs(obj); i++)
        check_prog(obj, nicsim_obj__prog(obj, i));
    for (size_t i = 0; i < nicsim_obj__n_maps(obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(obj, i);

        sink ^= (uint8_t)strlen(m->name);
        for (size_t k = 0; k < m->init_len; k++)
            sink ^= m->init[k];
        for (size_t k = 0; k < m->n_prog_inits; k++) {
            if (m->prog_inits[k].index >= m->max_entries ||
                !nicsim_obj__find_prog(obj, m->prog_inits[k].prog))
                abort();
        }
        if (nicsim_obj__find_map(obj, m->name) < 0)
            abort();
    }
    nicsim_obj__free(obj);
    return 0;
}
