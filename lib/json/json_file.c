/* A JSON file read and parsed, with the one-line "path:line:col: reason"
 * message the model loaders give for a broken file. */
#include "util/errmsg.h"
#include "util/file_io.h"
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

hr_status hr__json_load_file(const char *path, hr_buf *text, hr_json **doc, char *err, size_t err_len)
{
    *doc = NULL;
    if (hr__read_file(path, text)) {
        int e = errno;
        return hr__errorf(err, err_len,
                          e == ENOENT   ? HR_ENOTFOUND
                          : e == ENOMEM ? HR_ENOMEM
                                        : HR_EINVAL,
                          "%s: %s", path, strerror(e));
    }
    if (hr_json_new(doc)) return hr__errorf(err, err_len, HR_ENOMEM, "%s: out of memory", path);
    hr_json_set_max_depth(*doc, 64);
    if (hr_json_parse(*doc, text->data, text->len)) {
        size_t line, col;
        hr__utf8_line_column(text->data, text->len, hr_json_error_offset(*doc), &line, &col);
        return hr__errorf(err, err_len, HR_ESYNTAX, "%s:%zu:%zu: %s", path, line, col, hr_json_error_reason(*doc));
    }
    return HR_OK;
}

double hr__json_number(const hr_json *doc, hr_json_node v, const char *text)
{
    char tmp[64];
    size_t s = hr_json_start(doc, v), n = hr_json_end(doc, v) - s;
    if (n >= sizeof tmp) n = sizeof tmp - 1;
    memcpy(tmp, text + s, n);
    tmp[n] = '\0';
    return strtod(tmp, NULL);
}
