/* What hr_compress() did, for people (--stats) and for programs
 * (--json-stats: one JSON object on one line). */
#include "stats.h"
#include "prog.h"

#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"json", "log", "search", "diff", "text"};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static double percent(size_t part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void print_stats_human(const hr_compressor *c, const char *input)
{
    hr_compress_stats st;
    hr_compressor_stats(c, &st);
    size_t saved = st.tokens_before - st.tokens_after;
    fprintf(stderr, "%s: %s: %s, %s%s, scorer %s%s%s%s\n", prog_name(), input, hr_format_name(st.format), st.encoding,
            st.is_estimate ? " (estimate)" : "", st.scorer, st.scorer_backend ? " (" : "",
            st.scorer_backend ? st.scorer_backend : "", st.scorer_backend ? ")" : "");
    fprintf(stderr, "  tokens   %zu -> %zu, saved %zu (%.1f%%)\n", st.tokens_before, st.tokens_after, saved,
            percent(saved, st.tokens_before));
    fprintf(stderr, "  saved    %zu re-encoded (lossless), %zu cut (lossy)\n", st.tokens_before - st.tokens_lossless,
            st.tokens_lossless - st.tokens_after);
    for (size_t k = 0; k < N_KINDS; k++) {
        size_t n = 0, before = 0, lossless = 0, after = 0;
        hr_compress_unit u;
        for (size_t i = 0; hr_compressor_unit(c, i, &u) == HR_OK; i++) {
            if (strcmp(u.kind, kinds[k])) continue;
            n++;
            before += u.tokens_before;
            lossless += u.tokens_lossless;
            after += u.tokens_after;
        }
        if (n)
            fprintf(stderr, "  %-8s %zu unit%s, %zu -> %zu, saved %zu (%zu re-encoded, %zu cut)\n", kinds[k], n,
                    n == 1 ? "" : "s", before, after, before - after, before - lossless, lossless - after);
    }
    fprintf(stderr, "  time     %.2f ms\n", st.elapsed_ms);
}

void print_stats_json(const hr_compressor *c)
{
    hr_compress_stats st;
    hr_compressor_stats(c, &st);
    fprintf(stderr, "{\"format\":\"%s\",\"encoding\":\"%s\",\"estimate\":%s,\"scorer\":\"%s\",",
            hr_format_name(st.format), st.encoding, st.is_estimate ? "true" : "false", st.scorer);
    if (st.scorer_backend) fprintf(stderr, "\"scorer_backend\":\"%s\",", st.scorer_backend);
    fprintf(stderr,
            "\"tokens_before\":%zu,\"tokens_after\":%zu,\"tokens_saved\":%zu,\"saved_lossless\":%zu,"
            "\"saved_lossy\":%zu,\"units\":[",
            st.tokens_before, st.tokens_after, st.tokens_before - st.tokens_after,
            st.tokens_before - st.tokens_lossless, st.tokens_lossless - st.tokens_after);
    hr_compress_unit u;
    for (size_t i = 0; hr_compressor_unit(c, i, &u) == HR_OK; i++) {
        fputs(i ? ",{\"where\":" : "{\"where\":", stderr);
        prog_json_string(stderr, u.where);
        fprintf(stderr, ",\"kind\":\"%s\",\"message\":%zu,\"before\":%zu,\"lossless\":%zu,\"after\":%zu}", u.kind,
                u.message, u.tokens_before, u.tokens_lossless, u.tokens_after);
    }
    fprintf(stderr, "],\"elapsed_ms\":%.3f}\n", st.elapsed_ms);
}
