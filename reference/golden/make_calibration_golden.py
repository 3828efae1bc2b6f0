"""Golden values for AnomalyCalibration: Benjamini-Hochberg q-values from
scipy.stats.false_discovery_control(method="bh"), conformal p-values and the robust z from numpy /
scipy.stats.median_abs_deviation(scale="normal") on seeded scores with ties.

Usage: python reference/golden/make_calibration_golden.py reference/golden/calibration_scipy.json
"""
import json
import sys

import numpy as np
from scipy.stats import false_discovery_control, median_abs_deviation

rng = np.random.default_rng(11)
reference = np.round(rng.gamma(2.0, 1.0, 200), 2)  # rounded: ties with the query
query = np.round(np.concatenate([rng.gamma(2.0, 1.0, 90), rng.gamma(2.0, 4.0, 10)]), 2)
p = np.array([(1 + np.sum(reference >= s)) / (len(reference) + 1) for s in query])
json.dump({
    "reference": reference.tolist(), "query": query.tolist(), "pvalues": p.tolist(),
    "qvalues": false_discovery_control(p, method="bh").tolist(),
    "z": ((query - np.median(reference)) / median_abs_deviation(reference, scale="normal")).tolist(),
}, open(sys.argv[1], "w"))
