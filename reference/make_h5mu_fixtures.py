"""Writes small multi-modal fixtures with the real mudata and anndata of the test venv
(reference/requirements.txt), deterministic (fixed seed), into OUT_DIR (reference/fixtures/h5mu):

  citeseq.h5mu        MuData: mod/rna (30 cells x 20 genes, csr float32, var gene_ids and
                      feature_types) and mod/prot (the 24 cells of samples s1 and s2 x 5 proteins,
                      dense float32): the 6 cells of s3 have no protein. Root obs: sample
                      (categorical), batch (categorical); mod/rna/obs: cell_type (categorical),
                      found through the MuData's obs lookup. Root obsm X_test (float64).
  protein_df.h5ad     AnnData as scvi-tools takes CITE-seq: X the RNA counts of all 30 cells, obsm
                      protein_expression a pandas DataFrame (columns = protein names), obs sample,
                      has_protein (bool: False for s3, whose protein row is all zero).
  protein_array.h5ad  The same with obsm protein_expression a float32 array and the names in uns
                      protein_names.

Bad files (into BAD_DIR, default OUT_DIR/../bad), recorded in BAD_DIR/cases.json:
  h5mu_obsmap_range.h5mu      obsmap/prot holds a row beyond mod/prot's 24 cells
  h5mu_cells_mismatch.h5mu    mod/prot holds a cell that is not in the root obs, and no obsmap
  h5mu_protein_empty.h5mu     mod/prot has cells but no count at all
  h5mu_obsmap_float.h5mu      obsmap/prot stored as floats, each row + 0.5 (read as integers they
                              would truncate: 0.5 taken as absent)
  h5ad_protein_index.h5ad     protein_df.h5ad with the first two rows of obsm protein_expression's
                              index swapped (anndata refuses to open it: the rows would be given to
                              each other's cells)

Usage: python reference/make_h5mu_fixtures.py OUT_DIR [--bad BAD_DIR]
"""
import argparse
from pathlib import Path

import anndata as ad
import h5py
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from fixturelib import record_bad_cases

N_CELLS, N_GENES, N_PROTEINS = 30, 20, 5
PROTEINS = [f"CD{i}_TotalSeqB" for i in (3, 4, 8, 14, 19)]


def parts(rng):
    cells = [f"AAACCTG{i:03d}-1" for i in range(N_CELLS)]
    sample = np.array(["s1"] * 12 + ["s2"] * 12 + ["s3"] * 6)
    genes = pd.DataFrame({"gene_ids": [f"ENSG{i:05d}" for i in range(N_GENES)], "feature_types": "Gene Expression"},
                         index=[f"Gene{i}" for i in range(N_GENES)])
    rna = sp.random(N_CELLS, N_GENES, density=0.4, format="csr", random_state=np.random.RandomState(3), dtype=np.float32)
    rna.data = np.ceil(rna.data * 20).astype(np.float32)
    protein = rng.poisson(30, (N_CELLS, N_PROTEINS)).astype(np.float32)
    protein[sample == "s3"] = 0
    protein[0] = 0  # a measured cell with no ADT count: a measurement, not a missing row
    cell_type = pd.Categorical(rng.choice(["T", "B", "NK"], N_CELLS))
    return cells, sample, genes, rna, protein, cell_type


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--bad", type=Path)
    a = p.parse_args()
    out, bad = a.out, a.bad or a.out.parent / "bad"
    out.mkdir(parents=True, exist_ok=True)
    bad.mkdir(parents=True, exist_ok=True)
    md.set_options(pull_on_update=False)
    rng = np.random.default_rng(11)
    cells, sample, genes, rna, protein, cell_type = parts(rng)

    obs_rna = pd.DataFrame({"cell_type": cell_type}, index=cells)
    rna_ad = ad.AnnData(rna, obs=obs_rna, var=genes)
    measured = sample != "s3"
    prot_ad = ad.AnnData(protein[measured], obs=pd.DataFrame(index=np.array(cells)[measured]),
                         var=pd.DataFrame({"feature_types": "Antibody Capture"}, index=PROTEINS))
    mdata = md.MuData({"rna": rna_ad, "prot": prot_ad})
    mdata.obs["sample"] = pd.Categorical(sample)
    mdata.obs["batch"] = pd.Categorical(np.where(sample == "s1", "b1", "b2"))
    mdata.obsm["X_test"] = rng.normal(size=(N_CELLS, 3))
    mdata.write(out / "citeseq.h5mu")

    obs = pd.DataFrame({"sample": pd.Categorical(sample), "has_protein": measured}, index=cells)
    frame = ad.AnnData(rna.copy(), obs=obs.copy(), var=genes.copy())
    frame.obsm["protein_expression"] = pd.DataFrame(protein, index=cells, columns=PROTEINS)
    frame.write_h5ad(out / "protein_df.h5ad")
    array = ad.AnnData(rna.copy(), obs=obs.copy(), var=genes.copy())
    array.obsm["protein_expression"] = protein
    array.uns["protein_names"] = np.array(PROTEINS)
    array.write_h5ad(out / "protein_array.h5ad")

    cases = {}
    path = bad / "h5mu_obsmap_range.h5mu"
    mdata.write(path)
    with h5py.File(path, "r+") as f:
        m = f["obsmap/prot"][:]
        m[1] = 99
        f["obsmap/prot"][...] = m
    cases["h5mu_obsmap_range"] = {"path": path.name, "file": path.name, "hdf5_path": "/obsmap/prot", "says": "1...24",
                                  "error": "obsmap/prot places a cell at row 99 of a 24-cell modality"}
    path = bad / "h5mu_cells_mismatch.h5mu"
    mdata.write(path)
    with h5py.File(path, "r+") as f:
        del f["obsmap"]
        names = f["mod/prot/obs/_index"][:]
        names[2] = b"NOTACELL-1"
        f["mod/prot/obs/_index"][...] = names
    cases["h5mu_cells_mismatch"] = {"path": path.name, "file": path.name, "hdf5_path": "/mod/prot/obs", "says": "NOTACELL-1",
                                    "error": "mod/prot holds a cell the file's obs lacks, with no obsmap to place it"}
    path = bad / "h5mu_protein_empty.h5mu"
    empty = md.MuData({"rna": rna_ad, "prot": ad.AnnData(np.zeros_like(protein[measured]), obs=prot_ad.obs, var=prot_ad.var)})
    empty.write(path)
    cases["h5mu_protein_empty"] = {"path": path.name, "file": path.name, "hdf5_path": "/mod/prot/X", "says": "no counts at all",
                                   "error": "mod/prot holds 24 cells and not one non-zero count"}
    path = bad / "h5mu_obsmap_float.h5mu"
    mdata.write(path)
    with h5py.File(path, "r+") as f:
        m = f["obsmap/prot"][:].astype(np.float64)
        del f["obsmap/prot"]
        f["obsmap/prot"] = np.where(m > 0, m + 0.5, 0.5)
    cases["h5mu_obsmap_float"] = {"path": path.name, "file": path.name, "hdf5_path": "/obsmap/prot", "says": "must hold integers",
                                  "error": "obsmap/prot holds floats (each row + 0.5, absent cells 0.5): truncated, they would misplace cells"}
    path = bad / "h5ad_protein_index.h5ad"
    frame.write_h5ad(path)
    with h5py.File(path, "r+") as f:
        index = f["obsm/protein_expression/_index"]
        first, second = index[0], index[1]
        index[0], index[1] = second, first
    cases["h5ad_protein_index"] = {"path": path.name, "file": path.name, "hdf5_path": "/obsm/protein_expression/_index",
                                   "says": "AAACCTG001-1",
                                   "error": "obsm protein_expression (a data frame) indexed by the obs names with rows 0 and 1 swapped"}
    record_bad_cases(bad, cases)
    for f in sorted(out.iterdir()):
        print(f)


if __name__ == "__main__":
    main()
