/* A backend other than the CPU's is checked against the CPU once, when it
 * starts, on one short window: a GPU backend whose scores are wrong (a
 * driver, a card or a kernel at fault) must not cut a user's context
 * without anyone knowing. fp16 arithmetic moves a score by a few
 * thousandths; broken arithmetic moves it by far more, or to NaN. */
#include "kompress/kompress.h"

#include <math.h>
#include <stdlib.h>

#define CHECK_TOKENS 64
#define CHECK_TOLERANCE 0.05

double hr__kwindow_score(const struct hr_kwindow *win, size_t t)
{
    double p = 1.0 / (1.0 + exp((double)win->logit0[t] - win->logit1[t]));
    return p * (0.5 + 0.5 * win->span[t]);
}

hr_status hr__kbackend_selfcheck(const struct hr_kweights *w, uint32_t cls, uint32_t sep, struct hr_kbackend *other,
                                 double *worst)
{
    *worst = 0;
    uint32_t ids[CHECK_TOKENS];
    float out[2][3 * CHECK_TOKENS];
    ids[0] = cls, ids[CHECK_TOKENS - 1] = sep;
    for (size_t i = 1; i + 1 < CHECK_TOKENS; i++) ids[i] = (uint32_t)((i * 7919u + 13u) % (uint32_t)w->cfg.vocab);
    struct hr_kwindow win[2];
    for (int k = 0; k < 2; k++)
        win[k] = (struct hr_kwindow){ids, CHECK_TOKENS, out[k], out[k] + CHECK_TOKENS, out[k] + 2 * CHECK_TOKENS};
    struct hr_kbackend *cpu = NULL;
    hr_status st = hr__kbackend_cpu_new(w, 1, HR_KPREC_FP32, &cpu);
    if (!st) st = cpu->run(cpu, &win[0], 1);
    if (!st) st = other->run(other, &win[1], 1);
    if (cpu) cpu->destroy(cpu);
    if (st) return st;
    for (size_t t = 0; t < CHECK_TOKENS; t++) {
        double d = fabs(hr__kwindow_score(&win[0], t) - hr__kwindow_score(&win[1], t));
        if (!(d <= *worst)) *worst = isnan(d) ? INFINITY : d;
    }
    return *worst <= CHECK_TOLERANCE ? HR_OK : HR_EMODEL;
}
