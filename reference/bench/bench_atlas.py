"""Out-of-core stages at scale for `make bench-atlas`: on simulated counts (default 2,000,000 cells x
2,000 genes at `simulate --library-size 300`, about 12% non-zero), the seconds and peak RSS of
`train` for one epoch with the counts in memory and streamed (`--max-memory`), and of streamed
`embed`, `score` and `hvg`; the data is made once by `cellweave simulate` and kept.

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_atlas.py BENCH_DIR OUT.json
           [--cells 2000000] [--genes 2000] [--max-memory 1G] [--threads 1]
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import timed_once  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("bench_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=2_000_000)
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--max-memory", default="1G")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    cw = os.environ["CELLWEAVE"]
    a.bench_dir.mkdir(parents=True, exist_ok=True)
    data = a.bench_dir / f"sim_{a.cells}x{a.genes}_lib300.h5ad"
    result = {"cells": a.cells, "genes": a.genes, "max_memory": a.max_memory, "threads": a.threads}
    if not data.exists():
        print(f"simulating {a.cells} x {a.genes} ...", flush=True)
        wall, rss, _ = timed_once([cw, "simulate", "-o", data, "--cells", a.cells, "--genes", a.genes,
                                   "--library-size", 300, "--batches", 4, "--seed", 2])
        result["simulate"] = {"wall_s": wall, "peak_rss_mb": rss}
    result["file_mb"] = data.stat().st_size / 2**20
    stream = ["--max-memory", a.max_memory]
    with tempfile.TemporaryDirectory(dir=a.bench_dir) as tmp:
        tmp = Path(tmp)

        def run(name, cmd, model=None):
            print(f"{name} ...", flush=True)
            wall, rss, _ = timed_once(cmd)
            entry = {"wall_s": wall, "peak_rss_mb": rss}
            if model is not None:
                epoch = json.loads((model / "history.json").read_text())["epochs"][0]
                entry |= {"epoch_s": epoch["seconds"], "phases_s": epoch["phase_seconds"]}
            result[name] = entry
            print(f"  {wall:.1f} s, {rss:.0f} MB", flush=True)

        train = [cw, "train", data, "--batch-key", "batch", "--max-epochs", 1, "--threads", a.threads, "--seed", 0]
        run("train_in_memory", train + ["-o", tmp / "memory"], tmp / "memory")
        run("train_streamed", train + ["-o", tmp / "streamed", *stream], tmp / "streamed")
        result["streamed_over_in_memory_epoch"] = result["train_streamed"]["epoch_s"] / result["train_in_memory"]["epoch_s"]
        model = tmp / "memory"
        run("embed_streamed", [cw, "embed", model, data, "-o", tmp / "embedded.h5ad", "--threads", a.threads, "--link-unchanged", *stream])
        run("score_streamed", [cw, "score", model, data, "-o", tmp / "scored.h5ad", "--threads", a.threads, "--link-unchanged", *stream])
        run("hvg_streamed", [cw, "hvg", data, "-o", tmp / "hvg.h5ad", "--batch-key", "batch", "--link-unchanged", *stream])
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
