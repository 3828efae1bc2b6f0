"""Makes the demo pipeline's samples (pipelines/demo) from the real 10x v3 sample mouse10k_chr1:
three disjoint random sets of 1,000 cells, each given its own batch effect, written as Cell Ranger
writes a filtered matrix (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz), plus per sample a
cell_types.tsv.

- Batch effect: per sample, every gene's expected count is scaled by a factor exp(N(0, 0.5^2)),
  and all counts by a depth factor (0.7, 1.0, 1.4); counts are then drawn Poisson around
  (original count x gene factor x depth factor). So samples differ gene by gene and in depth,
  as real batches do, while the cells' biology is the one sample's.
- Labels: Leiden clusters (resolution 0.5) of the unperturbed sample by scanpy's standard
  workflow (normalize_total, log1p, 30 PCs, 15 neighbours), named `cluster<k>`: a stand-in for the
  cell-type annotations users bring, known before the batch effect was added, which `evaluate`
  scores bio conservation against.

Usage: python reference/demo/make_demo_samples.py ../shared/data/mouse10k_chr1 reference/demo/samples
"""
import gzip
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.io
import scipy.sparse as sp

SAMPLES = {"sampleA": 0.7, "sampleB": 1.0, "sampleC": 1.4}
CELLS = 1000


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.read_10x_mtx(src, var_names="gene_ids", cache=False)
    counts = sp.csr_matrix(adata.X, dtype=np.float64)

    ref = adata.copy()
    sc.pp.normalize_total(ref)
    sc.pp.log1p(ref)
    sc.pp.pca(ref, n_comps=30, random_state=0)
    sc.pp.neighbors(ref, n_neighbors=15, random_state=0, transformer="sklearn")  # exact; see README on scipy 1.17
    sc.tl.leiden(ref, resolution=0.5, flavor="igraph", n_iterations=2, random_state=0)
    labels = ("cluster" + ref.obs["leiden"].astype(str)).to_numpy()

    rng = np.random.default_rng(7)
    order = rng.permutation(adata.n_obs)
    for s, (name, depth) in enumerate(SAMPLES.items()):
        cells = np.sort(order[s * CELLS:(s + 1) * CELLS])
        gene_factor = np.exp(rng.normal(0, 0.5, adata.n_vars))
        x = counts[cells].tocoo()
        lam = x.data * gene_factor[x.col] * depth
        drawn = rng.poisson(lam)
        keep = drawn > 0
        m = sp.coo_matrix((drawn[keep], (x.row[keep], x.col[keep])), shape=(len(cells), adata.n_vars))
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(d / "matrix.mtx.gz", "wb", mtime=0) as f:
            scipy.io.mmwrite(f, m.T.tocoo().astype(np.int64), field="integer")
        features = pd.DataFrame({"id": adata.var_names, "symbol": adata.var["gene_symbols"], "type": "Gene Expression"})
        with gzip.GzipFile(d / "features.tsv.gz", "wb", mtime=0) as f:
            f.write(features.to_csv(sep="\t", header=False, index=False).encode())
        with gzip.GzipFile(d / "barcodes.tsv.gz", "wb", mtime=0) as f:
            f.write(("\n".join(adata.obs_names[cells]) + "\n").encode())
        pd.DataFrame({"barcode": adata.obs_names[cells], "cell_type": labels[cells]}).to_csv(
            d / "cell_types.tsv", sep="\t", index=False)
        print(f"{d}: {len(cells)} cells, {m.nnz} non-zeros, depth x{depth}")


if __name__ == "__main__":
    main()
