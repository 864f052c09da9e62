/* Character classes of Unicode 16.0 as the tokenizer's pre-split patterns see
 * them (\s, \p{L} split by case, \p{M}, \p{N}), and a strict UTF-8 reader. */
#ifndef HR_UNICODE_H
#define HR_UNICODE_H

#include <stddef.h>
#include <stdint.h>

enum hr_uc_class {
    HR_UC_OTHER = 0,
    HR_UC_SPACE,        /* White_Space: what \s means in the patterns */
    HR_UC_UPPER,        /* Lu, Lt */
    HR_UC_LOWER,        /* Ll */
    HR_UC_LETTER_OTHER, /* Lm, Lo */
    HR_UC_MARK,         /* Mn, Mc, Me */
    HR_UC_NUMBER,       /* Nd, Nl, No */
};

extern const uint8_t hr__uc_stage1[0x1100];
extern const uint8_t hr__uc_stage2[][256];

static inline enum hr_uc_class hr_uc_class_of(uint32_t cp)
{
    return (enum hr_uc_class)hr__uc_stage2[hr__uc_stage1[cp >> 8]][cp & 0xff];
}

/* Length of the valid UTF-8 prefix of s[0..n). */
size_t hr__utf8_valid_prefix(const unsigned char *s, size_t n);

/* Copies s[0..n) to out, replacing each maximal ill-formed subsequence with
 * U+FFFD (EF BF BD), as the WHATWG decoder, Node.js and Python's "replace" do.
 * out must hold 3 * n bytes. Returns the bytes written. */
size_t hr__utf8_sanitize(const unsigned char *s, size_t n, unsigned char *out);

/* Writes cp (a scalar value) as UTF-8 to out, which holds 4 bytes; returns
 * the bytes written. */
size_t hr__utf8_encode(uint32_t cp, unsigned char *out);

/* Decodes one code point from valid UTF-8 at s; stores its length in *len. */
static inline uint32_t hr_utf8_decode_valid(const unsigned char *s, size_t *len)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c < 0xe0) {
        *len = 2;
        return (uint32_t)(c & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (c < 0xf0) {
        *len = 3;
        return (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    }
    *len = 4;
    return (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or, when it is
 * ill-formed, minus the length of its maximal subpart. */
int hr__utf8_sequence_len(const unsigned char *s, size_t n);

/* The 1-based line and column of byte at in text[0..len); columns count
 * characters (UTF-8 lead bytes), as the error messages give them. */
void hr__utf8_line_column(const char *text, size_t len, size_t at, size_t *line, size_t *column);

#endif
