"""Crash safety: a stage killed with SIGKILL at any moment leaves every earlier output as it was
(an h5ad being rewritten, a model directory being retrained: the old model stays loadable), and
the temporaries of killed runs do not accumulate: the next write of the same output removes them."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import read_strict


@pytest.fixture(scope="module")
def deep(tmp_path_factory, cellweave):
    path = tmp_path_factory.mktemp("crash") / "deep.h5ad"
    cellweave("simulate", "--cells", "8000", "--genes", "2000", "--library-size", "3000", "--seed", "3", "-o", path)
    return path


def kill_after(args, seconds):
    process = subprocess.Popen([os.environ["CELLWEAVE"], *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    return process.wait()


def partials(directory):
    return [p.name for p in directory.iterdir() if ".partial-" in p.name]


def test_killed_convert_leaves_the_previous_output(cellweave, deep, tmp_path):
    out = tmp_path / "out.h5ad"
    cellweave("convert", deep, "-o", out)
    before = out.read_bytes()
    killed = 0
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8):
        if kill_after(["convert", deep, "-o", out, "--compression", "gzip"], delay) == -signal.SIGKILL:
            killed += 1
        assert out.read_bytes() == before, delay
    assert killed >= 3  # most kills landed while the stage ran
    assert partials(tmp_path)  # what a kill leaves ...
    cellweave("convert", deep, "-o", out, "--compression", "gzip")
    assert not partials(tmp_path)  # ... the next run of the stage removes
    assert read_strict(out).n_obs == 8000


def test_killed_retraining_keeps_the_old_model(cellweave, deep, tmp_path):
    model = tmp_path / "model"
    train = ["train", deep, "--batch-key", "batch", "-o", model, "--threads", "2", "--n-hidden", "32"]
    cellweave(*train, "--max-epochs", "1")
    with h5py.File(model / "model.h5") as f:
        old = {k: f["tensors"][k][()] for k in f["tensors"]}
    for delay in (0.3, 1.0, 2.0, 3.5):
        assert kill_after([*train, "--max-epochs", "50", "--checkpoint-every", "1"], delay) == -signal.SIGKILL
        with h5py.File(model / "model.h5") as f:
            assert all(np.array_equal(f["tensors"][k][()], v) for k, v in old.items())
        embedded = tmp_path / "embedded.h5ad"
        cellweave("embed", model, deep, "-o", embedded)  # the old model still loads and embeds
        assert np.isfinite(read_strict(embedded).obsm["X_cellweave"]).all()
    cellweave(*train, "--max-epochs", "2")
    assert not partials(model)


def test_killed_pipeline_leaves_complete_files_and_resumes(tmp_path):
    """SIGKILL to a running `make` of the demo pipeline (every stage process with it): each file it
    left is complete, and the next `make` finishes the run without a temporary left over."""
    from conftest import ROOT

    out = tmp_path / "run"
    command = ["make", "-f", "pipelines/demo/config.mk", f"OUT={out}", f"CELLWEAVE={os.environ['CELLWEAVE']}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not (out / "merged.h5ad").exists() and time.time() < deadline:  # the samples are in, training is ahead
        time.sleep(0.2)
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    left = sorted(out.rglob("*.h5ad"))
    assert left and not (out / "report.html").exists()  # killed mid-way
    for f in left:
        read_strict(f)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "report.html").exists()
    assert not [p for p in out.rglob("*") if ".partial-" in p.name]
