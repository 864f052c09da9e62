/* hr-compress settings: flags, then the environment, then route.yaml, as
 * libhr resolves them for every program. */
#ifndef HR_COMPRESS_SETTINGS_H
#define HR_COMPRESS_SETTINGS_H

#include "hr.h"

enum stats_mode { STATS_NONE, STATS_HUMAN, STATS_JSON };
enum { SETTINGS_OK, SETTINGS_HELP, SETTINGS_VERSION, SETTINGS_USAGE, SETTINGS_CONFIG };

struct settings {
    hr_compress_options opt;
    const char *path; /* the input; NULL: standard input */
    enum stats_mode stats;
    int fail_open;
    /* owned; opt.exact_tools, scorer, model_dir, kompress_backend point here */
    char *exact_tools, *scorer, *model_dir, *kompress_backend;
};

/* One of SETTINGS_*; on SETTINGS_USAGE / SETTINGS_CONFIG, err says why. */
int settings_load(struct settings *s, int argc, char **argv, char *err, size_t err_len);
void settings_free(struct settings *s);

#endif
