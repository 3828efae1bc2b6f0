import os
import subprocess
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MOUSE10K = ROOT.parent / "shared" / "data" / "mouse10k_chr1"
FIXTURES = ROOT / "reference" / "fixtures"
H5AD_DIRS = [FIXTURES / "h5ad", FIXTURES / "h5ad_anndata07"]


@pytest.fixture(scope="session")
def cellweave():
    binary = os.environ.get("CELLWEAVE")
    if not binary or not Path(binary).exists():
        pytest.fail("set CELLWEAVE to the cellweave binary (make test-interop does)")

    def run(*args, check=True):
        result = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"cellweave {' '.join(map(str, args))} failed:\n{result.stderr}")
        return result

    return run


def read_strict(path):
    """Reads with the real anndata, turning any warning into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ad.read_h5ad(path)


def read_mudata(path):
    """mudata's reader with warnings as failures. mudata 0.3 warns on every read until the caller
    opts into its future behaviour (pull_on_update=False), whatever the file: that is opted into."""
    import mudata as md

    md.set_options(pull_on_update=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return md.read_h5mu(path)


def external_links(path):
    """(HDF5 path, target file) of every external link in an HDF5 file."""
    import h5py
    found = []
    def walk(group, prefix):
        for key in group:
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                found.append((prefix + "/" + key, link.filename))
            elif isinstance(group[key], h5py.Group):
                walk(group[key], prefix + "/" + key)
    with h5py.File(path, "r") as f:
        walk(f, "")
    return found


# Reference cells of `score` to test a stage against: the held-out cells in the query (the training
# file), those of the training file for another query, one batch of the query, another file.
REFERENCES = ["held-out", "held-out-elsewhere", "batch", "file"]
SCORES = ["anomaly_score", "anomaly_z", "anomaly_pvalue", "anomaly_qvalue", "anomaly_flag"]


def score_reference(cellweave, training_file, tmp_path, reference, batches):
    """(query file, extra score options) for `reference`, simulating what it needs with the
    training file's 300 genes and `batches` batches."""
    if reference == "held-out-elsewhere":
        query = tmp_path / "query.h5ad"
        cellweave("simulate", "--cells", "1500", "--genes", "300", "--batches", batches, "--seed", "8", "-o", query)
        return query, []
    if reference == "batch":
        return training_file, ["--reference-batch", "batch1"]
    if reference == "file":
        cellweave("simulate", "--cells", "2500", "--genes", "300", "--batches", batches, "--seed", "5", "-o", tmp_path / "ref.h5ad")
        return training_file, ["--reference", tmp_path / "ref.h5ad"]
    return training_file, []


def assert_same_scores(a_path, b_path, a_tsv, b_tsv):
    """Two score runs wrote the same scores, bit for bit, TSV included; returns both AnnData."""
    a, b = read_strict(a_path), read_strict(b_path)
    for column in SCORES:
        np.testing.assert_array_equal(a.obs[column].to_numpy(), b.obs[column].to_numpy())
    assert a_tsv.read_text() == b_tsv.read_text()
    assert b.uns["cellweave"]["reference_cells"] == a.uns["cellweave"]["reference_cells"] > 0
    return a, b
