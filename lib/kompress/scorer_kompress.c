/* The kompress scorer: the model decides which words of a prose unit stay;
 * lines, items and matches are still ranked by the lexical scorer, since the
 * model was trained on word decisions in prose, not on ranking records. */
#include "compress/compress_internal.h"
#include "kompress/kompress.h"

#include <stdlib.h>

struct kompress_scorer {
    struct hr_scorer base;
    struct hr_scorer *lexical;
    struct hr_kshared *model;
};

static hr_status kompress_score(struct hr_scorer *self, const struct hr_query *q, const char *text,
                                const struct hr_seg *segs, size_t n, float *scores)
{
    struct kompress_scorer *ks = (struct kompress_scorer *)self;
    return ks->lexical->score(ks->lexical, q, text, segs, n, scores);
}

static hr_status kompress_words(struct hr_scorer *self, const char *text, size_t len, struct hr_kword **words,
                                size_t *n)
{
    struct kompress_scorer *ks = (struct kompress_scorer *)self;
    return hr__kshared_words(ks->model, text, len, words, n);
}

static void kompress_destroy(struct hr_scorer *self)
{
    struct kompress_scorer *ks = (struct kompress_scorer *)self;
    if (ks->lexical) ks->lexical->destroy(ks->lexical);
    hr__kshared_release(ks->model);
    free(ks);
}

hr_status hr__scorer_kompress_new(const char *dir, const struct hr_scorer_request *rq, struct hr_scorer **out,
                                  char *err, size_t err_len, char *note, size_t note_len)
{
    *out = NULL;
    struct kompress_scorer *ks = calloc(1, sizeof *ks);
    if (!ks) return HR_ENOMEM;
    hr_status st = hr__scorer_lexical_new(&ks->lexical);
    if (!st) st = hr__kshared_acquire(dir, rq->backend, rq->max_concurrent, &ks->model, err, err_len, note, note_len);
    if (st) {
        kompress_destroy(&ks->base);
        return st;
    }
    ks->base = (struct hr_scorer){.name = "kompress",
                                  .backend = hr__kshared_backend(ks->model),
                                  .score = kompress_score,
                                  .prose_words = kompress_words,
                                  .destroy = kompress_destroy};
    *out = &ks->base;
    return HR_OK;
}
