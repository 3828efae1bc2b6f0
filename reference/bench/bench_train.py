"""VAE benchmark for `make bench`: CellWeave's trainer beside scvi-tools' SCVI, in one run.

Speed (--speed-data, e.g. mouse10k_chr1 with three artificial batches from
make_batched_mouse10k.py): both train the same model (1 hidden layer of 128, 10 latent
dimensions, NB likelihood, batch as covariate) for N epochs at minibatch 128 on the CPU with
--threads threads. scvi-tools is timed in this process: the wall time of train() and each epoch's
time from a Lightning callback (start to end of the epoch; scvi runs no validation without early
stopping). Both train on a 90% split (scvi-tools' default, CellWeave's too); CellWeave's
history.json gives its epoch times, which include its validation ELBO on the other 10% (scvi's do
not) and their split into phases. The headline figure is median seconds per epoch and the ratio scvi / CellWeave (above 1:
CellWeave is faster).

Quality (--quality-data, a simulation with obs `batch` and `cell_type`, e.g. from
`cellweave simulate`): SCVI and CellWeave each train M epochs with the same architecture and
embed every cell (scvi: the posterior mean, get_latent_representation). The uncorrected baseline
is PCA of log1p(normalize_total) counts. scib-metrics' Benchmarker scores each embedding with
label key cell_type and batch key batch, the baseline PCA as the pre-integration embedding (so
its own PCR comparison is 0). Reported: every raw metric and the Benchmarker's aggregates
(Batch correction, Bio conservation, Total = 0.4 batch + 0.6 bio), unscaled; plus
silhouette_batch, which the Benchmarker no longer runs by default, and k-means NMI/ARI with 10
starts (the Benchmarker's k-means has one start and is a lottery when batches are still apart).
Neither extra enters the aggregates. Both tools warm the KL weight up over the same number of epochs
(--kl-warmup-epochs, default scvi-tools' 400) and train at scVI's learning rate 1e-3 (CellWeave's own
defaults differ, see bench_defaults.py), so that the comparison stays model against model.

CellWeave is optional: with --cellweave PATH (or $CELLWEAVE), its part runs only when
`PATH train --help` succeeds and describes `train`; otherwise the JSON says why it was skipped.
Either part may be left out by omitting its data argument.

Usage: python reference/bench/bench_train.py --speed-data B.h5ad --quality-data S.h5ad
           --epochs-speed N --epochs-quality M --out OUT.json [--cellweave PATH] [--threads 2]
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_HIDDEN, N_LATENT, N_LAYERS, BATCH_SIZE = 128, 10, 1, 128


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speed-data", type=Path, nargs="+", help="counts .h5ad files with obs batch (speed part), e.g. a shallow "
                   "real matrix and a deep simulation")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[128],
                   help="minibatch sizes CellWeave's speed is taken at (scvi-tools at 128, its default)")
    p.add_argument("--quality-data", type=Path, help="counts .h5ad with obs batch, cell_type (quality part)")
    p.add_argument("--epochs-speed", type=int, default=5)
    p.add_argument("--epochs-quality", type=int, default=400,
                   help="400 is scvi-tools' own default for a few thousand cells")
    p.add_argument("--out", type=Path, required=True, help="JSON with every figure")
    p.add_argument("--cellweave", default=os.environ.get("CELLWEAVE"), help="cellweave binary (default $CELLWEAVE)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for both trainers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pca-comps", type=int, default=50, help="components of the uncorrected PCA baseline")
    p.add_argument("--kl-warmup-epochs", type=int, default=400,
                   help="both tools' KL warm-up (scvi-tools' n_epochs_kl_warmup; default its own, 400)")
    p.add_argument("--keep-tmp", action="store_true", help="keep CellWeave's model and embedding directory")
    a = p.parse_args()
    if a.speed_data is None and a.quality_data is None:
        p.error("give --speed-data, --quality-data or both")
    return a


ARGS = parse_args()
# Thread pools are sized when the libraries load, so this goes before the imports below.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import logging  # noqa: E402

import anndata as ad  # noqa: E402
import numpy as np  # noqa: E402
import scanpy as sc  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch.callbacks import Callback  # noqa: E402

import scvi  # noqa: E402

for name in ("scvi", "lightning", "lightning.pytorch", "lightning.fabric", "jax", "absl"):
    logging.getLogger(name).setLevel(logging.ERROR)


# ---------------------------------------------------------------------------------------------
# helpers


class EpochTimer(Callback):
    """Wall seconds of each training epoch, measured in the Lightning loop."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._t0 = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds.append(time.perf_counter() - self._t0)


def epoch_summary(seconds: list[float]) -> dict:
    """Median, mean, first and mean-after-first of per-epoch seconds."""
    if not seconds:
        return {}
    rest = seconds[1:] or seconds
    return {
        "median_epoch_s": statistics.median(seconds),
        "mean_epoch_s": statistics.fmean(seconds),
        "first_epoch_s": seconds[0],
        "mean_epoch_after_first_s": statistics.fmean(rest),
        "epoch_s": seconds,
    }


def versions() -> dict:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("scvi-tools", "scib-metrics", "torch", "lightning", "jax", "anndata", "scanpy", "numpy"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            out[pkg] = None
    return out


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "threads": ARGS.threads,
        "torch_threads": torch.get_num_threads(),
    }


def cellweave_status(path: str | None) -> tuple[str | None, str]:
    """(binary, note): binary is None when CellWeave's trainer cannot be used."""
    if not path:
        return None, "no --cellweave given"
    exe = shutil.which(path) or (path if Path(path).is_file() else None)
    if exe is None:
        return None, f"{path}: not found"
    try:
        r = subprocess.run([exe, "train", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{exe} train --help failed: {e}"
    text = r.stdout + r.stderr
    # An unknown subcommand with --help prints the root help and exits 0, so look at the usage line.
    usage = next((ln for ln in text.splitlines() if ln.strip().upper().startswith("USAGE:")), "")
    if r.returncode != 0 or " train" not in usage:
        return None, f"{exe} has no `train` subcommand yet (exit {r.returncode})"
    return exe, "ok"


def run_logged(cmd: list[str], log: Path) -> float:
    """Runs cmd with its output to log; returns wall seconds; raises with the log's tail on failure."""
    t = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        tail = log.read_text()[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{tail}")
    return wall


def cellweave_train(exe: str, data: Path, model_dir: Path, epochs: int, log: Path, batch_size: int = BATCH_SIZE) -> dict:
    cmd = [
        exe, "train", str(data), "--batch-key", "batch", "-o", str(model_dir),
        "--max-epochs", str(epochs), "--batch-size", str(batch_size), "--n-latent", str(N_LATENT),
        "--n-hidden", str(N_HIDDEN), "--n-layers", str(N_LAYERS), "--seed", str(ARGS.seed),
        "--n-epochs-kl-warmup", str(ARGS.kl_warmup_epochs), "--lr", "1e-3",  # scVI's, as its warm-up
        "--no-covariates-in-output",  # scVI's decoder: covariates in the hidden layers only
        "--threads", str(ARGS.threads),
    ]
    wall = run_logged(cmd, log)
    history = json.loads((model_dir / "history.json").read_text())
    epochs_list = history.get("epochs", [])
    seconds = [float(e["seconds"]) for e in epochs_list if "seconds" in e]
    out = {"command": " ".join(cmd), "wall_s": wall, "n_epochs": len(epochs_list), **epoch_summary(seconds)}
    if epochs_list:
        last = epochs_list[-1]
        for key, name in (("loss", "final_loss"), ("reconstruction", "final_reconstruction_loss"),
                          ("kl", "final_kl_local"), ("kl_weight", "final_kl_weight"),
                          ("elbo_validation", "final_elbo_validation")):
            if key in last:
                out[name] = last[key]
        # Median seconds of each phase CellWeave times (gather / forward_backward / optimizer).
        phases = [e["phase_seconds"] for e in epochs_list if isinstance(e.get("phase_seconds"), dict)]
        if phases:
            out["median_phase_s"] = {k: statistics.median(float(p.get(k, 0.0)) for p in phases) for k in phases[0]}
    try:
        config = json.loads((model_dir / "config.json").read_text())
        out["n_train_cells"] = config.get("training_cells")
    except (OSError, ValueError):
        out["n_train_cells"] = None
    if out.get("n_train_cells") and out.get("median_epoch_s"):
        out["train_cells_per_s"] = out["n_train_cells"] / out["median_epoch_s"]
    out["history"] = history
    return out


def scvi_model(adata: ad.AnnData) -> "scvi.model.SCVI":
    scvi.model.SCVI.setup_anndata(adata, batch_key="batch")
    return scvi.model.SCVI(
        adata, n_hidden=N_HIDDEN, n_latent=N_LATENT, n_layers=N_LAYERS, gene_likelihood="nb"
    )


def scvi_train(model, epochs: int) -> dict:
    timer = EpochTimer()
    plan = {"n_epochs_kl_warmup": ARGS.kl_warmup_epochs}
    t = time.perf_counter()
    model.train(
        max_epochs=epochs, batch_size=BATCH_SIZE, accelerator="cpu", devices=1,
        early_stopping=False, enable_progress_bar=False, callbacks=[timer], plan_kwargs=plan,
    )
    wall = time.perf_counter() - t
    n_train = len(model.train_indices) if getattr(model, "train_indices", None) is not None else None
    out = {"wall_s": wall, "per_epoch_total_over_epochs_s": wall / epochs, "n_train_cells": n_train}
    out.update(epoch_summary(timer.seconds))
    # Per-epoch means of the training minibatches (names as scvi-tools 1.4 logs them).
    for key, name in (("elbo_train", "final_elbo"), ("train_loss", "final_loss"),
                      ("reconstruction_loss_train", "final_reconstruction_loss"),
                      ("kl_local_train", "final_kl_local"), ("kl_weight", "final_kl_weight")):
        hist = model.history.get(key)
        if hist is not None and len(hist):
            out[name] = float(hist.iloc[-1, 0])
    if n_train and timer.seconds:
        out["train_cells_per_s"] = n_train / out["median_epoch_s"]
    return out


def read_counts(path: Path) -> ad.AnnData:
    a = ad.read_h5ad(path)
    a.obs["batch"] = a.obs["batch"].astype("category")
    return a


# ---------------------------------------------------------------------------------------------
# the two parts


def speed_part(cw: str | None, cw_note: str, tmp: Path, data: Path) -> dict:
    """scvi-tools at its minibatch of 128, CellWeave at each --batch-sizes (both at scVI's learning
    rate and warm-up; the ratio is against scvi-tools' 128), interleaved so that the VM's drift hits
    both: scvi, CellWeave at every size, scvi again; the scvi figure is the better of its two."""
    adata = read_counts(data)
    res = {
        "data": str(data),
        "n_cells": adata.n_obs,
        "n_genes": adata.n_vars,
        "density": adata.X.nnz / (adata.n_obs * adata.n_vars),
        "counts_per_cell": float(adata.X.sum() / adata.n_obs),
        "n_batches": int(adata.obs["batch"].nunique()),
        "epochs": ARGS.epochs_speed,
        "batch_size": BATCH_SIZE,
    }
    runs = []
    print(f"[speed] scvi-tools SCVI on {adata.n_obs} x {adata.n_vars}, {ARGS.epochs_speed} epochs ...", flush=True)
    scvi.settings.seed = ARGS.seed
    runs.append(scvi_train(scvi_model(adata.copy()), ARGS.epochs_speed))
    res["cellweave_by_batch_size"] = {}
    if cw is None:
        res["cellweave"] = {"skipped": cw_note}
    for size in ARGS.batch_sizes if cw else []:
        print(f"[speed] cellweave train, minibatch {size}, {ARGS.epochs_speed} epochs ...", flush=True)
        try:
            r = cellweave_train(cw, data, tmp / f"model{size}", ARGS.epochs_speed, tmp / f"train_speed{size}.log", batch_size=size)
            r.pop("history", None)
            res["cellweave_by_batch_size"][str(size)] = r
        except Exception as e:  # noqa: BLE001
            res["cellweave_by_batch_size"][str(size)] = {"error": str(e)}
    print("[speed] scvi-tools again ...", flush=True)
    runs.append(scvi_train(scvi_model(adata.copy()), ARGS.epochs_speed))
    res["scvi"] = min(runs, key=lambda r: r["median_epoch_s"])
    res["scvi_runs_median_epoch_s"] = [r["median_epoch_s"] for r in runs]
    peak = sgemm_peak_gflops(ARGS.threads)
    for size, r in res["cellweave_by_batch_size"].items():
        c = r.get("median_epoch_s")
        if c:
            r["ratio_scvi_over_cellweave_median_epoch"] = res["scvi"]["median_epoch_s"] / c
            r["arithmetic"] = arithmetic(adata, c, peak)
    if str(BATCH_SIZE) in res["cellweave_by_batch_size"]:
        res["cellweave"] = res["cellweave_by_batch_size"][str(BATCH_SIZE)]
        res["ratio_scvi_over_cellweave_median_epoch"] = res["cellweave"].get("ratio_scvi_over_cellweave_median_epoch")
        res["arithmetic"] = res["cellweave"].get("arithmetic")
    return res


def sgemm_peak_gflops(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """Best-of sgemm rate of numpy's OpenBLAS at n x n x n on the benchmark's threads."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b  # warm up the thread pool
    best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def arithmetic(adata: ad.AnnData, seconds_per_epoch: float, peak: float) -> dict:
    """Floating-point work of one epoch (90% of cells trained, 10% validated) and its rate.
    Dense-equivalent counts the encoder's first layer as the dense product a framework runs;
    executed counts it as CellWeave runs it: at the non-zeros below 10% density, as the dense
    product above. Backward is twice forward for every layer but the encoder's first, whose input
    needs no gradient."""
    g, h, l = adata.n_vars, N_HIDDEN, N_LATENT
    nnz_per_cell = adata.X.nnz / adata.n_obs
    small = 2 * (2 * h * l) + 2 * (l + int(adata.obs["batch"].nunique())) * h  # encoder heads, decoder input layer
    decoder_out = 2 * h * g
    train_cells = round(0.9 * adata.n_obs)
    val_cells = adata.n_obs - train_cells
    def per_cell(encoder_first):
        forward = encoder_first + small + decoder_out
        return forward + 2 * (small + decoder_out) + encoder_first, forward
    dense_train, dense_val = per_cell(2 * g * h)
    executed_first = 2 * g * h if nnz_per_cell / g >= 0.1 else 2 * nnz_per_cell * h
    sparse_train, sparse_val = per_cell(executed_first)
    dense = dense_train * train_cells + dense_val * val_cells
    executed = sparse_train * train_cells + sparse_val * val_cells
    return {
        "sgemm_peak_gflops": peak,
        "dense_equivalent_gflop_per_epoch": dense / 1e9,
        "executed_gflop_per_epoch": executed / 1e9,
        "dense_equivalent_gflops": dense / 1e9 / seconds_per_epoch,
        "executed_gflops": executed / 1e9 / seconds_per_epoch,
        "arithmetic_limit_s": executed / 1e9 / peak,
        "epoch_over_arithmetic_limit": seconds_per_epoch / (executed / 1e9 / peak),
        "sgemm_peak_note": f"numpy float32 2048^3 matmul on {ARGS.threads} threads (numpy's bundled OpenBLAS), best of 5",
    }


def embeddings_for_quality(cw: str | None, cw_note: str, tmp: Path) -> tuple[ad.AnnData, dict, dict]:
    adata = read_counts(ARGS.quality_data)
    adata.obs["cell_type"] = adata.obs["cell_type"].astype("category")
    info: dict = {
        "data": str(ARGS.quality_data),
        "n_cells": adata.n_obs,
        "n_genes": adata.n_vars,
        "n_batches": int(adata.obs["batch"].nunique()),
        "n_cell_types": int(adata.obs["cell_type"].nunique()),
        "epochs": ARGS.epochs_quality,
    }
    names: dict[str, str] = {}

    # Uncorrected baseline: PCA of log1p-normalised counts.
    base = adata.copy()
    sc.pp.normalize_total(base, target_sum=1e4)
    sc.pp.log1p(base)
    n_comps = min(ARGS.pca_comps, base.n_vars - 1, base.n_obs - 1)
    sc.pp.pca(base, n_comps=n_comps, random_state=ARGS.seed)
    adata.obsm["X_pca_uncorrected"] = np.asarray(base.obsm["X_pca"], dtype=np.float32)
    names["X_pca_uncorrected"] = f"PCA{n_comps} (uncorrected)"
    info["pca_comps"] = n_comps

    print(f"[quality] scvi-tools SCVI on {adata.n_obs} x {adata.n_vars}, {ARGS.epochs_quality} epochs ...", flush=True)
    scvi.settings.seed = ARGS.seed
    counts = adata.copy()
    model = scvi_model(counts)
    info["scvi_train"] = scvi_train(model, ARGS.epochs_quality)
    adata.obsm["X_scvi"] = np.asarray(model.get_latent_representation(), dtype=np.float32)
    names["X_scvi"] = "scvi-tools"

    if cw is None:
        info["cellweave"] = {"skipped": cw_note}
    else:
        print(f"[quality] cellweave train + embed, {ARGS.epochs_quality} epochs ...", flush=True)
        try:
            info["cellweave_train"] = cellweave_train(
                cw, ARGS.quality_data, tmp / "model_q", ARGS.epochs_quality, tmp / "train_quality.log"
            )
            info["cellweave_train"].pop("history", None)
            emb_path = tmp / "emb.h5ad"
            cmd = [cw, "embed", str(tmp / "model_q"), str(ARGS.quality_data), "-o", str(emb_path)]
            info["cellweave_embed_wall_s"] = run_logged(cmd, tmp / "embed.log")
            emb = ad.read_h5ad(emb_path)
            z = emb.obsm["X_cellweave"]
            if list(emb.obs_names) != list(adata.obs_names):
                z = ad.AnnData(obs=emb.obs[[]], obsm={"z": np.asarray(z)})[adata.obs_names].obsm["z"]
            adata.obsm["X_cellweave"] = np.asarray(z, dtype=np.float32)
            names["X_cellweave"] = "CellWeave"
        except Exception as e:  # noqa: BLE001
            info["cellweave"] = {"error": str(e)}
    return adata, names, info


def kmeans_nmi_ari_best_of(x: np.ndarray, labels: np.ndarray, n_init: int = 10) -> tuple[float, float]:
    """NMI and ARI of k-means (k = number of labels) with n_init starts, sklearn's. The Benchmarker's
    k-means runs once from one k-means++ start, which on a latent space where batches still form
    separate blobs often lands on a batch split; this shows how much of its figure is that luck."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    k = len(np.unique(labels))
    pred = KMeans(k, n_init=n_init, random_state=ARGS.seed).fit_predict(np.asarray(x, dtype=np.float64))
    return normalized_mutual_info_score(labels, pred), adjusted_rand_score(labels, pred)


def scib_scores(adata: ad.AnnData, names: dict[str, str]) -> dict:
    import scib_metrics
    from scib_metrics.benchmark import BatchCorrection, Benchmarker, BioConservation

    keys = list(names)
    t = time.perf_counter()
    bm = Benchmarker(
        adata, batch_key="batch", label_key="cell_type", embedding_obsm_keys=keys,
        bio_conservation_metrics=BioConservation(), batch_correction_metrics=BatchCorrection(),
        pre_integrated_embedding_obsm_key="X_pca_uncorrected", n_jobs=ARGS.threads, progress_bar=False,
    )
    bm.benchmark()
    df = bm.get_results(min_max_scale=False)
    kinds = df.loc["Metric Type"].to_dict()
    values = df.drop(index="Metric Type").astype(float)
    out: dict = {"metric_type": kinds, "embeddings": {}, "benchmarker_s": time.perf_counter() - t}
    for key in keys:
        row = {col: float(values.loc[key, col]) for col in values.columns}
        x = adata.obsm[key]
        row["Silhouette batch (extra)"] = float(
            scib_metrics.silhouette_batch(x, adata.obs["cell_type"].to_numpy(), adata.obs["batch"].to_numpy())
        )
        nmi, ari = kmeans_nmi_ari_best_of(x, adata.obs["cell_type"].to_numpy())
        row["KMeans NMI, 10 starts (extra)"] = float(nmi)
        row["KMeans ARI, 10 starts (extra)"] = float(ari)
        out["embeddings"][names[key]] = row
    return out


# ---------------------------------------------------------------------------------------------
# output


def print_speed(s: dict) -> None:
    sv = s["scvi"]
    print(f"\nSpeed: {s['n_cells']} cells x {s['n_genes']} genes ({s['density']:.0%} non-zero, {s['counts_per_cell']:.0f} counts per cell), "
          f"{s['n_batches']} batches, {s['epochs']} epochs, {ARGS.threads} threads")
    print(f"  {'':22} {'median s/epoch':>15} {'first':>8} {'wall s':>8} {'scvi/CW':>8} {'GFLOP/s':>8} {'x limit':>8}  phases")
    print(f"  {'scvi-tools (128)':22} {sv['median_epoch_s']:15.3f} {sv['first_epoch_s']:8.3f} {sv['wall_s']:8.2f}   "
          f"(runs {', '.join(f'{x:.3f}' for x in s['scvi_runs_median_epoch_s'])})")
    for size, cw in s["cellweave_by_batch_size"].items():
        if "median_epoch_s" not in cw:
            print(f"  CellWeave ({size}): {cw.get('error')}")
            continue
        a = cw["arithmetic"]
        phases = ", ".join(f"{k} {v:.3f}" for k, v in cw.get("median_phase_s", {}).items())
        print(f"  {'CellWeave (' + size + ')':22} {cw['median_epoch_s']:15.3f} {cw['first_epoch_s']:8.3f} {cw['wall_s']:8.2f} "
              f"{cw['ratio_scvi_over_cellweave_median_epoch']:8.1f} {a['executed_gflops']:8.0f} {a['epoch_over_arithmetic_limit']:8.2f}  {phases}")
    a = next((c["arithmetic"] for c in s["cellweave_by_batch_size"].values() if "arithmetic" in c), None)
    if a:
        print(f"  arithmetic: {a['executed_gflop_per_epoch']:.1f} GFLOP/epoch executed ({a['dense_equivalent_gflop_per_epoch']:.1f} "
              f"dense-equivalent); sgemm peak {a['sgemm_peak_gflops']:.0f} GFLOP/s, so the limit is {a['arithmetic_limit_s']:.3f} s/epoch")


def print_quality(q: dict) -> None:
    sc_ = q["scib"]
    embs = list(sc_["embeddings"])
    metrics = list(next(iter(sc_["embeddings"].values())))
    width = max(len(m) for m in metrics) + 2
    print(f"\nIntegration quality (scib-metrics): {q['n_cells']} cells, {q['n_batches']} batches, "
          f"{q['n_cell_types']} cell types, {q['epochs']} epochs")
    print("  " + f"{'metric':{width}}" + "".join(f"{e:>22}" for e in embs))
    for m in metrics:
        if m in ("Batch correction", "Silhouette batch (extra)"):
            print("  " + "-" * (width + 22 * len(embs)))
        print("  " + f"{m:{width}}" + "".join(f"{sc_['embeddings'][e][m]:22.3f}" for e in embs))
    t = q["scvi_train"]
    print(f"  scvi-tools trained {q['epochs']} epochs in {t['wall_s']:.1f} s (median {t['median_epoch_s']:.3f} "
          f"s/epoch), final KL weight {t.get('final_kl_weight', float('nan')):.3f}")
    t = q.get("cellweave_train")
    if t and "median_epoch_s" in t:
        print(f"  CellWeave  trained {q['epochs']} epochs in {t['wall_s']:.1f} s (median {t['median_epoch_s']:.3f} "
              f"s/epoch), final KL weight {float(t.get('final_kl_weight', float('nan'))):.3f}")
    if "cellweave" in q:
        print(f"  CellWeave: {q['cellweave'].get('skipped') or q['cellweave'].get('error')}")


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    scvi.settings.num_threads = ARGS.threads
    scvi.settings.dl_num_workers = 0
    scvi.settings.verbosity = logging.ERROR

    cw, cw_note = cellweave_status(ARGS.cellweave)
    result: dict = {
        "benchmark": "vae_train",
        "machine": machine(),
        "versions": versions(),
        "model": {"n_hidden": N_HIDDEN, "n_latent": N_LATENT, "n_layers": N_LAYERS,
                  "gene_likelihood": "nb", "batch_size": BATCH_SIZE, "seed": ARGS.seed},
        "cellweave": {"binary": ARGS.cellweave, "available": cw is not None, "note": cw_note},
    }
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-train-"))
    try:
        if ARGS.speed_data is not None:
            result["speed"] = [speed_part(cw, cw_note, tmp, d) for d in ARGS.speed_data]
            for entry in result["speed"]:
                print_speed(entry)
        if ARGS.quality_data is not None:
            adata, names, info = embeddings_for_quality(cw, cw_note, tmp)
            print(f"[quality] scib-metrics on {len(names)} embeddings ...", flush=True)
            info["scib"] = scib_scores(adata, names)
            result["quality"] = info
            print_quality(info)
    finally:
        if ARGS.keep_tmp:
            result["tmp_dir"] = str(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        ARGS.out.parent.mkdir(parents=True, exist_ok=True)
        ARGS.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
        print(f"\nwrote {ARGS.out}")


if __name__ == "__main__":
    sys.exit(main())
