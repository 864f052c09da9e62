/* What hr's programs use of libhr beyond the public API of hr.h: the one
 * header cmd/ includes from the library. Linked from libhr.a, since libhr.so
 * exports only hr.h. Each declaration lives in its layer's header; this file
 * only gathers them, so a program's needs are visible in one place. */
#ifndef HR_INTERNAL_H
#define HR_INTERNAL_H

#include "hr.h"
#include "util/errmsg.h"             /* hr__set_error, the one-line error convention */
#include "util/file_io.h"            /* paths, whole-file reads, atomic writes */
#include "util/grow.h"               /* growable arrays */
#include "util/sha256.h"             /* digests for the backup manifest */
#include "settings/route_settings.h" /* flag > HEADROOM_* > route.yaml > default */
#include "hermes/hermes.h"           /* Hermes's home, config.yaml, auth.json, the routed verdict */
#include "log/log_record.h"          /* the request log: its record, file, rotation, writer and reader */

#endif
