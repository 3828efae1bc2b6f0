"""RNA + protein benchmark (`make bench-multiomics`, part of `make bench`): CellWeave's product-of-
experts model beside scvi-tools' TOTALVI with its defaults, on CITE-seq-like simulations in which
one sample has no antibody panel and a further share of cells has its measured protein hidden.

Scenarios (`cellweave simulate --proteins`, several batches):
- rna-separates: every cell type has its own RNA profile;
- protein-only: the last two cell types share the RNA of the first two and differ in protein only
  (--protein-only-types 2), to show what protein adds.

Missing protein: batch 2 is stained with no panel (its cells have none); of the other cells,
--hidden-fraction have their protein hidden from both tools, and their measured counts are kept
to score imputation. CellWeave sees missing protein per cell (absent from mod/prot); totalVI can
mask protein only per batch, so cells without protein get zeros and a protein batch of their own
(their batch name + "_noprotein"), as its documentation asks.

Reported per scenario:
- scib-metrics Benchmarker (unscaled; batch key: the sample; label key: cell_type) on the
  uncorrected PCA, CellWeave's joint embedding, CellWeave trained on RNA alone, and totalVI's
  latent space: batch correction, bio conservation, Total;
- seconds per epoch of each (CellWeave: history.json; totalVI: a Lightning callback), both on
  --threads threads;
- imputed protein of the hidden cells (CellWeave: embed --impute protein --transform-batch own
  --samples 25; totalVI: get_normalized_expression's protein, n_samples 25, transform_batch the cell's own
  sample): the mean over proteins of Pearson's r of log1p(imputed) with log1p(measured);
- cells without protein, in each joint embedding: the share of their 15 nearest neighbours of
  their cell type, and the share of those neighbours that have protein beside the share of cells
  with protein overall.

Usage: python reference/bench/bench_multiomics.py OUT_DIR --cellweave .build/release/cellweave
           [--scenario rna-separates protein-only] [--cells 6000] [--genes 1000] [--proteins 20]
           [--threads 2] [--seed 0] [--totalvi-epochs N] [--cellweave-epochs N]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--cellweave", default=os.environ.get("CELLWEAVE", ".build/release/cellweave"))
    p.add_argument("--scenario", nargs="+", default=["rna-separates", "protein-only"])
    p.add_argument("--cells", type=int, default=6000)
    p.add_argument("--genes", type=int, default=1000)
    p.add_argument("--proteins", type=int, default=20)
    p.add_argument("--cell-types", type=int, default=6)
    p.add_argument("--hidden-fraction", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--totalvi-epochs", type=int, default=None, help="default: totalVI's own heuristic")
    p.add_argument("--cellweave-epochs", type=int, default=None, help="default: CellWeave's own")
    return p.parse_args()


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import logging  # noqa: E402

import anndata as ad  # noqa: E402
import mudata as md  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scanpy as sc  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

md.set_options(pull_on_update=False)


def run(cmd, log):
    t = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{Path(log).read_text()[-2000:]}")
    return time.perf_counter() - t


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def make_data(d: Path, scenario: str):
    """The full simulation, the observed h5mu (protein of batch 2 and of the hidden cells absent),
    and the measured protein of every cell."""
    full = d / "full.h5mu"
    args = ["--protein-only-types", 2] if scenario == "protein-only" else []
    run([ARGS.cellweave, "simulate", "-o", full, "--cells", ARGS.cells, "--genes", ARGS.genes, "--proteins", ARGS.proteins,
         "--batches", 3, "--cell-types", ARGS.cell_types, "--library-size", 3000, "--seed", ARGS.seed + 1, *args], d / "simulate.log")
    m = md.read_h5mu(full)
    protein = dense(m["prot"].X).astype(np.float32)
    assert list(m["prot"].obs_names) == list(m.obs_names)
    batch = m.obs["batch"].astype(str).to_numpy()
    rng = np.random.default_rng(ARGS.seed)
    hidden = (batch != "batch2") & (rng.random(m.n_obs) < ARGS.hidden_fraction)
    measured = (batch != "batch2") & ~hidden
    observed = md.MuData({"rna": m["rna"], "prot": m["prot"][measured].copy()})
    observed.obs = m.obs.copy()
    observed.write(d / "observed.h5mu")
    return m, protein, measured, hidden


def cellweave_runs(d: Path):
    out = {}
    epochs = ["--max-epochs", ARGS.cellweave_epochs] if ARGS.cellweave_epochs else []
    for name, extra in [("CellWeave", []), ("CellWeave, RNA alone", ["--modalities", "rna"])]:
        model = d / ("model" if not extra else "model_rna")
        wall = run([ARGS.cellweave, "train", d / "observed.h5mu", "--batch-key", "batch", "-o", model, "--threads", ARGS.threads,
                    "--seed", ARGS.seed, *epochs, *extra], d / f"train_{model.name}.log")
        emb = d / f"emb_{model.name}.h5mu"
        run([ARGS.cellweave, "embed", model, d / "observed.h5mu", "-o", emb, "--threads", ARGS.threads,
             *([] if extra else ["--impute", "protein", "--transform-batch", "own", "--samples", "25"])], d / f"embed_{model.name}.log")
        history = json.loads((model / "history.json").read_text())["epochs"]
        seconds = sorted(e["seconds"] for e in history[1:])
        e = md.read_h5mu(emb)
        out[name] = {"latent": np.asarray(e.obsm["X_cellweave"]), "epochs": len(history), "train_wall_s": wall,
                     "median_epoch_s": seconds[len(seconds) // 2],
                     "imputed": np.asarray(e.obsm["protein_imputed"]) if "protein_imputed" in e.obsm else None}
    return out


def totalvi_run(m, protein, measured):
    import scvi
    import torch
    from lightning.pytorch.callbacks import Callback

    for name in ("scvi", "lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.set_num_threads(ARGS.threads)
    scvi.settings.num_threads = ARGS.threads
    scvi.settings.dl_num_workers = 0
    scvi.settings.seed = ARGS.seed
    adata = ad.AnnData(sp.csr_matrix(m["rna"].X), obs=m.obs[["batch", "cell_type"]].copy())
    adata.obsm["protein_expression"] = pd.DataFrame(np.where(measured[:, None], protein, 0), index=adata.obs_names,
                                                    columns=m["prot"].var_names)
    batch = adata.obs["batch"].astype(str).to_numpy()
    adata.obs["protein_batch"] = pd.Categorical(np.where(measured, batch, np.char.add(batch.astype(str), "_noprotein")))
    scvi.model.TOTALVI.setup_anndata(adata, batch_key="protein_batch", protein_expression_obsm_key="protein_expression")
    model = scvi.model.TOTALVI(adata)

    class Timer(Callback):
        def __init__(self):
            self.seconds, self.t0 = [], 0.0

        def on_train_epoch_start(self, trainer, pl_module):
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module):
            self.seconds.append(time.perf_counter() - self.t0)

    timer = Timer()
    t = time.perf_counter()
    model.train(max_epochs=ARGS.totalvi_epochs, accelerator="cpu", devices=1, enable_progress_bar=False, callbacks=[timer])
    wall = time.perf_counter() - t
    latent = model.get_latent_representation()
    imputed = np.zeros_like(protein)
    for b in np.unique(batch):
        cells = np.flatnonzero(batch == b)
        if b + "" not in set(adata.obs["protein_batch"].astype(str)):
            continue  # batch 2 has no protein anywhere: no batch to impute in but the cells' own
        _, pro = model.get_normalized_expression(indices=cells, n_samples=25, return_mean=True, transform_batch=b)
        imputed[cells] = np.asarray(pro)
    seconds = sorted(timer.seconds[1:])
    return {"latent": np.asarray(latent), "epochs": len(timer.seconds), "train_wall_s": wall,
            "median_epoch_s": seconds[len(seconds) // 2], "imputed": imputed, "version": scvi.__version__}


def imputation_r(imputed, protein, cells):
    rs = []
    for j in range(protein.shape[1]):
        a, b = np.log1p(imputed[cells, j]), np.log1p(protein[cells, j])
        if a.std() > 0 and b.std() > 0:
            rs.append(float(np.corrcoef(a, b)[0, 1]))
    return float(np.mean(rs)), rs


def neighbourhoods(latent, types, has_protein, k=15):
    idx = NearestNeighbors(n_neighbors=k + 1).fit(latent).kneighbors(latent, return_distance=False)[:, 1:]
    lacking = ~has_protein
    return {"same_type_share": float((types[idx[lacking]] == types[lacking][:, None]).mean()),
            "with_protein_share": float(has_protein[idx[lacking]].mean()), "with_protein_overall": float(has_protein.mean())}


def scib(adata, keys):
    from scib_metrics.benchmark import BatchCorrection, Benchmarker, BioConservation

    bm = Benchmarker(adata, batch_key="batch", label_key="cell_type", embedding_obsm_keys=keys,
                     bio_conservation_metrics=BioConservation(), batch_correction_metrics=BatchCorrection(),
                     pre_integrated_embedding_obsm_key="X_pca", n_jobs=ARGS.threads, progress_bar=False)
    bm.benchmark()
    df = bm.get_results(min_max_scale=False)
    return {k: {c: float(df.loc[k, c]) for c in df.columns if c != "Metric Type"} for k in keys}


def scenario(name: str) -> dict:
    d = ARGS.out / name
    d.mkdir(parents=True, exist_ok=True)
    m, protein, measured, hidden = make_data(d, name)
    runs = cellweave_runs(d)
    runs["totalVI"] = totalvi_run(m, protein, measured)
    types = m.obs["cell_type"].astype(str).to_numpy()
    a = ad.AnnData(sp.csr_matrix(m["rna"].X), obs=m.obs[["batch", "cell_type"]].copy())
    for c in ["batch", "cell_type"]:
        a.obs[c] = a.obs[c].astype("category")
    base = a.copy()
    sc.pp.normalize_total(base, target_sum=1e4)
    sc.pp.log1p(base)
    sc.pp.pca(base, n_comps=50, random_state=0)
    a.obsm["X_pca"] = base.obsm["X_pca"]
    keys = {}
    for i, (tool, r) in enumerate(runs.items()):
        keys[tool] = f"X_{i}"
        a.obsm[keys[tool]] = r["latent"].astype(np.float32)
    scores = scib(a, ["X_pca"] + list(keys.values()))
    result = {"scenario": name, "cells": int(m.n_obs), "genes": int(m["rna"].n_vars), "proteins": int(protein.shape[1]),
              "cells_without_protein": int((~measured).sum()), "hidden_cells": int(hidden.sum()),
              "uncorrected_pca": scores["X_pca"], "tools": {}}
    for tool, r in runs.items():
        entry = {k: r[k] for k in ("epochs", "median_epoch_s", "train_wall_s")}
        entry["scib"] = scores[keys[tool]]
        entry["without_protein"] = neighbourhoods(r["latent"], types, measured)
        if r.get("imputed") is not None:
            entry["imputation_mean_r"], entry["imputation_r_per_protein"] = imputation_r(r["imputed"], protein, np.flatnonzero(hidden))
        result["tools"][tool] = entry
    result["epoch_ratio_totalvi_over_cellweave"] = runs["totalVI"]["median_epoch_s"] / runs["CellWeave"]["median_epoch_s"]
    result["totalvi_version"] = runs["totalVI"]["version"]
    return result


def main():
    ARGS.out.mkdir(parents=True, exist_ok=True)
    results = [scenario(s) for s in ARGS.scenario]
    (ARGS.out / "bench_multiomics.json").write_text(json.dumps(results, indent=2) + "\n")
    for r in results:
        print(f"\n{r['scenario']}: {r['cells']} cells, {r['genes']} genes, {r['proteins']} proteins; "
              f"{r['cells_without_protein']} cells without protein ({r['hidden_cells']} hidden)")
        print(f"  {'':22} {'Total':>7} {'batch':>7} {'bio':>7} {'s/epoch':>8} {'epochs':>6} {'impute r':>9} "
              f"{'same type':>9} {'nbrs w/ prot':>12}")
        p = r["uncorrected_pca"]
        print(f"  {'PCA (uncorrected)':22} {p['Total']:7.3f} {p['Batch correction']:7.3f} {p['Bio conservation']:7.3f}")
        for tool, e in r["tools"].items():
            s, n = e["scib"], e["without_protein"]
            imp = f"{e['imputation_mean_r']:9.3f}" if "imputation_mean_r" in e else f"{'-':>9}"
            print(f"  {tool:22} {s['Total']:7.3f} {s['Batch correction']:7.3f} {s['Bio conservation']:7.3f} {e['median_epoch_s']:8.3f} "
                  f"{e['epochs']:6d} {imp} {n['same_type_share']:9.3f} {n['with_protein_share']:7.3f} / {n['with_protein_overall']:.3f}")
        print(f"  totalVI / CellWeave seconds per epoch: {r['epoch_ratio_totalvi_over_cellweave']:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
