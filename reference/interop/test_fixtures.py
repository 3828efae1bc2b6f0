"""The committed fixtures against the real anndata, scanpy and scipy, without CellWeave: each
sidecar says what these readers find, the generators reproduce the committed files, and the bad
inputs are bad (or, where only CellWeave refuses them, known to be accepted elsewhere)."""
import json
import subprocess
import sys
import warnings
from importlib.metadata import version

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
import scipy.io

from conftest import FIXTURES, H5AD_DIRS, ROOT

sys.path.insert(0, str(ROOT / "reference"))
from fixturelib import describe  # noqa: E402

H5AD = sorted(p for d in H5AD_DIRS for p in d.glob("*.h5ad"))
TENX = FIXTURES / "tenx"
BAD = FIXTURES / "bad"
BAD_CASES = json.loads((BAD / "cases.json").read_text())


def load(path):
    return json.loads(path.read_text())


def without_version(d):
    return {k: v for k, v in d.items() if k != "anndata_version"}


@pytest.mark.parametrize("path", H5AD, ids=[f"{p.parent.name}/{p.stem}" for p in H5AD])
def test_h5ad_sidecar_is_what_current_anndata_reads(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata 0.7 files raise OldFormatWarning
        adata = ad.read_h5ad(path)
    expected = load(path.with_suffix(".expected.json"))
    assert without_version(describe(adata, version("anndata"))) == without_version(expected)


def test_current_generator_reproduces_committed_fixtures(tmp_path):
    subprocess.run([sys.executable, ROOT / "reference" / "make_h5ad_fixtures.py", tmp_path / "h5ad"], check=True, capture_output=True)
    subprocess.run([sys.executable, ROOT / "reference" / "make_tenx_fixtures.py", tmp_path / "tenx"], check=True, capture_output=True)
    subprocess.run([sys.executable, ROOT / "reference" / "make_h5mu_fixtures.py", tmp_path / "h5mu"], check=True, capture_output=True)
    for sidecar in (FIXTURES / "h5ad").glob("*.expected.json"):
        assert without_version(load(tmp_path / "h5ad" / sidecar.name)) == without_version(load(sidecar)), sidecar.name
    for sidecar in TENX.glob("*.expected.json"):
        assert load(tmp_path / "tenx" / sidecar.name) == load(sidecar), sidecar.name
    assert load(tmp_path / "bad" / "cases.json") == BAD_CASES
    for name, case in BAD_CASES.items():
        if name.startswith("tenx_"):  # gzip without a time stamp: the same bytes each run
            for f in (BAD / case["path"]).iterdir():
                assert (tmp_path / "bad" / case["path"] / f.name).read_bytes() == f.read_bytes(), f


def check_tenx(adata, expected, gex_only):
    cols = expected["gene_expression"]["features"] if gex_only else list(range(expected["shape"][1]))
    np.testing.assert_array_equal(adata.X.toarray(), np.array(expected["X"])[:, cols])
    assert list(adata.obs_names) == expected["barcodes"]
    assert list(adata.var["gene_ids"]) == [expected["gene_ids"][j] for j in cols]
    assert list(adata.var_names) == [expected["gene_names"][j] for j in cols]
    if "feature_types" in adata.var:
        assert list(adata.var["feature_types"]) == [expected["feature_types"][j] for j in cols]
    if isinstance(expected.get("genome"), list):
        assert list(adata.var["genome"]) == [expected["genome"][j] for j in cols]


@pytest.mark.parametrize("gex_only", [True, False])
@pytest.mark.parametrize("name", ["v3_gz", "v2_plain"])
def test_tenx_dir_sidecar_is_what_scanpy_reads(name, gex_only):
    expected = load(TENX / f"{name}.expected.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scanpy warns that the symbols repeat
        adata = sc.read_10x_mtx(TENX / name, var_names="gene_symbols", make_unique=False, gex_only=gex_only)
    check_tenx(adata, expected, gex_only)
    adata.var_names_make_unique()
    if gex_only:
        assert list(adata.var_names) == expected["gene_expression"]["var_names_unique"]
    scipy_counts = scipy.io.mmread(next((TENX / name).glob("matrix.mtx*"))).T.toarray()
    np.testing.assert_array_equal(scipy_counts, np.array(expected["X"]))


@pytest.mark.parametrize("gex_only", [True, False])
@pytest.mark.parametrize("name", ["v3", "v2"])
def test_tenx_h5_sidecar_is_what_scanpy_reads(name, gex_only):
    expected = load(TENX / f"{name}.expected.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.read_10x_h5(TENX / f"{name}.h5", gex_only=gex_only)
    check_tenx(adata, expected, gex_only or name == "v2")


# Where scipy.io.mmread already fails on the matrix; the others are Matrix Market that scipy
# accepts (array format, negative or fractional values in an integer file) or 10x directory errors.
SCIPY_REJECTS = {"truncated_gzip", "corrupt_gzip", "no_header", "header_symmetric", "size_line", "too_few",
                 "too_many", "index_zero", "index_beyond", "non_numeric"}
SCANPY_ALSO_REJECTS = {"barcode_count", "feature_count", "empty"}  # read_10x_mtx fails on the directory


@pytest.mark.parametrize("name", [n for n in BAD_CASES if n.startswith("tenx_")])
def test_bad_tenx_against_scipy_and_scanpy(name):
    case = name.removeprefix("tenx_")
    d = BAD / BAD_CASES[name]["path"]
    assert sorted(p.name for p in d.iterdir()) == ["barcodes.tsv.gz", "features.tsv.gz", "matrix.mtx.gz"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case in SCIPY_REJECTS:
            with pytest.raises(Exception):
                scipy.io.mmread(d / "matrix.mtx.gz")
        else:
            scipy.io.mmread(d / "matrix.mtx.gz")
        if case in SCIPY_REJECTS | SCANPY_ALSO_REJECTS:
            with pytest.raises(Exception):
                sc.read_10x_mtx(d)
        else:
            sc.read_10x_mtx(d)


@pytest.mark.parametrize("name", [n for n in BAD_CASES if n.startswith("h5ad_")])
def test_bad_h5ad_against_anndata(name):
    path = BAD / BAD_CASES[name]["path"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):
            ad.read_h5ad(path)
