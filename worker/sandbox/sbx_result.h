/* SPDX-License-Identifier: MIT */
/* sbx_result: the outcome of one run and its JSON form (docs/SANDBOX.md "Result").
 * Does: own the captured output and collected files; serialise them with jansson.
 * Must not: decide the verdict (sbx_verdict does) or do any I/O. */
#ifndef RUNQ_SBX_RESULT_H
#define RUNQ_SBX_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sbx_verdict.h"

struct sbx_buf {
    char *data;
    size_t len;
    int truncated;
};

struct sbx_collected {
    char *name;
    unsigned char *data; /* NULL when error is set */
    size_t len;
    const char *error;   /* static text, or NULL */
};

struct sbx_result {
    struct sbx_verdict verdict;
    uint64_t cpu_ms, wall_ms, memory_peak_kb;
    struct sbx_buf out, err;
    struct sbx_collected *files;
    size_t nfiles;
    char message[256];
};

/* Returns a new JSON object, or NULL when out of memory. */
json_t *sbx_result_to_json(const struct sbx_result *r);

/* Frees what the result owns and zeroes it; safe on a zeroed result. */
void sbx_result_clear(struct sbx_result *r);

#endif
