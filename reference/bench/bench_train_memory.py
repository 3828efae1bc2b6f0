"""Training memory at scale for `make bench`: `cellweave train` for one epoch on simulated counts
(default 1,000,000 cells x 2,000 genes) and its peak RSS beside the size of the CSR matrix and of
the dense matrix it never builds. The data is made once by `cellweave simulate` and kept.

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_train_memory.py BENCH_DIR OUT.json
           [--cells 1000000] [--genes 2000] [--library-size 300] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import timed_once  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("bench_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=1_000_000)
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--library-size", type=float, default=300)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    cw = os.environ["CELLWEAVE"]
    a.bench_dir.mkdir(parents=True, exist_ok=True)
    data = a.bench_dir / f"sim_{a.cells}x{a.genes}_lib{a.library_size:g}.h5ad"
    if not data.exists():
        print(f"simulating {a.cells} x {a.genes} ...", flush=True)
        wall, _, _ = timed_once([cw, "simulate", "-o", data, "--cells", a.cells, "--genes", a.genes,
                                 "--library-size", a.library_size, "--seed", 0])
        print(f"  {wall:.1f} s")
    info = json.loads(subprocess.run([cw, "inspect", data, "--json"], capture_output=True, text=True, check=True).stdout)
    nnz, cells, genes = info["nnz"], info["nObs"], info["nVars"]
    csr_mb = (nnz * 8 + (cells + 1) * 8) / 2**20  # float32 values + int32 indices + int64 indptr
    dense_mb = cells * genes * 4 / 2**20
    with tempfile.TemporaryDirectory(dir=a.bench_dir) as tmp:
        print("training one epoch ...", flush=True)
        wall, rss_mb, log = timed_once([cw, "train", data, "--batch-key", "batch", "-o", Path(tmp) / "model",
                                        "--max-epochs", 1, "--threads", a.threads])
        epoch_s = json.loads((Path(tmp) / "model" / "history.json").read_text())["epochs"][0]["seconds"]
    result = {
        "cells": cells, "genes": genes, "nnz": nnz, "density": info["density"],
        "csr_mb": csr_mb, "dense_float32_mb": dense_mb,
        "train_wall_s": wall, "epoch_s": epoch_s, "peak_rss_mb": rss_mb,
        "peak_rss_over_csr": rss_mb / csr_mb, "peak_rss_over_dense": rss_mb / dense_mb,
        "threads": a.threads,
    }
    a.out.write_text(json.dumps(result, indent=2))
    print(f"\nTraining memory: {cells} cells x {genes} genes, {nnz / 1e6:.0f} M non-zeros (density {info['density']:.3f})")
    print(f"  CSR {csr_mb:.0f} MB; dense float32 would be {dense_mb:.0f} MB")
    print(f"  cellweave train, 1 epoch: {epoch_s:.1f} s/epoch, {wall:.1f} s in all, peak RSS {rss_mb:.0f} MB "
          f"= {rss_mb / csr_mb:.2f} x CSR, {rss_mb / dense_mb:.3f} x dense")


if __name__ == "__main__":
    main()
