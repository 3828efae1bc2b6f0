"""Data-parallel training for `make bench-mpi`: on simulated counts (default 200,000 cells x 2,000
genes at `simulate --library-size 300`), seconds per epoch of `cellweave-mpi train` on 1 rank and
on 2 ranks of 1 thread each (and of `cellweave train` with 1 and 2 threads, for scale), the time
the ranks spend summing gradients (allreduce, waiting for the slower rank included), and from the
measured per-cell cost a projection of the time per epoch at 10 and 100 million cells on N nodes
under stated network assumptions (written into the JSON; BENCHMARKS.md shows it). Then the
seconds of `cellweave-mpi embed` and `score` on 1 and 2 ranks against `cellweave embed` and `score`
with 1 and 2 threads, with the model of the one-rank run, checking that every run writes the same
embedding, and the same scores.

Usage: CELLWEAVE=.build/release/cellweave CELLWEAVE_MPI=.build/release/cellweave-mpi \
         python reference/bench/bench_mpi.py BENCH_DIR OUT.json [--cells 200000] [--epochs 2]
"""
import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import timed_once  # noqa: E402

# Open MPI's defaults otherwise (its shared-memory transport with cross-memory attach: 10% faster
# here than with the single copy off, as the interop test runs it).
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}

# A typical cluster's interconnect (assumptions of the projection): 100 Gb/s (about 10 GB/s of
# payload) and 5 microseconds per message; allreduce as recursive halving and doubling: the
# gradient costs 2 (N-1)/N of its bytes at the bandwidth plus 2 log2 N latencies, each of the
# small sums (batch-norm statistics, the loss) 2 log2 N latencies.
BANDWIDTH_B_PER_S = 10e9
LATENCY_S = 5e-6


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("bench_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=200_000)
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2)
    a = p.parse_args()
    os.environ.update(MPI_ENV)
    cw, mpi = os.environ["CELLWEAVE"], os.environ["CELLWEAVE_MPI"]
    a.bench_dir.mkdir(parents=True, exist_ok=True)
    data = a.bench_dir / f"sim_{a.cells}x{a.genes}_lib300.h5ad"
    if not data.exists():
        print(f"simulating {a.cells} x {a.genes} ...", flush=True)
        timed_once([cw, "simulate", "-o", data, "--cells", a.cells, "--genes", a.genes, "--library-size", 300, "--batches", 4, "--seed", 2])
    result = {"cells": a.cells, "genes": a.genes, "epochs": a.epochs, "batch_size": 128}
    common = ["train", data, "--batch-key", "batch", "--max-epochs", a.epochs, "--seed", 0]
    with tempfile.TemporaryDirectory(dir=a.bench_dir) as tmp:
        tmp = Path(tmp)
        runs = {
            "mpi_1_rank_1_thread": ["mpirun", "-np", 1, mpi, *common, "--threads", 1],
            "mpi_2_ranks_1_thread": ["mpirun", "-np", 2, mpi, *common, "--threads", 1],
            "train_1_thread": [cw, *common, "--threads", 1],
            "train_2_threads": [cw, *common, "--threads", 2],
        }
        for name, cmd in runs.items():
            print(f"{name} ...", flush=True)
            model = tmp / name
            wall, rss, _ = timed_once([*cmd, "-o", model])
            epochs = json.loads((model / "history.json").read_text())["epochs"]
            phases = {k: sum(e["phase_seconds"].get(k, 0) for e in epochs) / len(epochs) for k in epochs[0]["phase_seconds"]}
            result[name] = {"wall_s": wall, "largest_process_rss_mb": rss,
                            "epoch_s": sum(e["seconds"] for e in epochs) / len(epochs), "phases_s": phases}
            print(f"  {result[name]['epoch_s']:.2f} s/epoch, {wall:.1f} s wall", flush=True)
            if name == "mpi_1_rank_1_thread":
                with h5py.File(model / "model.h5") as f:
                    tensors = {n: d.size for n, d in f["tensors"].items()}
                parameters = sum(size for n, size in tensors.items() if "running" not in n)
                batch_norms = sum(n.endswith("running_mean") for n in tensors)
        one, two = result["mpi_1_rank_1_thread"], result["mpi_2_ranks_1_thread"]
        result["two_over_one_rank_epoch"] = two["epoch_s"] / one["epoch_s"]
        steps = math.ceil(0.9 * a.cells / 128)
        result["parameters"] = parameters
        result["gradient_bytes"] = 4 * parameters
        result["steps_per_epoch"] = steps
        result["allreduce_ms_per_step_2_ranks"] = 1e3 * two["phases_s"].get("allreduce", 0) / steps
        # Per-rank cost of a cell with two ranks sharing this machine's two cores (what a node of
        # the projection runs), everything but the gradient sums, validation included.
        per_cell = 2 * (two["epoch_s"] - two["phases_s"]["allreduce"]) / (0.9 * a.cells)
        result["projection"] = projection(per_cell, parameters, batch_norms)
        result["embed"] = stage_runs("embed", cw, mpi, tmp / "mpi_1_rank_1_thread", data, tmp)
        result["score"] = stage_runs("score", cw, mpi, tmp / "mpi_1_rank_1_thread", data, tmp)
    a.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "projection"}, indent=2))


def stage_runs(stage, cw, mpi, model, data, tmp):
    """`stage` (embed, or score against the model's held-out cells) on 1 and 2 ranks and 1 and 2 threads."""
    common = [stage, model, data, "--link-unchanged", "--max-memory", "1G"]
    runs = {
        "mpi_1_rank_1_thread": ["mpirun", "-np", 1, mpi, *common, "--threads", 1],
        "mpi_2_ranks_1_thread": ["mpirun", "-np", 2, mpi, *common, "--threads", 1],
        f"{stage}_1_thread": [cw, *common, "--threads", 1],
        f"{stage}_2_threads": [cw, *common, "--threads", 2],
    }
    out, products = {}, []
    for name, cmd in runs.items():
        print(f"{stage} {name} ...", flush=True)
        target = tmp / f"{stage}_{name}.h5ad"
        wall, rss, _ = timed_once([*cmd, "-o", target])
        out[name] = {"wall_s": wall, "largest_process_rss_mb": rss}
        with h5py.File(target) as f:
            products.append(f["obsm/X_cellweave"][()] if stage == "embed" else f["obs/anomaly_score"][()])
        target.unlink()
        print(f"  {wall:.1f} s wall", flush=True)
    # Ranks and one thread give one result bit for bit; another thread count may differ in the last bits.
    out["same_result"] = all(np.array_equal(products[0], p) for p in products[:3])
    out["2_threads_same_as_1"] = bool(np.array_equal(products[0], products[3]))
    out["two_over_one_rank"] = out["mpi_2_ranks_1_thread"]["wall_s"] / out["mpi_1_rank_1_thread"]["wall_s"]
    return out


def allreduce_s(nbytes, ranks):
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * nbytes / BANDWIDTH_B_PER_S + 2 * math.log2(ranks) * LATENCY_S


def projection(per_cell, parameters, batch_norms):
    """Seconds per epoch on N nodes of 2 ranks (one core each, as measured here), weak scaling:
    each rank takes 128 cells a step (global minibatch 128 x ranks, --batch-size 128*ranks), so the
    steps per epoch fall as ranks grow; per step, one gradient allreduce and 3 small ones per batch
    norm (forward mean and variance, backward) plus one for the loss."""
    rows = []
    for cells in (10_000_000, 100_000_000):
        for nodes in (1, 2, 4, 8, 16, 32, 64):
            ranks = 2 * nodes
            steps = math.ceil(0.9 * cells / (128 * ranks))
            compute = 0.9 * cells * per_cell / ranks
            sums = steps * (allreduce_s(4 * parameters, ranks) + (3 * batch_norms + 1) * allreduce_s(0, ranks))
            rows.append({"cells": cells, "nodes": nodes, "ranks": ranks, "compute_s": compute, "allreduce_s": sums,
                         "epoch_s": compute + sums})
    return {"bandwidth_bytes_per_s": BANDWIDTH_B_PER_S, "latency_s": LATENCY_S, "per_cell_s": per_cell, "rows": rows}


if __name__ == "__main__":
    main()
