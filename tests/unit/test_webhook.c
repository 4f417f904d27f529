/* SPDX-License-Identifier: MIT */
/* Unit tests of common/webhook_sign: the v1 signature against a value computed elsewhere
 * (Python's hmac), verification (valid, altered, stale, future, malformed, rotated secrets),
 * the full-jitter backoff bounds, which HTTP answers are retried, and callback URL checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "webhook_sign.h"

#define SECRET "whsec_test"
#define BODY "{\"id\":\"default.x\",\"status\":\"completed\"}"
/* python3: hmac.new(b"whsec_test", b"1700000000." + BODY, hashlib.sha256).hexdigest() */
#define SIG "v1=92b66c4df172b8682ca78fa6964d4273aa1969897f1845f2cca4e89101a07e10"
#define TS 1700000000

static int verify(const char *secret, const char *ts, const char *sig, const char *body,
                  long long now)
{
    return webhook_sign_verify(secret, ts, sig, body, body ? strlen(body) : 0, now, 300);
}

static void test_sign(struct tap *t)
{
    char sig[WEBHOOK_SIGN_SIZE];

    tap_ok(t, webhook_sign(SECRET, TS, BODY, strlen(BODY), sig) == 0 && !strcmp(sig, SIG),
           "v1 signature matches an independent HMAC-SHA256 of \"<ts>.<body>\"");
    tap_ok(t, strlen(sig) == WEBHOOK_SIGN_SIZE - 1, "signature fills WEBHOOK_SIGN_SIZE exactly");
    tap_ok(t, webhook_sign(SECRET, TS + 1, BODY, strlen(BODY), sig) == 0 && strcmp(sig, SIG) != 0,
           "the timestamp is signed");
    tap_ok(t, webhook_sign("", TS, BODY, 3, sig) == -EINVAL, "empty secret refused");
    tap_ok(t, webhook_sign(NULL, TS, BODY, 3, sig) == -EINVAL, "NULL secret refused");
    tap_ok(t, webhook_sign(SECRET, -1, BODY, 3, sig) == -EINVAL, "negative timestamp refused");
    tap_ok(t, webhook_sign(SECRET, 0, NULL, 0, sig) == 0 && !strncmp(sig, "v1=", 3),
           "an empty body can be signed");
}

static void test_verify(struct tap *t)
{
    char two[2 * WEBHOOK_SIGN_SIZE + 16], upper[WEBHOOK_SIGN_SIZE], bad[WEBHOOK_SIGN_SIZE];
    char sig0[WEBHOOK_SIGN_SIZE];

    tap_ok(t, verify(SECRET, "1700000000", SIG, BODY, TS) == 0, "valid delivery verifies");
    tap_ok(t, verify(SECRET, " 1700000000\t", " " SIG " ", BODY, TS + 300) == 0,
           "header whitespace ignored; 300 s old is inside a 300 s window");
    tap_ok(t, verify(SECRET, "1700000000", SIG, BODY, TS - 300) == 0,
           "300 s in the future is inside the window");
    tap_ok(t, verify("whsec_other", "1700000000", SIG, BODY, TS) == -EBADMSG,
           "wrong secret -> -EBADMSG");
    tap_ok(t,
           verify(SECRET, "1700000000", SIG, "{\"id\":\"default.x\",\"status\":\"failed\"}", TS) ==
               -EBADMSG,
           "altered body -> -EBADMSG");
    tap_ok(t, verify(SECRET, "1700000001", SIG, BODY, TS) == -EBADMSG,
           "altered timestamp -> -EBADMSG");
    tap_ok(t, verify(SECRET, "1700000000", SIG, BODY, TS + 301) == -ESTALE,
           "301 s old -> -ESTALE (replay)");
    tap_ok(t, verify(SECRET, "1700000000", SIG, BODY, TS - 301) == -ESTALE,
           "301 s in the future -> -ESTALE");
    tap_ok(t,
           webhook_sign_verify(SECRET, "1700000000", SIG, BODY, strlen(BODY), TS + 299, -1) == 0 &&
               webhook_sign_verify(SECRET, "1700000000", SIG, BODY, strlen(BODY), TS + 301, -1) ==
                   -ESTALE,
           "negative tolerance takes the recommended 300 s");
    tap_ok(t, verify(SECRET, "1700000000", SIG, BODY, TS + 100000) == -ESTALE,
           "stale is reported even when the MAC is right (window checked first)");
    /* Rotation: two entries, the good one second; an unknown scheme is skipped. */
    snprintf(two, sizeof(two), "v1=%064d, v0=abc ,%s", 0, SIG);
    tap_ok(t, verify(SECRET, "1700000000", two, BODY, TS) == 0,
           "any matching v1 entry of several is accepted");
    snprintf(two, sizeof(two), "v1=%064d,v1=%064d", 0, 1);
    tap_ok(t, verify(SECRET, "1700000000", two, BODY, TS) == -EBADMSG,
           "several v1 entries, none matching -> -EBADMSG");
    memcpy(upper, SIG, sizeof(upper));
    for (char *p = upper + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    tap_ok(t, verify(SECRET, "1700000000", upper, BODY, TS) == 0, "upper-case hex accepted");
    memcpy(bad, SIG, sizeof(bad));
    bad[10] = bad[10] == '0' ? '1' : '0';
    tap_ok(t, verify(SECRET, "1700000000", bad, BODY, TS) == -EBADMSG,
           "one hex digit off -> -EBADMSG");
    bad[10] = 'g';
    tap_ok(t, verify(SECRET, "1700000000", bad, BODY, TS) == -EINVAL, "non-hex digit -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", "v1=92b66c", BODY, TS) == -EINVAL,
           "short v1 entry -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", SIG "0", BODY, TS) == -EINVAL,
           "long v1 entry -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", "v2=abc", BODY, TS) == -EINVAL,
           "no v1 entry -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", "", BODY, TS) == -EINVAL, "empty signature -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", SIG + 3, BODY, TS) == -EINVAL,
           "hex without v1= -> -EINVAL");
    tap_ok(t, verify(SECRET, NULL, SIG, BODY, TS) == -EINVAL, "missing timestamp -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000", NULL, BODY, TS) == -EINVAL,
           "missing signature -> -EINVAL");
    tap_ok(t, verify(SECRET, "", SIG, BODY, TS) == -EINVAL, "empty timestamp -> -EINVAL");
    tap_ok(t, verify(SECRET, "+1700000000", SIG, BODY, TS) == -EINVAL,
           "signed timestamp -> -EINVAL");
    tap_ok(t, verify(SECRET, "1700000000.5", SIG, BODY, TS) == -EINVAL,
           "fractional timestamp -> -EINVAL");
    tap_ok(t, verify(SECRET, "01700000000", SIG, BODY, TS) == -EINVAL,
           "leading zero -> -EINVAL (the MAC covers the digits as sent)");
    tap_ok(t, verify(SECRET, "1700000000000000000000", SIG, BODY, TS) == -EINVAL,
           "timestamp too long to be real -> -EINVAL");
    tap_ok(t, verify("", "1700000000", SIG, BODY, TS) == -EINVAL, "empty secret -> -EINVAL");
    tap_ok(t, webhook_sign(SECRET, 0, "", 0, sig0) == 0 && verify(SECRET, "0", sig0, "", 100) == 0,
           "timestamp 0 and an empty body round-trip");
}

static void test_backoff(struct tap *t)
{
    int ok = 1;

    tap_ok(t, webhook_sign_backoff_ms(0, 0, 0, 0) == 0, "full jitter: rnd 0 waits 0");
    tap_ok(t, webhook_sign_backoff_ms(0, 0, 0, 1000) == 1000, "retry 0 ceiling is the base (1 s)");
    tap_ok(t, webhook_sign_backoff_ms(0, 0, 0, 1001) == 0, "retry 0: rnd wraps at base + 1");
    tap_ok(t,
           webhook_sign_backoff_ms(0, 0, 3, 8000) == 8000 &&
               webhook_sign_backoff_ms(0, 0, 3, 8001) == 0,
           "retry 3 ceiling is 8 s");
    tap_ok(t,
           webhook_sign_backoff_ms(0, 0, 8, 256000) == 256000 &&
               webhook_sign_backoff_ms(0, 0, 8, 256001) == 0,
           "retry 8 ceiling is 256 s");
    tap_ok(t,
           webhook_sign_backoff_ms(0, 0, 9, 300000) == 300000 &&
               webhook_sign_backoff_ms(0, 0, 9, 300001) == 0,
           "retry 9 (512 s) is capped at 5 min");
    tap_ok(t, webhook_sign_backoff_ms(0, 0, 4000000000u, 300000) == 300000,
           "a huge retry number neither overflows nor loops");
    tap_ok(t,
           webhook_sign_backoff_ms(10, 40, 5, 40) == 40 &&
               webhook_sign_backoff_ms(10, 40, 5, 41) == 0,
           "custom base and cap");
    tap_ok(t, webhook_sign_backoff_ms(100, 10, 0, 100) == 100, "a cap below the base is raised");
    tap_ok(t, webhook_sign_backoff_ms(UINT64_MAX / 2 + 1, UINT64_MAX, 3, 77) == 77,
           "no overflow near UINT64_MAX");
    for (unsigned r = 0; r < 12; r++)
        for (uint32_t x = 0; x < 100000; x += 997) {
            uint64_t c = 1000ull << (r < 9 ? r : 9), d;

            if (c > 300000)
                c = 300000;
            d = webhook_sign_backoff_ms(0, 0, r, x * 48271u);
            if (d > c)
                ok = 0;
        }
    tap_ok(t, ok, "every delay stays within [0, min(cap, base * 2^retry)]");
    tap_ok(t, WEBHOOK_SIGN_MAX_ATTEMPTS == 8, "default max attempts is 8");
}

static void test_retryable(struct tap *t)
{
    tap_ok(t,
           webhook_sign_retryable(500) && webhook_sign_retryable(503) &&
               webhook_sign_retryable(599),
           "5xx retried");
    tap_ok(t, webhook_sign_retryable(429), "429 retried");
    tap_ok(t,
           !webhook_sign_retryable(400) && !webhook_sign_retryable(404) &&
               !webhook_sign_retryable(410) && !webhook_sign_retryable(428),
           "other 4xx not retried");
    tap_ok(t,
           !webhook_sign_retryable(200) && !webhook_sign_retryable(302) &&
               !webhook_sign_retryable(600) && !webhook_sign_retryable(0),
           "2xx, 3xx, 600 and 0 not retried");
}

static void test_url(struct tap *t)
{
    static const char *good[] = {
        "http://example.com",          "https://example.com/hook?a=1&b=%20#frag",
        "HTTPS://Example.COM:8443/x",  "http://127.0.0.1:1/",
        "http://[::1]:8080/hook",      "http://[2001:db8::1]/",
        "http://my_host.internal/a/b", "https://h/path:with:colons@at-in-path",
    };
    static const struct {
        const char *url;
        int err;
    } bad[] = {
        {"", -EINVAL},
        {"ftp://example.com/", -EINVAL},
        {"file:///etc/passwd", -EINVAL},
        {"gopher://x/", -EINVAL},
        {"example.com/hook", -EINVAL},
        {"http://", -EINVAL},
        {"http:///path", -EINVAL},
        {"http://user:pw@example.com/", -EINVAL},
        {"http://user@example.com/", -EINVAL},
        {"http://example.com /x", -EINVAL},
        {"http://example.com/\tx", -EINVAL},
        {"http://example.com/\r\nX-Evil: 1", -EINVAL},
        {"http://ex\x7f"
         "ample.com/",
         -EINVAL},
        {"http://b\xc3\xa4r.example/", -EINVAL},
        {"http://example.com\\@evil.com/", -EINVAL},
        {"http://example.com:0/", -EINVAL},
        {"http://example.com:65536/", -EINVAL},
        {"http://example.com:/", -EINVAL},
        {"http://example.com:80a/", -EINVAL},
        {"http://example.com:1234567/", -EINVAL},
        {"http://[::1/", -EINVAL},
        {"http://[::1]x/", -EINVAL},
        {"http://[zz::1]/", -EINVAL},
        {"http://a:1:2/", -EINVAL},
    };
    char long_url[WEBHOOK_SIGN_URL_MAX + 2];
    const char *why = NULL;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        tap_ok(t, webhook_sign_check_url(good[i], &why) == 0 && !strcmp(why, ""), "URL ok: %s",
               good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = webhook_sign_check_url(bad[i].url, &why);

        tap_ok(t, r == bad[i].err && why && *why, "URL refused (%s): [%zu]", why ? why : "?", i);
    }
    tap_ok(t, webhook_sign_check_url(NULL, NULL) == -EINVAL, "NULL URL refused (why may be NULL)");
    memcpy(long_url, "http://h/", 9);
    memset(long_url + 9, 'a', WEBHOOK_SIGN_URL_MAX - 9);
    long_url[WEBHOOK_SIGN_URL_MAX] = '\0';
    tap_ok(t, webhook_sign_check_url(long_url, NULL) == 0, "URL of exactly 2048 bytes ok");
    long_url[WEBHOOK_SIGN_URL_MAX] = 'a';
    long_url[WEBHOOK_SIGN_URL_MAX + 1] = '\0';
    tap_ok(t, webhook_sign_check_url(long_url, &why) == -ENAMETOOLONG && *why,
           "URL of 2049 bytes -> -ENAMETOOLONG");
}

int main(void)
{
    struct tap t = {0};

    test_sign(&t);
    test_verify(&t);
    test_backoff(&t);
    test_retryable(&t);
    test_url(&t);
    {
        static const unsigned char v4[][4] = {{127, 0, 0, 1}, {10, 1, 2, 3}, {172, 31, 0, 1},
                                              {192, 168, 1, 1}, {169, 254, 169, 254},
                                              {100, 64, 0, 1}, {0, 0, 0, 0}, {224, 0, 0, 1}};
        static const unsigned char pub4[][4] = {{8, 8, 8, 8}, {172, 32, 0, 1}, {100, 128, 0, 1},
                                                {193, 0, 0, 1}};
        unsigned char v6[16] = {0};
        int ok = 1;
        for (size_t k = 0; k < sizeof(v4) / sizeof(v4[0]); k++)
            ok &= webhook_sign_private_addr(2, v4[k]) == 1;
        for (size_t k = 0; k < sizeof(pub4) / sizeof(pub4[0]); k++)
            ok &= webhook_sign_private_addr(2, pub4[k]) == 0;
        tap_ok(&t, ok, "IPv4: loopback, RFC 1918, link-local, CGNAT, 0/8, multicast private; others not");
        v6[15] = 1;
        ok = webhook_sign_private_addr(10, v6) == 1; /* ::1 */
        v6[15] = 0;
        v6[0] = 0xfd;
        ok &= webhook_sign_private_addr(10, v6) == 1; /* fd00::/8 */
        v6[0] = 0xfe;
        v6[1] = 0x80;
        ok &= webhook_sign_private_addr(10, v6) == 1; /* fe80::/10 */
        memset(v6, 0, sizeof(v6));
        v6[10] = v6[11] = 0xff;
        v6[12] = 127;
        v6[15] = 1;
        ok &= webhook_sign_private_addr(10, v6) == 1; /* ::ffff:127.0.0.1 */
        v6[12] = 8;
        v6[13] = 8;
        v6[14] = 8;
        v6[15] = 8;
        ok &= webhook_sign_private_addr(10, v6) == 0; /* ::ffff:8.8.8.8 */
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[10] = v6[11] = 0;
        ok &= webhook_sign_private_addr(10, v6) == 0; /* 2001:: */
        tap_ok(&t, ok, "IPv6: ::1, fc00::/7, fe80::/10 and mapped private v4 private; 2001:: not");
    }
    return tap_done(&t);
}
