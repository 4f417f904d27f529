/* SPDX-License-Identifier: MIT */
/* Unit tests of common/hmac_sha256: the FIPS 180-4 / NIST SHA-256 examples, padding at the
 * block boundaries, incremental feeding in uneven pieces, and the RFC 4231 HMAC-SHA256 test
 * cases 1-7 (case 5 compares the first 128 bits, as the RFC does). */
#include <stdlib.h>
#include <string.h>

#include "hmac_sha256.h"
#include "tap.h"

/* Lowercase hex of the one-shot digest of data. */
static const char *hex_sha(const void *data, size_t len, char out[SHA256_HEX_SIZE])
{
    uint8_t d[SHA256_DIGEST_SIZE];

    sha256(data, len, d);
    hmac_sha256_hex(d, sizeof(d), out);
    return out;
}

static void test_nist(struct tap *t)
{
    char hex[SHA256_HEX_SIZE];
    char *million = malloc(1000000);

    tap_ok(t,
           !strcmp(hex_sha("abc", 3, hex),
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
           "SHA-256(\"abc\")");
    tap_ok(t,
           !strcmp(hex_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
           "SHA-256 of the 448-bit message (padding spills into a second block)");
    tap_ok(t,
           !strcmp(hex_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmno"
                           "pjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                           112, hex),
                   "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
           "SHA-256 of the 896-bit message");
    tap_ok(t,
           !strcmp(hex_sha(NULL, 0, hex),
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
           "SHA-256 of the empty message");
    if (!tap_ok(t, million != NULL, "allocate one million bytes"))
        return;
    memset(million, 'a', 1000000);
    tap_ok(t,
           !strcmp(hex_sha(million, 1000000, hex),
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
           "SHA-256 of one million 'a' (one call)");
    /* The same million bytes in pieces of 1, 2, ... 97 bytes: every buffer offset is hit. */
    {
        struct sha256_ctx c;
        uint8_t d[SHA256_DIGEST_SIZE];
        size_t off = 0, piece = 1;

        sha256_init(&c);
        while (off < 1000000) {
            size_t n = piece < 1000000 - off ? piece : 1000000 - off;

            sha256_update(&c, million + off, n);
            sha256_update(&c, NULL, 0);
            off += n;
            piece = piece % 97 + 1;
        }
        sha256_final(&c, d);
        hmac_sha256_hex(d, sizeof(d), hex);
        tap_ok(t, !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
               "SHA-256 of one million 'a' fed in uneven pieces");
    }
    free(million);
}

/* Lengths around the 55/56 and 64 byte padding boundaries (digests from Python's hashlib). */
static void test_boundaries(struct tap *t)
{
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
    };
    char x[128], hex[SHA256_HEX_SIZE];

    memset(x, 'x', sizeof(x));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        tap_ok(t, !strcmp(hex_sha(x, v[i].n, hex), v[i].hex), "SHA-256 of %zu x 'x'", v[i].n);
}

static void test_rfc4231(struct tap *t)
{
    uint8_t k0b[20], kaa20[20], k25[25], k0c[20], kaa131[131], ddd[50], dcd[50];
    uint8_t mac[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE];
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *d7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm.";
    struct {
        const void *key;
        size_t keylen;
        const void *data;
        size_t len;
        const char *hex;
    } v[] = {
        {k0b, 20, "Hi There", 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {kaa20, 20, ddd, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k25, 25, dcd, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {k0c, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"},
        {kaa131, 131, d6, strlen(d6),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {kaa131, 131, d7, strlen(d7),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };

    memset(k0b, 0x0b, sizeof(k0b));
    memset(kaa20, 0xaa, sizeof(kaa20));
    for (int i = 0; i < 25; i++)
        k25[i] = (uint8_t)(i + 1);
    memset(k0c, 0x0c, sizeof(k0c));
    memset(kaa131, 0xaa, sizeof(kaa131));
    memset(ddd, 0xdd, sizeof(ddd));
    memset(dcd, 0xcd, sizeof(dcd));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t cmp = strlen(v[i].hex);

        hmac_sha256(v[i].key, v[i].keylen, v[i].data, v[i].len, mac);
        hmac_sha256_hex(mac, sizeof(mac), hex);
        tap_ok(t, strlen(hex) == 64 && !strncmp(hex, v[i].hex, cmp), "RFC 4231 test case %zu%s",
               i + 1, cmp < 64 ? " (first 128 bits)" : "");
    }
    /* Case 7 again through the incremental API, data in three pieces. */
    {
        struct hmac_sha256_ctx c;
        size_t n = strlen(d7);

        hmac_sha256_init(&c, kaa131, sizeof(kaa131));
        hmac_sha256_update(&c, d7, 10);
        hmac_sha256_update(&c, d7 + 10, 70);
        hmac_sha256_update(&c, d7 + 80, n - 80);
        hmac_sha256_final(&c, mac);
        hmac_sha256_hex(mac, sizeof(mac), hex);
        tap_ok(t, !strcmp(hex, v[6].hex), "RFC 4231 test case 7, incremental");
    }
    /* A 64-byte key is used as is, a 65-byte one hashed: they must differ from each other. */
    {
        uint8_t k[65], m1[SHA256_DIGEST_SIZE], m2[SHA256_DIGEST_SIZE];

        memset(k, 'k', sizeof(k));
        hmac_sha256(k, 64, "x", 1, m1);
        hmac_sha256(k, 65, "x", 1, m2);
        tap_ok(t, memcmp(m1, m2, sizeof(m1)) != 0, "64- and 65-byte keys give different MACs");
        hmac_sha256(NULL, 0, NULL, 0, m1);
        hmac_sha256_hex(m1, sizeof(m1), hex);
        tap_ok(t, !strcmp(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
               "HMAC with an empty key and empty data");
    }
}

static void test_hex(struct tap *t)
{
    const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];

    hmac_sha256_hex(in, sizeof(in), out);
    tap_ok(t, !strcmp(out, "000fa5ff"), "hex is lowercase, two digits a byte, NUL-terminated");
    hmac_sha256_hex(in, 0, out);
    tap_ok(t, out[0] == '\0', "hex of nothing is the empty string");
}

int main(void)
{
    struct tap t = {0};

    test_nist(&t);
    test_boundaries(&t);
    test_rfc4231(&t);
    test_hex(&t);
    return tap_done(&t);
}
