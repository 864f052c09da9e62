/* Blank normalization: the blanks and tabs that end a line are cut, and a
 * run of two or more blank lines becomes one. Logs and command output say
 * nothing with that whitespace, and lines that differed only in it become
 * equal for lossless_log.c.
 *
 * A line ends at "\n" or at the end of the text. Its trailing ' ' and '\t'
 * go, those before the "\n" and then, when the line ends in "\r\n", those
 * before the "\r" too (so "a \r \n" becomes "a\r\n" and a second pass
 * changes nothing). A blank line is one that is empty after that, "\r\n"
 * or "\n" aside; of a run of them the first stays. A last line without
 * "\n" keeps a lone "\r" it ends with as text. Nothing else changes. */
#include "compress/compress_internal.h"

#include <string.h>

/* Length of s[0..n) without its trailing blanks and tabs. */
static size_t trim_blanks(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return n;
}

/* The line at text[start..end) (its "\n" excluded; has_nl: one follows)
 * written trimmed; *blank says whether it was blank. */
static hr_status put_line(const char *text, size_t start, size_t end, int has_nl, int after_blank, int *blank,
                          hr_buf *out)
{
    size_t body = trim_blanks(text + start, end - start);
    int cr = has_nl && body > 0 && text[start + body - 1] == '\r';
    if (cr) body = trim_blanks(text + start, body - 1);
    *blank = body == 0;
    if (*blank && after_blank) return HR_OK;
    if (hr_buf_append(out, text + start, body)) return HR_ENOMEM;
    const char *eol = cr ? "\r\n" : has_nl ? "\n" : "";
    return hr_buf_append(out, eol, strlen(eol));
}

hr_status hr__lossless_blank(const char *text, size_t len, hr_buf *out)
{
    int after_blank = 0;
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        int blank;
        if (put_line(text, start, end, nl != NULL, after_blank, &blank, out)) return HR_ENOMEM;
        after_blank = blank;
        start = nl ? end + 1 : len;
    }
    return HR_OK;
}
