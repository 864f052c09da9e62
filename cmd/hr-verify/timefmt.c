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

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone, no
 * timegm: it is not in POSIX). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153LL * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

long long parse_utc_time(const char *s)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    const char *p = s + 19;
    long long ms = 0;
    if (*p == '.') {
        int scale = 100;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10) ms += (*p - '0') * scale;
    }
    long long offset_s = 0;
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om)) return -1;
        offset_s = (oh * 3600LL + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else return -1;
    if (*p) return -1;
    long long t = days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + sec - offset_s;
    return t * 1000 + ms;
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
