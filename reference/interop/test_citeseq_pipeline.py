"""The CITE-seq pipeline (pipelines/citeseq) end to end, as `make run` runs it after the RNA demo:
Cell Ranger directories with Antibody Capture features (one sample without a panel) through qc,
merge and the RNA + protein model into cellweave.h5mu, checked with the real mudata, anndata and
headless Chromium."""
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT, read_mudata, read_strict


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("citeseq") / "run"
    r = subprocess.run(["make", "-f", "pipelines/citeseq/config.mk", f"OUT={out}", f"CELLWEAVE={os.environ['CELLWEAVE']}", "-j2"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_final_h5mu_opens_in_mudata_with_every_part(run):
    m = read_mudata(run / "cellweave.h5mu")
    assert set(m.mod) == {"rna", "prot"}
    samples = m.obs["sample"].astype(str).to_numpy()
    has = m.obsmap["prot"] > 0
    assert not has[samples == "rnaC"].any() and has[samples != "rnaC"].all()  # no panel: no protein
    for key in ["X_cellweave", "X_cellweave_rna", "X_cellweave_protein", "X_pca", "X_umap", "protein_imputed"]:
        assert m.obsm[key].shape[0] == m.n_obs, key
    assert np.isnan(m.obsm["X_cellweave_protein"][~has]).all()
    assert {"connectivities", "distances"} <= set(m.obsp)
    assert m["prot"].obs["total_counts"].shape[0] == has.sum()  # per-cell protein QC in the modality's obs
    assert set(m.obs["anomaly_modalities"].astype(str)[has]) == {"RNA + protein"}


def test_h5ad_twin_holds_protein_the_scvi_way(run):
    a = read_strict(run / "cellweave.h5ad")
    assert a.obsm["protein_expression"].shape == (a.n_obs, 12)
    assert (a.obs["protein_measured"] == (a.obs["sample"] != "rnaC")).all()


def test_qc_reports_protein_per_sample(run):
    for sample, panel in [("citeA", True), ("rnaC", False)]:
        q = json.loads((run / "qc" / f"{sample}.json").read_text())
        assert ("protein" in q) == panel
        assert ("Surface protein" in (run / "qc" / f"{sample}.html").read_text()) == panel


def test_report_colours_layouts_by_protein(run):
    html = (run / "report.html").read_text()
    assert "measured, log1p" in html and "imputed, log1p" in html and "proteins (cells measured)" in html
    chromium = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (run / "report.html").as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert chromium.returncode == 0, chromium.stderr[-2000:]
    assert chromium.stdout.count("<svg") >= 12
