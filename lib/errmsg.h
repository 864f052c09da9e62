/* One-line error messages into a caller's buffer, for the internal calls
 * that report "what went wrong, where" as (char *err, size_t err_len). */
#ifndef HR_ERRMSG_H
#define HR_ERRMSG_H

#include "hr.h"

#include <stddef.h>

/* Formats the message into err[err_len] and returns st, so that a failure
 * reads "return hr__errorf(err, len, HR_EINVAL, "%s: ...", path);". */
hr_status hr__errorf(char *err, size_t err_len, hr_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
