"""`cellweave score` on simulated data: healthy samples train the model; a sample from a batch the
model has never seen holds 4% aberrant cells (60 genes up and down 4-fold). Its cells are mapped,
scored and calibrated against the cells train held out."""
import json
import anndata as ad
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import read_strict

ALPHA = 0.05


@pytest.fixture(scope="module")
def scored(tmp_path_factory, cellweave):
    d = tmp_path_factory.mktemp("score")
    cellweave("simulate", "--cells", "4000", "--genes", "500", "--batches", "4", "--aberrant-fraction", "0.04",
              "--aberrant-batches", "3", "--seed", "2", "-o", d / "sim.h5ad")
    sim = ad.read_h5ad(d / "sim.h5ad")
    sim[sim.obs["batch"] != "batch3"].copy().write_h5ad(d / "healthy.h5ad")
    sim[sim.obs["batch"] == "batch3"].copy().write_h5ad(d / "query.h5ad")
    cellweave("train", d / "healthy.h5ad", "--batch-key", "batch", "-o", d / "model", "--max-epochs", "200",
              "--train-size", "0.7", "--threads", "2", "--encode-covariates")
    for method in ["model", "analytic"]:
        cellweave("score", d / "model", d / "query.h5ad", "-o", d / f"{method}.h5ad", "--method", method,
                  "--tsv", d / f"{method}.tsv", "--report", d / f"{method}.html", "--threads", "2")
    cellweave("score", d / "model", d / "query.h5ad", "-o", d / "mean-squared.h5ad", "--statistic", "mean-squared",
              "--threads", "2")
    return d


def test_scores_separate_aberrant_cells_of_a_new_batch(scored):
    model, analytic = read_strict(scored / "model.h5ad"), read_strict(scored / "analytic.h5ad")
    y = model.obs["aberrant"].to_numpy()
    auroc = roc_auc_score(y, model.obs["anomaly_score"])
    assert auroc > 0.95, auroc  # 0.999 when written (plain mean squares: 0.978)
    assert auroc > roc_auc_score(y, analytic.obs["anomaly_score"])
    # The inverse-variance weights (the default) add power over plain mean squares.
    assert auroc >= roc_auc_score(y, read_strict(scored / "mean-squared.h5ad").obs["anomaly_score"])
    for column, kind in [("anomaly_score", "f"), ("anomaly_z", "f"), ("anomaly_pvalue", "f"), ("anomaly_qvalue", "f"),
                         ("anomaly_flag", "b")]:
        assert model.obs[column].dtype.kind == kind


def test_calibration_holds_on_the_new_batch(scored):
    obs = read_strict(scored / "model.h5ad").obs
    healthy = ~obs["aberrant"].to_numpy()
    # Conformal p-values of healthy cells from an unseen batch are (close to) uniform.
    rate = (obs["anomaly_pvalue"][healthy] <= ALPHA).mean()
    assert abs(rate - ALPHA) < 0.03, rate
    # Flags control the false discovery rate. How many cells can be flagged at all is bounded by
    # the reference: the smallest conformal p-value is 1 / (n_reference + 1).
    flagged = obs["anomaly_flag"].to_numpy()
    assert not flagged.any() or obs["aberrant"][flagged].mean() > 0.8
    assert np.array_equal(flagged, obs["anomaly_qvalue"].to_numpy() <= ALPHA)
    assert np.all(obs["anomaly_qvalue"] >= obs["anomaly_pvalue"] - 1e-12)


def test_table_and_report(scored):
    table = pd.read_csv(scored / "model.tsv", sep="\t")
    assert list(table.columns) == ["cell", "sample", "anomaly_score", "anomaly_z", "anomaly_pvalue", "anomaly_qvalue",
                                   "anomaly_flag", "top_genes"]
    top = table.sort_values("anomaly_score").iloc[-1]["top_genes"].split(",")
    assert len(top) == 10 and all(":" in g for g in top)
    sim = ad.read_h5ad(scored / "sim.h5ad")
    program = set(sim.var_names[sim.var["is_aberrant_gene"]])
    highest = table.sort_values("anomaly_score").iloc[-20:]
    genes = [g.split(":")[0] for row in highest["top_genes"] for g in row.split(",")]
    assert np.mean([g in program for g in genes]) > 0.5  # the top genes are the program's
    html = (scored / "model.html").read_text()
    assert "<svg" in html and "Most anomalous cells" in html


def test_scores_do_not_depend_on_listing_top_genes(cellweave, scored, tmp_path):
    # Without --tsv or --report no top genes are kept; the scores are the same bits.
    cellweave("score", scored / "model", scored / "query.h5ad", "-o", tmp_path / "plain.h5ad", "--threads", "2")
    a, b = read_strict(scored / "model.h5ad").obs, read_strict(tmp_path / "plain.h5ad").obs
    for column in ["anomaly_score", "anomaly_z", "anomaly_pvalue", "anomaly_qvalue", "anomaly_flag"]:
        assert np.array_equal(a[column].to_numpy(), b[column].to_numpy()), column


def test_bad_references_and_genes(cellweave, scored, tmp_path):
    query = ad.read_h5ad(scored / "query.h5ad")
    query[:10].copy().write_h5ad(tmp_path / "tiny.h5ad")
    out = tmp_path / "out.h5ad"
    result = cellweave("score", scored / "model", scored / "query.h5ad", "-o", out, "--reference", tmp_path / "tiny.h5ad", check=False)
    assert result.returncode != 0 and "reference set has 10 cells; at least 20" in result.stderr and not out.exists()
    query[:, 3:].copy().write_h5ad(tmp_path / "fewer.h5ad")
    result = cellweave("score", scored / "model", tmp_path / "fewer.h5ad", "-o", out, check=False)
    assert result.returncode != 0 and "3 of the model's 500 genes are missing" in result.stderr and not out.exists()
    result = cellweave("score", scored / "model", scored / "query.h5ad", "-o", out, "--reference-batch", "nope", check=False)
    assert result.returncode != 0 and "no cells of batch 'nope'" in result.stderr


@pytest.mark.parametrize("change", ["cells removed", "a name twice"])
def test_held_out_reference_must_be_the_cells_train_held_out(cellweave, tmp_path, change):
    cellweave("simulate", "-o", tmp_path / "t.h5ad", "--cells", 400, "--genes", 100, "--batches", 2, "--seed", 2)
    cellweave("train", tmp_path / "t.h5ad", "--batch-key", "batch", "-o", tmp_path / "m", "--max-epochs", 2)
    held = json.loads((tmp_path / "m" / "config.json").read_text())["validation_cells"]
    a = ad.read_h5ad(tmp_path / "t.h5ad")
    if change == "cells removed":  # the training file changed since training
        a = a[~a.obs_names.isin(held[:5])].copy()
    else:  # a training cell given a held-out cell's name
        names = list(a.obs_names)
        names[next(i for i, n in enumerate(names) if n not in set(held))] = held[0]
        a.obs_names = names
    a.write_h5ad(tmp_path / "t.h5ad")
    r = cellweave("score", tmp_path / "m", tmp_path / "t.h5ad", "-o", tmp_path / "s.h5ad", check=False)
    says = "are not in it" if change == "cells removed" else f"'{held[0]}' names 2 cells"
    assert r.returncode != 0 and says in r.stderr, r.stderr
    assert not (tmp_path / "s.h5ad").exists()
