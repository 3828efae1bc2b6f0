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
