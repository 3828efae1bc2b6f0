"""Multi-modal files against the real mudata, muon and anndata: .h5mu read and written, protein
from Cell Ranger's Antibody Capture features and from scvi-tools' obsm protein_expression,
missing protein explicit per cell, and qc/merge/inspect keeping every modality."""
import json
import warnings

import anndata as ad
import h5py
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from conftest import FIXTURES, read_mudata, read_strict

H5MU = FIXTURES / "h5mu"
TENX = FIXTURES / "tenx"
BAD = FIXTURES / "bad"


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def source_mudata():
    md.set_options(pull_on_update=False)
    return md.read_h5mu(H5MU / "citeseq.h5mu")


def test_h5mu_round_trip_opens_in_mudata(cellweave, tmp_path):
    src = source_mudata()
    cellweave("convert", H5MU / "citeseq.h5mu", "-o", tmp_path / "out.h5mu")
    assert (tmp_path / "out.h5mu").read_bytes()[:6] == b"MuData"
    out = read_mudata(tmp_path / "out.h5mu")
    assert list(out.mod) == ["rna", "prot"]
    assert list(out.obs_names) == list(src.obs_names)
    for name in ["rna", "prot"]:
        assert list(out[name].obs_names) == list(src[name].obs_names)
        assert list(out[name].var_names) == list(src[name].var_names)
        np.testing.assert_array_equal(dense(out[name].X), dense(src[name].X))
        np.testing.assert_array_equal(out.obsmap[name], src.obsmap[name])
    pd.testing.assert_frame_equal(out.obs[["sample", "batch"]], src.obs[["sample", "batch"]])
    assert list(out["rna"].obs["cell_type"]) == list(src["rna"].obs["cell_type"])
    np.testing.assert_allclose(out.obsm["X_test"], src.obsm["X_test"])
    assert (out.obsmap["prot"] == 0).sum() == 6  # the s3 cells have no protein


def test_h5mu_opens_in_muon(cellweave, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # muon's own import warns about optional TensorFlow
        import muon
    cellweave("convert", H5MU / "citeseq.h5mu", "-o", tmp_path / "out.h5mu")
    md.set_options(pull_on_update=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = muon.read_h5mu(tmp_path / "out.h5mu")
    assert m["prot"].n_obs == 24 and m["rna"].n_obs == 30


def test_tenx_antibody_capture_is_the_protein_modality(cellweave, tmp_path):
    cellweave("convert", TENX / "v3.h5", "-o", tmp_path / "v3.h5mu", "--var-names-make-unique")
    out = read_mudata(tmp_path / "v3.h5mu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import scanpy as sc
        full = sc.read_10x_h5(TENX / "v3.h5", gex_only=False)
    full.var_names_make_unique()
    adt = full[:, full.var["feature_types"] == "Antibody Capture"]
    gex = full[:, full.var["feature_types"] == "Gene Expression"]
    np.testing.assert_array_equal(dense(out["prot"].X), dense(adt.X))
    np.testing.assert_array_equal(dense(out["rna"].X), dense(gex.X))
    assert list(out["prot"].var_names) == list(adt.var_names)
    # The h5ad of the same input keeps RNA in X and protein the scvi-tools way.
    cellweave("convert", TENX / "v3.h5", "-o", tmp_path / "v3.h5ad", "--var-names-make-unique")
    a = read_strict(tmp_path / "v3.h5ad")
    np.testing.assert_array_equal(a.obsm["protein_expression"], dense(adt.X))
    assert list(a.uns["protein_names"]) == list(adt.var_names)
    assert "protein_measured" not in a.obs  # every cell has the panel


@pytest.mark.parametrize("name", ["protein_df.h5ad", "protein_array.h5ad"])
def test_scvi_protein_expression_with_a_mask(cellweave, tmp_path, name):
    src = ad.read_h5ad(H5MU / name)
    protein = np.asarray(src.obsm["protein_expression"])
    cellweave("convert", H5MU / name, "-o", tmp_path / "out.h5mu", "--modality-mask", "protein=has_protein")
    out = read_mudata(tmp_path / "out.h5mu")
    has = src.obs["has_protein"].to_numpy()
    assert list(out["prot"].obs_names) == list(src.obs_names[has])
    np.testing.assert_array_equal(dense(out["prot"].X), protein[has])
    assert list(out["prot"].var_names) == ["CD3_TotalSeqB", "CD4_TotalSeqB", "CD8_TotalSeqB", "CD14_TotalSeqB", "CD19_TotalSeqB"]
    # A measured all-zero row stays a measurement: cell 0 is kept with zeros.
    assert src.obs_names[0] in out["prot"].obs_names and protein[0].sum() == 0
    # Without the mask every cell is measured (missing is never guessed from zeros).
    cellweave("convert", H5MU / name, "-o", tmp_path / "all.h5mu")
    assert read_mudata(tmp_path / "all.h5mu")["prot"].n_obs == src.n_obs


def test_h5ad_with_missing_protein_reads_back_missing(cellweave, tmp_path):
    cellweave("convert", H5MU / "citeseq.h5mu", "-o", tmp_path / "out.h5ad")
    a = read_strict(tmp_path / "out.h5ad")
    assert a.obsm["protein_expression"].shape == (30, 5)
    assert a.obs["protein_measured"].sum() == 24
    assert a.uns["modality_masks"] == {"protein": "protein_measured"}
    assert (a.obsm["protein_expression"][~a.obs["protein_measured"].to_numpy()] == 0).all()
    summary = json.loads(cellweave("inspect", tmp_path / "out.h5ad", "--json").stdout)
    assert {m["name"]: m["cells"] for m in summary["modalities"]} == {"rna": 30, "prot": 24}


def test_inspect_shows_each_modality(cellweave):
    summary = json.loads(cellweave("inspect", H5MU / "citeseq.h5mu", "--json").stdout)
    assert [(m["name"], m["kind"], m["features"], m["cells"]) for m in summary["modalities"]] == [
        ("rna", "rna", 20, 30), ("prot", "protein", 5, 24)]
    text = cellweave("inspect", H5MU / "citeseq.h5mu").stdout
    assert "prot (protein, 5 features, 24 of 30 cells)" in text


def test_obs_columns_found_in_the_mudata_then_the_rna_obs(cellweave, tmp_path):
    # cell_type lives in mod/rna/obs only; sample in the root obs.
    for key in ["sample", "cell_type"]:
        cellweave("hvg", H5MU / "citeseq.h5mu", "-o", tmp_path / "hvg.h5mu", "--n-top-genes", "5", "--batch-key", key)
    out = read_mudata(tmp_path / "hvg.h5mu")
    assert out["rna"].var["highly_variable"].sum() == 5
    assert out["prot"].n_obs == 24  # the other modality goes along untouched
    np.testing.assert_array_equal(dense(out["prot"].X), dense(source_mudata()["prot"].X))


def test_qc_reports_protein_and_keeps_it_for_the_cells_it_keeps(cellweave, tmp_path):
    cellweave("qc", H5MU / "citeseq.h5mu", "--sample", "s", "-o", tmp_path / "qc.h5mu", "--metrics", tmp_path / "qc.json",
              "--report", tmp_path / "qc.html", "--min-genes", "6")
    src = source_mudata()
    out = read_mudata(tmp_path / "qc.h5mu")
    genes = np.asarray((dense(src["rna"].X) > 0).sum(axis=1)).ravel()
    kept = src.obs_names[genes >= 6]
    assert list(out.obs_names) == list(kept)
    prot_kept = [c for c in src["prot"].obs_names if c in set(kept)]
    assert list(out["prot"].obs_names) == prot_kept
    np.testing.assert_array_equal(dense(out["prot"].X), dense(src["prot"][prot_kept].X))
    totals = dense(src["prot"].X).sum(axis=1)
    np.testing.assert_allclose(out["prot"].obs["total_counts"], totals[src["prot"].obs_names.isin(kept)])
    q = json.loads((tmp_path / "qc.json").read_text())["protein"]
    assert (q["proteins"], q["cellsBefore"], q["cellsAfter"], q["cellsWithoutCounts"]) == (5, 24, len(prot_kept), 1)
    assert q["totalCounts"]["median"] == np.median(totals)
    assert "Surface protein" in (tmp_path / "qc.html").read_text()


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_merge_keeps_protein_missing_for_samples_without_a_panel(cellweave, tmp_path, join):
    def sample(name, cells, genes, proteins=None):
        a = ad.AnnData(sp.csr_matrix(np.ones((cells, genes), dtype=np.float32)), obs=pd.DataFrame(index=[f"{name}{i}" for i in range(cells)]),
                       var=pd.DataFrame(index=[f"Gene{j}" for j in range(genes)]))
        if proteins:
            a.obsm["protein_expression"] = pd.DataFrame(np.full((cells, len(proteins)), 3.0), index=a.obs_names, columns=proteins)
        a.write_h5ad(tmp_path / f"{name}.h5ad")
        return tmp_path / f"{name}.h5ad"
    panel = sample("panel", 5, 10, ["CD3_TotalSeqB", "CD4_TotalSeqB", "CD45_TotalSeqB"])
    plain = sample("plain", 4, 3)
    cellweave("merge", H5MU / "citeseq.h5mu", panel, plain, "-o", tmp_path / "m.h5mu", "--join", join)
    m = read_mudata(tmp_path / "m.h5mu")
    samples = m.obs["sample"].astype(str).to_numpy()
    has = m.obsmap["prot"] > 0
    assert not has[samples == "plain"].any()  # no panel: missing, not zero, whatever --join says
    assert has[samples == "panel"].all()
    assert has[samples == "citeseq"].sum() == 24
    assert m["rna"].n_vars == (3 if join == "inner" else 20)
    cite = set(source_mudata()["prot"].var_names)
    other = {"CD3_TotalSeqB", "CD4_TotalSeqB", "CD45_TotalSeqB"}
    assert set(m["prot"].var_names) == (cite & other if join == "inner" else cite | other)
    a = m["prot"][m["prot"].obs_names.str.startswith("panel")]
    np.testing.assert_array_equal(dense(a[:, ["CD3_TotalSeqB", "CD4_TotalSeqB"]].X), 3.0)


def test_mask_column_must_be_boolean(cellweave, tmp_path):
    out = tmp_path / "out.h5mu"
    r = cellweave("convert", H5MU / "protein_df.h5ad", "-o", out, "--modality-mask", "protein=sample", check=False)
    assert r.returncode != 0
    assert "protein_df.h5ad" in r.stderr and "[/obs/sample]" in r.stderr and "boolean" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_mask_column_in_the_rna_obs_is_named_there(cellweave, tmp_path):
    r = cellweave("convert", H5MU / "citeseq.h5mu", "-o", tmp_path / "out.h5mu", "--modality-mask", "protein=cell_type", check=False)
    assert r.returncode != 0 and "[/mod/rna/obs/cell_type]" in r.stderr and "boolean" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_model_applies_its_mask_to_the_files_it_embeds_and_scores(cellweave, tmp_path):
    # scvi-tools' layout: protein for every cell (zeros where unmeasured), obs has_protein, no uns record of it.
    cellweave("simulate", "-o", tmp_path / "sim.h5ad", "--cells", 300, "--genes", 100, "--proteins", 6, "--batches", 2,
              "--protein-missing-batches", 1, "--seed", 3)
    with h5py.File(tmp_path / "sim.h5ad", "r+") as f:
        del f["uns/modality_masks"]
        f.move("obs/protein_measured", "obs/has_protein")
        f["obs"].attrs["column-order"] = [c if c != "protein_measured" else "has_protein" for c in f["obs"].attrs["column-order"]]
    src = read_strict(tmp_path / "sim.h5ad")
    has = src.obs["has_protein"].to_numpy()
    assert 0 < has.sum() < src.n_obs
    cellweave("train", tmp_path / "sim.h5ad", "--batch-key", "batch", "-o", tmp_path / "model", "--max-epochs", "3",
              "--modality-mask", "protein=has_protein")
    assert json.loads((tmp_path / "model" / "config.json").read_text())["modality_masks"] == {"protein": "has_protein"}
    cellweave("embed", tmp_path / "model", tmp_path / "sim.h5ad", "-o", tmp_path / "emb.h5ad")
    own = read_strict(tmp_path / "emb.h5ad").obsm["X_cellweave_protein"]
    assert np.isnan(own[~has]).all() and np.isfinite(own[has]).all()
    cellweave("score", tmp_path / "model", tmp_path / "sim.h5ad", "-o", tmp_path / "scored.h5ad", "--reference-batch", "batch0")
    used = read_strict(tmp_path / "scored.h5ad").obs["anomaly_modalities"].astype(str).to_numpy()
    assert set(used[~has]) == {"RNA"} and set(used[has]) == {"RNA + protein"}
    # Asked for on the command line, a mask wins over the model's (here: every cell measured).
    src.obs["everyone"] = True
    src.write_h5ad(tmp_path / "all.h5ad")
    cellweave("embed", tmp_path / "model", tmp_path / "all.h5ad", "-o", tmp_path / "all_emb.h5ad", "--modality-mask", "protein=everyone")
    assert np.isfinite(read_strict(tmp_path / "all_emb.h5ad").obsm["X_cellweave_protein"]).all()


def test_merge_takes_a_mask(cellweave, tmp_path):
    cellweave("merge", H5MU / "protein_df.h5ad", "-o", tmp_path / "m.h5mu", "--modality-mask", "protein=has_protein")
    assert read_mudata(tmp_path / "m.h5mu")["prot"].n_obs == 24


def test_protein_only_in_masked_cells_is_no_protein(cellweave, tmp_path):
    src = ad.read_h5ad(H5MU / "protein_df.h5ad")
    has = src.obs["has_protein"].to_numpy()
    protein = src.obsm["protein_expression"].copy()
    protein.loc[has] = 0
    protein.loc[~has] = 4.0
    src.obsm["protein_expression"] = protein
    src.write_h5ad(tmp_path / "in.h5ad")
    r = cellweave("train", tmp_path / "in.h5ad", "--batch-key", "sample", "-o", tmp_path / "model", "--max-epochs", "1",
                  "--modality-mask", "protein=has_protein", check=False)
    assert r.returncode != 0 and "[/obsm/protein_expression]" in r.stderr and "no counts at all" in r.stderr
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("stage", ["qc", "embed", "score"])
def test_stages_check_protein_counts(cellweave, tmp_path, stage):
    m = source_mudata()
    x = dense(m["prot"].X).copy()
    x[2, 1] = np.nan
    m.mod["prot"] = ad.AnnData(x, obs=m["prot"].obs, var=m["prot"].var)
    m.write(tmp_path / "nan.h5mu")
    if stage == "qc":
        args = ["qc", tmp_path / "nan.h5mu", "--sample", "s"]
    else:
        cellweave("train", H5MU / "citeseq.h5mu", "--batch-key", "sample", "-o", tmp_path / "model", "--max-epochs", "2")
        args = [stage, tmp_path / "model", tmp_path / "nan.h5mu"] + (["--reference-batch", "s1"] if stage == "score" else [])
    r = cellweave(*args, "-o", tmp_path / "out.h5mu", check=False)
    assert r.returncode != 0 and "nan.h5mu [/mod/prot/X]" in r.stderr and "finite and non-negative" in r.stderr
    assert not (tmp_path / "out.h5mu").exists()
