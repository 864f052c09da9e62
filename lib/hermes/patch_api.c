/* The entry points of hr-patch-auth's engine (include/hr.h, hr_patch_*),
 * and the output its parts print through (struct hr__patch_io): the report
 * is a stdio stream whose writes go to the caller's callback, so that the
 * parts print as a program would, and the caller decides where the text
 * goes. */
#define _GNU_SOURCE /* fopencookie */
#include "hermes/patch.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void emit(const struct hr__patch_io *io, hr_patch_stream stream, const char *text, size_t len)
{
    if (len) io->opt->write(io->opt->ctx, stream, text, len);
}

static ssize_t report_write(void *cookie, const char *buf, size_t len)
{
    const hr_patch_options *opt = cookie;
    if (len) opt->write(opt->ctx, HR_PATCH_REPORT, buf, len);
    return (ssize_t)len;
}

/* printf's text between before and after, malloc'd; NULL when out of
 * memory. */
static char *vformat(const char *before, const char *fmt, va_list ap, const char *after, size_t *len)
    __attribute__((format(printf, 2, 0)));

static char *vformat(const char *before, const char *fmt, va_list ap, const char *after, size_t *len)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    size_t lb = strlen(before), la = strlen(after);
    char *s = n < 0 ? NULL : malloc(lb + (size_t)n + la + 1);
    if (s) {
        memcpy(s, before, lb);
        vsnprintf(s + lb, (size_t)n + 1, fmt, again);
        memcpy(s + lb + (size_t)n, after, la + 1);
        *len = lb + (size_t)n + la;
    }
    va_end(again);
    return s;
}

void hr__patch_msg(struct hr__patch_io *io, const char *fmt, ...)
{
    va_list ap;
    size_t len;
    va_start(ap, fmt);
    char *line = vformat("", fmt, ap, "", &len);
    va_end(ap);
    if (line) emit(io, HR_PATCH_MESSAGE, line, len);
    else emit(io, HR_PATCH_MESSAGE, "out of memory", 13);
    free(line);
}

void hr__patch_say(struct hr__patch_io *io, const char *fmt, ...)
{
    va_list ap;
    size_t len;
    va_start(ap, fmt);
    char *line = vformat("  ", fmt, ap, "\n", &len);
    va_end(ap);
    if (line && io->opt->json) emit(io, HR_PATCH_NOTE, line, len);
    else if (line) fwrite(line, 1, len, io->out);
    free(line);
}

void hr__patch_json_string(FILE *f, const char *text)
{
    hr_buf b = HR_BUF_INIT;
    if (!hr_json_encode_string(&b, text, strlen(text)) && b.len) fwrite(b.data, 1, b.len, f);
    hr_buf_free(&b);
}

void hr__patch_json_string_or_null(FILE *f, const char *text)
{
    if (text) hr__patch_json_string(f, text);
    else fputs("null", f);
}

void hr_patch_options_init(hr_patch_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

/* The proxy URL as stored: http(s), nothing YAML or JSON would need to
 * quote, no trailing slash. */
static int proxy_url_ok(const char *url)
{
    size_t n = strlen(url);
    return hr__url_is_http(url) && !strpbrk(url, " \t\r\n\"'#,[]{}\\") && n && url[n - 1] != '/';
}

enum mode { APPLY, DRY_RUN, ROLLBACK, STATUS };

/* Runs one mode with the report stream open on opt's callback. */
static hr_status run(const hr_patch_options *opt, enum mode mode, int *all_routed)
{
    if (!opt || !opt->hermes_home || !opt->write || (opt->proxy_url && !proxy_url_ok(opt->proxy_url)) ||
        ((mode == APPLY || mode == DRY_RUN) && !opt->plugin_source))
        return HR_EINVAL;
    static const cookie_io_functions_t report = {.write = report_write};
    struct hr__patch_io io = {fopencookie((void *)opt, "w", report), opt};
    if (!io.out) return HR_ENOMEM;
    setvbuf(io.out, NULL, _IONBF, 0); /* each piece in order with the notes and errors */
    int rc = 0;
    switch (mode) {
    case APPLY: rc = hr__patch_do_apply(&io, opt, 0); break;
    case DRY_RUN: rc = hr__patch_do_apply(&io, opt, 1); break;
    case ROLLBACK: rc = hr__patch_do_rollback(&io, opt); break;
    case STATUS: rc = hr__patch_do_status(&io, opt, all_routed); break;
    }
    fclose(io.out);
    return rc ? HR_EIO : HR_OK;
}

hr_status hr_patch_apply(const hr_patch_options *opt)
{
    return run(opt, APPLY, NULL);
}

hr_status hr_patch_dry_run(const hr_patch_options *opt)
{
    return run(opt, DRY_RUN, NULL);
}

hr_status hr_patch_rollback(const hr_patch_options *opt)
{
    return run(opt, ROLLBACK, NULL);
}

hr_status hr_patch_status(const hr_patch_options *opt, int *all_routed)
{
    int routed = 0;
    hr_status st = run(opt, STATUS, &routed);
    if (all_routed) *all_routed = st ? 0 : routed;
    return st;
}
