/* A test shim (LD_PRELOAD): the process is killed at the rename(2) that
 * would put a file at $HR_CRASH_AT_RENAME, as a crash or power loss between
 * writing a temporary file and renaming it would stop it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to)
{
    const char *target = getenv("HR_CRASH_AT_RENAME");
    if (target && !strcmp(to, target)) raise(SIGKILL);
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return real(from, to);
}
