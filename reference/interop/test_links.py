"""--link-unchanged: a stage's output links what it leaves unchanged to the file that stores it,
reads in anndata as a complete file, and never links a file to itself when it replaces it."""
import numpy as np

from conftest import external_links as links, read_strict


def test_links_follow_to_the_store_and_never_point_at_the_file_replaced(cellweave, tmp_path):
    base = tmp_path / "base.h5ad"
    cellweave("simulate", "--cells", "600", "--genes", "100", "--batches", "2", "--seed", "4", "-o", base)
    original = read_strict(base)
    hvg = tmp_path / "sub" / "hvg.h5ad"
    hvg.parent.mkdir()
    cellweave("hvg", base, "-o", hvg, "--n-top-genes", "50", "--link-unchanged")
    assert ("/X", "../base.h5ad") in links(hvg)
    pca = tmp_path / "pca.h5ad"
    cellweave("pca", hvg, "-o", pca, "--n-comps", "5", "--link-unchanged")
    # The link goes to where the counts are stored, not through hvg.h5ad.
    assert ("/X", "base.h5ad") in links(pca) and all(target in ("base.h5ad", "sub/hvg.h5ad") for _, target in links(pca))
    a = read_strict(pca)
    assert (a.X != original.X).nnz == 0 and "highly_variable" in a.var and a.obsm["X_pca"].shape == (600, 5)
    # Replacing the store itself: what it held is written, not linked to itself.
    cellweave("pca", pca, "-o", base, "--n-comps", "4", "--link-unchanged")
    assert all(target != "base.h5ad" for _, target in links(base))
    b = read_strict(base)
    assert (b.X != original.X).nnz == 0 and b.obsm["X_pca"].shape == (600, 4)
    np.testing.assert_array_equal(b.obs["batch"].to_numpy(), original.obs["batch"].to_numpy())
