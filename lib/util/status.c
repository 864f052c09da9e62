/* Status names, error messages and the library version. */
#include "util/errmsg.h"
#include "hr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    case HR_ECANCELED: return "cancelled";
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

void hr__printable(char *msg, size_t cap)
{
    size_t n = strlen(msg), controls = 0;
    for (size_t i = 0; i < n; i++) controls += (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f;
    if (!controls) return;
    char *copy = malloc(n + 1);
    if (!copy) { /* no room to say them: blanks then */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f) msg[i] = ' ';
        return;
    }
    memcpy(copy, msg, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)copy[i];
        if (c >= 0x20 && c != 0x7f) {
            msg[k++] = (char)c;
            continue;
        }
        if (k + 5 >= cap) break;
        snprintf(msg + k, 5, "\\x%02x", c);
        k += 4;
    }
    msg[k] = '\0';
    free(copy);
}
