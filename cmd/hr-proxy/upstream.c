/* Which upstream a request goes to. Anthropic paths go to anthropic_api_url;
 * Chat Completions to openai_api_url; Responses to chatgpt_api_url when the
 * request carries ChatGPT-account OAuth (a chatgpt-account-id header, or a
 * JWT bearer token whose claims name a ChatGPT account), else to OpenAI;
 * any other path by its credentials' shape. */
#include "proxy.h"

#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

const char *provider_name(enum provider p)
{
    switch (p) {
    case PROVIDER_ANTHROPIC: return "anthropic";
    case PROVIDER_CHATGPT: return "chatgpt";
    case PROVIDER_OPENAI: break;
    }
    return "openai";
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

static int b64url_decode(const char *s, size_t n, hr_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64url_value(s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char c = (char)((acc >> bits) & 0xff);
            if (hr_buf_append(out, &c, 1)) return -1;
        }
    }
    return 0;
}

/* A non-empty "chatgpt_account_id" anywhere in the claims. */
static int has_account_claim(const hr_json *doc, hr_json_node n, int depth)
{
    if (depth > 8 || hr_json_type_of(doc, n) != HR_JSON_OBJECT) return 0;
    for (hr_json_node k = hr_json_first(doc, n); k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
        hr_json_node v = hr_json_value(doc, k);
        if (hr_json_string_equals(doc, k, "chatgpt_account_id", 18) && hr_json_type_of(doc, v) == HR_JSON_STRING &&
            hr_json_end(doc, v) - hr_json_start(doc, v) > 2)
            return 1;
        if (has_account_claim(doc, v, depth + 1)) return 1;
    }
    return 0;
}

int jwt_names_chatgpt_account(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7)) return 0;
    const char *tok = authorization + 7, *dot1 = strchr(tok, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2) return 0;
    hr_buf claims = HR_BUF_INIT;
    hr_json *doc = NULL;
    int found = 0;
    if (!b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &claims) && claims.len && !hr_json_new(&doc) &&
        !hr_json_parse(doc, claims.data, claims.len))
        found = has_account_claim(doc, hr_json_root(doc), 0);
    hr_json_free(doc);
    hr_buf_free(&claims);
    return found;
}

static void set_url(struct route *r, const char *base, const char *path, const char *rest)
{
    snprintf(r->url, sizeof r->url, "%s%s%s", base, path, rest);
    const char *h = strstr(base, "://");
    h = h ? h + 3 : base;
    size_t n = strcspn(h, "/");
    if (n >= sizeof r->host) n = sizeof r->host - 1;
    memcpy(r->host, h, n);
    r->host[n] = '\0';
}

/* uri begins with prefix, followed by its end, '/' or '?'. */
static int path_is(const char *uri, const char *prefix, const char **rest)
{
    size_t k = strlen(prefix);
    if (strncmp(uri, prefix, k) || (uri[k] && uri[k] != '/' && uri[k] != '?')) return 0;
    *rest = uri + k;
    return 1;
}

void route_request(const struct settings *s, enum evhttp_cmd_type method, const char *uri,
                   const struct evkeyvalq *headers, struct route *out)
{
    const char *rest = "";
    int post = method == EVHTTP_REQ_POST;
    memset(out, 0, sizeof *out);
    if (path_is(uri, "/v1/messages", &rest)) {
        out->provider = PROVIDER_ANTHROPIC;
        out->compress = post && (!*rest || *rest == '?');
        set_url(out, s->anthropic_url, "/v1/messages", rest);
        out->api = out->compress ? API_ANTHROPIC : API_NONE; /* count_tokens bills nothing */
    } else if (path_is(uri, "/v1/chat/completions", &rest)) {
        out->provider = PROVIDER_OPENAI;
        out->compress = post && (!*rest || *rest == '?');
        set_url(out, s->openai_url, "/v1/chat/completions", rest);
        out->api = out->compress ? API_CHAT : API_NONE;
    } else if (path_is(uri, "/v1/responses", &rest) || path_is(uri, "/responses", &rest)) {
        const char *auth = evhttp_find_header(headers, "Authorization");
        int chatgpt = evhttp_find_header(headers, "chatgpt-account-id") || jwt_names_chatgpt_account(auth);
        out->provider = chatgpt ? PROVIDER_CHATGPT : PROVIDER_OPENAI;
        out->compress = post && (!*rest || *rest == '?');
        out->api = out->compress ? API_RESPONSES : API_NONE;
        if (chatgpt) set_url(out, s->chatgpt_url, "/responses", rest);
        else set_url(out, s->openai_url, "/v1/responses", rest);
    } else { /* any other path: Anthropic credentials or headers say Anthropic */
        int anthropic = evhttp_find_header(headers, "x-api-key") || evhttp_find_header(headers, "anthropic-version");
        out->provider = anthropic ? PROVIDER_ANTHROPIC : PROVIDER_OPENAI;
        set_url(out, anthropic ? s->anthropic_url : s->openai_url, uri, "");
    }
}
