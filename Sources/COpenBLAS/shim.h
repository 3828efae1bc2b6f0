#ifndef CELLWEAVE_COPENBLAS_SHIM_H
#define CELLWEAVE_COPENBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
