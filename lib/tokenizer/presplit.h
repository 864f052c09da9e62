/* Helpers shared by the pre-splitters: reading one code point with its class,
 * and the parts of the two patterns that are the same. */
#ifndef HR_PRESPLIT_H
#define HR_PRESPLIT_H

#include "unicode/unicode.h"

struct hr_ch {
    uint32_t cp;
    size_t len;
    enum hr_uc_class cls;
};

static inline struct hr_ch hr_ch_at(const unsigned char *s, size_t i)
{
    struct hr_ch c;
    if (s[i] < 0x80) {
        c.cp = s[i];
        c.len = 1;
    } else {
        c.cp = hr_utf8_decode_valid(s + i, &c.len);
    }
    c.cls = hr_uc_class_of(c.cp);
    return c;
}

static inline int hr_is_letter(enum hr_uc_class k)
{
    return k == HR_UC_UPPER || k == HR_UC_LOWER || k == HR_UC_LETTER_OTHER;
}

static inline int hr_is_crlf(uint32_t cp)
{
    return cp == '\r' || cp == '\n';
}

/* Length of the contraction after an apostrophe at s[i - 1], matching
 * (?i:'s|'t|'re|'ve|'m|'ll|'d) with simple case folding (U+017F folds to s);
 * 0 when none matches. */
size_t hr__contraction_len(const unsigned char *s, size_t n, size_t i);

/* \p{N}{1,3} after the number at s[i] of `len` bytes: where it ends. */
size_t hr__split_digits(const unsigned char *s, size_t n, size_t i, size_t len);

/* The whitespace alternatives both patterns end with:
 * \s*[\r\n]+ | \s+(?!\S) | \s+ ; s[i] is whitespace. */
size_t hr__split_whitespace(const unsigned char *s, size_t n, size_t i);

#endif
