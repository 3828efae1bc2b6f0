"""I/O benchmark for `make bench`: CellWeave beside zcat, scanpy and anndata on the same files in
the same run. Commands run in interleaved rounds (so drift in the machine's speed hits all alike)
and each figure is the fastest of --repeats; peak RSS is that process's own (wait4 rusage).

  zcat matrix.mtx.gz > /dev/null                 the floor: decompression alone
  cellweave inspect DIR / convert DIR -o x.h5ad  read the 10x directory (and write h5ad)
  scanpy.read_10x_mtx(DIR)                       in its own process (its own peak RSS); timed
                                                 inside, without Python's start and imports
  cellweave convert x.h5ad -o y.h5ad             h5ad read + write (its log gives each phase)
  anndata.read_h5ad(x.h5ad) / .write_h5ad        in its own process, each timed inside

Ratios are CellWeave / peer (below 1: CellWeave is faster or smaller). The final CSR is the
in-memory matrix: nnz * (4 value + 4 index bytes) + (cells + 1) * 8 indptr bytes.

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_io.py BENCH_DIR OUT.json [--repeats 3]
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
    t1 = time.perf_counter()
    a.write_h5ad(dst)
    t2 = time.perf_counter()
    print("read", t1 - t)
    print("write", t2 - t1)
    print("total", t2 - t)
"""


def timed_once(cmd):
    """(wall s, peak RSS MB of the process itself, its stdout + stderr). Fails loudly."""
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{output}")
    return wall, usage.ru_maxrss / 1024, output  # ru_maxrss is in KiB on Linux


def interleaved(commands, repeats):
    """Runs the commands in turn, `repeats` rounds; keeps each command's fastest run."""
    best = {}
    for _ in range(repeats):
        for name, cmd in commands.items():
            result = timed_once(cmd)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    return best


def phase(text, name):
    """Seconds of a phase from CellWeave's log ('cellweave: reading X: 0.52 s') or a peer's print ('read 0.5')."""
    m = re.search(rf"{name}\S*(?: [^:\n]*)?:? ([0-9.]+)(?: s)?\s*$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def arguments(repeats):
    """BENCH_DIR OUT.json [--repeats N], and the cellweave binary from $CELLWEAVE."""
    p = argparse.ArgumentParser()
    p.add_argument("bench_dir", type=Path)
    p.add_argument("json_out", type=Path)
    p.add_argument("--repeats", type=int, default=repeats)
    args = p.parse_args()
    cw = os.environ.get("CELLWEAVE")
    if not cw or not Path(cw).exists():
        p.error("set CELLWEAVE to the cellweave binary")
    if not (args.bench_dir / "matrix.mtx.gz").exists():
        p.error(f"{args.bench_dir} holds no matrix.mtx.gz (make it with make_bench_data.py)")
    return args, cw


def main():
    args, cw = arguments(repeats=3)
    mtx = args.bench_dir / "matrix.mtx.gz"
    with tempfile.TemporaryDirectory(prefix="cellweave-bench-") as tmp:
        work = Path(tmp)
        h5ad = work / "cw.h5ad"
        b = interleaved({
            "zcat": ["sh", "-c", f"zcat '{mtx}' > /dev/null"],
            "cw_read": [cw, "inspect", args.bench_dir],
            "cw_convert": [cw, "convert", args.bench_dir, "-o", h5ad],
            "scanpy": [sys.executable, "-c", PEER, "read_10x_mtx", args.bench_dir, "-"],
        }, args.repeats)
        b |= interleaved({
            "cw_h5ad": [cw, "convert", h5ad, "-o", work / "cw2.h5ad"],
            "anndata": [sys.executable, "-c", PEER, "h5ad", h5ad, work / "peer.h5ad"],
        }, args.repeats)
        summary = json.loads(subprocess.run([cw, "inspect", h5ad, "--json"], capture_output=True, text=True, check=True).stdout)
        idle_mb = timed_once([cw, "--version"])[1]

    nnz, n_obs = summary["nnz"], summary["nObs"]
    csr_mb = (nnz * 8 + (n_obs + 1) * 8) / 2**20
    gz_mb = mtx.stat().st_size / 2**20
    s = {
        "zcat": b["zcat"][0],
        "cellweave_read_10x": b["cw_read"][0],
        "cellweave_convert_10x": b["cw_convert"][0],
        "scanpy_read_10x_mtx": phase(b["scanpy"][2], "read"),
        "cellweave_h5ad_convert": b["cw_h5ad"][0],
        "cellweave_h5ad_read": phase(b["cw_h5ad"][2], "reading"),
        "cellweave_h5ad_write": phase(b["cw_h5ad"][2], "writing"),
        "anndata_h5ad_read_write": phase(b["anndata"][2], "total"),
        "anndata_h5ad_read": phase(b["anndata"][2], "read"),
        "anndata_h5ad_write": phase(b["anndata"][2], "write"),
    }
    peak = {"cellweave_read_10x": b["cw_read"][1], "cellweave_convert_10x": b["cw_convert"][1],
            "scanpy_read_10x_mtx": b["scanpy"][1], "cellweave_h5ad_convert": b["cw_h5ad"][1],
            "anndata_h5ad_read_write": b["anndata"][1], "cellweave_idle_process": idle_mb}
    ratios = {
        "cellweave_read_10x / zcat": s["cellweave_read_10x"] / s["zcat"],
        "cellweave_convert_10x / zcat": s["cellweave_convert_10x"] / s["zcat"],
        "cellweave_read_10x / scanpy_read_10x_mtx": s["cellweave_read_10x"] / s["scanpy_read_10x_mtx"],
        "cellweave_h5ad_convert / anndata_h5ad_read_write": s["cellweave_h5ad_convert"] / s["anndata_h5ad_read_write"],
        "cellweave_h5ad_read / anndata_h5ad_read": s["cellweave_h5ad_read"] / s["anndata_h5ad_read"],
        "cellweave_h5ad_write / anndata_h5ad_write": s["cellweave_h5ad_write"] / s["anndata_h5ad_write"],
        "peak RSS cellweave_convert_10x / scanpy_read_10x_mtx": peak["cellweave_convert_10x"] / peak["scanpy_read_10x_mtx"],
        "peak RSS cellweave_convert_10x / final CSR": peak["cellweave_convert_10x"] / csr_mb,
        "(peak RSS cellweave_convert_10x - idle process) / final CSR": (peak["cellweave_convert_10x"] - idle_mb) / csr_mb,
    }
    r = {
        "machine": f"{platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "repeats": args.repeats,
        "matrix": {"cells": n_obs, "genes": summary["nVars"], "nnz": nnz, "gz_bytes": mtx.stat().st_size,
                   "csr_bytes": nnz * 8 + (n_obs + 1) * 8},
        "seconds": s, "peak_rss_MB": peak, "ratios": ratios,
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(r, indent=2) + "\n")

    m = r["matrix"]
    print(f"\nI/O benchmark: {m['cells']} cells x {m['genes']} genes, {nnz} non-zeros, {gz_mb:.1f} MB gzipped, "
          f"final CSR {csr_mb:.1f} MB; best of {args.repeats}; commit {r['commit']}")
    rows = [
        ("zcat matrix.mtx.gz > /dev/null", "zcat", None),
        ("cellweave inspect DIR (read 10x)", "cellweave_read_10x", "cellweave_read_10x"),
        ("cellweave convert DIR -o x.h5ad", "cellweave_convert_10x", "cellweave_convert_10x"),
        ("scanpy.read_10x_mtx (in process)", "scanpy_read_10x_mtx", "scanpy_read_10x_mtx"),
        ("cellweave convert x.h5ad -o y.h5ad", "cellweave_h5ad_convert", "cellweave_h5ad_convert"),
        ("  of which reading", "cellweave_h5ad_read", None),
        ("  of which writing", "cellweave_h5ad_write", None),
        ("anndata read_h5ad + write_h5ad", "anndata_h5ad_read_write", "anndata_h5ad_read_write"),
        ("  anndata.read_h5ad", "anndata_h5ad_read", None),
        ("  anndata.write_h5ad", "anndata_h5ad_write", None),
    ]
    print(f"{'':38} {'seconds':>8} {'MB/s gz':>8} {'peak MB':>8}")
    for label, key, rss in rows:
        rate = f"{gz_mb / s[key]:8.1f}" if key in ("zcat", "cellweave_read_10x", "cellweave_convert_10x", "scanpy_read_10x_mtx") else ""
        print(f"{label:38} {s[key]:8.3f} {rate:>8} {(f'{peak[rss]:8.0f}' if rss else ''):>8}")
    print(f"(an idle cellweave process: {idle_mb:.0f} MB)")
    for name, value in ratios.items():
        print(f"{name:62} {value:6.2f}x")


if __name__ == "__main__":
    main()
