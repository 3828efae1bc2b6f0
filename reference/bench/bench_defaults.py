"""Defaults benchmark (`make bench-defaults`, and `make bench-linear` for the linear decoder):
integration quality of CellWeave's training defaults beside scvi-tools' SCVI (or LinearSCVI), over
seeds, at a fixed 100 epochs and at each tool's default epoch count.

Every run writes its embedding (the posterior mean of every cell) to
OUT/<data>/<method>/e<epochs>/seed<S>.npy with a .json beside it (command, seconds), and
`score` gives each embedding its scib-metrics Benchmarker figures (unscaled; label key
cell_type, batch key batch, PCA of log-normalised counts as the pre-integration embedding),
cached in seed<S>.scib.json, so that runs can be added and rescored without redoing the others.

- scvi: SCVI (LinearSCVI with --model linear) with scvi-tools' defaults (n_epochs_kl_warmup 400)
  or a short warm-up (--kl-warmup 25), trained for --epochs (default 400, scvi-tools' default at
  these sizes) and
  embedded also after each --snapshot epoch. A snapshot equals a run of that many epochs: the KL
  weight depends on the epoch alone, the learning rate is constant, and the snapshot restores
  torch's random state and train mode after embedding.
- cellweave: `cellweave train` + `cellweave embed` with the given extra options (after --),
  at --epochs (or the tool's default epoch count when omitted, recorded as e<default>).
  A linear model's loadings (genes x latent: LinearSCVI's get_loadings, CellWeave's varm
  cellweave_loadings with the rotation to its varimax axes) are saved beside the embedding.
- score: scores every embedding under OUT that has no scores yet.
- programs: for data simulated with gene programs (`simulate --programs`), how each linear run
  recovers them, in the model's own axes and in varimax axes (the same Kaiser-normalised varimax
  for both tools): per program the largest |r| between its activity and one dimension of the
  embedding, and the AUROC with which that dimension's loadings rank the program's genes.
- summary: mean and standard deviation over seeds of batch correction, bio conservation, Total
  and isolated labels per data, method and epochs; --json writes them too.

Usage:
  python bench_defaults.py scvi DATA.h5ad OUT --seed S [--model linear] [--kl-warmup 25] [--epochs 400] [--snapshot 100]
  python bench_defaults.py cellweave DATA.h5ad OUT --seed S --method NAME [--epochs 100] [-- OPTIONS...]
  python bench_defaults.py score OUT [--threads 2]
  python bench_defaults.py summary OUT [--json F]
  python bench_defaults.py programs OUT [--json F]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="phase", required=True)
    s = sub.add_parser("scvi")
    s.add_argument("data", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--kl-warmup", type=int, default=None, help="n_epochs_kl_warmup (default: scvi-tools' 400)")
    s.add_argument("--epochs", type=int, default=400)
    s.add_argument("--snapshot", type=int, action="append", default=[])
    s.add_argument("--model", choices=("scvi", "linear"), default="scvi", help="SCVI or LinearSCVI")
    c = sub.add_parser("cellweave")
    c.add_argument("data", type=Path)
    c.add_argument("out", type=Path)
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--method", required=True, help="name of this set of options, e.g. cellweave-defaults")
    c.add_argument("--epochs", type=int, default=None, help="default: the tool's own default")
    c.add_argument("--cellweave", default=os.environ.get("CELLWEAVE", ".build/release/cellweave"))
    r = sub.add_parser("score")
    r.add_argument("out", type=Path)
    m = sub.add_parser("summary")
    m.add_argument("out", type=Path)
    m.add_argument("--json", type=Path)
    g = sub.add_parser("programs")
    g.add_argument("out", type=Path)
    g.add_argument("--json", type=Path)
    for q in (s, c, r):
        q.add_argument("--threads", type=int, default=2)
    # argparse's subparsers do not take a `--` remainder, so the train options are split off first.
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = p.parse_args(argv[:len(argv) - len(extra) - (1 if "--" in argv else 0)])
    a.options = extra
    return a


ARGS = parse_args()
if ARGS.phase not in ("summary", "programs"):
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={ARGS.threads}")

import numpy as np  # noqa: E402

SUMMARY_METRICS = ("Batch correction", "Bio conservation", "Total", "Isolated labels", "iLISI", "cLISI",
                   "Leiden NMI", "Leiden ARI", "Silhouette label")


def run_dir(out: Path, data: Path, method: str, epochs: int) -> Path:
    d = out / data.stem / method / f"e{epochs}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save(d: Path, seed: int, z: np.ndarray, meta: dict, loadings: np.ndarray | None = None,
         rotation: np.ndarray | None = None) -> None:
    np.save(d / f"seed{seed}.npy", np.asarray(z, dtype=np.float32))
    if loadings is not None:
        np.save(d / f"seed{seed}.loadings.npy", np.asarray(loadings, dtype=np.float64))
        np.save(d / f"seed{seed}.rotation.npy", np.eye(loadings.shape[1]) if rotation is None else rotation)
    (d / f"seed{seed}.json").write_text(json.dumps(meta, indent=2) + "\n")
    (d / f"seed{seed}.scib.json").unlink(missing_ok=True)
    print(f"wrote {d}/seed{seed}.npy", flush=True)


def scvi_phase() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    import anndata as ad
    import scvi
    import torch
    from lightning.pytorch.callbacks import Callback

    for name in ("scvi", "lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.set_num_threads(ARGS.threads)
    scvi.settings.num_threads = ARGS.threads
    scvi.settings.dl_num_workers = 0
    scvi.settings.seed = ARGS.seed

    adata = ad.read_h5ad(ARGS.data)
    tool = scvi.model.LinearSCVI if ARGS.model == "linear" else scvi.model.SCVI
    tool.setup_anndata(adata, batch_key="batch")
    model = tool(adata)
    prefix = "linearscvi" if ARGS.model == "linear" else "scvi"
    method = f"{prefix}-defaults" if ARGS.kl_warmup is None else f"{prefix}-warmup{ARGS.kl_warmup}"
    linear = ARGS.model == "linear"
    snapshots: dict[int, tuple[np.ndarray, float]] = {}
    start = time.perf_counter()

    class Snapshot(Callback):
        def on_train_epoch_end(self, trainer, pl_module) -> None:
            epoch = trainer.current_epoch + 1
            if epoch not in ARGS.snapshot:
                return
            state = torch.get_rng_state()
            model.module.eval()
            model.is_trained_ = True  # get_latent_representation refuses a model still training
            z = model.get_latent_representation()
            loadings = model.get_loadings().to_numpy() if linear else None
            model.is_trained_ = False
            model.module.train()
            torch.set_rng_state(state)
            snapshots[epoch] = (z, time.perf_counter() - start, loadings)

    plan = {} if ARGS.kl_warmup is None else {"n_epochs_kl_warmup": ARGS.kl_warmup}
    model.train(max_epochs=ARGS.epochs, accelerator="cpu", devices=1, enable_progress_bar=False,
                callbacks=[Snapshot()], plan_kwargs=plan)
    seconds = time.perf_counter() - start
    z = model.get_latent_representation()
    meta = {"tool": "scvi-tools " + scvi.__version__, "model": tool.__name__, "kl_warmup": ARGS.kl_warmup, "threads": ARGS.threads}
    save(run_dir(ARGS.out, ARGS.data, method, ARGS.epochs), ARGS.seed, z, {**meta, "epochs": ARGS.epochs, "seconds": seconds},
         loadings=model.get_loadings().to_numpy() if linear else None)
    for epoch, (zs, s, ls) in snapshots.items():
        save(run_dir(ARGS.out, ARGS.data, method, epoch), ARGS.seed, zs,
             {**meta, "epochs": epoch, "seconds": s, "snapshot_of": ARGS.epochs}, loadings=ls)


def cellweave_phase() -> None:
    import anndata as ad

    with tempfile.TemporaryDirectory(prefix="cw-defaults-") as tmp:
        model = Path(tmp) / "model"
        cmd = [ARGS.cellweave, "train", str(ARGS.data), "--batch-key", "batch", "-o", str(model),
               "--seed", str(ARGS.seed), "--threads", str(ARGS.threads), *ARGS.options]
        if ARGS.epochs is not None:
            cmd += ["--max-epochs", str(ARGS.epochs)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t
        history = json.loads((model / "history.json").read_text())
        config = json.loads((model / "config.json").read_text())
        emb = Path(tmp) / "emb.h5ad"
        subprocess.run([ARGS.cellweave, "embed", str(model), str(ARGS.data), "-o", str(emb)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        embedded = ad.read_h5ad(emb)
        z = embedded.obsm["X_cellweave"]
        loadings = embedded.varm.get("cellweave_loadings")
        rotation = None
        if loadings is not None:
            k = loadings.shape[1]
            rotation = np.asarray(embedded.uns["cellweave_loadings"]["rotation"], dtype=np.float64).reshape(k, k)
    epochs = ARGS.epochs if ARGS.epochs is not None else config["options"]["maxEpochs"]
    ran = len(history["epochs"])
    save(run_dir(ARGS.out, ARGS.data, ARGS.method, epochs), ARGS.seed, z,
         {"tool": "cellweave", "command": " ".join(cmd), "epochs": epochs, "epochs_run": ran, "seconds": seconds,
          "default_epochs": ARGS.epochs is None, "options": config["options"]}, loadings=loadings, rotation=rotation)


def pca_baseline(data: Path) -> tuple:
    import anndata as ad
    import scanpy as sc

    adata = ad.read_h5ad(data)
    cache = data.with_suffix(".pca.npy")
    if cache.exists():
        adata.obsm["X_pca_uncorrected"] = np.load(cache)
    else:
        base = adata.copy()
        sc.pp.normalize_total(base, target_sum=1e4)
        sc.pp.log1p(base)
        sc.pp.pca(base, n_comps=min(50, base.n_vars - 1), random_state=0)
        adata.obsm["X_pca_uncorrected"] = np.asarray(base.obsm["X_pca"], dtype=np.float32)
        np.save(cache, adata.obsm["X_pca_uncorrected"])
    for key in ("batch", "cell_type"):
        adata.obs[key] = adata.obs[key].astype("category")
    return adata


def score_phase() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    from scib_metrics.benchmark import BatchCorrection, Benchmarker, BioConservation

    embeddings = [p for p in sorted(ARGS.out.glob("*/*/e*/seed*.npy")) if p.name.count(".") == 1]  # not .loadings.npy
    todo = [p for p in embeddings if not p.with_suffix(".scib.json").exists()]
    by_data: dict[str, list[Path]] = {}
    for p in todo:
        by_data.setdefault(p.parents[2].name, []).append(p)
    for name, paths in by_data.items():
        data = Path(json.loads((ARGS.out / "data.json").read_text())[name])
        adata = pca_baseline(data)
        for p in paths:
            z = np.load(p)
            assert z.shape[0] == adata.n_obs, f"{p}: {z.shape[0]} rows for {adata.n_obs} cells"
            adata.obsm["X_eval"] = z
            t = time.perf_counter()
            bm = Benchmarker(adata, batch_key="batch", label_key="cell_type", embedding_obsm_keys=["X_eval"],
                             bio_conservation_metrics=BioConservation(), batch_correction_metrics=BatchCorrection(),
                             pre_integrated_embedding_obsm_key="X_pca_uncorrected", n_jobs=ARGS.threads,
                             progress_bar=False)
            bm.benchmark()
            df = bm.get_results(min_max_scale=False)
            row = {col: float(df.loc["X_eval", col]) for col in df.columns}
            row["scib_seconds"] = time.perf_counter() - t
            p.with_suffix(".scib.json").write_text(json.dumps(row, indent=2) + "\n")
            print(f"{p}: Total {row['Total']:.3f} (batch {row['Batch correction']:.3f}, bio {row['Bio conservation']:.3f}) "
                  f"in {row['scib_seconds']:.0f} s", flush=True)


def summary_phase() -> None:
    rows = []
    for d in sorted(ARGS.out.glob("*/*/e*")):
        scores = [json.loads(p.read_text()) for p in sorted(d.glob("seed*.scib.json"))]
        if not scores:
            continue
        metas = [json.loads(p.with_name(p.name.replace(".scib.json", ".json")).read_text()) for p in sorted(d.glob("seed*.scib.json"))]
        row = {"data": d.parents[1].name, "method": d.parent.name, "epochs": int(d.name[1:]), "seeds": len(scores),
               "seconds_mean": statistics.fmean(m["seconds"] for m in metas),
               "seconds_per_epoch": statistics.fmean(m["seconds"] / m.get("epochs_run", m["epochs"]) for m in metas)}
        for k in SUMMARY_METRICS:
            v = [s[k] for s in scores if k in s]
            if v:
                row[k] = {"mean": statistics.fmean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0}
        rows.append(row)
    print(f"{'data':10} {'method':34} {'epochs':>6} {'n':>2} {'Total':>13} {'batch':>13} {'bio':>13} {'isolated':>13} {'s':>6} "
          f"{'s/epoch':>7}")
    for r in rows:
        f = lambda k: f"{r[k]['mean']:.3f}+-{r[k]['sd']:.3f}" if k in r else "-"  # noqa: E731
        print(f"{r['data']:10} {r['method']:34} {r['epochs']:6} {r['seeds']:2} {f('Total'):>13} {f('Batch correction'):>13} "
              f"{f('Bio conservation'):>13} {f('Isolated labels'):>13} {r['seconds_mean']:6.0f} {r['seconds_per_epoch']:7.3f}")
    if ARGS.json:
        ARGS.json.write_text(json.dumps(rows, indent=2) + "\n")


def varimax(loadings: np.ndarray, iterations: int = 500, tolerance: float = 1e-10) -> np.ndarray:
    """Kaiser-normalised varimax (R's stats::varimax): the rotation R, loadings @ R sparse."""
    length = np.sqrt((loadings ** 2).sum(1, keepdims=True))
    x = loadings / np.where(length > 0, length, 1)
    p, k = x.shape
    r, criterion = np.eye(k), 0.0
    for _ in range(iterations):
        y = x @ r
        u, s, vt = np.linalg.svd(x.T @ (y ** 3 - y * (y ** 2).mean(0)))
        r = u @ vt
        if s.sum() <= criterion * (1 + tolerance):
            break
        criterion = s.sum()
    return r


def recovery(z: np.ndarray, loadings: np.ndarray, activities: np.ndarray, members: np.ndarray) -> list[dict]:
    """Per program: the dimension of largest |r| with its activity, that |r|, the next largest, and
    the AUROC of that dimension's loadings (signed by r) for the program's genes."""
    from sklearn.metrics import roc_auc_score

    out = []
    for k in range(activities.shape[1]):
        r = np.array([np.corrcoef(activities[:, k], z[:, d])[0, 1] for d in range(z.shape[1])])
        d = int(np.argmax(np.abs(r)))
        auroc = roc_auc_score(members[:, k], np.sign(r[d]) * loadings[:, d])
        out.append({"dimension": d + 1, "r": float(abs(r[d])), "next_r": float(np.sort(np.abs(r))[-2]), "auroc": float(auroc)})
    return out


def programs_phase() -> None:
    import anndata as ad

    data = json.loads((ARGS.out / "data.json").read_text())
    rows = []
    for name, path in data.items():
        adata = ad.read_h5ad(path)
        if "program" not in adata.var:
            continue
        labels = [c for c in adata.var["program"].cat.categories if c != "none"]
        activities = np.stack([adata.obs[f"{c}_activity"].to_numpy() for c in labels], 1)
        members = np.stack([(adata.var["program"] == c).to_numpy() for c in labels], 1)
        for d in sorted((ARGS.out / name).glob("*/e*")):
            runs = sorted(d.glob("seed*.loadings.npy"))
            for p in runs:
                seed = p.name.split(".")[0]
                z, loadings, rotation = np.load(d / f"{seed}.npy"), np.load(p), np.load(d / f"{seed}.rotation.npy")
                # Back to the model's own axes, then the same varimax for every tool.
                z, loadings = z @ rotation.T, loadings @ rotation.T
                turn = varimax(loadings)
                rows.append({"data": name, "method": d.parent.name, "epochs": int(d.name[1:]), "seed": seed,
                             "model_axes": recovery(z, loadings, activities, members),
                             "varimax_axes": recovery(z @ turn, loadings @ turn, activities, members)})
    print(f"{'data':10} {'method':28} {'epochs':>6} {'seed':>6} {'axes':8} {'min |r|':>7} {'mean |r|':>8} {'min AUROC':>9} {'distinct':>8}")
    for r in rows:
        for axes in ("model_axes", "varimax_axes"):
            rec = r[axes]
            print(f"{r['data']:10} {r['method']:28} {r['epochs']:6} {r['seed']:>6} {axes[:-5]:8} {min(x['r'] for x in rec):7.3f} "
                  f"{statistics.fmean(x['r'] for x in rec):8.3f} {min(x['auroc'] for x in rec):9.3f} "
                  f"{len({x['dimension'] for x in rec}) == len(rec)!s:>8}")
    if ARGS.json:
        ARGS.json.write_text(json.dumps(rows, indent=2) + "\n")


def record_data() -> None:
    """OUT/data.json maps each data name (the file's stem) to its path, for the score phase."""
    f = ARGS.out / "data.json"
    ARGS.out.mkdir(parents=True, exist_ok=True)
    known = json.loads(f.read_text()) if f.exists() else {}
    known[ARGS.data.stem] = str(ARGS.data.resolve())
    f.write_text(json.dumps(known, indent=2) + "\n")


def main() -> None:
    if ARGS.phase in ("scvi", "cellweave"):
        record_data()
    {"scvi": scvi_phase, "cellweave": cellweave_phase, "score": score_phase, "summary": summary_phase,
     "programs": programs_phase}[ARGS.phase]()


if __name__ == "__main__":
    sys.exit(main())
