/* Build-time tool: turns a gzip'ed tiktoken rank file (lines "base64 rank") into
 * the binary table libhr embeds (layout in lib/tokenizer/vocab_format.h).
 * Usage: mkvocab IN.tiktoken.gz OUT.bin */
#include "tokenizer/vocab_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static void die(const char *in, long line, const char *msg)
{
    fprintf(stderr, "mkvocab: %s:%ld: %s\n", in, line, msg);
    exit(1);
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard padded base64; returns the byte count or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    long len = 0;
    if (n == 0 || n % 4 != 0) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_value((unsigned char)s[i + k])) < 0 || pad) {
                return -1;
            }
        }
        uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[len++] = (unsigned char)(q >> 16);
        if (pad < 2) out[len++] = (unsigned char)(q >> 8);
        if (pad < 1) out[len++] = (unsigned char)q;
    }
    return len;
}

struct token {
    unsigned char *bytes;
    uint32_t len;
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkvocab IN.tiktoken.gz OUT.bin\n");
        return 2;
    }
    const char *in = argv[1];
    gzFile gz = gzopen(in, "rb");
    if (!gz) die(in, 0, "cannot open");

    size_t cap = 1 << 18, n_ranks = 0, bytes_len = 0, max_len = 0;
    struct token *tok = calloc(cap, sizeof *tok);
    char line[1024];
    long lineno = 0;
    while (gzgets(gz, line, sizeof line)) {
        lineno++;
        char *sp = strchr(line, ' ');
        if (!sp) die(in, lineno, "expected 'base64 rank'");
        char *end;
        unsigned long rank = strtoul(sp + 1, &end, 10);
        if (end == sp + 1 || (*end != '\n' && *end != '\0') || rank >= cap) die(in, lineno, "bad rank");
        if (tok[rank].bytes) die(in, lineno, "duplicate rank");
        unsigned char buf[768];
        long len = b64_decode(line, (size_t)(sp - line), buf);
        if (len <= 0) die(in, lineno, "bad base64");
        tok[rank].bytes = malloc((size_t)len);
        memcpy(tok[rank].bytes, buf, (size_t)len);
        tok[rank].len = (uint32_t)len;
        if (rank + 1 > n_ranks) n_ranks = rank + 1;
        if ((size_t)len > max_len) max_len = (size_t)len;
        bytes_len += (size_t)len;
    }
    gzclose(gz);
    for (size_t r = 0; r < n_ranks; r++)
        if (!tok[r].bytes) die(in, 0, "ranks are not dense");

    size_t slots = 1;
    while (slots < 2 * n_ranks) slots <<= 1;
    uint64_t *table = calloc(slots, sizeof *table);
    for (size_t r = 0; r < n_ranks; r++) {
        uint64_t h = hr_vocab_hash(tok[r].bytes, tok[r].len);
        size_t i = h & (slots - 1);
        while (table[i]) {
            uint32_t other = (uint32_t)table[i] - 1;
            if (tok[other].len == tok[r].len && !memcmp(tok[other].bytes, tok[r].bytes, tok[r].len))
                die(in, 0, "duplicate token bytes");
            i = (i + 1) & (slots - 1);
        }
        table[i] = (h >> 32) << 32 | (uint64_t)(r + 1);
    }

    struct hr_vocab_header hdr = {
        .magic = HR_VOCAB_MAGIC,
        .n_ranks = (uint32_t)n_ranks,
        .table_mask = (uint32_t)(slots - 1),
        .bytes_len = (uint32_t)bytes_len,
        .max_token_len = (uint32_t)max_len,
    };
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *out = fopen(tmp, "wb");
    if (!out) die(argv[2], 0, "cannot create");
    fwrite(&hdr, sizeof hdr, 1, out);
    uint32_t off = 0;
    for (size_t r = 0; r <= n_ranks; r++) {
        fwrite(&off, sizeof off, 1, out);
        if (r < n_ranks) off += tok[r].len;
    }
    if ((n_ranks + 1) % 2) fwrite("\0\0\0\0", 4, 1, out); /* pad the offsets to 8 bytes */
    fwrite(table, sizeof *table, slots, out);
    for (size_t r = 0; r < n_ranks; r++) fwrite(tok[r].bytes, 1, tok[r].len, out);
    if (fclose(out) != 0 || rename(tmp, argv[2]) != 0) die(argv[2], 0, "cannot write");
    for (size_t r = 0; r < n_ranks; r++) free(tok[r].bytes);
    free(tok);
    free(table);
    return 0;
}
