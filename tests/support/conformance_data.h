/* SPDX-License-Identifier: MIT */
/*
 * Reader for the bpf_conformance `.data` test files (shared/conformance/tests and negative).
 *
 * A file is a sequence of sections, each opened by a line `-- NAME`; lines before the first
 * section are a comment header. Sections understood here:
 *
 *   -- asm     assembler text, kept verbatim (comments included) for nicsim_asm()
 *   -- raw     instructions: one per line, either a 64-bit little-endian value
 *              (`0x5566778800000018`) or eight hex bytes (`85 01 00 00 00 00 00 00`)
 *   -- mem     memory block, hex bytes separated by whitespace (any number per line)
 *   -- result  expected r0, hex (`0x2a`) or decimal
 *   -- error   expected failure text (may be empty)
 *
 * Other sections (`-- c`, `-- no register offset`, ...) are skipped. In raw, mem and result,
 * `#` starts a comment.
 */
#ifndef NICSIM_TESTS_CONFORMANCE_DATA_H
#define NICSIM_TESTS_CONFORMANCE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_conf_data {
    char *asm_text;          /* `-- asm` text, NULL if the file has none */
    struct nicsim_insn *raw; /* `-- raw` slots, NULL if the file has none */
    size_t raw_n;
    uint8_t *mem; /* `-- mem` bytes, NULL if none (mem_len 0) */
    size_t mem_len;
    uint64_t result; /* `-- result` value, valid if has_result */
    int has_result;
    char *error; /* `-- error` text with surrounding whitespace trimmed ("" when
                    the section is empty), NULL if the file has none */
};

/*
 * Parse the text of a .data file into *out (zeroed first). Returns 0, or a negative errno with
 * err->index the 1-based line and err->msg the reason (-EINVAL for malformed raw/mem/result
 * lines, -ENOMEM). On failure *out holds nothing to free.
 */
int nicsim_conf_data_parse(const char *text, struct nicsim_conf_data *out, struct nicsim_msg *err);

/* Read and parse a file; as above, plus -errno from opening or reading it (index -1). */
int nicsim_conf_data_load(const char *path, struct nicsim_conf_data *out, struct nicsim_msg *err);

/* Free what parse/load allocated and zero *d. Safe on a zeroed struct. */
void nicsim_conf_data_free(struct nicsim_conf_data *d);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_TESTS_CONFORMANCE_DATA_H */
