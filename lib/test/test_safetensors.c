/* The safetensors reader on the fixtures of testdata/kompress/, written by
 * scripts/make-safetensors-fixtures.py with Python's struct module: every
 * value must come out as Python decodes it, bit for bit, and every broken
 * file must be refused with a message naming the tensor at fault. */
#include "kompress/safetensors.h"
#include "util/file_io.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIR "testdata/kompress/"

static int same_float(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

/* One tensor against its entry in tiny.expected.json. */
static void check_tensor(const struct hr__safetensors *st, const hr_json *d, hr_json_node key, const char *text)
{
    hr_buf name = {0};
    hr_json_string_decode(d, key, &name);
    hr_json_node want = hr_json_value(d, key), values = hr_json_get(d, want, "values"),
                 shape = hr_json_get(d, want, "shape");
    const struct hr__st_tensor *t = hr__st_find(st, name.data);
    CHECK(t != NULL);
    if (!t) {
        printf("  no tensor %s\n", name.data);
        hr_buf_free(&name);
        return;
    }
    CHECK(hr_json_string_equals(d, hr_json_get(d, want, "dtype"), t->dtype_name, strlen(t->dtype_name)));
    CHECK_EQ_U(t->ndim, hr_json_length(d, shape));
    size_t i = 0;
    for (hr_json_node x = hr_json_first(d, shape); x != HR_JSON_NONE; x = hr_json_next(d, x), i++) {
        int64_t v = -1;
        hr_json_int64(d, x, &v);
        CHECK_EQ_U(t->shape[i], v);
    }
    if (hr_json_type_of(d, values) == HR_JSON_NULL) {
        float dummy;
        CHECK(hr__st_to_f32(t, &dummy) == HR_EINVAL); /* I64: listed, not convertible */
        hr_buf_free(&name);
        return;
    }
    CHECK_EQ_U(t->count, hr_json_length(d, values));
    float *got = calloc(t->count, sizeof *got);
    CHECK(hr__st_to_f32(t, got) == HR_OK);
    i = 0;
    for (hr_json_node x = hr_json_first(d, values); x != HR_JSON_NONE; x = hr_json_next(d, x), i++) {
        float w = (float)strtod(text + hr_json_start(d, x) + 1, NULL);
        if (!same_float(got[i], w)) {
            printf("  %s[%zu] is %.9g, expected %.9g\n", name.data, i, got[i], w);
            unit_failed_checks++;
        }
    }
    free(got);
    hr_buf_free(&name);
}

static void test_tiny(void)
{
    struct hr__safetensors st;
    char err[512] = "";
    hr_buf text = {0};
    hr_json *d = NULL;
    CHECK(hr__st_open(&st, DIR "tiny.safetensors", err, sizeof err) == HR_OK);
    CHECK_EQ_S(err, "");
    CHECK_EQ_U(st.n, 4); /* __metadata__ is not a tensor */
    CHECK(hr__read_file(DIR "tiny.expected.json", &text) == 0);
    CHECK(hr_json_new(&d) == HR_OK && hr_json_parse(d, text.data, text.len) == HR_OK);
    size_t n = 0;
    for (hr_json_node k = hr_json_first(d, hr_json_root(d)); k != HR_JSON_NONE; k = hr_json_next(d, k), n++)
        check_tensor(&st, d, k, text.data);
    CHECK_EQ_U(n, 4);
    hr_json_free(d);
    hr_buf_free(&text);
    hr__st_close(&st);
}

static void test_expect_shape(void)
{
    struct hr__safetensors st;
    char err[512];
    const struct hr__st_tensor *t = NULL;
    CHECK(hr__st_open(&st, DIR "tiny.safetensors", err, sizeof err) == HR_OK);
    CHECK(hr__st_expect(&st, "token_head.weight", 2, (const int64_t[]){2, 5}, &t, err, sizeof err) == HR_OK);
    CHECK(t && t->dtype == HR_ST_F16);
    CHECK(hr__st_expect(&st, "token_head.weight", 2, (const int64_t[]){2, 768}, &t, err, sizeof err) == HR_EINVAL);
    CHECK_EQ_S(err, DIR "tiny.safetensors: tensor 'token_head.weight' has shape [2, 5], config.json gives [2, 768]");
    CHECK(hr__st_expect(&st, "span_conv.2.weight", 3, (const int64_t[]){1, 256, 3}, &t, err, sizeof err) ==
          HR_ENOTFOUND);
    CHECK_EQ_S(err, DIR "tiny.safetensors: no tensor 'span_conv.2.weight' (shape [1, 256, 3] expected)");
    CHECK(hr__st_expect(&st, "position_ids", 1, (const int64_t[]){2}, &t, err, sizeof err) == HR_EINVAL);
    CHECK(strstr(err, "'position_ids' is I64") != NULL);
    hr__st_close(&st);
}

static void test_bad_files(void)
{
    static const struct {
        const char *file, *message;
        hr_status status;
    } cases[] = {
        {"bad-past-end", "tensor 'v': data_offsets [16, 40] run past the data (22 bytes)", HR_ETRUNCATED},
        {"bad-overlap", "tensor 'v': its data overlaps tensor 'w'", HR_ESYNTAX},
        {"bad-size", "tensor 'w': 16 bytes for 6 F32 elements (24 expected)", HR_ESYNTAX},
        {"bad-dtype", "tensor 'v': unknown dtype 'F8'", HR_ESYNTAX},
        {"bad-header-length", "header length 1099511627776 does not fit the file (10 bytes)", HR_ETRUNCATED},
        {"bad-json", "header: ", HR_ESYNTAX},
        {"missing", "No such file or directory", HR_ENOTFOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[128], err[512] = "", want[600];
        snprintf(path, sizeof path, DIR "%s.safetensors", cases[i].file);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].message);
        struct hr__safetensors st;
        hr_status s = hr__st_open(&st, path, err, sizeof err);
        CHECK_EQ_U(s, cases[i].status);
        if (strncmp(err, want, strlen(want))) {
            printf("  %s: message \"%s\", expected \"%s\"\n", cases[i].file, err, want);
            unit_failed_checks++;
        }
        hr__st_close(&st);
    }
}

/* Every one of the 65,536 half and bfloat16 patterns against the
 * definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024. */
static void test_half_conversions(void)
{
    size_t wrong = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        double want = e == 31 ? (m ? NAN : INFINITY) : e ? ldexp(1 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
        if (sign) want = -want;
        float got = hr__f16_to_f32((uint16_t)h);
        if (isnan(want) ? !isnan(got) : !same_float(got, (float)want)) wrong++;
        uint32_t bits = h << 16;
        float bf;
        memcpy(&bf, &bits, 4);
        if (!(isnan(bf) ? isnan(hr__bf16_to_f32((uint16_t)h)) : same_float(hr__bf16_to_f32((uint16_t)h), bf))) wrong++;
    }
    CHECK_EQ_U(wrong, 0);
}

int main(void)
{
    RUN(test_tiny);
    RUN(test_expect_shape);
    RUN(test_bad_files);
    RUN(test_half_conversions);
    return unit_any_failed;
}
