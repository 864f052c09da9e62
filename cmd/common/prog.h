/* What the five programs share: one table of exit statuses (hr(7) lists
 * it), the hr_status to exit status mapping, "PROGRAM: message" lines on
 * standard error, --version, and JSON strings on a stream. Helpers print
 * and return; only main chooses the exit status. */
#ifndef HR_PROG_H
#define HR_PROG_H

#include "hr.h"

#include <stdio.h>
#include <sysexits.h>

/* The exit statuses: sysexits(3)'s (EX_USAGE 64, EX_DATAERR 65,
 * EX_NOINPUT 66, EX_UNAVAILABLE 69, EX_SOFTWARE 70, EX_IOERR 74, EX_CONFIG
 * 78) for errors, and two answers that are not errors. hr(7) lists what
 * each means for each program. */
enum {
    PROG_FAILED = 1,    /* hr-verify: a check failed; hr-patch-auth: the change failed, nothing changed */
    PROG_NOT_ROUTED = 3 /* hr-patch-auth --status: not all traffic goes through the proxy */
};

/* The program's name for every message; set once, first thing in main. */
void prog_init(const char *program);
const char *prog_name(void);

/* "PROGRAM: message" on standard error, one line: an error, a warning or
 * what a server does. */
void prog_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* prog_msg's line, then status, for main's "return prog_fail(...)". */
int prog_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What an option parser returns when it answered -h or -V: main exits 0
 * with nothing else done. Never an exit status itself. */
#define PROG_ANSWERED (-1)

/* "PROGRAM VERSION" on standard output, for --version. */
void prog_version(void);

/* The exit status for a libhr error on the input: bad JSON or not a
 * request 65, a scorer that cannot start 78, out of memory and the rest 70. */
int prog_exit_for(hr_status st);

/* text as a JSON string (quoted, escaped by libhr's encoder), or null. */
void prog_json_string(FILE *f, const char *text);
void prog_json_string_or_null(FILE *f, const char *text);

#endif
