/* SPDX-License-Identifier: MIT */
/* sbx_request: one run request on the wire (what the worker sends a slot's runq-sandbox
 * --serve process) turned into a struct sbx_run_spec that owns its memory, and the reverse.
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
    int stream; /* "stream": true, output frames during the run */
};

/* A request is JSON, optionally followed by a NUL byte and raw bytes, the attachment:
 * {"argv": [..], "env": ["K=V"..]?, "limits": {cpu_ms, wall_ms, memory_bytes, processes,
 *  output_bytes, file_bytes, open_files, stack_bytes, address_space, tmp_bytes, box_bytes}?,
 *  "stdin": base64? | "stdin_at": [offset, length]?,
 *  "files": [{"name", "base64" | "at": [offset, length], "executable"?}]?,
 *  "collect": [names]?, "stream": bool?}
 * "at" ranges point into the attachment, so a binary sent to every test of a job crosses the
 * pipe as it is: no base64 on either side, and the JSON parser never scans it.
 * Missing limits take sbx_limits_default. Returns 0, or -EINVAL with the field in *field
 * (a static string; "request" when the JSON itself is bad), or -ENOMEM. On error nothing is
 * left to free. */
int sbx_request_decode(const char *payload, size_t len, struct sbx_request *out,
                       const char **field);

/* The same form, for the worker's side: a malloc'ed payload with every file and the stdin in
 * the attachment. 0 or -ENOMEM. */
int sbx_request_encode(const struct sbx_run_spec *spec, int stream, char **payload,
                       size_t *len);

void sbx_request_free(struct sbx_request *r);

#endif
