/* SHA-256 against the FIPS 180-2 example digests and sha256sum(1). */
#include "util/sha256.h"
#include "unit.h"

#include <stdlib.h>

static void test_fips_examples(void)
{
    char hex[65];
    hr__sha256_hex("abc", 3, hex);
    CHECK_EQ_S(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hr__sha256_hex("", 0, hex);
    CHECK_EQ_S(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hr__sha256_hex(two, strlen(two), hex);
    CHECK_EQ_S(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hr__sha256_hex(million, 1000000, hex);
    CHECK_EQ_S(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* Fed in two pieces split anywhere, and across the padding boundaries
 * (55, 56, 63, 64 bytes), the digest is the one-shot digest. */
static void test_pieces(void)
{
    unsigned char msg[200];
    for (int i = 0; i < 200; i++) msg[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 50; len <= 130; len++) {
        char want[65];
        hr__sha256_hex(msg, len, want);
        for (size_t cut = 0; cut <= len; cut += 13) {
            struct hr_sha256 s;
            unsigned char d[32];
            char got[65];
            hr__sha256_init(&s);
            hr__sha256_update(&s, msg, cut);
            hr__sha256_update(&s, msg + cut, len - cut);
            hr__sha256_final(&s, d);
            for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
            if (strcmp(got, want)) {
                printf("  length %zu cut at %zu: %s, one-shot %s\n", len, cut, got, want);
                unit_failed_checks++;
            }
        }
    }
}

/* The 200-byte message against sha256sum(1), an independent implementation. */
static void test_against_sha256sum(void)
{
    unsigned char msg[200];
    for (int i = 0; i < 200; i++) msg[i] = (unsigned char)(i * 7 + 3);
    char path[] = "/tmp/hr-sha256-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "wb");
    fwrite(msg, 1, sizeof msg, f);
    fclose(f);
    char cmd[128], want[65] = "";
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *out = popen(cmd, "r");
    if (out && fscanf(out, "%64s", want) != 1) want[0] = '\0';
    if (out) pclose(out);
    remove(path);
    char got[65];
    hr__sha256_hex(msg, sizeof msg, got);
    CHECK_EQ_S(got, want);
}

int main(void)
{
    RUN(test_fips_examples);
    RUN(test_pieces);
    RUN(test_against_sha256sum);
    return unit_any_failed;
}
