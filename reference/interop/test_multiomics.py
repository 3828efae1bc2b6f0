"""The RNA + protein model through the CLI, against the real mudata and anndata: training on an
.h5mu (and on an h5ad with obsm protein_expression), joint and per-modality embeddings, imputed
protein, scores that use every modality a cell has, query mapping with and without protein,
bit-identical reruns, and clear errors for bad protein input."""
import json

import anndata as ad
import h5py
import numpy as np
import pytest
import scipy.sparse as sp

from conftest import read_mudata, read_strict

CELLS, GENES, PROTEINS = 1200, 300, 12
EPOCHS = ["--max-epochs", "40", "--threads", "2"]


@pytest.fixture(scope="module")
def cite(cellweave, tmp_path_factory):
    """A CITE-seq-like simulation in which batch 2 has no antibody panel, a model, its embedding."""
    d = tmp_path_factory.mktemp("cite")
    cellweave("simulate", "-o", d / "sim.h5mu", "--cells", CELLS, "--genes", GENES, "--proteins", PROTEINS, "--batches", 3,
              "--cell-types", 4, "--protein-missing-batches", 2, "--seed", 5)
    cellweave("train", d / "sim.h5mu", "--batch-key", "batch", "-o", d / "model", "--seed", 1, *EPOCHS)
    cellweave("embed", d / "model", d / "sim.h5mu", "-o", d / "emb.h5mu", "--impute", "protein")
    return d


def test_config_records_modalities(cite):
    config = json.loads((cite / "model" / "config.json").read_text())
    assert config["configuration"]["modalities"] == [{"kind": "protein", "features": PROTEINS}]
    assert config["modalities"][0]["features"] == [f"Protein{j}" for j in range(PROTEINS)]
    assert config["modalities"][0]["name"] == "prot"


def test_embedding_opens_in_mudata(cite):
    m = read_mudata(cite / "emb.h5mu")
    has = m.obsmap["prot"] > 0
    assert has.sum() == (m.obs["batch"] != "batch2").sum()
    z = m.obsm["X_cellweave"]
    assert z.shape == (CELLS, 10) and np.isfinite(z).all()
    rna, protein = m.obsm["X_cellweave_rna"], m.obsm["X_cellweave_protein"]
    assert np.isfinite(rna).all()
    assert np.isnan(protein[~has]).all() and np.isfinite(protein[has]).all()
    # A cell without protein has its RNA posterior as its joint one.
    np.testing.assert_allclose(z[~has], rna[~has], rtol=1e-6)
    imputed = m.obsm["protein_imputed"]
    assert imputed.shape == (CELLS, PROTEINS) and (imputed >= 0).all()
    p = m.obsm["protein_foreground_probability"]
    assert ((p >= 0) & (p <= 1)).all()
    # The original modalities go along untouched.
    src = read_mudata(cite / "sim.h5mu")
    np.testing.assert_array_equal(m["prot"].X.toarray() if sp.issparse(m["prot"].X) else m["prot"].X,
                                  src["prot"].X.toarray() if sp.issparse(src["prot"].X) else src["prot"].X)


def test_imputed_protein_follows_measured(cite):
    m = read_mudata(cite / "emb.h5mu")
    rows = m.obsmap["prot"][m.obsmap["prot"] > 0] - 1
    measured = m["prot"].X.toarray() if sp.issparse(m["prot"].X) else np.asarray(m["prot"].X)
    imputed = m.obsm["protein_imputed"][m.obsmap["prot"] > 0]
    r = [np.corrcoef(np.log1p(measured[rows, j]), np.log1p(imputed[:, j]))[0, 1] for j in range(PROTEINS)]
    assert np.nanmean(r) > 0.5, r


def test_same_seed_same_model(cellweave, cite, tmp_path):
    cellweave("train", cite / "sim.h5mu", "--batch-key", "batch", "-o", tmp_path / "again", "--seed", 1, *EPOCHS)
    with h5py.File(cite / "model" / "model.h5") as a, h5py.File(tmp_path / "again" / "model.h5") as b:
        names = [k for k in a["tensors"]]
        assert any(n.startswith("protein.") for n in names)
        for name in names:
            np.testing.assert_array_equal(a["tensors"][name][()], b["tensors"][name][()])


def test_h5ad_output_holds_the_same_products(cellweave, cite, tmp_path):
    cellweave("embed", cite / "model", cite / "sim.h5mu", "-o", tmp_path / "emb.h5ad", "--impute", "protein")
    a = read_strict(tmp_path / "emb.h5ad")
    m = read_mudata(cite / "emb.h5mu")
    for key in ["X_cellweave", "X_cellweave_rna", "X_cellweave_protein", "protein_imputed", "protein_foreground_probability"]:
        np.testing.assert_array_equal(a.obsm[key], m.obsm[key])
    assert a.obs["protein_measured"].sum() == (m.obsmap["prot"] > 0).sum()


def test_train_on_h5ad_with_protein_expression(cellweave, cite, tmp_path):
    cellweave("convert", cite / "sim.h5mu", "-o", tmp_path / "sim.h5ad")
    a = read_strict(tmp_path / "sim.h5ad")
    assert a.obsm["protein_expression"].shape == (CELLS, PROTEINS)
    cellweave("train", tmp_path / "sim.h5ad", "--batch-key", "batch", "-o", tmp_path / "model", "--seed", 1, *EPOCHS)
    with h5py.File(cite / "model" / "model.h5") as x, h5py.File(tmp_path / "model" / "model.h5") as y:
        for name in x["tensors"]:  # the same data, the same presence: the same model
            np.testing.assert_array_equal(x["tensors"][name][()], y["tensors"][name][()])
    # --modalities rna trains the RNA model alone.
    cellweave("train", tmp_path / "sim.h5ad", "--batch-key", "batch", "-o", tmp_path / "rna", "--modalities", "rna", *EPOCHS)
    assert "modalities" not in json.loads((tmp_path / "rna" / "config.json").read_text())


def test_score_uses_every_modality_a_cell_has(cellweave, cite, tmp_path):
    cellweave("score", cite / "model", cite / "sim.h5mu", "-o", tmp_path / "scored.h5mu", "--reference-batch", "batch0",
              "--tsv", tmp_path / "s.tsv", "--report", tmp_path / "s.html")
    m = read_mudata(tmp_path / "scored.h5mu")
    has = m.obsmap["prot"] > 0
    basis = m.obs["anomaly_modalities"].astype(str).to_numpy()
    assert (basis[has] == "RNA + protein").all() and (basis[~has] == "RNA").all()
    # Healthy cells of each kind are calibrated, against another batch only as well as the model has
    # removed the batch effect (400 cells; with protein and without, 0.055 and 0.135 after 40 epochs,
    # 0.008 and 0.025 after 150); the band refuses p-values that are not p-values (all near 0 or 1).
    for b in ["batch1", "batch2"]:
        rate = (m.obs["anomaly_pvalue"][m.obs["batch"] == b] <= 0.05).mean()
        assert 0.005 <= rate <= 0.2, (b, rate)
    assert "RNA + protein" in (tmp_path / "s.html").read_text()


def test_query_mapping_with_and_without_protein(cellweave, cite, tmp_path):
    """A new batch maps onto the model whether it has protein or not."""
    for proteins, name in [(PROTEINS, "with"), (0, "without")]:
        args = ["--proteins", proteins] if proteins else []
        cellweave("simulate", "-o", tmp_path / f"{name}.h5mu", "--cells", 300, "--genes", GENES, "--batches", 1, "--cell-types", 4,
                  "--seed", 5, *args)
        q = read_mudata(tmp_path / f"{name}.h5mu")
        q.obs["batch"] = "newbatch"
        q.write(tmp_path / f"{name}.h5mu")
        cellweave("embed", cite / "model", tmp_path / f"{name}.h5mu", "-o", tmp_path / f"{name}_emb.h5mu", "--query-epochs", 20)
        out = read_mudata(tmp_path / f"{name}_emb.h5mu")
        assert np.isfinite(out.obsm["X_cellweave"]).all()
        assert np.isnan(out.obsm["X_cellweave_protein"]).all() == (proteins == 0)


def test_bad_protein_input(cellweave, cite, tmp_path):
    m = read_mudata(cite / "sim.h5mu")
    x = m["prot"].X.toarray() if sp.issparse(m["prot"].X) else np.asarray(m["prot"].X, dtype=np.float32)
    x[0, 0] = 2.5
    m.mod["prot"] = ad.AnnData(x, obs=m["prot"].obs, var=m["prot"].var)
    m.write(tmp_path / "frac.h5mu")
    r = cellweave("train", tmp_path / "frac.h5mu", "--batch-key", "batch", "-o", tmp_path / "model", "--non-integer", "refuse",
                  *EPOCHS, check=False)
    assert r.returncode != 0 and "frac.h5mu [/mod/prot/X]" in r.stderr and "non-integer" in r.stderr
    assert not (tmp_path / "model" / "model.h5").exists()


@pytest.mark.parametrize("stage", ["neighbors", "evaluate"])
def test_graph_stages_refuse_an_embedding_with_nan_rows(cellweave, cite, tmp_path, stage):
    # X_cellweave_protein is NaN for the cells without protein: a graph on it would be NaN.
    args = (["--use-rep", "X_cellweave_protein"] if stage == "neighbors"
            else ["--batch-key", "batch", "--embeddings", "X_cellweave_protein"])
    r = cellweave(stage, cite / "emb.h5mu", "-o", tmp_path / "out", *args, check=False)
    assert r.returncode != 0 and "obsm/X_cellweave_protein" in r.stderr and "NaN" in r.stderr
    assert list(tmp_path.iterdir()) == []
