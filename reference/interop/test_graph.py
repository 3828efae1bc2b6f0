"""`cellweave neighbors` and `cellweave cluster` against the real scanpy: the kNN graph must be the
one sc.pp.neighbors builds on the same embedding (exact neighbours below 4,096 cells, UMAP
connectivities), and Leiden must reach the modularity of igraph's and leidenalg's Leiden."""
import anndata as ad
import igraph as ig
import leidenalg
import numpy as np
import pytest
import scanpy as sc
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from conftest import read_strict


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """2,400 cells in 12 dimensions: 6 overlapping groups of unequal sizes."""
    rng = np.random.default_rng(5)
    sizes = [700, 550, 450, 350, 250, 100]
    centers = rng.normal(0, 2.2, (len(sizes), 12))
    x = np.vstack([c + rng.normal(0, 1, (n, 12)) for c, n in zip(centers, sizes)]).astype(np.float32)
    adata = ad.AnnData(rng.poisson(1, (x.shape[0], 20)).astype(np.float32))
    adata.obs["group"] = np.repeat(np.arange(len(sizes)), sizes).astype(str)
    adata.obsm["X_cellweave"] = x
    path = tmp_path_factory.mktemp("graph") / "embedded.h5ad"
    adata.write_h5ad(path)
    return path


@pytest.fixture(scope="module")
def graph(embedded, cellweave):
    out = embedded.parent / "neighbors.h5ad"
    cellweave("neighbors", embedded, "-o", out, "--n-neighbors", "15", "--threads", "2")
    clustered = embedded.parent / "clustered.h5ad"
    cellweave("cluster", out, "-o", clustered)
    return out, clustered


def test_neighbors_equal_scanpys(embedded, graph):
    ours = read_strict(graph[0])
    theirs = ad.read_h5ad(embedded)
    sc.pp.neighbors(theirs, n_neighbors=15, use_rep="X_cellweave")
    for key in ["distances", "connectivities"]:
        a, b = sp.csr_matrix(ours.obsp[key]), sp.csr_matrix(theirs.obsp[key])
        assert a.nnz == b.nnz and ((a != 0) != (b != 0)).nnz == 0, key  # the same edges
        assert abs(a - b).max() < 1e-5, key
    assert ours.uns["neighbors"]["params"] == theirs.uns["neighbors"]["params"]
    assert ours.uns["neighbors"]["connectivities_key"] == "connectivities"


def test_scanpy_tools_run_on_the_graph(graph):
    adata = read_strict(graph[0])
    sc.tl.leiden(adata, flavor="igraph", n_iterations=2, random_state=0)
    assert adata.obs["leiden"].nunique() > 1


def test_leiden_reaches_the_modularity_of_igraph_and_leidenalg(graph):
    adata = read_strict(graph[1])
    conn = sp.csr_matrix(adata.obsp["connectivities"])
    sources, targets = conn.nonzero()
    keep = sources < targets
    g = ig.Graph(n=conn.shape[0], edges=list(zip(sources[keep], targets[keep])), directed=False)
    weights = np.asarray(conn[sources[keep], targets[keep]]).ravel()
    ours = adata.obs["leiden"].astype(int).to_numpy()
    la = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights=weights, n_iterations=-1, seed=0)
    igraph = g.community_leiden(objective_function="modularity", weights=weights, n_iterations=2)
    best = max(g.modularity(la.membership, weights=weights), g.modularity(igraph.membership, weights=weights))
    assert g.modularity(ours, weights=weights) >= 0.995 * best
    # Clusters are numbered by decreasing size, as scanpy's are.
    sizes = np.bincount(ours)
    assert np.all(np.diff(sizes) <= 0)
    assert adjusted_rand_score(adata.obs["group"], ours) > 0.8
    # Each cluster is connected in the graph (the refinement's guarantee).
    for c in range(ours.max() + 1):
        members = np.flatnonzero(ours == c)
        n, _ = sp.csgraph.connected_components(conn[members][:, members], directed=False)
        assert n == 1


def test_missing_embedding_and_graph_are_clear_errors(embedded, cellweave, tmp_path):
    out = tmp_path / "out.h5ad"
    result = cellweave("neighbors", embedded, "-o", out, "--use-rep", "X_nope", check=False)
    assert result.returncode != 0 and "no obsm/X_nope" in result.stderr and str(embedded) in result.stderr and not out.exists()
    result = cellweave("cluster", embedded, "-o", out, check=False)
    assert result.returncode != 0 and "/obsp/connectivities" in result.stderr and not out.exists()


def test_float64_matrices_pass_through_a_stage_bit_for_bit(cellweave, tmp_path):
    """A stage that does not change X or an embedding writes them back exactly, float64 included
    (CellWeave computes in float32; unchanged float64 elements are copied as stored)."""
    rng = np.random.default_rng(1)
    x = sp.random(300, 40, density=0.2, format="csr", random_state=1, dtype=np.float64)
    x.data = np.round(x.data * 30) / 3
    adata = ad.AnnData(x)
    adata.layers["scaled"] = rng.normal(size=(300, 40))
    adata.obsm["X_cellweave"] = rng.normal(size=(300, 6))
    adata.write_h5ad(tmp_path / "in.h5ad")
    cellweave("neighbors", tmp_path / "in.h5ad", "-o", tmp_path / "out.h5ad")
    out = read_strict(tmp_path / "out.h5ad")
    assert out.X.dtype == np.float64 and (out.X != x).nnz == 0
    assert np.array_equal(out.layers["scaled"], adata.layers["scaled"])
    assert np.array_equal(out.obsm["X_cellweave"], adata.obsm["X_cellweave"])
