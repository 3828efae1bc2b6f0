"""Hostile input: structural edits made with h5py (shapes, pointers, indices, lengths, a dense X
whose shape would need terabytes) get a clear error naming the HDF5 path; seeded byte flips and
truncations of real fixtures never crash, hang or leave output behind on failure."""
import random
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from conftest import FIXTURES

SOURCE = FIXTURES / "h5ad" / "csr_float32.h5ad"
# A bounded address space: a read that tried to allocate what the shape says would fail here.
LIMITED = "ulimit -v 8000000; exec \"$0\" \"$@\""


def run(cellweave_binary, *args, timeout=60):
    return subprocess.run(["bash", "-c", LIMITED, cellweave_binary, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def binary():
    import os
    return os.environ["CELLWEAVE"]


def edit_copy(tmp_path, name, edit):
    path = tmp_path / f"{name}.h5ad"
    shutil.copy(SOURCE, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def dense_huge(f):
    del f["X"]
    d = f.create_dataset("X", shape=(f["obs"]["_index"].shape[0], 1 << 36), dtype="f4", chunks=(1, 1 << 16))
    d.attrs["encoding-type"], d.attrs["encoding-version"] = "array", "0.2.0"


EDITS = {
    "sparse shape 2^40": (lambda f: f["X"].attrs.__setitem__("shape", np.array([1 << 40, 1 << 40])), "/X", "indptr"),
    "negative shape": (lambda f: f["X"].attrs.__setitem__("shape", np.array([-5, 3])), "/X", "non-negative"),
    "indptr decreasing": (lambda f: f["X"]["indptr"].__setitem__(2, 0), "/X", "indptr decreases"),
    "index past the shape": (lambda f: f["X"]["indices"].__setitem__(0, 10_000), "/X", "out of range"),
    "negative index": (lambda f: f["X"]["indices"].__setitem__(0, -1), "/X", "out of range"),
    "dense X of 2^36 columns": (dense_huge, "/X", "more than this process may use"),
}


@pytest.mark.parametrize("name", EDITS)
def test_structural_edits_are_refused(binary, tmp_path, name):
    edit, where, says = EDITS[name]
    path = edit_copy(tmp_path, name.replace(" ", "_").replace("^", ""), edit)
    out = tmp_path / "out.h5ad"
    result = run(binary, "convert", path, "-o", out)
    assert result.returncode == 1, result.stderr
    assert f"[{where}" in result.stderr and says in result.stderr, result.stderr
    assert not out.exists()


MUTATIONS = 60


@pytest.mark.parametrize("fixture", ["h5ad/csr_float32.h5ad", "h5ad/csr_gzip.h5ad", "anndata_archives/v0.7.8/adata.h5ad"])
def test_byte_flips_and_truncations_never_crash(binary, tmp_path, fixture):
    data = (FIXTURES / fixture).read_bytes()
    rng = random.Random(fixture)
    outcomes = {"read": 0, "refused": 0}
    for i in range(MUTATIONS):
        mutated = bytearray(data)
        if i % 4 == 3:
            mutated = mutated[: rng.randrange(len(mutated))]
        else:
            for _ in range(rng.choice([1, 4, 32])):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path, out = tmp_path / "mutated.h5ad", tmp_path / "out.h5ad"
        path.write_bytes(bytes(mutated))
        result = run(binary, "convert", path, "-o", out, timeout=60)
        assert result.returncode in (0, 1), f"mutation {i}: exit {result.returncode}\n{result.stderr[-2000:]}"
        if result.returncode == 1:
            assert "Error: " in result.stderr and str(path) in result.stderr, result.stderr
            assert not out.exists()
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1
            out.unlink()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mutated.h5ad"]  # no temporary left behind
    assert outcomes["refused"] > 0


CORRUPT = FIXTURES / "corrupt"


@pytest.mark.parametrize("name", ["hdf5_wild_memcpy.h5ad", "hdf5_wild_memcpy_2.h5ad", "hdf5_heap_corruption.h5ad", "hdf5_loops.h5ad",
                                  "hdf5_loops_in_link_lookup.h5ad"])
def test_files_libhdf5_cannot_survive_are_refused(binary, tmp_path, name):
    import os

    out = tmp_path / "out.h5ad"
    out.write_bytes(b"the previous result")
    env = {**os.environ, "CELLWEAVE_HDF5_READ_TIMEOUT": "3"}  # the loop is caught after 3 s, not 120
    result = subprocess.run([binary, "convert", CORRUPT / name, "-o", out], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and f"{CORRUPT / name}: corrupt HDF5 file: libhdf5" in result.stderr, result.stderr
    assert out.read_bytes() == b"the previous result" and [p.name for p in tmp_path.iterdir()] == ["out.h5ad"]


def test_a_size_line_beyond_memory_is_refused_before_allocating(binary, tmp_path):
    """A 100-byte Matrix Market file whose size line declares 2^31 - 1 barcodes: its row pointers
    would take 34 GB. Under CELLWEAVE_MAX_MEMORY=1G (as under a machine's memory) it is refused at
    the size line instead of an out-of-memory kill; a matrix within the limit reads."""
    import os
    path = tmp_path / "matrix.mtx"
    path.write_text(f"%%MatrixMarket matrix coordinate integer general\n3 {(1 << 31) - 1} 2\n1 1 4\n2 5 1\n")
    env = {**os.environ, "CELLWEAVE_MAX_MEMORY": "1G"}
    result = subprocess.run([binary, "convert", path, "-o", tmp_path / "out.h5ad"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1 and "matrix.mtx:2" in result.stderr and "more than this process may use (1.0 GiB" in result.stderr, result.stderr
    assert not (tmp_path / "out.h5ad").exists()
    path.write_text("%%MatrixMarket matrix coordinate integer general\n3 4 2\n1 1 4\n2 3 1\n")
    ok = subprocess.run([binary, "convert", path, "-o", tmp_path / "out.h5ad"], capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
