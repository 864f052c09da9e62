/* Check 3, chat: a chat on a long prompt completes through the proxy. The
 * chat command runs with a generated prompt; it must exit 0 with no 401 or
 * quota error in its output, and hr-proxy must have logged a request while
 * it ran: without that record, the request went direct. */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_CHAT_CMD "hermes chat -q"
#define PROMPT_LINES 120

/* About 2,000 tokens: long enough to be a real request, with no digits, so
 * that a command echoing it cannot look like a 401 or a 429. */
static void make_prompt(hr_buf *b)
{
    static const char *const who[] = {"the parser",    "the cache",   "worker alpha", "worker beta",
                                      "the scheduler", "the indexer", "the uploader"};
    static const char *const did[] = {"finished its step", "retried a slow read", "flushed pending writes",
                                      "skipped an unchanged file", "merged two partial results"};
    static const char *const how[] = {"without errors", "after a short wait", "as planned", "on the second try"};
    const char *head = "This is a routing check run by hr-verify. Reply with the single word OK and nothing "
                       "else. The build log below only makes the prompt long; do not summarise it.\n\n";
    hr_buf_append(b, head, strlen(head));
    for (unsigned i = 0; i < PROMPT_LINES; i++) {
        char line[200];
        int n = snprintf(line, sizeof line, "build log: %s %s %s.\n", who[i % 7], did[(i / 7) % 5], how[(i / 3) % 4]);
        hr_buf_append(b, line, (size_t)n);
    }
}

/* Tokenizers differ between providers; the proxy's count of a request that
 * carries the prompt is still well above three quarters of this. */
static unsigned long long prompt_tokens(const hr_buf *prompt)
{
    hr_tokenizer *tok;
    size_t n = 0;
    if (hr_tokenizer_new("o200k_base", &tok)) return 0;
    if (hr_tokenizer_count(tok, prompt->data, prompt->len, 0, &n)) n = 0;
    hr_tokenizer_free(tok);
    return n;
}

static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        char full[4200];
        snprintf(full, sizeof full, "%.*s/%s", (int)len, len ? p : ".", name);
        struct stat st;
        if (!stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK)) return 1;
        p += len + (p[len] == ':');
    }
    return 0;
}

/* Whether text holds word, case aside, not inside a longer word or number. */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, n)) continue;
        int before = p > text && isalnum((unsigned char)p[-1]), after = isalnum((unsigned char)p[n]);
        if (!before && !after) return 1;
    }
    return 0;
}

static const char *first_word_of(const char *text, const char *const *words)
{
    for (; *words; words++)
        if (has_word(text, *words)) return *words;
    return NULL;
}

static const char *const AUTH_WORDS[] = {
    "401", "unauthorized", "authentication_error", "invalid x-api-key", "invalid_api_key", "invalid api key", NULL};
/* Not "quota" alone: plugins (quota-guard) and prompts say it in passing. */
static const char *const QUOTA_WORDS[] = {"429",
                                          "insufficient_quota",
                                          "exceeded your current quota",
                                          "quota exceeded",
                                          "rate_limit_error",
                                          "rate_limit_exceeded",
                                          "rate limit",
                                          "usage limit",
                                          "too many requests",
                                          NULL};

struct seen {
    long long until_ms;
    unsigned long long min_tokens; /* a record this long can be the chat's */
    size_t n, unauthorized, bad_gateway, limited;
    size_t ours; /* records long enough to hold the prompt, or not counted */
    long long last_ms;
    char last[1024]; /* the newest record, described */
};

static void describe_record(const hr_log_record *l, char *out, size_t len)
{
    char before[32], after[32];
    format_count(l->tokens_before, before, sizeof before);
    format_count(l->tokens_after, after, sizeof after);
    snprintf(out, len, "%s %s %s -> %d, %s -> %s tokens", l->method, l->path, l->model[0] ? l->model : "?", l->status,
             before, after);
}

static int collect(const hr_log_record *r, void *ctx)
{
    struct seen *s = ctx;
    if (r->ts_ms > s->until_ms) return 0;
    s->n++;
    s->unauthorized += r->status == 401 || r->status == 403;
    s->bad_gateway += r->status == 502;
    s->limited += r->status == 429;
    s->ours += r->tokens_before == 0 || r->tokens_before >= s->min_tokens;
    if (!s->last_ms || r->ts_ms >= s->last_ms) { /* r's strings are the reader's until it returns */
        s->last_ms = r->ts_ms;
        describe_record(r, s->last, sizeof s->last);
    }
    return 0;
}

/* The last non-empty line of the output, shortened, for the report. */
static void last_line(const hr_buf *out, char *line, size_t len)
{
    size_t end = out->len;
    while (end && isspace((unsigned char)out->data[end - 1])) end--;
    size_t start = end;
    while (start && out->data[start - 1] != '\n') start--;
    size_t n = end - start > 160 ? 160 : end - start;
    snprintf(line, len, "%s%.*s", n ? "" : "(no output)", (int)n, n ? out->data + start : "");
}

static void judge(const char *shown, int status, int timed_out, long timeout_s, double secs, const hr_buf *out,
                  const struct seen *s, struct result *r)
{
    char line[200];
    const char *rec = s->n ? s->last : "";
    last_line(out, line, sizeof line);
    const char *text = out->data ? out->data : "";
    const char *auth = first_word_of(text, AUTH_WORDS), *quota = first_word_of(text, QUOTA_WORDS);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (timed_out) {
        result_set(r, V_FAIL, "%s did not finish in %ld s; the proxy logged %zu request(s)%s%s", shown, timeout_s, s->n,
                   s->n ? ", the last " : "", rec);
        result_hint(r, s->n ? HINT_SLOW "; or the provider is slow (--chat-timeout)" : HINT_DIRECT);
    } else if (code == 127) {
        result_set(r, V_FAIL, "%s: command not found (%s)", shown, line);
        result_hint(r, "install Hermes Agent, or give the command that runs a chat with --chat-cmd");
    } else if (auth || s->unauthorized) {
        result_set(r, V_FAIL, "%s exited %d with an authentication error (\"%s\" in its output%s%s): %s", shown, code,
                   auth ? auth : "401 in the proxy log", s->n ? "; proxy log: " : "", rec, line);
        result_hint(r, "%s", HINT_401);
    } else if (quota || s->limited) {
        result_set(r, V_FAIL, "%s exited %d with a quota or rate-limit error (\"%s\"): %s", shown, code,
                   quota ? quota : "429 in the proxy log", line);
        result_hint(r, "%s", HINT_QUOTA);
    } else if (s->bad_gateway) {
        result_set(r, V_FAIL, "%s exited %d; the proxy answered it 502 (%s): %s", shown, code, rec, line);
        result_hint(r, "%s", HINT_502);
    } else if (code != 0) {
        result_set(r, V_FAIL, "%s exited %d after %.1f s; the proxy logged %zu request(s): %s", shown, code, secs, s->n,
                   line);
        result_hint(r, "%s",
                    s->n ? "the request reached the proxy; the command's output above says what failed" : HINT_DIRECT);
    } else if (!s->n) {
        result_set(r, V_FAIL, "%s exited 0 in %.1f s, but the proxy logged no request while it ran", shown, secs);
        result_hint(r, "%s", HINT_DIRECT);
    } else if (!s->ours) {
        result_set(r, V_FAIL,
                   "%s exited 0 in %.1f s; the proxy logged %zu request(s) while it ran, none as long as "
                   "the prompt (%llu tokens): another client's",
                   shown, secs, s->n, s->min_tokens);
        result_hint(r, "%s", HINT_DIRECT);
    } else
        result_set(r, V_PASS, "%s exited 0 in %.1f s; the proxy logged %zu request(s), the last %s", shown, secs, s->n,
                   rec);
}

void check_chat(const struct options *o, struct run_state *st, struct result *r)
{
    const char *cmd = o->chat_cmd ? o->chat_cmd : DEFAULT_CHAT_CMD;
    if (o->chat == CHAT_OFF) {
        result_set(r, V_SKIP, "not run (--no-chat)");
        return;
    }
    if (!o->chat_cmd && o->chat == CHAT_AUTO && !on_path("hermes")) {
        result_set(r, V_SKIP, "hermes is not installed (not on PATH); --chat or --chat-cmd CMD runs the check");
        return;
    }
    hr_buf prompt = {0}, out = {0};
    make_prompt(&prompt);
    char shown[600];
    snprintf(shown, sizeof shown, "`%s <prompt of %zu bytes>`", cmd, prompt.len);
    int status = 0, timed_out = 0;
    st->chat_start_ms = now_ms();
    int err = run_command(cmd, prompt.data, o->chat_timeout_s, &out, &status, &timed_out);
    st->chat_end_ms = now_ms();
    /* A command that names hermes and was found started a Hermes, whose
     * plugin report the base_url check then requires. */
    st->chat_ran = !err && strstr(cmd, "hermes") && !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
    if (err) {
        result_set(r, V_FAIL, "%s: cannot run it: %s", shown, strerror(err));
    } else {
        struct seen s = {.until_ms = st->chat_end_ms + 1000, .min_tokens = prompt_tokens(&prompt) * 3 / 4};
        char why[600]; /* an unreadable log: no record, which the verdict then says */
        hr_log_each(o->log_dir, st->chat_start_ms, collect, &s, NULL, why, sizeof why);
        judge(shown, status, timed_out, o->chat_timeout_s, (st->chat_end_ms - st->chat_start_ms) / 1000.0, &out, &s, r);
        st->chat_passed = r->v == V_PASS;
    }
    hr_buf_free(&prompt);
    hr_buf_free(&out);
}
