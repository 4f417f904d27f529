/* SPDX-License-Identifier: MIT */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* Reads one or more decimal digits at *p, advancing it. 0, -EINVAL or -ERANGE. */
static int parse_digits(const char **p, uint64_t *out)
{
    uint64_t v = 0;

    if (!*p || !isdigit((unsigned char)**p))
        return -EINVAL;
    for (; isdigit((unsigned char)**p); (*p)++) {
        unsigned d = (unsigned)(**p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int units_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int r = parse_digits(&text, &v);

    if (r < 0)
        return r;
    if (*text)
        return -EINVAL;
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int units_parse_size(const char *text, uint64_t *out_bytes)
{
    uint64_t v, mult = 1;
    const char *p = text;
    int r = parse_digits(&p, &v);

    if (r < 0)
        return r;
    switch (*p) {
    case '\0':
        break;
    case 'k': case 'K':
        mult = 1ULL << 10;
        p++;
        break;
    case 'm': case 'M':
        mult = 1ULL << 20;
        p++;
        break;
    case 'g': case 'G':
        mult = 1ULL << 30;
        p++;
        break;
    default:
        return -EINVAL;
    }
    /* Accept "64MB"/"64MiB" too, since people write them. */
    if (mult > 1 && (strcmp(p, "B") == 0 || strcmp(p, "iB") == 0))
        p += strlen(p);
    if (*p)
        return -EINVAL;
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *out_bytes = v * mult;
    return 0;
}

int units_parse_duration_ms(const char *text, uint64_t *out_ms)
{
    uint64_t whole = 0, frac = 0, frac_scale = 1, ms, mult;
    const char *p = text;

    if (!p || !(isdigit((unsigned char)*p) || *p == '.'))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (UINT64_MAX / 1000 - 9) / 10)
            return -ERANGE;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
            /* Digits past the millisecond are dropped; a few are enough to round. */
            if (frac_scale < 1000000) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
        }
    }
    if (strcmp(p, "ms") == 0) {
        if (frac_scale != 1)
            return -EINVAL; /* "1.5ms": sub-millisecond precision is not offered */
        *out_ms = whole;
        return 0;
    }
    ms = whole * 1000 + (frac * 1000 + frac_scale / 2) / frac_scale;
    mult = *p == 'm' ? 60 : *p == 'h' ? 3600 : *p == 'd' ? 86400 : 1;
    if (*p == 's' || mult > 1)
        p++;
    if (*p)
        return -EINVAL;
    if (ms > UINT64_MAX / mult)
        return -ERANGE;
    *out_ms = ms * mult;
    return 0;
}

int units_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
