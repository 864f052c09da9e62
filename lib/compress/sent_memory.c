/* What a proxy sent of each tool result, so that a result leaves the same
 * way in every later request whatever happens meanwhile: a compression that
 * timed out or failed, a setting changed by SIGHUP, a result sent before hr
 * was in the path. Keyed by the SHA-256 of the result as the client sends
 * it; the value is the string sent instead, or nothing (sent as it came).
 * The strings are held in memory only (tool output may hold secrets),
 * bounded by bytes, the least recently used going first; one lock, shared
 * by the workers. An index on disk keeps, per key, only whether the result
 * went as it came or the SHA-256 of what went instead, so that after a
 * restart a result is sent again as it was when the same compression gives
 * the same bytes, and as it came when it went so. */
#include "compress/compress_internal.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sent_entry {
    unsigned char key[32];
    char *bytes; /* NULL: sent as it came */
    size_t len;
    struct sent_entry *next_in_slot, *newer, *older;
};

/* One record of the index: the key, 0 (as it came) or 1, the SHA-256 of
 * what went instead. */
#define RECORD 65
#define INDEX_MAX_RECORDS 200000

struct recalled {
    unsigned char rec[RECORD];
    struct recalled *next;
};

struct hr_sent {
    pthread_mutex_t lock;
    struct sent_entry **slots;
    size_t n_slots, n, bytes, max_bytes;
    struct sent_entry *newest, *oldest;
    struct recalled **index; /* the index read at start, by key */
    size_t n_index;
    int index_fd; /* appended to; -1 when there is none */
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
    s->index_fd = -1;
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
    for (size_t i = 0; s->index && i < s->n_slots; i++)
        for (struct recalled *r = s->index[i], *next; r; r = next) {
            next = r->next;
            free(r);
        }
    if (s->index_fd >= 0) close(s->index_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->index);
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

static void index_append(hr_sent *s, const struct sent_entry *e);

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

hr_status hr__sent_put(hr_sent *s, const unsigned char key[32], const char *bytes, size_t len, hr_buf *winner, int *raw)
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
            index_append(s, e);
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

/* ---- the index on disk ------------------------------------------------------ */

static hr_status recall_add(hr_sent *s, const unsigned char rec[RECORD])
{
    size_t slot = slot_of(s, rec);
    for (struct recalled *r = s->index[slot]; r; r = r->next)
        if (!memcmp(r->rec, rec, 32)) { /* the later record wins */
            memcpy(r->rec, rec, RECORD);
            return HR_OK;
        }
    struct recalled *r = malloc(sizeof *r);
    if (!r) return HR_ENOMEM;
    memcpy(r->rec, rec, RECORD);
    r->next = s->index[slot];
    s->index[slot] = r;
    s->n_index++;
    return HR_OK;
}

/* Reads the records of fd; a part record (a write cut short) is left out. */
static hr_status read_index(hr_sent *s, int fd, size_t *records)
{
    unsigned char buf[RECORD * 256];
    size_t have = 0;
    *records = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return HR_EIO;
        if (n == 0) break;
        have += (size_t)n;
        size_t whole = have - have % RECORD;
        for (size_t at = 0; at < whole; at += RECORD, (*records)++) {
            hr_status st = recall_add(s, buf + at);
            if (st) return st;
        }
        memmove(buf, buf + whole, have - whole);
        have -= whole;
    }
    return HR_OK;
}

/* Past INDEX_MAX_RECORDS the file is written anew with one record per key:
 * a temporary file, synced, renamed. */
static hr_status compact_index(hr_sent *s, const char *path)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp) return HR_ENOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    hr_status st = fd < 0 ? HR_EIO : HR_OK;
    for (size_t i = 0; !st && i < s->n_slots; i++)
        for (struct recalled *r = s->index[i]; r && !st; r = r->next)
            if (write(fd, r->rec, RECORD) != RECORD) st = HR_EIO;
    if (fd >= 0 && (fsync(fd) || close(fd))) st = HR_EIO;
    if (!st && rename(tmp, path)) st = HR_EIO;
    if (st) unlink(tmp);
    free(tmp);
    return st;
}

hr_status hr_sent_open_index(hr_sent *s, const char *path)
{
    if (!s || !path) return HR_EINVAL;
    s->index = calloc(s->n_slots, sizeof *s->index);
    if (!s->index) return HR_ENOMEM;
    int fd = open(path, O_RDONLY);
    size_t records = 0;
    hr_status st = fd < 0 ? (errno == ENOENT ? HR_OK : HR_EIO) : read_index(s, fd, &records);
    if (fd >= 0) close(fd);
    struct stat sb;
    /* a record a crash cut short goes, or every later one would be misread */
    if (!st && !stat(path, &sb) && sb.st_size % RECORD && truncate(path, sb.st_size - sb.st_size % RECORD)) st = HR_EIO;
    if (!st && records > INDEX_MAX_RECORDS) st = compact_index(s, path);
    if (!st) {
        s->index_fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (s->index_fd < 0) st = HR_EIO;
    }
    return st;
}

int hr__sent_recall(hr_sent *s, const unsigned char key[32], unsigned char hash[32], int *raw)
{
    pthread_mutex_lock(&s->lock);
    const struct recalled *found = NULL;
    for (const struct recalled *r = s->index ? s->index[slot_of(s, key)] : NULL; r && !found; r = r->next)
        if (!memcmp(r->rec, key, 32)) found = r;
    if (found) {
        *raw = found->rec[32] == 0;
        memcpy(hash, found->rec + 33, 32);
    }
    pthread_mutex_unlock(&s->lock);
    return found != NULL;
}

/* Under the lock: one record for a new entry; the index is what helps, a
 * record lost to a full disk costs one cache miss after a restart. */
static void index_append(hr_sent *s, const struct sent_entry *e)
{
    if (s->index_fd < 0) return;
    unsigned char rec[RECORD] = {0};
    memcpy(rec, e->key, 32);
    rec[32] = e->bytes != NULL;
    if (e->bytes) hr__sent_key(e->bytes, e->len, rec + 33);
    ssize_t n;
    do n = write(s->index_fd, rec, RECORD);
    while (n < 0 && errno == EINTR);
}
