"""Anomaly-score benchmark for `make bench`: healthy simulated samples train the model; a sample
from a batch it has never seen holds aberrant cells (a program of genes up and down by a fold
change). `cellweave score` maps the new batch and scores its cells against the cells train held
out. The model is trained with --encode-covariates, as scvi-tools recommends for scArches
mapping: a new batch then also gets its own encoder row. Reported per method (model-based Pearson
residuals weighted by their inverse variance (the default) and unweighted, the model's
reconstruction loss, model-free analytic residuals): AUROC of the scores for the aberrant cells, and the calibration:
the fraction of the new sample's healthy cells with p <= alpha (target: within 1 point of alpha),
and the flags at q <= alpha.

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_anomaly.py WORK_DIR OUT.json
           [--cells 5000] [--genes 1000] [--fraction 0.04] [--program-genes 60] [--fold-change 4] [--train-size 0.9]
"""
import argparse
import json
import os
import subprocess
from pathlib import Path

import anndata as ad
from sklearn.metrics import roc_auc_score

ALPHA = 0.05


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("work", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=5000)
    p.add_argument("--genes", type=int, default=1000)
    p.add_argument("--fraction", type=float, default=0.04)
    p.add_argument("--program-genes", type=int, default=60)
    p.add_argument("--fold-change", type=float, default=4)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--train-size", type=float, default=0.9, help="train's --train-size: the rest is the reference")
    a = p.parse_args()
    cw = os.environ["CELLWEAVE"]
    a.work.mkdir(parents=True, exist_ok=True)

    def run(*args):
        subprocess.run([cw, *map(str, args)], check=True, capture_output=True, text=True)

    run("simulate", "-o", a.work / "sim.h5ad", "--cells", a.cells, "--genes", a.genes, "--batches", 4,
        "--aberrant-fraction", a.fraction, "--aberrant-genes", a.program_genes, "--aberrant-fold-change", a.fold_change,
        "--aberrant-batches", 3, "--seed", a.seed)
    sim = ad.read_h5ad(a.work / "sim.h5ad")
    sim[sim.obs["batch"] != "batch3"].copy().write_h5ad(a.work / "healthy.h5ad")
    sim[sim.obs["batch"] == "batch3"].copy().write_h5ad(a.work / "query.h5ad")
    run("train", a.work / "healthy.h5ad", "--batch-key", "batch", "-o", a.work / "model", "--threads", 2,
        "--train-size", a.train_size, "--encode-covariates")
    reference_cells = len(json.loads((a.work / "model" / "config.json").read_text())["validation_cells"])
    results = {"reference_cells": reference_cells, "seed": a.seed, "cells": a.cells, "genes": a.genes, "train_size": a.train_size, "aberrant_fraction": a.fraction, "program_genes": a.program_genes,
               "fold_change": a.fold_change, "alpha": ALPHA, "methods": {}}
    for name, args in [("model (weighted mean squared residual)", ["--method", "model"]),
                       ("model (mean squared residual)", ["--method", "model", "--statistic", "mean-squared"]),
                       ("reconstruction loss", ["--method", "model", "--statistic", "reconstruction"]),
                       ("analytic Pearson residuals", ["--method", "analytic"])]:
        out = a.work / f"{args[-1]}.h5ad"
        run("score", a.work / "model", a.work / "query.h5ad", "-o", out, *args, "--threads", 2)
        obs = ad.read_h5ad(out).obs
        y = obs["aberrant"].to_numpy()
        results["methods"][name] = {
            "auroc": roc_auc_score(y, obs["anomaly_score"]),
            "healthy_p_le_alpha": float((obs["anomaly_pvalue"][~y] <= ALPHA).mean()),
            "flagged": int(obs["anomaly_flag"].sum()),
            "flagged_aberrant": int(obs["anomaly_flag"][y].sum()),
            "aberrant": int(y.sum()), "query_cells": int(len(y)),
        }
    a.out.write_text(json.dumps(results, indent=2))
    print(f"\nAnomaly scores (seed {a.seed}): new batch of {results['methods'][name]['query_cells']} cells, "
          f"{results['methods'][name]['aberrant']} aberrant ({a.program_genes} genes x{a.fold_change:g} up/down), "
          f"{reference_cells} reference cells")
    print(f"  {'method':40} {'AUROC':>7} {'healthy p<=0.05':>16} {'flagged (aberrant)':>20}")
    for name, r in results["methods"].items():
        print(f"  {name:40} {r['auroc']:7.3f} {r['healthy_p_le_alpha']:16.3f} {r['flagged']:>12} ({r['flagged_aberrant']})")


if __name__ == "__main__":
    main()
