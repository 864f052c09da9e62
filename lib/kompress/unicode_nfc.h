/* Unicode Normalization Form C, which Hugging Face tokenizers apply before
 * a model's BPE when tokenizer.json names the NFC normalizer (ModernBERT's
 * does). Data: lib/kompress/unicode_nfc_tables.c. */
#ifndef HR_UNICODE_NFC_H
#define HR_UNICODE_NFC_H

#include "hr.h"

#include <stddef.h>

/* 1 when NFC leaves valid UTF-8 s[0..n) as it is for certain: none of its
 * code points can change or join the one before it (nearly all text). */
int hr__nfc_is_stable(const unsigned char *s, size_t n);

/* Appends the NFC form of valid UTF-8 s[0..n) to out. */
hr_status hr__nfc_append(const unsigned char *s, size_t n, hr_buf *out);

#endif
