/* Opening a Kompress model folder and picking where it runs: the CUDA
 * backend when asked for (or, under auto, when a device answers), else the
 * CPU, in bf16 where the CPU has AVX-512 BF16 and fp32 elsewhere (cpu-fp32
 * and cpu-bf16 pin one). The caller names the choice (none: the
 * settings layer's HEADROOM_KOMPRESS_BACKEND, else auto, as hr.h says);
 * "pytorch" and "onnx" are Headroom's names for its GPU and CPU paths and
 * mean cuda and cpu here. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "util/errmsg.h"
#include "util/file_io.h"
#include "kompress/kompress.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The cores this process may run on, which is what a container grants. */
static int usable_cores(void)
{
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int hr__kompress_backend_known(const char *name)
{
    static const char *const known[] = {"auto", "cpu", "cpu-fp32", "cpu-bf16", "cuda", "pytorch", "onnx"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) return 1;
    return 0;
}

const char *hr__kompress_backend_wanted(const char *name)
{
    if (name && *name) return name;
    const char *env = hr__setting_env(HR_S_KOMPRESS_BACKEND); /* hr.h: a NULL kompress_backend means it */
    return env ? env : hr__setting_spec(HR_S_KOMPRESS_BACKEND)->fallback;
}

/* The GPU's scores on a test window against the CPU's; a backend that
 * disagrees is closed. */
static hr_status check_against_cpu(struct hr_kompress *k, char *why, size_t why_len)
{
    double worst = 0;
    hr_status st = hr__kbackend_selfcheck(&k->w, k->tok.cls_id, k->tok.sep_id, k->backend, &worst);
    if (!st) return HR_OK;
    if (st == HR_EMODEL)
        snprintf(why, why_len, "its scores differ from the CPU's by %.3g on a test window (0.05 allowed)", worst);
    else snprintf(why, why_len, "a test window failed: %s", hr_strerror(st));
    k->backend->destroy(k->backend);
    k->backend = NULL;
    return HR_EMODEL;
}

static hr_status pick_backend(struct hr_kompress *k, const char *want, size_t max_concurrent, char *err, size_t err_len,
                              char *note, size_t note_len)
{
    if (!hr__kompress_backend_known(want))
        return hr__errorf(err, err_len, HR_EINVAL, "unknown Kompress backend '%s' (%s)", want, HR_KOMPRESS_BACKENDS);
    int cuda = !strcmp(want, "cuda") || !strcmp(want, "pytorch");
    /* auto in a build without CUDA: the CPU, with nothing to say */
    if (cuda || (!strcmp(want, "auto") && hr__kompress_cuda_built())) {
        char why[HR_KOMPRESS_ERR] = "";
        int slots = max_concurrent > HR_KOMPRESS_MAX_CONCURRENT ? HR_KOMPRESS_MAX_CONCURRENT : (int)max_concurrent;
        hr_status st = hr__kbackend_cuda_new(&k->w, slots, &k->backend, why, sizeof why);
        if (!st) st = check_against_cpu(k, why, sizeof why);
        if (!st) return HR_OK;
        if (cuda) return hr__errorf(err, err_len, st, "Kompress backend cuda: %s", why);
        /* auto on a machine without a usable GPU: the CPU, said once */
        snprintf(note, note_len, "the Kompress scorer runs on the CPU: %s", why);
    }
    enum hr_kprecision prec = !strcmp(want, "cpu-fp32")   ? HR_KPREC_FP32
                              : !strcmp(want, "cpu-bf16") ? HR_KPREC_BF16
                              : hr__kbf16_supported()     ? HR_KPREC_BF16
                                                          : HR_KPREC_FP32;
    hr_status st = hr__kbackend_cpu_new(&k->w, usable_cores(), prec, &k->backend);
    if (st == HR_ENOTFOUND) /* bf16 asked for on a CPU without it */
        return hr__errorf(err, err_len, st, "Kompress backend %s: this CPU has no AVX-512 BF16", want);
    if (st) return hr__errorf(err, err_len, st, "Kompress backend %s: %s", want, hr_strerror(st));
    return HR_OK;
}

hr_status hr__kompress_open(struct hr_kompress *k, const char *dir, const char *backend, size_t max_concurrent,
                            char *err, size_t err_len, char *note, size_t note_len)
{
    memset(k, 0, sizeof *k);
    if (note_len) note[0] = '\0';
    char *path = hr__path_join(dir, "tokenizer.json");
    if (!path) return hr__errorf(err, err_len, HR_ENOMEM, "%s: out of memory", dir);
    hr_status st = hr__kweights_load(&k->w, dir, err, err_len);
    if (!st) st = hr__ktokenizer_load(&k->tok, path, err, err_len);
    if (!st && (k->tok.cls_id >= (uint32_t)k->w.cfg.vocab || k->tok.sep_id >= (uint32_t)k->w.cfg.vocab))
        st = hr__errorf(err, err_len, HR_EINVAL, "%s: [CLS] or [SEP] lies outside config.json's vocab_size %d", path,
                        k->w.cfg.vocab);
    if (!st && k->tok.max_id >= (uint32_t)k->w.cfg.vocab)
        st = hr__errorf(err, err_len, HR_EINVAL, "%s: token id %u lies outside config.json's vocab_size %d", path,
                        k->tok.max_id, k->w.cfg.vocab);
    if (!st) st = pick_backend(k, backend, max_concurrent, err, err_len, note, note_len);
    free(path);
    if (st) hr__kompress_close(k);
    return st;
}

void hr__kompress_close(struct hr_kompress *k)
{
    if (k->backend) k->backend->destroy(k->backend);
    hr__ktokenizer_free(&k->tok);
    hr__kweights_free(&k->w);
    memset(k, 0, sizeof *k);
}
