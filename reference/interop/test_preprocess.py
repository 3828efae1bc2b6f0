"""QC metrics, Pearson residuals and PCA against scanpy on real 10x data (run by `make test-interop`)."""
import json

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
import scipy.sparse as sp
from scipy.stats import median_abs_deviation

from conftest import MOUSE10K, read_strict

MT, RIBO = ("MT-", "mt-"), ("RPS", "RPL", "Rps", "Rpl")


@pytest.fixture(scope="module")
def mouse():
    if not MOUSE10K.exists():
        pytest.skip(f"{MOUSE10K} is not here")
    adata = sc.read_10x_mtx(MOUSE10K)
    adata.var["mt"] = adata.var_names.str.startswith(MT)
    adata.var["ribo"] = adata.var_names.str.startswith(RIBO)
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt", "ribo"], percent_top=(50, 100, 200, 500), inplace=True)
    return adata


@pytest.fixture(scope="module")
def qc_run(cellweave, mouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("qc")
    cellweave("qc", MOUSE10K, "--sample", "m10k", "-o", out / "qc.h5ad", "--metrics", out / "qc.json",
              "--var-names-make-unique", "--min-cells-per-gene", "1")
    return read_strict(out / "qc.h5ad"), json.loads((out / "qc.json").read_text())


def test_qc_metrics_equal_scanpy(mouse, qc_run):
    ours, _ = qc_run
    ref = mouse.obs.loc[ours.obs_names]
    for column in ref.columns:
        np.testing.assert_allclose(ours.obs[column].to_numpy(float), ref[column].to_numpy(float), rtol=1e-6, err_msg=column)
    ref_var = mouse.var.copy()
    ref_var.index = ad.utils.make_index_unique(ref_var.index)
    ref_var = ref_var.loc[ours.var_names]
    for column in ["n_cells_by_counts", "mean_counts", "log1p_mean_counts", "pct_dropout_by_counts", "total_counts", "log1p_total_counts"]:
        np.testing.assert_allclose(ours.var[column].to_numpy(float), ref_var[column].to_numpy(float), rtol=1e-6, err_msg=column)
    assert list(ours.var["ribo"]) == list(ref_var["ribo"])
    assert list(ours.obs["sample"].cat.categories) == ["m10k"]


def test_mad_outliers_match_scipy(mouse, qc_run):
    ours, summary = qc_run
    obs = mouse.obs

    def outside(values, n):
        med, mad = np.median(values), median_abs_deviation(values)
        return (values < med - n * mad) | (values > med + n * mad)

    removed = outside(obs["log1p_total_counts"].to_numpy(), 5) | outside(obs["log1p_n_genes_by_counts"].to_numpy(), 5)
    removed |= obs["total_counts"].to_numpy() == 0
    expected = set(obs_names for obs_names in obs.index[removed])
    assert {c["barcode"] for c in summary["removedCells"]} == expected
    assert summary["cellsAfter"] == ours.n_obs == mouse.n_obs - len(expected)
    assert set(ours.obs_names).isdisjoint(expected)
    # Genes are filtered on the cells that remain: none is left empty.
    assert (np.asarray((ours.X > 0).sum(axis=0)).ravel() >= 1).all()


@pytest.fixture(scope="module")
def filtered(qc_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("filtered") / "qc.h5ad"
    qc_run[0].write_h5ad(path)
    return path


def test_pearson_residuals_equal_scanpy(cellweave, filtered, tmp_path):
    cellweave("residuals", filtered, "-o", tmp_path / "res.h5ad")
    ours = read_strict(tmp_path / "res.h5ad")
    ref = ad.read_h5ad(filtered)
    sc.experimental.pp.normalize_pearson_residuals(ref, theta=100)
    assert np.abs(ours.layers["pearson_residuals"] - ref.X).max() < 1e-4
    assert sp.issparse(ours.X)  # the counts stay


def test_pca_on_residuals_equals_scanpy(cellweave, filtered, tmp_path):
    cellweave("pca", filtered, "-o", tmp_path / "pca.h5ad", "--n-comps", "30")
    ours = read_strict(tmp_path / "pca.h5ad")
    ref = ad.read_h5ad(filtered)
    sc.experimental.pp.normalize_pearson_residuals(ref, theta=100)
    sc.pp.pca(ref, n_comps=30)
    np.testing.assert_allclose(ours.uns["pca"]["variance"], ref.uns["pca"]["variance"], rtol=1e-3)
    np.testing.assert_allclose(ours.uns["pca"]["variance_ratio"], ref.uns["pca"]["variance_ratio"], rtol=1e-3)
    # Components equal up to sign; the leading ones (well separated eigenvalues) tightly.
    cos = np.abs(np.sum(ours.varm["PCs"] * ref.varm["PCs"], axis=0))
    assert (cos[:10] > 0.9999).all() and (cos > 0.99).all(), cos
    signs = np.sign(np.sum(ours.varm["PCs"] * ref.varm["PCs"], axis=0))
    np.testing.assert_allclose(ours.obsm["X_pca"][:, :10] * signs[:10], ref.obsm["X_pca"][:, :10], atol=1e-3)


def test_bad_input_for_preprocessing(cellweave, tmp_path):
    if not MOUSE10K.exists():
        pytest.skip(f"{MOUSE10K} is not here")
    out = tmp_path / "out.h5ad"
    # Thresholds that remove every cell: a message, no output.
    result = cellweave("qc", MOUSE10K, "--sample", "s", "-o", out, "--min-counts", "1e9", check=False)
    assert result.returncode != 0 and "no cell passes QC" in result.stderr and not out.exists()
    # Residuals refuse cells or genes without counts and name the fix.
    result = cellweave("residuals", MOUSE10K, "-o", out, check=False)
    assert result.returncode != 0 and "have no counts" in result.stderr and not out.exists()
    # One cell is too few for a PCA.
    one = ad.AnnData(X=sp.csr_matrix(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)))
    one.write_h5ad(tmp_path / "one.h5ad")
    result = cellweave("pca", tmp_path / "one.h5ad", "-o", out, "--n-comps", "2", check=False)
    assert result.returncode != 0 and "too few" in result.stderr and not out.exists()
    # Non-integer counts: refused on request, as scanpy's check_values.
    frac = ad.AnnData(X=sp.csr_matrix(np.array([[1.5, 2.0], [1.0, 3.0]], dtype=np.float32)))
    frac.write_h5ad(tmp_path / "frac.h5ad")
    result = cellweave("qc", tmp_path / "frac.h5ad", "--sample", "s", "-o", out, "--non-integer", "refuse", check=False)
    assert result.returncode != 0 and "non-integer" in result.stderr and not out.exists()
