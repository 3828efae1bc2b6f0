"""embed --max-memory: counts streamed from the h5ad in blocks give the same embedding as embed
reading them whole; the output opens in anndata with the input's elements (copied as stored, or
linked with --link-unchanged); what streaming cannot do is refused before anything is written."""
import numpy as np
import pytest

from conftest import external_links, read_strict


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
    cellweave("embed", trained / model, trained / "sim.h5ad", "-o", whole, "--threads", "2", "--chunk-size", "256")
    # 64 KiB: blocks of a few hundred cells, so the stream goes through many blocks.
    result = cellweave("embed", trained / model, trained / "sim.h5ad", "-o", streamed, "--threads", "2", "--chunk-size", "256", "--max-memory", "64K")
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
