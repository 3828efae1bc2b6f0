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

// Eight floats as one value: the lanes of Swift's SIMD8, so sums run lane by lane as that code's do.
// Macros, not functions: a 32-byte vector argument would differ between the clones' ABIs.
typedef float cw_f8 __attribute__((vector_size(32), aligned(4)));
typedef int cw_i8 __attribute__((vector_size(32), aligned(4)));
#define CW_LOAD8(p) (*(const cw_f8 *)(p))
#define CW_STORE8(v, p) (*(cw_f8 *)(p) = (v))
#define CW_SPLAT8(x) ((cw_f8){x, x, x, x, x, x, x, x})

// Swift's SIMD8.sum() of lanes stored at p: added in order, from -0.
static inline float cw_sum8(const float *p) {
    float s = -0.0f;
    for (int l = 0; l < 8; l++) s += p[l];
    return s;
}

CW_CLONES double cw_nb_row(const struct cw_nb_row_arguments *r) {
    const long g = r->genes, vectors = g / 8, tail = 8 * vectors;
    const float *restrict logits = r->logits, *restrict theta = r->theta, *restrict logTheta = r->logTheta;
    float *restrict rho = r->proportions, *restrict a = r->meanGradient, *restrict scratch = r->scratch;
    float *restrict lt = r->logThetaPlusMean, *restrict dLogTheta = r->logThetaGradient;
    const float library = r->library, scale = r->scale;

    // The largest logit. Lane by lane, then across lanes: the same value as a scan in order (a
    // maximum does not depend on the order, but for the sign of a zero, which changes no result).
    float top = logits[0];
    if (vectors > 0) {
        cw_f8 m = CW_LOAD8(logits);
        for (long v = 1; v < vectors; v++) {
            const cw_f8 x = CW_LOAD8(logits + 8 * v);
            const cw_i8 greater = x > m;
            m = (cw_f8)(((cw_i8)x & greater) | ((cw_i8)m & ~greater));
        }
        float lanes[8];
        CW_STORE8(m, lanes);
        for (int l = 0; l < 8; l++) if (lanes[l] > top) top = lanes[l];
    }
    for (long j = tail; j < g; j++) if (logits[j] > top) top = logits[j];

    // Softmax and theta + mu.
    for (long j = 0; j < g; j++) scratch[j] = logits[j] - top;
    cw_vexpf(scratch, rho, g);
    cw_f8 sums = CW_SPLAT8(0);
    float sum = 0;
    for (long v = 0; v < vectors; v++) sums += CW_LOAD8(rho + 8 * v);
    for (long j = tail; j < g; j++) sum += rho[j];
    float lanes[8];
    CW_STORE8(sums, lanes);
    sum += cw_sum8(lanes);
    const float inverseSum = 1 / sum;
    const float logMeanOffset = logf(library) - top - logf(sum);
    for (long v = 0; v < vectors; v++) {
        const cw_f8 p = CW_LOAD8(rho + 8 * v) * inverseSum;
        CW_STORE8(p, rho + 8 * v);
        CW_STORE8(CW_LOAD8(theta + 8 * v) + library * p, scratch + 8 * v);
    }
    for (long j = tail; j < g; j++) {
        rho[j] *= inverseSum;
        scratch[j] = theta[j] + library * rho[j];
    }
    cw_vlogf(scratch, lt, g);

    // Every gene as a zero: log p(0) = theta (log theta - log(theta + mu)).
    float total = 0, weighted = 0;
    cw_f8 totals = CW_SPLAT8(0), weights = CW_SPLAT8(0);
    for (long v = 0; v < vectors; v++) {
        const cw_f8 t = CW_LOAD8(theta + 8 * v), l = CW_LOAD8(lt + 8 * v), lth = CW_LOAD8(logTheta + 8 * v);
        const cw_f8 ratio = t / CW_LOAD8(scratch + 8 * v);
        totals += t * (lth - l);
        CW_STORE8(-ratio, a + 8 * v);
        weights -= CW_LOAD8(rho + 8 * v) * ratio;
        if (dLogTheta) CW_STORE8(CW_LOAD8(dLogTheta + 8 * v) + scale * t * (lth + 1 - l - ratio), dLogTheta + 8 * v);
    }
    CW_STORE8(totals, lanes);
    total += cw_sum8(lanes);
    CW_STORE8(weights, lanes);
    weighted += cw_sum8(lanes);
    for (long j = tail; j < g; j++) {
        const float t = theta[j], l = lt[j], ratio = t / scratch[j];
        total += t * (logTheta[j] - l);
        a[j] = -ratio;
        weighted -= rho[j] * ratio;
        if (dLogTheta) dLogTheta[j] += scale * t * (logTheta[j] + 1 - l - ratio);
    }

    // The non-zeros corrected.
    double gammaTerms = 0;
    const long tableCounts = r->tableCounts;
    for (long k = r->first; k < r->last; k++) {
        const long j = r->geneIndex[k];
        const float x = r->counts[k], mu = library * rho[j], logMu = logits[j] + logMeanOffset;
        const float t = theta[j], l = lt[j], inv = 1 / (t + mu);
        const long n = r->integerCounts[k];
        float digammaDifference;
        if (n >= 1 && n <= tableCounts) {
            const long slot = j * tableCounts + n - 1;
            gammaTerms += (double)r->gammaTable[slot] - r->logFactorials[k];
            digammaDifference = r->digammaTable[slot];
        } else {
            double logGammaRatio, difference;
            r->gammaDifferences(x, t, logTheta[j], r->logGammaTheta[j], r->digammaTheta[j], &logGammaRatio, &difference);
            gammaTerms += logGammaRatio - r->logFactorials[k];
            digammaDifference = (float)difference;
        }
        total += x * (logMu - l);
        const float thetaTerm = digammaDifference - x * inv, before = a[j];
        a[j] += x / mu - x * inv;
        weighted += rho[j] * (a[j] - before);
        if (dLogTheta) dLogTheta[j] += scale * t * thetaTerm;
    }

    // Through mu = library * softmax(logits): d/dlogit_j = rho_j (L a_j - sum_h rho_h L a_h).
    if (r->logitGradient) {
        float *restrict dz = r->logitGradient;
        const float k = scale * library;
        for (long j = 0; j < g; j++) dz[j] = k * rho[j] * (a[j] - weighted);
    }
    return (double)total + gammaTerms;
}

CW_CLONES void cw_gather_rows(const struct cw_gather_arguments *a, long first, long last) {
    // Locals, restrict: through the struct every store could alias the next load's pointer.
    const long *restrict indptr = a->indptr, *restrict sourceRows = a->sourceRows, *restrict rowStart = a->rowStart;
    const int *restrict indices = a->indices;
    const float *restrict values = a->values, *restrict log1pTable = a->log1pTable;
    const double *restrict logFactorialTable = a->logFactorialTable;
    int *restrict genes = a->genes, *restrict integerCounts = a->integerCounts;
    float *restrict counts = a->counts, *restrict logCounts = a->logCounts, *restrict library = a->library;
    double *restrict logFactorials = a->logFactorials;
    const float tableSize = (float)a->tableSize;
    for (long i = first; i < last; i++) {
        const long r = sourceRows[i];
        long k = rowStart[i];
        float total = 0;
        for (long source = indptr[r]; source < indptr[r + 1]; source++, k++) {
            const float x = values[source];
            genes[k] = indices[source];
            counts[k] = x;
            const long n = x >= 0 && x < tableSize ? (long)x : -1;
            if (n >= 0 && (float)n == x) {
                logCounts[k] = log1pTable[n];
                logFactorials[k] = logFactorialTable[n];
                integerCounts[k] = (int)n;
            } else {
                a->otherCount(x, logCounts + k, logFactorials + k);
                integerCounts[k] = -1;
            }
            total += x;
        }
        library[i] = total;
    }
}

// log(1 + u) for u >= 0 to float's precision where 1 + u rounds (u below about 6e-8 gives u), in
// a form the vectoriser takes: logf of the rounded sum, corrected by how it rounded.
static inline float cw_log1p(float u) {
    const float w = 1 + u, l = logf(w);  // outside the select: a call under a branch is not vectorised
    return w == 1 ? u : l * (u / (w - 1));
}

CW_CLONES double cw_protein_row(const struct cw_protein_row_arguments *r) {
    const long p = r->proteins;
    const float *restrict y = r->counts, *restrict alpha = r->alpha, *restrict bp = r->scalePreactivation;
    const float *restrict fp = r->foregroundPreactivation, *restrict mix = r->mixingLogits, *restrict eps = r->epsilon;
    const float *restrict theta = r->theta, *restrict logTheta = r->logTheta, *restrict psi = r->digammaDifferences;
    const float *restrict priorMean = r->priorMean, *restrict priorLogScale = r->priorLogScale;
    float *restrict ll = r->scratch, *restrict klj = r->scratch + p;
    const float floor = r->betaFloor, preference = r->backgroundPreference, kw = r->klWeight, c = r->scale;
    float *restrict dAlpha = r->dAlpha, *restrict dScale = r->dScale, *restrict dForeground = r->dForeground;
    float *restrict dMixing = r->dMixing, *restrict dLogTheta = r->dLogTheta;
    float *restrict dPriorMean = r->dPriorMean, *restrict dPriorLogScale = r->dPriorLogScale;
    // Gradients are always computed (0 at scale 0): a branch in the loop would keep it scalar. The
    // cost model declines to vectorise it by itself; the baseline clone cannot (no SSE2 logf in
    // libmvec), hence the warning kept quiet.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpass-failed"
#pragma clang loop vectorize(enable) vectorize_width(8)
    for (long j = 0; j < p; j++) {
        const float x = y[j], a = alpha[j], b = bp[j], e = eps[j], f = fp[j], m = mix[j], t = theta[j], lt = logTheta[j];
        // softplus(b) and sigmoid(b) from one exp(-|b|); likewise softplus(-m) and sigmoid(m).
        const float ub = expf(-fabsf(b)), beta = fmaxf(b, 0) + cw_log1p(ub) + floor;
        const float sigmoidB = b > 0 ? 1 / (1 + ub) : ub / (1 + ub);
        const float um = expf(-fabsf(m)), softplusMinusM = fmaxf(-m, 0) + cw_log1p(um);
        const float sigmoidM = m > 0 ? 1 / (1 + um) : um / (1 + um);
        const float logBackground = a + beta * e, mu1 = expf(logBackground);
        const float s = fmaxf(f, 0) + 1 + floor, mu2 = mu1 * s;
        const float l1 = logf(t + mu1), l2 = logf(t + mu2);
        const float a1 = t * (lt - l1) + x * (logBackground - l1);
        const float a2 = t * (lt - l2) + x * (logBackground + logf(s) - l2) - m;
        const float top = fmaxf(a1, a2), e1 = expf(a1 - top), e2 = expf(a2 - top), sum = e1 + e2;
        const float total = top + logf(sum), r1 = e1 / sum, r2 = e2 / sum;
        ll[j] = total - softplusMinusM;
        const float pls = priorLogScale[j], ps2 = expf(2 * pls), deviation = a - priorMean[j];
        const float ratio = (beta * beta + deviation * deviation) / ps2;
        klj[j] = pls - logf(beta) + ratio / 2 - 0.5f + preference * softplusMinusM;
        // d loglik / d log mu of each component, and the mixture's responsibilities.
        const float g1 = t * (x - mu1) / (t + mu1), g2 = t * (x - mu2) / (t + mu2);
        const float dLogBackground = -(r1 * g1 + r2 * g2), dS = -r2 * g2 / s, z2 = deviation / ps2;
        dForeground[j] = c * (f > 0 ? dS : 0);
        dMixing[j] = c * (sigmoidM - r1 - kw * preference * (1 - sigmoidM));
        dAlpha[j] = c * (dLogBackground + kw * z2);
        dScale[j] = c * (dLogBackground * e + kw * (beta / ps2 - 1 / beta)) * sigmoidB;
        dPriorMean[j] -= c * kw * z2;
        dPriorLogScale[j] += c * kw * (1 - ratio);
        const float dTheta1 = lt + 1 - l1 - (t + x) / (t + mu1) + psi[j], dTheta2 = lt + 1 - l2 - (t + x) / (t + mu2) + psi[j];
        dLogTheta[j] -= c * t * (r1 * dTheta1 + r2 * dTheta2);
    }
#pragma clang diagnostic pop
    // The sums in protein order, in Double as the Swift code's.
    double logLikelihood = 0, kl = 0;
    for (long j = 0; j < p; j++) {
        logLikelihood += r->gammaTerms[j] + (double)ll[j];
        kl += (double)klj[j];
    }
    *r->kl = kl;
    return logLikelihood;
}
