# The demo pipeline: three samples made from the real mouse10k_chr1 sample, each with its own
# batch effect (reference/demo/make_demo_samples.py), with cell-type labels to score against.
# Run it with `make run` (or `make -f pipelines/demo/config.mk`).
OUT := out/demo
SAMPLES := sampleA sampleB sampleC
sampleA_PATH := reference/demo/samples/sampleA
sampleB_PATH := reference/demo/samples/sampleB
sampleC_PATH := reference/demo/samples/sampleC
sampleA_ANNOTATIONS := reference/demo/samples/sampleA/cell_types.tsv
sampleB_ANNOTATIONS := reference/demo/samples/sampleB/cell_types.tsv
sampleC_ANNOTATIONS := reference/demo/samples/sampleC/cell_types.tsv
QC_OPTIONS := --var-names-make-unique --min-cells-per-gene 3
N_TOP_GENES := 300
MAX_EPOCHS := 200
LABEL_KEY := cell_type

include pipelines/cellweave.mk
