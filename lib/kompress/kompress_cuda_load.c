/* Starting the CUDA backend. Its code lives in a plugin, kompress-cuda.so,
 * opened only when a model is asked to run on CUDA: cuBLAS alone is hundreds
 * of megabytes, which every program linked with libhr would otherwise map at
 * start, GPU or not. The NVIDIA driver's library is looked for first, so a
 * machine without one never loads the plugin at all. Builds without CUDA
 * (WITH_CUDA=no, or no cuBLAS at build time) have no plugin to open. */
#include "util/errmsg.h"
#include "util/file_io.h"
#include "kompress/kompress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HR_HAVE_CUDA

int hr__kompress_cuda_built(void)
{
    return 0;
}

hr_status hr__kbackend_cuda_new(const struct hr_kweights *w, int max_concurrent, struct hr_kbackend **out, char *err,
                                size_t err_len)
{
    (void)w, (void)max_concurrent;
    *out = NULL;
    return hr__errorf(err, err_len, HR_ENOTFOUND, "this libhr was built without CUDA");
}

#else

#include <dlfcn.h>
#include <unistd.h>

#ifndef HR_PKGLIBDIR
#define HR_PKGLIBDIR "/usr/local/lib/hr"
#endif
#define PLUGIN_NAME "kompress-cuda.so"

typedef hr_status (*cuda_new_fn)(const struct hr_kweights *, const struct hr_kcuda_host *, int, struct hr_kbackend **,
                                 char *, size_t);

int hr__kompress_cuda_built(void)
{
    return 1;
}

/* $HR_KOMPRESS_CUDA_PLUGIN, else beside the program (a build tree), else
 * where make install puts it. */
static char *plugin_path(void)
{
    const char *env = getenv("HR_KOMPRESS_CUDA_PLUGIN");
    if (env && *env) return strdup(env);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *beside = hr__path_join(exe, PLUGIN_NAME);
            if (beside && !access(beside, R_OK)) return beside;
            free(beside);
        }
    }
    return strdup(HR_PKGLIBDIR "/" PLUGIN_NAME);
}

hr_status hr__kbackend_cuda_new(const struct hr_kweights *w, int max_concurrent, struct hr_kbackend **out, char *err,
                                size_t err_len)
{
    *out = NULL;
    /* kept open: the CUDA runtime would load it anyway */
    if (!dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL))
        return hr__errorf(err, err_len, HR_ENOTFOUND, "no NVIDIA driver (libcuda.so.1 not found)");
    char *path = plugin_path();
    if (!path) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    /* never closed: the CUDA runtime does not survive being unloaded */
    void *plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!plugin) {
        const char *why = dlerror();
        hr_status st = hr__errorf(err, err_len, HR_ENOTFOUND, "%s", why ? why : path);
        free(path);
        return st;
    }
    const int *abi = (const int *)dlsym(plugin, "hr_kompress_cuda_abi");
    cuda_new_fn create;
    *(void **)&create = dlsym(plugin, "hr_kompress_cuda_new");
    hr_status st = HR_OK;
    if (!abi || !create) st = hr__errorf(err, err_len, HR_ENOTFOUND, "%s: not a kompress CUDA plugin", path);
    else if (*abi != HR_KOMPRESS_CUDA_ABI)
        st = hr__errorf(err, err_len, HR_ENOTFOUND, "%s: plugin interface %d, this libhr needs %d", path, *abi,
                        HR_KOMPRESS_CUDA_ABI);
    free(path);
    static const struct hr_kcuda_host host = {hr__kweights_embed};
    return st ? st : create(w, &host, max_concurrent, out, err, err_len);
}

#endif
