"""Compressed h5ad as users have them: anndata's own archives (LZF), and files whose datasets h5py
compressed with each filter of the hdf5plugin family, read through HDF5's plugins (Debian's
packages, installed by make) and converted to what anndata reads from the originals; a filter no
Debian package decodes is refused by name. Damaged categoricals are refused by HDF5 path."""
import shutil
import warnings

import anndata as ad
import h5py
import hdf5plugin
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from conftest import FIXTURES, read_strict

ARCHIVES = FIXTURES / "anndata_archives"


def read_original(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old on-disk formats warn in current anndata
        return ad.read_h5ad(path)


def dense(m):
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def assert_same(converted, original):
    assert converted.shape == original.shape
    np.testing.assert_array_equal(dense(converted.X), dense(original.X))
    pd.testing.assert_frame_equal(converted.obs, original.obs)
    pd.testing.assert_frame_equal(converted.var, original.var)
    assert set(converted.layers) == set(original.layers)
    for k in original.layers:
        np.testing.assert_array_equal(dense(converted.layers[k]), dense(original.layers[k]))
    for k, v in original.obsm.items():
        if isinstance(v, pd.DataFrame):
            pd.testing.assert_frame_equal(pd.DataFrame(converted.obsm[k]), v)
        else:
            np.testing.assert_array_equal(dense(converted.obsm[k]), dense(v))


@pytest.mark.parametrize("version", ["v0.7.0", "v0.7.8"])
def test_anndata_archives_convert(cellweave, tmp_path, version):
    original = ARCHIVES / version / "adata.h5ad"
    with h5py.File(original) as f:
        assert f["X"]["data"].compression == "lzf"
    out = tmp_path / "out.h5ad"
    cellweave("convert", original, "-o", out)
    # Elements CellWeave carries without interpreting them (obsm's data frame, varm, uns) keep their
    # 0.7 encoding, about which anndata warns; what it reads equals the original.
    assert_same(read_original(out), read_original(original))


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    rng = np.random.default_rng(0)
    a = ad.AnnData(sp.random(60, 40, density=0.3, format="csr", dtype=np.float32, random_state=rng,
                             data_rvs=lambda n: rng.integers(1, 20, n).astype(np.float32)))
    a.obs_names = [f"cell{i}" for i in range(60)]
    a.var_names = [f"gene{j}" for j in range(40)]
    a.obs["batch"] = pd.Categorical(rng.choice(["a", "b", "c"], 60))
    a.obs["depth"] = rng.normal(size=60)
    a.layers["counts"] = a.X.copy()
    a.obsm["X_pca"] = rng.normal(size=(60, 5)).astype(np.float32)
    path = tmp_path_factory.mktemp("filters") / "plain.h5ad"
    a.write_h5ad(path)
    return path


def recompress(plain, path, filter_kwargs):
    """Every numeric dataset rewritten chunked with the filter (strings stay: h5py's variable-length
    strings do not pass through every plugin)."""
    shutil.copy(plain, path)
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and o.dtype.kind in "fiub" and o.shape else None)
        for n in names:
            d = f[n]
            data, attrs = d[()], dict(d.attrs)
            del f[n]
            new = f.create_dataset(n, data=data, chunks=True, **filter_kwargs)
            new.attrs.update(attrs)
    return path


FILTERS = {
    "gzip": {"compression": "gzip"},
    "lzf": {"compression": "lzf"},
    "blosc-lz4-bitshuffle": hdf5plugin.Blosc(cname="lz4", shuffle=hdf5plugin.Blosc.BITSHUFFLE),
    "blosc-zstd": hdf5plugin.Blosc(cname="zstd"),
    "blosc-zlib": hdf5plugin.Blosc(cname="zlib", shuffle=hdf5plugin.Blosc.SHUFFLE),
    "lz4": hdf5plugin.LZ4(),
    "bzip2": hdf5plugin.BZip2(),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filters_read(cellweave, plain, tmp_path, name):
    path = recompress(plain, tmp_path / f"{name}.h5ad", FILTERS[name])
    original = read_strict(path)
    out = tmp_path / "out.h5ad"
    cellweave("convert", path, "-o", out)
    assert_same(read_strict(out), original)


def test_anndata_lzf_and_gzip_writes_read(cellweave, plain, tmp_path):
    for compression in ("lzf", "gzip"):
        path = tmp_path / f"{compression}.h5ad"
        read_strict(plain).write_h5ad(path, compression=compression)
        out = tmp_path / f"out-{compression}.h5ad"
        cellweave("convert", path, "-o", out)
        assert_same(read_strict(out), read_strict(path))


@pytest.mark.parametrize("name,kwargs,label", [("bitshuffle", hdf5plugin.Bitshuffle(), "Bitshuffle (id 32008)"),
                                               ("zstd", hdf5plugin.Zstd(), "Zstandard (id 32015)")])
def test_filter_without_plugin_is_named(cellweave, plain, tmp_path, name, kwargs, label):
    path = recompress(plain, tmp_path / f"{name}.h5ad", kwargs)
    read_strict(path)  # hdf5plugin's own filters read it
    out = tmp_path / "out.h5ad"
    result = cellweave("convert", path, "-o", out, check=False)
    assert result.returncode != 0 and label in result.stderr and "[/" in result.stderr
    assert not out.exists()


def test_categorical_codes_outside_categories_are_refused(cellweave, plain, tmp_path):
    path = tmp_path / "damaged.h5ad"
    shutil.copy(plain, path)
    with h5py.File(path, "r+") as f:
        codes = f["obs/batch/codes"][()]
        codes[7] = 5  # three categories
        f["obs/batch/codes"][...] = codes
    with pytest.raises(ValueError, match="codes need to be between"):
        read_original(path)
    out = tmp_path / "out.h5ad"
    result = cellweave("convert", path, "-o", out, check=False)
    assert result.returncode != 0 and "[/obs/batch/codes]" in result.stderr and "code 5 at row 7" in result.stderr
    assert not out.exists()


def test_archive_without_x_converts(cellweave, tmp_path):
    original = ARCHIVES / "v0.11.4" / "adata.h5ad"
    out = tmp_path / "out.h5ad"
    cellweave("convert", original, "-o", out)
    converted, expected = read_strict(out), read_original(original)
    assert converted.X is None and expected.X is None and converted.shape == expected.shape
    pd.testing.assert_frame_equal(converted.obs, expected.obs)
    pd.testing.assert_frame_equal(converted.var, expected.var)
    assert "X                  none" in cellweave("inspect", original).stdout


def test_stage_without_x_takes_a_layer(cellweave, plain, tmp_path):
    a = read_strict(plain)
    a.X = None  # anndata allows it: counts only in a layer
    path = tmp_path / "nox.h5ad"
    a.write_h5ad(path)
    out = tmp_path / "qc.h5ad"
    result = cellweave("qc", path, "--sample", "s", "-o", out, check=False)
    assert result.returncode != 0 and "[/X]" in result.stderr and "--layer" in result.stderr and "layers: counts" in result.stderr
    assert not out.exists()
    cellweave("hvg", path, "--layer", "counts", "--n-top-genes", "10", "-o", out)
    hvg = read_strict(out)
    np.testing.assert_array_equal(dense(hvg.X), dense(a.layers["counts"]))
    assert hvg.var["highly_variable"].sum() == 10


@pytest.mark.parametrize("compression,h5py_name", [("none", None), ("gzip", "gzip"), ("lzf", "lzf")])
def test_written_compression(cellweave, plain, tmp_path, compression, h5py_name):
    out = tmp_path / "out.h5ad"
    cellweave("convert", plain, "-o", out, "--compression", compression)
    with h5py.File(out) as f:
        for name in ("X/data", "X/indices", "obsm/X_pca", "obs/depth"):
            assert f[name].compression == h5py_name and f[name].chunks is not None, name  # chunked either way
    assert_same(read_strict(out), read_strict(plain))
    staged = tmp_path / "hvg.h5ad"
    cellweave("hvg", out, "-o", staged, "--n-top-genes", "10", "--compression", compression)
    with h5py.File(staged) as f:
        assert f["X/data"].compression == h5py_name
