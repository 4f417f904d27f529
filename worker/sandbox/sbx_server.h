/* SPDX-License-Identifier: MIT */
/* sbx_server: a warm slot served over a byte stream (runq-sandbox --serve), so a worker's
 * event loop drives the sandbox through a pipe instead of blocking on it.
 * With "stream": true in a request, output frames {"type": "output", "stream": "stdout" |
 * "stderr", "base64": ...} come during the run, before its answer.
 * Frames: a 4-byte big-endian length, then that many bytes of JSON (a request may carry raw
 * bytes after its JSON and a NUL: sbx_request). First the server says
 * {"type": "ready", "slot": N} once the slot is open (or {"type": "error", "message": M} and
 * exits). Request: a run request (sbx_request). Answer: {"type": "result", "result": {...}}
 * or {"type": "error", "field": F, "message": M} for a request that could not run.
 * Must not: run two requests at once, or outlive its input (EOF ends the loop). */
#ifndef RUNQ_SBX_SERVER_H
#define RUNQ_SBX_SERVER_H

#include <stddef.h>

#include "sbx_slot.h"

#define SBX_FRAME_MAX (512u << 20)

/* The first frame: ready (error NULL) or the reason the slot could not open. 0 or -errno. */
int sbx_server_hello(int out, unsigned slot, const char *error);

/* Serves until EOF on in. Returns 0 at EOF, or -errno when the stream broke. */
int sbx_server_run(struct sbx_slot *slot, int in, int out);

/* One frame: 0, -EPIPE at a clean EOF before the frame, -EMSGSIZE, or -errno. *buf is
 * malloc'ed and NUL-terminated. */
int sbx_frame_read(int fd, char **buf, size_t *len);
int sbx_frame_write(int fd, const char *buf, size_t len);

#endif
