/* Times and amounts as hr-verify reads and prints them. */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

long long parse_duration_ms(const char *s)
{
    if (!*s) return -1;
    long long total = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || v < 0) return -1;
        double unit = 1000;
        switch (*end) {
        case 's': end++; break;
        case 'm':
            unit = 60e3;
            end++;
            break;
        case 'h':
            unit = 3600e3;
            end++;
            break;
        case 'd':
            unit = 86400e3;
            end++;
            break;
        case '\0': break;
        default: return -1;
        }
        if (v * unit > 1e15) return -1;
        total += (long long)(v * unit);
        s = end;
    }
    return total;
}

void format_age(long long ms, char *out, size_t len)
{
    if (ms < 0) ms = 0;
    if (ms < 90 * 1000) snprintf(out, len, "%lld s", ms / 1000);
    else if (ms < 90LL * 60 * 1000) snprintf(out, len, "%lld min", ms / 60000);
    else if (ms < 48LL * 3600 * 1000) snprintf(out, len, "%.1f h", ms / 3600e3);
    else snprintf(out, len, "%.1f d", ms / 86400e3);
}

void format_count(unsigned long long n, char *out, size_t len)
{
    char raw[32];
    int k = snprintf(raw, sizeof raw, "%llu", n);
    size_t o = 0;
    for (int i = 0; i < k && o + 2 < len; i++) {
        if (i && (k - i) % 3 == 0) out[o++] = ',';
        out[o++] = raw[i];
    }
    out[o] = '\0';
}
