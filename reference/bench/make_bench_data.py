"""Replicates a Cell Ranger v3 directory column-wise into a large one for `make bench`:
mouse10k_chr1 x 20 gives 200,000 cells and about 14 M non-zeros. Copy k of the cells gets the
barcodes with the GEM-well suffix -k (AAAC...-1 -> AAAC...-2), as `cellranger aggr` names them.

Streams: the source matrix is read once to count and once per copy, line by line, and written
through gzip (level 6, like Cell Ranger) as it goes, so memory stays flat. Entries keep Cell
Ranger's order (by barcode column, then feature); the source must be in that order. Skips the
work if OUT_DIR already holds the same output.

Usage: python reference/bench/make_bench_data.py SRC_DIR OUT_DIR [--cells 200000] [--level 6]
"""
import argparse
import gzip
from pathlib import Path

FORMAT = "2"  # bump when the output changes, so old outputs are rebuilt


def entries(matrix: Path):
    """(header lines, (rows, cols, nnz), iterator of 'row col value' lines) of a Matrix Market file."""
    f = gzip.open(matrix, "rt")
    header = []
    line = f.readline()
    while line.startswith("%"):
        header.append(line)
        line = f.readline()
    return header, tuple(map(int, line.split())), f


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=200_000)
    p.add_argument("--level", type=int, default=6, help="gzip level of matrix.mtx.gz")
    args = p.parse_args()

    stamp = f"{FORMAT} {args.src.resolve()} {args.cells} {args.level}"
    done = args.out / ".complete"
    if done.exists() and done.read_text() == stamp:
        return
    done.unlink(missing_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)

    header, (n_features, n_cells, nnz), lines = entries(args.src / "matrix.mtx.gz")
    copies = -(-args.cells // n_cells)
    last = args.cells - (copies - 1) * n_cells  # cells taken from the last copy
    previous = 0
    in_last = 0
    for line in lines:  # check the order, count the entries of the last, partial copy
        col = int(line.split()[1])
        if col < previous:
            raise SystemExit(f"{args.src}/matrix.mtx.gz: entries are not ordered by barcode (column {col} after {previous})")
        previous = col
        in_last += col <= last
    lines.close()

    with gzip.open(args.out / "matrix.mtx.gz", "wt", compresslevel=args.level) as out:
        out.writelines(header)
        out.write(f"{n_features} {args.cells} {nnz * (copies - 1) + in_last}\n")
        for c in range(copies):
            offset, limit = c * n_cells, (last if c == copies - 1 else n_cells)
            _, _, lines = entries(args.src / "matrix.mtx.gz")
            for line in lines:
                row, col, value = line.split()
                if int(col) > limit:
                    break
                out.write(f"{row} {int(col) + offset} {value}\n")
            lines.close()

    with gzip.open(args.src / "barcodes.tsv.gz", "rt") as f:
        stems = [b.strip().rsplit("-", 1)[0] for b in f if b.strip()]
    with gzip.open(args.out / "barcodes.tsv.gz", "wt") as out:
        for c in range(copies):
            limit = last if c == copies - 1 else n_cells
            out.writelines(f"{stem}-{c + 1}\n" for stem in stems[:limit])
    (args.out / "features.tsv.gz").write_bytes((args.src / "features.tsv.gz").read_bytes())
    done.write_text(stamp)


if __name__ == "__main__":
    main()
