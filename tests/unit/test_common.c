/* SPDX-License-Identifier: MIT */
/* Unit tests of common/: units, utf8, base64. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"
#include "units.h"
#include "utf8.h"

static void test_sizes(struct tap *t)
{
    uint64_t v = 0;

    tap_ok(t, units_parse_size("256M", &v) == 0 && v == 256ULL << 20, "256M");
    tap_ok(t, units_parse_size("64k", &v) == 0 && v == 64ULL << 10, "64k");
    tap_ok(t, units_parse_size("2GiB", &v) == 0 && v == 2ULL << 30, "2GiB");
    tap_ok(t, units_parse_size("123", &v) == 0 && v == 123, "plain bytes");
    tap_ok(t, units_parse_size("12X", &v) == -EINVAL, "unknown suffix rejected");
    tap_ok(t, units_parse_size("-1", &v) == -EINVAL, "negative rejected");
    tap_ok(t, units_parse_size("", &v) == -EINVAL, "empty rejected");
    tap_ok(t, units_parse_size("99999999999999999999", &v) == -ERANGE, "overflow rejected");
    tap_ok(t, units_parse_size("17179869184G", &v) == -ERANGE, "multiplied overflow rejected");
}

static void test_durations(struct tap *t)
{
    uint64_t v = 0;

    tap_ok(t, units_parse_duration_ms("2", &v) == 0 && v == 2000, "2 -> 2000 ms");
    tap_ok(t, units_parse_duration_ms("0.5", &v) == 0 && v == 500, "0.5 -> 500 ms");
    tap_ok(t, units_parse_duration_ms("1.25s", &v) == 0 && v == 1250, "1.25s");
    tap_ok(t, units_parse_duration_ms("250ms", &v) == 0 && v == 250, "250ms");
    tap_ok(t, units_parse_duration_ms(".1", &v) == 0 && v == 100, ".1");
    tap_ok(t, units_parse_duration_ms("1.5ms", &v) == -EINVAL, "fractional ms rejected");
    tap_ok(t, units_parse_duration_ms("1.", &v) == -EINVAL, "dangling dot rejected");
    tap_ok(t, units_parse_duration_ms("3w", &v) == -EINVAL, "unknown unit rejected");
    tap_ok(t, units_parse_duration_ms("5m", &v) == 0 && v == 300000, "5m -> minutes");
    tap_ok(t, units_parse_duration_ms("1.5h", &v) == 0 && v == 5400000, "1.5h");
    tap_ok(t, units_parse_duration_ms("1d", &v) == 0 && v == 86400000, "1d");
    tap_ok(t, units_parse_duration_ms("99999999999999999d", &v) == -ERANGE, "days overflow");
    tap_ok(t, units_parse_uint("42", 100, &v) == 0 && v == 42, "uint");
    tap_ok(t, units_parse_uint("101", 100, &v) == -ERANGE, "uint above max");
    tap_ok(t, units_parse_uint("4x", 100, &v) == -EINVAL, "uint junk");
}

static void test_utf8(struct tap *t)
{
    size_t n;
    char *s;

    s = utf8_sanitize("h\xC3\xA9llo", 6, &n);
    tap_ok(t, s && n == 6 && memcmp(s, "h\xC3\xA9llo", 6) == 0, "valid UTF-8 kept");
    free(s);
    s = utf8_sanitize("a\xFF" "b", 3, &n);
    tap_ok(t, s && strcmp(s, "a\xEF\xBF\xBD" "b") == 0, "invalid byte replaced");
    free(s);
    s = utf8_sanitize("a\0b", 3, &n);
    tap_ok(t, s && n == 5 && strcmp(s, "a\xEF\xBF\xBD" "b") == 0, "NUL replaced");
    free(s);
    s = utf8_sanitize("\xC0\xAF", 2, &n);
    tap_ok(t, s && n == 6, "overlong encoding replaced byte by byte");
    free(s);
    s = utf8_sanitize("\xED\xA0\x80", 3, &n);
    tap_ok(t, s && n == 9, "surrogate replaced");
    free(s);
    s = utf8_sanitize("\xE2\x82", 2, &n);
    tap_ok(t, s && n == 6, "truncated sequence replaced");
    free(s);
}

static void test_base64(struct tap *t)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                        "Zm9vYmFy"};
    unsigned char *out;
    size_t i, n;

    for (i = 0; i < 7; i++) {
        char *e = base64_encode(plain[i], strlen(plain[i]));
        int ok = e && strcmp(e, coded[i]) == 0;
        ok = ok && base64_decode(e, strlen(e), &out, &n) == 0 && n == strlen(plain[i]) &&
             memcmp(out, plain[i], n) == 0;
        if (e && ok)
            free(out);
        tap_ok(t, ok, "base64 round trip of \"%s\" (RFC 4648 vector)", plain[i]);
        free(e);
    }
    tap_ok(t, base64_decode("Zm9", 3, &out, &n) == -EINVAL, "bad length rejected");
    tap_ok(t, base64_decode("Zm9*", 4, &out, &n) == -EINVAL, "bad character rejected");
}

int main(void)
{
    struct tap t = {0};

    test_sizes(&t);
    test_durations(&t);
    test_utf8(&t);
    test_base64(&t);
    return tap_done(&t);
}
