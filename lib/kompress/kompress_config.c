/* config.json of a Kompress model: the ModernBERT settings the encoder needs.
 * transformers has written two dialects: global_attn_every_n_layers with
 * global_rope_theta / local_rope_theta, and (since 4.57) layer_types with
 * rope_parameters; both are read. */
#include "util/errmsg.h"
#include "json/json_internal.h"
#include "kompress/kompress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cfg_reader {
    const hr_json *doc;
    const char *text;
    hr_json_node root;
    const char *path;
    char *err;
    size_t err_len;
};

static hr_status number_at(const struct cfg_reader *r, hr_json_node v, const char *key, double *out)
{
    if (v == HR_JSON_NONE || hr_json_type_of(r->doc, v) != HR_JSON_NUMBER)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"%s\" must be a number", r->path, key);
    *out = hr__json_number(r->doc, v, r->text);
    if (!isfinite(*out)) return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"%s\" is not finite", r->path, key);
    return HR_OK;
}

static hr_status get_number(const struct cfg_reader *r, const char *key, double *out, double fallback)
{
    hr_json_node v = hr_json_get(r->doc, r->root, key);
    if (v == HR_JSON_NONE && !isnan(fallback)) {
        *out = fallback;
        return HR_OK;
    }
    if (v == HR_JSON_NONE) return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"%s\" is missing", r->path, key);
    return number_at(r, v, key, out);
}

static hr_status get_int(const struct cfg_reader *r, const char *key, int lo, int hi, int *out)
{
    double d;
    hr_status st = get_number(r, key, &d, NAN);
    if (st) return st;
    if (d != floor(d) || d < lo || d > hi)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"%s\" is %g, expected a whole number in %d..%d", r->path,
                          key, d, lo, hi);
    *out = (int)d;
    return HR_OK;
}

static hr_status check_flag_off(const struct cfg_reader *r, const char *key)
{
    hr_json_node v = hr_json_get(r->doc, r->root, key);
    if (v != HR_JSON_NONE && hr_json_type_of(r->doc, v) == HR_JSON_TRUE)
        return hr__errorf(r->err, r->err_len, HR_EINVAL,
                          "%s: \"%s\": true is not supported (Kompress models have no biases there)", r->path, key);
    return HR_OK;
}

/* layer_types: ["full_attention", "sliding_attention", ...] */
static hr_status read_layer_types(const struct cfg_reader *r, hr_json_node v, struct hr_kconfig *c)
{
    if (hr_json_type_of(r->doc, v) != HR_JSON_ARRAY || hr_json_length(r->doc, v) != (size_t)c->layers)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"layer_types\" must list %d layers", r->path, c->layers);
    int i = 0;
    for (hr_json_node e = hr_json_first(r->doc, v); e != HR_JSON_NONE; e = hr_json_next(r->doc, e), i++) {
        if (hr_json_string_equals(r->doc, e, "full_attention", 14)) c->global[i] = 1;
        else if (hr_json_string_equals(r->doc, e, "sliding_attention", 17)) c->global[i] = 0;
        else
            return hr__errorf(r->err, r->err_len, HR_EINVAL,
                              "%s: layer_types[%d] is neither full_attention nor sliding_attention", r->path, i);
    }
    return HR_OK;
}

static hr_status read_rope_parameters(const struct cfg_reader *r, hr_json_node v, struct hr_kconfig *c)
{
    static const char *const kinds[2] = {"full_attention", "sliding_attention"};
    double *theta[2] = {&c->global_theta, &c->local_theta};
    for (int k = 0; k < 2; k++) {
        hr_json_node o = hr_json_get(r->doc, v, kinds[k]);
        hr_json_node t = o == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(r->doc, o, "rope_theta");
        if (t == HR_JSON_NONE) continue; /* the default stays */
        hr_status st = number_at(r, t, "rope_parameters.rope_theta", theta[k]);
        if (st) return st;
    }
    return HR_OK;
}

static hr_status read_attention_pattern(const struct cfg_reader *r, struct hr_kconfig *c)
{
    hr_status st;
    hr_json_node types = hr_json_get(r->doc, r->root, "layer_types");
    if (types != HR_JSON_NONE) {
        st = read_layer_types(r, types, c);
    } else {
        int every;
        double d;
        st = get_number(r, "global_attn_every_n_layers", &d, 3);
        if (!st && (d != floor(d) || d < 1 || d > 1000))
            st = hr__errorf(r->err, r->err_len, HR_EINVAL,
                            "%s: \"global_attn_every_n_layers\" must be a whole number >= 1", r->path);
        every = (int)d;
        for (int i = 0; !st && i < c->layers; i++) c->global[i] = i % every == 0;
    }
    if (!st) st = get_number(r, "global_rope_theta", &c->global_theta, 160000.0);
    if (!st) st = get_number(r, "local_rope_theta", &c->local_theta, 10000.0);
    hr_json_node rope = hr_json_get(r->doc, r->root, "rope_parameters");
    if (!st && rope != HR_JSON_NONE) st = read_rope_parameters(r, rope, c);
    return st;
}

static hr_status read_config(const struct cfg_reader *r, struct hr_kconfig *c)
{
    if (hr_json_type_of(r->doc, r->root) != HR_JSON_OBJECT)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: not a JSON object", r->path);
    hr_json_node act = hr_json_get(r->doc, r->root, "hidden_activation");
    if (act != HR_JSON_NONE && !hr_json_string_equals(r->doc, act, "gelu", 4))
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: \"hidden_activation\" must be \"gelu\"", r->path);
    hr_status st = get_int(r, "hidden_size", 1, 16384, &c->hidden);
    if (!st) st = get_int(r, "num_hidden_layers", 1, HR_KOMPRESS_MAX_LAYERS, &c->layers);
    if (!st) st = get_int(r, "num_attention_heads", 1, 1024, &c->heads);
    if (!st) st = get_int(r, "intermediate_size", 1, 1 << 20, &c->intermediate);
    if (!st) st = get_int(r, "vocab_size", 1, 1 << 24, &c->vocab);
    if (!st) st = get_int(r, "local_attention", 2, 1 << 20, &c->local_window);
    if (!st) st = get_number(r, "norm_eps", &c->norm_eps, 1e-5);
    if (!st && (c->hidden % c->heads || (c->hidden / c->heads) % 2))
        st = hr__errorf(r->err, r->err_len, HR_EINVAL,
                        "%s: hidden_size %d is not an even multiple of num_attention_heads %d", r->path, c->hidden,
                        c->heads);
    if (!st) st = check_flag_off(r, "norm_bias");
    if (!st) st = check_flag_off(r, "attention_bias");
    if (!st) st = check_flag_off(r, "mlp_bias");
    if (!st) st = read_attention_pattern(r, c);
    return st;
}

hr_status hr__kconfig_load(struct hr_kconfig *cfg, const char *path, char *err, size_t err_len)
{
    memset(cfg, 0, sizeof *cfg);
    hr_buf text = {0};
    hr_json *doc = NULL;
    hr_status st = hr__json_load_file(path, &text, &doc, err, err_len);
    if (!st) {
        struct cfg_reader r = {doc, text.data, hr_json_root(doc), path, err, err_len};
        st = read_config(&r, cfg);
    }
    hr_json_free(doc);
    hr_buf_free(&text);
    return st;
}
