#include <math.h>
#include "vector_math.h"

// On x86_64 one clone is built for AVX2 and one for the baseline, picked when the program loads.
#if defined(__x86_64__)
#define CW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CW_CLONES
#endif

CW_CLONES void cw_vexpf(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = expf(x[i]);
}

CW_CLONES void cw_vlogf(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = logf(x[i]);
}

CW_CLONES void cw_relu(float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
}

CW_CLONES void cw_relu_backward(const float *restrict y, float *restrict dy, float scale, long n) {
    for (long i = 0; i < n; i++) dy[i] = y[i] > 0 ? dy[i] * scale : 0;
}

// Adam's update over n values: the same operations in the same order as an element-wise Swift
// loop, so every clone gives the same bits (no FMA: the AVX2 clone is built without it).
CW_CLONES void cw_adam_update(float *restrict w, float *restrict g, float *restrict m, float *restrict v, long n,
                              const struct cw_adam_constants *c) {
    const float scale = c->scale, beta1 = c->beta1, beta2 = c->beta2, decay = c->decay, epsilon = c->epsilon;
    const float stepSize = c->stepSize, correction2 = c->correction2, keep1 = 1 - beta1, keep2 = 1 - beta2;
    for (long i = 0; i < n; i++) {
        const float grad = g[i] * scale + decay * w[i];
        g[i] = 0;
        const float first = beta1 * m[i] + keep1 * grad, second = beta2 * v[i] + keep2 * grad * grad;
        m[i] = first;
        v[i] = second;
        w[i] = w[i] - stepSize * first / (sqrtf(second) / correction2 + epsilon);
    }
}

CW_CLONES void cw_sparse_forward_by_gene(const long *restrict start, const int *restrict rows, const float *restrict values,
                                         long first, long last, const float *restrict w, float *restrict y, long n) {
    for (long gene = first; gene < last; gene++) {
        const float *wg = w + gene * n;
        for (long k = start[gene]; k < start[gene + 1]; k++) {
            const float a = values[k];
            float *yr = y + (long)rows[k] * n;
            for (long h = 0; h < n; h++) yr[h] += a * wg[h];
        }
    }
}

CW_CLONES void cw_sparse_weight_gradient_by_gene(const long *restrict start, const int *restrict rows, const float *restrict values,
                                                 long first, long last, const float *restrict dy, float *restrict dw, long n) {
    for (long gene = first; gene < last; gene++) {
        float *dwg = dw + gene * n;
        for (long k = start[gene]; k < start[gene + 1]; k++) {
            const float a = values[k];
            const float *d = dy + (long)rows[k] * n;
            for (long h = 0; h < n; h++) dwg[h] += a * d[h];
        }
    }
}
