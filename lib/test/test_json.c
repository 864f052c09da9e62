/* Unit tests of the JSON byte-span scanner, string coding and splice edits. */
#include "hr.h"
#include "unit.h"

#include <stdlib.h>

static hr_json *doc;

static hr_status parse(const char *s)
{
    return hr_json_parse(doc, s, strlen(s));
}

static void test_spans_and_navigation(void)
{
    const char *s = " {\"a\" : [1, 2.5e3 ,\"x\"], \"b\":{}, \"c\": null,\"d\":true} ";
    CHECK_EQ_U(parse(s), HR_OK);
    hr_json_node root = hr_json_root(doc);
    CHECK_EQ_U(hr_json_type_of(doc, root), HR_JSON_OBJECT);
    CHECK_EQ_U(hr_json_start(doc, root), 1);
    CHECK_EQ_U(hr_json_end(doc, root), strlen(s) - 1);
    CHECK_EQ_U(hr_json_length(doc, root), 4);
    hr_json_node a = hr_json_get(doc, root, "a");
    CHECK_EQ_U(hr_json_type_of(doc, a), HR_JSON_ARRAY);
    CHECK_EQ_U(hr_json_length(doc, a), 3);
    hr_json_node e = hr_json_first(doc, a);
    e = hr_json_next(doc, e);
    CHECK_EQ_U(hr_json_type_of(doc, e), HR_JSON_NUMBER);
    CHECK(!strncmp(s + hr_json_start(doc, e), "2.5e3", hr_json_end(doc, e) - hr_json_start(doc, e)));
    e = hr_json_next(doc, e);
    CHECK_EQ_U(hr_json_type_of(doc, e), HR_JSON_STRING);
    CHECK_EQ_U(hr_json_next(doc, e), HR_JSON_NONE);
    CHECK_EQ_U(hr_json_length(doc, hr_json_get(doc, root, "b")), 0);
    CHECK_EQ_U(hr_json_type_of(doc, hr_json_get(doc, root, "c")), HR_JSON_NULL);
    CHECK_EQ_U(hr_json_type_of(doc, hr_json_get(doc, root, "d")), HR_JSON_TRUE);
    CHECK_EQ_U(hr_json_get(doc, root, "missing"), HR_JSON_NONE);
    /* member iteration visits keys in order */
    const char *keys[] = {"a", "b", "c", "d"};
    int i = 0;
    for (hr_json_node k = hr_json_first(doc, root); k != HR_JSON_NONE; k = hr_json_next(doc, k), i++)
        CHECK(i < 4 && hr_json_string_equals(doc, k, keys[i], 1));
    CHECK_EQ_U(i, 4);
}

static void test_int64(void)
{
    int64_t v = 0;
    CHECK_EQ_U(parse("[9223372036854775807, -9223372036854775808, 12345678901234567890, 1.0, 1e3, -0]"), HR_OK);
    hr_json_node n = hr_json_first(doc, hr_json_root(doc));
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_OK);
    CHECK(v == INT64_MAX);
    n = hr_json_next(doc, n);
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_OK);
    CHECK(v == INT64_MIN);
    n = hr_json_next(doc, n); /* 20 digits: kept exact in the span, too big for int64 */
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_ERANGE);
    CHECK(!strncmp("12345678901234567890", "12345678901234567890", 20));
    CHECK_EQ_U(hr_json_end(doc, n) - hr_json_start(doc, n), 20);
    n = hr_json_next(doc, n);
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_ERANGE);
    n = hr_json_next(doc, n);
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_ERANGE);
    n = hr_json_next(doc, n);
    CHECK_EQ_U(hr_json_int64(doc, n, &v), HR_OK);
    CHECK(v == 0);
    CHECK_EQ_U(parse("9223372036854775808"), HR_OK);
    CHECK_EQ_U(hr_json_int64(doc, hr_json_root(doc), &v), HR_ERANGE);
}

static void check_decoded(const char *json, const char *want, size_t want_len)
{
    hr_buf b = HR_BUF_INIT;
    CHECK_EQ_U(parse(json), HR_OK);
    CHECK_EQ_U(hr_json_string_decode(doc, hr_json_root(doc), &b), HR_OK);
    CHECK_EQ_U(b.len, want_len);
    CHECK(b.len == want_len && !memcmp(b.data, want, want_len));
    CHECK(hr_json_string_equals(doc, hr_json_root(doc), want, want_len));
    hr_buf_free(&b);
}

static void test_escapes(void)
{
    check_decoded("\"a\\nb\\t\\\"\\\\\\/\\b\\f\\r\"", "a\nb\t\"\\/\b\f\r", 10);
    check_decoded("\"\\u00e9\\u20AC\"", "\xc3\xa9\xe2\x82\xac", 5);
    check_decoded("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
    check_decoded("\"x\\ud800y\"", "x\xef\xbf\xbdy", 5); /* lone high surrogate */
    check_decoded("\"\\udc00\"", "\xef\xbf\xbd", 3);     /* lone low surrogate */
    check_decoded("\"\\u0000\"", "\0", 1);
    check_decoded("\"pl\xc3\xa4in\"", "pl\xc3\xa4in", 6);
    CHECK_EQ_U(parse("{\"k\\u0065y\": 1}"), HR_OK); /* escaped key */
    CHECK(hr_json_get(doc, hr_json_root(doc), "key") != HR_JSON_NONE);
    CHECK_EQ_U(parse("\"\\x\""), HR_ESYNTAX);
    CHECK_EQ_U(parse("\"\\u12g4\""), HR_ESYNTAX);
    CHECK_EQ_U(parse("\"a\nb\""), HR_ESYNTAX);
}

static void test_invalid_utf8(void)
{
    CHECK_EQ_U(parse("[\"ok\", \"bad \xff here\"]"), HR_EUTF8);
    CHECK_EQ_U(hr_json_error_offset(doc), 12);
    CHECK(strstr(hr_json_errmsg(doc), "invalid UTF-8 byte 0xff") != NULL);
    CHECK_EQ_U(parse("\"\xed\xa0\x80\""), HR_EUTF8);     /* UTF-8-encoded surrogate */
    CHECK_EQ_U(parse("\"\xc0\xaf\""), HR_EUTF8);         /* overlong */
    CHECK_EQ_U(parse("\"\xe2\x82\""), HR_EUTF8);         /* cut short */
    CHECK_EQ_U(parse("\"\xf4\x90\x80\x80\""), HR_EUTF8); /* above U+10FFFF */
    CHECK_EQ_U(parse("\"\xf0\x9f\x98\x80\""), HR_OK);
}

static void test_depth(void)
{
    char deep[2000];
    for (int d = 511; d <= 513; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        deep[2 * d] = '\0';
        hr_status st = parse(deep);
        if (d <= 512) {
            CHECK_EQ_U(st, HR_OK);
        } else {
            CHECK_EQ_U(st, HR_EDEPTH);
            CHECK(strstr(hr_json_errmsg(doc), "nesting deeper than 512 levels") != NULL);
            CHECK_EQ_U(hr_json_error_offset(doc), 512);
        }
    }
    hr_json_set_max_depth(doc, 3);
    CHECK_EQ_U(parse("{\"a\":[{}]}"), HR_OK);
    CHECK_EQ_U(parse("{\"a\":[{\"b\":[]}]}"), HR_EDEPTH);
    hr_json_set_max_depth(doc, HR_JSON_DEFAULT_MAX_DEPTH);
}

static void test_truncated(void)
{
    const char *cases[] = {"",    "  ", "{",  "{\"a\"", "{\"a\":", "{\"a\": [1, 2", "\"\\u12",
                           "tru", "-",  "1.", "1e",     "[1,",     "{\"a\":1,"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_status st = parse(cases[i]);
        if (st != HR_ETRUNCATED) printf("  case %zu \"%s\": status %d\n", i, cases[i], st);
        CHECK_EQ_U(st, HR_ETRUNCATED);
        CHECK_EQ_U(hr_json_error_offset(doc), strlen(cases[i]));
    }
    CHECK_EQ_U(parse("{\"a\": [1, 2"), HR_ETRUNCATED);
    CHECK(strstr(hr_json_errmsg(doc), "array opened at byte 6") != NULL);
    /* an unterminated string is reported where it starts */
    CHECK_EQ_U(parse("{\"a\": \"abc"), HR_ETRUNCATED);
    CHECK_EQ_U(hr_json_error_offset(doc), 6);
    CHECK_EQ_S(hr_json_error_reason(doc), "unterminated string");
    CHECK_EQ_S(hr_json_errmsg(doc), "line 1, column 7 (byte 6): unterminated string");
    CHECK_EQ_U(parse("[\"a\\"), HR_ETRUNCATED);
    CHECK_EQ_U(hr_json_error_offset(doc), 1);
}

static void test_syntax_errors(void)
{
    CHECK_EQ_U(parse("{\n  \"a\": 1,\n  \"b\" 2\n}"), HR_ESYNTAX);
    CHECK_EQ_U(hr_json_error_offset(doc), 18);
    CHECK(!strncmp(hr_json_errmsg(doc), "line 3, column 7 (byte 18): ':' expected", 40));
    CHECK_EQ_U(parse("[1,]"), HR_ESYNTAX);
    CHECK_EQ_U(parse("{\"a\":1,}"), HR_ESYNTAX);
    CHECK_EQ_U(parse("[01]"), HR_ESYNTAX);
    CHECK_EQ_U(parse("[1] x"), HR_ESYNTAX);
    CHECK_EQ_U(parse("[+1]"), HR_ESYNTAX);
    CHECK_EQ_U(parse("{1:2}"), HR_ESYNTAX);
    CHECK_EQ_U(parse("[nul]"), HR_ESYNTAX);
    CHECK_EQ_U(parse("[True]"), HR_ESYNTAX);
}

static void test_encode_round_trip(void)
{
    unsigned seed = 1;
    for (int round = 0; round < 2000; round++) {
        char raw[64];
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (char)(seed >> 16);
        }
        hr_buf enc = HR_BUF_INIT, dec = HR_BUF_INIT;
        CHECK_EQ_U(hr_json_encode_string(&enc, raw, n), HR_OK);
        CHECK_EQ_U(hr_json_parse(doc, enc.data, enc.len), HR_OK);
        CHECK_EQ_U(hr_json_string_decode(doc, hr_json_root(doc), &dec), HR_OK);
        /* Valid UTF-8 survives exactly; invalid bytes become U+FFFD. */
        unsigned char *clean = malloc(3 * n + 1);
        extern size_t hr__utf8_sanitize(const unsigned char *, size_t, unsigned char *);
        size_t cn = hr__utf8_sanitize((const unsigned char *)raw, n, clean);
        CHECK(dec.len == cn && (!cn || !memcmp(dec.data, clean, cn)));
        free(clean);
        hr_buf_free(&enc);
        hr_buf_free(&dec);
    }
    hr_buf b = HR_BUF_INIT;
    hr_json_encode_string(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
    CHECK_EQ_S(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    hr_buf_free(&b);
}

static void test_splice(void)
{
    const char *s = "{\"keep\": 12345678901234567890, \"msg\": \"long text\", \"x\": [1,2]}";
    hr_buf out = HR_BUF_INIT;
    hr_splice *sp;
    CHECK_EQ_U(parse(s), HR_OK);
    CHECK_EQ_U(hr_splice_new(s, strlen(s), &sp), HR_OK);
    CHECK_EQ_U(hr_splice_apply(sp, &out), HR_OK); /* no edits: identical */
    CHECK_EQ_S(out.data, s);
    out.len = 0;
    hr_json_node msg = hr_json_get(doc, hr_json_root(doc), "msg");
    hr_json_node x = hr_json_get(doc, hr_json_root(doc), "x");
    /* edits given out of order */
    CHECK_EQ_U(hr_splice_replace(sp, hr_json_start(doc, x), hr_json_end(doc, x), "[]", 2), HR_OK);
    CHECK_EQ_U(hr_splice_replace(sp, hr_json_start(doc, msg), hr_json_end(doc, msg), "\"short\"", 7), HR_OK);
    CHECK_EQ_U(hr_splice_replace(sp, 1, 1, " ", 1), HR_OK); /* insertion */
    CHECK_EQ_U(hr_splice_replace(sp, hr_json_start(doc, msg) + 1, hr_json_start(doc, msg) + 3, "", 0), HR_EINVAL);
    CHECK(strstr(hr_splice_errmsg(sp), "overlaps") != NULL);
    CHECK_EQ_U(hr_splice_replace(sp, 5, 1000, "", 0), HR_EINVAL);
    CHECK_EQ_U(hr_splice_apply(sp, &out), HR_OK);
    CHECK_EQ_S(out.data, "{ \"keep\": 12345678901234567890, \"msg\": \"short\", \"x\": []}");
    hr_splice_free(sp);
    hr_buf_free(&out);
}

int main(void)
{
    if (hr_json_new(&doc)) return 1;
    RUN(test_spans_and_navigation);
    RUN(test_int64);
    RUN(test_escapes);
    RUN(test_invalid_utf8);
    RUN(test_depth);
    RUN(test_truncated);
    RUN(test_syntax_errors);
    RUN(test_encode_round_trip);
    RUN(test_splice);
    hr_json_free(doc);
    return unit_any_failed;
}
