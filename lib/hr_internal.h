/* What hr's programs use of libhr beyond the public API of hr.h: the one
 * header cmd/ includes from the library. Linked from libhr.a, since libhr.so
 * exports only hr.h. Each declaration lives in its layer's header; this file
 * only gathers them, so a program's needs are visible in one place.
 * hr-patch-auth and hr-verify need nothing of it: they are built on hr.h
 * alone (the Makefile compiles them without -Ilib). */
#ifndef HR_INTERNAL_H
#define HR_INTERNAL_H

#include "hr.h"
#include "util/errmsg.h"             /* hr__errorf, hr__printable: one-line errors */
#include "util/file_io.h"            /* paths, whole-file reads, atomic writes */
#include "settings/route_settings.h" /* flag > HEADROOM_* > route.yaml > default */
#include "log/log_record.h"          /* the request log: its record, file, rotation and writer */

#endif
