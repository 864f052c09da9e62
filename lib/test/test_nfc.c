/* NFC against Unicode's own conformance test, NormalizationTest.txt of the
 * same Unicode version as the tables (Debian's unicode-data; t/t0100-unit.sh
 * unpacks it and names it in HR_NFC_TEST_FILE; without it the tests skip). Each line c1;c2;c3;c4;c5
 * requires c2 == NFC(c1) == NFC(c2) == NFC(c3) and c4 == NFC(c4) == NFC(c5);
 * every code point that part 1 does not list must be its own NFC. */
#include "unicode/unicode.h"
#include "kompress/unicode_nfc.h"
#include "kompress/unicode_nfc_tables.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

static size_t put_utf8(uint32_t cp, char *o)
{
    return hr__utf8_encode(cp, (unsigned char *)o);
}

/* A field of hex code points separated by spaces, as UTF-8. */
static size_t field_utf8(const char *f, char *out, uint32_t *first, size_t *count)
{
    size_t n = 0, k = 0;
    char *end;
    for (unsigned long cp = strtoul(f, &end, 16); end != f; cp = strtoul(f, &end, 16)) {
        if (k++ == 0) *first = (uint32_t)cp;
        n += put_utf8((uint32_t)cp, out + n);
        f = end;
    }
    *count = k;
    return n;
}

static int nfc_is(const char *in, size_t n, const char *want, size_t want_n)
{
    hr_buf out = {0};
    int same = hr__nfc_append((const unsigned char *)in, n, &out) == HR_OK && out.len == want_n &&
               (!want_n || !memcmp(out.data, want, want_n));
    /* what the quick check calls stable must come out unchanged */
    if (hr__nfc_is_stable((const unsigned char *)in, n) && (n != want_n || memcmp(in, want, n))) same = 0;
    hr_buf_free(&out);
    return same;
}

static FILE *open_test_file(void)
{
    const char *path = getenv("HR_NFC_TEST_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        printf("  NormalizationTest.txt not found (HR_NFC_TEST_FILE=%s): run the tests through make check\n",
               path ? path : "(unset)");
        unit_missing = "Debian's unicode-data (scripts/install-deps installs it)";
    }
    return f;
}

/* The header names the file's version; the tables must be of the same one. */
static int same_version(const char *line)
{
    char want[64];
    snprintf(want, sizeof want, "NormalizationTest-%s.txt", hr__nfc_unicode_version);
    if (strstr(line, want)) return 1;
    printf("  the test file is not Unicode %s (%.60s): regenerate lib/kompress/unicode_nfc_tables.c with "
           "scripts/gen-unicode-nfc.py\n",
           hr__nfc_unicode_version, line);
    unit_failed_checks++;
    return 0;
}

static void test_conformance(void)
{
    FILE *f = open_test_file();
    if (!f) return;
    static unsigned char listed[0x110000];
    char line[1024], col[5][256];
    size_t len[5], lines = 0, bad = 0;
    int part = -1;
    if (!fgets(line, sizeof line, f) || !same_version(line)) {
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '@') part = atoi(line + 5);
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        const char *p = line;
        uint32_t first = 0;
        size_t count = 0;
        for (int c = 0; c < 5; c++) {
            uint32_t cp = 0;
            size_t k = 0;
            len[c] = field_utf8(p, col[c], &cp, &k);
            if (c == 0) first = cp, count = k;
            p = strchr(p, ';');
            if (!p) break;
            p++;
        }
        if (!p) continue;
        if (part == 1 && count == 1) listed[first] = 1;
        int ok = nfc_is(col[0], len[0], col[1], len[1]) && nfc_is(col[1], len[1], col[1], len[1]) &&
                 nfc_is(col[2], len[2], col[1], len[1]) && nfc_is(col[3], len[3], col[3], len[3]) &&
                 nfc_is(col[4], len[4], col[3], len[3]);
        if (!ok && bad++ < 5) printf("  NFC differs on: %s", line);
        lines++;
    }
    fclose(f);
    size_t singles = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if ((cp >= 0xD800 && cp < 0xE000) || listed[cp]) continue;
        char u[4];
        size_t n = put_utf8(cp, u);
        if (!nfc_is(u, n, u, n) && bad++ < 5) printf("  NFC changes U+%04X, which part 1 does not list\n", cp);
        singles++;
    }
    printf("  %zu lines, %zu unlisted code points\n", lines, singles);
    CHECK(lines > 15000);
    CHECK_EQ_U(bad, 0);
}

/* A run of marks longer than the insertion sort takes: ordered by counting,
 * stably, and the first acute still joins the a. */
static void test_long_mark_run(void)
{
    char in[1 + 100 * 2 * 2], want[2 + 50 * 2 + 49 * 2];
    size_t n = 0, w = 0;
    in[n++] = 'a';
    for (int i = 0; i < 50; i++) n += put_utf8(0x301, in + n), n += put_utf8(0x316, in + n);
    w += put_utf8(0xE1, want + w);
    for (int i = 0; i < 50; i++) w += put_utf8(0x316, want + w);
    for (int i = 0; i < 49; i++) w += put_utf8(0x301, want + w);
    CHECK(nfc_is(in, n, want, w));
    CHECK(!hr__nfc_is_stable((const unsigned char *)in, n));
}

int main(void)
{
    RUN(test_conformance);
    RUN(test_long_mark_run);
    return unit_any_failed;
}
