"""Data-parallel training (cellweave-mpi under Open MPI's mpirun). One rank trains exactly what
cellweave train does; two ranks, each holding half of the cells and summing batch statistics and
gradients with the other, train the same weights up to the order of summation (at most 1e-4 of
each tensor's largest weight after 5 epochs, the issue's bound); reruns are bit-identical, and a
resumed run continues as if uninterrupted; streamed (--max-memory), each rank reads its blocks of
each window and the ranks train what one streamed process trains. Rank 0 alone writes and logs; bad input stops every
rank with an error and nothing written. Embedding on 1 to 3 ranks, each its share of the cells and
rank 0 gathering, writes what cellweave embed writes, bit for bit; scoring likewise writes the
scores of cellweave score, for every choice of reference cells."""
import json
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import REFERENCES, assert_same_scores, read_strict, score_reference

MPI_ENV = {
    **os.environ,
    # CI runs as root; Open MPI refuses that unless told.
    "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    # Containers often forbid the cross-memory attach of the shared-memory transport's single copy.
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
}


@pytest.fixture(scope="module")
def mpi():
    binary = os.environ.get("CELLWEAVE_MPI")
    if not binary or not Path(binary).exists():
        pytest.fail("set CELLWEAVE_MPI to the cellweave-mpi binary (make test-interop does)")

    def run(ranks, *args, check=True, env=None):
        command = ["mpirun", "--oversubscribe", "-np", str(ranks), binary, *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, env={**MPI_ENV, **(env or {})}, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stderr}")
        return result

    return run


def tensors(model):
    with h5py.File(model / "model.h5") as f:
        out = {}
        f.visititems(lambda name, o: out.__setitem__(name, o[()]) if isinstance(o, h5py.Dataset) and o.dtype.kind == "f" else None)
    assert out
    return out


def assert_weights_close(a, b, what=None):
    """The same tensors, each within 1e-4 of its largest value: the same training up to the order of summation."""
    assert a.keys() == b.keys()
    for name in a:
        scale = np.abs(a[name]).max()
        if scale > 0:
            assert np.abs(a[name] - b[name]).max() / scale <= 1e-4, (what, name)


TRAIN = ["--batch-key", "batch", "--threads", "1", "--seed", "5"]


@pytest.fixture(scope="module")
def data(cellweave, tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi")
    cellweave("simulate", "--cells", "2000", "--genes", "300", "--batches", "3", "--library-size", "800", "--seed", "11", "-o", d / "sim.h5ad")
    cellweave("train", d / "sim.h5ad", *TRAIN, "--max-epochs", "5", "-o", d / "single")
    return d


@pytest.fixture(scope="module")
def two_ranks(mpi, data):
    result = mpi(2, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "5", "-o", data / "two")
    return data / "two", result


def test_one_rank_trains_what_cellweave_train_does(mpi, data, tmp_path):
    mpi(1, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "5", "-o", tmp_path / "one")
    a, b = tensors(data / "single"), tensors(tmp_path / "one")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    history = [json.loads((m / "history.json").read_text())["epochs"] for m in (data / "single", tmp_path / "one")]
    assert [e["loss"] for e in history[0]] == [e["loss"] for e in history[1]]


def test_two_ranks_train_the_weights_of_one(data, two_ranks):
    a, b = tensors(data / "single"), tensors(two_ranks[0])
    assert_weights_close(a, b)
    # The running statistics of the batch norms are those of the global minibatches too.
    assert any("running_mean" in name for name in a)
    # The same cells are held out and the same losses recorded, up to rounding.
    configs = [json.loads((m / "config.json").read_text()) for m in (data / "single", two_ranks[0])]
    assert configs[0]["validation_cells"] == configs[1]["validation_cells"]
    histories = [json.loads((m / "history.json").read_text())["epochs"] for m in (data / "single", two_ranks[0])]
    assert np.allclose([e["elbo_validation"] for e in histories[0]], [e["elbo_validation"] for e in histories[1]], rtol=1e-5)


@pytest.mark.parametrize("ranks, sharing, options", [(3, None, []), (4, "2", ["--gradient-clip", "20"])])
def test_ranks_sharing_a_machines_memory_train_the_weights_of_one(mpi, data, tmp_path, ranks, sharing, options):
    # The ranks of a machine sum the gradients and split Adam's update through shared memory: on 3
    # ranks in uneven shards (each minibatch split 43/43/42 among them); with
    # CELLWEAVE_MPI_SHARED_MEMORY=2, 4 ranks as two machines of two, which also sum each shard
    # across machines, and clipping, whose norm is taken over the shards.
    arguments = [*TRAIN, "--max-epochs", "5", *options]
    mpi(1, "train", data / "sim.h5ad", *arguments, "-o", tmp_path / "one")
    env = {"CELLWEAVE_MPI_SHARED_MEMORY": sharing} if sharing else {}
    mpi(ranks, "train", data / "sim.h5ad", *arguments, "-o", tmp_path / "ranks", env=env)
    assert_weights_close(tensors(tmp_path / "one"), tensors(tmp_path / "ranks"))


def test_two_ranks_without_shared_memory_train_the_same_bits(mpi, data, two_ranks, tmp_path):
    # One allreduce of the whole gradient instead: the same two-term sums, so the same weights.
    mpi(2, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "5", "-o", tmp_path / "off", env={"CELLWEAVE_MPI_SHARED_MEMORY": "off"})
    a, b = tensors(two_ranks[0]), tensors(tmp_path / "off")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_two_ranks_rerun_bit_for_bit_and_rank_zero_alone_writes(mpi, data, two_ranks, tmp_path):
    model, result = two_ranks
    assert result.stderr.count("model written to") == 1
    assert "on each of 2 processes" in result.stderr
    mpi(2, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "5", "-o", tmp_path / "again")
    a, b = tensors(model), tensors(tmp_path / "again")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_resumed_run_continues_as_if_uninterrupted(mpi, data, two_ranks, tmp_path):
    mpi(2, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "3", "--checkpoint-every", "1", "-o", tmp_path / "resumed")
    mpi(2, "train", data / "sim.h5ad", *TRAIN, "--max-epochs", "5", "--resume", "-o", tmp_path / "resumed")
    a, b = tensors(two_ranks[0]), tensors(tmp_path / "resumed")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_the_model_embeds_with_cellweave(cellweave, data, two_ranks, tmp_path):
    out = tmp_path / "embedded.h5ad"
    cellweave("embed", two_ranks[0], data / "sim.h5ad", "-o", out, "--threads", "1")
    single = tmp_path / "single.h5ad"
    cellweave("embed", data / "single", data / "sim.h5ad", "-o", single, "--threads", "1")
    import anndata as ad
    a, b = ad.read_h5ad(single).obsm["X_cellweave"], ad.read_h5ad(out).obsm["X_cellweave"]
    assert np.isfinite(b).all() and np.abs(a - b).max() <= 1e-3 * np.abs(a).max()


@pytest.mark.parametrize("extra, message", [
    (["--batch-key", "no_such_column"], "no_such_column"),
    (["--batch-key", "batch", "--layer", "absent"], "absent"),
])
def test_bad_input_stops_every_rank_and_writes_nothing(mpi, data, tmp_path, extra, message):
    result = mpi(2, "train", data / "sim.h5ad", *extra, "--threads", "1", "--max-epochs", "1", "-o", tmp_path / "model", check=False)
    assert result.returncode != 0 and message in result.stderr
    assert not (tmp_path / "model").exists()


def test_streamed_ranks_train_what_one_streamed_process_trains(cellweave, mpi, data, tmp_path):
    # 64K: windows of one 128-cell block, so on 2 ranks each window is one rank's, which sends half
    # of each minibatch's cells to the other; 4M: windows of several blocks, each rank reading its
    # own. Minibatches of one block make the run's trajectory sensitive to how the rows of a
    # minibatch are split: one process with 2 threads drifts from 1 thread as much as 2 ranks do
    # (7.5e-2 of a tensor's largest weight in 5 epochs here), so for 64K the losses of the first epoch are compared.
    streamed = [*TRAIN, "--max-epochs", "5"]
    cellweave("train", data / "sim.h5ad", *streamed, "--max-memory", "64K", "-o", tmp_path / "process")
    mpi(1, "train", data / "sim.h5ad", *streamed, "--max-memory", "64K", "-o", tmp_path / "one")
    a, b = tensors(tmp_path / "process"), tensors(tmp_path / "one")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    for budget in ("64K", "4M"):
        cellweave("train", data / "sim.h5ad", *streamed, "--max-memory", budget, "-o", tmp_path / f"process{budget}")
        result = mpi(2, "train", data / "sim.h5ad", *streamed, "--max-memory", budget, "-o", tmp_path / f"two{budget}")
        assert "each of 2 processes reading its share" in result.stderr
        if budget == "4M":
            assert_weights_close(tensors(tmp_path / f"process{budget}"), tensors(tmp_path / f"two{budget}"), budget)
        else:
            first = [json.loads((m / "history.json").read_text())["epochs"][0] for m in (tmp_path / f"process{budget}", tmp_path / f"two{budget}")]
            assert np.allclose([first[0]["loss"], first[0]["elbo_validation"]], [first[1]["loss"], first[1]["elbo_validation"]], rtol=1e-5)
        configs = [json.loads((m / "config.json").read_text()) for m in (tmp_path / f"process{budget}", tmp_path / f"two{budget}")]
        assert configs[0]["validation_cells"] == configs[1]["validation_cells"]
        assert configs[0]["options"]["streaming"] == configs[1]["options"]["streaming"]


def test_help_is_printed_once(mpi):
    result = mpi(2, "train", "--help")
    assert result.returncode == 0 and result.stdout.count("OVERVIEW:") == 1 and "--batch-key" in result.stdout


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_ranks_embed_what_cellweave_embed_does(cellweave, mpi, data, tmp_path, ranks):
    # Shares are whole chunks of 256 cells, however the 2,000 cells divide; --max-memory 64K reads
    # each share in several blocks.
    options = ["--threads", "1", "--chunk-size", "256"]
    cellweave("embed", data / "single", data / "sim.h5ad", "-o", tmp_path / "one.h5ad", *options, "--npy", tmp_path / "one.npy")
    result = mpi(ranks, "embed", data / "single", data / "sim.h5ad", "-o", tmp_path / "ranks.h5ad", *options, "--max-memory", "64K",
                 "--npy", tmp_path / "ranks.npy", "--tsv", tmp_path / "ranks.tsv")
    assert result.stderr.count("embedding cells 0..<") == 1  # rank 0 alone logs
    one, many = read_strict(tmp_path / "one.h5ad"), read_strict(tmp_path / "ranks.h5ad")
    assert np.array_equal(one.obsm["X_cellweave"], many.obsm["X_cellweave"]) and (one.X != many.X).nnz == 0 and one.obs.equals(many.obs)
    assert (tmp_path / "one.npy").read_bytes() == (tmp_path / "ranks.npy").read_bytes()
    table = (tmp_path / "ranks.tsv").read_text().splitlines()
    assert len(table) == 2001 and table[1].split("\t")[0] == one.obs_names[0]


def test_what_data_parallel_embed_and_score_cannot_do_is_refused(mpi, data, tmp_path):
    out = tmp_path / "out.h5ad"
    result = mpi(2, "embed", data / "single", data / "sim.h5ad", "-o", out, "--corrected-expression", check=False)
    assert result.returncode != 0 and "not with --corrected-expression" in result.stderr and not out.exists()
    result = mpi(2, "embed", data / "single", data / "missing.h5ad", "-o", out, check=False)
    assert result.returncode != 0 and "missing.h5ad" in result.stderr and not out.exists()
    result = mpi(2, "score", data / "single", data / "sim.h5ad", "-o", out, "--method", "analytic", check=False)
    assert result.returncode != 0 and "data-parallel scoring scores with --method model" in result.stderr and not out.exists()


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("reference", REFERENCES)
def test_ranks_score_what_cellweave_score_does(cellweave, mpi, data, tmp_path, ranks, reference):
    # 2,000 cells are two chunks of 1,024: on 3 ranks the first holds none, and still gathers;
    # held-out cells in another file are read by each rank for its share of that file.
    query, extra = score_reference(cellweave, data / "sim.h5ad", tmp_path, reference, batches="3")
    cellweave("score", data / "single", query, "-o", tmp_path / "one.h5ad", "--tsv", tmp_path / "one.tsv", "--threads", "1", *extra)
    result = mpi(ranks, "score", data / "single", query, "-o", tmp_path / "ranks.h5ad", "--tsv", tmp_path / "ranks.tsv",
                 "--threads", "1", "--max-memory", "64K", *extra)
    assert result.stderr.count("scoring ") == 1  # rank 0 alone logs
    assert_same_scores(tmp_path / "one.h5ad", tmp_path / "ranks.h5ad", tmp_path / "one.tsv", tmp_path / "ranks.tsv")
