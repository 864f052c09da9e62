/* Writing a string as a JSON literal. */
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <stdio.h>
#include <string.h>

hr_status hr_json_encode_string(hr_buf *out, const char *text, size_t len)
{
    if (!out || (!text && len)) return HR_EINVAL;
    const unsigned char *s = (const unsigned char *)text;
    hr_status st = hr_buf_append(out, "\"", 1);
    size_t i = 0, run = 0;
    while (!st && i < len) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char tmp[8];
        int seq = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        } else if (c >= 0x80 && (seq = hr__utf8_sequence_len(s + i, len - i)) < 0) {
            esc = "\\ufffd"; /* one per maximal ill-formed subpart, as decoders do */
            seq = -seq;
        }
        if (!esc) {
            i += (size_t)seq;
            run += (size_t)seq;
            continue;
        }
        st = hr_buf_append(out, s + i - run, run);
        if (!st) st = hr_buf_append(out, esc, strlen(esc));
        run = 0;
        i += (size_t)seq;
    }
    if (!st) st = hr_buf_append(out, s + i - run, run);
    if (!st) st = hr_buf_append(out, "\"", 1);
    return st;
}
