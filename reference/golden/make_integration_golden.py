"""Golden values for CellWeaveAnalysis.IntegrationMetrics from scib-metrics 0.5.10 (the metrics
its Benchmarker runs), on a seeded embedding with partial batch mixing, with exact neighbours
(scikit-learn brute force, self included) handed to scib-metrics as NeighborsResults: iLISI and
cLISI on 90 neighbours, graph connectivity and Leiden NMI/ARI on 15, silhouettes on the embedding.

Usage (needs make bench-venv):
    .venv-bench/bin/python reference/golden/make_integration_golden.py reference/golden/integration_scib.json
"""
import json
import sys

import numpy as np
import scib_metrics
from scib_metrics.nearest_neighbors import NeighborsResults
from sklearn.neighbors import NearestNeighbors

rng = np.random.default_rng(3)
cells, dims = 900, 8
labels = rng.integers(0, 4, cells)
batches = rng.integers(0, 3, cells)
label_centres = rng.normal(0, 1.5, (4, dims))
batch_shift = rng.normal(0, 0.5, (3, dims))
# Batch 2 is shifted only for labels 0 and 1: mixing differs between cell types.
shift = np.where(((batches == 2) & (labels > 1))[:, None], 0, batch_shift[batches])
x = (label_centres[labels] + shift + rng.normal(0, 1, (cells, dims))).astype(np.float32)

distances, indices = NearestNeighbors(n_neighbors=90, algorithm="brute").fit(x).kneighbors(x)
n90 = NeighborsResults(indices=indices, distances=distances)
n15 = n90.subset_neighbors(n=15)
nmi_ari = scib_metrics.nmi_ari_cluster_labels_leiden(n15, labels, optimize_resolution=True, seed=0)
golden = {
    "embedding": x.ravel().tolist(), "dims": dims, "batches": batches.tolist(), "labels": labels.tolist(),
    "ilisi": float(scib_metrics.ilisi_knn(n90, batches)),
    "clisi": float(scib_metrics.clisi_knn(n90, labels)),
    "silhouette_label": float(scib_metrics.silhouette_label(x, labels)),
    "silhouette_batch": float(scib_metrics.silhouette_batch(x, labels, batches)),
    "graph_connectivity": float(scib_metrics.graph_connectivity(n15, labels)),
    "nmi_leiden": float(nmi_ari["nmi"]), "ari_leiden": float(nmi_ari["ari"]),
}
json.dump(golden, open(sys.argv[1], "w"))
print({k: v for k, v in golden.items() if isinstance(v, float)})
