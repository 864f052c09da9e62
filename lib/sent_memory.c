/* What a proxy sent of each tool result, so that a result leaves the same
 * way in every later request whatever happens meanwhile: a compression that
 * timed out or failed, a setting changed by SIGHUP, a result sent before hr
 * was in the path. Keyed by the SHA-256 of the result as the client sends
 * it; the value is the string sent instead, or nothing (sent as it came).
 * Held in memory only (tool output may hold secrets), bounded by bytes, the
 * least recently used going first; one lock, shared by the workers. */
#include "compress_internal.h"
#include "sha256.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sent_entry {
    unsigned char key[32];
    char *bytes; /* NULL: sent as it came */
    size_t len;
    struct sent_entry *next_in_slot, *newer, *older;
};

struct hr_sent {
    pthread_mutex_t lock;
    struct sent_entry **slots;
    size_t n_slots, n, bytes, max_bytes;
    struct sent_entry *newest, *oldest;
};

#define ENTRY_OVERHEAD (sizeof(struct sent_entry) + 16)

hr_status hr_sent_new(size_t max_bytes, hr_sent **out)
{
    if (!out) return HR_EINVAL;
    hr_sent *s = calloc(1, sizeof *s);
    if (!s) return HR_ENOMEM;
    s->n_slots = 4096;
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    if (!s->slots || pthread_mutex_init(&s->lock, NULL)) {
        free(s->slots);
        free(s);
        return HR_ENOMEM;
    }
    s->max_bytes = max_bytes ? max_bytes : HR_SENT_MAX_BYTES_DEFAULT;
    *out = s;
    return HR_OK;
}

void hr_sent_free(hr_sent *s)
{
    if (!s) return;
    for (struct sent_entry *e = s->newest, *next; e; e = next) {
        next = e->older;
        free(e->bytes);
        free(e);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
    free(s);
}

size_t hr_sent_count(hr_sent *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static size_t slot_of(const hr_sent *s, const unsigned char key[32])
{
    size_t h;
    memcpy(&h, key, sizeof h);
    return h & (s->n_slots - 1);
}

static struct sent_entry *find(const hr_sent *s, const unsigned char key[32])
{
    for (struct sent_entry *e = s->slots[slot_of(s, key)]; e; e = e->next_in_slot)
        if (!memcmp(e->key, key, 32)) return e;
    return NULL;
}

static void unlink_lru(hr_sent *s, struct sent_entry *e)
{
    if (e->newer) e->newer->older = e->older;
    else s->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(hr_sent *s, struct sent_entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest) s->newest->newer = e;
    s->newest = e;
    if (!s->oldest) s->oldest = e;
}

static void evict_oldest(hr_sent *s)
{
    struct sent_entry *e = s->oldest;
    unlink_lru(s, e);
    struct sent_entry **p = &s->slots[slot_of(s, e->key)];
    while (*p != e) p = &(*p)->next_in_slot;
    *p = e->next_in_slot;
    s->bytes -= e->len + ENTRY_OVERHEAD;
    s->n--;
    free(e->bytes);
    free(e);
}

void hr__sent_key(const char *bytes, size_t len, unsigned char key[32])
{
    struct hr_sha256 h;
    hr__sha256_init(&h);
    hr__sha256_update(&h, bytes, len);
    hr__sha256_final(&h, key);
}

int hr__sent_get(hr_sent *s, const unsigned char key[32], hr_buf *sent, int *raw)
{
    pthread_mutex_lock(&s->lock);
    struct sent_entry *e = find(s, key);
    int found = e != NULL;
    if (e) {
        unlink_lru(s, e);
        push_newest(s, e);
        *raw = e->bytes == NULL;
        if (e->bytes && hr_buf_append(sent, e->bytes, e->len)) found = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

hr_status hr__sent_put(hr_sent *s, const unsigned char key[32], const char *bytes, size_t len, hr_buf *winner,
                       int *raw)
{
    pthread_mutex_lock(&s->lock);
    hr_status st = HR_OK;
    struct sent_entry *e = find(s, key);
    if (!e) { /* first: what this caller sends */
        e = calloc(1, sizeof *e);
        if (e && bytes && !(e->bytes = malloc(len ? len : 1))) {
            free(e);
            e = NULL;
        }
        if (!e) {
            st = HR_ENOMEM;
        } else {
            memcpy(e->key, key, 32);
            if (bytes) memcpy(e->bytes, bytes, len);
            e->len = bytes ? len : 0;
            size_t slot = slot_of(s, key);
            e->next_in_slot = s->slots[slot];
            s->slots[slot] = e;
            push_newest(s, e);
            s->n++;
            s->bytes += e->len + ENTRY_OVERHEAD;
            while (s->bytes > s->max_bytes && s->oldest != e) evict_oldest(s);
        }
    }
    if (!st) { /* what was sent first wins, for this caller too */
        *raw = e->bytes == NULL;
        if (e->bytes) st = hr_buf_append(winner, e->bytes, e->len);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}
