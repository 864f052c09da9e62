/* Search results (grep -n, ripgrep, git grep), re-encoded without loss:
 * the path of "path:N:text" match lines and "path-N-text" context lines
 * is written once, on a line of its own, above the lines that share it:
 *
 *     lib/buf.c
 *       12: text          for lib/buf.c:12:text
 *       13- text          for lib/buf.c-13-text
 *
 * Only when every line is a match line, a context line (as
 * hr__search_path_len() reads them), "--", or a "[hr: ...]" marker, and
 * only when the result is shorter; otherwise the text stays as it is.
 *
 * Decoding: a line that starts with two spaces, digits, ':' or '-', and a
 * space is a line of the current path: path, the separator, the digits,
 * the separator again, then the rest of the line as it is (its ending
 * included). "--" (before its "\n" or "\r\n") and lines starting with
 * "[hr:" are themselves. Any other line holds a path and its "\n": it
 * becomes the current path. A path never holds a space, so a path line is
 * never read as a line under it. Grouped text always holds a line of two
 * spaces and digits, which plain search output never does: text in which
 * every line is a match line, a context line, "--" or a marker is plain. */
#include "compress/compress_internal.h"

#include <string.h>

enum line_kind { LINE_OTHER, LINE_AS_IS, LINE_HIT };

/* What s[0..n) (a line with its ending) is; for a hit, the length of its
 * path (the separator is s[*path]) and where its text starts (after the
 * second separator). */
static enum line_kind classify(const char *s, size_t n, size_t *path, size_t *rest)
{
    size_t body = n;
    if (body > 0 && s[body - 1] == '\n') body--;
    if (body > 0 && s[body - 1] == '\r' && body < n) body--;
    if ((body == 2 && s[0] == '-' && s[1] == '-') || (n >= 4 && !memcmp(s, "[hr:", 4))) return LINE_AS_IS;
    size_t p = hr__search_path_len(s, n);
    if (p == 0) return LINE_OTHER;
    size_t d = p + 1;
    while (d < n && s[d] >= '0' && s[d] <= '9') d++;
    if (d == p + 1 || d >= n || s[d] != s[p]) return LINE_OTHER;
    *path = p;
    *rest = d + 1;
    return LINE_HIT;
}

/* A walk over the lines of a text, remembering the last hit's path. */
struct walk {
    const char *text;
    size_t len, pos;
    const char *prev_path; /* the path of the last hit; NULL before the first */
    size_t prev_len;
};

/* The next line: its start, length and kind; 0 at the end of the text.
 * *new_path tells whether a hit's path differs from the last hit's. */
static int next_line(struct walk *w, size_t *start, size_t *n, enum line_kind *kind, size_t *path, size_t *rest,
                     int *new_path)
{
    if (w->pos >= w->len) return 0;
    const char *s = w->text + w->pos;
    const char *nl = memchr(s, '\n', w->len - w->pos);
    *start = w->pos;
    *n = nl ? (size_t)(nl - s) + 1 : w->len - w->pos;
    w->pos += *n;
    *kind = classify(s, *n, path, rest);
    if (*kind == LINE_HIT) {
        *new_path = !w->prev_path || *path != w->prev_len || memcmp(s, w->prev_path, *path);
        w->prev_path = s;
        w->prev_len = *path;
    }
    return 1;
}

/* Bytes of the grouped form, or 0 when the text is not all search lines. */
static size_t grouped_size(const char *text, size_t len)
{
    struct walk w = {text, len, 0, NULL, 0};
    size_t start, n, path = 0, rest = 0, size = 0;
    enum line_kind kind;
    int new_path = 0;
    while (next_line(&w, &start, &n, &kind, &path, &rest, &new_path)) {
        if (kind == LINE_OTHER) return 0;
        if (kind == LINE_AS_IS) {
            size += n;
            continue;
        }
        if (new_path) size += path + 1;
        size += 2 + (rest - path - 2) + 2 + (n - rest); /* "  N: text" */
    }
    return size;
}

static hr_status put_grouped(const char *text, size_t len, hr_buf *out)
{
    struct walk w = {text, len, 0, NULL, 0};
    size_t start, n, path = 0, rest = 0;
    enum line_kind kind;
    int new_path = 0;
    while (next_line(&w, &start, &n, &kind, &path, &rest, &new_path)) {
        const char *s = text + start;
        if (kind != LINE_HIT) {
            if (hr_buf_append(out, s, n)) return HR_ENOMEM;
            continue;
        }
        if (new_path && (hr_buf_append(out, s, path) || hr_buf_append(out, "\n", 1))) return HR_ENOMEM;
        char sep[2] = {s[path], ' '};
        if (hr_buf_append(out, "  ", 2) || hr_buf_append(out, s + path + 1, rest - path - 2) ||
            hr_buf_append(out, sep, 2) || hr_buf_append(out, s + rest, n - rest))
            return HR_ENOMEM;
    }
    return HR_OK;
}

hr_status hr__lossless_search(const char *text, size_t len, hr_buf *out)
{
    size_t size = grouped_size(text, len);
    if (size == 0 || size >= len) return len ? hr_buf_append(out, text, len) : HR_OK;
    return put_grouped(text, len, out);
}
