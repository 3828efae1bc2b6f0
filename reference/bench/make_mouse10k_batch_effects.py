"""Real counts with batch effects of known design, for the defaults benchmark (bench_defaults.py):
every cell of the real 10x v3 sample mouse10k_chr1, split at random into three batches, each batch
given its own effect as the demo samples are (reference/demo/make_demo_samples.py):

- every gene's expected count scaled by a per-batch factor exp(N(0, 0.5^2)), all counts by a depth
  factor (0.7, 1.0, 1.4), and counts redrawn Poisson around (original x gene factor x depth);
- labels (obs cell_type): Leiden clusters of the unperturbed counts by scanpy's standard workflow
  (normalize_total, log1p, 30 PCs, 15 neighbours, resolution 1.0), known before the batch effect
  was added. Resolution 1.0 keeps small populations (a few dozen to a few hundred cells) apart,
  so that scib's isolated-labels score sees whether an embedding keeps them.

Cells with fewer than 20 genes detected and genes detected in fewer than 3 cells are dropped; X holds integer counts as float32 CSR.

Usage: python reference/bench/make_mouse10k_batch_effects.py IN_10X_DIR OUT.h5ad [--seed 7]
"""
import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp

DEPTHS = (0.7, 1.0, 1.4)
# Cells with fewer genes than this are dropped first, as a QC filter would (they are mostly empty).
MIN_GENES = 20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="a Cell Ranger v3 matrix directory (matrix.mtx.gz, ...)")
    p.add_argument("out", type=Path, help="the .h5ad to write")
    p.add_argument("--seed", type=int, default=7, help="seed of numpy's default_rng")
    p.add_argument("--resolution", type=float, default=1.0, help="Leiden resolution of the labels")
    a = p.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.read_10x_mtx(a.src, var_names="gene_symbols", cache=False)
    adata.var_names_make_unique()
    sc.pp.filter_cells(adata, min_genes=MIN_GENES)
    sc.pp.filter_genes(adata, min_cells=3)
    counts = sp.csr_matrix(adata.X, dtype=np.float64)

    ref = adata.copy()
    sc.pp.normalize_total(ref)
    sc.pp.log1p(ref)
    sc.pp.pca(ref, n_comps=30, random_state=0)
    sc.pp.neighbors(ref, n_neighbors=15, random_state=0, transformer="sklearn")  # exact; see README on scipy 1.17
    sc.tl.leiden(ref, resolution=a.resolution, flavor="igraph", n_iterations=2, random_state=0)
    labels = ("cluster" + ref.obs["leiden"].astype(str)).to_numpy()

    rng = np.random.default_rng(a.seed)
    batch = rng.integers(0, len(DEPTHS), size=adata.n_obs)
    factors = np.exp(rng.normal(0, 0.5, (len(DEPTHS), adata.n_vars))) * np.asarray(DEPTHS)[:, None]
    x = counts.tocoo()
    drawn = rng.poisson(x.data * factors[batch[x.row], x.col])
    keep = drawn > 0
    m = sp.csr_matrix((drawn[keep].astype(np.float32), (x.row[keep], x.col[keep])), shape=adata.shape)
    m.sort_indices()

    out = sc.AnnData(m, obs=pd.DataFrame(index=adata.obs_names), var=adata.var[["gene_ids"]].copy())
    out.obs["batch"] = pd.Categorical.from_codes(batch, categories=[f"batch{i}" for i in range(len(DEPTHS))])
    out.obs["cell_type"] = pd.Categorical(labels)
    out.uns["batch_effects"] = {"source": str(a.src), "seed": a.seed, "depths": list(DEPTHS), "gene_factor_sd": 0.5,
                                "label_resolution": a.resolution}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    out.write_h5ad(a.out)
    sizes = out.obs["cell_type"].value_counts()
    print(f"{a.out}: {out.n_obs} cells x {out.n_vars} genes, {m.nnz} non-zeros, "
          f"{m.sum() / out.n_obs:.0f} counts per cell, {len(sizes)} labels of {sizes.min()}-{sizes.max()} cells")


if __name__ == "__main__":
    main()
