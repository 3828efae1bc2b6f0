"""I/O benchmark for `make bench`: CellWeave beside zcat, scanpy and anndata on the same files in
the same run. Each figure is the best of --repeats runs; peak RSS is per process (wait4).

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_io.py BENCH_DIR OUT.json
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEER = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import anndata as ad, scanpy as sc
what, src, dst = sys.argv[1:4]
t = time.perf_counter()
if what == "read_10x_mtx":
    a = sc.read_10x_mtx(src)
    print("read", time.perf_counter() - t)
else:
    a = ad.read_h5ad(src)
    print("read", time.perf_counter() - t)
    t = time.perf_counter()
    a.write_h5ad(dst)
    print("write", time.perf_counter() - t)
"""


def timed_once(cmd):
    """(wall s, peak RSS MB of that process via GNU time, output)."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *map(str, cmd)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
        return wall, int(rss_file.read().split()[-1]) / 1024, proc.stdout + proc.stderr


def interleaved(commands, repeats):
    """Runs the commands in turn, `repeats` rounds, so that drift in the machine's speed hits
    every command alike; keeps each command's fastest run."""
    best = {}
    for _ in range(repeats):
        for name, cmd in commands.items():
            result = timed_once(cmd)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    return best


def phase(text, name):
    """Seconds of a phase from CellWeave's log ('cellweave: reading X: 0.52 s') or a peer's print."""
    m = re.search(rf"{name}\S*(?: [^:\n]*)?:? ([0-9.]+)(?: s)?\s*$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def arguments(repeats):
    """BENCH_DIR OUT.json [--repeats N], and the cellweave binary from $CELLWEAVE."""
    p = argparse.ArgumentParser()
    p.add_argument("bench_dir", type=Path)
    p.add_argument("json_out", type=Path)
    p.add_argument("--repeats", type=int, default=repeats)
    return p.parse_args(), os.environ["CELLWEAVE"]


def main():
    args, cw = arguments(repeats=5)
    mtx = args.bench_dir / "matrix.mtx.gz"
    work = Path(tempfile.mkdtemp(prefix="cellweave-bench-"))
    h5ad = work / "cw.h5ad"

    b = interleaved({
        "zcat": ["sh", "-c", f"zcat '{mtx}' > /dev/null"],
        "cw_read": [cw, "inspect", args.bench_dir],
        "cw_convert": [cw, "convert", args.bench_dir, "-o", h5ad],
        "scanpy": [sys.executable, "-c", PEER, "read_10x_mtx", args.bench_dir, "-"],
    }, args.repeats)
    b |= interleaved({
        "cw_h5ad": [cw, "convert", h5ad, "-o", work / "cw2.h5ad"],
        "peer_h5ad": [sys.executable, "-c", PEER, "h5ad", h5ad, work / "peer.h5ad"],
    }, args.repeats)
    zcat, cw_read, cw_convert, scanpy, cw_h5ad, peer_h5ad = (b[k] for k in ["zcat", "cw_read", "cw_convert", "scanpy", "cw_h5ad", "peer_h5ad"])

    summary = json.loads(subprocess.run([cw, "inspect", h5ad, "--json"], capture_output=True, text=True, check=True).stdout)
    nnz, n_obs = summary["nnz"], summary["nObs"]
    csr_mb = (nnz * 8 + (n_obs + 1) * 8) / 2**20
    baseline_rss = timed_once([cw, "--version"])[1]
    gz_mb = mtx.stat().st_size / 2**20

    r = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "matrix": {"cells": n_obs, "genes": summary["nVars"], "nnz": nnz, "gz_MB": round(gz_mb, 1), "csr_MB": round(csr_mb, 1)},
        "zcat_s": zcat[0],
        "cellweave_read_10x_s": cw_read[0],
        "cellweave_read_10x_peak_MB": cw_read[1],
        "cellweave_convert_10x_s": cw_convert[0],
        "cellweave_convert_10x_peak_MB": cw_convert[1],
        "scanpy_read_10x_mtx_s": phase(scanpy[2], "read"),
        "scanpy_read_10x_mtx_peak_MB": scanpy[1],
        "cellweave_h5ad_read_s": phase(cw_h5ad[2], "reading"),
        "cellweave_h5ad_write_s": phase(cw_h5ad[2], "writing"),
        "anndata_h5ad_read_s": phase(peer_h5ad[2], "read"),
        "anndata_h5ad_write_s": phase(peer_h5ad[2], "write"),
        "cellweave_empty_process_MB": baseline_rss,
    }
    r["ratio_read_10x_vs_zcat"] = r["cellweave_read_10x_s"] / r["zcat_s"]
    r["ratio_scanpy_vs_cellweave_read_10x"] = r["scanpy_read_10x_mtx_s"] / r["cellweave_read_10x_s"]
    r["ratio_h5ad_read_vs_anndata"] = r["cellweave_h5ad_read_s"] / r["anndata_h5ad_read_s"]
    r["ratio_h5ad_write_vs_anndata"] = r["cellweave_h5ad_write_s"] / r["anndata_h5ad_write_s"]
    r["ratio_peak_vs_csr"] = r["cellweave_convert_10x_peak_MB"] / csr_mb
    r["ratio_peak_less_empty_process_vs_csr"] = (r["cellweave_convert_10x_peak_MB"] - baseline_rss) / csr_mb
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(r, indent=2) + "\n")

    m = r["matrix"]
    print(f"\nI/O benchmark: {m['cells']} cells x {m['genes']} genes, {m['nnz']} non-zeros, "
          f"{m['gz_MB']} MB gzipped, final CSR {m['csr_MB']} MB; best of {args.repeats}; commit {r['commit']}")
    rows = [
        ("zcat matrix.mtx.gz > /dev/null", r["zcat_s"], None, gz_mb),
        ("cellweave inspect DIR (read 10x)", r["cellweave_read_10x_s"], r["cellweave_read_10x_peak_MB"], gz_mb),
        ("cellweave convert DIR -o h5ad", r["cellweave_convert_10x_s"], r["cellweave_convert_10x_peak_MB"], gz_mb),
        ("scanpy.read_10x_mtx", r["scanpy_read_10x_mtx_s"], r["scanpy_read_10x_mtx_peak_MB"], gz_mb),
        ("cellweave h5ad read", r["cellweave_h5ad_read_s"], None, None),
        ("anndata.read_h5ad", r["anndata_h5ad_read_s"], None, None),
        ("cellweave h5ad write", r["cellweave_h5ad_write_s"], None, None),
        ("anndata.write_h5ad", r["anndata_h5ad_write_s"], None, None),
    ]
    print(f"{'':36} {'seconds':>8} {'MB/s (gz)':>10} {'peak MB':>8}")
    for name, s, rss, mb in rows:
        print(f"{name:36} {s:8.3f} {(f'{mb / s:10.1f}' if mb else ''):>10} {(f'{rss:8.0f}' if rss else ''):>8}")
    print(f"read 10x / zcat: {r['ratio_read_10x_vs_zcat']:.2f}x (target <= 1.3)   scanpy / cellweave: {r['ratio_scanpy_vs_cellweave_read_10x']:.1f}x")
    print(f"h5ad read / anndata: {r['ratio_h5ad_read_vs_anndata']:.2f}x, write / anndata: {r['ratio_h5ad_write_vs_anndata']:.2f}x (target <= 1.2)")
    print(f"peak RSS / CSR: {r['ratio_peak_vs_csr']:.2f}x; less the {baseline_rss:.0f} MB of an idle cellweave process: "
          f"{r['ratio_peak_less_empty_process_vs_csr']:.2f}x (target <= 1.5)")


if __name__ == "__main__":
    main()
