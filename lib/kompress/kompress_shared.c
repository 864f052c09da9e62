/* One loaded Kompress model per folder and backend for the whole process:
 * hr-proxy's workers each have a compressor, and a base model is 600 MB of
 * weights. Tokenising takes turns (the tokenizer's scratch is the model's);
 * runs are left to the backend: the CPU's takes one at a time, since it
 * spreads a run's windows over every core, and the GPU's up to its
 * max_concurrent, each with memory of its own. */
#include "compress/compress_internal.h"
#include "kompress/kompress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hr_kshared {
    struct hr_kompress k;
    char key[1100];
    int refs;
    pthread_mutex_t tok;
    struct hr_kshared *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hr_kshared *registry;

hr_status hr__kshared_acquire(const char *dir, const char *backend, size_t max_concurrent, struct hr_kshared **out,
                              char *err, size_t err_len, char *note, size_t note_len)
{
    char key[1100];
    const char *want = hr__kompress_backend_wanted(backend);
    snprintf(key, sizeof key, "%s|%s", want, dir);
    if (note_len) note[0] = '\0';
    pthread_mutex_lock(&registry_lock);
    struct hr_kshared *m = registry;
    while (m && strcmp(m->key, key)) m = m->next;
    hr_status st = HR_OK;
    if (!m) {
        m = calloc(1, sizeof *m);
        st = m ? hr__kompress_open(&m->k, dir, want, max_concurrent, err, err_len, note, note_len) : HR_ENOMEM;
        if (st) {
            free(m);
            m = NULL;
        } else {
            snprintf(m->key, sizeof m->key, "%s", key);
            pthread_mutex_init(&m->tok, NULL);
            m->next = registry;
            registry = m;
        }
    }
    if (m) m->refs++;
    pthread_mutex_unlock(&registry_lock);
    *out = m;
    return st;
}

void hr__kshared_release(struct hr_kshared *m)
{
    if (!m) return;
    pthread_mutex_lock(&registry_lock);
    if (--m->refs == 0) {
        struct hr_kshared **p = &registry;
        while (*p != m) p = &(*p)->next;
        *p = m->next;
        hr__kompress_close(&m->k);
        pthread_mutex_destroy(&m->tok);
        free(m);
    }
    pthread_mutex_unlock(&registry_lock);
}

hr_status hr__kshared_words(struct hr_kshared *m, const char *text, size_t len, struct hr_kword **words, size_t *n)
{
    return hr__kompress_words_locked(&m->k, &m->tok, text, len, words, n);
}

const char *hr__kshared_backend(const struct hr_kshared *m)
{
    return m->k.backend->name;
}
