"""Writes small .h5ad fixtures with the installed (current) anndata, each with a NAME.expected.json
sidecar (schema in fixturelib.py), plus bad .h5ad files for the error tests. Deterministic
(fixed seed); reference/fixtures/h5ad/ is its output, LAYOUT.md there describes the files.

  csr_float32    X csr float32; obs and var with every column kind (see all_columns())
  csc_float64    X csc float64 (non-integer values); this and the others below have a few columns:
                 obs sample (categorical), barcode (string), n_genes (int64); var gene_ids,
                 highly_variable
  dense_float32  X dense float32 (log1p values)
  dense_int64    X dense int64; obs and var without columns (empty column-order)
  csr_int32      X csr int32
  csr_gzip       X csr float32, every dataset (columns too) gzip-compressed
  layers_raw     X normalised csr float32 (10 genes), layers counts (csr int32) and dense
                 (float32), raw with all 12 genes, obsm X_pca (float32), uns

Bad files (into BAD_DIR, default OUT_DIR/../bad): h5ad_not_h5ad.h5ad (HDF5 with plain datasets,
no X), h5ad_categorical_codes.h5ad (a categorical code past the categories), h5ad_unknown_encoding.h5ad
(X encoding-type 'foo_matrix').

Usage: python reference/make_h5ad_fixtures.py OUT_DIR [--bad BAD_DIR]
"""
import argparse
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from fixturelib import describe, processed, record_bad_cases, write_json

N_OBS, N_VARS = 20, 12


def all_columns(rng, obs: pd.DataFrame, var: pd.DataFrame) -> None:
    """One column of each kind anndata writes (written with convert_strings_to_categoricals=False,
    else anndata turns string columns with repeated values or a missing value into categoricals)."""
    n = len(obs)
    sample = pd.Categorical(rng.choice(["s1", "s2", "s3"], n), categories=["s1", "s2", "s3"])
    sample[3] = np.nan  # stored as code -1
    obs["sample"] = sample
    stage = pd.Categorical(rng.choice(["early", "mid", "late"], n), categories=["early", "mid", "late"], ordered=True)
    stage[[1, 5]] = np.nan
    obs["stage"] = stage
    obs["batch_number"] = pd.Categorical(rng.choice([3, 7], n))  # integer categories
    obs["label"] = [f"type {i % 4}" for i in range(n)]  # object strings
    obs["n_genes"] = rng.integers(0, 100, n).astype(np.int64)
    obs["n_counts"] = rng.integers(0, 1000, n).astype(np.int32)
    score = rng.normal(size=n).astype(np.float32)
    score[2] = np.nan
    obs["score"] = score
    obs["pct_mito"] = rng.random(n)
    obs["passed"] = rng.random(n) > 0.5
    obs["umis"] = pd.array([None if i % 5 == 0 else 10 * i for i in range(n)], dtype="Int64")
    obs["doublet"] = pd.array([None if i % 7 == 0 else bool(i % 2) for i in range(n)], dtype="boolean")
    obs["comment"] = pd.array([None if i == 4 else f"comment {i}" for i in range(n)], dtype="string")

    m = len(var)
    var["feature_types"] = pd.Categorical(["Gene Expression"] * m)
    var["highly_variable"] = np.arange(m) % 3 == 0
    dispersion = np.linspace(0, 1, m)
    dispersion[1] = np.nan
    var["dispersion"] = dispersion
    var["n_cells"] = rng.integers(0, N_OBS, m).astype(np.int64)


def frames(rng, kinds="some"):
    """obs and var with every column kind ('all'), a few ('some') or none ('none')."""
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(N_OBS)])
    var = pd.DataFrame(index=[f"Gene{j}" for j in range(N_VARS)])
    if kinds == "all":
        var["gene_ids"] = [f"ENSMUSG{j:05d}" for j in range(N_VARS)]
        all_columns(rng, obs, var)
    elif kinds == "some":
        obs["sample"] = pd.Categorical(rng.choice(["s1", "s2", "s3"], N_OBS))
        obs["barcode"] = [f"ACGT{i:04d}-1" for i in range(N_OBS)]  # distinct, so it stays a string column
        obs["n_genes"] = rng.integers(0, 100, N_OBS).astype(np.int64)
        var["gene_ids"] = [f"ENSMUSG{j:05d}" for j in range(N_VARS)]
        var["highly_variable"] = np.arange(N_VARS) % 3 == 0
    return obs, var


def counts(rng) -> sp.csr_matrix:
    x = sp.random(N_OBS, N_VARS, density=0.3, format="csr", random_state=np.random.RandomState(0), dtype=np.float64)
    x.data = rng.integers(1, 50, x.nnz).astype(np.float64)
    return x


def write(out: Path, name: str, adata, **kwargs) -> None:
    adata.write_h5ad(out / f"{name}.h5ad", **kwargs)
    # The sidecar describes what anndata reads back, which is what is on disk.
    write_json(out / f"{name}.expected.json", describe(ad.read_h5ad(out / f"{name}.h5ad"), version("anndata")))


def write_good(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ad.settings.allow_write_nullable_strings = True  # else anndata refuses pandas' string dtype
    rng = np.random.default_rng(0)
    c = counts(rng)

    obs, var = frames(rng, "all")
    write(out, "csr_float32", ad.AnnData(X=c.astype(np.float32), obs=obs, var=var), convert_strings_to_categoricals=False)
    obs, var = frames(rng)
    write(out, "csc_float64", ad.AnnData(X=sp.csc_matrix(c / 3), obs=obs, var=var))
    obs, var = frames(rng)
    write(out, "dense_float32", ad.AnnData(X=np.log1p(c.toarray()).astype(np.float32), obs=obs, var=var))
    obs, var = frames(rng, "none")
    write(out, "dense_int64", ad.AnnData(X=c.toarray().astype(np.int64), obs=obs, var=var))
    obs, var = frames(rng)
    write(out, "csr_int32", ad.AnnData(X=c.astype(np.int32), obs=obs, var=var))
    obs, var = frames(rng)
    write(out, "csr_gzip", ad.AnnData(X=c.astype(np.float32), obs=obs, var=var), compression="gzip")

    # A processed object: normalised X on 10 genes, counts in a layer, all 12 genes in raw.
    obs, var = frames(rng)
    full = ad.AnnData(X=c.astype(np.float32), obs=obs, var=var)
    full = processed(full, rng, "written by make_h5ad_fixtures.py")
    write(out, "layers_raw", full)


def write_bad(bad: Path) -> None:
    bad.mkdir(parents=True, exist_ok=True)
    with h5py.File(bad / "h5ad_not_h5ad.h5ad", "w") as f:
        f["temperature"] = np.arange(3.0)
        f.create_group("readings")["day"] = np.arange(3)
    for name, obs in [("h5ad_categorical_codes", {"batch": pd.Categorical(["x", "y", "x"])}), ("h5ad_unknown_encoding", {})]:
        ad.AnnData(X=sp.csr_matrix(np.eye(3, 2, dtype=np.float32)), obs=pd.DataFrame(obs, index=["a", "b", "c"]),
                   var=pd.DataFrame(index=["g1", "g2"])).write_h5ad(bad / f"{name}.h5ad")
    with h5py.File(bad / "h5ad_categorical_codes.h5ad", "r+") as f:
        f["obs/batch/codes"][2] = 2  # two categories
    with h5py.File(bad / "h5ad_unknown_encoding.h5ad", "r+") as f:
        f["X"].attrs["encoding-type"] = "foo_matrix"
    record_bad_cases(bad, {
        "h5ad_not_h5ad": {"path": "h5ad_not_h5ad.h5ad", "file": "h5ad_not_h5ad.h5ad", "hdf5_path": "/", "says": "not an h5ad",
                          "error": "an HDF5 file with plain datasets and no X, obs or var"},
        "h5ad_categorical_codes": {"path": "h5ad_categorical_codes.h5ad", "file": "h5ad_categorical_codes.h5ad",
                                   "hdf5_path": "/obs/batch/codes", "says": "outside -1...1",
                                   "error": "a categorical obs column with a code past its two categories (anndata refuses to open it)"},
        "h5ad_unknown_encoding": {"path": "h5ad_unknown_encoding.h5ad", "file": "h5ad_unknown_encoding.h5ad", "hdf5_path": "/X",
                                  "says": "foo_matrix", "error": "/X has encoding-type 'foo_matrix'; the error names the unknown encoding"},
    })

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out", type=Path)
    p.add_argument("--bad", type=Path)
    args = p.parse_args()
    write_good(args.out)
    write_bad(args.bad or args.out.parent / "bad")
