"""Preprocessing benchmark for `make bench`: Pearson-residual HVG, residuals and PCA with
CellWeave beside scanpy, on the same QC-filtered file in the same run (fastest of --repeats,
interleaved; peak RSS per process from GNU time).

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_preprocess.py BENCH_DIR OUT.json
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_io import arguments, interleaved, phase  # noqa: E402

N_TOP, N_COMPS = 500, 50

PEER = f"""
import sys, time, warnings
warnings.simplefilter("ignore")
import anndata as ad, scanpy as sc
a = ad.read_h5ad(sys.argv[1])
t = time.perf_counter()
sc.experimental.pp.highly_variable_genes(a, flavor="pearson_residuals", n_top_genes={N_TOP}, subset=True)
t1 = time.perf_counter()
sc.experimental.pp.normalize_pearson_residuals(a)
sc.pp.pca(a, n_comps={N_COMPS})
t2 = time.perf_counter()
print("hvg", t1 - t)
print("residuals_pca", t2 - t1)
print("total", t2 - t)
"""


def main():
    args, cw = arguments(repeats=3)
    work = Path(tempfile.mkdtemp(prefix="cellweave-bench-"))
    qc = work / "qc.h5ad"
    subprocess.run([cw, "qc", args.bench_dir, "--sample", "bench", "-o", qc, "--min-cells-per-gene", "1",
                    "--var-names-make-unique"], check=True, capture_output=True)
    hvg, pca = work / "hvg.h5ad", work / "pca.h5ad"
    pipeline = f"'{cw}' hvg '{qc}' -o '{hvg}' --n-top-genes {N_TOP} --subset && '{cw}' pca '{hvg}' -o '{pca}' --n-comps {N_COMPS}"
    b = interleaved({
        "cw": ["sh", "-c", pipeline],
        "cw_hvg": [cw, "hvg", qc, "-o", hvg, "--n-top-genes", N_TOP, "--subset"],
        "cw_pca": [cw, "pca", hvg, "-o", pca, "--n-comps", N_COMPS],
        "scanpy": [sys.executable, "-c", PEER, qc],
    }, args.repeats)
    shape = json.loads(subprocess.run([cw, "inspect", qc, "--json"], capture_output=True, text=True, check=True).stdout)
    r = {
        "cells": shape["nObs"], "genes": shape["nVars"], "n_top_genes": N_TOP, "n_comps": N_COMPS,
        "cellweave_hvg_s": b["cw_hvg"][0], "cellweave_hvg_peak_MB": b["cw_hvg"][1],
        "cellweave_pca_s": b["cw_pca"][0], "cellweave_pca_peak_MB": b["cw_pca"][1],
        "cellweave_total_s": b["cw"][0],
        "scanpy_hvg_s": phase(b["scanpy"][2], "hvg"), "scanpy_residuals_pca_s": phase(b["scanpy"][2], "residuals_pca"),
        "scanpy_total_s": phase(b["scanpy"][2], "total"), "scanpy_peak_MB": b["scanpy"][1],
    }
    r["speedup_total"] = r["scanpy_total_s"] / r["cellweave_total_s"]
    args.json_out.write_text(json.dumps(r, indent=2) + "\n")
    print(f"\nPreprocessing benchmark: {r['cells']} cells x {r['genes']} genes -> {N_TOP} HVG -> {N_COMPS} PCs; best of {args.repeats}")
    print(f"{'':44} {'seconds':>8} {'peak MB':>8}")
    print(f"{'cellweave hvg (read + compute + write)':44} {r['cellweave_hvg_s']:8.2f} {r['cellweave_hvg_peak_MB']:8.0f}")
    print(f"{'cellweave pca on residuals (read + write)':44} {r['cellweave_pca_s']:8.2f} {r['cellweave_pca_peak_MB']:8.0f}")
    print(f"{'cellweave both, as one pipeline':44} {r['cellweave_total_s']:8.2f}")
    print(f"{'scanpy hvg (in process, no I/O)':44} {r['scanpy_hvg_s']:8.2f}")
    print(f"{'scanpy residuals + pca (in process, no I/O)':44} {r['scanpy_residuals_pca_s']:8.2f}")
    print(f"{'scanpy total (no I/O)':44} {r['scanpy_total_s']:8.2f} {r['scanpy_peak_MB']:8.0f}")
    print(f"scanpy / cellweave: {r['speedup_total']:.1f}x (target >= 5)")


if __name__ == "__main__":
    main()
