/* hr_compress() per request, single thread, warm (one compressor reused,
 * as hr-proxy does): tokens before/after/saved and milliseconds, best and
 * median of the runs. A request can be grown to N times its size by
 * repeating its compressible messages (all but the first and the last 5).
 *   bench_compress FILE [REPEAT] [RUNS] */
#include "hr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* body with messages[1 .. n-5) written `times` times over. */
static int grow(const hr_buf *body, int times, hr_buf *out)
{
    hr_json *doc = NULL;
    if (hr_json_new(&doc) || hr_json_parse(doc, body->data, body->len)) return -1;
    hr_json_node root = hr_json_root(doc), list = hr_json_get(doc, root, "messages");
    if (list == HR_JSON_NONE) list = hr_json_get(doc, root, "input");
    size_t n = hr_json_length(doc, list), i = 0, from = 0, to = 0;
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE; m = hr_json_next(doc, m), i++) {
        if (i == 1) from = hr_json_start(doc, m);
        if (i + 5 == n) to = hr_json_start(doc, m);
    }
    hr_json_free(doc);
    if (!from || to <= from) return -1;
    hr_buf_append(out, body->data, from);
    for (int k = 0; k < times; k++) hr_buf_append(out, body->data + from, to - from);
    hr_buf_append(out, body->data + to, body->len - to);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_compress FILE [REPEAT] [RUNS]\n");
        return 2;
    }
    int times = argc > 2 ? atoi(argv[2]) : 1, runs = argc > 3 ? atoi(argv[3]) : 20;
    hr_buf body = HR_BUF_INIT, req = HR_BUF_INIT, out = HR_BUF_INIT;
    FILE *f = fopen(argv[1], "rb");
    char chunk[65536];
    size_t got;
    if (!f) return perror(argv[1]), 1;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) hr_buf_append(&body, chunk, got);
    fclose(f);
    if (times > 1 ? grow(&body, times, &req) : hr_buf_append(&req, body.data, body.len)) {
        fprintf(stderr, "%s: cannot grow this request\n", argv[1]);
        return 1;
    }
    hr_compressor *c = NULL;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    hr_compressor_new(&c);
    double *ms = calloc((size_t)runs + 1, sizeof *ms);
    for (int r = -1; r < runs; r++) { /* run -1 warms the tokenizer tables */
        out.len = 0;
        double t0 = now_ms();
        if (hr_compress(c, &opt, req.data, req.len, &out)) {
            fprintf(stderr, "%s: %s\n", argv[1], hr_compressor_errmsg(c));
            return 1;
        }
        if (r >= 0) ms[r] = now_ms() - t0;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    hr_compress_stats st;
    hr_compressor_stats(c, &st);
    size_t saved = st.tokens_before - st.tokens_after;
    const char *name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    printf("%-24s %9zu %9zu %9zu %6.1f%% %9.2f %9.2f %8.1f\n", name, st.tokens_before, st.tokens_after, saved,
           st.tokens_before ? 100.0 * (double)saved / (double)st.tokens_before : 0.0, ms[0], ms[runs / 2],
           (double)req.len / 1e6 / (ms[runs / 2] / 1e3));
    free(ms);
    hr_compressor_free(c);
    hr_buf_free(&body);
    hr_buf_free(&req);
    hr_buf_free(&out);
    return 0;
}
