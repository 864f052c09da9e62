/* Reading safetensors files: map the file, parse the JSON header with
 * libhr's scanner, check every tensor's byte range before anyone reads it. */
#include "kompress/safetensors.h"
#include "util/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The format's own limit on the header, which keeps a hostile length from
 * asking for a huge allocation. */
#define MAX_HEADER (100u * 1024 * 1024)

float hr__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) bits = sign | 0x7f800000u | (mant << 13); /* inf, NaN */
    else if (exp) bits = sign | ((exp + 112) << 23) | (mant << 13);
    else if (!mant) bits = sign; /* signed zero */
    else { /* subnormal: normalise */ exp = 113;
        while (!(mant & 0x400)) mant <<= 1, exp--;
        bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float hr__bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static const struct {
    const char *name;
    hr__st_dtype dtype;
    size_t size;
} DTYPES[] = {
    {"F32", HR_ST_F32, 4},   {"F16", HR_ST_F16, 2},    {"BF16", HR_ST_BF16, 2}, {"F64", HR_ST_OTHER, 8},
    {"I64", HR_ST_OTHER, 8}, {"I32", HR_ST_OTHER, 4},  {"I16", HR_ST_OTHER, 2}, {"I8", HR_ST_OTHER, 1},
    {"U8", HR_ST_OTHER, 1},  {"BOOL", HR_ST_OTHER, 1}, {"U16", HR_ST_OTHER, 2}, {"U32", HR_ST_OTHER, 4},
    {"U64", HR_ST_OTHER, 8},
};

static int non_negative_int(const hr_json *d, hr_json_node n, int64_t *v)
{
    return n != HR_JSON_NONE && hr_json_type_of(d, n) == HR_JSON_NUMBER && !hr_json_int64(d, n, v) && *v >= 0;
}

/* One header entry into t; its byte range checked against the data size. */
static hr_status read_entry(const hr_json *d, hr_json_node val, size_t data_len, struct hr__st_tensor *t, char *err,
                            size_t len)
{
    hr_json_node dt = hr_json_get(d, val, "dtype"), shape = hr_json_get(d, val, "shape"),
                 offs = hr_json_get(d, val, "data_offsets");
    hr_buf name = {0};
    if (dt == HR_JSON_NONE || hr_json_type_of(d, dt) != HR_JSON_STRING || hr_json_string_decode(d, dt, &name))
        return hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': no dtype", t->name);
    size_t size = 0;
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0] && !size; i++)
        if (name.data && !strcmp(name.data, DTYPES[i].name)) {
            t->dtype = DTYPES[i].dtype, size = DTYPES[i].size;
            snprintf(t->dtype_name, sizeof t->dtype_name, "%s", DTYPES[i].name);
        }
    hr_status s =
        size ? HR_OK
             : hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': unknown dtype '%s'", t->name, name.data ? name.data : "");
    hr_buf_free(&name);
    if (s) return s;
    if (shape == HR_JSON_NONE || hr_json_type_of(d, shape) != HR_JSON_ARRAY ||
        hr_json_length(d, shape) > HR_ST_MAX_DIMS)
        return hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': shape is not a list of at most %d sizes", t->name,
                          HR_ST_MAX_DIMS);
    t->count = 1;
    for (hr_json_node x = hr_json_first(d, shape); x != HR_JSON_NONE; x = hr_json_next(d, x)) {
        int64_t v;
        if (!non_negative_int(d, x, &v) || (v && t->count > SIZE_MAX / 8 / (size_t)v))
            return hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': bad size in shape", t->name);
        t->shape[t->ndim++] = v;
        t->count *= (size_t)v;
    }
    int64_t begin, end;
    if (offs == HR_JSON_NONE || hr_json_type_of(d, offs) != HR_JSON_ARRAY || hr_json_length(d, offs) != 2 ||
        !non_negative_int(d, hr_json_first(d, offs), &begin) ||
        !non_negative_int(d, hr_json_next(d, hr_json_first(d, offs)), &end) || end < begin)
        return hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': data_offsets is not [begin, end]", t->name);
    if ((uint64_t)end > data_len)
        return hr__errorf(err, len, HR_ETRUNCATED,
                          "tensor '%s': data_offsets [%lld, %lld] run past the data (%zu bytes)", t->name,
                          (long long)begin, (long long)end, data_len);
    t->nbytes = (size_t)(end - begin);
    if (t->nbytes != t->count * size)
        return hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': %zu bytes for %zu %s elements (%zu expected)", t->name,
                          t->nbytes, t->count, t->dtype_name, t->count * size);
    t->data = (const unsigned char *)(uintptr_t)begin; /* made absolute once the data's start is known */
    return HR_OK;
}

static int by_offset(const void *a, const void *b)
{
    const struct hr__st_tensor *x = a, *y = b;
    return x->data < y->data ? -1 : x->data > y->data ? 1 : 0;
}

/* No two ranges overlap; checked on a sorted copy so the order stays the
 * header's. */
static hr_status check_overlap(const struct hr__safetensors *st, char *err, size_t len)
{
    struct hr__st_tensor *sorted = malloc((st->n ? st->n : 1) * sizeof *sorted);
    if (!sorted) return hr__errorf(err, len, HR_ENOMEM, "out of memory");
    memcpy(sorted, st->v, st->n * sizeof *sorted);
    qsort(sorted, st->n, sizeof *sorted, by_offset);
    hr_status s = HR_OK;
    for (size_t i = 1; i < st->n && !s; i++)
        if (sorted[i].data < sorted[i - 1].data + sorted[i - 1].nbytes)
            s = hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': its data overlaps tensor '%s'", sorted[i].name,
                           sorted[i - 1].name);
    free(sorted);
    return s;
}

static hr_status parse_header(struct hr__safetensors *st, const char *hdr, size_t hdr_len, size_t data_len, char *err,
                              size_t len)
{
    hr_json *d;
    if (hr_json_new(&d)) return hr__errorf(err, len, HR_ENOMEM, "out of memory");
    hr_status s = HR_OK;
    hr_json_node root = HR_JSON_NONE;
    if (hr_json_parse(d, hdr, hdr_len)) s = hr__errorf(err, len, HR_ESYNTAX, "header: %s", hr_json_errmsg(d));
    else if (hr_json_type_of(d, root = hr_json_root(d)) != HR_JSON_OBJECT)
        s = hr__errorf(err, len, HR_ESYNTAX, "header: not a JSON object");
    if (!s && !(st->v = calloc(hr_json_length(d, root) + 1, sizeof *st->v)))
        s = hr__errorf(err, len, HR_ENOMEM, "out of memory");
    for (hr_json_node k = s ? HR_JSON_NONE : hr_json_first(d, root); k != HR_JSON_NONE && !s; k = hr_json_next(d, k)) {
        hr_buf name = {0};
        if (hr_json_string_decode(d, k, &name)) s = hr__errorf(err, len, HR_ENOMEM, "out of memory");
        else if (name.data && !strcmp(name.data, "__metadata__")) hr_buf_free(&name);
        else {
            struct hr__st_tensor *t = &st->v[st->n++];
            t->name = name.data ? name.data : strdup("");
            hr_json_node val = hr_json_value(d, k);
            s = hr_json_type_of(d, val) != HR_JSON_OBJECT
                    ? hr__errorf(err, len, HR_ESYNTAX, "tensor '%s': not an object", t->name)
                    : read_entry(d, val, data_len, t, err, len);
        }
    }
    hr_json_free(d);
    return s ? s : check_overlap(st, err, len);
}

static hr_status map_file(struct hr__safetensors *st, char *err, size_t len)
{
    int fd = open(st->path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        int e = errno;
        if (fd >= 0) close(fd);
        return hr__errorf(err, len, e == ENOENT ? HR_ENOTFOUND : HR_EINVAL, "%s: %s", st->path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 8) {
        close(fd);
        return hr__errorf(err, len, HR_ETRUNCATED, "%s: %s", st->path,
                          S_ISREG(sb.st_mode) ? "shorter than a safetensors header" : "not a file");
    }
    st->map_len = (size_t)sb.st_size;
    st->map = mmap(NULL, st->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        return hr__errorf(err, len, HR_ENOMEM, "%s: cannot map it: %s", st->path, strerror(errno));
    }
    return HR_OK;
}

hr_status hr__st_open(struct hr__safetensors *st, const char *path, char *err, size_t err_len)
{
    *st = (struct hr__safetensors){.path = strdup(path)};
    if (!st->path) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    hr_status s = map_file(st, err, err_len);
    if (s) return s;
    const unsigned char *m = st->map;
    uint64_t hdr_len = 0;
    for (int i = 7; i >= 0; i--) hdr_len = hdr_len << 8 | m[i];
    if (hdr_len > MAX_HEADER || hdr_len > st->map_len - 8)
        return hr__errorf(err, err_len, HR_ETRUNCATED, "%s: header length %llu does not fit the file (%zu bytes)", path,
                          (unsigned long long)hdr_len, st->map_len);
    char why[512];
    size_t data_start = 8 + (size_t)hdr_len;
    s = parse_header(st, (const char *)m + 8, (size_t)hdr_len, st->map_len - data_start, why, sizeof why);
    if (s) return hr__errorf(err, err_len, s, "%s: %s", path, why);
    for (size_t i = 0; i < st->n; i++) st->v[i].data = m + data_start + (uintptr_t)st->v[i].data;
    return HR_OK;
}

void hr__st_close(struct hr__safetensors *st)
{
    for (size_t i = 0; i < st->n; i++) free(st->v[i].name);
    free(st->v);
    if (st->map) munmap(st->map, st->map_len);
    free(st->path);
    *st = (struct hr__safetensors){0};
}

const struct hr__st_tensor *hr__st_find(const struct hr__safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].name, name)) return &st->v[i];
    return NULL;
}

static void shape_text(const int64_t *dims, size_t n, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (o < len) snprintf(out + o, len - o, "]");
}

hr_status hr__st_expect(const struct hr__safetensors *st, const char *name, size_t ndim, const int64_t *dims,
                        const struct hr__st_tensor **out, char *err, size_t err_len)
{
    const struct hr__st_tensor *t = hr__st_find(st, name);
    char want[128], got[128];
    shape_text(dims, ndim, want, sizeof want);
    if (!t)
        return hr__errorf(err, err_len, HR_ENOTFOUND, "%s: no tensor '%s' (shape %s expected)", st->path, name, want);
    int same = t->ndim == ndim;
    for (size_t i = 0; same && i < ndim; i++) same = t->shape[i] == dims[i];
    if (!same) {
        shape_text(t->shape, t->ndim, got, sizeof got);
        return hr__errorf(err, err_len, HR_EINVAL, "%s: tensor '%s' has shape %s, config.json gives %s", st->path, name,
                          got, want);
    }
    if (t->dtype == HR_ST_OTHER)
        return hr__errorf(err, err_len, HR_EINVAL, "%s: tensor '%s' is %s; weights must be F32, F16 or BF16", st->path,
                          name, t->dtype_name);
    if (out) *out = t;
    return HR_OK;
}

hr_status hr__st_to_f32(const struct hr__st_tensor *t, float *out)
{
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case HR_ST_F32:
        memcpy(out, p, t->count * 4); /* the files are little-endian, as is every target of hr */
        return HR_OK;
    case HR_ST_F16:
    case HR_ST_BF16:
        for (size_t i = 0; i < t->count; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            out[i] = t->dtype == HR_ST_F16 ? hr__f16_to_f32(h) : hr__bf16_to_f32(h);
        }
        return HR_OK;
    case HR_ST_OTHER: break;
    }
    return HR_EINVAL;
}
