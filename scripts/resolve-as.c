/* A test double for name resolution, loaded with LD_PRELOAD: with
 * HR_TEST_RESOLVE="NAME=ADDRESS", getaddrinfo() answers for NAME what it
 * answers for the numeric ADDRESS, as a DNS record or /etc/hosts line
 * naming NAME would. Other names resolve as usual. Lets the tests see what
 * hr-proxy does with a listen host whose spelling and address disagree,
 * with no network and no change to the machine.
 *   cc -shared -fPIC -o resolve-as.so scripts/resolve-as.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    const char *rule = getenv("HR_TEST_RESOLVE");
    const char *eq = rule ? strchr(rule, '=') : NULL;
    if (node && eq && strlen(node) == (size_t)(eq - rule) && !memcmp(node, rule, (size_t)(eq - rule))) {
        struct addrinfo h;
        memset(&h, 0, sizeof h);
        if (hints) h = *hints;
        h.ai_flags |= AI_NUMERICHOST;
        return real(eq + 1, service, &h, res);
    }
    return real(node, service, hints, res);
}
