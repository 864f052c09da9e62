/* The lexical scorer, the one that always works: a segment scores by its
 * relevance to the task (the task's words it holds, weighted by how rare they
 * are in the unit) plus its informativeness (rare words, and things an agent
 * cannot reconstruct: numbers, identifiers, paths, hashes). */
#include "compress_internal.h"

#include <math.h>
#include <stdlib.h>

struct lexical {
    struct hr_scorer base;
    struct hr_termtab df;
};

static float idf(uint32_t df, size_t n)
{
    return logf(1.0f + (float)n / (float)(df ? df : 1));
}

static float segment_score(struct lexical *lx, const struct hr_query *q, const char *s, size_t len,
                           size_t n_segs)
{
    float relevance = 0.0f, info = 0.0f;
    size_t words = 0, i = 0, ws, wl;
    while ((i = hr__next_word(s, len, i, &ws, &wl)), wl) {
        uint64_t h = hr__hash_lower(s + ws, wl);
        float w = idf(hr__termtab_df(&lx->df, h), n_segs);
        words++;
        if (hr__query_has_term(q, h)) relevance += w;
        info += w;
    }
    if (!words) return 0.0f;
    unsigned f = hr__features(s, len);
    float bonus = 0.0f;
    if (f & (HR_F_UUID | HR_F_HASH | HR_F_URL | HR_F_ERRCODE)) bonus += 1.0f;
    if (f & (HR_F_PATH | HR_F_FLAG | HR_F_IDENT)) bonus += 0.5f;
    if (f & HR_F_NUMBER) bonus += 0.25f;
    /* density, so long segments do not win by length alone */
    return 3.0f * relevance + info / sqrtf((float)words) + bonus;
}

static hr_status lexical_score(struct hr_scorer *self, const struct hr_query *q, const char *text,
                               const struct hr_seg *segs, size_t n, float *scores)
{
    struct lexical *lx = (struct lexical *)self;
    hr__termtab_free(&lx->df);
    for (size_t k = 0; k < n; k++) {
        size_t i = segs[k].off, end = segs[k].off + segs[k].len, ws, wl;
        while ((i = hr__next_word(text, end, i, &ws, &wl)), wl)
            if (hr__termtab_add(&lx->df, hr__hash_lower(text + ws, wl), (uint32_t)k)) return HR_ENOMEM;
    }
    for (size_t k = 0; k < n; k++)
        scores[k] = segment_score(lx, q, text + segs[k].off, segs[k].len, n);
    return HR_OK;
}

static void lexical_destroy(struct hr_scorer *self)
{
    struct lexical *lx = (struct lexical *)self;
    hr__termtab_free(&lx->df);
    free(lx);
}

hr_status hr__scorer_lexical_new(struct hr_scorer **out)
{
    struct lexical *lx = calloc(1, sizeof *lx);
    if (!lx) return HR_ENOMEM;
    lx->base.name = "lexical";
    lx->base.score = lexical_score;
    lx->base.destroy = lexical_destroy;
    *out = &lx->base;
    return HR_OK;
}
