/* Pre-splitter of cl100k_base, equal to the regular expression
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * under leftmost-first alternation, written out by hand for speed and for
 * exact Unicode 16 classes. */
#include "tokenizer/presplit.h"
#include "tokenizer/tokenizer_internal.h"

static size_t letters_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        struct hr_ch c = hr_ch_at(s, i);
        if (!hr_is_letter(c.cls)) break;
        i += c.len;
    }
    return i;
}

/* [^\s\p{L}\p{N}]+[\r\n]* from i; s[i] is in the class. */
static size_t symbols_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        struct hr_ch c = hr_ch_at(s, i);
        if (c.cls == HR_UC_SPACE || c.cls == HR_UC_NUMBER || hr_is_letter(c.cls)) break;
        i += c.len;
    }
    while (i < n && (s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

static int is_symbol(enum hr_uc_class k)
{
    return k != HR_UC_SPACE && k != HR_UC_NUMBER && !hr_is_letter(k);
}

size_t hr__presplit_cl100k(const unsigned char *s, size_t n, size_t i)
{
    struct hr_ch c0 = hr_ch_at(s, i);
    if (c0.cp == '\'') {
        size_t m = hr__contraction_len(s, n, i + 1);
        if (m) return i + 1 + m;
    }
    if (hr_is_letter(c0.cls)) return letters_end(s, n, i);
    struct hr_ch c1 = {0, 0, HR_UC_OTHER};
    if (i + c0.len < n) c1 = hr_ch_at(s, i + c0.len);
    if (c0.cls != HR_UC_NUMBER && !hr_is_crlf(c0.cp) && c1.len && hr_is_letter(c1.cls))
        return letters_end(s, n, i + c0.len);
    if (c0.cls == HR_UC_NUMBER) return hr__split_digits(s, n, i, c0.len);
    if (c0.cp == ' ' && c1.len && is_symbol(c1.cls)) return symbols_end(s, n, i + 1);
    if (is_symbol(c0.cls)) return symbols_end(s, n, i);
    return hr__split_whitespace(s, n, i);
}
