"""Golden silhouette values for CellWeaveAnalysis tests, from scikit-learn: a seeded 3-group
embedding with 2 batches; silhouette_score of the groups and scib's batch silhouette
(per group: mean of 1 - |silhouette_samples of batch|, averaged over groups).

Usage: python reference/golden/make_silhouette_golden.py reference/golden/silhouette_sklearn.json
"""
import json
import sys

import numpy as np
from sklearn.metrics import silhouette_samples, silhouette_score

rng = np.random.default_rng(5)
n, d = 150, 4
groups = rng.integers(0, 3, n)
batches = rng.integers(0, 2, n)
x = rng.normal(size=(n, d)) + groups[:, None] * 1.5 + batches[:, None] * 0.4
x = x.astype(np.float32)
per_group = []
for g in np.unique(groups):
    m = groups == g
    s = silhouette_samples(x[m], batches[m])
    per_group.append(np.mean(1 - np.abs(s)))
json.dump({
    "embedding": x.astype(float).tolist(), "groups": groups.tolist(), "batches": batches.tolist(),
    "silhouette_samples": silhouette_samples(x, groups).tolist(),
    "silhouette_score": float(silhouette_score(x, groups)),
    "batch_silhouette": float(np.mean(per_group)),
}, open(sys.argv[1], "w"))
