"""Graph-stage benchmark for `make bench`: an embedding of N cells (a seeded Gaussian mixture in 30
dimensions, 20 groups, written as obsm X_cellweave) goes through `cellweave neighbors` (NN-descent
above 50,000 cells) and `cellweave cluster`; the peers on the same machine are pynndescent (what
scanpy uses above 4,096 cells) for the neighbours and igraph's Leiden (scanpy's default flavour)
for the clusters. Reported: seconds, recall of the 14 neighbours against the exact ones (scikit-learn
brute force, on 2,000 sampled cells), and the modularity of the clusters on CellWeave's graph.

Usage: CELLWEAVE=.build/release/cellweave python reference/bench/bench_graph.py WORK_DIR OUT.json [--cells 200000]
"""
import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import anndata as ad
import igraph as ig
import numpy as np
import scipy.sparse as sp
from pynndescent import NNDescent
from sklearn.neighbors import NearestNeighbors


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("work", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cells", type=int, default=200_000)
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 2, (20, 30))
    groups = rng.integers(0, 20, a.cells)
    x = (centres[groups] + rng.normal(0, 1, (a.cells, 30))).astype(np.float32)
    adata = ad.AnnData(sp.csr_matrix((a.cells, 1), dtype=np.float32))
    adata.X[0, 0] = 1
    adata.obsm["X_cellweave"] = x
    adata.write_h5ad(a.work / "embedding.h5ad")
    cw = os.environ["CELLWEAVE"]

    def timed(args):
        t = time.perf_counter()
        subprocess.run([cw, *map(str, args)], check=True, capture_output=True)
        return time.perf_counter() - t

    t_nn = timed(["neighbors", a.work / "embedding.h5ad", "-o", a.work / "graph.h5ad", "--threads", 2])
    t_cluster = timed(["cluster", a.work / "graph.h5ad", "-o", a.work / "clustered.h5ad"])
    ours = ad.read_h5ad(a.work / "clustered.h5ad")

    t = time.perf_counter()
    index = NNDescent(x, n_neighbors=15, random_state=0, n_jobs=2)
    their_idx, _ = index.neighbor_graph
    t_pynn = time.perf_counter() - t

    sample = rng.choice(a.cells, 2000, replace=False)
    _, exact = NearestNeighbors(n_neighbors=15, algorithm="brute").fit(x).kneighbors(x[sample])
    dist = sp.csr_matrix(ours.obsp["distances"])

    def recall(rows):
        return float(np.mean([len(set(r[1:]) & set(e[1:])) / 14 for r, e in zip(rows, exact)]))

    ours_rows = [np.concatenate([[i], dist.indices[dist.indptr[i]:dist.indptr[i + 1]]]) for i in sample]
    conn = sp.csr_matrix(ours.obsp["connectivities"])
    src, dst = conn.nonzero()
    keep = src < dst
    g = ig.Graph(n=a.cells, edges=list(zip(src[keep], dst[keep])), directed=False)
    w = np.asarray(conn[src[keep], dst[keep]]).ravel()
    t = time.perf_counter()
    theirs = g.community_leiden(objective_function="modularity", weights=w, n_iterations=2)
    t_igraph = time.perf_counter() - t
    labels = ours.obs["leiden"].astype(int).to_numpy()
    results = {
        "cells": a.cells, "dims": 30,
        "neighbors": {"cellweave_s": t_nn, "pynndescent_s": t_pynn,
                      "cellweave_recall": recall(ours_rows), "pynndescent_recall": recall(their_idx[sample])},
        "leiden": {"cellweave_s": t_cluster, "igraph_s": t_igraph,
                   "cellweave_modularity": g.modularity(labels, weights=w), "igraph_modularity": g.modularity(theirs.membership, weights=w),
                   "cellweave_clusters": int(labels.max() + 1), "igraph_clusters": len(set(theirs.membership))},
    }
    a.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
