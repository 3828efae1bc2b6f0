#ifndef CELLWEAVE_VECTOR_MATH_H
#define CELLWEAVE_VECTOR_MATH_H

/// y[i] = expf(x[i]) and y[i] = logf(x[i]) over arrays, vectorised by the compiler into calls to
/// glibc's libmvec (AVX2 or SSE variant chosen at run time). x and y must not overlap.
void cw_vexpf(const float *x, float *y, long n);
void cw_vlogf(const float *x, float *y, long n);

#endif
