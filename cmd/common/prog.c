/* The helpers every program shares (prog.h): its name on each error line,
 * the exit status table's mapping, --version and JSON strings. */
#include "prog.h"

#include <stdarg.h>
#include <string.h>

static const char *program = "hr";

void prog_init(const char *name)
{
    program = name;
}

const char *prog_name(void)
{
    return program;
}

/* Locked, so that lines from hr-proxy's workers never interleave. */
static void vmsg(const char *fmt, va_list ap)
{
    flockfile(stderr);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void prog_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

int prog_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return status;
}

void prog_version(void)
{
    printf("%s %s\n", program, hr_version());
}

int prog_exit_for(hr_status st)
{
    switch (st) {
    case HR_OK: return EX_OK;
    case HR_ESYNTAX:
    case HR_ETRUNCATED:
    case HR_EUTF8:
    case HR_EDEPTH:
    case HR_ETOOBIG:
    case HR_ENOTREQUEST: return EX_DATAERR;
    case HR_EMODEL: return EX_CONFIG;
    default: return EX_SOFTWARE;
    }
}

void prog_json_string(FILE *f, const char *text)
{
    hr_buf b = HR_BUF_INIT;
    if (hr_json_encode_string(&b, text, strlen(text)) == HR_OK) fwrite(b.data, 1, b.len, f);
    hr_buf_free(&b);
}

void prog_json_string_or_null(FILE *f, const char *text)
{
    if (text) prog_json_string(f, text);
    else fputs("null", f);
}
