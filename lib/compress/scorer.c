/* The scorer registry: compressors rank segments through one interface, and
 * the scorer behind it is chosen by name at run time. auto takes the Kompress
 * model when its folder is there and loads, else the lexical scorer. The
 * folder a caller leaves out is the settings layer's default
 * (hr__kompress_default_dir), never found here. */
#include "compress/compress_internal.h"
#include "settings/route_settings.h"
#include "util/errmsg.h"
#include "util/file_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A folder that looks like a model: auto tries it, and says so if it fails. */
static int model_present(const char *dir)
{
    char *path = hr__path_join(dir, "model.safetensors");
    int present = path && access(path, F_OK) == 0;
    free(path);
    return present;
}

static hr_status auto_scorer(const struct hr_scorer_request *rq, const char *dir, struct hr_scorer **out, char *note,
                             size_t note_len)
{
    if (dir && model_present(dir)) {
        char why[HR_SCORER_ERR];
        if (!hr__scorer_kompress_new(dir, rq, out, why, sizeof why, note, note_len)) return HR_OK;
        snprintf(note, note_len, "the Kompress model is unusable (%s); using the lexical scorer", why);
    }
    return hr__scorer_lexical_new(out);
}

hr_status hr__scorer_new(const struct hr_scorer_request *rq, struct hr_scorer **out, char *err, size_t err_len,
                         char *note, size_t note_len)
{
    *out = NULL;
    if (note_len) note[0] = '\0';
    const char *name = rq->name && *rq->name ? rq->name : "auto";
    if (!strcmp(name, "lexical")) return hr__scorer_lexical_new(out);
    int kompress = !strcmp(name, "kompress");
    if (!kompress && strcmp(name, "auto")) return HR_ENOTFOUND;
    char *dir = rq->model_dir && *rq->model_dir ? strdup(rq->model_dir) : hr__kompress_default_dir();
    hr_status st;
    if (kompress && !dir) st = hr__errorf(err, err_len, HR_EINVAL, "no Kompress model folder: out of memory");
    else if (kompress) st = hr__scorer_kompress_new(dir, rq, out, err, err_len, note, note_len);
    else st = auto_scorer(rq, dir, out, note, note_len);
    free(dir);
    return st;
}
