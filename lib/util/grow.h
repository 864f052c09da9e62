/* The one way libhr grows an array: double its capacity until it holds
 * `need` elements. */
#ifndef HR_GROW_H
#define HR_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Returns the array, moved if it had to grow, with *cap updated; or NULL when
 * memory runs out, leaving the array and *cap as they were. Usage:
 *   void *p = hr_grow(a, &cap, n + 1, sizeof *a); if (!p) fail; a = p; */
static inline void *hr_grow(void *items, size_t *cap, size_t need, size_t elem_size)
{
    if (items && need <= *cap) return items;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2) return NULL;
        n *= 2;
    }
    if (n > SIZE_MAX / elem_size) return NULL;
    void *p = realloc(items, n * elem_size);
    if (!p) return NULL;
    *cap = n;
    return p;
}

#endif
