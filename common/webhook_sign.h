/* SPDX-License-Identifier: MIT */
/* webhook_sign: the rules of webhook delivery that need no network - how a delivery is
 * signed and verified, when it is retried, and which callback URLs are accepted. Pure: the
 * worker's webhook adapter (worker/webhook.c) sends with it, receivers (and the tests'
 * receiver) verify with it, job validation checks URLs with it.
 * Must not: read the clock or a random source (both come in as arguments), do I/O, allocate,
 * or compare MACs in a way whose timing depends on where they differ.
 *
 * The signature scheme (v1), as a receiver sees it. Every delivery is
 *
 *     POST <callback_url>
 *     Content-Type: application/json
 *     User-Agent: runq-webhook/1
 *     X-Runq-Timestamp: 1700000000
 *     X-Runq-Signature: v1=92b66c4df172b8682ca78fa6964d4273aa1969897f1845f2cca4e89101a07e10
 *
 *     {"id":"default.x","status":"completed"}
 *
 * where the timestamp is the sender's Unix time in seconds when this attempt was made, and
 * the signature is the lowercase hex HMAC-SHA256, keyed with the shared secret (the bytes of
 * `webhooks.secret`), of   timestamp + "." + body   (the exact bytes of the body as received;
 * the example above is secret "whsec_test"). Signing the timestamp with the body is what
 * lets a receiver refuse a replayed delivery: reject when |now - timestamp| exceeds a few
 * minutes (webhook_sign_verify's tolerance; WEBHOOK_SIGN_TOLERANCE_S is the recommended
 * value), and always compare MACs in constant time. The header may carry several
 * comma-separated entries ("v1=<hex>,v1=<hex>", e.g. while a secret is rotated, or schemes of
 * later versions): a receiver accepts when any v1 entry matches and ignores other schemes.
 * Each retry is signed anew with its own timestamp, so a late retry is not stale. Delivery is
 * at least once: a receiver that answered 2xx too slowly may see the same body again, so it
 * should deduplicate by the job id in the body. In Python a receiver checks:
 *
 *     mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
 *     ok = abs(time.time() - int(ts)) <= 300 and any(
 *         hmac.compare_digest(mac, e.strip()[3:]) for e in sig.split(",")
 *         if e.strip().startswith("v1="))
 *
 * Answers: 2xx is delivered; 429 and 5xx (and no answer: connection refused, timeout, TLS
 * failure) are retried with backoff; any other status (3xx included: redirects are not
 * followed) ends the delivery at once. */
#ifndef RUNQ_COMMON_WEBHOOK_SIGN_H
#define RUNQ_COMMON_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SIGN_TIMESTAMP_HEADER "X-Runq-Timestamp"
#define WEBHOOK_SIGN_SIGNATURE_HEADER "X-Runq-Signature"
/* "v1=" + 64 hex digits + NUL. */
#define WEBHOOK_SIGN_SIZE 68
/* Recommended replay window for receivers: 5 minutes either way. */
#define WEBHOOK_SIGN_TOLERANCE_S 300

/* Redelivery defaults (see webhook_sign_backoff_ms). */
#define WEBHOOK_SIGN_BACKOFF_BASE_MS 1000
#define WEBHOOK_SIGN_BACKOFF_CAP_MS 300000
#define WEBHOOK_SIGN_MAX_ATTEMPTS 8

/* Longest callback URL accepted, in bytes. */
#define WEBHOOK_SIGN_URL_MAX 2048

/* The X-Runq-Signature value for body[0..len) sent at timestamp (Unix seconds):
 * "v1=" + hex HMAC-SHA256(secret, "<timestamp>.<body>"). Returns 0, or -EINVAL when secret is
 * NULL or empty or timestamp is negative. */
int webhook_sign(const char *secret, int64_t timestamp, const void *body, size_t len,
                 char out[WEBHOOK_SIGN_SIZE]);

/* A receiver's check of one delivery: timestamp and signature are the two header values
 * (surrounding spaces and tabs are ignored), body[0..len) the raw request body, now the
 * receiver's Unix time, tolerance_s the accepted |now - timestamp| (< 0: the recommended
 * WEBHOOK_SIGN_TOLERANCE_S). Returns
 *   0         valid: some v1 entry matches and the timestamp is within the window
 *   -EINVAL   a header is missing or malformed (NULL; a timestamp that is not plain decimal;
 *             no v1 entry, or one that is not 64 hex digits), or secret is NULL or empty
 *   -ESTALE   the timestamp is outside the window (a replay, or a clock far off)
 *   -EBADMSG  no v1 entry matches: wrong secret, or body or timestamp altered
 * The window is checked before the MAC, so replays cost no HMAC. */
int webhook_sign_verify(const char *secret, const char *timestamp, const char *signature,
                        const void *body, size_t len, int64_t now, int64_t tolerance_s);

/* The wait before retry number `retry` (0: before the second attempt), "full jitter":
 * uniform in [0, min(cap_ms, base_ms * 2^retry)], drawn from rnd (any random number).
 * base_ms 0 and cap_ms 0 take the defaults above; a cap below the base is raised to it.
 * Full jitter spreads the retries of many deliveries that failed together (a receiver that
 * was down) instead of sending them back in waves. */
uint64_t webhook_sign_backoff_ms(uint64_t base_ms, uint64_t cap_ms, unsigned retry, uint32_t rnd);

/* 1 when an HTTP answer with this status is worth another attempt (429, 500-599), else 0. */
int webhook_sign_retryable(long http_status);

/* Whether url may be a callback: http:// or https:// (any case) with a non-empty host (a
 * name, IPv4, or [IPv6]) and an optional port 1-65535, at most WEBHOOK_SIGN_URL_MAX bytes,
 * printable ASCII only (no spaces, control characters or raw UTF-8: percent-encode), no
 * backslash, no credentials (user:password@). Returns 0, -EINVAL or -ENAMETOOLONG; *why
 * (when why is not NULL) is set to a static description of the problem ("" when valid).
 * It does not resolve the host: which addresses may be called is a deployment's policy. */
int webhook_sign_check_url(const char *url, const char **why);

/* Whether an address (AF_INET: 4 bytes, AF_INET6: 16 bytes, network order) is one a job's
 * callback must not reach unless the deployment allows it: loopback, private (RFC 1918,
 * fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10), carrier NAT
 * (100.64/10), unspecified, multicast, and IPv4-mapped IPv6 forms of those. 1 or 0. */
int webhook_sign_private_addr(int family, const unsigned char *addr);

#endif
