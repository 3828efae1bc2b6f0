#ifndef CELLWEAVE_VECTOR_MATH_H
#define CELLWEAVE_VECTOR_MATH_H

/// y[i] = expf(x[i]) and y[i] = logf(x[i]) over arrays, vectorised by the compiler into calls to
/// glibc's libmvec (AVX2 or SSE variant chosen at run time). x and y must not overlap.
void cw_vexpf(const float *x, float *y, long n);
void cw_vlogf(const float *x, float *y, long n);

/// The ReLU in place, y[i] = max(y[i], 0), and its backward pass for an output y:
/// dy[i] = y[i] > 0 ? dy[i] * scale : 0 (scale: dropout's 1 / keep). Written in C so the compare
/// becomes a vector mask: as a branch it is a coin flip for the predictor.
void cw_relu(float *y, long n);
void cw_relu_backward(const float *y, float *dy, float scale, long n);

#endif
