"""The linear decoder (LDVAE) through the CLI: simulated gene programs, `train --decoder linear`,
the loadings `embed` writes (varm and uns, as the real anndata reads them) and `loadings` exports,
checked against the model's own tensors as scvi-tools' get_loadings computes them."""
import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import read_strict

TRAIN = ["--batch-key", "batch", "--max-epochs", "3", "--n-hidden", "32", "--threads", "2", "--decoder", "linear"]


@pytest.fixture(scope="module")
def programs(tmp_path_factory, cellweave):
    d = tmp_path_factory.mktemp("linear")
    sim, hvg = d / "sim.h5ad", d / "hvg.h5ad"
    cellweave("simulate", "--cells", "500", "--genes", "200", "--programs", "3", "--program-genes", "20", "--seed", "2", "-o", sim)
    cellweave("hvg", sim, "-o", hvg, "--n-top-genes", "120")
    model = d / "model"
    cellweave("train", hvg, "-o", model, *TRAIN, "--hvg-only")
    return sim, hvg, model


def test_simulated_programs(programs):
    a = read_strict(programs[0])
    assert list(a.var["program"].cat.categories) == ["none", "program1", "program2", "program3"]
    assert (a.var["program"].value_counts()[["program1", "program2", "program3"]] == 20).all()
    for k in (1, 2, 3):
        activity = a.obs[f"program{k}_activity"].to_numpy()
        assert activity.min() >= 0 and activity.max() <= 1 and activity.std() > 0.25
    assert a.uns["simulation"]["programs"] == 3


def model_loadings(model):
    """scvi-tools' get_loadings of an LDVAE: the weights scaled by the batch norm's gamma over its
    running standard deviation, genes x latent."""
    with h5py.File(model / "model.h5", "r") as f:
        t = f["tensors"]
        w = t["decoder.linear.weight"][()]
        gamma, var = t["decoder.linear.batch_norm.weight"][()], t["decoder.linear.batch_norm.running_var"][()]
    return (w * (gamma / np.sqrt(var + 1e-3))).T


def test_embed_writes_loadings_in_varimax_axes(cellweave, programs, tmp_path):
    sim, hvg, model = programs
    out, raw = tmp_path / "out.h5ad", tmp_path / "raw.h5ad"
    cellweave("embed", model, sim, "-o", out)
    cellweave("embed", model, sim, "-o", raw, "--no-varimax")
    a, r = read_strict(out), read_strict(raw)
    in_model = read_strict(hvg).var["highly_variable"].to_numpy()
    loadings = a.varm["cellweave_loadings"]
    assert loadings.shape == (200, 10)
    assert np.isnan(loadings[~in_model]).all() and np.isfinite(loadings[in_model]).all()
    np.testing.assert_allclose(r.varm["cellweave_loadings"][in_model], model_loadings(model), rtol=1e-4, atol=1e-6)
    summary = a.uns["cellweave_loadings"]
    assert summary["axes"] == "varimax" and r.uns["cellweave_loadings"]["axes"] == "model"
    rotation = np.asarray(summary["rotation"]).reshape(10, 10)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(10), atol=1e-5)
    # The same model and cells, in rotated axes: loadings and embedding turn together, distances stay.
    np.testing.assert_allclose(a.obsm["X_cellweave"], r.obsm["X_cellweave"] @ rotation, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(loadings[in_model], r.varm["cellweave_loadings"][in_model] @ rotation, rtol=1e-3, atol=1e-5)
    for k in range(10):
        top = list(summary[str(k + 1)]["positive"])
        order = np.argsort(-loadings[in_model][:, k], kind="stable")[:10]
        assert top == list(a.var_names[in_model][order])
        assert len(summary[str(k + 1)]["negative"]) == 10


def test_loadings_command(cellweave, programs, tmp_path):
    sim, hvg, model = programs
    out = tmp_path / "out.h5ad"
    cellweave("embed", model, sim, "-o", out)
    a = read_strict(out)
    result = cellweave("loadings", model, "-o", tmp_path / "l.tsv", "--top", "3")
    table = pd.read_csv(tmp_path / "l.tsv", sep="\t", index_col=0)
    assert list(table.columns) == [f"X_cellweave_{k}" for k in range(1, 11)]
    in_model = a.var_names.isin(table.index)
    assert in_model.sum() == 120
    np.testing.assert_allclose(table.loc[a.var_names[in_model]].to_numpy(), a.varm["cellweave_loadings"][in_model], rtol=1e-5)
    assert result.stdout.count("X_cellweave_") == 10
    cellweave("loadings", model, "-o", tmp_path / "raw.tsv", "--no-varimax")
    raw = pd.read_csv(tmp_path / "raw.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(raw.to_numpy(), model_loadings(model), rtol=1e-4, atol=1e-6)


def test_nonlinear_models_have_no_loadings(cellweave, programs, tmp_path):
    sim = programs[0]
    model = tmp_path / "nonlinear"
    cellweave("train", sim, "-o", model, *TRAIN[:-2])
    result = cellweave("loadings", model, "-o", tmp_path / "l.tsv", check=False)
    assert result.returncode != 0 and "--decoder linear" in result.stderr and not (tmp_path / "l.tsv").exists()
    cellweave("embed", model, sim, "-o", tmp_path / "e.h5ad")
    assert "cellweave_loadings" not in read_strict(tmp_path / "e.h5ad").varm
    result = cellweave("train", sim, "-o", tmp_path / "m", *TRAIN, "--normalization", "layer", check=False)
    assert result.returncode != 0 and "--decoder linear" in result.stderr
