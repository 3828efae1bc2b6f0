"""Golden values for AnomalyCalibration: Benjamini-Hochberg q-values from
scipy.stats.false_discovery_control(method="bh"), conformal p-values and the robust z from numpy /
scipy.stats.median_abs_deviation(scale="normal") on seeded scores with ties; and the variance of a
squared Pearson residual, E r^4 - 1 = kurtosis - 1, from scipy.stats.nbinom / poisson, which
weights the genes of the default anomaly statistic.

Usage: python reference/golden/make_calibration_golden.py reference/golden/calibration_scipy.json
"""
import json
import sys

import numpy as np
from scipy.stats import false_discovery_control, median_abs_deviation, nbinom, poisson

rng = np.random.default_rng(11)
reference = np.round(rng.gamma(2.0, 1.0, 200), 2)  # rounded: ties with the query
query = np.round(np.concatenate([rng.gamma(2.0, 1.0, 90), rng.gamma(2.0, 4.0, 10)]), 2)

def squared_residual_variance(mu, theta):
    """E r^4 - 1 for r = (x - mu) / sd(x): scipy's excess kurtosis + 2."""
    if theta is None:
        return float(poisson.stats(mu, moments="k")) + 2
    return float(nbinom.stats(theta, theta / (theta + mu), moments="k")) + 2


means_dispersions = [(mu, theta) for mu in (0.01, 0.3, 2.0, 40.0, 1500.0) for theta in (0.2, 3.0, 50.0, None)]
p = np.array([(1 + np.sum(reference >= s)) / (len(reference) + 1) for s in query])
json.dump({
    "reference": reference.tolist(), "query": query.tolist(), "pvalues": p.tolist(),
    "qvalues": false_discovery_control(p, method="bh").tolist(),
    # theta null: Poisson.
    "squared_residual_variance": [{"mean": mu, "theta": theta, "variance": squared_residual_variance(mu, theta)}
                                  for mu, theta in means_dispersions],
    "z": ((query - np.median(reference)) / median_abs_deviation(reference, scale="normal")).tolist(),
}, open(sys.argv[1], "w"))
