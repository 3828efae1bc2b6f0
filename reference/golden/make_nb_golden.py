"""Golden negative binomial log-probabilities, digamma and log-gamma values from scipy, for the Swift tests
of CellWeaveModel. Usage: python reference/golden/make_nb_golden.py OUT.json"""
import json
import sys

from scipy.special import digamma, gammaln
from scipy.stats import nbinom

cases = []
for x in (0, 1, 3, 17, 250):
    for mu in (0.01, 0.7, 5.0, 120.0):
        for theta in (0.3, 2.0, 50.0):
            # scipy's nbinom(n, p): n = theta, p = theta / (theta + mu) gives mean mu.
            cases.append({"x": x, "mu": mu, "theta": theta, "logpmf": float(nbinom.logpmf(x, theta, theta / (theta + mu)))})
points = [0.05, 0.5, 1.0, 2.5, 6.0, 10.0, 123.4]
# Where the likelihoods take log Gamma: a count plus theta, theta alone (small to large).
gamma_points = points + [1e-4, 9.5, 17.3, 2500.7, 1e5 + 0.25]
json.dump({"nb": cases, "digamma": [{"x": x, "value": float(digamma(x))} for x in points],
           "logGamma": [{"x": x, "value": float(gammaln(x)), "digamma": float(digamma(x))} for x in gamma_points]}, open(sys.argv[1], "w"))
