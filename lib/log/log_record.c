/* What the request log's writer and reader share: the files' names, the
 * saving a record shows, and its times, written and read. */
#include "log/log_record.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void hr__log_file_name(int i, char *out, size_t len)
{
    if (i) snprintf(out, len, "%s.%d", HR_LOG_FILE, i);
    else snprintf(out, len, "%s", HR_LOG_FILE);
}

size_t hr__log_saved(const struct hr__log_record *r)
{
    return r->tokens_before > r->tokens_after ? r->tokens_before - r->tokens_after : 0;
}

size_t hr__log_saved_lossless(const struct hr__log_record *r)
{
    size_t saved = hr__log_saved(r);
    size_t lossless = r->tokens_before > r->tokens_lossless ? r->tokens_before - r->tokens_lossless : 0;
    return lossless < saved ? lossless : saved;
}

void hr__log_stamp(struct hr__log_record *r)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(r->ts, sizeof r->ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(r->ts + k, sizeof r->ts - k, ".%03ldZ", now.tv_nsec / 1000000);
    r->ts_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
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

long long hr__utc_time_ms(const char *s)
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
