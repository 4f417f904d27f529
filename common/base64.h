/* SPDX-License-Identifier: MIT */
/* base64: standard alphabet with padding (RFC 4648 section 4), for binary files in JSON.
 * Must not: do I/O or accept anything but the standard alphabet when decoding. */
#ifndef RUNQ_COMMON_BASE64_H
#define RUNQ_COMMON_BASE64_H

#include <stddef.h>

/* Returns a malloc'ed NUL-terminated encoding, or NULL when out of memory. */
char *base64_encode(const void *data, size_t len);

/* Decodes text[0..len) into a malloc'ed buffer (*out, *out_len).
 * Returns 0, -EINVAL on malformed input, -ENOMEM. */
int base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);

#endif
