"""CellWeave's files against the real anndata, scanpy and scipy (run by `make test-interop`)."""
import gzip
import json
import subprocess
import sys

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.io
import scipy.sparse as sp

from conftest import MOUSE10K, ROOT, read_strict

FIXTURES07 = ROOT / "reference" / "fixtures" / "h5ad_anndata07"


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def assert_same(expected, actual):
    assert actual.shape == expected.shape
    assert actual.X.dtype == expected.X.dtype
    np.testing.assert_array_equal(dense(actual.X), dense(expected.X))
    pd.testing.assert_frame_equal(actual.obs, expected.obs)
    pd.testing.assert_frame_equal(actual.var, expected.var)
    assert list(actual.layers) == list(expected.layers)
    for key in expected.layers:
        assert actual.layers[key].dtype == expected.layers[key].dtype
        np.testing.assert_array_equal(dense(actual.layers[key]), dense(expected.layers[key]))
    assert list(actual.obsm) == list(expected.obsm)
    for key in expected.obsm:
        np.testing.assert_array_equal(actual.obsm[key], expected.obsm[key])
    assert (actual.raw is None) == (expected.raw is None)
    if expected.raw is not None:
        np.testing.assert_array_equal(dense(actual.raw.X), dense(expected.raw.X))
        pd.testing.assert_frame_equal(actual.raw.var, expected.raw.var)
    assert set(actual.uns) == set(expected.uns)


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
    if unique:
        ours = read_strict(out)
    else:
        with pytest.warns(UserWarning, match="Variable names are not unique"):
            ours = ad.read_h5ad(out)  # real 10x symbols repeat; anndata says so, as for scanpy's own reading

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
    assert summary["modalities"] == [{"name": "Gene Expression", "features": 1000}]
    assert summary["integerCounts"] is True


# --- h5ad files written by anndata --------------------------------------------------------------

@pytest.fixture(scope="module")
def current_fixtures(tmp_path_factory):
    out = tmp_path_factory.mktemp("h5ad_current")
    subprocess.run([sys.executable, ROOT / "reference" / "make_h5ad_fixtures.py", out], check=True, capture_output=True)
    return out


FIXTURE_NAMES = ["csr_float32", "csc_float64", "dense_float32", "dense_int64", "csr_int32", "csr_gzip", "layers_raw"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_round_trip_current_anndata(cellweave, current_fixtures, tmp_path, name):
    source = current_fixtures / f"{name}.h5ad"
    cellweave("convert", source, "-o", tmp_path / "out.h5ad")
    assert_same(ad.read_h5ad(source), read_strict(tmp_path / "out.h5ad"))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_round_trip_anndata07(cellweave, tmp_path, name):
    source = FIXTURES07 / f"{name}.h5ad"
    cellweave("convert", source, "-o", tmp_path / "out.h5ad")
    assert_same(ad.read_h5ad(source), read_strict(tmp_path / "out.h5ad"))


@pytest.mark.parametrize("directory", ["current", "anndata07"])
def test_layer_and_raw_become_x(cellweave, current_fixtures, tmp_path, directory):
    source = (current_fixtures if directory == "current" else FIXTURES07) / "layers_raw.h5ad"
    original = ad.read_h5ad(source)

    cellweave("convert", source, "-o", tmp_path / "counts.h5ad", "--layer", "counts")
    counts = read_strict(tmp_path / "counts.h5ad")
    np.testing.assert_array_equal(dense(counts.X), dense(original.layers["counts"]))
    assert counts.X.dtype == original.layers["counts"].dtype

    cellweave("convert", source, "-o", tmp_path / "raw.h5ad", "--raw")
    raw = read_strict(tmp_path / "raw.h5ad")
    np.testing.assert_array_equal(dense(raw.X), dense(original.raw.X))
    pd.testing.assert_frame_equal(raw.var, original.raw.var)
    pd.testing.assert_frame_equal(raw.obs, original.obs)


def test_export_npy_and_tsv(cellweave, current_fixtures, tmp_path):
    source = current_fixtures / "layers_raw.h5ad"
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


# --- Cell Ranger .h5 ----------------------------------------------------------------------------

def write_tenx_h5(path, version, rng):
    """A Cell Ranger feature-barcode .h5 laid out as Cell Ranger 2 and 3 write it."""
    n_features, n_cells = 8, 6
    m = sp.random(n_features, n_cells, density=0.4, random_state=np.random.RandomState(1), format="csc")
    m.data = rng.integers(1, 30, m.nnz).astype(np.int32)
    barcodes = np.array([f"AAAC{i:04d}-1".encode() for i in range(n_cells)], dtype="S")
    ids = np.array([f"ENSG{j:03d}".encode() for j in range(n_features)], dtype="S")
    names = np.array([(f"G{j % 6}").encode() for j in range(n_features)], dtype="S")
    with h5py.File(path, "w") as f:
        g = f.create_group("matrix" if version == 3 else "GRCh38")
        g["barcodes"] = barcodes
        g["data"] = m.data
        g["indices"] = m.indices.astype(np.int64)
        g["indptr"] = m.indptr.astype(np.int64)
        g["shape"] = np.array([n_features, n_cells], dtype=np.int32)
        if version == 3:
            feats = g.create_group("features")
            feats["id"] = ids
            feats["name"] = names
            feats["feature_type"] = np.array([b"Gene Expression"] * 6 + [b"Antibody Capture"] * 2, dtype="S")
            feats["genome"] = np.array([b"GRCh38"] * n_features, dtype="S")
            feats["_all_tag_keys"] = np.array([b"genome"], dtype="S")
        else:
            g["genes"] = ids
            g["gene_names"] = names


@pytest.mark.parametrize("version", [2, 3])
def test_tenx_h5_equals_scanpy(cellweave, tmp_path, version):
    source = tmp_path / f"v{version}.h5"
    write_tenx_h5(source, version, np.random.default_rng(version))
    cellweave("convert", source, "-o", tmp_path / "out.h5ad", "--var-names-make-unique")
    ours = read_strict(tmp_path / "out.h5ad")
    ref = sc.read_10x_h5(source)
    ref.var_names_make_unique()
    np.testing.assert_array_equal(dense(ours.X), dense(ref.X))
    assert list(ours.obs_names) == list(ref.obs_names)
    assert list(ours.var_names) == list(ref.var_names)
    assert list(ours.var["gene_ids"]) == list(ref.var["gene_ids"])
    if version == 3:
        assert list(ours.var["feature_types"]) == list(ref.var["feature_types"])
        assert list(ours.var["genome"]) == list(ref.var["genome"])
        summary = json.loads(cellweave("inspect", source, "--json").stdout)
        assert summary["modalities"] == [{"name": "Gene Expression", "features": 6}, {"name": "Antibody Capture", "features": 2}]
        cellweave("convert", source, "-o", tmp_path / "adt.h5ad", "--modality", "Antibody Capture")
        adt = read_strict(tmp_path / "adt.h5ad")
        full = sc.read_10x_h5(source, gex_only=False)
        np.testing.assert_array_equal(dense(adt.X), dense(full[:, full.var["feature_types"] == "Antibody Capture"].X))


# --- bad input: clear error, non-zero exit, nothing written, nothing lost -----------------------

HEADER = "%%MatrixMarket matrix coordinate integer general\n"
GOOD_MATRIX = HEADER + "3 2 3\n1 1 4\n3 1 1\n2 2 9\n"
FEATURES = "E1\tA\tGene Expression\nE2\tB\tGene Expression\nE3\tC\tGene Expression\n"
BARCODES = "AAA-1\nCCC-1\n"


def tenx_dir(root, name, matrix=GOOD_MATRIX, features=FEATURES, barcodes=BARCODES, raw_matrix=None):
    d = root / name
    d.mkdir()
    if raw_matrix is not None:
        (d / "matrix.mtx.gz").write_bytes(raw_matrix)
    else:
        with gzip.open(d / "matrix.mtx.gz", "wt") as f:
            f.write(matrix)
    for file, text in [("features.tsv.gz", features), ("barcodes.tsv.gz", barcodes)]:
        with gzip.open(d / file, "wt") as f:
            f.write(text)
    return d


def big_matrix_gz():
    # Values that do not repeat with a short period, so the stream is long enough to cut.
    lines = [HEADER, "3 2 6000\n"] + [f"{k % 3 + 1} {k % 2 + 1} {k * 7919 % 1009 + 1}\n" for k in range(6000)]
    return gzip.compress("".join(lines).encode())


def corrupt(data):
    data = bytearray(data)
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0x5A
    return bytes(data)


# (case, how to build it, file named in the error, text the error must contain)
BAD_CASES = [
    ("truncated_gzip", dict(raw_matrix=big_matrix_gz()[: len(big_matrix_gz()) // 2]), "matrix.mtx.gz", "truncated"),
    ("corrupt_gzip", dict(raw_matrix=corrupt(big_matrix_gz())), "matrix.mtx.gz", "corrupt"),
    ("no_header", dict(matrix="3 2 1\n1 1 1\n"), "matrix.mtx.gz:1", "%%MatrixMarket"),
    ("array_format", dict(matrix="%%MatrixMarket matrix array integer general\n3 2\n1\n"), "matrix.mtx.gz:1", "coordinate"),
    ("symmetric", dict(matrix="%%MatrixMarket matrix coordinate integer symmetric\n3 2 1\n1 1 1\n"), "matrix.mtx.gz:1", "symmetric"),
    ("size_line", dict(matrix=HEADER + "3 2\n1 1 1\n"), "matrix.mtx.gz:2", "size line"),
    ("too_few", dict(matrix=HEADER + "3 2 4\n1 1 1\n2 2 2\n"), "matrix.mtx.gz:4", "declares 4"),
    ("too_many", dict(matrix=HEADER + "3 2 1\n1 1 1\n2 2 2\n"), "matrix.mtx.gz:4", "more entries"),
    ("index_zero", dict(matrix=HEADER + "3 2 1\n0 1 1\n"), "matrix.mtx.gz:3", "outside 1...3"),
    ("index_beyond", dict(matrix=HEADER + "3 2 1\n1 3 1\n"), "matrix.mtx.gz:3", "outside 1...2"),
    ("non_numeric", dict(matrix=HEADER + "3 2 1\n1 1 many\n"), "matrix.mtx.gz:3", "non-numeric"),
    ("negative", dict(matrix=HEADER + "3 2 1\n1 1 -2\n"), "matrix.mtx.gz:3", "negative"),
    ("non_integer", dict(matrix=HEADER + "3 2 1\n1 1 2.5\n"), "matrix.mtx.gz:3", "non-integer"),
    ("barcode_count", dict(barcodes="AAA-1\n"), "barcodes.tsv.gz", "1 barcodes"),
    ("feature_count", dict(features="E1\tA\tGene Expression\n"), "features.tsv.gz", "1 features"),
    ("duplicate_barcodes", dict(barcodes="AAA-1\nAAA-1\n"), "barcodes.tsv.gz:2", "duplicate barcode"),
    ("empty", dict(matrix=HEADER + "0 0 0\n", features="", barcodes=""), "empty", "empty"),
]


@pytest.mark.parametrize("case,kwargs,where,text", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_10x_input(cellweave, tmp_path, case, kwargs, where, text):
    source = tenx_dir(tmp_path, case, **kwargs)
    out = tmp_path / "out.h5ad"
    result = cellweave("convert", source, "-o", out, check=False)
    assert result.returncode != 0
    assert where in result.stderr and text in result.stderr, result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]

    out.write_bytes(b"the previous result")
    assert cellweave("convert", source, "-o", out, check=False).returncode != 0
    assert out.read_bytes() == b"the previous result"


def write_bad_h5ad(path, case):
    if case == "not_h5ad":
        with h5py.File(path, "w") as f:
            f["temperature"] = np.arange(3.0)
        return
    ad.AnnData(X=sp.csr_matrix(np.eye(2, dtype=np.float32))).write_h5ad(path)
    with h5py.File(path, "r+") as f:
        if case == "no_x":
            del f["X"]
        elif case == "unknown_encoding":
            f["X"].attrs["encoding-type"] = "foo_matrix"


@pytest.mark.parametrize("case,where,text", [
    ("not_h5ad", "[/]", "not an h5ad"),
    ("no_x", "[/X]", "no X"),
    ("unknown_encoding", "[/X]", "foo_matrix"),
])
def test_bad_h5ad_input(cellweave, tmp_path, case, where, text):
    source = tmp_path / f"{case}.h5ad"
    write_bad_h5ad(source, case)
    result = cellweave("convert", source, "-o", tmp_path / "out.h5ad", check=False)
    assert result.returncode != 0
    assert str(source) in result.stderr and where in result.stderr and text in result.stderr, result.stderr
    assert not (tmp_path / "out.h5ad").exists()


def test_text_file_is_not_an_input(cellweave, tmp_path):
    source = tmp_path / "counts.csv"
    source.write_text("a,b\n1,2\n")
    result = cellweave("inspect", source, check=False)
    assert result.returncode != 0 and "counts.csv" in result.stderr
