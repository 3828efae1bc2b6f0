"""Shared by the fixture scripts: the `NAME.expected.json` sidecar of an AnnData object (what any
reader of the file must find) and the table of bad inputs in fixtures/bad/. Runs under anndata
0.7 (pandas 1.5, numpy 1.23) as well as the current anndata.

Sidecar schema (all arrays as nested JSON lists; a missing value - NaN, pd.NA, category code -1 -
is null):
  anndata_version  the anndata that wrote the file
  shape            [n_obs, n_vars];  nnz: stored entries of a sparse X, non-zeros of a dense one
  X                matrix: {encoding: csr_matrix|csc_matrix|array, dtype: numpy name, shape, nnz, values: dense rows}
  obs_names, var_names
  obs, var         [column, ...] in column order; column: {name, kind, dtype, values}, kind one of
                   string, int, float, bool, categorical, nullable-integer, nullable-boolean,
                   nullable-string; a categorical also has categories, categories_dtype, ordered, codes
  layers           {name: matrix}
  raw              null or {shape, var_names, X: matrix, var: [column, ...]}
  obsm             {key: {dtype, shape, values}}
  uns_keys         sorted top-level uns keys
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp


def plain(v):
    """A numpy/pandas scalar as a JSON value; missing values as None."""
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)  # a float32 widened exactly; json writes the shortest exact decimal
    return str(v)


def values(a):
    return [plain(v) for v in a]


def column_kind(s: pd.Series) -> str:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if isinstance(dtype, pd.StringDtype):
        return "nullable-string"
    if isinstance(dtype, pd.BooleanDtype):
        return "nullable-boolean"
    if pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_integer_dtype(dtype):
        return "nullable-integer"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if dtype == object and all(isinstance(v, str) for v in s):
        return "string"
    raise ValueError(f"column {s.name!r}: no sidecar kind for dtype {dtype}")


def columns(df: pd.DataFrame):
    out = []
    for name in df.columns:
        s = df[name]
        c = {"name": str(name), "kind": column_kind(s), "dtype": str(s.dtype), "values": values(s)}
        if c["kind"] == "categorical":
            c["categories"] = values(s.cat.categories)
            c["categories_dtype"] = str(s.cat.categories.dtype)
            c["ordered"] = bool(s.cat.ordered)
            c["codes"] = values(s.cat.codes)
        out.append(c)
    return out


def matrix(x):
    if sp.issparse(x):
        encoding = {"csr": "csr_matrix", "csc": "csc_matrix"}[x.format]
        nnz, dense = int(x.nnz), x.toarray()
    else:
        dense = np.asarray(x)
        encoding, nnz = "array", int(np.count_nonzero(dense))
    return {"encoding": encoding, "dtype": str(dense.dtype), "shape": list(dense.shape), "nnz": nnz,
            "values": [values(row) for row in dense]}


def describe(adata, anndata_version: str) -> dict:
    """What a reader must find in the file `adata` was read from."""
    x = matrix(adata.X)
    return {
        "anndata_version": anndata_version,
        "shape": [int(adata.n_obs), int(adata.n_vars)],
        "nnz": x["nnz"],
        "X": x,
        "obs_names": values(adata.obs_names),
        "var_names": values(adata.var_names),
        "obs": columns(adata.obs),
        "var": columns(adata.var),
        "layers": {k: matrix(adata.layers[k]) for k in adata.layers},
        "raw": None if adata.raw is None else {
            "shape": [int(adata.raw.n_obs), int(adata.raw.n_vars)],
            "var_names": values(adata.raw.var_names),
            "X": matrix(adata.raw.X),
            "var": columns(adata.raw.var),
        },
        "obsm": {k: {"dtype": str(np.asarray(v).dtype), "shape": list(np.shape(v)), "values": [values(r) for r in np.asarray(v)]}
                 for k, v in adata.obsm.items()},
        "uns_keys": sorted(adata.uns.keys()),
    }


def dumps(o, indent=0) -> str:
    """JSON with one line per list of scalars (a matrix row, a column's values)."""
    pad = " " * indent
    if isinstance(o, dict) and o:
        return "{\n" + ",\n".join(f"{pad} {json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in o.items()) + f"\n{pad}}}"
    if isinstance(o, list) and any(isinstance(v, (list, dict)) for v in o):
        return "[\n" + ",\n".join(f"{pad} {dumps(v, indent + 1)}" for v in o) + f"\n{pad}]"
    return json.dumps(o, allow_nan=False)


def write_json(path: Path, obj) -> None:
    path.write_text(dumps(obj) + "\n")


def processed(full, rng, note: str):
    """The layers_raw fixture from a counts object: raw keeps all genes, X the first n - 2 of them
    normalised to 1e4 per cell, counts (int32) and log1p (dense) layers, a 3-D X_pca, a uns note."""
    full.raw = full
    full = full[:, : full.n_vars - 2].copy()
    full.layers["counts"] = full.X.astype(np.int32)
    full.layers["dense"] = np.log1p(full.X.toarray()).astype(np.float32)
    totals = np.maximum(np.asarray(full.X.sum(axis=1)).ravel(), 1)
    full.X = sp.csr_matrix(sp.diags(1e4 / totals) @ full.X, dtype=np.float32)
    full.obsm["X_pca"] = rng.normal(size=(full.n_obs, 3)).astype(np.float32)
    full.uns["note"] = note
    return full


def record_bad_cases(bad_dir: Path, cases: dict) -> None:
    """Merges {name: {path, file, line | hdf5_path, says, error}} into bad_dir/cases.json (the table
    the interop tests use) and rewrites bad_dir/README.md from it. The error message must contain
    `file` (as FILE:LINE when `line` is set, with [HDF5_PATH] when `hdf5_path` is) and `says`."""
    index = bad_dir / "cases.json"
    table = json.loads(index.read_text()) if index.exists() else {}
    table.update(cases)
    table = {k: table[k] for k in sorted(table) if (bad_dir / table[k]["path"]).exists()}
    write_json(index, table)
    lines = [
        "# Bad inputs",
        "",
        "Each must make `cellweave convert` exit non-zero with an error that names the file (and the",
        "line or HDF5 path where there is one) and write no output, leaving an existing output file as",
        "it was. Generated by `reference/make_tenx_fixtures.py` (tenx_*: complete Cell Ranger v3",
        "directories, matrix.mtx.gz + features.tsv.gz + barcodes.tsv.gz, with one thing wrong) and",
        "`reference/make_h5ad_fixtures.py` (h5ad_*) and `reference/make_h5mu_fixtures.py` (h5mu_*); `cases.json`",
        "is this table for the tests.",
        "",
        "| input | error names | error says | what is wrong |",
        "|---|---|---|---|",
    ]
    for c in table.values():
        where = c["file"] + (f":{c['line']}" if c.get("line") else "") + (f" [{c['hdf5_path']}]" if c.get("hdf5_path") else "")
        lines.append(f"| `{c['path']}` | `{where}` | {c['says']} | {c['error']} |")
    (bad_dir / "README.md").write_text("\n".join(lines) + "\n")
