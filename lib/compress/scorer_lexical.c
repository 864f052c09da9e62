/* The lexical scorer, the one that always works: a segment scores by its
 * relevance to the task (the task's words it holds, weighted by how rare they
 * are in the unit) plus its informativeness (rare words, and things an agent
 * cannot reconstruct: numbers, identifiers, paths, hashes). */
#include "compress/compress_internal.h"
#include "util/grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lexical {
    struct hr_scorer base;
    struct hr_termtab df;
    uint64_t *hashes; /* every word's folded hash, segment after segment */
    size_t cap_hashes;
    size_t *first; /* first[k]: where segment k's words start in hashes */
    size_t cap_first;
    float *idf; /* idf[df] for this unit, 0 until computed */
    size_t cap_idf;
};

static float idf_of(struct lexical *lx, uint32_t df, size_t n)
{
    if (!df) df = 1;
    if (!lx->idf[df]) lx->idf[df] = logf(1.0f + (float)n / (float)df);
    return lx->idf[df];
}

static float segment_score(struct lexical *lx, const struct hr_query *q, const char *s, size_t len, size_t k,
                           size_t n_segs)
{
    float relevance = 0.0f, info = 0.0f;
    size_t words = lx->first[k + 1] - lx->first[k];
    for (size_t i = lx->first[k]; i < lx->first[k + 1]; i++) {
        uint64_t h = lx->hashes[i];
        float w = idf_of(lx, hr__termtab_df(&lx->df, h), n_segs);
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

/* Each word hashed once: the hashes are kept for the scoring pass. */
static hr_status hash_words(struct lexical *lx, const char *text, const struct hr_seg *segs, size_t n)
{
    size_t m = 0;
    void *p = hr_grow(lx->first, &lx->cap_first, n + 1, sizeof *lx->first);
    if (!p) return HR_ENOMEM;
    lx->first = p;
    for (size_t k = 0; k < n; k++) {
        lx->first[k] = m;
        size_t i = segs[k].off, end = segs[k].off + segs[k].len, ws, wl;
        while ((i = hr__next_word(text, end, i, &ws, &wl)), wl) {
            if (m == lx->cap_hashes) {
                p = hr_grow(lx->hashes, &lx->cap_hashes, m + 1, sizeof *lx->hashes);
                if (!p) return HR_ENOMEM;
                lx->hashes = p;
            }
            uint64_t h = hr__hash_lower(text + ws, wl);
            lx->hashes[m++] = h;
            if (hr__termtab_add(&lx->df, h, (uint32_t)k)) return HR_ENOMEM;
        }
    }
    lx->first[n] = m;
    p = hr_grow(lx->idf, &lx->cap_idf, n + 1, sizeof *lx->idf);
    if (!p) return HR_ENOMEM;
    lx->idf = p;
    memset(lx->idf, 0, (n + 1) * sizeof *lx->idf);
    return HR_OK;
}

static hr_status lexical_score(struct hr_scorer *self, const struct hr_query *q, const char *text,
                               const struct hr_seg *segs, size_t n, float *scores)
{
    struct lexical *lx = (struct lexical *)self;
    hr__termtab_free(&lx->df);
    hr_status st = hash_words(lx, text, segs, n);
    if (st) return st;
    for (size_t k = 0; k < n; k++) scores[k] = segment_score(lx, q, text + segs[k].off, segs[k].len, k, n);
    return HR_OK;
}

static void lexical_destroy(struct hr_scorer *self)
{
    struct lexical *lx = (struct lexical *)self;
    hr__termtab_free(&lx->df);
    free(lx->hashes);
    free(lx->first);
    free(lx->idf);
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
