"""Writes tiny Cell Ranger outputs with NAME.expected.json sidecars, and bad Cell Ranger
directories for the error tests. Deterministic; reference/fixtures/tenx/ and the tenx_* entries of
reference/fixtures/bad/ are its output.

Good inputs (OUT_DIR):
  v3_gz/    Cell Ranger 3+ directory: matrix.mtx.gz (with a %metadata_json comment line),
            features.tsv.gz (id, name, feature type; 8 'Gene Expression' + 3 'Antibody Capture'),
            barcodes.tsv.gz. 8 cells, one with no counts; gene symbol Xkr4 appears twice.
  v2_plain/ Cell Ranger 2 directory, not compressed: matrix.mtx, genes.tsv (id, name), barcodes.tsv.
            6 cells x 7 genes, symbol Sox17 twice.
  v3.h5     the v3_gz data as a Cell Ranger 3+ feature-barcode .h5 (group matrix/)
  v2.h5     the v2_plain data as a Cell Ranger 2 .h5 (group mm10/, the genome)
The .h5 files use Cell Ranger's types: strings as fixed-length byte strings (numpy 'S'), data
int32, indices and indptr int64, shape int32 [features, cells], datasets gzip-compressed.

Sidecar (cells x features, every feature type):
  format          cellranger-v3-mtx | cellranger-v2-mtx | cellranger-v3-h5 | cellranger-v2-h5
  shape, nnz      [n_cells, n_features], stored entries
  X               dense counts, one row per cell (integers)
  barcodes, gene_ids, gene_names, feature_types (v2: all 'Gene Expression', not in the files),
  genome          per feature (v3 .h5 only), or the group name (v2 .h5), else absent
  gene_expression what a default read (Gene Expression only, as scanpy's gex_only) gives:
                  features (indices), var_names (symbols), var_names_unique (anndata's
                  var_names_make_unique: Xkr4, Xkr4-1)

Usage: python reference/make_tenx_fixtures.py OUT_DIR [--bad BAD_DIR (default OUT_DIR/../bad)]
"""
import argparse
import gzip
import json
from pathlib import Path

import h5py
import numpy as np
import scipy.sparse as sp

from fixturelib import record_bad_cases, write_json

V3_FEATURES = [  # (id, name, type)
    ("ENSMUSG00000051951", "Xkr4", "Gene Expression"),
    ("ENSMUSG00000089699", "Gm1992", "Gene Expression"),
    ("ENSMUSG00000025900", "Rp1", "Gene Expression"),
    ("ENSMUSG00000025902", "Sox17", "Gene Expression"),
    ("ENSMUSG00000104328", "Gm37323", "Gene Expression"),
    ("ENSMUSG00000033845", "Mrpl15", "Gene Expression"),
    ("ENSMUSG00000099999", "Xkr4", "Gene Expression"),
    ("ENSMUSG00000025903", "Lypla1", "Gene Expression"),
    ("CD3", "CD3_TotalSeqB", "Antibody Capture"),
    ("CD4", "CD4_TotalSeqB", "Antibody Capture"),
    ("CD8a", "CD8a_TotalSeqB", "Antibody Capture"),
]
V2_GENES = [(i, n) for i, n, _ in V3_FEATURES[1:7]] + [("ENSMUSG00000102331", "Sox17")]
GENOME = "mm10"


def barcodes(rng, n):
    return ["".join(rng.choice(list("ACGT"), 16)) + "-1" for _ in range(n)]


def counts(rng, n_features, n_cells, empty_cell=None):
    """features x cells, as Cell Ranger stores them (CSC: one column per barcode)."""
    m = (rng.random((n_features, n_cells)) < 0.45) * rng.integers(1, 40, (n_features, n_cells))
    m[-1, 0] = 1234  # a count with four digits
    if empty_cell is not None:
        m[:, empty_cell] = 0
    return sp.csc_matrix(m.astype(np.int32))


def mtx_text(m: sp.csc_matrix, comment: str) -> str:
    """Matrix Market coordinate integer, entries by barcode (column) then feature, 1-based."""
    lines = ["%%MatrixMarket matrix coordinate integer general\n", comment, f"{m.shape[0]} {m.shape[1]} {m.nnz}\n"]
    for c in range(m.shape[1]):
        for k in range(m.indptr[c], m.indptr[c + 1]):
            lines.append(f"{m.indices[k] + 1} {c + 1} {m.data[k]}\n")
    return "".join(lines)


def write_gz(path: Path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode(), compresslevel=6, mtime=0))  # mtime 0: same bytes each run


def make_unique(names):
    """anndata's var_names_make_unique for these names (no generated name collides with a given one)."""
    seen, out = {}, []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}-{k}")
        seen[n] = k + 1
    return out


def sidecar(fmt, m, bcs, ids, names, types, genome=None):
    gex = [j for j, t in enumerate(types) if t == "Gene Expression"]
    d = {"format": fmt, "shape": [m.shape[1], m.shape[0]], "nnz": int(m.nnz),
         "X": m.T.toarray().tolist(), "barcodes": bcs, "gene_ids": ids, "gene_names": names, "feature_types": types}
    if genome is not None:
        d["genome"] = genome
    d["gene_expression"] = {"features": gex, "var_names": [names[j] for j in gex],
                            "var_names_unique": make_unique([names[j] for j in gex])}
    return d


def h5_strings(values):
    return np.array([v.encode() for v in values], dtype="S")  # fixed length, as Cell Ranger writes


def write_h5_matrix(g, m, bcs):
    g.create_dataset("barcodes", data=h5_strings(bcs))
    g.create_dataset("data", data=m.data.astype(np.int32), compression="gzip")
    g.create_dataset("indices", data=m.indices.astype(np.int64), compression="gzip")
    g.create_dataset("indptr", data=m.indptr.astype(np.int64), compression="gzip")
    g.create_dataset("shape", data=np.array(m.shape, dtype=np.int32))


def write_good(out: Path) -> None:
    rng = np.random.default_rng(10)
    out.mkdir(parents=True, exist_ok=True)

    ids, names, types = (list(col) for col in zip(*V3_FEATURES))
    m3 = counts(rng, len(V3_FEATURES), 8, empty_cell=5)
    bc3 = barcodes(rng, 8)
    d = out / "v3_gz"
    d.mkdir(exist_ok=True)
    write_gz(d / "matrix.mtx.gz", mtx_text(m3, '%metadata_json: {"software_version": "cellranger-7.1.0", "format_version": 2}\n'))
    write_gz(d / "features.tsv.gz", "".join(f"{i}\t{n}\t{t}\n" for i, n, t in V3_FEATURES))
    write_gz(d / "barcodes.tsv.gz", "".join(b + "\n" for b in bc3))
    write_json(out / "v3_gz.expected.json", sidecar("cellranger-v3-mtx", m3, bc3, ids, names, types))

    genomes = [GENOME if t == "Gene Expression" else "" for t in types]
    with h5py.File(out / "v3.h5", "w") as f:
        g = f.create_group("matrix")
        write_h5_matrix(g, m3, bc3)
        feats = g.create_group("features")
        feats.create_dataset("_all_tag_keys", data=h5_strings(["genome"]))
        feats.create_dataset("feature_type", data=h5_strings(types), compression="gzip")
        feats.create_dataset("genome", data=h5_strings(genomes), compression="gzip")
        feats.create_dataset("id", data=h5_strings(ids), compression="gzip")
        feats.create_dataset("name", data=h5_strings(names), compression="gzip")
    write_json(out / "v3.expected.json", sidecar("cellranger-v3-h5", m3, bc3, ids, names, types, genomes))

    ids2, names2 = (list(col) for col in zip(*V2_GENES))
    m2 = counts(rng, len(V2_GENES), 6)
    bc2 = barcodes(rng, 6)
    d = out / "v2_plain"
    d.mkdir(exist_ok=True)
    (d / "matrix.mtx").write_text(mtx_text(m2, "%\n"))
    (d / "genes.tsv").write_text("".join(f"{i}\t{n}\n" for i, n in V2_GENES))
    (d / "barcodes.tsv").write_text("".join(b + "\n" for b in bc2))
    types2 = ["Gene Expression"] * len(V2_GENES)
    write_json(out / "v2_plain.expected.json", sidecar("cellranger-v2-mtx", m2, bc2, ids2, names2, types2))

    with h5py.File(out / "v2.h5", "w") as f:
        g = f.create_group(GENOME)
        write_h5_matrix(g, m2, bc2)
        g.create_dataset("gene_names", data=h5_strings(names2))
        g.create_dataset("genes", data=h5_strings(ids2))
    write_json(out / "v2.expected.json", sidecar("cellranger-v2-h5", m2, bc2, ids2, names2, types2, GENOME))


# --- bad directories: a valid 3 features x 2 cells v3 directory with one thing wrong -------------

HEADER = "%%MatrixMarket matrix coordinate integer general\n"
MATRIX = HEADER + "3 2 3\n1 1 4\n3 1 1\n2 2 9\n"
FEATURES = "".join(f"{i}\t{n}\t{t}\n" for i, n, t in V3_FEATURES[:3])
BARCODES = "AAACCTGAGAAACCAT-1\nAAACCTGAGAAACCGC-1\n"


def long_dir():
    """A valid directory whose matrix.mtx.gz is long enough (about 4 KB) to cut or damage."""
    rng = np.random.default_rng(7)
    m = counts(rng, 20, 60)
    feats = "".join(f"ENSMUSG{j:011d}\tGene{j}\tGene Expression\n" for j in range(20))
    return gzip.compress(mtx_text(m, "").encode(), compresslevel=6, mtime=0), feats, "".join(b + "\n" for b in barcodes(rng, 60))


def damaged(data: bytes) -> bytes:
    """16 bytes in the middle of the deflate stream XOR-ed: zlib reports invalid data there."""
    data = bytearray(data)
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0x5A
    return bytes(data)


def bad_cases():
    """name -> (matrix.mtx.gz bytes or text, features, barcodes, expectation). The expectation:
    file (named in the error), line (named as file:line, if any), says (a phrase the message
    contains), error (what is wrong)."""
    long_gz, long_feats, long_bcs = long_dir()
    one_barcode, one_feature = BARCODES.split("\n")[0] + "\n", FEATURES.split("\n")[0] + "\n"

    def matrix_error(line, says, error):
        return {"file": "matrix.mtx.gz", "line": line, "says": says, "error": error}

    return {
        "truncated_gzip": (long_gz[: len(long_gz) // 2], long_feats, long_bcs, matrix_error(
            None, "truncated", "gzip stream cut in half: unexpected end of file")),
        "corrupt_gzip": (damaged(long_gz), long_feats, long_bcs, matrix_error(
            None, "corrupt", "16 bytes flipped in the middle of the deflate stream; zlib finds it only at the "
            "end (data check), after inflating garbage, so a reader that parses while it inflates may hit a "
            "malformed line first: report the gzip error")),
        "no_header": ("3 2 3\n1 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            1, "%%MatrixMarket", "line 1 is the size line: the %%MatrixMarket header is missing")),
        "header_array": ("%%MatrixMarket matrix array real general\n3 2\n4\n0\n1\n0\n9\n0\n", FEATURES, BARCODES, matrix_error(
            1, "coordinate", "array (dense) format; only coordinate is a count matrix")),
        "header_symmetric": ("%%MatrixMarket matrix coordinate real symmetric\n3 2 3\n1 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            1, "symmetric", "symmetric; only general is supported")),
        "size_line": (HEADER + "3 2\n1 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            2, "size line", "size line with 2 numbers, not rows columns entries")),
        "too_few": (HEADER + "3 2 4\n1 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            5, "declares 4", "size line declares 4 entries, the file ends after 3")),
        "too_many": (HEADER + "3 2 2\n1 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            5, "more entries", "size line declares 2 entries, line 5 is a third")),
        "index_zero": (HEADER + "3 2 3\n0 1 4\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            3, "outside 1...3", "row index 0 (indices are 1-based)")),
        "index_beyond": (HEADER + "3 2 3\n1 1 4\n3 1 1\n2 3 9\n", FEATURES, BARCODES, matrix_error(
            5, "outside 1...2", "column index 3 in a matrix of 2 columns")),
        "non_numeric": (HEADER + "3 2 3\n1 1 many\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            3, "non-numeric", "value 'many'")),
        "negative": (HEADER + "3 2 3\n1 1 -2\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            3, "negative", "value -2 in an integer (count) matrix")),
        "non_integer": (HEADER + "3 2 3\n1 1 2.5\n3 1 1\n2 2 9\n", FEATURES, BARCODES, matrix_error(
            3, "non-integer", "value 2.5 in an integer matrix")),
        "barcode_count": (MATRIX, FEATURES, one_barcode, {
            "file": "barcodes.tsv.gz", "line": None, "says": "1 barcodes", "error": "1 barcode for a matrix of 2 columns (cells)"}),
        "feature_count": (MATRIX, one_feature, BARCODES, {
            "file": "features.tsv.gz", "line": None, "says": "1 features", "error": "1 feature for a matrix of 3 rows"}),
        "duplicate_barcodes": (MATRIX, FEATURES, one_barcode * 2, {
            "file": "barcodes.tsv.gz", "line": 2, "says": "duplicate barcode", "error": "line 2 repeats the barcode of line 1"}),
        "empty": (HEADER + "0 0 0\n", "", "", {
            "file": "tenx_empty", "line": None, "says": "empty",
            "error": "0 x 0 matrix, no entries, empty features and barcodes: nothing to convert (the error names the directory)"}),
    }


def write_bad(bad: Path) -> None:
    bad.mkdir(parents=True, exist_ok=True)
    table = {}
    for name, (matrix, features, bcs, expect) in bad_cases().items():
        d = bad / f"tenx_{name}"
        d.mkdir(exist_ok=True)
        if isinstance(matrix, bytes):
            (d / "matrix.mtx.gz").write_bytes(matrix)
        else:
            write_gz(d / "matrix.mtx.gz", matrix)
        write_gz(d / "features.tsv.gz", features)
        write_gz(d / "barcodes.tsv.gz", bcs)
        table[f"tenx_{name}"] = {"path": f"tenx_{name}", **expect}
    record_bad_cases(bad, table)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out", type=Path)
    p.add_argument("--bad", type=Path)
    args = p.parse_args()
    write_good(args.out)
    write_bad(args.bad or args.out.parent / "bad")
