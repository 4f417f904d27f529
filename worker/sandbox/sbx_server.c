/* SPDX-License-Identifier: MIT */
#include "sbx_server.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sbx_io.h"
#include "sbx_request.h"

int sbx_frame_read(int fd, char **buf, size_t *len)
{
    unsigned char hdr[4];
    ssize_t n = sbx_read_full(fd, hdr, sizeof(hdr));
    uint32_t size;

    if (n == 0)
        return -EPIPE;
    if (n != (ssize_t)sizeof(hdr))
        return n < 0 ? (int)n : -EIO;
    size = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (size > SBX_FRAME_MAX)
        return -EMSGSIZE;
    *buf = malloc((size_t)size + 1);
    if (!*buf)
        return -ENOMEM;
    n = sbx_read_full(fd, *buf, size);
    if (n != (ssize_t)size) {
        free(*buf);
        *buf = NULL;
        return n < 0 ? (int)n : -EIO;
    }
    (*buf)[size] = '\0';
    *len = size;
    return 0;
}

int sbx_frame_write(int fd, const char *buf, size_t len)
{
    unsigned char hdr[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                            (unsigned char)(len >> 8), (unsigned char)len};
    int r;

    if (len > SBX_FRAME_MAX)
        return -EMSGSIZE;
    r = sbx_write_all(fd, hdr, sizeof(hdr));
    return r < 0 ? r : sbx_write_all(fd, buf, len);
}

static int send_json(int fd, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int r = text ? sbx_frame_write(fd, text, strlen(text)) : -ENOMEM;

    free(text);
    json_decref(j);
    return r;
}

/* One frame per piece of output read: {"type": "output", "stream": "stdout", "base64": ..}.
 * A write error here is the caller's problem to notice on the final answer. */
static void send_output(void *ctx, int stream, const char *data, size_t len)
{
    char *b64 = base64_encode(data, len);

    if (b64)
        (void)send_json(*(int *)ctx, json_pack("{s:s, s:s, s:s}", "type", "output", "stream",
                                               stream == 1 ? "stdout" : "stderr", "base64",
                                               b64));
    free(b64);
}

static int answer(struct sbx_slot *slot, const char *payload, size_t len, int out)
{
    struct sbx_request r;
    struct sbx_result res;
    const char *field = "request";
    json_t *result;

    if (sbx_request_decode(payload, len, &r, &field) < 0)
        return send_json(out, json_pack("{s:s, s:s, s:s}", "type", "error", "field", field,
                                         "message", "invalid value"));
    if (r.stream) {
        r.spec.on_output = send_output;
        r.spec.output_ctx = &out;
    }
    if (sbx_slot_run(slot, &r.spec, &res) < 0) {
        sbx_request_free(&r);
        return send_json(out, json_pack("{s:s, s:s, s:s}", "type", "error", "field", "argv",
                                        "message", "invalid request"));
    }
    sbx_request_free(&r);
    result = sbx_result_to_json(&res);
    sbx_result_clear(&res);
    return send_json(out, result ? json_pack("{s:s, s:o}", "type", "result", "result", result)
                                 : NULL);
}

int sbx_server_hello(int out, unsigned slot, const char *error)
{
    return send_json(out, error ? json_pack("{s:s, s:I, s:s}", "type", "error", "slot",
                                            (json_int_t)slot, "message", error)
                                : json_pack("{s:s, s:I}", "type", "ready", "slot",
                                            (json_int_t)slot));
}

int sbx_server_run(struct sbx_slot *slot, int in, int out)
{
    for (;;) {
        char *text = NULL;
        size_t len = 0;
        int r = sbx_frame_read(in, &text, &len);

        if (r == -EPIPE)
            return 0;
        if (r < 0)
            return r;
        r = answer(slot, text, len, out);
        free(text);
        if (r < 0)
            return r;
    }
}
