/* SPDX-License-Identifier: MIT */
#include "sbx_result.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "utf8.h"

static json_t *text_json(const struct sbx_buf *b)
{
    size_t n;
    char *clean = utf8_sanitize(b->data ? b->data : "", b->len, &n);
    json_t *j;

    if (!clean)
        return NULL;
    j = json_stringn_nocheck(clean, n);
    free(clean);
    return j;
}

static json_t *files_json(const struct sbx_result *r)
{
    json_t *files = json_object();
    size_t i;

    for (i = 0; files && i < r->nfiles; i++) {
        const struct sbx_collected *c = &r->files[i];
        json_t *entry;
        if (c->error) {
            entry = json_pack("{s:s}", "error", c->error);
        } else {
            char *b64 = base64_encode(c->data, c->len);
            entry = b64 ? json_pack("{s:I,s:s}", "size", (json_int_t)c->len, "base64", b64)
                        : NULL;
            free(b64);
        }
        if (!entry || json_object_set_new(files, c->name, entry) < 0) {
            json_decref(files);
            return NULL;
        }
    }
    return files;
}

json_t *sbx_result_to_json(const struct sbx_result *r)
{
    const struct sbx_verdict *v = &r->verdict;
    const char *kind = sbx_time_kind_name(v->time_kind);
    json_t *out = text_json(&r->out), *err = text_json(&r->err), *files = files_json(r);

    if (!out || !err || !files) {
        json_decref(out);
        json_decref(err);
        json_decref(files);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:b, s:b, s:o, s:s}",
                     "status", sbx_status_name(v->status),
                     "time_limit", kind ? json_string(kind) : json_null(),
                     "exit_code", v->exit_code >= 0 ? json_integer(v->exit_code) : json_null(),
                     "signal", v->signal ? json_integer(v->signal) : json_null(),
                     "cpu_ms", (json_int_t)r->cpu_ms,
                     "wall_ms", (json_int_t)r->wall_ms,
                     "memory_peak_kb", (json_int_t)r->memory_peak_kb,
                     "stdout", out,
                     "stderr", err,
                     "stdout_truncated", r->out.truncated,
                     "stderr_truncated", r->err.truncated,
                     "files", files,
                     "message", r->message);
}

void sbx_result_clear(struct sbx_result *r)
{
    size_t i;

    free(r->out.data);
    free(r->err.data);
    for (i = 0; i < r->nfiles; i++) {
        free(r->files[i].name);
        free(r->files[i].data);
    }
    free(r->files);
    memset(r, 0, sizeof(*r));
}
