/* The caller-owned growable byte buffer. */
#include "hr.h"

#include <stdlib.h>
#include <string.h>

hr_status hr_buf_append(hr_buf *buf, const void *bytes, size_t len)
{
    if (!buf || (!bytes && len)) return HR_EINVAL;
    if (buf->len + len + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap < buf->len + len + 1) {
            if (cap > SIZE_MAX / 2) return HR_ENOMEM;
            cap *= 2;
        }
        char *p = realloc(buf->data, cap);
        if (!p) return HR_ENOMEM;
        buf->data = p;
        buf->cap = cap;
    }
    if (len) memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return HR_OK;
}

void hr_buf_free(hr_buf *buf)
{
    if (!buf) return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
