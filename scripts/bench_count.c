/* Times hr_tokenizer_count on files, single-threaded: prints MB/s per file.
 * Usage: bench_count ENCODING FILE...  (each file is counted for >= 1 s) */
#include "hr.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    hr_tokenizer *t;
    if (argc < 3 || hr_tokenizer_new(argv[1], &t)) {
        fprintf(stderr, "usage: bench_count ENCODING FILE...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        char *buf = malloc((size_t)len + 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) return 1;
        fclose(f);
        size_t n = 0;
        int runs = 0;
        double best = 1e9, start = now();
        while (runs < 3 || now() - start < 1.0) { /* best of several runs */
            double t0 = now();
            hr_tokenizer_count(t, buf, (size_t)len, 0, &n);
            double dt = now() - t0;
            if (dt < best) best = dt;
            runs++;
        }
        printf("%s\t%ld\t%zu\t%.4f\t%.1f\n", argv[i], len, n, best, (double)len / best / 1e6);
        free(buf);
    }
    hr_tokenizer_free(t);
    return 0;
}
