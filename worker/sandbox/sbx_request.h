/* SPDX-License-Identifier: MIT */
/* sbx_request: one run request as JSON (what the worker sends a slot's runq-sandbox --serve
 * process) turned into a struct sbx_run_spec that owns its memory, and the reverse.
 * Does: strict parsing with the offending field named. Must not: touch the system. */
#ifndef RUNQ_SBX_REQUEST_H
#define RUNQ_SBX_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "sbx_spec.h"

struct sbx_request {
    struct sbx_run_spec spec; /* points into the fields below */
    char **argv, **envp;
    struct sbx_file *files;
    char **collect;
    unsigned char *stdin_data;
};

/* {"argv": [..], "env": ["K=V"..]?, "limits": {cpu_ms, wall_ms, memory_bytes, processes,
 *  output_bytes, file_bytes, open_files, stack_bytes, address_space, tmp_bytes, box_bytes}?,
 *  "stdin": base64?, "files": [{"name", "base64", "executable"?}]?, "collect": [names]?}
 * Missing limits take sbx_limits_default. Returns 0, or -EINVAL with the field in *field
 * (a static string), or -ENOMEM. On error nothing is left to free. */
int sbx_request_from_json(const json_t *j, struct sbx_request *out, const char **field);

/* The same form, for the worker's side. NULL when out of memory. */
json_t *sbx_request_to_json(const struct sbx_run_spec *spec);

void sbx_request_free(struct sbx_request *r);

#endif
