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

/* Rewrites msg (a string in a buffer of cap bytes) so that it prints as one
 * harmless line: each control byte (below 0x20, and 0x7f) becomes "\xNN",
 * as far as cap allows. A setting's value or an input's byte quoted in a
 * message must not split the line or reach a terminal as an escape. */
void hr__printable(char *msg, size_t cap);

#endif
