# CellWeave: everything a fresh Debian machine needs, driven from here.
#   make run    install what is missing, build, run the example pipeline
#   make test   install what is missing, build, run every test (Swift + interop with anndata/scanpy)
#   make bench  release benchmarks beside scanpy/anndata (figures in BENCHMARKS.md)

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev pkg-config libc6-dev
VENV := .venv
PY := $(VENV)/bin/python
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
RELEASE_BIN := .build/release/cellweave
# One optimised build serves the binary, the Swift tests (testable) and the interop tests:
# the model's tests train real models, which unoptimised generic code makes slow.
SWIFT_BUILD := swift build -c release -Xswiftc -enable-testing
EXAMPLE := reference/example/mouse2k_chr1
OUT := out

.PHONY: all deps venv build run test test-swift test-interop bench bench-train clean

all: build

# System libraries: installed only when one is missing (needs root, as on CI).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@command -v swift >/dev/null || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }

# Python venv with the real anndata/scanpy, for interop tests and benchmarks.
venv: $(VENV)/.installed
$(VENV)/.installed: reference/requirements.txt
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r reference/requirements.txt
	touch $@

# A second venv with scvi-tools, torch (CPU) and scib-metrics: the peers of the model benchmarks.
# Large (about 2.2 GB), so only `make bench-venv` and the model benchmarks ask for it.
.PHONY: bench-venv
bench-venv: $(BENCH_VENV)/.installed
$(BENCH_VENV)/.installed: reference/requirements-bench.txt
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }
	python3 -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r reference/requirements-bench.txt
	touch $@

build: deps
	$(SWIFT_BUILD)

# The stages that exist so far, on the example sample: QC (h5ad, JSON, HTML report), Pearson-
# residual HVGs, PCA on residuals, the VAE trained on the HVGs, its embedding and anomaly scores.
run: build
	mkdir -p $(OUT)/example
	$(RELEASE_BIN) inspect $(EXAMPLE)
	$(RELEASE_BIN) qc $(EXAMPLE) --sample mouse2k --var-names-make-unique --min-cells-per-gene 1 \
	  -o $(OUT)/example/qc.h5ad --metrics $(OUT)/example/qc.json --report $(OUT)/example/qc.html
	$(RELEASE_BIN) hvg $(OUT)/example/qc.h5ad -o $(OUT)/example/hvg.h5ad --n-top-genes 300
	$(RELEASE_BIN) pca $(OUT)/example/hvg.h5ad -o $(OUT)/example/pca.h5ad --n-comps 30
	$(RELEASE_BIN) train $(OUT)/example/pca.h5ad --batch-key sample --hvg-only -o $(OUT)/example/model --max-epochs 100
	$(RELEASE_BIN) embed $(OUT)/example/model $(OUT)/example/pca.h5ad -o $(OUT)/example/embedded.h5ad --tsv $(OUT)/example/X_cellweave.tsv
	$(RELEASE_BIN) score $(OUT)/example/model $(OUT)/example/embedded.h5ad -o $(OUT)/example/scored.h5ad \
	  --tsv $(OUT)/example/anomaly.tsv --report $(OUT)/example/anomaly.html
	$(RELEASE_BIN) inspect $(OUT)/example/scored.h5ad
	@echo "outputs in $(OUT)/example: qc.h5ad qc.json qc.html hvg.h5ad pca.h5ad model/ embedded.h5ad X_cellweave.tsv scored.h5ad anomaly.tsv anomaly.html"

test: test-swift test-interop

test-swift: deps
	$(SWIFT_BUILD) --build-tests
	swift test -c release --skip-build

test-interop: build venv
	CELLWEAVE=$(RELEASE_BIN) $(PY) -m pytest reference/interop -q

bench: build venv bench-venv
	$(PY) reference/bench/make_bench_data.py ../shared/data/mouse10k_chr1 bench-data/mouse200k --cells 200000
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_io.py bench-data/mouse200k bench-data/bench_io.json
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_preprocess.py bench-data/mouse200k bench-data/bench_preprocess.json
	$(MAKE) bench-train

# The VAE beside scvi-tools: seconds per epoch on mouse10k_chr1 with three artificial batches,
# integration quality by scib-metrics on a simulation, and memory at 1M cells x 2,000 genes.
bench-train: build bench-venv
	$(BENCH_PY) reference/bench/make_batched_mouse10k.py ../shared/data/mouse10k_chr1 bench-data/mouse10k_batched.h5ad
	$(RELEASE_BIN) simulate -o bench-data/sim3k.h5ad --cells 3000 --batches 3 --cell-types 4 --seed 0
	$(BENCH_PY) reference/bench/bench_train.py --speed-data bench-data/mouse10k_batched.h5ad --quality-data bench-data/sim3k.h5ad \
	  --epochs-speed 10 --epochs-quality 400 --out bench-data/bench_train.json --cellweave $(RELEASE_BIN)
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_train_memory.py bench-data bench-data/bench_train_memory.json
	for seed in 2 3 4; do CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_anomaly.py bench-data/anomaly$$seed bench-data/bench_anomaly$$seed.json --seed $$seed || exit 1; done
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_anomaly.py bench-data/anomaly10k bench-data/bench_anomaly10k.json --cells 10000

clean:
	rm -rf .build $(OUT) bench-data
