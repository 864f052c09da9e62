/* Access to the rank tables embedded by lib/tokenizer/vocab_blobs.S. */
#include "tokenizer/tokenizer_internal.h"

#include <pthread.h>

extern const unsigned char hr__vocab_blob_cl100k_base[];
extern const unsigned char hr__vocab_blob_o200k_base[];

static struct hr_vocab vocabs[2];
static pthread_once_t vocabs_once = PTHREAD_ONCE_INIT;

static void vocab_init(struct hr_vocab *v, const char *name, const unsigned char *blob)
{
    const struct hr_vocab_header *h = (const void *)blob;
    size_t off_words = (size_t)h->n_ranks + 1;
    off_words += off_words & 1; /* padded to 8 bytes */
    v->name = name;
    v->offsets = (const uint32_t *)(blob + sizeof *h);
    v->slots = (const uint64_t *)(blob + sizeof *h + off_words * 4);
    v->bytes = (const unsigned char *)(v->slots + (size_t)h->table_mask + 1);
    v->mask = h->table_mask;
    v->n_ranks = h->n_ranks;
    v->max_token_len = h->max_token_len;
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        v->byte_rank[b] = hr_vocab_lookup(v, &c, 1);
    }
}

static void vocabs_init(void)
{
    vocab_init(&vocabs[0], "cl100k_base", hr__vocab_blob_cl100k_base);
    vocab_init(&vocabs[1], "o200k_base", hr__vocab_blob_o200k_base);
}

const struct hr_vocab *hr__vocab_get(const char *encoding)
{
    pthread_once(&vocabs_once, vocabs_init);
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++)
        if (!strcmp(vocabs[i].name, encoding)) return &vocabs[i];
    return NULL;
}
