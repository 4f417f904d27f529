/* SPDX-License-Identifier: MIT */
#include "webhook_sign.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hmac_sha256.h"
#include "units.h"

/* The MAC of "<ts>.<body>" (ts already in decimal, as on the wire). */
static void mac_of(const char *secret, const char *ts, size_t tslen, const void *body, size_t len,
                   uint8_t out[SHA256_DIGEST_SIZE])
{
    struct hmac_sha256_ctx c;

    hmac_sha256_init(&c, secret, strlen(secret));
    hmac_sha256_update(&c, ts, tslen);
    hmac_sha256_update(&c, ".", 1);
    hmac_sha256_update(&c, body, len);
    hmac_sha256_final(&c, out);
}

int webhook_sign(const char *secret, int64_t timestamp, const void *body, size_t len,
                 char out[WEBHOOK_SIGN_SIZE])
{
    uint8_t mac[SHA256_DIGEST_SIZE];
    char ts[24];
    int n;

    if (!secret || !*secret || timestamp < 0 || (!body && len))
        return -EINVAL;
    n = snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
    mac_of(secret, ts, (size_t)n, body, len, mac);
    memcpy(out, "v1=", 3);
    hmac_sha256_hex(mac, sizeof(mac), out + 3);
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* [*s, *e) with optional whitespace removed from both ends. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_ows(**s))
        (*s)++;
    while (*e > *s && is_ows((*e)[-1]))
        (*e)--;
}

/* "v1=<64 hex>" in [s, e) -> 32 bytes. Returns 0, or -EINVAL for any other entry. */
static int parse_v1(const char *s, const char *e, uint8_t out[SHA256_DIGEST_SIZE])
{
    if (e - s != 3 + 2 * SHA256_DIGEST_SIZE || strncmp(s, "v1=", 3) != 0)
        return -EINVAL;
    s += 3;
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        int hi = units_hex_digit(s[2 * i]), lo = units_hex_digit(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Constant time in the contents: every byte is looked at whatever differs. volatile keeps
 * the compiler from turning the loop into an early-exit memcmp. */
static int same_mac(const uint8_t *a, const uint8_t *b)
{
    volatile uint8_t diff = 0;

    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

int webhook_sign_verify(const char *secret, const char *timestamp, const char *signature,
                        const void *body, size_t len, int64_t now, int64_t tolerance_s)
{
    uint8_t want[SHA256_DIGEST_SIZE], got[SHA256_DIGEST_SIZE];
    const char *ts, *ts_end, *p;
    int64_t t = 0, age;
    int entries = 0, match = 0;

    if (!secret || !*secret || !timestamp || !signature || (!body && len))
        return -EINVAL;
    if (tolerance_s < 0)
        tolerance_s = WEBHOOK_SIGN_TOLERANCE_S;
    ts = timestamp;
    ts_end = ts + strlen(ts);
    trim(&ts, &ts_end);
    /* Digits only, and few enough that t cannot overflow: no sign, no spaces inside. */
    if (ts == ts_end || ts_end - ts > 18)
        return -EINVAL;
    for (p = ts; p < ts_end; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        t = t * 10 + (*p - '0');
    }
    /* The MAC covers the timestamp as sent, so "0017..." would not match "17...": refuse
     * leading zeros here already rather than report them as a bad signature. */
    if (*ts == '0' && ts_end - ts > 1)
        return -EINVAL;
    for (p = signature; *p;) {
        const char *s = p, *e = strchr(p, ',');

        if (!e)
            e = p + strlen(p);
        p = *e ? e + 1 : e;
        trim(&s, &e);
        if (e - s >= 3 && !strncmp(s, "v1=", 3)) {
            if (parse_v1(s, e, got) < 0)
                return -EINVAL;
            if (!entries++) /* only now, so a malformed header costs no HMAC either */
                mac_of(secret, ts, (size_t)(ts_end - ts), body, len, want);
            match |= same_mac(want, got);
        }
    }
    if (!entries)
        return -EINVAL;
    age = now - t;
    if (age > tolerance_s || age < -tolerance_s)
        return -ESTALE;
    return match ? 0 : -EBADMSG;
}

uint64_t webhook_sign_backoff_ms(uint64_t base_ms, uint64_t cap_ms, unsigned retry, uint32_t rnd)
{
    uint64_t ceil_ms;

    if (!base_ms)
        base_ms = WEBHOOK_SIGN_BACKOFF_BASE_MS;
    if (!cap_ms)
        cap_ms = WEBHOOK_SIGN_BACKOFF_CAP_MS;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    /* Doubling stops at the cap, so no retry number can overflow. */
    ceil_ms = base_ms;
    for (unsigned i = 0; i < retry && ceil_ms < cap_ms; i++)
        ceil_ms = ceil_ms > cap_ms / 2 ? cap_ms : ceil_ms * 2;
    return ceil_ms == UINT64_MAX ? rnd : rnd % (ceil_ms + 1);
}

int webhook_sign_retryable(long http_status)
{
    return http_status == 429 || (http_status >= 500 && http_status <= 599);
}

static int set_why(const char **why, const char *text)
{
    if (why)
        *why = text;
    return -EINVAL;
}

/* The host part of an authority [s, e): a bracketed IPv6 literal, or a name / IPv4 of
 * letters, digits, '-', '.', '_' and percent-escapes. Returns 0 or -EINVAL. */
static int check_host(const char *s, const char *e)
{
    if (s == e)
        return -EINVAL;
    if (*s == '[') {
        if (e[-1] != ']' || e - s < 4)
            return -EINVAL;
        for (s++, e--; s < e; s++)
            if (units_hex_digit(*s) < 0 && *s != ':' && *s != '.')
                return -EINVAL;
        return 0;
    }
    for (; s < e; s++) {
        char c = *s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '%'))
            return -EINVAL;
    }
    return 0;
}

int webhook_sign_check_url(const char *url, const char **why)
{
    const char *auth, *end, *host_end, *colon, *p;
    size_t n;

    if (why)
        *why = "";
    if (!url || !*url)
        return set_why(why, "empty");
    n = strnlen(url, WEBHOOK_SIGN_URL_MAX + 1);
    if (n > WEBHOOK_SIGN_URL_MAX) {
        if (why)
            *why = "longer than 2048 bytes";
        return -ENAMETOOLONG;
    }
    /* Whitespace and control characters would be cut or folded differently by different
     * parsers (header injection, request smuggling); raw UTF-8 is ambiguous the same way. */
    for (p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c <= 0x20 || c >= 0x7f)
            return set_why(why, "contains whitespace, control or non-ASCII characters");
        if (c == '\\')
            return set_why(why, "contains a backslash");
    }
    if (!strncasecmp(url, "http://", 7))
        auth = url + 7;
    else if (!strncasecmp(url, "https://", 8))
        auth = url + 8;
    else
        return set_why(why, "must start with http:// or https://");
    end = auth + strcspn(auth, "/?#");
    /* Credentials in a URL end up in logs and job records; the signature authenticates. */
    if (memchr(auth, '@', (size_t)(end - auth)))
        return set_why(why, "must not contain credentials (user:password@)");
    /* An IPv6 literal ends at its ']'; else the host ends at the port's colon. */
    if (*auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(end - auth));

        if (!rb)
            return set_why(why, "has no valid host");
        host_end = rb + 1;
    } else {
        host_end = memchr(auth, ':', (size_t)(end - auth));
        if (!host_end)
            host_end = end;
    }
    if (check_host(auth, host_end) < 0 || (host_end < end && *host_end != ':'))
        return set_why(why, "has no valid host");
    colon = host_end < end ? host_end : NULL;
    if (colon) {
        long port = 0;

        if (colon + 1 == end || end - colon > 6)
            return set_why(why, "has an invalid port");
        for (p = colon + 1; p < end; p++) {
            if (*p < '0' || *p > '9')
                return set_why(why, "has an invalid port");
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return set_why(why, "has an invalid port");
    }
    return 0;
}

static int private_v4(const unsigned char *a)
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
}

int webhook_sign_private_addr(int family, const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[15] = {0};

    if (family == 2) /* AF_INET, spelt out: this file includes no socket headers */
        return private_v4(a);
    if (memcmp(a, mapped, sizeof(mapped)) == 0)
        return private_v4(a + 12);
    return memcmp(a, zero, sizeof(zero)) == 0 /* :: and ::1 */ || (a[0] & 0xfe) == 0xfc ||
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}
