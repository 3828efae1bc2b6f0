"""CellWeave's files against the real anndata, scanpy and scipy (run by `make test-interop`)."""
import json
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.io
import scipy.sparse as sp

from conftest import FIXTURES, H5AD_DIRS, MOUSE10K, read_strict

H5AD = sorted(p for d in H5AD_DIRS for p in d.glob("*.h5ad"))
H5AD_IDS = [f"{p.parent.name}/{p.stem}" for p in H5AD]
TENX = FIXTURES / "tenx"
BAD = FIXTURES / "bad"
BAD_CASES = json.loads((BAD / "cases.json").read_text())


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def sidecar(path):
    return json.loads(path.with_suffix(".expected.json").read_text())


def read_source(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata 0.7 files raise OldFormatWarning
        return ad.read_h5ad(path)


def assert_compatible(actual, expected):
    """Same values, same kind of dtype (float, signed or unsigned integer, bool)."""
    kind = {"u": "i"}
    assert kind.get(actual.dtype.kind, actual.dtype.kind) == kind.get(expected.dtype.kind, expected.dtype.kind), (actual.dtype, expected.dtype)
    np.testing.assert_array_equal(dense(actual), dense(expected))


def assert_same(expected, actual):
    assert actual.shape == expected.shape
    assert sp.issparse(actual.X) == sp.issparse(expected.X)
    assert_compatible(actual.X, expected.X)
    pd.testing.assert_frame_equal(actual.obs, expected.obs)
    pd.testing.assert_frame_equal(actual.var, expected.var)
    assert list(actual.layers) == list(expected.layers)
    for key in expected.layers:
        assert_compatible(actual.layers[key], expected.layers[key])
    assert list(actual.obsm) == list(expected.obsm)
    for key in expected.obsm:
        assert_compatible(actual.obsm[key], expected.obsm[key])
    assert (actual.raw is None) == (expected.raw is None)
    if expected.raw is not None:
        assert_compatible(actual.raw.X, expected.raw.X)
        pd.testing.assert_frame_equal(actual.raw.var, expected.raw.var)
    assert set(actual.uns) == set(expected.uns)


def read_converted(path, unique):
    """Reads with the real anndata; the one warning allowed is that var names repeat, when they
    were not made unique (real 10x gene symbols repeat; scanpy's own files say the same)."""
    if unique:
        return read_strict(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adata = ad.read_h5ad(path)
    assert [str(w.message) for w in caught if "Variable names are not unique" not in str(w.message)] == []
    assert caught, "repeated var names, yet anndata did not warn"
    return adata


# --- real 10x data ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mouse_dir():
    if not MOUSE10K.exists():
        pytest.skip(f"{MOUSE10K} is not here")
    return MOUSE10K


@pytest.mark.parametrize("unique", [True, False])
def test_mouse10k_equals_scipy_and_scanpy(cellweave, mouse_dir, tmp_path, unique):
    out = tmp_path / "mouse.h5ad"
    cellweave("convert", mouse_dir, "-o", out, *(["--var-names-make-unique"] if unique else []))
    ours = read_converted(out, unique)
    expected = scipy.io.mmread(mouse_dir / "matrix.mtx.gz").T.tocsr().astype(np.float32)
    assert sp.issparse(ours.X) and ours.X.format == "csr" and ours.X.dtype == np.float32
    assert (ours.X != expected).nnz == 0

    ref = sc.read_10x_mtx(mouse_dir, var_names="gene_symbols", make_unique=unique)
    assert list(ours.obs_names) == list(ref.obs_names)
    assert list(ours.var_names) == list(ref.var_names)
    assert list(ours.var["gene_ids"]) == list(ref.var["gene_ids"])
    assert list(ours.var["feature_types"]) == list(ref.var["feature_types"])


def test_scanpy_works_on_converted_data(cellweave, mouse_dir, tmp_path):
    out = tmp_path / "mouse.h5ad"
    cellweave("convert", mouse_dir, "-o", out, "--var-names-make-unique", "--compression", "gzip")
    adata = read_strict(out)
    sc.pp.calculate_qc_metrics(adata, inplace=True)
    ref = sc.read_10x_mtx(mouse_dir)
    sc.pp.calculate_qc_metrics(ref, inplace=True)
    np.testing.assert_allclose(adata.obs["total_counts"], ref.obs["total_counts"])
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)


def test_inspect_json_agrees_with_scanpy(cellweave, mouse_dir):
    summary = json.loads(cellweave("inspect", mouse_dir, "--json").stdout)
    ref = sc.read_10x_mtx(mouse_dir)
    totals = np.asarray(ref.X.sum(axis=1)).ravel()
    assert (summary["nObs"], summary["nVars"], summary["nnz"]) == (ref.n_obs, ref.n_vars, ref.X.nnz)
    assert summary["totalCountsPerCell"]["median"] == np.median(totals)
    assert summary["modalities"] == [{"name": "rna", "kind": "rna", "features": 1000, "cells": ref.n_obs, "nnz": ref.X.nnz}]
    assert summary["integerCounts"] is True


# --- h5ad files written by anndata 0.7 and the current anndata ---------------------------------

@pytest.mark.parametrize("source", H5AD, ids=H5AD_IDS)
def test_h5ad_round_trip(cellweave, tmp_path, source):
    cellweave("convert", source, "-o", tmp_path / "out.h5ad")
    assert_same(read_source(source), read_strict(tmp_path / "out.h5ad"))


LAYERS = [(p, layer) for p in H5AD for layer in sidecar(p)["layers"]]


@pytest.mark.parametrize("source,layer", LAYERS, ids=[f"{p.parent.name}/{p.stem}:{layer}" for p, layer in LAYERS])
def test_layer_becomes_x(cellweave, tmp_path, source, layer):
    original = read_source(source)
    cellweave("convert", source, "-o", tmp_path / "out.h5ad", "--layer", layer)
    converted = read_strict(tmp_path / "out.h5ad")
    assert_compatible(converted.X, original.layers[layer])
    pd.testing.assert_frame_equal(converted.obs, original.obs)
    pd.testing.assert_frame_equal(converted.var, original.var)


RAW = [p for p in H5AD if sidecar(p)["raw"] is not None]


@pytest.mark.parametrize("source", RAW, ids=[f"{p.parent.name}/{p.stem}" for p in RAW])
def test_raw_becomes_x(cellweave, tmp_path, source):
    original = read_source(source)
    cellweave("convert", source, "-o", tmp_path / "out.h5ad", "--raw")
    converted = read_strict(tmp_path / "out.h5ad")
    assert_compatible(converted.X, original.raw.X)
    pd.testing.assert_frame_equal(converted.var, original.raw.var)
    pd.testing.assert_frame_equal(converted.obs, original.obs)


def test_export_npy_and_tsv(cellweave, tmp_path):
    source = FIXTURES / "h5ad" / "layers_raw.h5ad"
    original = ad.read_h5ad(source)
    cellweave("export", source, "--obsm", "X_pca", "-o", tmp_path / "pca.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "pca.npy"), original.obsm["X_pca"])
    cellweave("export", source, "--obsm", "X_pca", "-o", tmp_path / "pca.tsv")
    table = pd.read_csv(tmp_path / "pca.tsv", sep="\t", index_col=0)
    assert list(table.index) == list(original.obs_names)
    np.testing.assert_allclose(table.to_numpy(), original.obsm["X_pca"], rtol=1e-6)
    cellweave("export", source, "-o", tmp_path / "obs.tsv")
    obs = pd.read_csv(tmp_path / "obs.tsv", sep="\t", index_col=0)
    assert list(obs.columns) == list(original.obs.columns)
    np.testing.assert_array_equal(obs["n_genes"], original.obs["n_genes"])
    assert list(obs["sample"]) == list(original.obs["sample"].astype(str))


# --- Cell Ranger directories and .h5 ------------------------------------------------------------

def assert_like_scanpy(ours, ref):
    assert sp.issparse(ours.X) and ours.X.format == "csr" and ours.X.dtype == np.float32
    np.testing.assert_array_equal(dense(ours.X), dense(ref.X))
    assert list(ours.obs_names) == list(ref.obs_names)
    assert list(ours.var_names) == list(ref.var_names)
    for column in ref.var.columns:  # scanpy has no feature_types for Cell Ranger 2 files
        assert list(ours.var[column]) == list(ref.var[column]), column


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize("name", ["v3_gz", "v2_plain"])
def test_tenx_dir_equals_scanpy(cellweave, tmp_path, name, unique):
    cellweave("convert", TENX / name, "-o", tmp_path / "out.h5ad", *(["--var-names-make-unique"] if unique else []))
    ours = read_converted(tmp_path / "out.h5ad", unique)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sc.read_10x_mtx(TENX / name, var_names="gene_symbols", make_unique=unique)
    assert_like_scanpy(ours, ref)
    expected = sidecar(TENX / name)["gene_expression"]
    assert list(ours.var_names) == expected["var_names_unique" if unique else "var_names"]


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize("name", ["v3", "v2"])
def test_tenx_h5_equals_scanpy(cellweave, tmp_path, name, unique):
    source = TENX / f"{name}.h5"
    cellweave("convert", source, "-o", tmp_path / "out.h5ad", *(["--var-names-make-unique"] if unique else []))
    ours = read_converted(tmp_path / "out.h5ad", unique)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sc.read_10x_h5(source)
        if unique:
            ref.var_names_make_unique()
    assert_like_scanpy(ours, ref)


def test_tenx_feature_types(cellweave, tmp_path):
    source = TENX / "v3.h5"
    summary = json.loads(cellweave("inspect", source, "--json").stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = sc.read_10x_h5(source, gex_only=False)
    n = full.n_obs
    assert [(m["name"], m["kind"], m["features"], m["cells"]) for m in summary["modalities"]] == [
        ("rna", "rna", 8, n), ("prot", "protein", 3, n)]
    every = json.loads(cellweave("inspect", source, "--json", "--all-features").stdout)
    assert every["modalities"] == [{"name": "Gene Expression", "features": 8}, {"name": "Antibody Capture", "features": 3}]
    cellweave("convert", source, "-o", tmp_path / "adt.h5ad", "--modality", "Antibody Capture")
    adt = read_strict(tmp_path / "adt.h5ad")
    assert_like_scanpy(adt, full[:, full.var["feature_types"] == "Antibody Capture"])
    for source in [TENX / "v3.h5", TENX / "v3_gz"]:
        cellweave("convert", source, "-o", tmp_path / "all.h5ad", "--all-features", "--var-names-make-unique")
        everything = read_strict(tmp_path / "all.h5ad")
        assert list(everything.var["feature_types"]) == list(full.var["feature_types"])
        np.testing.assert_array_equal(dense(everything.X), dense(full.X))


# --- bad input: clear error, non-zero exit, nothing written, nothing lost -----------------------

@pytest.mark.parametrize("name", list(BAD_CASES))
def test_bad_input(cellweave, tmp_path, name):
    case = BAD_CASES[name]
    source = BAD / case["path"]
    out = tmp_path / "out.h5ad"
    result = cellweave("convert", source, "-o", out, check=False)
    assert result.returncode != 0
    where = case["file"] + (f":{case['line']}" if case.get("line") else "")
    for text in [str(source), where, f"[{case['hdf5_path']}]" if case.get("hdf5_path") else "", case["says"]]:
        assert text in result.stderr, f"{text!r} not in: {result.stderr}"
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file left behind

    out.write_bytes(b"the previous result")
    assert cellweave("convert", source, "-o", out, check=False).returncode != 0
    assert out.read_bytes() == b"the previous result"
    assert list(tmp_path.iterdir()) == [out]


def test_text_file_is_not_an_input(cellweave, tmp_path):
    source = tmp_path / "counts.csv"
    source.write_text("a,b\n1,2\n")
    result = cellweave("inspect", source, check=False)
    assert result.returncode != 0 and "counts.csv" in result.stderr


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.float64])
def test_wide_values_survive_a_round_trip(cellweave, tmp_path, dtype):
    # Float32, CellWeave's working type, holds integers only up to 2^24: unchanged elements of wider
    # types are copied as stored.
    x = np.arange(1, 31, dtype=np.float64).reshape(6, 5)
    x[0, 0], x[1, 1] = 2**24 + 1, 123456789
    if dtype == np.float64:
        x[2, 2] = 1.0000874
    a = ad.AnnData(sp.csr_matrix(x.astype(dtype)), obs=pd.DataFrame(index=[f"c{i}" for i in range(6)]),
                   var=pd.DataFrame(index=[f"g{j}" for j in range(5)]))
    a.layers["dense"] = x.astype(dtype)
    a.write_h5ad(tmp_path / "in.h5ad")
    cellweave("convert", tmp_path / "in.h5ad", "-o", tmp_path / "out.h5ad")
    out = read_strict(tmp_path / "out.h5ad")
    assert out.X.dtype == dtype and out.layers["dense"].dtype == dtype
    np.testing.assert_array_equal(out.X.toarray(), a.X.toarray())
    np.testing.assert_array_equal(out.layers["dense"], a.layers["dense"])
