# The CITE-seq pipeline: three CITE-seq-like samples (reference/citeseq/make_citeseq_samples.py,
# from `cellweave simulate --proteins`), two stained with a 12-protein antibody panel and one with
# none, as Cell Ranger directories with Gene Expression and Antibody Capture features. The stages
# pass .h5mu files; the model is RNA + protein (product of experts), the run writes
# cellweave.h5mu (every modality, imputed protein) and cellweave.h5ad. Run it with `make run` (or
# `make -f pipelines/citeseq/config.mk`).
OUT := out/citeseq
EXT := h5mu
SAMPLES := citeA citeB rnaC
citeA_PATH := reference/citeseq/samples/citeA
citeB_PATH := reference/citeseq/samples/citeB
rnaC_PATH := reference/citeseq/samples/rnaC
citeA_ANNOTATIONS := reference/citeseq/samples/citeA/cell_types.tsv
citeB_ANNOTATIONS := reference/citeseq/samples/citeB/cell_types.tsv
rnaC_ANNOTATIONS := reference/citeseq/samples/rnaC/cell_types.tsv
QC_OPTIONS := --min-cells-per-gene 3
N_TOP_GENES := 300
MAX_EPOCHS := 200
EMBED_OPTIONS := --impute protein
LABEL_KEY := cell_type

include pipelines/cellweave.mk
