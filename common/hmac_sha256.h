/* SPDX-License-Identifier: MIT */
/* hmac_sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), one-shot and incremental,
 * plus lowercase hex output. Pure: no I/O, no allocation, no OpenSSL (the worker signs
 * webhook bodies with it and nothing here needs a crypto library's weight or init).
 * Does: hash any byte string (lengths up to 2^61 - 1 bytes); wipe the HMAC key pads it
 * derived once they are used.
 * Must not: compare digests (use a constant-time compare: webhook_sign does), be used for
 * passwords (it is a fast hash), or keep state outside the caller's context. */
#ifndef RUNQ_COMMON_HMAC_SHA256_H
#define RUNQ_COMMON_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64
/* Lowercase hex of a digest plus its NUL. */
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

struct sha256_ctx {
    uint32_t h[8];
    uint64_t bytes; /* message length so far */
    uint8_t buf[SHA256_BLOCK_SIZE];
    size_t nbuf; /* bytes waiting in buf (< 64) */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the digest; c must be re-initialised before it is used again. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

/* inner has absorbed key ^ ipad, outer key ^ opad. */
struct hmac_sha256_ctx {
    struct sha256_ctx inner, outer;
};

/* Any key length: keys longer than a block are hashed first (RFC 2104, section 2). */
void hmac_sha256_init(struct hmac_sha256_ctx *c, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256_ctx *c, const void *data, size_t len);
/* Writes the MAC and wipes c. */
void hmac_sha256_final(struct hmac_sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 uint8_t out[SHA256_DIGEST_SIZE]);

/* Lowercase hex of in[0..n) into out, which holds 2n + 1 bytes (NUL-terminated). */
void hmac_sha256_hex(const uint8_t *in, size_t n, char *out);

#endif
