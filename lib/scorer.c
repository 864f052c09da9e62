/* The scorer registry: compressors rank segments through one interface, and
 * the scorer behind it is chosen by name at run time. */
#include "compress_internal.h"

#include <string.h>

hr_status hr__scorer_new(const char *name, struct hr_scorer **out)
{
    *out = NULL;
    if (!name || !*name || !strcmp(name, "auto") || !strcmp(name, "lexical"))
        return hr__scorer_lexical_new(out);
    return HR_ENOTFOUND;
}
