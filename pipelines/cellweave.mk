# CellWeave's pipeline as make rules. A pipeline's config (pipelines/<name>/config.mk) sets the
# variables below and includes this file. Every stage's output is a file, so make reruns only what
# changed, and `make -j N` runs the per-sample QC in parallel.
#
# Config variables:
#   OUT            output directory (e.g. out/demo)
#   SAMPLES        sample names
#   <name>_PATH    each sample's counts: a Cell Ranger directory, .h5, .mtx(.gz) or .h5ad
#   <name>_ANNOTATIONS  optional per-cell annotations (.tsv: barcode, then columns)
#   QC_OPTIONS     extra options of cellweave qc (thresholds)
#   COVARIATE_KEYS obs columns of further categorical covariates of the model (e.g. donor)
#   N_TOP_GENES, MAX_EPOCHS (empty: train's default), TRAIN_OPTIONS, N_NEIGHBORS, RESOLUTION
#   LABEL_KEY      obs column of cell-type labels for evaluate (empty: batch metrics only)
#   EXT            the stages' file format: h5ad (RNA; protein rides in obsm) or h5mu (every modality
#                  as its own; the run also writes cellweave.h5ad)
#   EMBED_OPTIONS  extra options of cellweave embed (e.g. --impute protein)
#   CELLWEAVE      the binary (default: the release build)

CELLWEAVE ?= .build/release/cellweave
N_TOP_GENES ?= 2000
MAX_EPOCHS ?=
N_NEIGHBORS ?= 15
RESOLUTION ?= 1.0
THREADS ?= 2
LABEL_KEY ?=
COVARIATE_KEYS ?=
EXT ?= h5ad
EMBED_OPTIONS ?=

QC_FILES := $(foreach s,$(SAMPLES),$(OUT)/qc/$(s).$(EXT))

.SECONDEXPANSION:
.DELETE_ON_ERROR:

pipeline: $(OUT)/report.html $(OUT)/cellweave.$(EXT) $(OUT)/cellweave.h5ad $(OUT)/cellweave_obs.tsv $(OUT)/X_cellweave.npy $(OUT)/X_umap.tsv

# Per sample: QC metrics, filters, JSON and HTML report (and annotations into obs).
$(OUT)/qc/%.$(EXT): $$($$*_PATH) $$($$*_ANNOTATIONS) $(CELLWEAVE)
	@mkdir -p $(@D)
	$(CELLWEAVE) qc $($*_PATH) --sample $* -o $@ --metrics $(OUT)/qc/$*.json --report $(OUT)/qc/$*.html \
	  $(if $($*_ANNOTATIONS),--annotations $($*_ANNOTATIONS)) $(QC_OPTIONS)

$(OUT)/merged.$(EXT): $(QC_FILES)
	$(CELLWEAVE) merge $^ -o $@

# The stages between merge and the final file write what they add and link what they leave
# unchanged (counts, earlier embeddings and graphs) to the file that stores it: the counts are
# on disk twice (merged and the final file), not once per stage. LINK= makes full copies.
LINK ?= --link-unchanged

$(OUT)/hvg.$(EXT): $(OUT)/merged.$(EXT)
	$(CELLWEAVE) hvg $< -o $@ $(LINK) --batch-key sample --n-top-genes $(N_TOP_GENES)

# The uncorrected baseline: PCA on analytic Pearson residuals.
$(OUT)/pca.$(EXT): $(OUT)/hvg.$(EXT)
	$(CELLWEAVE) pca $< -o $@ $(LINK) --n-comps 30

$(OUT)/model/model.h5: $(OUT)/pca.$(EXT)
	$(CELLWEAVE) train $< --batch-key sample --hvg-only --encode-covariates $(if $(strip $(MAX_EPOCHS)),--max-epochs $(strip $(MAX_EPOCHS))) \
	  $(if $(COVARIATE_KEYS),--covariate-keys $(COVARIATE_KEYS)) --threads $(THREADS) -o $(OUT)/model $(TRAIN_OPTIONS)

$(OUT)/embedded.$(EXT): $(OUT)/model/model.h5 $(OUT)/pca.$(EXT)
	$(CELLWEAVE) embed $(OUT)/model $(OUT)/pca.$(EXT) -o $@ $(LINK) --threads $(THREADS) $(EMBED_OPTIONS)

$(OUT)/scored.$(EXT): $(OUT)/model/model.h5 $(OUT)/embedded.$(EXT)
	$(CELLWEAVE) score $(OUT)/model $(OUT)/embedded.$(EXT) -o $@ $(LINK) --threads $(THREADS) \
	  --tsv $(OUT)/anomaly.tsv --report $(OUT)/anomaly.html

# Graph, clusters and layouts: a layout of the uncorrected embedding for comparison, then the
# graph, Leiden clusters and layout of the corrected one.
$(OUT)/graph_pca.$(EXT): $(OUT)/scored.$(EXT)
	$(CELLWEAVE) neighbors $< -o $@ $(LINK) --use-rep X_pca --key-added pca --n-neighbors $(N_NEIGHBORS) --threads $(THREADS)

$(OUT)/layout_pca.$(EXT): $(OUT)/graph_pca.$(EXT)
	$(CELLWEAVE) umap $< -o $@ $(LINK) --use-rep X_pca --neighbors-key pca --key-added X_umap_pca

$(OUT)/graph.$(EXT): $(OUT)/layout_pca.$(EXT)
	$(CELLWEAVE) neighbors $< -o $@ $(LINK) --n-neighbors $(N_NEIGHBORS) --threads $(THREADS)

$(OUT)/clustered.$(EXT): $(OUT)/graph.$(EXT)
	$(CELLWEAVE) cluster $< -o $@ $(LINK) --resolution $(RESOLUTION)

# The final file: counts, obs (sample, QC, labels, clusters, anomaly columns), obsm X_pca,
# X_cellweave, X_umap, X_umap_pca, obsp graph (and with modalities, each one, their embeddings
# and imputed protein; then cellweave.h5ad holds RNA with protein in obsm, as scvi-tools keeps it).
$(OUT)/cellweave.$(EXT): $(OUT)/clustered.$(EXT)
	$(CELLWEAVE) umap $< -o $@

ifeq ($(EXT),h5mu)
$(OUT)/cellweave.h5ad: $(OUT)/cellweave.h5mu
	$(CELLWEAVE) convert $< -o $@
endif

# Integration metrics need two samples at least: a run of one sample has no batches to mix, and
# its report goes without them.
METRICS := $(if $(word 2,$(SAMPLES)),$(OUT)/metrics.json)
$(OUT)/metrics.json: $(OUT)/cellweave.$(EXT)
	$(CELLWEAVE) evaluate $< -o $@ --html $(OUT)/metrics.html --batch-key sample $(if $(LABEL_KEY),--label-key $(LABEL_KEY)) \
	  --embeddings X_pca X_cellweave --threads $(THREADS)

# Copies for R and other tools: the obs table, the embedding and the layout.
$(OUT)/cellweave_obs.tsv: $(OUT)/cellweave.h5ad
	$(CELLWEAVE) export $< -o $@
$(OUT)/X_cellweave.npy: $(OUT)/cellweave.h5ad
	$(CELLWEAVE) export $< --obsm X_cellweave -o $@
$(OUT)/X_umap.tsv: $(OUT)/cellweave.h5ad
	$(CELLWEAVE) export $< --obsm X_umap -o $@

$(OUT)/report.html: $(OUT)/cellweave.$(EXT) $(OUT)/cellweave.h5ad $(METRICS)
	$(CELLWEAVE) report $(OUT) -o $@

.PHONY: pipeline
