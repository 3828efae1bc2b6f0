"""`cellweave simulate` output, read and analysed by the real anndata/scanpy."""
import anndata as ad
import numpy as np
import scanpy as sc
from sklearn.metrics import silhouette_score

from conftest import read_strict


def test_simulation_has_types_and_batch_effects(cellweave, tmp_path):
    args = ["simulate", "--cells", "1500", "--genes", "400", "--seed", "7"]
    cellweave(*args, "-o", tmp_path / "a.h5ad")
    cellweave(*args, "-o", tmp_path / "b.h5ad")
    a, b = read_strict(tmp_path / "a.h5ad"), read_strict(tmp_path / "b.h5ad")
    assert (a.X != b.X).nnz == 0  # the seed reproduces the counts
    assert list(a.obs["cell_type"].cat.categories) == ["type0", "type1", "type2", "type3"]
    assert list(a.obs["batch"].cat.categories) == ["batch0", "batch1", "batch2"]
    # Uncorrected, both the cell types and the batches structure the embedding: the batch effect
    # is there for an integration method to remove.
    sc.pp.filter_genes(a, min_cells=1)
    sc.experimental.pp.normalize_pearson_residuals(a)
    sc.pp.pca(a, n_comps=10)
    assert silhouette_score(a.obsm["X_pca"], a.obs["cell_type"]) > 0.1
    assert silhouette_score(a.obsm["X_pca"], a.obs["batch"]) > 0.1
    cellweave(*args[:-1], "8", "-o", tmp_path / "c.h5ad")
    assert (ad.read_h5ad(tmp_path / "c.h5ad").X != b.X).nnz > 0


def test_simulation_without_batch_effect_mixes_batches(cellweave, tmp_path):
    cellweave("simulate", "--cells", "1500", "--genes", "400", "--batch-effect", "0", "-o", tmp_path / "a.h5ad")
    a = read_strict(tmp_path / "a.h5ad")
    sc.pp.filter_genes(a, min_cells=1)
    sc.experimental.pp.normalize_pearson_residuals(a)
    sc.pp.pca(a, n_comps=10)
    assert abs(silhouette_score(a.obsm["X_pca"], a.obs["batch"])) < 0.05
    assert silhouette_score(a.obsm["X_pca"], a.obs["cell_type"]) > 0.1
