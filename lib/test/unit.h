/* A small unit-test harness: each check prints what differed; each test
 * function prints one line of scripts/run-tests's protocol, "ok NAME",
 * "not ok NAME" or "skip NAME: ..."; main returns 1 if any failed. */
#ifndef HR_UNIT_H
#define HR_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_any_failed;
/* set by a test that cannot run on this machine (no GPU, a build without
 * CUDA), after a line saying why: installing nothing would run it, so the
 * skip is marked "# env" and stays a skip in a strict run */
static int unit_skipped;
/* set by a test whose dependency is not installed, to what installs it: a
 * skip that a strict run fails */
static const char *unit_missing;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                          \
            unit_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ_U(got, want)                                                                                          \
    do {                                                                                                               \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);                            \
        if (g_ != w_) {                                                                                                \
            printf("  %s:%d: %s is %llu, expected %llu\n", __FILE__, __LINE__, #got, g_, w_);                          \
            unit_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ_S(got, want)                                                                                          \
    do {                                                                                                               \
        const char *g_ = (got), *w_ = (want);                                                                          \
        if (!g_ || strcmp(g_, w_)) {                                                                                   \
            printf("  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_);      \
            unit_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define RUN(fn)                                                                                                        \
    do {                                                                                                               \
        unit_failed_checks = 0, unit_skipped = 0, unit_missing = NULL;                                                 \
        fn();                                                                                                          \
        if (unit_failed_checks) printf("not ok %s\n", #fn);                                                            \
        else if (unit_missing) printf("skip %s: needs %s\n", #fn, unit_missing);                                       \
        else if (unit_skipped) printf("skip %s: not on this machine, as the line above says # env\n", #fn);            \
        else printf("ok %s\n", #fn);                                                                                   \
        if (unit_failed_checks) unit_any_failed = 1;                                                                   \
    } while (0)

/* The whole file at path (relative to the top of the tree, where the tests
 * run); a missing one is a failed check. */
#include "hr.h"
static inline hr_buf unit_read_file(const char *path)
{
    hr_buf b = HR_BUF_INIT;
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    if (!f) {
        printf("  cannot open %s (run the tests from the top of the tree)\n", path);
        unit_failed_checks++;
        return b;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hr_buf_append(&b, chunk, n);
    fclose(f);
    return b;
}

#endif
