/* NFC the way Unicode Standard Annex #15 defines it: full canonical
 * decomposition, canonical ordering of combining marks, then canonical
 * composition. Hangul syllables are computed, not looked up. */
#include "kompress/unicode_nfc.h"

#include "unicode/unicode.h"
#include "kompress/unicode_nfc_tables.h"

#include <stdlib.h>
#include <string.h>

enum {
    HANGUL_S = 0xAC00,
    HANGUL_L = 0x1100,
    HANGUL_V = 0x1161,
    HANGUL_T = 0x11A7,
    HANGUL_LCOUNT = 19,
    HANGUL_VCOUNT = 21,
    HANGUL_TCOUNT = 28,
    HANGUL_NCOUNT = HANGUL_VCOUNT * HANGUL_TCOUNT,
    HANGUL_SCOUNT = HANGUL_LCOUNT * HANGUL_NCOUNT,
    /* no canonical decomposition, Hangul's included, is longer */
    MAX_DECOMPOSITION = 4,
    /* a run of marks longer than this is ordered by counting, not by insertion */
    SHORT_RUN = 16,
};

/* Below U+0300 every code point is its own NFC and a starter. */
static int quick_stable(uint32_t cp)
{
    return cp < 0x300;
}

static int in_ranges(uint32_t cp, const struct hr_nfc_range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp > r[mid].hi) lo = mid + 1;
        else if (cp < r[mid].lo) hi = mid;
        else return 1;
    }
    return 0;
}

static unsigned combining_class(uint32_t cp)
{
    if (quick_stable(cp)) return 0;
    size_t lo = 0, hi = hr__nfc_n_classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp > hr__nfc_classes[mid].hi) lo = mid + 1;
        else if (cp < hr__nfc_classes[mid].lo) hi = mid;
        else return hr__nfc_classes[mid].ccc;
    }
    return 0;
}

int hr__nfc_is_stable(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp = hr_utf8_decode_valid(s + i, &len);
        if (!quick_stable(cp) && in_ranges(cp, hr__nfc_unstable, hr__nfc_n_unstable)) return 0;
        i += len;
    }
    return 1;
}

/* Writes cp's full canonical decomposition to out; returns its length. */
static size_t decompose(uint32_t cp, uint32_t *out)
{
    if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
        uint32_t s = cp - HANGUL_S, t = s % HANGUL_TCOUNT;
        out[0] = HANGUL_L + s / HANGUL_NCOUNT;
        out[1] = HANGUL_V + s % HANGUL_NCOUNT / HANGUL_TCOUNT;
        if (!t) return 2;
        out[2] = HANGUL_T + t;
        return 3;
    }
    size_t lo = 0, hi = quick_stable(cp) ? 0 : hr__nfc_n_decompositions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct hr_nfc_decomposition *d = &hr__nfc_decompositions[mid];
        if (cp > d->cp) lo = mid + 1;
        else if (cp < d->cp) hi = mid;
        else {
            memcpy(out, hr__nfc_pool + d->off, d->len * sizeof *out);
            return d->len;
        }
    }
    out[0] = cp;
    return 1;
}

/* The primary composite of first + second, or 0. */
static uint32_t compose(uint32_t first, uint32_t second)
{
    if (first >= HANGUL_L && first < HANGUL_L + HANGUL_LCOUNT && second >= HANGUL_V &&
        second < HANGUL_V + HANGUL_VCOUNT)
        return HANGUL_S + ((first - HANGUL_L) * HANGUL_VCOUNT + (second - HANGUL_V)) * HANGUL_TCOUNT;
    if (first >= HANGUL_S && first < HANGUL_S + HANGUL_SCOUNT && (first - HANGUL_S) % HANGUL_TCOUNT == 0 &&
        second > HANGUL_T && second < HANGUL_T + HANGUL_TCOUNT)
        return first + (second - HANGUL_T);
    size_t lo = 0, hi = hr__nfc_n_pairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct hr_nfc_pair *p = &hr__nfc_pairs[mid];
        if (first > p->first || (first == p->first && second > p->second)) lo = mid + 1;
        else if (first < p->first || second < p->second) hi = mid;
        else return p->composite;
    }
    return 0;
}

/* Stable sort of a run of marks by combining class. */
static void order_run(uint32_t *cp, uint8_t *cc, size_t n, uint32_t *tmp)
{
    if (n <= SHORT_RUN) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && cc[j - 1] > cc[j]; j--) {
                uint32_t c = cp[j];
                uint8_t k = cc[j];
                cp[j] = cp[j - 1], cc[j] = cc[j - 1];
                cp[j - 1] = c, cc[j - 1] = k;
            }
        return;
    }
    size_t start[257] = {0};
    for (size_t i = 0; i < n; i++) start[cc[i] + 1]++;
    for (unsigned k = 1; k <= 256; k++) start[k] += start[k - 1];
    for (size_t i = 0; i < n; i++) tmp[start[cc[i]]++] = cp[i];
    memcpy(cp, tmp, n * sizeof *cp);
    /* start[k] now ends class k's run: the sorted classes follow from it */
    size_t i = 0;
    for (unsigned k = 0; k < 256; k++)
        while (i < start[k]) cc[i++] = (uint8_t)k;
}

static void canonical_order(uint32_t *cp, uint8_t *cc, size_t n, uint32_t *tmp)
{
    for (size_t i = 0; i < n;) {
        if (!cc[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && cc[j]) j++;
        order_run(cp + i, cc + i, j - i, tmp);
        i = j;
    }
}

/* Canonical composition in place; returns the new length. A mark joins the
 * last starter unless a character between them has class 0 or a class at
 * least its own ("blocked"); a starter joins only the one right before it. */
static size_t canonical_compose(uint32_t *cp, const uint8_t *cc, size_t n)
{
    size_t w = 0, starter = SIZE_MAX;
    int last = -1; /* class of the last character kept after the starter; -1: none */
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        int k = cc[i];
        if (starter != SIZE_MAX && (last == -1 || (last != 0 && last < k))) {
            uint32_t joined = compose(cp[starter], c);
            if (joined) {
                cp[starter] = joined;
                continue;
            }
        }
        if (k == 0) {
            starter = w;
            last = -1;
        } else {
            last = k;
        }
        cp[w++] = c;
    }
    return w;
}

hr_status hr__nfc_append(const unsigned char *s, size_t n, hr_buf *out)
{
    if (hr__nfc_is_stable(s, n)) return hr_buf_append(out, s, n);
    /* an ASCII byte gives one code point; 2 or more bytes give at most
     * MAX_DECOMPOSITION */
    size_t cap = n / 2 * MAX_DECOMPOSITION + n + 1;
    uint32_t *cp = malloc(2 * cap * sizeof *cp);
    uint8_t *cc = malloc(cap);
    unsigned char *bytes = malloc(cap * 4);
    hr_status st = HR_ENOMEM;
    if (cp && cc && bytes) {
        size_t m = 0;
        for (size_t i = 0; i < n;) {
            size_t len;
            uint32_t c = hr_utf8_decode_valid(s + i, &len);
            m += decompose(c, cp + m);
            i += len;
        }
        for (size_t i = 0; i < m; i++) cc[i] = (uint8_t)combining_class(cp[i]);
        canonical_order(cp, cc, m, cp + cap);
        m = canonical_compose(cp, cc, m);
        size_t b = 0;
        for (size_t i = 0; i < m; i++) b += hr__utf8_encode(cp[i], bytes + b);
        st = hr_buf_append(out, bytes, b);
    }
    free(cp);
    free(cc);
    free(bytes);
    return st;
}
