/* hr-compress --stats and --json-stats, on standard error. */
#ifndef HR_COMPRESS_STATS_H
#define HR_COMPRESS_STATS_H

#include "hr.h"

void print_stats_human(const hr_compressor *c, const char *input);
void print_stats_json(const hr_compressor *c);

#endif
