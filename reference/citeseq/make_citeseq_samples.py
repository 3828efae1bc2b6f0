"""Makes the CITE-seq pipeline's samples (pipelines/citeseq) from a `cellweave simulate --proteins`
run: one Cell Ranger filtered matrix per batch (matrix.mtx.gz, features.tsv.gz with Gene
Expression and Antibody Capture rows, barcodes.tsv.gz) and a cell_types.tsv. The last sample is
written without its antibody panel (Gene Expression features only), as a sample stained with no
panel comes out of Cell Ranger: its cells have no protein at all.

The simulation (see the README of pipelines/citeseq):
  cellweave simulate -o cite.h5mu --cells 2100 --genes 500 --proteins 12 --batches 3 --cell-types 5 \\
      --library-size 800 --seed 11

Usage: python reference/citeseq/make_citeseq_samples.py cite.h5mu reference/citeseq/samples
"""
import gzip
import sys
from pathlib import Path

import mudata as md
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

NAMES = ["citeA", "citeB", "rnaC"]


def write_gz(path: Path, text: str) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(text.encode())


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    md.set_options(pull_on_update=False)
    m = md.read_h5mu(src)
    rna, prot = m["rna"], m["prot"]
    batches = m.obs["batch"].astype(str).to_numpy()
    for b, name in zip(sorted(set(batches)), NAMES):
        cells = np.flatnonzero(batches == b)
        barcodes = [f"{name[-1]}{i:05d}-1" for i in range(len(cells))]
        x = sp.csr_matrix(rna.X)[cells]
        types = ["Gene Expression"] * rna.n_vars
        ids, symbols = [f"ENSSIM{j:05d}" for j in range(rna.n_vars)], list(rna.var_names)
        if name != NAMES[-1]:
            rows = [prot.obs_names.get_loc(c) for c in m.obs_names[cells]]
            x = sp.hstack([x, sp.csr_matrix(np.asarray(prot.X.toarray() if sp.issparse(prot.X) else prot.X)[rows])]).tocsr()
            types += ["Antibody Capture"] * prot.n_vars
            ids += list(prot.var_names)
            symbols += list(prot.var_names)
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(d / "matrix.mtx.gz", "wb", mtime=0) as f:
            scipy.io.mmwrite(f, x.T.tocoo().astype(np.int64), field="integer")
        write_gz(d / "features.tsv.gz", "".join(f"{i}\t{s}\t{t}\n" for i, s, t in zip(ids, symbols, types)))
        write_gz(d / "barcodes.tsv.gz", "\n".join(barcodes) + "\n")
        pd.DataFrame({"barcode": barcodes, "cell_type": m.obs["cell_type"].astype(str).to_numpy()[cells]}).to_csv(
            d / "cell_types.tsv", sep="\t", index=False)
        print(f"{d}: {len(cells)} cells, {x.shape[1]} features ({'with' if name != NAMES[-1] else 'no'} antibody panel)")


if __name__ == "__main__":
    main()
