"""Writes small .h5ad files with whichever anndata is installed, covering the matrix layouts and
column kinds CellWeave must read. The interop tests run it with the current anndata at test time;
reference/fixtures/h5ad_anndata07/ holds its output under anndata 0.7 (see requirements-anndata07.txt).

Usage: python reference/make_h5ad_fixtures.py OUT_DIR
"""
import sys
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

N_OBS, N_VARS = 20, 12


def counts(rng, dtype):
    return sp.random(N_OBS, N_VARS, density=0.3, random_state=rng, data_rvs=lambda n: rng.integers(1, 50, n)).astype(dtype)


def base(rng, x, modern=True):
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(N_OBS)])
    obs["sample"] = pd.Categorical(rng.choice(["s1", "s2", "s3"], N_OBS))
    obs["label"] = [f"type {i % 4}" for i in range(N_OBS)]
    obs["n_genes"] = rng.integers(0, 100, N_OBS).astype(np.int64)
    obs["score"] = rng.normal(size=N_OBS).astype(np.float32)
    obs["passed"] = rng.random(N_OBS) > 0.5
    if modern:
        stage = pd.Categorical(rng.choice(["early", "mid", "late"], N_OBS), categories=["early", "mid", "late"], ordered=True)
        stage[[1, 5]] = np.nan  # missing codes are -1
        obs["stage"] = stage
        obs["batch_number"] = pd.Categorical(rng.choice([3, 7], N_OBS))
        obs["umis"] = pd.array([None if i % 5 == 0 else i for i in range(N_OBS)], dtype="Int64")
        obs["doublet"] = pd.array([None if i % 7 == 0 else bool(i % 2) for i in range(N_OBS)], dtype="boolean")
        obs["comment"] = pd.array([None if i % 6 == 0 else f"note {i}" for i in range(N_OBS)], dtype="string")
    var = pd.DataFrame(index=[f"Gene{j}" for j in range(N_VARS)])
    var["gene_ids"] = [f"ENSMUSG{j:05d}" for j in range(N_VARS)]
    var["highly_variable"] = np.arange(N_VARS) % 3 == 0
    var["dispersion"] = np.linspace(0, 1, N_VARS)
    return ad.AnnData(X=x, obs=obs, var=var)


def write_all(out: Path, modern: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if modern and hasattr(ad.settings, "allow_write_nullable_strings"):
        ad.settings.allow_write_nullable_strings = True
    rng = np.random.default_rng(0)
    raw_counts = counts(rng, np.float32).tocsr()

    base(rng, raw_counts, modern).write_h5ad(out / "csr_float32.h5ad")
    base(rng, sp.csc_matrix(raw_counts.astype(np.float64)), modern).write_h5ad(out / "csc_float64.h5ad")
    base(rng, raw_counts.toarray(), modern).write_h5ad(out / "dense_float32.h5ad")
    base(rng, raw_counts.toarray().astype(np.int64), modern).write_h5ad(out / "dense_int64.h5ad")
    base(rng, raw_counts.astype(np.int32), modern).write_h5ad(out / "csr_int32.h5ad")
    base(rng, raw_counts, modern).write_h5ad(out / "csr_gzip.h5ad", compression="gzip")

    # A processed object: normalised X, counts in a layer, all genes in raw, an embedding.
    full = base(rng, raw_counts, modern)
    full.layers["counts"] = raw_counts.astype(np.int32)
    full.layers["dense"] = raw_counts.toarray()
    full.obsm["X_pca"] = rng.normal(size=(N_OBS, 3)).astype(np.float32)
    full.uns["note"] = "written by make_h5ad_fixtures.py"
    full.raw = full
    full = full[:, : N_VARS - 2].copy()  # raw keeps 12 genes, X has 10
    full.X = full.X.multiply(1.0 / np.maximum(full.X.sum(axis=1), 1)).tocsr().astype(np.float32)
    full.write_h5ad(out / "layers_raw.h5ad")


if __name__ == "__main__":
    write_all(Path(sys.argv[1]), modern=tuple(int(p) for p in version("anndata").split(".")[:2]) >= (0, 8))
