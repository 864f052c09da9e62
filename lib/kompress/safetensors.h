/* safetensors files, as Hugging Face writes model weights: an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the raw data. Mapped read-only; weights are
 * converted to fp32 on request. Internal to libhr (the Kompress scorer). */
#ifndef HR_SAFETENSORS_H
#define HR_SAFETENSORS_H

#include "hr.h"

#include <stddef.h>
#include <stdint.h>

#define HR_ST_MAX_DIMS 8

typedef enum hr__st_dtype {
    HR_ST_F32,
    HR_ST_F16,
    HR_ST_BF16,
    HR_ST_OTHER, /* listed, but not convertible: I64, U8, F64, ... */
} hr__st_dtype;

struct hr__st_tensor {
    char *name;
    char dtype_name[8]; /* as the header spells it: "F32", "BF16", "I64" */
    hr__st_dtype dtype;
    size_t ndim;
    int64_t shape[HR_ST_MAX_DIMS];
    size_t count; /* elements: the product of shape */
    const unsigned char *data;
    size_t nbytes;
};

struct hr__safetensors {
    char *path;
    void *map;
    size_t map_len;
    struct hr__st_tensor *v;
    size_t n;
};

/* Maps and checks path: the header is JSON of the right shape, every byte
 * range lies in the file, matches its dtype and shape and overlaps no other.
 * Errors: one line in err naming the file and, where one is at fault, the
 * tensor. Call hr__st_close whatever it returns. */
hr_status hr__st_open(struct hr__safetensors *st, const char *path, char *err, size_t err_len);
void hr__st_close(struct hr__safetensors *st);
const struct hr__st_tensor *hr__st_find(const struct hr__safetensors *st, const char *name);
/* The tensor name with exactly these dimensions; HR_ENOTFOUND or HR_EINVAL
 * with err naming the tensor, the shape found and the shape wanted. */
hr_status hr__st_expect(const struct hr__safetensors *st, const char *name, size_t ndim, const int64_t *dims,
                        const struct hr__st_tensor **out, char *err, size_t err_len);
/* t's elements as fp32 into out[t->count]; HR_EINVAL for HR_ST_OTHER. */
hr_status hr__st_to_f32(const struct hr__st_tensor *t, float *out);
/* IEEE half and bfloat16 to float, every value exact (subnormals, inf, NaN). */
float hr__f16_to_f32(uint16_t h);
float hr__bf16_to_f32(uint16_t b);

#endif
