/* A small unit-test harness: each check prints what differed; each test
 * function prints one PASS or FAIL line; main returns 1 if any failed. */
#ifndef HR_UNIT_H
#define HR_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_any_failed;
static int unit_skipped; /* set by a test that cannot run here; it says why */

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                 \
            unit_failed_checks++;                                                             \
        }                                                                                     \
    } while (0)

#define CHECK_EQ_U(got, want)                                                                 \
    do {                                                                                      \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);    \
        if (g_ != w_) {                                                                       \
            printf("  %s:%d: %s is %llu, expected %llu\n", __FILE__, __LINE__, #got, g_, w_); \
            unit_failed_checks++;                                                             \
        }                                                                                     \
    } while (0)

#define CHECK_EQ_S(got, want)                                                                 \
    do {                                                                                      \
        const char *g_ = (got), *w_ = (want);                                                 \
        if (!g_ || strcmp(g_, w_)) {                                                          \
            printf("  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got,      \
                   g_ ? g_ : "(null)", w_);                                                   \
            unit_failed_checks++;                                                             \
        }                                                                                     \
    } while (0)

#define RUN(fn)                                                                               \
    do {                                                                                      \
        unit_failed_checks = 0, unit_skipped = 0;                                             \
        fn();                                                                                 \
        printf("%s %s\n", unit_failed_checks ? "FAIL" : unit_skipped ? "SKIP" : "PASS", #fn);  \
        if (unit_failed_checks) unit_any_failed = 1;                                          \
    } while (0)

#endif
