"""Makes reference/example/mouse2k_chr1: the first 2,000 cells of ../shared/data/mouse10k_chr1
as a Cell Ranger v3 directory, small enough to ship in the repository for `make run`.

Usage: python reference/make_example_data.py SRC_DIR OUT_DIR [N_CELLS]
"""
import gzip
import shutil
import sys
from pathlib import Path

import scipy.io
import scipy.sparse as sp


def main(src: Path, out: Path, n_cells: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    m = sp.csc_matrix(scipy.io.mmread(src / "matrix.mtx.gz"))[:, :n_cells].tocoo()
    # Cell Ranger order: by barcode (column), then feature (row).
    order = sorted(range(m.nnz), key=lambda k: (m.col[k], m.row[k]))
    with gzip.open(out / "matrix.mtx.gz", "wt", compresslevel=9) as f:
        f.write("%%MatrixMarket matrix coordinate integer general\n")
        f.write('%metadata_json: {"software_version": "made by reference/make_example_data.py"}\n')
        f.write(f"{m.shape[0]} {m.shape[1]} {m.nnz}\n")
        for k in order:
            f.write(f"{m.row[k] + 1} {m.col[k] + 1} {int(m.data[k])}\n")
    with gzip.open(src / "barcodes.tsv.gz", "rt") as f:
        barcodes = f.read().splitlines()[:n_cells]
    with gzip.open(out / "barcodes.tsv.gz", "wt", compresslevel=9) as f:
        f.write("\n".join(barcodes) + "\n")
    with gzip.open(src / "features.tsv.gz", "rb") as fin, gzip.open(out / "features.tsv.gz", "wb", compresslevel=9) as fout:
        shutil.copyfileobj(fin, fout)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 2000)
