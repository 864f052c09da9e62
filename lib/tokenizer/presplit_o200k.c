/* Pre-splitter of o200k_base, equal to the regular expression
 *   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *  |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *  |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with the backtracking of a leftmost-first regex engine worked out by hand.
 * "Upper" below is [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], "lower" is
 * [\p{Ll}\p{Lm}\p{Lo}\p{M}]; Lm, Lo and M belong to both. */
#include "tokenizer/presplit.h"
#include "tokenizer/tokenizer_internal.h"

#define NO_MATCH ((size_t)-1)

static int is_upperish(enum hr_uc_class k)
{
    return k == HR_UC_UPPER || k == HR_UC_LETTER_OTHER || k == HR_UC_MARK;
}

static int is_lowerish(enum hr_uc_class k)
{
    return k == HR_UC_LOWER || k == HR_UC_LETTER_OTHER || k == HR_UC_MARK;
}

/* [^\r\n\p{L}\p{N}] */
static int is_prefix(struct hr_ch c)
{
    return !hr_is_crlf(c.cp) && !hr_is_letter(c.cls) && c.cls != HR_UC_NUMBER;
}

/* [^\s\p{L}\p{N}] */
static int is_symbol(enum hr_uc_class k)
{
    return k != HR_UC_SPACE && k != HR_UC_NUMBER && !hr_is_letter(k);
}

static size_t lowers_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        struct hr_ch c = hr_ch_at(s, i);
        if (!is_lowerish(c.cls)) break;
        i += c.len;
    }
    return i;
}

static size_t with_contraction(const unsigned char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '\'') {
        size_t m = hr__contraction_len(s, n, i + 1);
        if (m) return i + 1 + m;
    }
    return i;
}

/* upper* lower+ contraction? from i. The greedy upper* gives back characters
 * until a lower-class one follows: the first try is the whole upper run, then
 * its last character that is also lower class (a single-character lower run,
 * since what follows it is neither). */
static size_t upper_star_lower_plus(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i, last_lower = NO_MATCH, last_lower_end = 0;
    while (j < n) {
        struct hr_ch c = hr_ch_at(s, j);
        if (!is_upperish(c.cls)) break;
        if (is_lowerish(c.cls)) {
            last_lower = j;
            last_lower_end = j + c.len;
        }
        j += c.len;
    }
    if (j < n && is_lowerish(hr_ch_at(s, j).cls)) return with_contraction(s, n, lowers_end(s, n, j));
    if (last_lower == NO_MATCH) return NO_MATCH;
    return with_contraction(s, n, last_lower_end);
}

/* upper+ lower* contraction? from i. */
static size_t upper_plus_lower_star(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        struct hr_ch c = hr_ch_at(s, j);
        if (!is_upperish(c.cls)) break;
        j += c.len;
    }
    if (j == i) return NO_MATCH;
    return with_contraction(s, n, lowers_end(s, n, j));
}

size_t hr__presplit_o200k(const unsigned char *s, size_t n, size_t i)
{
    struct hr_ch c0 = hr_ch_at(s, i);
    size_t after = i + c0.len, e;
    int prefixed = is_prefix(c0) && after < n;

    if (prefixed && (e = upper_star_lower_plus(s, n, after)) != NO_MATCH) return e;
    if ((e = upper_star_lower_plus(s, n, i)) != NO_MATCH) return e;
    if (prefixed && (e = upper_plus_lower_star(s, n, after)) != NO_MATCH) return e;
    if ((e = upper_plus_lower_star(s, n, i)) != NO_MATCH) return e;

    if (c0.cls == HR_UC_NUMBER) return hr__split_digits(s, n, i, after - i);
    size_t j = NO_MATCH;
    if (c0.cp == ' ' && after < n && is_symbol(hr_ch_at(s, after).cls)) j = after;
    else if (is_symbol(c0.cls)) j = i;
    if (j != NO_MATCH) {
        while (j < n) {
            struct hr_ch c = hr_ch_at(s, j);
            if (!is_symbol(c.cls)) break;
            j += c.len;
        }
        while (j < n && (s[j] == '\r' || s[j] == '\n' || s[j] == '/')) j++;
        return j;
    }
    return hr__split_whitespace(s, n, i);
}
