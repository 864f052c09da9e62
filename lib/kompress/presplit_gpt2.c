/* Pre-splitter of GPT-2's byte-level BPE (Hugging Face's ByteLevel
 * pre-tokenizer with use_regex, as ModernBERT's tokenizer.json has it):
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * under leftmost-first alternation. Unlike cl100k's, the contractions are
 * case-sensitive and digits run on without a limit. */
#include "kompress/kompress.h"
#include "tokenizer/presplit.h"

#include <string.h>

static size_t contraction_len(const unsigned char *s, size_t n, size_t i)
{
    static const char *const forms[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        size_t m = strlen(forms[k]);
        if (i + m <= n && !memcmp(s + i, forms[k], m)) return m;
    }
    return 0;
}

/* 0: letter, 1: number, 2: other (not space) */
static int run_class(enum hr_uc_class k)
{
    return hr_is_letter(k) ? 0 : k == HR_UC_NUMBER ? 1 : 2;
}

size_t hr__presplit_gpt2(const unsigned char *s, size_t n, size_t i)
{
    size_t m = contraction_len(s, n, i);
    if (m) return i + m;
    size_t j = i;
    if (s[i] == ' ' && i + 1 < n && hr_ch_at(s, i + 1).cls != HR_UC_SPACE) j = i + 1;
    struct hr_ch c = hr_ch_at(s, j);
    if (c.cls != HR_UC_SPACE) {
        int k = run_class(c.cls);
        j += c.len;
        while (j < n) {
            struct hr_ch d = hr_ch_at(s, j);
            if (d.cls == HR_UC_SPACE || run_class(d.cls) != k) break;
            j += d.len;
        }
        return j;
    }
    /* \s+(?!\S) | \s+ : a run of spaces gives its last one to what follows */
    size_t last = i;
    while (j < n) {
        struct hr_ch d = hr_ch_at(s, j);
        if (d.cls != HR_UC_SPACE) break;
        last = j;
        j += d.len;
    }
    return j < n && last > i ? last : j;
}
