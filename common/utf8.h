/* SPDX-License-Identifier: MIT */
/* utf8: make arbitrary program output safe to put into a JSON string.
 * Does: copy bytes, replacing each invalid UTF-8 sequence (and NUL) with U+FFFD.
 * Must not: allocate more than 3x the input, or interpret the text in any other way. */
#ifndef RUNQ_COMMON_UTF8_H
#define RUNQ_COMMON_UTF8_H

#include <stddef.h>

/* Returns a malloc'ed NUL-terminated valid UTF-8 copy of buf[0..len), its length in
 * *out_len; NULL when out of memory. */
char *utf8_sanitize(const char *buf, size_t len, size_t *out_len);

#endif
