/* SPDX-License-Identifier: MIT */
/* box_out: runq-box's output, the records of box_proto.h on fd 1: the program's output while
 * it runs (written by box_run), then after the run a FILE or FILE_ERROR per COLLECT and the
 * RESULT, last.
 * Must not: write a byte on fd 1 but inside a record (the worker parses the stream, and the
 * program's bytes must never pass for a record of runq-box's own); write on after a failed
 * write (the worker is gone: r->out_failed); open a collected file before the tree is dead, or
 * other than through openat2 beneath the /box fd with no link followed, or look at it but
 * through the fd openat2 gave (the program may have left links and FIFOs in /box). */
#ifndef RUNQ_BOX_OUT_H
#define RUNQ_BOX_OUT_H

#include "box.h"

/* A record's header into h[BOX_HEADER_SIZE], for a caller that writes header and payload
 * from one buffer. */
void box_out_encode(unsigned char *h, int type, size_t len);

/* A record's header; its payload follows in box_out_write()s, with nothing in between. */
void box_out_header(struct run *r, int type, size_t len);
void box_out_write(struct run *r, const void *p, size_t n);

/* The COLLECT name, beneath the /box fd box, as a FILE of at most max bytes, or a FILE_ERROR
 * saying why not. Only once the tree is dead. */
void box_out_collect(struct run *r, int box, const char *name, uint64_t max);

/* The RESULT: the key, the run's numbers, and j->why as internal_error when set. */
void box_out_result(struct run *r, const struct job *j);

#endif
