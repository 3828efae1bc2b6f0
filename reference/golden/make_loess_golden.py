"""Golden LOESS fits from scikit-misc (the netlib dloess code scanpy's seurat_v3 flavour calls),
on the log10 mean / log10 variance of mouse10k_chr1's genes, as scanpy passes them.

Usage: python reference/golden/make_loess_golden.py SHARED_DATA_DIR OUT.json  (needs scikit-misc)
"""
import json
import sys
from pathlib import Path

import numpy as np
import scanpy as sc
from skmisc.loess import loess


def main(data: Path, out: Path) -> None:
    adata = sc.read_10x_mtx(data / "mouse10k_chr1")
    x = adata.X.astype(np.float64)
    mean = np.asarray(x.mean(axis=0)).ravel()
    var = (np.asarray(x.multiply(x).mean(axis=0)).ravel() - mean**2) * x.shape[0] / (x.shape[0] - 1)
    keep = var > 0
    lx, ly = np.log10(mean[keep]), np.log10(var[keep])
    cases = []
    for span in (0.3, 0.75):
        model = loess(lx, ly, span=span, degree=2)
        model.fit()
        cases.append({"span": span, "fitted": model.outputs.fitted_values.tolist()})
    # A small case with ties in x, to pin down how the k-d tree splits them.
    tx = np.repeat(np.arange(20.0), 3)
    ty = np.sin(tx / 3) + np.tile([0.0, 0.1, -0.1], 20)
    tied = loess(tx, ty, span=0.3, degree=2)
    tied.fit()
    out.write_text(json.dumps({"x": lx.tolist(), "y": ly.tolist(), "cases": cases,
                               "tied": {"x": tx.tolist(), "y": ty.tolist(), "span": 0.3, "fitted": tied.outputs.fitted_values.tolist()}}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
