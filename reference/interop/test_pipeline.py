"""The demo pipeline (pipelines/demo) end to end, as `make run` runs it, checked with the real
clients: the final h5ad opens in anndata/scanpy and scanpy's neighbours, Leiden and plotting
inputs work on it; the copies for R match it; correction improves the batch metrics; the run
report renders in headless Chromium with every link resolving; and make reruns only what changed."""
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scanpy as sc

from conftest import ROOT, external_links, read_strict


def make(out, *args):
    import os
    return subprocess.run(["make", "-f", "pipelines/demo/config.mk", f"OUT={out}", f"CELLWEAVE={os.environ['CELLWEAVE']}", *args],
                          cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    result = make(out, "-j2")
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_final_h5ad_opens_in_scanpy_with_every_part(run):
    adata = read_strict(run / "cellweave.h5ad")
    for column in ["sample", "cell_type", "total_counts", "leiden", "anomaly_score", "anomaly_pvalue", "anomaly_flag"]:
        assert column in adata.obs, column
    assert list(adata.obs["sample"].cat.categories) == ["sampleA", "sampleB", "sampleC"]
    for key in ["X_cellweave", "X_pca", "X_umap", "X_umap_pca"]:
        assert adata.obsm[key].shape[0] == adata.n_obs, key
    assert {"connectivities", "distances"} <= set(adata.obsp)
    # Raw integer counts stay in X.
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X
    assert np.all(x == np.round(x)) and x.sum() > 0
    # scanpy works on it as on its own results.
    sc.tl.leiden(adata, flavor="igraph", n_iterations=2, key_added="leiden_scanpy")
    assert adata.obs["leiden_scanpy"].nunique() > 1
    sc.pp.neighbors(adata, use_rep="X_cellweave", key_added="scanpy")
    assert adata.obsp["scanpy_connectivities"].shape == (adata.n_obs, adata.n_obs)


def test_stages_link_what_they_leave_unchanged(run, tmp_path):
    """The stages between merge and the final file link the counts (and what earlier stages made)
    instead of copying them: the h5ad files outside qc/ take at most 5x merged.h5ad, each still
    opens in anndata as a complete file equal to a copying run's (LINK=), also after the output
    directory moves; the final file stands alone."""
    import shutil
    files = [p for p in run.glob("*.h5ad")]
    merged = (run / "merged.h5ad").stat().st_size
    assert sum(p.stat().st_size for p in files) <= 5 * merged, [(p.name, p.stat().st_size) for p in files]
    assert external_links(run / "cellweave.h5ad") == [] and external_links(run / "merged.h5ad") == []
    clustered = external_links(run / "clustered.h5ad")
    assert ("/X", "merged.h5ad") in clustered and all("/" not in target for _, target in clustered)
    copied = tmp_path / "copied"
    result = make(copied, "-j2", "LINK=")
    assert result.returncode == 0, result.stderr[-3000:]
    moved = tmp_path / "moved"
    shutil.copytree(run, moved)
    for name in ["hvg", "pca", "embedded", "scored", "graph_pca", "layout_pca", "graph", "clustered", "cellweave"]:
        assert external_links(copied / f"{name}.h5ad") == []
        a, b = read_strict(moved / f"{name}.h5ad"), read_strict(copied / f"{name}.h5ad")
        assert (a.X != b.X).nnz == 0 and a.obs_names.equals(b.obs_names) and list(a.obs.columns) == list(b.obs.columns), name
        assert sorted(a.obsm) == sorted(b.obsm) and sorted(a.obsp) == sorted(b.obsp) and sorted(a.uns) == sorted(b.uns), name
        for key in a.obsm:
            assert np.array_equal(np.asarray(a.obsm[key]), np.asarray(b.obsm[key])), (name, key)
        for key in a.obsp:
            assert (a.obsp[key] != b.obsp[key]).nnz == 0, (name, key)
        pd.testing.assert_frame_equal(a.obs, b.obs)


def test_copies_for_r_match_the_h5ad(run):
    adata = read_strict(run / "cellweave.h5ad")
    assert np.allclose(np.load(run / "X_cellweave.npy"), adata.obsm["X_cellweave"])
    umap = pd.read_csv(run / "X_umap.tsv", sep="\t", index_col=0)
    assert list(umap.index) == list(adata.obs_names) and np.allclose(umap.to_numpy(), adata.obsm["X_umap"], atol=1e-5)
    obs = pd.read_csv(run / "cellweave_obs.tsv", sep="\t", index_col=0)
    assert list(obs.index) == list(adata.obs_names) and list(obs["leiden"].astype(str)) == list(adata.obs["leiden"].astype(str))


def test_correction_improves_batch_metrics(run):
    metrics = json.loads((run / "metrics.json").read_text())
    before, after = metrics["embeddings"]["X_pca"], metrics["embeddings"]["X_cellweave"]
    assert metrics["label_key"] == "cell_type" and metrics["order"] == ["X_pca", "X_cellweave"]
    assert after["ilisi"] > before["ilisi"] + 0.3
    assert after["batch_correction"] > before["batch_correction"] and after["total"] > before["total"]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


def test_report_renders_in_chromium_and_links_resolve(run, tmp_path):
    report = run / "report.html"
    links = Links()
    links.feed(report.read_text())
    assert len(links.hrefs) >= 10
    for href in links.hrefs:
        assert (run / href).exists(), href
    chromium = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert chromium.returncode == 0, chromium.stderr[-2000:]
    dom = chromium.stdout
    # Layouts before/after, coloured by sample, cluster, label and anomaly score; the metrics table.
    assert dom.count("<svg") == 8 and 'id="metrics"' in dom and "iLISI" in dom
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600", f"--screenshot={shot}",
                    report.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000  # a page with plots, not a blank one


def test_make_rebuilds_only_what_changed(run):
    assert "Nothing to be done" in make(run, "-q", "pipeline").stdout + make(run, "pipeline").stdout
    (run / "qc" / "sampleB.h5ad").touch()
    planned = make(run, "-n", "pipeline").stdout
    assert "qc reference/demo/samples/sampleB" not in planned and "qc reference/demo/samples/sampleA" not in planned
    assert "merge" in planned and "report" in planned


def test_a_sample_with_bad_counts_stops_with_the_file_named(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "matrix.mtx").write_text("%%MatrixMarket matrix coordinate integer general\n3 2 1\n4 1 5\n")
    (bad / "features.tsv").write_text("g1\tG1\tGene Expression\ng2\tG2\tGene Expression\ng3\tG3\tGene Expression\n")
    (bad / "barcodes.tsv").write_text("c1\nc2\n")
    result = make(tmp_path / "run", f"sampleA_PATH={bad}", "-k")
    assert result.returncode != 0 and "matrix.mtx:3" in result.stderr
    assert not (tmp_path / "run" / "qc" / "sampleA.h5ad").exists()


def test_one_sample_runs_through_without_integration_metrics(cellweave, tmp_path):
    """A single sample has no batches to mix: the run goes through to its report without metrics."""
    sample = tmp_path / "s1.h5ad"
    cellweave("simulate", "--cells", "400", "--genes", "100", "--batches", "1", "--cell-types", "3", "--seed", "2", "-o", sample)
    out = tmp_path / "run"
    import os
    result = subprocess.run(["make", "-f", "pipelines/cellweave.mk", f"OUT={out}", "SAMPLES=s1", f"s1_PATH={sample}", "MAX_EPOCHS=20",
                             f"CELLWEAVE={os.environ['CELLWEAVE']}"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "report.html").exists() and not (out / "metrics.json").exists()
    assert "taking every gene" in result.stderr  # N_TOP_GENES 2000 of a 100-gene panel
    assert read_strict(out / "cellweave.h5ad").n_vars == 100


def test_tiny_samples_run_through_with_what_they_allow(cellweave, tmp_path):
    """Two samples of 12 cells of one type: PCA takes the components there are, score writes
    p-values it cannot flag with (2 held-out cells), and the metrics use every other cell."""
    paths = {}
    for s in (3, 4):
        paths[f"t{s}"] = tmp_path / f"t{s}.h5ad"
        cellweave("simulate", "--cells", "12", "--genes", "300", "--batches", "1", "--cell-types", "1", "--seed", str(s), "-o", paths[f"t{s}"])
    out = tmp_path / "run"
    import os
    result = subprocess.run(["make", "-f", "pipelines/cellweave.mk", f"OUT={out}", "SAMPLES=t3 t4", *[f"{k}_PATH={v}" for k, v in paths.items()],
                             "MAX_EPOCHS=20", f"CELLWEAVE={os.environ['CELLWEAVE']}"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    final = read_strict(out / "cellweave.h5ad")
    n = final.n_obs
    assert f"30 components requested but" in result.stderr and final.obsm["X_pca"].shape[1] == n - 1
    assert "so no cell can be flagged at q <= 0.05" in result.stderr
    assert not final.obs["anomaly_flag"].any() and final.obs["anomaly_pvalue"].between(0, 1).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert all(e["lisi_neighbors"] == n - 1 for e in metrics["embeddings"].values())
    assert (out / "report.html").exists()
