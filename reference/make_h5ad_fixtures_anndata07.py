"""Writes .h5ad fixtures with anndata 0.7 (the oldest on-disk layout CellWeave reads), each with a
NAME.expected.json sidecar (schema in fixturelib.py). Run it in a venv made from
reference/requirements-anndata07.txt; reference/fixtures/h5ad_anndata07/ is its output and
LAYOUT.md there describes what is on disk.

  csr_float32    X csr float32; obs: categorical (with a missing value), ordered categorical,
                 integer-category categorical, string, int64, int32, float32 (with NaN), float64,
                 bool; var: string, bool, float64
  csc_float64    X csc float64 (non-integer values)
  dense_float32  X dense float32
  dense_int64    X dense int64; obs and var without columns
  csr_int32      X csr int32
  csr_gzip       X csr float32, datasets gzip-compressed
  layers_raw     X normalised csr float32 (10 genes), layers counts (csr int32) and dense
                 (float32), raw with all 12 genes, obsm X_pca, uns

anndata 0.7 turns every string column whose values repeat into a categorical when writing, so
string columns here hold distinct values; it casts X to float32 unless given dtype=.

Usage: /tmp/venv-ad07/bin/python reference/make_h5ad_fixtures_anndata07.py OUT_DIR
"""
import sys
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from fixturelib import describe, processed, write_json

N_OBS, N_VARS = 20, 12


def frames(rng, kinds):
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(N_OBS)])
    var = pd.DataFrame(index=[f"Gene{j}" for j in range(N_VARS)])
    if kinds == "none":
        return obs, var
    sample = pd.Categorical(rng.choice(["s1", "s2", "s3"], N_OBS), categories=["s1", "s2", "s3"])
    if kinds == "all":
        sample[3] = np.nan  # code -1
    obs["sample"] = sample
    obs["barcode"] = [f"ACGT{i:04d}-1" for i in range(N_OBS)]
    obs["n_genes"] = rng.integers(0, 100, N_OBS).astype(np.int64)
    var["gene_ids"] = [f"ENSMUSG{j:05d}" for j in range(N_VARS)]
    var["highly_variable"] = np.arange(N_VARS) % 3 == 0
    if kinds == "all":
        stage = pd.Categorical(rng.choice(["early", "mid", "late"], N_OBS), categories=["early", "mid", "late"], ordered=True)
        stage[[1, 5]] = np.nan
        obs["stage"] = stage
        obs["batch_number"] = pd.Categorical(rng.choice([3, 7], N_OBS))
        obs["n_counts"] = rng.integers(0, 1000, N_OBS).astype(np.int32)
        score = rng.normal(size=N_OBS).astype(np.float32)
        score[2] = np.nan
        obs["score"] = score
        obs["pct_mito"] = rng.random(N_OBS)
        obs["passed"] = rng.random(N_OBS) > 0.5
        dispersion = np.linspace(0, 1, N_VARS)
        dispersion[1] = np.nan
        var["dispersion"] = dispersion
    return obs, var


def counts(rng) -> sp.csr_matrix:
    x = sp.random(N_OBS, N_VARS, density=0.3, format="csr", random_state=np.random.RandomState(0), dtype=np.float64)
    x.data = rng.integers(1, 50, x.nnz).astype(np.float64)
    return x


def anndata(x, obs, var):
    return ad.AnnData(X=x, obs=obs, var=var, dtype=x.dtype)  # 0.7 would cast X to float32


def write(out: Path, name: str, adata, **kwargs) -> None:
    adata.write_h5ad(out / f"{name}.h5ad", **kwargs)
    write_json(out / f"{name}.expected.json", describe(ad.read_h5ad(out / f"{name}.h5ad"), version("anndata")))


def main(out: Path) -> None:
    assert version("anndata").startswith("0.7"), "run this with anndata 0.7 (reference/requirements-anndata07.txt)"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    c = counts(rng)
    write(out, "csr_float32", anndata(c.astype(np.float32), *frames(rng, "all")))
    write(out, "csc_float64", anndata(sp.csc_matrix(c / 3), *frames(rng, "some")))
    write(out, "dense_float32", anndata(np.log1p(c.toarray()).astype(np.float32), *frames(rng, "some")))
    write(out, "dense_int64", anndata(c.toarray().astype(np.int64), *frames(rng, "none")))
    write(out, "csr_int32", anndata(c.astype(np.int32), *frames(rng, "some")))
    write(out, "csr_gzip", anndata(c.astype(np.float32), *frames(rng, "some")), compression="gzip")

    full = anndata(c.astype(np.float32), *frames(rng, "some"))
    full = processed(full, rng, "written by make_h5ad_fixtures_anndata07.py")
    write(out, "layers_raw", full)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
