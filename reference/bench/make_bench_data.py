"""Replicates a Cell Ranger v3 directory column-wise into a large one for `make bench`:
mouse10k_chr1 x 20 gives 200,000 cells and about 14 M non-zeros. Streams line by line, so memory
stays flat; entries keep Cell Ranger's order (by barcode, then feature). Skips work if the output
is already complete.

Usage: python reference/bench/make_bench_data.py SRC_DIR OUT_DIR [--cells 200000]
"""
import argparse
import gzip
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=200_000)
    args = p.parse_args()

    done = args.out / ".complete"
    if done.exists() and done.read_text() == str(args.cells):
        return
    args.out.mkdir(parents=True, exist_ok=True)

    with gzip.open(args.src / "matrix.mtx.gz", "rt") as f:
        lines = iter(f)
        header = [next(lines)]
        line = next(lines)
        while line.startswith("%"):
            line = next(lines)
        n_features, n_cells, nnz = map(int, line.split())
        entries = [l.split() for l in lines]
    copies = -(-args.cells // n_cells)
    last = args.cells - (copies - 1) * n_cells
    total = nnz * (copies - 1) + sum(1 for e in entries if int(e[1]) <= last)

    with gzip.open(args.out / "matrix.mtx.gz", "wt", compresslevel=6) as out:
        out.write(header[0])
        out.write(f"{n_features} {args.cells} {total}\n")
        for c in range(copies):
            offset = c * n_cells
            limit = last if c == copies - 1 else n_cells
            out.writelines(f"{r} {int(col) + offset} {v}\n" for r, col, v in entries if int(col) <= limit)

    with gzip.open(args.src / "barcodes.tsv.gz", "rt") as f:
        barcodes = f.read().split()
    with gzip.open(args.out / "barcodes.tsv.gz", "wt") as out:
        for c in range(copies):
            limit = last if c == copies - 1 else n_cells
            out.writelines(f"{b}_{c + 1}\n" for b in barcodes[:limit])
    (args.out / "features.tsv.gz").write_bytes((args.src / "features.tsv.gz").read_bytes())
    done.write_text(str(args.cells))


if __name__ == "__main__":
    main()
