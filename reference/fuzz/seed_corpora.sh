#!/bin/bash
# Seed corpora of the fuzz targets (make fuzz) from the committed fixtures: OUT/<target>/.
# tenx-dir inputs are a 10x directory's three files joined by NUL bytes (matrix, features,
# barcodes), as Fuzz/FuzzInput.swift splits them.
set -euo pipefail
out=$1
fixtures=reference/fixtures
mkdir -p "$out"/{mtx,tenx-dir,tenx-h5,h5ad}
for d in "$fixtures"/tenx/*/ "$fixtures"/bad/tenx_*/; do
  name=$(basename "$d")
  matrix=$(ls "$d"matrix.mtx* 2>/dev/null | head -1) || true
  features=$(ls "$d"features.tsv* "$d"genes.tsv* 2>/dev/null | head -1) || true
  barcodes=$(ls "$d"barcodes.tsv* 2>/dev/null | head -1) || true
  [ -n "$matrix" ] || continue
  zcat -f "$matrix" > "$out/mtx/$name.mtx" 2>/dev/null || true
  { zcat -f "$matrix"; printf '\0'; [ -z "$features" ] || zcat -f "$features"; printf '\0'; [ -z "$barcodes" ] || zcat -f "$barcodes"; } \
    > "$out/tenx-dir/$name" 2>/dev/null || true
done
cp "$fixtures"/tenx/*.h5 "$out/tenx-h5/"
cp "$fixtures"/h5ad/*.h5ad "$fixtures"/h5ad_anndata07/*.h5ad "$fixtures"/anndata_archives/*/adata.h5ad "$out/h5ad/" 2>/dev/null || true
for f in "$fixtures"/anndata_archives/*/adata.h5ad; do cp "$f" "$out/h5ad/archive-$(basename "$(dirname "$f")").h5ad"; done
echo "seed corpora in $out: $(for t in mtx tenx-dir tenx-h5 h5ad; do echo -n "$t $(ls "$out/$t" | wc -l)  "; done)"
