/* SPDX-License-Identifier: MIT */
/* docker_box: the worker's side of box_proto.h. A sandbox run spec becomes runq-box's input
 * records; runq-box's output records are parsed as they stream in; and what they said, with
 * what the worker saw of the container, becomes the same result as the built-in sandbox's
 * (sbx_result, classified by sbx_verdict), so jobs cannot tell the backends apart.
 * Does: plain data in, plain data out. Must not: do I/O, or believe a record that breaks the
 * protocol (over its caps, unknown, or a RESULT without the run's key): the stream comes out
 * of a container that runs hostile code, so a broken one ends the run as an internal error. */
#ifndef RUNQ_DOCKER_BOX_H
#define RUNQ_DOCKER_BOX_H

#include <stddef.h>
#include <stdint.h>

#include "sbx_result.h"
#include "sbx_spec.h"

#define DOCKER_BOX_KEY_MAX 64

/* runq-box's input for spec: KEY, ARGs, ENVs, LIMITs, FILEs, COLLECTs, STDIN, GO, in one
 * malloc'ed buffer. key: text of 16..64 bytes. 0, -EINVAL (no argv, bad key) or -ENOMEM. */
int docker_box_encode(const struct sbx_run_spec *spec, const char *key, char **out,
                      size_t *len);

typedef void (*docker_box_output_cb)(int stream, const char *bytes, size_t len, void *data);

struct docker_box_reader {
    /* set by docker_box_reader_init */
    uint64_t output_cap, collect_cap;
    size_t max_files;
    docker_box_output_cb on_output; /* may be NULL */
    void *data;
    /* what came so far */
    struct sbx_buf out, err;
    struct sbx_collected *files;
    size_t nfiles;
    char *result; /* the RESULT record's text, NUL-terminated, once it came */
    const char *error; /* static text once the stream broke the protocol */
    /* the record being read */
    unsigned char header[5];
    size_t header_len;
    uint32_t need;         /* payload bytes still to come */
    char *payload;         /* FILE, FILE_ERROR and RESULT are kept whole */
    size_t payload_len;
};

/* output_cap: per stream (the run's output limit, as runq-box enforces it); collect_cap: per
 * collected file; max_files: the COLLECT count sent. 0 or -ENOMEM. */
int docker_box_reader_init(struct docker_box_reader *r, uint64_t output_cap,
                           uint64_t collect_cap, size_t max_files,
                           docker_box_output_cb on_output, void *data);

/* Bytes of runq-box's stdout, in any pieces. 0, or -EPROTO once the stream broke the protocol
 * (r->error says how; later calls keep failing). */
int docker_box_reader_feed(struct docker_box_reader *r, const char *bytes, size_t len);

void docker_box_reader_free(struct docker_box_reader *r);

/* What the worker knows about the run besides runq-box's records. */
struct docker_box_seen {
    const char *key;      /* the KEY sent */
    const char *argv0;    /* the program, for who is to blame when it cannot be executed */
    uint64_t cpu_limit_us;
    uint64_t wall_ms;     /* as the worker measured it, start to the end of the stream */
    int wall_killed;      /* the worker killed the container at its wall-clock deadline */
    int oom_killed;       /* the engine's State.OOMKilled */
    const char *failure;  /* the engine or the stream failed: this text; else NULL */
};

/* Fills res (zeroed first) and moves the output and files out of r. Always a result: a
 * missing or forged RESULT makes an internal error. 0 or -ENOMEM. */
int docker_box_result(struct docker_box_reader *r, const struct docker_box_seen *seen,
                      struct sbx_result *res);

#endif
