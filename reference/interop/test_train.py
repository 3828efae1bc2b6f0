"""`cellweave train` and `embed` through the CLI: the model directory, reproducibility, resume,
the embedding and corrected expression as the real anndata reads them, and bad input."""
import json

import h5py
import numpy as np
import pytest

from conftest import read_strict

TRAIN = ["--batch-key", "batch", "--max-epochs", "4", "--n-hidden", "32", "--threads", "2"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, cellweave):
    path = tmp_path_factory.mktemp("train") / "sim.h5ad"
    cellweave("simulate", "--cells", "600", "--genes", "150", "--seed", "4", "-o", path)
    return path


def tensors(model_dir):
    with h5py.File(model_dir / "model.h5", "r") as f:
        return {name: f["tensors"][name][()] for name in f["tensors"]}


def test_model_directory(cellweave, simulated, tmp_path):
    model = tmp_path / "model"
    cellweave("train", simulated, "-o", model, *TRAIN)
    config = json.loads((model / "config.json").read_text())
    assert config["configuration"]["genes"] == 150 and config["configuration"]["latent"] == 10
    assert config["covariates"] == [{"key": "batch", "categories": ["batch0", "batch1", "batch2"]}]
    assert len(config["gene_ids"]) == 150 and len(config["validation_cells"]) == 60
    history = json.loads((model / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4]
    assert all(e["seconds"] > 0 and np.isfinite(e["elbo_validation"]) for e in history["epochs"])
    assert "<svg" in (model / "training.html").read_text()
    weights = tensors(model)
    assert weights["decoder.scale.weight"].shape == (32, 150)
    assert weights["encoder.0.linear.weight"].shape == (150, 32)
    assert weights["log_theta"].shape == (1, 150)


def test_same_seed_same_bits_and_resume(cellweave, simulated, tmp_path):
    warmup = ["--n-epochs-kl-warmup", "3"]
    cellweave("train", simulated, "-o", tmp_path / "a", *TRAIN, *warmup)
    cellweave("train", simulated, "-o", tmp_path / "b", *TRAIN, *warmup)
    a, b = tensors(tmp_path / "a"), tensors(tmp_path / "b")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # Two epochs, then resumed to four, equal four in one run, bit for bit; the resumed run keeps the
    # checkpoint's warm-up (the default would be a quarter of its own --max-epochs).
    short = [x if x != "4" else "2" for x in TRAIN]
    cellweave("train", simulated, "-o", tmp_path / "c", *short, *warmup, "--checkpoint-every", "1")
    cellweave("train", simulated, "-o", tmp_path / "c", *TRAIN, "--resume")
    c = tensors(tmp_path / "c")
    assert all(np.array_equal(a[k], c[k]) for k in a)
    other = tmp_path / "d"
    cellweave("train", simulated, "-o", other, *TRAIN, *warmup, "--seed", "1")
    assert not np.array_equal(tensors(other)["log_theta"], a["log_theta"])


def test_embed_and_corrected_expression(cellweave, simulated, tmp_path):
    model = tmp_path / "model"
    cellweave("train", simulated, "-o", model, *TRAIN)
    out = tmp_path / "embedded.h5ad"
    cellweave("embed", model, simulated, "-o", out, "--corrected-expression", "--transform-batch", "batch1",
              "--npy", tmp_path / "z.npy", "--tsv", tmp_path / "z.tsv")
    adata = read_strict(out)
    z = adata.obsm["X_cellweave"]
    assert z.shape == (600, 10) and np.isfinite(z).all()
    assert np.array_equal(np.load(tmp_path / "z.npy"), z)
    corrected = adata.layers["cellweave_corrected"]
    assert corrected.shape == (600, 150) and (corrected > 0).all()
    np.testing.assert_allclose(corrected.sum(axis=1), 1e4, rtol=1e-4)
    # Embedding is deterministic: inference uses the running statistics and no sampling.
    cellweave("embed", model, simulated, "-o", tmp_path / "again.h5ad")
    assert np.array_equal(read_strict(tmp_path / "again.h5ad").obsm["X_cellweave"], z)


def test_embed_refuses_missing_genes_and_maps_new_batches(cellweave, simulated, tmp_path):
    import anndata as ad

    model = tmp_path / "model"
    cellweave("train", simulated, "-o", model, *TRAIN)
    adata = ad.read_h5ad(simulated)
    fewer = tmp_path / "fewer.h5ad"
    adata[:, 5:].copy().write_h5ad(fewer)
    out = tmp_path / "out.h5ad"
    result = cellweave("embed", model, fewer, "-o", out, check=False)
    assert result.returncode != 0 and "5 of the model's 150 genes are missing" in result.stderr and str(fewer) in result.stderr
    assert not out.exists()
    # A batch the model has not seen is mapped onto it (its covariate weights learned, the rest frozen).
    renamed = tmp_path / "renamed.h5ad"
    adata.obs["batch"] = adata.obs["batch"].cat.rename_categories({"batch2": "new"})
    adata.write_h5ad(renamed)
    result = cellweave("embed", model, renamed, "-o", out, "--query-epochs", "5")
    assert "mapping batch=new" in result.stderr
    z = read_strict(out).obsm["X_cellweave"]
    assert z.shape == (600, 10) and np.isfinite(z).all()


def test_training_on_non_counts_stops_cleanly(cellweave, simulated, tmp_path):
    import anndata as ad

    adata = ad.read_h5ad(simulated)
    adata.X = adata.X.copy()
    adata.X.data[::7] = -3
    bad = tmp_path / "negative.h5ad"
    adata.write_h5ad(bad)
    model = tmp_path / "model"
    result = cellweave("train", bad, "-o", model, *TRAIN, check=False)
    assert result.returncode != 0 and "-3.0 at cell 0" in result.stderr and "finite and non-negative" in result.stderr
    assert not model.exists()
    for value in (np.nan, np.inf):
        adata.X.data[::7] = value
        adata.write_h5ad(bad)
        result = cellweave("train", bad, "-o", model, *TRAIN, check=False)
        assert result.returncode != 0 and f"{value} at cell 0" in result.stderr and not model.exists()


def test_hvg_only_and_missing_batch_key(cellweave, simulated, tmp_path):
    hvg = tmp_path / "hvg.h5ad"
    cellweave("hvg", simulated, "-o", hvg, "--n-top-genes", "50")
    model = tmp_path / "model"
    cellweave("train", hvg, "-o", model, *TRAIN, "--hvg-only")
    assert tensors(model)["log_theta"].shape == (1, 50)
    result = cellweave("train", simulated, "-o", tmp_path / "m", "--batch-key", "donor", check=False)
    assert result.returncode != 0 and "no obs column 'donor'" in result.stderr


def test_training_on_odd_but_valid_counts(cellweave, simulated, tmp_path):
    """A batch of one cell, cells with no counts, genes never expressed, a library of a million
    counts: training and embedding go through with finite weights and embeddings."""
    import anndata as ad

    base = ad.read_h5ad(simulated)
    odd = {}
    a = base.copy()
    a.obs["batch"] = a.obs["batch"].cat.add_categories(["lonely"])
    a.obs.iloc[5, a.obs.columns.get_loc("batch")] = "lonely"
    odd["batch of one cell"] = a
    for name, edit in [("cells without counts", lambda x: x.__setitem__((slice(10, 20), slice(None)), 0)),
                       ("genes never expressed", lambda x: x.__setitem__((slice(None), slice(0, 20)), 0)),
                       ("a million counts in one cell", lambda x: x.__setitem__((0, slice(None)), 1e6 // x.shape[1]))]:
        a = base.copy()
        x = a.X.toarray()
        edit(x)
        a.X = type(base.X)(x)
        odd[name] = a
    for name, a in odd.items():
        path, model, out = tmp_path / "odd.h5ad", tmp_path / "model", tmp_path / "embedded.h5ad"
        a.write_h5ad(path)
        cellweave("train", path, "-o", model, *TRAIN)
        assert all(np.isfinite(v).all() for v in tensors(model).values()), name
        cellweave("embed", model, path, "-o", out)
        assert np.isfinite(read_strict(out).obsm["X_cellweave"]).all(), name


def test_batch_and_covariate_columns_that_cannot_be_covariates(cellweave, simulated, tmp_path):
    import anndata as ad
    a = ad.read_h5ad(simulated)
    a.obs["donor"] = np.where(np.arange(a.n_obs) % 2 == 0, 1.0, 2.0)
    a.obs.loc[a.obs_names[3], "donor"] = np.nan  # pandas' missing value in a float column
    a.write_h5ad(tmp_path / "in.h5ad")
    for args, says in [(["--batch-key", "donor"], "'donor' has missing values"),
                       (["--batch-key", "batch", "--covariate-keys", "batch"], "'batch' is the batch key"),
                       (["--batch-key", "batch", "--covariate-keys", "cell_type", "cell_type"], "'cell_type' is named twice")]:
        r = cellweave("train", tmp_path / "in.h5ad", "-o", tmp_path / "m", *TRAIN, *args, check=False)
        assert r.returncode != 0 and says in r.stderr, r.stderr
        assert not (tmp_path / "m").exists()


def test_a_numeric_batch_written_another_way_is_the_same_batch(cellweave, simulated, tmp_path):
    import anndata as ad
    a = ad.read_h5ad(simulated)
    a.obs["donor"] = np.arange(a.n_obs) % 2  # integers: the model's categories are "0" and "1"
    a.write_h5ad(tmp_path / "int.h5ad")
    a.obs["donor"] = a.obs["donor"].astype(float)  # the same donors as floats: "0.0" and "1.0"
    a.write_h5ad(tmp_path / "float.h5ad")
    cellweave("train", tmp_path / "int.h5ad", "-o", tmp_path / "m", *TRAIN, "--batch-key", "donor")
    cellweave("embed", tmp_path / "m", tmp_path / "int.h5ad", "-o", tmp_path / "a.h5ad")
    r = cellweave("embed", tmp_path / "m", tmp_path / "float.h5ad", "-o", tmp_path / "b.h5ad")
    assert "mapping" not in r.stderr  # not new batches to map
    np.testing.assert_array_equal(read_strict(tmp_path / "a.h5ad").obsm["X_cellweave"], read_strict(tmp_path / "b.h5ad").obsm["X_cellweave"])


def test_models_refuse_what_they_could_not_apply(cellweave, simulated, tmp_path):
    import anndata as ad
    a = ad.read_h5ad(simulated)
    a.var_names = ["Gene0"] + list(a.var_names[1:-1]) + ["Gene0"]  # two genes of one id
    a.write_h5ad(tmp_path / "dup.h5ad")
    r = cellweave("train", tmp_path / "dup.h5ad", "-o", tmp_path / "d", *TRAIN, check=False)
    assert r.returncode != 0 and "same gene id 'Gene0'" in r.stderr and not (tmp_path / "d").exists()
    r = cellweave("train", simulated, "-o", tmp_path / "d", *TRAIN, "--lr", "nan", check=False)
    assert r.returncode != 0 and "--lr" in r.stderr
    # A manifest whose gene list does not fit its weights (edited, or from another model).
    cellweave("train", simulated, "-o", tmp_path / "m", *TRAIN)
    with h5py.File(tmp_path / "m" / "model.h5", "r+") as f:
        key = "metadata/manifest" if "metadata/manifest" in f else None
        manifest = json.loads(f[key][()] if key else f["metadata"].attrs["manifest"])
        manifest["gene_ids"] = manifest["gene_ids"][:-1]
        if key:
            del f[key]
            f[key] = json.dumps(manifest)
        else:
            f["metadata"].attrs["manifest"] = json.dumps(manifest)
    r = cellweave("embed", tmp_path / "m", simulated, "-o", tmp_path / "e.h5ad", check=False)
    assert r.returncode != 0 and "[/metadata/manifest]" in r.stderr and "gene ids" in r.stderr


def test_side_outputs_are_checked_before_anything_is_written(cellweave, simulated, tmp_path):
    cellweave("train", simulated, "-o", tmp_path / "m", *TRAIN)
    out = tmp_path / "e.h5ad"
    out.write_bytes(b"the previous result")
    for stage, extra in [("embed", ["--npy", tmp_path / "nodir" / "e.npy"]), ("embed", ["--tsv", tmp_path / "nodir" / "e.tsv"]),
                         ("score", ["--report", tmp_path / "nodir" / "r.html"])]:
        r = cellweave(stage, tmp_path / "m", simulated, "-o", out, *extra, check=False)
        assert r.returncode != 0 and "nodir" in r.stderr and "does not exist" in r.stderr
        assert out.read_bytes() == b"the previous result"
