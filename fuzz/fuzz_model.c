/* hr_compress on any bytes: the request model (the OpenAI chat, Anthropic
 * messages and Responses shapes, their units and tool results) and every
 * compressor behind it. The options come from the input's hash, so each
 * input is compressed one way, the same way every time: cache or token
 * mode, lossless only or not, min_tokens 0, 40 or the default, so that
 * small inputs are cut too. Beyond not crashing:
 *  - a refusal is for bad input only (not JSON, not a request), with
 *    nothing appended to the output and a one-line printable message;
 *  - an accepted request gives a JSON object of the same API shape, no
 *    more tokens than it had;
 *  - compressing that output again with the same options changes nothing. */
#include "fuzz.h"
#include "hr.h"

#include <string.h>

static hr_compressor *comp;
static hr_json *doc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* no user settings or model folder: the lexical scorer, always */
    setenv("HEADROOM_HOME", "/nonexistent/hr-fuzz", 1);
    unsetenv("HEADROOM_KOMPRESS_MODEL");
    if (hr_compressor_new(&comp) || hr_json_new(&doc)) abort();
    return 0;
}

static void options_for(const uint8_t *data, size_t size, hr_compress_options *opt)
{
    static const size_t min_tokens[] = {0, 40, HR_MIN_TOKENS_DEFAULT, 0};
    uint32_t h = fuzz_hash(data, size);
    hr_compress_options_init(opt);
    opt->scorer = "lexical";
    opt->mode = h & 1 ? HR_MODE_TOKEN : HR_MODE_CACHE;
    opt->lossless_only = (h >> 1 & 3) == 0;
    opt->min_tokens = min_tokens[h >> 3 & 3];
    opt->protect_recent = h >> 5 & 3;
}

static int bad_input(hr_status st)
{
    return st == HR_ESYNTAX || st == HR_ETRUNCATED || st == HR_EUTF8 || st == HR_EDEPTH || st == HR_ENOTREQUEST;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    hr_compress_options opt;
    options_for(data, size, &opt);
    hr_buf out = {0};
    hr_status st = hr_compress(comp, &opt, body, size, &out);
    if (st) {
        FUZZ_CHECK(bad_input(st), "status %s: %s", hr_strerror(st), hr_compressor_errmsg(comp));
        FUZZ_CHECK(out.len == 0, "%zu bytes appended on failure", out.len);
        const char *msg = hr_compressor_errmsg(comp);
        FUZZ_CHECK(*msg && fuzz_printable(msg), "message \"%s\"", msg);
        hr_buf_free(&out);
        return 0;
    }
    hr_compress_stats stats;
    hr_compressor_stats(comp, &stats);
    FUZZ_CHECK(stats.tokens_after <= stats.tokens_before, "%zu tokens after, %zu before", stats.tokens_after,
               stats.tokens_before);

    FUZZ_CHECK(hr_json_parse(doc, out.data, out.len) == HR_OK, "output is not JSON: %s", hr_json_errmsg(doc));
    FUZZ_CHECK(hr_json_type_of(doc, hr_json_root(doc)) == HR_JSON_OBJECT, "output is not an object");
    FUZZ_CHECK(hr_request_detect(doc) == stats.format, "output detected as %s, input as %s",
               hr_format_name(hr_request_detect(doc)), hr_format_name(stats.format));

    hr_buf again = {0};
    st = hr_compress(comp, &opt, out.data, out.len, &again);
    FUZZ_CHECK(st == HR_OK, "output refused: %s", hr_compressor_errmsg(comp));
    FUZZ_CHECK(again.len == out.len && !memcmp(again.data, out.data, out.len),
               "compressing the output again changes it (%zu bytes, then %zu)", out.len, again.len);
    hr_buf_free(&again);
    hr_buf_free(&out);
    return 0;
}
