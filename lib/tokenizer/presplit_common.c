/* Pattern pieces shared by the cl100k_base and o200k_base pre-splitters. */
#include "tokenizer/presplit.h"

size_t hr__contraction_len(const unsigned char *s, size_t n, size_t i)
{
    if (i >= n) return 0;
    unsigned c = s[i] | 0x20; /* ASCII case fold; only letters are compared below */
    unsigned d = i + 1 < n ? (s[i + 1] | 0x20u) : 0;
    if (s[i] == 0xc5 && i + 1 < n && s[i + 1] == 0xbf) return 2; /* U+017F LONG S */
    switch (c) {
    case 's':
    case 't':
    case 'm':
    case 'd': return 1;
    case 'r':
    case 'v': return d == 'e' ? 2 : 0;
    case 'l': return d == 'l' ? 2 : 0;
    default: return 0;
    }
}

size_t hr__split_whitespace(const unsigned char *s, size_t n, size_t i)
{
    size_t end = i, last_start = i, chars = 0;
    while (end < n) {
        struct hr_ch c = hr_ch_at(s, end);
        if (c.cls != HR_UC_SPACE) break;
        last_start = end;
        end += c.len;
        chars++;
    }
    /* \s*[\r\n]+ : up to the last CR or LF of the run (bytes 0x0a and 0x0d
     * never occur inside a multi-byte sequence). */
    for (size_t k = end; k > i; k--)
        if (s[k - 1] == '\r' || s[k - 1] == '\n') return k;
    /* \s+(?!\S) : the whole run at the end of the text, else all but the
     * last character when that leaves at least one. */
    if (end == n) return end;
    if (chars >= 2) return last_start;
    return end; /* \s+ */
}

size_t hr__split_digits(const unsigned char *s, size_t n, size_t i, size_t len)
{
    size_t j = i + len;
    for (int k = 1; k < 3 && j < n; k++) {
        struct hr_ch c = hr_ch_at(s, j);
        if (c.cls != HR_UC_NUMBER) break;
        j += c.len;
    }
    return j;
}
