"""Stages streaming counts from the h5ad (--max-memory). embed and score: blocks give the same
embedding and the same scores as reading the counts whole, for every choice of reference cells;
the output opens in anndata with the input's elements (copied as stored, or linked with
--link-unchanged). train: a streamed run is reproducible bit for bit and
resumes as if uninterrupted, holds out whole blocks, and is chosen by itself when the counts do
not fit in memory. What streaming cannot do is refused before anything is written."""
import json
import os
import subprocess

import h5py
import numpy as np
import pytest

from conftest import REFERENCES, assert_same_scores, external_links, read_strict, score_reference


@pytest.fixture(scope="module")
def trained(cellweave, tmp_path_factory):
    d = tmp_path_factory.mktemp("streamed")
    cellweave("simulate", "--cells", "5000", "--genes", "300", "--batches", "2", "--seed", "3", "-o", d / "sim.h5ad")
    cellweave("train", d / "sim.h5ad", "--batch-key", "batch", "--max-epochs", "3", "--threads", "2", "-o", d / "model")
    cellweave("train", d / "sim.h5ad", "--batch-key", "batch", "--max-epochs", "3", "--threads", "2", "--decoder", "linear", "-o", d / "linear")
    return d


@pytest.mark.parametrize("model", ["model", "linear"])
def test_streamed_embedding_equals_the_in_memory_one(cellweave, trained, tmp_path, model):
    whole, streamed, linked = tmp_path / "whole.h5ad", tmp_path / "streamed.h5ad", tmp_path / "linked.h5ad"
    tables = lambda stem: ("--npy", tmp_path / f"{stem}.npy", "--tsv", tmp_path / f"{stem}.tsv")
    cellweave("embed", trained / model, trained / "sim.h5ad", "-o", whole, "--threads", "2", "--chunk-size", "256", *tables("whole"))
    # 64 KiB: blocks of a few hundred cells, so the stream goes through many blocks, each written as it comes.
    result = cellweave("embed", trained / model, trained / "sim.h5ad", "-o", streamed, "--threads", "2", "--chunk-size", "256", "--max-memory", "64K",
                       *tables("streamed"))
    for suffix in (".npy", ".tsv"):
        assert (tmp_path / f"whole{suffix}").read_bytes() == (tmp_path / f"streamed{suffix}").read_bytes()
    assert np.array_equal(np.load(tmp_path / "streamed.npy"), read_strict(whole).obsm["X_cellweave"])
    assert "blocks" in result.stderr and " 1 blocks" not in result.stderr
    cellweave("embed", trained / model, trained / "sim.h5ad", "-o", linked, "--threads", "2", "--chunk-size", "256", "--max-memory", "1G", "--link-unchanged")
    a = read_strict(whole)
    for path in (streamed, linked):
        b = read_strict(path)
        assert np.array_equal(a.obsm["X_cellweave"], b.obsm["X_cellweave"])
        assert (a.X != b.X).nnz == 0 and a.obs.equals(b.obs) and a.var.equals(b.var)
        if model == "linear":
            np.testing.assert_array_equal(a.varm["cellweave_loadings"], b.varm["cellweave_loadings"])
            assert list(a.uns["cellweave_loadings"]["1"]["positive"]) == list(b.uns["cellweave_loadings"]["1"]["positive"])
            assert a.uns["cellweave_loadings"]["axes"] == b.uns["cellweave_loadings"]["axes"] == "varimax"
    assert external_links(streamed) == []
    assert any(path == "/X" and target.endswith("/sim.h5ad") for path, target in external_links(linked))
    assert linked.stat().st_size < streamed.stat().st_size / 10


def test_a_bad_block_late_in_the_stream_leaves_no_output(cellweave, trained, tmp_path):
    damaged = tmp_path / "damaged.h5ad"
    damaged.write_bytes((trained / "sim.h5ad").read_bytes())
    with h5py.File(damaged, "r+") as f:
        f["X/indices"][-1] = 10**6  # a gene index past the 300 genes, in the last block
    out, npy, tsv = tmp_path / "out.h5ad", tmp_path / "out.npy", tmp_path / "out.tsv"
    out.write_bytes(b"kept")
    result = cellweave("embed", trained / "model", damaged, "-o", out, "--max-memory", "64K", "--npy", npy, "--tsv", tsv, check=False)
    assert result.returncode != 0 and "damaged.h5ad" in result.stderr and "/X" in result.stderr and "rows" in result.stderr
    assert out.read_bytes() == b"kept" and not npy.exists() and not tsv.exists()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_what_streaming_cannot_do_is_refused(cellweave, trained, tmp_path):
    new = tmp_path / "new.h5ad"
    cellweave("simulate", "--cells", "500", "--genes", "300", "--batches", "3", "--seed", "9", "-o", new)
    out = tmp_path / "out.h5ad"
    result = cellweave("embed", trained / "model", new, "-o", out, "--max-memory", "1G", check=False)
    assert result.returncode != 0 and "categories the model has not seen (batch2)" in result.stderr and not out.exists()
    result = cellweave("embed", trained / "model", trained / "sim.h5ad", "-o", out, "--max-memory", "1G", "--corrected-expression", check=False)
    assert result.returncode != 0 and "not with --corrected-expression" in result.stderr and not out.exists()
    result = cellweave("embed", trained / "model", trained / "sim.h5ad", "-o", out, "--max-memory", "lots", check=False)
    assert result.returncode != 0 and "a size such as 1G" in result.stderr
    result = cellweave("score", trained / "model", trained / "sim.h5ad", "-o", out, "--max-memory", "lots", check=False)
    assert result.returncode != 0 and "a size such as 1G" in result.stderr and not out.exists()


def tensors(model):
    with h5py.File(model / "model.h5") as f:
        return {k: f["tensors"][k][()] for k in f["tensors"]}


def test_streamed_training_is_reproducible_and_resumes(cellweave, trained, tmp_path):
    args = ["--batch-key", "batch", "--threads", "2", "--max-memory", "256K", "--seed", "4"]
    result = cellweave("train", trained / "sim.h5ad", *args, "--max-epochs", "4", "-o", tmp_path / "a")
    assert "streaming 5000 cells from /X within 256 KiB: blocks of 128 cells" in result.stderr
    cellweave("train", trained / "sim.h5ad", *args, "--max-epochs", "4", "-o", tmp_path / "b")
    a, b = tensors(tmp_path / "a"), tensors(tmp_path / "b")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    cellweave("train", trained / "sim.h5ad", *args, "--max-epochs", "2", "--checkpoint-every", "1", "-o", tmp_path / "c")
    cellweave("train", trained / "sim.h5ad", *args, "--max-epochs", "4", "--resume", "-o", tmp_path / "c")
    c = tensors(tmp_path / "c")
    assert all(np.array_equal(a[k], c[k]) for k in a)
    # The held-out cells are whole blocks of 128 consecutive cells: 40 blocks, 4 held out.
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["options"]["streaming"]["blockRows"] == 128
    adata = read_strict(trained / "sim.h5ad")
    held = sorted(adata.obs_names.get_indexer(config["validation_cells"]))
    assert len(held) == 4 * 128 and all(held[i + 1] - held[i] == 1 for i in range(len(held)) if (i + 1) % 128)
    history = json.loads((tmp_path / "a" / "history.json").read_text())
    assert all(np.isfinite(e["elbo_validation"]) and "read_wait" in e["phase_seconds"] for e in history["epochs"])
    # The model embeds as any other; a resumed run with another layout is refused.
    cellweave("embed", tmp_path / "a", trained / "sim.h5ad", "-o", tmp_path / "emb.h5ad", "--threads", "2")
    assert np.isfinite(read_strict(tmp_path / "emb.h5ad").obsm["X_cellweave"]).all()
    result = cellweave("train", trained / "sim.h5ad", *args[:-4], "--seed", "4", "--max-epochs", "4", "--resume", "-o", tmp_path / "c", check=False)
    assert result.returncode != 0 and "training options differ" in result.stderr


def test_stages_stream_by_themselves_when_the_counts_do_not_fit(cellweave, trained, tmp_path):
    def run(*args):
        # The counts take 8 MiB in memory; the process may use 2.
        result = subprocess.run([os.environ["CELLWEAVE"], *map(str, args)], capture_output=True, text=True,
                                env=dict(os.environ, CELLWEAVE_MAX_MEMORY="2M"))
        assert result.returncode == 0, result.stderr
        assert "more than the 2 MiB free: streaming them within 1 MiB (--max-memory to choose)" in result.stderr
    run("train", trained / "sim.h5ad", "--batch-key", "batch", "--max-epochs", "1", "--threads", "2", "-o", tmp_path / "m")
    assert (tmp_path / "m" / "model.h5").exists()
    run("embed", trained / "model", trained / "sim.h5ad", "-o", tmp_path / "streamed.h5ad", "--threads", "2")
    cellweave("embed", trained / "model", trained / "sim.h5ad", "-o", tmp_path / "whole.h5ad", "--threads", "2")
    assert np.array_equal(read_strict(tmp_path / "streamed.h5ad").obsm["X_cellweave"], read_strict(tmp_path / "whole.h5ad").obsm["X_cellweave"])
    run("score", trained / "model", trained / "sim.h5ad", "-o", tmp_path / "scored.h5ad", "--threads", "2")
    assert read_strict(tmp_path / "scored.h5ad").obs["anomaly_pvalue"].between(0, 1).all()


def test_what_streamed_training_cannot_do_is_refused(cellweave, trained, tmp_path):
    result = cellweave("train", trained / "sim.h5ad", "--batch-key", "batch", "--max-memory", "lots", "-o", tmp_path / "m", check=False)
    assert result.returncode != 0 and "a size such as 1G" in result.stderr
    cellweave("simulate", "--cells", "300", "--genes", "50", "--proteins", "8", "--seed", "2", "-o", tmp_path / "cite.h5ad")
    result = cellweave("train", tmp_path / "cite.h5ad", "--batch-key", "batch", "--max-memory", "1G", "-o", tmp_path / "m", check=False)
    assert result.returncode != 0 and "models RNA alone" in result.stderr and not (tmp_path / "m").exists()


@pytest.mark.parametrize("reference", REFERENCES)
def test_streamed_scores_equal_the_in_memory_ones(cellweave, trained, tmp_path, reference):
    query, extra = score_reference(cellweave, trained / "sim.h5ad", tmp_path, reference, batches="2")
    common = ["--threads", "2", *extra]
    cellweave("score", trained / "model", query, "-o", tmp_path / "whole.h5ad", "--tsv", tmp_path / "whole.tsv", *common)
    result = cellweave("score", trained / "model", query, "-o", tmp_path / "streamed.h5ad", "--tsv", tmp_path / "streamed.tsv",
                       "--max-memory", "64K", *common)
    assert "streaming" in result.stderr
    a, b = assert_same_scores(tmp_path / "whole.h5ad", tmp_path / "streamed.h5ad", tmp_path / "whole.tsv", tmp_path / "streamed.tsv")
    assert list(b.obs.columns) == list(a.obs.columns) and (a.X != b.X).nnz == 0
    if reference == "held-out":
        # Linked: obs is this file's own group, its input columns linked and the scores added.
        cellweave("score", trained / "model", query, "-o", tmp_path / "linked.h5ad", "--max-memory", "64K", "--link-unchanged", *common)
        c = read_strict(tmp_path / "linked.h5ad")
        assert c.obs.equals(b.obs) and (c.X != b.X).nnz == 0
        links = dict(external_links(tmp_path / "linked.h5ad"))
        assert "/X" in links and "/obs/batch" in links and "/obs/anomaly_score" not in links


@pytest.mark.parametrize("flavor", ["pearson_residuals", "seurat_v3"])
def test_streamed_hvg_equals_the_in_memory_one(cellweave, trained, tmp_path, flavor):
    args = ["--n-top-genes", "50", "--batch-key", "batch", "--flavor", flavor]
    cellweave("hvg", trained / "sim.h5ad", "-o", tmp_path / "whole.h5ad", *args)
    # 64 KiB: blocks of a few dozen cells, every pass over many blocks.
    result = cellweave("hvg", trained / "sim.h5ad", "-o", tmp_path / "streamed.h5ad", "--max-memory", "64K", "--link-unchanged", *args)
    assert "streaming 5000 cells from /X in blocks of" in result.stderr
    a, b = read_strict(tmp_path / "whole.h5ad"), read_strict(tmp_path / "streamed.h5ad")
    assert list(a.var.columns) == list(b.var.columns) and a.var["highly_variable"].sum() == 50
    for column in a.var.columns:
        np.testing.assert_array_equal(a.var[column].to_numpy(), b.var[column].to_numpy())
    assert dict(a.uns["hvg"]) == dict(b.uns["hvg"]) and (a.X != b.X).nnz == 0
    assert ("/X", "sim.h5ad") in [(p, t.split("/")[-1]) for p, t in external_links(tmp_path / "streamed.h5ad")]
    result = cellweave("hvg", trained / "sim.h5ad", "-o", tmp_path / "sub.h5ad", "--max-memory", "1G", "--subset", *args, check=False)
    assert result.returncode != 0 and "not with --subset" in result.stderr


def test_streamed_pca_equals_the_in_memory_one(cellweave, trained, tmp_path):
    args = ["--n-comps", "20", "--chunk-size", "512"]
    cellweave("pca", trained / "sim.h5ad", "-o", tmp_path / "whole.h5ad", *args)
    result = cellweave("pca", trained / "sim.h5ad", "-o", tmp_path / "streamed.h5ad", "--max-memory", "64K", "--link-unchanged", *args)
    assert "streaming 5000 cells from /X in chunks of 512" in result.stderr
    a, b = read_strict(tmp_path / "whole.h5ad"), read_strict(tmp_path / "streamed.h5ad")
    np.testing.assert_array_equal(a.obsm["X_pca"], b.obsm["X_pca"])
    np.testing.assert_array_equal(a.varm["PCs"], b.varm["PCs"])
    np.testing.assert_array_equal(a.uns["pca"]["variance_ratio"], b.uns["pca"]["variance_ratio"])
    assert (a.X != b.X).nnz == 0 and a.obs.equals(b.obs)
    result = cellweave("pca", trained / "sim.h5ad", "-o", tmp_path / "x.h5ad", "--max-memory", "1G", "--use-layer", "counts", check=False)
    assert result.returncode != 0 and "not with --use-layer" in result.stderr
