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

/// Adam's constants for one step (see CellWeaveModel's Adam).
struct cw_adam_constants {
    float scale, beta1, beta2, decay, epsilon, stepSize, correction2;
};

/// One Adam update of n parameters w in place from gradients g (left zero) and moments m, v.
void cw_adam_update(float *w, float *g, float *m, float *v, long n, const struct cw_adam_constants *c);

/// A sparse input's layer, gene by gene over genes first..<last: entries start[g]..<start[g+1] of
/// gene g are (row, value). Forward: y[row] += value * w[g]; weight gradient: dw[g] += value * dy[row]
/// (rows of n floats).
void cw_sparse_forward_by_gene(const long *start, const int *rows, const float *values, long first, long last,
                               const float *w, float *y, long n);
void cw_sparse_weight_gradient_by_gene(const long *start, const int *rows, const float *values, long first, long last,
                                       const float *dy, float *dw, long n);

#endif
