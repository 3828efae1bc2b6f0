"""QC metrics, Pearson residuals and PCA against scanpy on real 10x data (run by `make test-interop`)."""
import json
from collections import Counter
from html.parser import HTMLParser

import anndata as ad
import numpy as np
import pandas as pd
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
              "--report", out / "qc.html", "--var-names-make-unique", "--min-cells-per-gene", "1")
    return read_strict(out / "qc.h5ad"), json.loads((out / "qc.json").read_text()), (out / "qc.html").read_text()


def test_qc_metrics_equal_scanpy(mouse, qc_run):
    ours, _, _ = qc_run
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
    ours, summary, _ = qc_run
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
def test_qc_report_and_metrics(mouse, qc_run):
    ours, summary, html = qc_run
    parser = TagCounter()
    parser.feed(html)
    assert parser.tags["svg"] == 7 and parser.tags["table"] == 3, parser.tags
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in html
    assert summary["sample"] == "m10k" and summary["cellsAfter"] == ours.n_obs
    assert summary["verdict"] in ("pass", "warn") and ">" + summary["verdict"] + "<" in html
    # Distributions describe the sample before filtering.
    assert summary["metrics"]["total_counts"]["median"] == np.median(mouse.obs["total_counts"])
    assert summary["metrics"]["total_counts"]["mad"] == median_abs_deviation(mouse.obs["total_counts"])


class TagCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = Counter()

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1


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
    for stage in (["pca", "--n-comps", "2"], ["hvg", "--n-top-genes", "2"], ["hvg", "--n-top-genes", "2", "--flavor", "seurat_v3"]):
        result = cellweave(*stage, tmp_path / "one.h5ad", "-o", out, check=False)
        assert result.returncode != 0 and "too few" in result.stderr and not out.exists(), stage
    # QC of a one-cell sample works, and its verdict says what is wrong with it.
    cellweave("qc", tmp_path / "one.h5ad", "--sample", "one", "-o", out, "--metrics", tmp_path / "one.json")
    summary = json.loads((tmp_path / "one.json").read_text())
    assert summary["verdict"] == "warn" and any("fewer than 100" in r for r in summary["verdictReasons"])
    out.unlink()
    # Non-integer counts: refused on request, as scanpy's check_values.
    frac = ad.AnnData(X=sp.csr_matrix(np.array([[1.5, 2.0], [1.0, 3.0]], dtype=np.float32)))
    frac.write_h5ad(tmp_path / "frac.h5ad")
    for stage in (["qc", "--sample", "s"], ["hvg", "--n-top-genes", "1"], ["residuals"], ["pca", "--n-comps", "1"]):
        result = cellweave(*stage, tmp_path / "frac.h5ad", "-o", out, "--non-integer", "refuse", check=False)
        assert result.returncode != 0 and "non-integer" in result.stderr and not out.exists(), stage
    result = cellweave("residuals", tmp_path / "frac.h5ad", "-o", out)  # the default warns and goes on
    assert "warning" in result.stderr and "non-integer" in result.stderr and out.exists()


@pytest.fixture(scope="module")
def batched(filtered, tmp_path_factory):
    """The QC-filtered data with three artificial batches, as a categorical obs column."""
    adata = ad.read_h5ad(filtered)
    adata.obs["batch"] = pd.Categorical([f"b{i % 3}" for i in range(adata.n_obs)])
    path = tmp_path_factory.mktemp("batched") / "batched.h5ad"
    adata.write_h5ad(path)
    return path


FLAVOR_STATISTIC = {"pearson_residuals": "residual_variances", "seurat_v3": "variances_norm"}


def scanpy_hvg(adata, flavor, **kwargs):
    if flavor == "pearson_residuals":
        sc.experimental.pp.highly_variable_genes(adata, flavor=flavor, **kwargs)
    else:
        sc.pp.highly_variable_genes(adata, flavor=flavor, **{k: v for k, v in kwargs.items() if k != "clip"})


@pytest.mark.parametrize("flavor", ["pearson_residuals", "seurat_v3"])
@pytest.mark.parametrize("batch_key", [None, "batch"])
@pytest.mark.parametrize("n_top", [100, 400])
def test_hvg_equals_scanpy(cellweave, batched, tmp_path, flavor, batch_key, n_top):
    args = ["hvg", batched, "-o", tmp_path / "hvg.h5ad", "--n-top-genes", n_top, "--flavor", flavor]
    args += ["--batch-key", batch_key] if batch_key else []
    cellweave(*args)
    ours = read_strict(tmp_path / "hvg.h5ad")
    ref = ad.read_h5ad(batched)
    scanpy_hvg(ref, flavor, n_top_genes=n_top, batch_key=batch_key)
    statistic = FLAVOR_STATISTIC[flavor]
    assert set(ours.var.columns) == set(ref.var.columns)
    for column in ["means", "variances", statistic]:
        np.testing.assert_allclose(ours.var[column], ref.var[column], rtol=1e-9, err_msg=column)
    # Ties excepted: genes whose statistic in a batch equals another's exactly (real data has
    # blocks of them, e.g. genes seen once in one cell) are ranked by gene order in CellWeave and
    # by numpy's unstable argsort in scanpy. A tie that moves a gene in or out of a batch's top can
    # shift the final cut by one gene per such move.
    ranked = ["highly_variable_rank"] + (["highly_variable_nbatches"] if batch_key else [])
    differ = set()
    for column in ranked:
        a, b = ours.var[column].to_numpy(float), ref.var[column].to_numpy(float)
        differ |= set(np.flatnonzero(~np.isclose(a, b, equal_nan=True)))
    tied = tied_at_top(ref, flavor, batch_key, n_top)
    assert differ <= tied, (sorted(differ - tied), sorted(tied))
    selection = np.flatnonzero(ours.var["highly_variable"].to_numpy() != ref.var["highly_variable"].to_numpy())
    assert len(selection) <= 2 * len(differ), (selection, differ)
    if batch_key and flavor == "pearson_residuals":
        assert (ours.var["highly_variable_intersection"] == (ours.var["highly_variable_nbatches"] == 3)).all()
    cellweave(*args, "--subset")
    assert read_strict(tmp_path / "hvg.h5ad").n_vars == n_top


def tied_at_top(adata, flavor, batch_key, n_top):
    """Genes exactly tied in some batch's statistic with another gene, within reach of the top
    n_top, computed with scanpy itself batch by batch (clip as in the joint run)."""
    labels = np.unique(adata.obs[batch_key]) if batch_key else [None]
    first = adata[adata.obs[batch_key] == labels[0]] if batch_key else adata
    tied = set()
    for label in labels:
        part = (adata[adata.obs[batch_key] == label] if batch_key else adata).copy()
        scanpy_hvg(part, flavor, n_top_genes=n_top, clip=np.sqrt(first.n_obs))
        v = part.var[FLAVOR_STATISTIC[flavor]].to_numpy()
        order = np.argsort(-v, kind="stable")
        for g in order[: n_top + 1]:
            same = np.flatnonzero(v == v[g])
            if len(same) > 1:
                tied |= set(same)
    return tied


def test_hvg_bad_requests(cellweave, batched, tmp_path):
    out = tmp_path / "out.h5ad"
    result = cellweave("hvg", batched, "-o", out, "--batch-key", "donor", check=False)
    assert result.returncode != 0 and "no obs column 'donor'" in result.stderr and not out.exists()
    # More genes than there are (a targeted panel, a strict gene filter): every gene, said in the log.
    result = cellweave("hvg", batched, "-o", out, "--n-top-genes", "100000")
    assert "taking every gene" in result.stderr
    assert read_strict(out).var["highly_variable"].all()


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_merge_equals_anndata_concat(cellweave, filtered, tmp_path, join):
    full = ad.read_h5ad(filtered)
    a = full[:4000, :600].copy()
    b = full[4000:, 100:].copy()
    a.obs["sample"] = pd.Categorical(["s1"] * a.n_obs)
    b.obs["sample"] = pd.Categorical(["s2"] * b.n_obs)
    a.write_h5ad(tmp_path / "a.h5ad")
    b.write_h5ad(tmp_path / "b.h5ad")
    cellweave("merge", tmp_path / "a.h5ad", tmp_path / "b.h5ad", "-o", tmp_path / "m.h5ad", "--join", join)
    ours = read_strict(tmp_path / "m.h5ad")
    ref = ad.concat({"s1": a, "s2": b}, join=join, label="sample", index_unique="-")
    assert list(ours.obs_names) == list(ref.obs_names)
    assert sorted(ours.var_names) == sorted(ref.var_names)
    ref = ref[:, ours.var_names]
    assert (ours.X != sp.csr_matrix(ref.X)).nnz == 0
    assert list(ours.obs["sample"]) == list(ref.obs["sample"])
    assert list(ours.obs["sample"].cat.categories) == ["s1", "s2"]
    np.testing.assert_allclose(ours.obs["total_counts"], ref.obs["total_counts"])
    assert list(ours.var["gene_ids"]) == list(full.var.loc[ours.var_names, "gene_ids"])


def test_merge_refuses_clashes(cellweave, filtered, tmp_path):
    out = tmp_path / "m.h5ad"
    result = cellweave("merge", filtered, filtered, "-o", out, check=False)
    assert result.returncode != 0 and "used twice" in result.stderr and not out.exists()


def test_pca_of_a_residual_layer_equals_pca_of_counts(cellweave, filtered, tmp_path):
    cellweave("residuals", filtered, "-o", tmp_path / "res.h5ad")
    cellweave("pca", tmp_path / "res.h5ad", "-o", tmp_path / "a.h5ad", "--use-layer", "pearson_residuals", "--n-comps", "10")
    cellweave("pca", filtered, "-o", tmp_path / "b.h5ad", "--n-comps", "10")
    a, b = read_strict(tmp_path / "a.h5ad"), read_strict(tmp_path / "b.h5ad")
    # The layer is float32, the on-the-fly residuals float64: equal to float32 precision.
    np.testing.assert_allclose(a.uns["pca"]["variance"], b.uns["pca"]["variance"], rtol=1e-5)
    # Running again on its own output replaces X_pca, PCs and uns pca.
    cellweave("pca", tmp_path / "b.h5ad", "-o", tmp_path / "c.h5ad", "--n-comps", "5")
    c = read_strict(tmp_path / "c.h5ad")
    assert c.obsm["X_pca"].shape[1] == 5 and c.varm["PCs"].shape[1] == 5 and len(c.uns["pca"]["variance"]) == 5


def annotated_h5ad(path):
    """40 cells x 30 genes with what analysed files carry beside X: a dense and a sparse obsm, a data
    frame in obsm, varm, obsp and varp; cells 0-19 hold 20 genes, the rest 5."""
    rng = np.random.default_rng(4)
    x = np.zeros((40, 30), dtype=np.float32)
    for i in range(40):
        x[i, rng.choice(30, 20 if i < 20 else 5, replace=False)] = rng.integers(1, 9, 20 if i < 20 else 5)
    a = ad.AnnData(sp.csr_matrix(x), obs=pd.DataFrame(index=[f"c{i}" for i in range(40)]),
                   var=pd.DataFrame(index=[f"g{j}" for j in range(30)]))
    a.obsm["X_pca"] = rng.normal(size=(40, 3))
    a.obsm["protein"] = sp.csr_matrix(rng.integers(0, 4, size=(40, 5)).astype(np.float64))
    a.obsm["frame"] = pd.DataFrame({"u": rng.normal(size=40)}, index=a.obs_names)
    a.varm["PCs"] = rng.normal(size=(30, 3))
    a.obsp["connectivities"] = sp.random(40, 40, density=0.1, random_state=1, format="csr")
    a.varp["genes"] = sp.random(30, 30, density=0.1, random_state=2, format="csr")
    a.write_h5ad(path)
    return a


def test_qc_keeps_what_it_does_not_subset(cellweave, tmp_path):
    src = annotated_h5ad(tmp_path / "in.h5ad")
    # Nothing filtered: every element as it was, float64 bits too.
    r = cellweave("qc", tmp_path / "in.h5ad", "--sample", "s", "-o", tmp_path / "all.h5ad", "--no-outliers")
    assert "warning" not in r.stderr
    out = read_strict(tmp_path / "all.h5ad")
    np.testing.assert_array_equal(out.obsm["X_pca"], src.obsm["X_pca"])
    np.testing.assert_array_equal(out.obsm["protein"].toarray(), src.obsm["protein"].toarray())
    pd.testing.assert_frame_equal(out.obsm["frame"], src.obsm["frame"])
    np.testing.assert_array_equal(out.varm["PCs"], src.varm["PCs"])
    assert (out.obsp["connectivities"] != src.obsp["connectivities"]).nnz == 0 and (out.varp["genes"] != src.varp["genes"]).nnz == 0
    # Cells dropped: sparse obsm subset with them, gene-aligned elements kept; what cannot be subset is named.
    r = cellweave("qc", tmp_path / "in.h5ad", "--sample", "s", "-o", tmp_path / "some.h5ad", "--no-outliers", "--min-genes", "20")
    out = read_strict(tmp_path / "some.h5ad")
    kept = src.obs_names.isin(out.obs_names)
    assert kept.sum() == 20
    np.testing.assert_array_equal(out.obsm["protein"].toarray(), src.obsm["protein"][kept].toarray())
    np.testing.assert_array_equal(out.varm["PCs"], src.varm["PCs"])
    assert "genes" in out.varp and "frame" not in out.obsm and "connectivities" not in out.obsp
    assert "obsm/frame" in r.stderr and "obsp" in r.stderr and "not carried" in r.stderr


@pytest.mark.parametrize("writer", ["pandas", "r"])
def test_qc_annotations_from_pandas_and_r(cellweave, tmp_path, writer):
    src = annotated_h5ad(tmp_path / "in.h5ad")
    cells = list(src.obs_names[:6])
    types = ["CD4+ T, naive", 'B "memory"', "NK", None, "Mono\nclassical", "NK"]
    if writer == "pandas":
        pd.DataFrame({"cell_type": types}, index=pd.Index(cells, name="barcode")).to_csv(tmp_path / "a.csv")
    else:  # R's write.csv: every string quoted, missing as a bare NA, the header's first field empty
        def q(v):
            return "NA" if v is None else '"' + v.replace('"', '""') + '"'
        (tmp_path / "a.csv").write_text('"","cell_type"\r\n' + "".join(f'"{c}",{q(t)}\r\n' for c, t in zip(cells, types)))
    cellweave("qc", tmp_path / "in.h5ad", "--sample", "s", "-o", tmp_path / "q.h5ad", "--annotations", tmp_path / "a.csv")
    got = read_strict(tmp_path / "q.h5ad").obs["cell_type"]
    expected = pd.read_csv(tmp_path / "a.csv", index_col=0)["cell_type"]
    for c in src.obs_names:
        want = expected.get(c, np.nan) if c in expected.index else np.nan
        assert (pd.isna(got[c]) and pd.isna(want)) or got[c] == want, f"{c}: {got[c]!r} vs {want!r}"


def test_qc_annotations_unclosed_quote_names_the_line(cellweave, tmp_path):
    annotated_h5ad(tmp_path / "in.h5ad")
    (tmp_path / "a.csv").write_text('barcode,cell_type\nc0,T\nc1,"B cell\nc2,NK\n')
    r = cellweave("qc", tmp_path / "in.h5ad", "--sample", "s", "-o", tmp_path / "q.h5ad", "--annotations", tmp_path / "a.csv", check=False)
    assert r.returncode != 0 and "a.csv:3" in r.stderr and "not closed" in r.stderr
    assert not (tmp_path / "q.h5ad").exists()
