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

/// One cell of the negative binomial's fused reconstruction pass (CountLikelihood.minibatch, whose
/// Swift code for Double it follows operation by operation, 8 lanes wide where that code is SIMD8).
/// Rows of `genes` floats: logits in; proportions, d log p / d mu, log(theta + mu) and a scratch row
/// out. Non-zeros first..<last of the batch's arrays; a count outside the gamma tables
/// (1...tableCounts) takes its gamma differences from `gammaDifferences`. The logit and log theta
/// gradients (scaled by `scale`, log theta's accumulated) are written where not NULL. Returns the
/// cell's log-likelihood.
struct cw_nb_row_arguments {
    const float *logits;
    float library, scale;
    long genes;
    const int *geneIndex;
    const float *counts;
    const int *integerCounts;
    const double *logFactorials;
    long first, last;
    const float *theta, *logTheta, *gammaTable, *digammaTable;
    long tableCounts;
    const double *logGammaTheta, *digammaTheta;
    float *logitGradient, *logThetaGradient;
    float *proportions, *meanGradient, *scratch, *logThetaPlusMean;
    void (*gammaDifferences)(double x, double theta, double logTheta, double logGammaTheta, double digammaTheta,
                             double *logGammaRatio, double *digammaDifference);
};
double cw_nb_row(const struct cw_nb_row_arguments *row);

/// Rows of a CSR matrix into a minibatch's per-non-zero arrays (SparseBatch.gather, Float): batch
/// rows first..<last, row i from matrix row sourceRows[i], its entries from rowStart[i] on. A count
/// that is an integer in 0..<tableSize takes log1p and log(x!) from the tables and is written to
/// integerCounts; any other takes them from `otherCount`, with integer count -1. Writes each row's
/// library size, summed in order.
struct cw_gather_arguments {
    const long *indptr;
    const int *indices;
    const float *values;
    const long *sourceRows, *rowStart;
    const float *log1pTable;
    const double *logFactorialTable;
    long tableSize;
    int *genes;
    float *counts, *logCounts;
    double *logFactorials;
    int *integerCounts;
    float *library;
    void (*otherCount)(float x, float *logCount, double *logFactorial);
};
void cw_gather_rows(const struct cw_gather_arguments *arguments, long first, long last);

/// One cell of totalVI's protein mixture (ProteinDecoder.row, whose Swift code for Double it
/// computes, not operation by operation: loops over the proteins vectorised into libmvec). Rows of
/// `proteins` floats: the dense counts, the heads' outputs (alpha, the background scale's and the
/// foreground scale's preactivations, the mixing logits) and the background's standard normals;
/// per protein theta, log theta, the gamma terms of the counts (lgamma(y + theta) - lgamma(theta)
/// - log y! and digamma(y + theta) - digamma(theta), 0 at y = 0) and the cell's batch row of the
/// background prior (mean, log scale). The gradients of scale * (-loglik + klWeight * KL) go into
/// the row's output gradients and are added to the per-protein ones (0 at scale 0, where they are
/// still written). `scratch` holds 2 * proteins floats. Returns the log-likelihood; the KL into *kl.
struct cw_protein_row_arguments {
    long proteins;
    const float *counts, *alpha, *scalePreactivation, *foregroundPreactivation, *mixingLogits, *epsilon;
    const float *theta, *logTheta, *digammaDifferences, *priorMean, *priorLogScale;
    const double *gammaTerms;
    float betaFloor, backgroundPreference, klWeight, scale;
    float *dAlpha, *dScale, *dForeground, *dMixing;
    float *dLogTheta, *dPriorMean, *dPriorLogScale;
    float *scratch;
    double *kl;
};
double cw_protein_row(const struct cw_protein_row_arguments *row);

#endif
