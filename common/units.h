/* SPDX-License-Identifier: MIT */
/* units: parse the human-written sizes and durations used in options and config
 * ("256M", "1.5", "250ms").
 * Does: strict parsing into integers with overflow checks. Must not: accept trailing junk,
 * negative values or silently clamp; it does no I/O. */
#ifndef RUNQ_COMMON_UNITS_H
#define RUNQ_COMMON_UNITS_H

#include <stdint.h>

/* "123", "64K", "256M", "2G" (powers of 1024). Returns 0 or -EINVAL / -ERANGE. */
int units_parse_size(const char *text, uint64_t *out_bytes);

/* "2", "0.5", "1.25s", "250ms", "5m", "1.5h", "1d" -> milliseconds (no suffix: seconds).
 * Returns 0 or -EINVAL / -ERANGE. */
int units_parse_duration_ms(const char *text, uint64_t *out_ms);

/* A plain non-negative decimal integer. Returns 0 or -EINVAL / -ERANGE. */
int units_parse_uint(const char *text, uint64_t max, uint64_t *out);

/* The value of a hexadecimal digit (either case), or -1. */
int units_hex_digit(char c);

#endif
