/* Status names, error messages and the library version. */
#include "errmsg.h"
#include "hr.h"

#include <stdarg.h>
#include <stdio.h>

const char *hr_strerror(hr_status status)
{
    switch (status) {
    case HR_OK: return "success";
    case HR_ENOMEM: return "out of memory";
    case HR_EINVAL: return "invalid argument";
    case HR_ENOTFOUND: return "not found";
    case HR_ERANGE: return "out of range";
    case HR_ESYNTAX: return "malformed JSON";
    case HR_EDEPTH: return "JSON nested too deeply";
    case HR_ETRUNCATED: return "input ends in the middle of a value";
    case HR_EUTF8: return "invalid UTF-8";
    case HR_ETOOBIG: return "input too large";
    case HR_ENOTREQUEST: return "not a recognised API request";
    case HR_EMODEL: return "the scorer's model cannot be loaded";
    case HR_EIO: return "a file could not be read or written";
    }
    return "unknown status";
}

const char *hr_version(void)
{
    return HR_VERSION;
}

hr_status hr__errorf(char *err, size_t err_len, hr_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return st;
}
