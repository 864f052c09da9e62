/* Layout of the rank tables embedded in libhr. scripts/mkvocab.c writes them at
 * build time and lib/tokenizer/vocab.c reads them in place, so both include this file and
 * agree on the hash function byte for byte. */
#ifndef HR_VOCAB_FORMAT_H
#define HR_VOCAB_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HR_VOCAB_MAGIC 0x31767268u /* "hrv1" little-endian */

/* The blob: this header, then uint32_t offsets[n_ranks + 1] (token r is
 * bytes[offsets[r] .. offsets[r + 1])), padded to 8 bytes, then the hash table
 * uint64_t slots[table_mask + 1], then the token bytes. A slot holds
 * (hash >> 32) << 32 | (rank + 1); 0 marks an empty slot. Linear probing. */
struct hr_vocab_header {
    uint32_t magic;
    uint32_t n_ranks;
    uint32_t table_mask;
    uint32_t bytes_len;
    uint32_t max_token_len;
    uint32_t reserved[3];
};

static inline uint64_t hr_vocab_mix(uint64_t h)
{
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ull;
    h ^= h >> 27;
    h *= 0x81dadef4bc2dd44dull;
    h ^= h >> 33;
    return h;
}

/* Hash of a byte string. Tokens are short (most under 8 bytes), so the common
 * case is one unaligned load and one mix. */
static inline uint64_t hr_vocab_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * (n + 1);
    while (n > 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n == 8) {
        memcpy(&w, p, 8);
    } else {
        for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
    }
    return hr_vocab_mix(h ^ w);
}

#endif
