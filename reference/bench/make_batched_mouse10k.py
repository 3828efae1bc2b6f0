"""Turns the real 10x v3 sample (mouse10k_chr1: 10,000 cells x 1,000 genes) into the .h5ad that the
VAE speed benchmark trains on (bench_train.py --speed-data): raw integer counts in X as float32
CSR, gene symbols made unique as var names, and an obs column `batch` (categorical, batch0..2)
that puts each cell in one of three artificial batches drawn by numpy's default_rng(0).

The batches carry no biology and no technical effect; they exist so that both trainers pay for a
batch covariate (one-hot into the encoder and every decoder layer) exactly as on real data.
Every cell and gene is kept, empty ones included, so the matrix is the same for both trainers.

Usage: python reference/bench/make_batched_mouse10k.py IN_10X_DIR OUT.h5ad [--batches 3] [--seed 0]
"""
import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="a Cell Ranger v3 matrix directory (matrix.mtx.gz, ...)")
    p.add_argument("out", type=Path, help="the .h5ad to write")
    p.add_argument("--batches", type=int, default=3, help="number of artificial batches")
    p.add_argument("--seed", type=int, default=0, help="seed of numpy's default_rng")
    args = p.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-unique symbols: made unique just below
        adata = sc.read_10x_mtx(args.src, var_names="gene_symbols", cache=False)
    adata.var_names_make_unique()

    x = sp.csr_matrix(adata.X, dtype=np.float32)
    x.sort_indices()
    vals = x.data
    if vals.size and (np.any(vals < 0) or np.any(vals != np.round(vals))):
        raise SystemExit(f"{args.src}: counts are not non-negative integers")
    adata.X = x

    rng = np.random.default_rng(args.seed)
    labels = [f"batch{i}" for i in range(args.batches)]
    codes = rng.integers(0, args.batches, size=adata.n_obs)
    adata.obs["batch"] = pd.Categorical.from_codes(codes, categories=labels)
    adata.uns["bench_batches"] = {"source": str(args.src), "seed": args.seed, "n_batches": args.batches}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    adata.write_h5ad(args.out)
    counts = adata.obs["batch"].value_counts().sort_index()
    print(
        f"{args.out}: {adata.n_obs} cells x {adata.n_vars} genes, {x.nnz} non-zeros, batches "
        + ", ".join(f"{k}={v}" for k, v in counts.items())
    )


if __name__ == "__main__":
    main()
