/* Check 1, health: GET <proxy>/health answers 200 {"status":"healthy"}. */
#include "verify.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define BODY_MAX 4096

static size_t keep_body(char *data, size_t size, size_t n, void *ctx)
{
    hr_buf *b = ctx;
    size_t len = size * n;
    if (b->len < BODY_MAX) hr_buf_append(b, data, len < BODY_MAX - b->len ? len : BODY_MAX - b->len);
    return len;
}

/* The body on one line, for the report. */
static const char *one_line(hr_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r') b->data[i] = ' ';
    while (b->len && b->data[b->len - 1] == ' ') b->data[--b->len] = '\0';
    return b->len ? b->data : "(empty body)";
}

static int says_healthy(const hr_buf *b)
{
    hr_json *d;
    int ok = 0;
    if (hr_json_new(&d)) return 0;
    if (!hr_json_parse(d, b->data, b->len) && hr_json_type_of(d, hr_json_root(d)) == HR_JSON_OBJECT) {
        hr_json_node s = hr_json_get(d, hr_json_root(d), "status");
        ok = s != HR_JSON_NONE && hr_json_string_equals(d, s, "healthy", 7);
    }
    hr_json_free(d);
    return ok;
}

static void judge(const char *url, CURLcode rc, long code, double secs, hr_buf *body, double timeout_s,
                  struct result *r)
{
    if (rc == CURLE_COULDNT_CONNECT) {
        result_set(r, V_FAIL, "%s: nothing listens there (connection refused)", url);
        result_hint(r, "start hr-proxy (systemctl --user start hr-proxy) or give --proxy-url; while it is down, "
                       "Hermes's routed providers fail, and a Hermes started now goes direct");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        result_set(r, V_FAIL, "%s: no answer in %.0f s", url, timeout_s);
        result_hint(r, "the proxy is stuck or the host is wrong; see hr-proxy's log on stderr (journalctl --user "
                       "-u hr-proxy)");
    } else if (rc != CURLE_OK) {
        result_set(r, V_FAIL, "%s: %s", url, curl_easy_strerror(rc));
        result_hint(r, "check --proxy-url (or the proxy_url of the headroom-route block in config.yaml)");
    } else if (code != 200) {
        result_set(r, V_FAIL, "%s answered %ld: %s", url, code, one_line(body));
        result_hint(r, code == 503 ? "hr-proxy says it is unhealthy (the reason above); Hermes started now "
                                     "leaves its providers unpatched and goes direct"
                                   : "this is not hr-proxy's health route: another server holds the port?");
    } else if (!says_healthy(body)) {
        result_set(r, V_FAIL, "%s answered 200 but not {\"status\":\"healthy\"}: %s", url, one_line(body));
        result_hint(r, "another server holds the port, not hr-proxy");
    } else result_set(r, V_PASS, "%s answered 200 %s in %.1f ms", url, one_line(body), secs * 1000);
}

void check_health(const struct options *o, struct result *r)
{
    char url[2100];
    snprintf(url, sizeof url, "%s/health", o->proxy_url);
    CURL *c = curl_easy_init();
    if (!c) {
        result_set(r, V_FAIL, "cannot start libcurl");
        return;
    }
    hr_buf body = {0};
    long code = 0;
    double secs = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->http_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the local proxy, never an http_proxy in between */
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
    judge(url, rc, code, secs, &body, o->http_timeout_s, r);
    hr_buf_free(&body);
    curl_easy_cleanup(c);
}
