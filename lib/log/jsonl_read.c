/* Reading files of JSON lines, one object per line, appended by a writer
 * that may have stopped mid-line: hr-proxy's request log and the
 * headroom-route plugin's record of each call. A line that is not a JSON
 * object is counted and skipped, never fatal. */
#include "json/json_internal.h"
#include "log/log_record.h"
#include "util/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Drops text's first line, newline included: the piece of one a read from
 * the middle of a file starts with. */
static void drop_first_line(hr_buf *text)
{
    char *nl = text->data ? memchr(text->data, '\n', text->len) : NULL;
    size_t drop = nl ? (size_t)(nl - text->data) + 1 : text->len;
    memmove(text->data, text->data + drop, text->len - drop);
    text->len -= drop;
    if (text->data) text->data[text->len] = '\0';
}

int hr__jsonl_load(const char *path, size_t tail, hr_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat sb;
    int err = fstat(fd, &sb) ? errno : 0;
    /* one byte more, so that a tail starting at a line's start keeps it */
    int cut = !err && tail && (unsigned long long)sb.st_size > tail;
    if (cut && lseek(fd, sb.st_size - (off_t)tail - 1, SEEK_SET) < 0) err = errno;
    if (!err) err = hr__read_fd(fd, out);
    close(fd);
    if (!err && cut) drop_first_line(out);
    return err;
}

struct lines {
    hr_json *doc;
    hr__jsonl_fn fn;
    void *ctx;
    size_t *not_json;
};

/* Returns nonzero when fn asked to stop. */
static int one_line(struct lines *l, const char *line, size_t len)
{
    if (!len) return 0;
    if (hr_json_parse(l->doc, line, len) || hr_json_type_of(l->doc, hr_json_root(l->doc)) != HR_JSON_OBJECT) {
        if (l->not_json) ++*l->not_json;
        return 0;
    }
    return l->fn(l->doc, hr_json_root(l->doc), line, l->ctx);
}

static void oldest_first(struct lines *l, const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (one_line(l, p, (size_t)(stop - p))) return;
        p = stop + 1;
    }
}

static void newest_first(struct lines *l, const char *text, size_t len)
{
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && text[start - 1] != '\n') start--;
        if (one_line(l, text + start, end - start)) return;
        end = start ? start - 1 : 0;
    }
}

hr_status hr__jsonl_each(const hr_buf *text, int newest, hr__jsonl_fn fn, void *ctx, size_t *not_json)
{
    struct lines l = {NULL, fn, ctx, not_json};
    if (hr_json_new(&l.doc)) return HR_ENOMEM;
    if (text->data && newest) newest_first(&l, text->data, text->len);
    else if (text->data) oldest_first(&l, text->data, text->data + text->len);
    hr_json_free(l.doc);
    return HR_OK;
}

void hr__jsonl_string(const hr_json *doc, hr_json_node obj, const char *key, char *out, size_t len)
{
    hr_json_node v = hr_json_get(doc, obj, key);
    hr_buf b = HR_BUF_INIT;
    out[0] = '\0';
    if (v != HR_JSON_NONE && hr_json_type_of(doc, v) == HR_JSON_STRING && !hr_json_string_decode(doc, v, &b) && b.data)
        snprintf(out, len, "%s", b.data);
    hr_buf_free(&b);
}

double hr__jsonl_number(const hr_json *doc, const char *line, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(doc, obj, key);
    if (v == HR_JSON_NONE || hr_json_type_of(doc, v) != HR_JSON_NUMBER) return 0;
    return hr__json_number(doc, v, line);
}
