/* The Kompress encoder and heads on an NVIDIA GPU, built as a plugin
 * (kompress-cuda.so) that libhr opens only when a model is asked to run on
 * CUDA, so that programs linked with libhr never load cuBLAS otherwise.
 *
 * Weights live on the device as fp16; the matrix products are cuBLAS GEMMs
 * on fp16 tensor cores with fp32 accumulation. The residual stream, the
 * norms' statistics, attention scores and the heads stay in fp32. A run's
 * windows go through together, padded to the longest, as one batch (or a
 * few, when the batch would not fit the memory budget); attention is a
 * strided batched GEMM over windows x heads with a masked softmax between.
 * The rest are small kernels of this file. max_concurrent slots (each its
 * own stream, cuBLAS handle and scratch) bound concurrent GPU work. */
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "kompress/kompress.h"
}

#define WARP 32
/* weights and every slot's scratch: the CUDA context and cuBLAS's
 * workspaces take most of the rest of the 6 GB the backend stays within */
#define VRAM_BUDGET ((size_t)5 << 30)
#define MAX_BATCH 64 /* windows in one batch */

/* ---- kernels ------------------------------------------------------------- */

static __device__ float warp_sum(float v)
{
    for (int o = WARP / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static __device__ float warp_max(float v)
{
    for (int o = WARP / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static __device__ float gelu_exact(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

/* x[row][H] = fp32 embedding row of ids[row] */
static __global__ void k_embed(const int *ids, const __half *emb, int H, size_t total, float *x)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    size_t row = i / (size_t)H, col = i % (size_t)H;
    x[i] = __half2float(emb[(size_t)ids[row] * H + col]);
}

/* A warp per row: LayerNorm without bias (w NULL: the identity), written as
 * fp32 to out32 (when not NULL, may be x itself) and as fp16 to out16. */
static __global__ void k_layer_norm(float *x, const float *w, int H, float eps, int rows, float *out32, __half *out16)
{
    int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / WARP), lane = threadIdx.x % WARP;
    if (row >= rows) return;
    float *r = x + (size_t)row * H;
    float mean = 0, inv = 1;
    if (w) {
        float s = 0;
        for (int i = lane; i < H; i += WARP) s += r[i];
        mean = warp_sum(s) / H;
        float v = 0;
        for (int i = lane; i < H; i += WARP) v += (r[i] - mean) * (r[i] - mean);
        inv = rsqrtf(warp_sum(v) / H + eps);
    }
    for (int i = lane; i < H; i += WARP) {
        float y = w ? (r[i] - mean) * inv * w[i] : r[i];
        if (out32) out32[(size_t)row * H + i] = y;
        out16[(size_t)row * H + i] = __float2half(y);
    }
}

/* qkv[b][t][3H] (fp32) -> q, k, v as fp16 [b][head][t][hd], rotary
 * embedding on q and k: pairs (i, i + hd/2), tables [t][hd/2]. */
static __global__ void k_rope_split(const float *qkv, const float *cosv, const float *sinv, int T, int heads, int hd,
                                    size_t total, __half *q, __half *k, __half *v)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return; /* total = B * T * heads * hd/2 */
    int half = hd / 2, H = heads * hd;
    int d = (int)(i % half);
    size_t rest = i / half;
    int h = (int)(rest % heads);
    size_t row = rest / heads; /* b * T + t */
    int t = (int)(row % T);
    size_t b = row / T;
    const float *src = qkv + row * 3 * (size_t)H + (size_t)h * hd;
    float c = cosv[(size_t)t * half + d], s = sinv[(size_t)t * half + d];
    size_t dst = ((b * heads + h) * T + t) * (size_t)hd;
    float a = src[d], z = src[d + half];
    q[dst + d] = __float2half(a * c - z * s);
    q[dst + d + half] = __float2half(z * c + a * s);
    a = src[H + d], z = src[H + d + half];
    k[dst + d] = __float2half(a * c - z * s);
    k[dst + d + half] = __float2half(z * c + a * s);
    v[dst + d] = __float2half(src[2 * H + d]);
    v[dst + d + half] = __float2half(src[2 * H + d + half]);
}

/* A warp per score row (b, head, i): softmax over the window's real keys
 * (j < len[b]) within reach of i (reach < 0: all). Padding rows get zeros,
 * so that nothing of them reaches a real row. */
static __global__ void k_softmax(const float *s, const int *len, int T, int heads, int reach, size_t rows, __half *p)
{
    size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= rows) return;
    int i = (int)(row % T), n = len[row / T / heads];
    const float *r = s + row * T;
    __half *o = p + row * T;
    int lo = 0, hi = n;
    if (reach >= 0) {
        lo = i > reach ? i - reach : 0;
        hi = i + reach + 1 < n ? i + reach + 1 : n;
    }
    if (i >= n) lo = hi = 0;
    float mx = -INFINITY;
    for (int j = lo + lane; j < hi; j += WARP) mx = fmaxf(mx, r[j]);
    mx = warp_max(mx);
    float sum = 0;
    for (int j = lo + lane; j < hi; j += WARP) sum += __expf(r[j] - mx);
    sum = warp_sum(sum);
    float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (int j = lane; j < T; j += WARP) o[j] = __float2half(j >= lo && j < hi ? __expf(r[j] - mx) * inv : 0.0f);
}

/* GeGLU: gated[t][i] = gelu(mlp[t][i]) * mlp[t][F + i] */
static __global__ void k_geglu(const float *mlp, int F, size_t total, __half *gated)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    size_t t = i / F, c = i % F;
    const float *r = mlp + t * 2 * (size_t)F;
    gated[i] = __float2half(gelu_exact(r[c]) * r[F + c]);
}

/* A warp per token: the token head's two logits from the final norm (fp32). */
static __global__ void k_token_head(const float *h, const float *w, const float *bias, int H, int rows, float *l0,
                                    float *l1)
{
    int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / WARP), lane = threadIdx.x % WARP;
    if (row >= rows) return;
    const float *r = h + (size_t)row * H;
    float a = 0, b = 0;
    for (int i = lane; i < H; i += WARP) a += r[i] * w[i], b += r[i] * w[H + i];
    a = warp_sum(a), b = warp_sum(b);
    if (lane == 0) l0[row] = a + bias[0], l1[row] = b + bias[1];
}

/* span_conv.0's sum over its 5 taps (conv_in[t][k][c] holds tap k of
 * channel c at token t), inside the window only, then GELU. */
static __global__ void k_conv_mid(const float *conv_in, const float *bias, const int *len, int T, int C, size_t total,
                                  float *mid)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int c = (int)(i % C);
    size_t row = i / C;
    int t = (int)(row % T), n = len[row / T];
    float s = bias[c];
    for (int k = 0; k < 5; k++) {
        int src = t + k - 2;
        if (src < 0 || src >= n) continue;
        s += conv_in[(row - t + src) * 5 * (size_t)C + (size_t)k * C + c];
    }
    mid[i] = gelu_exact(s);
}

/* A warp per token: span_conv.2 (256 -> 1, kernel 3, padding 1), sigmoid. */
static __global__ void k_span(const float *mid, const float *w, const float *bias, const int *len, int T, int C,
                              int rows, float *span)
{
    int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / WARP), lane = threadIdx.x % WARP;
    if (row >= rows) return;
    int t = row % T, n = len[row / T];
    float s = 0;
    for (int k = 0; k < 3; k++) {
        int src = t + k - 1;
        if (src < 0 || src >= n) continue;
        const float *p = mid + (size_t)(row - t + src) * C;
        for (int c = lane; c < C; c += WARP) s += w[c * 3 + k] * p[c];
    }
    s = warp_sum(s) + bias[0];
    if (lane == 0) span[row] = 1.0f / (1.0f + expf(-s));
}

/* ---- the backend ------------------------------------------------------------ */

struct dlayer {
    float *attn_norm, *mlp_norm; /* attn_norm NULL in layer 0 */
    __half *wqkv, *wo, *wi, *wo2;
};

/* One run at a time per slot: its stream, handle and scratch. */
struct slot {
    cudaStream_t stream;
    cublasHandle_t blas;
    int *ids, *len;
    float *x, *f32a, *s, *mlp, *mid, *out; /* f32a: qkv, then final norm, then conv taps */
    __half *h, *q, *k, *v, *p, *att, *gated;
    const void **ptrs;        /* PV's pointer arrays: 3 x batch x heads */
    int *host_ids, *host_len; /* pinned */
    float *host_out;
    const void **host_ptrs;
    int busy;
};

struct cuda_backend {
    struct hr_kbackend base;
    struct hr_kconfig cfg;
    int H, F, heads, hd, C, batch, slots;
    __half *emb;
    float *emb_norm, *final_norm, *head_w, *head_b, *conv0_b, *conv2_w, *conv2_b;
    float *rope_cos[2], *rope_sin[2]; /* [0] global, [1] local */
    __half *conv0;                    /* span_conv.0 as [5][C][H] */
    struct dlayer layer[HR_KOMPRESS_MAX_LAYERS];
    struct slot slot[HR_KOMPRESS_MAX_CONCURRENT];
    pthread_mutex_t lock;
    pthread_cond_t freed;
    void **allocs;
    size_t n_allocs, cap_allocs, device_bytes;
};

/* Where the calling thread's error goes: the caller's buffer while the
 * backend starts, a scratch line during runs (whose status says enough). */
static thread_local char *err_to;
static thread_local size_t err_room;

static int fail(struct cuda_backend *b, const char *fmt, ...)
{
    (void)b;
    if (err_to && err_room) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err_to, err_room, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int cuda_ok(struct cuda_backend *b, cudaError_t e, const char *what)
{
    return e == cudaSuccess ? 0 : fail(b, "%s: %s", what, cudaGetErrorString(e));
}

static int blas_ok(struct cuda_backend *b, cublasStatus_t s, const char *what)
{
    return s == CUBLAS_STATUS_SUCCESS ? 0 : fail(b, "%s: cuBLAS status %d", what, (int)s);
}

/* Device memory, remembered for destroy. */
static void *dev_alloc(struct cuda_backend *b, size_t bytes)
{
    if (b->n_allocs == b->cap_allocs) {
        size_t cap = b->cap_allocs ? 2 * b->cap_allocs : 64;
        void **grown = (void **)realloc(b->allocs, cap * sizeof *grown);
        if (!grown) return NULL;
        b->allocs = grown, b->cap_allocs = cap;
    }
    void *p = NULL;
    if (cuda_ok(b, cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc")) return NULL;
    b->allocs[b->n_allocs++] = p;
    b->device_bytes += bytes;
    return p;
}

static float *upload_f32(struct cuda_backend *b, const float *src, size_t n)
{
    float *d = (float *)dev_alloc(b, n * sizeof *d);
    if (d && cuda_ok(b, cudaMemcpy(d, src, n * sizeof *d, cudaMemcpyHostToDevice), "cudaMemcpy")) return NULL;
    return d;
}

static __half *upload_f16(struct cuda_backend *b, const float *src, size_t n)
{
    __half *tmp = (__half *)malloc(n * sizeof *tmp);
    __half *d = tmp ? (__half *)dev_alloc(b, n * sizeof *d) : NULL;
    if (!tmp) fail(b, "no host memory to convert weights");
    for (size_t i = 0; d && i < n; i++) tmp[i] = __float2half(src[i]);
    if (d && cuda_ok(b, cudaMemcpy(d, tmp, n * sizeof *d, cudaMemcpyHostToDevice), "cudaMemcpy")) d = NULL;
    free(tmp);
    return d;
}

/* The embedding table as fp16, a row at a time through libhr's reader of
 * its stored dtype. */
static __half *upload_embedding(struct cuda_backend *b, const struct hr_kweights *w, const struct hr_kcuda_host *host)
{
    size_t V = (size_t)b->cfg.vocab, H = (size_t)b->H;
    __half *tmp = (__half *)malloc(V * H * sizeof *tmp);
    float *row = (float *)malloc(H * sizeof *row);
    __half *d = tmp && row ? (__half *)dev_alloc(b, V * H * sizeof *d) : NULL;
    if (!tmp || !row) fail(b, "no host memory to convert the embedding table");
    for (size_t v = 0; d && v < V; v++) {
        host->embed(w, (uint32_t)v, row);
        for (size_t i = 0; i < H; i++) tmp[v * H + i] = __float2half(row[i]);
    }
    if (d && cuda_ok(b, cudaMemcpy(d, tmp, V * H * sizeof *d, cudaMemcpyHostToDevice), "cudaMemcpy")) d = NULL;
    free(row);
    free(tmp);
    return d;
}

static int upload_weights(struct cuda_backend *b, const struct hr_kweights *w, const struct hr_kcuda_host *host)
{
    size_t H = (size_t)b->H, F = (size_t)b->F, C = (size_t)b->C, rope = (size_t)HR_KOMPRESS_MAX_TOKENS * (b->hd / 2);
    if (!(b->emb = upload_embedding(b, w, host))) return -1;
    if (!(b->emb_norm = upload_f32(b, w->emb_norm, H)) || !(b->final_norm = upload_f32(b, w->final_norm, H))) return -1;
    for (int i = 0; i < b->cfg.layers; i++) {
        const struct hr_klayer *y = &w->layer[i];
        struct dlayer *d = &b->layer[i];
        if (y->attn_norm && !(d->attn_norm = upload_f32(b, y->attn_norm, H))) return -1;
        if (!(d->mlp_norm = upload_f32(b, y->mlp_norm, H))) return -1;
        if (!(d->wqkv = upload_f16(b, y->wqkv, 3 * H * H)) || !(d->wo = upload_f16(b, y->wo, H * H))) return -1;
        if (!(d->wi = upload_f16(b, y->wi, 2 * F * H)) || !(d->wo2 = upload_f16(b, y->wo2, H * F))) return -1;
    }
    if (!(b->head_w = upload_f32(b, w->head_w, 2 * H)) || !(b->head_b = upload_f32(b, w->head_b, 2))) return -1;
    if (!(b->conv0_b = upload_f32(b, w->conv0_b, C)) || !(b->conv2_w = upload_f32(b, w->conv2_w, 3 * C)) ||
        !(b->conv2_b = upload_f32(b, w->conv2_b, 1)))
        return -1;
    if (!(b->conv0 = upload_f16(b, w->conv0_taps, 5 * C * H))) return -1;
    for (int k = 0; k < 2; k++) {
        b->rope_cos[k] = upload_f32(b, w->rope_cos[k], rope);
        b->rope_sin[k] = upload_f32(b, w->rope_sin[k], rope);
        if (!b->rope_cos[k] || !b->rope_sin[k]) return -1;
    }
    return 0;
}

/* Device bytes one window of MAX_TOKENS takes in a slot's scratch. */
static size_t window_bytes(const struct cuda_backend *b)
{
    size_t T = HR_KOMPRESS_MAX_TOKENS, H = (size_t)b->H, F = (size_t)b->F, C = (size_t)b->C, nh = (size_t)b->heads;
    size_t f32a = 3 * H > 5 * C ? 3 * H : 5 * C;
    size_t f32 = T * (H + f32a + 2 * F + C + 3) + nh * T * T;
    size_t f16 = T * (H + 3 * H + H + F) + nh * T * T;
    return f32 * 4 + f16 * 2 + T * 4 + 4 + 3 * nh * sizeof(void *);
}

static int slot_init(struct cuda_backend *b, struct slot *s)
{
    size_t T = HR_KOMPRESS_MAX_TOKENS, N = (size_t)b->batch * T, H = (size_t)b->H, F = (size_t)b->F;
    size_t C = (size_t)b->C, nh = (size_t)b->heads, f32a = 3 * H > 5 * C ? 3 * H : 5 * C;
    if (cuda_ok(b, cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking), "cudaStreamCreate")) return -1;
    if (blas_ok(b, cublasCreate(&s->blas), "cublasCreate")) return -1;
    if (blas_ok(b, cublasSetStream(s->blas, s->stream), "cublasSetStream")) return -1;
    s->ids = (int *)dev_alloc(b, N * sizeof(int)), s->len = (int *)dev_alloc(b, (size_t)b->batch * sizeof(int));
    s->x = (float *)dev_alloc(b, N * H * 4), s->f32a = (float *)dev_alloc(b, N * f32a * 4);
    s->s = (float *)dev_alloc(b, (size_t)b->batch * nh * T * T * 4), s->mlp = (float *)dev_alloc(b, N * 2 * F * 4);
    s->mid = (float *)dev_alloc(b, N * C * 4), s->out = (float *)dev_alloc(b, 3 * N * 4);
    s->h = (__half *)dev_alloc(b, N * H * 2), s->q = (__half *)dev_alloc(b, N * H * 2);
    s->k = (__half *)dev_alloc(b, N * H * 2), s->v = (__half *)dev_alloc(b, N * H * 2);
    s->p = (__half *)dev_alloc(b, (size_t)b->batch * nh * T * T * 2), s->att = (__half *)dev_alloc(b, N * H * 2);
    s->gated = (__half *)dev_alloc(b, N * F * 2);
    s->ptrs = (const void **)dev_alloc(b, 3 * (size_t)b->batch * nh * sizeof(void *));
    if (!s->ids || !s->len || !s->x || !s->f32a || !s->s || !s->mlp || !s->mid || !s->out || !s->h || !s->q || !s->k ||
        !s->v || !s->p || !s->att || !s->gated || !s->ptrs)
        return -1;
    if (cuda_ok(b, cudaMallocHost((void **)&s->host_ids, N * sizeof(int)), "cudaMallocHost") ||
        cuda_ok(b, cudaMallocHost((void **)&s->host_len, (size_t)b->batch * sizeof(int)), "cudaMallocHost") ||
        cuda_ok(b, cudaMallocHost((void **)&s->host_out, 3 * N * sizeof(float)), "cudaMallocHost") ||
        cuda_ok(b, cudaMallocHost((void **)&s->host_ptrs, 3 * (size_t)b->batch * nh * sizeof(void *)),
                "cudaMallocHost"))
        return -1;
    return 0;
}

static unsigned blocks(size_t threads, unsigned per_block)
{
    return (unsigned)((threads + per_block - 1) / per_block);
}

/* out[M][N] (fp32, beta 0 or 1) = in[M][K] (fp16) . W[N][K]^T (fp16), fp32 accumulation. */
static cublasStatus_t linear(struct slot *s, const __half *in, int M, int K, const __half *W, int N, float beta,
                             float *out)
{
    float alpha = 1.0f;
    return cublasGemmEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, W, CUDA_R_16F, K, in, CUDA_R_16F, K, &beta,
                        out, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

static int attention(struct cuda_backend *b, struct slot *s, const struct dlayer *y, int global, int nb, int T)
{
    int H = b->H, hd = b->hd, nh = b->heads, M = nb * T, half = hd / 2;
    cublasStatus_t st = linear(s, s->h, M, H, y->wqkv, 3 * H, 0.0f, s->f32a);
    if (st) return blas_ok(b, st, "Wqkv GEMM");
    size_t pairs = (size_t)M * nh * half;
    k_rope_split<<<blocks(pairs, 256), 256, 0, s->stream>>>(s->f32a, b->rope_cos[!global], b->rope_sin[!global], T, nh,
                                                            hd, pairs, s->q, s->k, s->v);
    /* scores[bh][i][j] = scale * q_i . k_j */
    float scale = 1.0f / sqrtf((float)hd), zero = 0.0f, one = 1.0f;
    long long qs = (long long)T * hd, ss = (long long)T * T;
    st = cublasGemmStridedBatchedEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, &scale, s->k, CUDA_R_16F, hd, qs, s->q,
                                    CUDA_R_16F, hd, qs, &zero, s->s, CUDA_R_32F, T, ss, nb * nh, CUBLAS_COMPUTE_32F,
                                    CUBLAS_GEMM_DEFAULT);
    if (st) return blas_ok(b, st, "attention scores GEMM");
    size_t rows = (size_t)nb * nh * T;
    int reach = global ? -1 : b->cfg.local_window / 2;
    k_softmax<<<blocks(rows * WARP, 256), 256, 0, s->stream>>>(s->s, s->len, T, nh, reach, rows, s->p);
    /* att[b][t][h * hd + d] = sum_j p[bh][t][j] v[bh][j][d], by the
     * pointer arrays run_batch set up; fp16 output with fp32 accumulation: att feeds the fp16 Wo GEMM */
    size_t nbh = (size_t)nb * nh;
    st = cublasGemmBatchedEx(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, &one, s->ptrs, CUDA_R_16F, hd, s->ptrs + nbh,
                             CUDA_R_16F, T, &zero, (void *const *)(s->ptrs + 2 * nbh), CUDA_R_16F, H, (int)nbh,
                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st) return blas_ok(b, st, "attention values GEMM");
    st = linear(s, s->att, M, H, y->wo, H, 1.0f, s->x); /* residual */
    return st ? blas_ok(b, st, "Wo GEMM") : 0;
}

static int mlp(struct cuda_backend *b, struct slot *s, const struct dlayer *y, int M)
{
    int H = b->H, F = b->F;
    cublasStatus_t st = linear(s, s->h, M, H, y->wi, 2 * F, 0.0f, s->mlp);
    if (st) return blas_ok(b, st, "Wi GEMM");
    size_t n = (size_t)M * F;
    k_geglu<<<blocks(n, 256), 256, 0, s->stream>>>(s->mlp, F, n, s->gated);
    st = linear(s, s->gated, M, F, y->wo2, H, 1.0f, s->x); /* residual */
    return st ? blas_ok(b, st, "MLP Wo GEMM") : 0;
}

static int heads_run(struct cuda_backend *b, struct slot *s, int M, int T)
{
    int H = b->H, C = b->C;
    float *h32 = s->f32a;
    k_token_head<<<blocks((size_t)M * WARP, 256), 256, 0, s->stream>>>(h32, b->head_w, b->head_b, H, M, s->out,
                                                                       s->out + M);
    cublasStatus_t st = linear(s, s->h, M, H, b->conv0, 5 * C, 0.0f, s->f32a); /* after the head read h32 */
    if (st) return blas_ok(b, st, "span_conv.0 GEMM");
    size_t n = (size_t)M * C;
    k_conv_mid<<<blocks(n, 256), 256, 0, s->stream>>>(s->f32a, b->conv0_b, s->len, T, C, n, s->mid);
    k_span<<<blocks((size_t)M * WARP, 256), 256, 0, s->stream>>>(s->mid, b->conv2_w, b->conv2_b, s->len, T, C, M,
                                                                 s->out + 2 * (size_t)M);
    return 0;
}

/* One batch: nb windows padded to T tokens, ids and lengths already in the slot. */
static int forward(struct cuda_backend *b, struct slot *s, int nb, int T)
{
    int H = b->H, M = nb * T;
    float eps = (float)b->cfg.norm_eps;
    size_t cells = (size_t)M * H;
    unsigned rows_grid = blocks((size_t)M * WARP, 256);
    k_embed<<<blocks(cells, 256), 256, 0, s->stream>>>(s->ids, b->emb, H, cells, s->x);
    k_layer_norm<<<rows_grid, 256, 0, s->stream>>>(s->x, b->emb_norm, H, eps, M, s->x, s->h);
    for (int i = 0; i < b->cfg.layers; i++) {
        const struct dlayer *y = &b->layer[i];
        if (i > 0) k_layer_norm<<<rows_grid, 256, 0, s->stream>>>(s->x, y->attn_norm, H, eps, M, NULL, s->h);
        if (attention(b, s, y, b->cfg.global[i], nb, T)) return -1;
        k_layer_norm<<<rows_grid, 256, 0, s->stream>>>(s->x, y->mlp_norm, H, eps, M, NULL, s->h);
        if (mlp(b, s, y, M)) return -1;
    }
    k_layer_norm<<<rows_grid, 256, 0, s->stream>>>(s->x, b->final_norm, H, eps, M, s->f32a, s->h);
    if (heads_run(b, s, M, T)) return -1;
    return cuda_ok(b, cudaGetLastError(), "kernel launch");
}

static int run_batch(struct cuda_backend *b, struct slot *s, struct hr_kwindow *win, int nb)
{
    int T = 0;
    for (int i = 0; i < nb; i++) T = (int)win[i].n > T ? (int)win[i].n : T;
    T = (T + 7) / 8 * 8; /* aligned rows for the tensor cores */
    if (T > HR_KOMPRESS_MAX_TOKENS) T = HR_KOMPRESS_MAX_TOKENS;
    size_t M = (size_t)nb * T;
    for (int i = 0; i < nb; i++) {
        s->host_len[i] = (int)win[i].n;
        for (int t = 0; t < T; t++) s->host_ids[(size_t)i * T + t] = t < (int)win[i].n ? (int)win[i].ids[t] : 0;
    }
    /* attention's value products write rows that interleave heads
     * (att[b][t][h * hd + d]), so their batch goes by pointer arrays */
    size_t nh = (size_t)b->heads, nbh = (size_t)nb * nh, qs = (size_t)T * b->hd, ss = (size_t)T * T;
    for (size_t i = 0; i < nbh; i++) {
        s->host_ptrs[i] = s->v + i * qs;
        s->host_ptrs[nbh + i] = s->p + i * ss;
        s->host_ptrs[2 * nbh + i] = s->att + (i / nh) * (size_t)T * b->H + (i % nh) * b->hd;
    }
    if (cuda_ok(b, cudaMemcpyAsync(s->ptrs, s->host_ptrs, 3 * nbh * sizeof(void *), cudaMemcpyHostToDevice, s->stream),
                "cudaMemcpyAsync") ||
        cuda_ok(b, cudaMemcpyAsync(s->ids, s->host_ids, M * sizeof(int), cudaMemcpyHostToDevice, s->stream),
                "cudaMemcpyAsync") ||
        cuda_ok(b, cudaMemcpyAsync(s->len, s->host_len, (size_t)nb * sizeof(int), cudaMemcpyHostToDevice, s->stream),
                "cudaMemcpyAsync"))
        return -1;
    if (forward(b, s, nb, T)) return -1;
    if (cuda_ok(b, cudaMemcpyAsync(s->host_out, s->out, 3 * M * sizeof(float), cudaMemcpyDeviceToHost, s->stream),
                "cudaMemcpyAsync") ||
        cuda_ok(b, cudaStreamSynchronize(s->stream), "cudaStreamSynchronize"))
        return -1;
    for (int i = 0; i < nb; i++) {
        size_t at = (size_t)i * T;
        memcpy(win[i].logit0, s->host_out + at, win[i].n * sizeof(float));
        memcpy(win[i].logit1, s->host_out + M + at, win[i].n * sizeof(float));
        memcpy(win[i].span, s->host_out + 2 * M + at, win[i].n * sizeof(float));
    }
    return 0;
}

static struct slot *take_slot(struct cuda_backend *b)
{
    pthread_mutex_lock(&b->lock);
    for (;;) {
        for (int i = 0; i < b->slots; i++)
            if (!b->slot[i].busy) {
                b->slot[i].busy = 1;
                pthread_mutex_unlock(&b->lock);
                return &b->slot[i];
            }
        pthread_cond_wait(&b->freed, &b->lock);
    }
}

static void give_slot(struct cuda_backend *b, struct slot *s)
{
    pthread_mutex_lock(&b->lock);
    s->busy = 0;
    pthread_cond_signal(&b->freed);
    pthread_mutex_unlock(&b->lock);
}

static hr_status cuda_run(struct hr_kbackend *self, struct hr_kwindow *win, size_t count)
{
    struct cuda_backend *b = (struct cuda_backend *)self;
    for (size_t i = 0; i < count; i++) {
        if (win[i].n == 0 || win[i].n > HR_KOMPRESS_MAX_TOKENS) return HR_EINVAL;
        for (size_t t = 0; t < win[i].n; t++)
            if (win[i].ids[t] >= (uint32_t)b->cfg.vocab) return HR_EINVAL;
    }
    struct slot *s = take_slot(b);
    char why[HR_KOMPRESS_ERR];
    err_to = why, err_room = sizeof why;
    int rc = 0;
    for (size_t at = 0; !rc && at < count; at += (size_t)b->batch) {
        size_t nb = count - at < (size_t)b->batch ? count - at : (size_t)b->batch;
        rc = run_batch(b, s, win + at, (int)nb);
    }
    give_slot(b, s);
    err_to = NULL, err_room = 0;
    return rc ? HR_EMODEL : HR_OK;
}

static void cuda_destroy(struct hr_kbackend *self)
{
    struct cuda_backend *b = (struct cuda_backend *)self;
    if (!b) return;
    for (int i = 0; i < b->slots; i++) {
        struct slot *s = &b->slot[i];
        if (s->blas) cublasDestroy(s->blas);
        if (s->stream) cudaStreamDestroy(s->stream);
        cudaFreeHost(s->host_ids), cudaFreeHost(s->host_len), cudaFreeHost(s->host_out);
        cudaFreeHost((void *)s->host_ptrs);
    }
    for (size_t i = 0; i < b->n_allocs; i++) cudaFree(b->allocs[i]);
    free(b->allocs);
    pthread_cond_destroy(&b->freed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* Windows per batch: as many as the budget holds after the weights, up to
 * MAX_BATCH, and never more than the device has free. */
static int pick_batch(struct cuda_backend *b, int slots)
{
    size_t free_b = 0, total_b = 0;
    if (cuda_ok(b, cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo")) return -1;
    size_t room = free_b / 10 * 9, budget = VRAM_BUDGET > b->device_bytes ? VRAM_BUDGET - b->device_bytes : 0;
    budget = budget < room ? budget : room;
    size_t reserve = (size_t)64 << 20; /* cuBLAS workspaces and the CUDA context's own */
    size_t per = window_bytes(b) * (size_t)slots;
    size_t n = budget > reserve ? (budget - reserve) / per : 0;
    if (n < 1) return fail(b, "not enough GPU memory: %zu MB free, a window needs %zu MB", free_b >> 20, per >> 20);
    return n > MAX_BATCH ? MAX_BATCH : (int)n;
}

#define HR_KOMPRESS_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

HR_KOMPRESS_CUDA_EXPORT const int hr_kompress_cuda_abi = HR_KOMPRESS_CUDA_ABI;

HR_KOMPRESS_CUDA_EXPORT hr_status hr_kompress_cuda_new(const struct hr_kweights *w, const struct hr_kcuda_host *host,
                                                       int max_concurrent, struct hr_kbackend **out, char *err,
                                                       size_t err_len)
{
    *out = NULL;
    int devices = 0;
    cudaError_t e = cudaGetDeviceCount(&devices);
    if (e != cudaSuccess || devices == 0) {
        snprintf(err, err_len, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return HR_ENOTFOUND;
    }
    struct cuda_backend *b = (struct cuda_backend *)calloc(1, sizeof *b);
    if (!b) return HR_ENOMEM;
    b->base.name = "cuda", b->base.run = cuda_run, b->base.destroy = cuda_destroy;
    err_to = err, err_room = err_len;
    b->cfg = w->cfg;
    b->H = w->cfg.hidden, b->F = w->cfg.intermediate, b->heads = w->cfg.heads, b->hd = b->H / b->heads;
    b->C = HR_KOMPRESS_SPAN_CHANNELS;
    int cap = (int)(sizeof b->slot / sizeof b->slot[0]);
    b->slots = max_concurrent < 1 ? 1 : max_concurrent > cap ? cap : max_concurrent;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->freed, NULL);
    int rc = upload_weights(b, w, host);
    if (!rc) rc = (b->batch = pick_batch(b, b->slots)) < 1 ? -1 : 0;
    for (int i = 0; !rc && i < b->slots; i++) rc = slot_init(b, &b->slot[i]);
    err_to = NULL, err_room = 0;
    if (rc) {
        cuda_destroy(&b->base);
        return HR_ENOMEM;
    }
    b->base.device_bytes = b->device_bytes;
    *out = &b->base;
    return HR_OK;
}
