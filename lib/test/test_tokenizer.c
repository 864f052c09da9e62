/* Unit tests of the tokenizer internals: the two BPE merge strategies agree,
 * counting agrees with encoding, special tokens, invalid UTF-8, model names.
 * Token-id parity with tiktoken itself is scripts/node/parity.mjs. */
#include "hr.h"
#include "tokenizer/tokenizer_internal.h"
#include "unicode/unicode.h"
#include "unit.h"

#include <stdatomic.h>
#include <stdlib.h>

static unsigned seed = 12345;
static unsigned next_rand(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

/* Pieces made of random vocabulary tokens and random bytes: both strategies
 * must give the same ids, whatever the length. */
static void test_merge_strategies_agree(void)
{
    const char *encs[] = {"cl100k_base", "o200k_base"};
    for (int e = 0; e < 2; e++) {
        const struct hr_vocab *v = hr__vocab_get(encs[e]);
        struct hr_bpe_scratch sc = {0};
        unsigned char piece[128];
        uint32_t a[128], b[128];
        for (int round = 0; round < 20000; round++) {
            size_t n = 0, want = 2 + next_rand() % 127;
            while (n < want) {
                if (next_rand() % 4 == 0) {
                    piece[n++] = (unsigned char)next_rand();
                } else {
                    uint32_t r = next_rand() % v->n_ranks;
                    size_t len = v->offsets[r + 1] - v->offsets[r];
                    if (n + len > want) len = want - n;
                    memcpy(piece + n, v->bytes + v->offsets[r], len);
                    n += len;
                }
            }
            size_t na = hr__bpe_merge_scan(v, piece, n, a);
            size_t nb = hr__bpe_merge_buckets(v, &sc, piece, n, b);
            CHECK_EQ_U(na, nb);
            if (na == nb && memcmp(a, b, na * sizeof *a)) {
                printf("  %s: ids differ on a %zu-byte piece (round %d)\n", encs[e], n, round);
                unit_failed_checks++;
            }
            if (unit_failed_checks) break;
        }
        hr__bpe_scratch_free(&sc);
    }
}

/* Counting remembers the pieces of several tokens it has seen: on text that
 * repeats such pieces (words, paths, ids) over and over, cold and warm,
 * the count is still the number of ids encoding gives. */
static void test_count_of_repeated_pieces(void)
{
    hr_tokenizer *t;
    CHECK_EQ_U(hr_tokenizer_new("cl100k_base", &t), HR_OK);
    static char words[400][40];
    for (int w = 0; w < 400; w++) {
        size_t len = 3 + next_rand() % 34;
        for (size_t i = 0; i < len; i++)
            words[w][i] = (char)(next_rand() % 4 ? 'a' + next_rand() % 26 : '0' + next_rand() % 10);
        words[w][len] = '\0';
    }
    hr_buf text = HR_BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        const char *w = words[next_rand() % 400];
        hr_buf_append(&text, " ", 1);
        hr_buf_append(&text, w, strlen(w));
        if (i % 13 == 0) hr_buf_append(&text, "\n", 1);
    }
    size_t cap = text.len + 1, k = 0, cold = 0, warm = 0;
    uint32_t *ids = malloc(cap * sizeof *ids);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &cold), HR_OK);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &warm), HR_OK);
    CHECK_EQ_U(hr_tokenizer_encode(t, text.data, text.len, 0, ids, cap, &k), HR_OK);
    CHECK_EQ_U(cold, k);
    CHECK_EQ_U(warm, k);
    CHECK(k > text.len / 8);
    free(ids);
    hr_buf_free(&text);
    hr_tokenizer_free(t);
}

/* The compressor's tokenizer merges a piece longer than its window window
 * by window: the bytes all come back, the count stays within a token or two
 * per cut of the exact one, text of ordinary pieces counts exactly, and the
 * cancel flag stops it. */
static void test_bounded_pieces(void)
{
    hr_tokenizer *t;
    CHECK_EQ_U(hr_tokenizer_new("o200k_base", &t), HR_OK);
    static const char *letters[] = {"a", "b", "k", "Q", "z", "\xc3\xa9", "\xc3\x9f", "\xe6\x97\xa5", "\xd0\x96"};
    hr_buf text = HR_BUF_INIT;
    hr_buf_append(&text, "head ", 5);
    while (text.len < 700000) {
        const char *l = letters[next_rand() % 9];
        hr_buf_append(&text, l, strlen(l));
    }
    hr_buf_append(&text, " tail\n", 6);
    size_t exact = 0, bounded = 0, n = 0, cap = text.len;
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &exact), HR_OK);
    const size_t window = 64 << 10;
    hr__tokenizer_bound(t, window, NULL);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &bounded), HR_OK);
    size_t cuts = text.len / window + 1;
    CHECK(bounded + 2 * cuts >= exact && bounded <= exact + 2 * cuts);
    CHECK(bounded != 0);
    uint32_t *ids = malloc(cap * sizeof *ids);
    CHECK_EQ_U(hr_tokenizer_encode(t, text.data, text.len, 0, ids, cap, &n), HR_OK);
    CHECK_EQ_U(n, bounded);
    hr_buf back = HR_BUF_INIT;
    for (size_t i = 0; i < n && i < cap; i++) {
        const char *b;
        size_t len;
        if (hr_tokenizer_token_bytes(t, ids[i], &b, &len) == HR_OK) hr_buf_append(&back, b, len);
    }
    CHECK(back.len == text.len && !memcmp(back.data, text.data, text.len));

    /* ordinary text: every piece under the window, the count is exact */
    hr_buf plain = HR_BUF_INIT;
    for (int i = 0; i < 5000; i++) hr_buf_append(&plain, " word12 caf\xc3\xa9 {\"k\": 3}\n", 23);
    size_t a = 0, b = 0;
    hr__tokenizer_bound(t, 0, NULL);
    CHECK_EQ_U(hr_tokenizer_count(t, plain.data, plain.len, 0, &a), HR_OK);
    hr__tokenizer_bound(t, window, NULL);
    CHECK_EQ_U(hr_tokenizer_count(t, plain.data, plain.len, 0, &b), HR_OK);
    CHECK_EQ_U(b, a);

    /* the cancel flag: between pieces and between windows */
    atomic_int cancel = 1;
    hr__tokenizer_bound(t, window, &cancel);
    CHECK_EQ_U(hr_tokenizer_count(t, plain.data, plain.len, 0, &b), HR_ECANCELED);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &b), HR_ECANCELED);
    atomic_store(&cancel, 0);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &b), HR_OK);
    CHECK_EQ_U(b, bounded);

    /* scratch given back is made again when needed */
    hr__tokenizer_trim(t, 0);
    CHECK_EQ_U(hr_tokenizer_count(t, text.data, text.len, 0, &b), HR_OK);
    CHECK_EQ_U(b, bounded);
    free(ids);
    hr_buf_free(&back);
    hr_buf_free(&plain);
    hr_buf_free(&text);
    hr_tokenizer_free(t);
}

/* Decoding the ids of any text gives back its (UTF-8-cleaned) bytes. */
static void test_round_trip_and_count(void)
{
    hr_tokenizer *t;
    CHECK_EQ_U(hr_tokenizer_new("o200k_base", &t), HR_OK);
    char text[4096];
    for (int round = 0; round < 300; round++) {
        size_t n = next_rand() % sizeof text;
        for (size_t i = 0; i < n; i++) text[i] = (char)(next_rand() % 3 ? ' ' + next_rand() % 95 : next_rand());
        uint32_t ids[4096];
        size_t k = 0, c = 0;
        CHECK_EQ_U(hr_tokenizer_encode(t, text, n, 0, ids, 4096, &k), HR_OK);
        CHECK_EQ_U(hr_tokenizer_count(t, text, n, 0, &c), HR_OK);
        CHECK_EQ_U(c, k);
        hr_buf back = HR_BUF_INIT;
        for (size_t i = 0; i < k; i++) {
            const char *bytes;
            size_t len;
            CHECK_EQ_U(hr_tokenizer_token_bytes(t, ids[i], &bytes, &len), HR_OK);
            hr_buf_append(&back, bytes, len);
        }
        unsigned char *clean = malloc(3 * n + 1);
        size_t cn = hr__utf8_sanitize((const unsigned char *)text, n, clean);
        CHECK(back.len == cn && (!cn || !memcmp(back.data, clean, cn)));
        free(clean);
        hr_buf_free(&back);
        if (unit_failed_checks) break;
    }
    hr_tokenizer_free(t);
}

static void test_special_tokens(void)
{
    hr_tokenizer *t;
    uint32_t ids[16];
    size_t n;
    const char *s = "a<|endoftext|>b";
    CHECK_EQ_U(hr_tokenizer_new("cl100k_base", &t), HR_OK);
    CHECK_EQ_U(hr_tokenizer_encode(t, s, strlen(s), HR_ALLOW_SPECIAL, ids, 16, &n), HR_OK);
    CHECK_EQ_U(n, 3);
    CHECK_EQ_U(ids[1], 100257);
    CHECK_EQ_U(hr_tokenizer_encode(t, s, strlen(s), 0, ids, 16, &n), HR_OK);
    CHECK(n > 3);
    for (size_t i = 0; i < n; i++) CHECK(ids[i] != 100257);
    CHECK_EQ_U(hr_tokenizer_encode(t, s, strlen(s), 0, ids, 2, &n), HR_ERANGE);
    CHECK(n > 3);
    CHECK_EQ_U(hr_tokenizer_encode(t, s, strlen(s), 0x80, ids, 16, &n), HR_EINVAL);
    hr_tokenizer_free(t);
    CHECK_EQ_U(hr_tokenizer_new("o200k_base", &t), HR_OK);
    CHECK_EQ_U(hr_tokenizer_encode(t, "<|endofprompt|>", 15, HR_ALLOW_SPECIAL, ids, 16, &n), HR_OK);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(ids[0], 200018);
    hr_tokenizer_free(t);
    CHECK_EQ_U(hr_tokenizer_new("p50k_base", &t), HR_ENOTFOUND);
}

/* Ill-formed UTF-8 is read as U+FFFD per maximal subpart. */
static void test_invalid_utf8(void)
{
    const struct {
        const char *in, *clean;
    } cases[] = {
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},
        {"\xe0\xa0", "\xef\xbf\xbd"},                             /* truncated: one subpart */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate: three */
        {"\xf0\x9f\x98", "\xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
    };
    hr_tokenizer *t;
    CHECK_EQ_U(hr_tokenizer_new("cl100k_base", &t), HR_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t a[16], b[16];
        size_t na, nb;
        CHECK_EQ_U(hr_tokenizer_encode(t, cases[i].in, strlen(cases[i].in), 0, a, 16, &na), HR_OK);
        CHECK_EQ_U(hr_tokenizer_encode(t, cases[i].clean, strlen(cases[i].clean), 0, b, 16, &nb), HR_OK);
        CHECK(na == nb && !memcmp(a, b, na * sizeof *a));
    }
    hr_tokenizer_free(t);
}

static void test_unicode_classes(void)
{
    CHECK_EQ_U(hr_uc_class_of(0x85), HR_UC_SPACE);
    CHECK_EQ_U(hr_uc_class_of(0xa0), HR_UC_SPACE);
    CHECK_EQ_U(hr_uc_class_of(0x180e), HR_UC_OTHER);
    CHECK_EQ_U(hr_uc_class_of(0xfeff), HR_UC_OTHER);
    CHECK_EQ_U(hr_uc_class_of(0x1c5), HR_UC_UPPER); /* Lt */
    CHECK_EQ_U(hr_uc_class_of(0x2b0), HR_UC_LETTER_OTHER);
    CHECK_EQ_U(hr_uc_class_of(0x301), HR_UC_MARK);
    CHECK_EQ_U(hr_uc_class_of(0x663), HR_UC_NUMBER);
    CHECK_EQ_U(hr_uc_class_of(0x216b), HR_UC_NUMBER); /* Nl */
    CHECK_EQ_U(hr_uc_class_of(0x10ffff), HR_UC_OTHER);
}

static void test_models(void)
{
    hr_model_encoding m;
    const struct {
        const char *model, *enc;
        int est;
    } cases[] = {
        {"gpt-4o", "o200k_base", 0},
        {"gpt-4o-mini-2024-07-18", "o200k_base", 0},
        {"gpt-4.1", "o200k_base", 0},
        {"gpt-5", "o200k_base", 0},
        {"o1", "o200k_base", 0},
        {"o3-mini", "o200k_base", 0},
        {"o4-mini", "o200k_base", 0},
        {"gpt-4", "cl100k_base", 0},
        {"gpt-4-turbo", "cl100k_base", 0},
        {"gpt-3.5-turbo", "cl100k_base", 0},
        {"claude-sonnet-4-5", "cl100k_base", 1},
        {"anthropic/claude-3-haiku", "cl100k_base", 1},
        {"openai/gpt-4o", "o200k_base", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_U(hr_model_lookup(cases[i].model, &m), HR_OK);
        CHECK_EQ_S(m.encoding, cases[i].enc);
        CHECK_EQ_U(m.is_estimate, cases[i].est);
    }
    CHECK_EQ_U(hr_model_lookup("llama-3", &m), HR_ENOTFOUND);
}

int main(void)
{
    RUN(test_merge_strategies_agree);
    RUN(test_round_trip_and_count);
    RUN(test_count_of_repeated_pieces);
    RUN(test_bounded_pieces);
    RUN(test_special_tokens);
    RUN(test_invalid_utf8);
    RUN(test_unicode_classes);
    RUN(test_models);
    return unit_any_failed;
}
