/* The CUDA backend's entry while libhr has no CUDA code: auto falls back to
 * the CPU, and asking for cuda says why it cannot. */
#include "errmsg.h"
#include "kompress.h"

hr_status hr__kbackend_cuda_new(const struct hr_kweights *w, int max_concurrent, struct hr_kbackend **out,
                                char *err, size_t err_len)
{
    (void)w, (void)max_concurrent;
    *out = NULL;
    return hr__errorf(err, err_len, HR_ENOTFOUND, "this libhr has no CUDA backend");
}
