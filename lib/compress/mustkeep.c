/* What an agent cannot reconstruct once dropped: error and warning lines,
 * identifiers, hashes, paths, URLs, flags, error codes, numbers. The
 * compressors ask hr__features() which of these a piece of text holds. */
#include "compress/compress_internal.h"

#include <string.h>

/* Sorted, lower case; with the states of failed Kubernetes pods and
 * unmet npm dependencies. */
static const char *const severity_words[] = {
    "abort",
    "aborted",
    "assert",
    "assertion",
    "crash",
    "crashed",
    "crashloopbackoff",
    "critical",
    "denied",
    "err",
    "errimagepull",
    "error",
    "errors",
    "evicted",
    "exception",
    "fail",
    "failed",
    "failing",
    "failure",
    "failures",
    "fatal",
    "forbidden",
    "imagepullbackoff",
    "invalid",
    "killed",
    "oomkilled",
    "panic",
    "panicked",
    "refused",
    "segfault",
    "timeout",
    "traceback",
    "truncated",
    "unauthorized",
    "uncaught",
    "unhandled",
    "unhealthy",
    "unmet",
    "warn",
    "warning",
    "warnings",
};

static int in_sorted(const char *const *list, size_t n, const char *w)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(w, list[mid]);
        if (!c) return 1;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return 0;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n > k && !memcmp(s + n - k, suffix, k);
}

static int is_severity_word(const char *s, size_t n)
{
    char low[24];
    /* ValueError, NullPointerException, ... */
    if (ends_with(s, n, "Error") || ends_with(s, n, "Exception")) return 1;
    if (n < 3 || n >= sizeof low) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c < 'a' || c > 'z') return 0;
        low[i] = c;
    }
    low[n] = '\0';
    return in_sorted(severity_words, sizeof severity_words / sizeof severity_words[0], low);
}

int hr__has_severity(const char *s, size_t n)
{
    size_t i = 0, ws, wl;
    while ((i = hr__next_word(s, n, i, &ws, &wl)), wl)
        if (is_severity_word(s + ws, wl)) return 1;
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static int is_alpha(char c)
{
    return is_upper(c) || is_lower(c);
}
static int is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

/* A word: features visible inside it alone. */
static unsigned word_features(const char *w, size_t n)
{
    unsigned f = 0;
    size_t digits = 0, hex = 0, upper = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        digits += is_digit(w[i]);
        hex += is_hex(w[i]);
        upper += is_upper(w[i]);
        letters += is_alpha(w[i]);
    }
    if (digits) f |= HR_F_NUMBER;
    if (n >= 7 && hex == n && digits && digits < n) f |= HR_F_HASH;
    if (n >= 3 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') && hex == n - 1) f |= HR_F_HASH;
    if (n >= 4 && w[0] == 'E' && digits == n - 1) f |= HR_F_ERRCODE;            /* E0308 */
    if (n >= 5 && w[0] == 'E' && upper == n && letters == n) f |= HR_F_ERRCODE; /* ENOENT */
    if (n >= 4 && upper + digits + (n - letters - digits) == n && upper >= 2 && memchr(w, '_', n))
        f |= HR_F_ERRCODE; /* ERR_SSL_PROTOCOL */
    for (size_t i = 1; i + 1 < n; i++)
        if (w[i] == '_' && is_alnum(w[i - 1]) && is_alnum(w[i + 1])) f |= HR_F_IDENT;
    for (size_t i = 1; i < n; i++)
        if (is_upper(w[i]) && is_lower(w[i - 1])) f |= HR_F_IDENT;
    if (is_severity_word(w, n)) f |= HR_F_SEVERITY;
    return f;
}

/* 8-4-4-4-12 hex digits at t[0..). */
static int is_uuid_at(const char *t, size_t n)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, i++)
            if (i >= n || !is_hex(t[i])) return 0;
        if (g < 4 && (i >= n || t[i++] != '-')) return 0;
    }
    return 1;
}

/* A whitespace-separated token: features that span punctuation. */
static unsigned token_features(const char *t, size_t n)
{
    unsigned f = 0;
    for (size_t i = 0; i + 36 <= n; i++)
        if (is_hex(t[i]) && (i == 0 || !is_hex(t[i - 1])) && is_uuid_at(t + i, n - i)) f |= HR_F_UUID;
    for (size_t i = 0; i + 3 <= n; i++)
        if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/') f |= HR_F_URL;
    if (n >= 3 && t[0] == '-' && t[1] == '-' && is_alpha(t[2])) f |= HR_F_FLAG;
    if (n >= 2 && n <= 4 && t[0] == '-' && is_alpha(t[1])) f |= HR_F_FLAG;
    for (size_t i = 0; i + 1 < n; i++) {
        if (t[i] == '/' && (is_alnum(t[i + 1]) || t[i + 1] == '_' || t[i + 1] == '.') &&
            (i == 0 || is_alnum(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '.' || t[i - 1] == '~'))
            f |= HR_F_PATH;
        /* name.ext: a letter after the dot, a word character before it */
        if (t[i] == '.' && i > 0 && is_alnum(t[i - 1]) && is_alpha(t[i + 1])) {
            size_t e = i + 1;
            while (e < n && is_alnum(t[e])) e++;
            if (e - i - 1 <= 5 && (e == n || !is_alnum(t[e]))) f |= HR_F_PATH;
        }
    }
    return f;
}

unsigned hr__features(const char *s, size_t n)
{
    unsigned f = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        size_t b = i;
        while (i < n && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        if (i > b) f |= token_features(s + b, i - b);
    }
    size_t ws, wl;
    i = 0;
    while ((i = hr__next_word(s, n, i, &ws, &wl)), wl) f |= word_features(s + ws, wl);
    return f;
}
