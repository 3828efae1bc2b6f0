# CellWeave: everything a fresh Debian machine needs, driven from here.
#   make run    install what is missing, build, run the example pipeline
#   make test   install what is missing, build, run every test (Swift + interop with anndata/scanpy)
#   make bench  release benchmarks beside scanpy/anndata (figures in BENCHMARKS.md)

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev pkg-config libc6-dev \
  hdf5-plugin-lzf liblzf1 hdf5-filter-plugin hdf5-filter-plugin-blosc-serial libopenmpi-dev openmpi-bin
# The browser the report tests render pages in (headless).
APT_TEST_PACKAGES := chromium
VENV := .venv
PY := $(VENV)/bin/python
BENCH_VENV := .venv-bench
DEFAULTS := bench-data/defaults
LINEAR := bench-data/linear
BENCH_PY := $(BENCH_VENV)/bin/python
RELEASE_BIN := .build/release/cellweave
# Data-parallel training (Open MPI): built beside cellweave, run under mpirun.
MPI_BIN := .build/release/cellweave-mpi
# One optimised build serves the binary, the Swift tests (testable) and the interop tests:
# the model's tests train real models, which unoptimised generic code makes slow.
SWIFT_BUILD := swift build -c release -Xswiftc -enable-testing
OUT := out

.PHONY: all deps venv build run test test-swift test-interop test-fuzz bench bench-train bench-multiomics bench-defaults bench-linear bench-atlas bench-mpi clean

all: build

# System libraries: installed only when one is missing (needs root, as on CI).
deps:
	@$(call apt_install,$(APT_PACKAGES))
	@command -v swift >/dev/null || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }

.PHONY: test-deps
test-deps:
	@$(call apt_install,$(APT_TEST_PACKAGES))

# Installs the Debian packages of $(1) that are missing.
apt_install = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

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

# The demo pipeline end to end (pipelines/demo: three samples with batch effects made from the
# real mouse10k_chr1): qc per sample -> merge -> hvg -> pca -> train -> embed -> score ->
# neighbors/cluster/umap -> evaluate -> report, into out/demo (report.html, cellweave.h5ad); then
# the CITE-seq pipeline (pipelines/citeseq: RNA + protein, one sample without a panel) into
# out/citeseq (report.html, cellweave.h5mu, cellweave.h5ad).
run: build
	$(MAKE) -f pipelines/demo/config.mk CELLWEAVE=$(RELEASE_BIN)
	$(RELEASE_BIN) inspect out/demo/cellweave.h5ad
	$(MAKE) -f pipelines/citeseq/config.mk CELLWEAVE=$(RELEASE_BIN)
	$(RELEASE_BIN) inspect out/citeseq/cellweave.h5mu
	@echo "run reports: out/demo/report.html, out/citeseq/report.html; final data: out/demo/cellweave.h5ad, out/citeseq/cellweave.h5mu (and .h5ad)"

test: test-swift test-interop test-fuzz

# libFuzzer over the readers (Fuzz/FuzzInput.swift), built with the sanitizers in its own build
# directory; each target runs FUZZ_SECONDS from corpora seeded with the fixtures (kept and grown
# in bench-data/fuzz between runs). `make test` runs a short bounded round.
FUZZ_BUILD := .build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_DIR ?= bench-data/fuzz
.PHONY: fuzz fuzz-build test-fuzz
fuzz-build: deps
	swift build -c release --product cellweave-fuzz --build-path $(FUZZ_BUILD) \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
fuzz: fuzz-build build
	reference/fuzz/seed_corpora.sh $(FUZZ_DIR)
	reference/fuzz/run_fuzz.sh $(FUZZ_BUILD)/release/cellweave-fuzz $(RELEASE_BIN) $(FUZZ_DIR) $(FUZZ_SECONDS)
test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=12 FUZZ_DIR=$(FUZZ_BUILD)/test-corpora

test-swift: deps
	$(SWIFT_BUILD) --build-tests
	swift test -c release --skip-build

test-interop: build venv test-deps
	CELLWEAVE=$(RELEASE_BIN) CELLWEAVE_MPI=$(MPI_BIN) $(PY) -m pytest reference/interop -q

bench: build venv bench-venv
	$(PY) reference/bench/make_bench_data.py ../shared/data/mouse10k_chr1 bench-data/mouse200k --cells 200000
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_io.py bench-data/mouse200k bench-data/bench_io.json
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_preprocess.py bench-data/mouse200k bench-data/bench_preprocess.json
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_graph.py bench-data/graph bench-data/bench_graph.json --cells 200000
	$(MAKE) bench-train bench-multiomics bench-defaults bench-linear bench-atlas bench-mpi

# Out-of-core stages at 2 million cells x 2,000 genes (a 3.9 GB h5ad, made once): train in memory
# and streamed, streamed embed, score and hvg, each with its peak RSS.
bench-atlas: build
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_atlas.py bench-data/atlas bench-data/bench_atlas.json

# Data-parallel training: cellweave-mpi on 1 and 2 ranks of one thread at 200,000 cells x 2,000
# genes, the allreduce's share, and a projection to 10 and 100 million cells on N nodes.
bench-mpi: build venv
	CELLWEAVE=$(RELEASE_BIN) CELLWEAVE_MPI=$(MPI_BIN) $(PY) reference/bench/bench_mpi.py bench-data/mpi bench-data/bench_mpi.json

# The VAE beside scvi-tools: seconds per epoch on mouse10k_chr1 with three artificial batches
# (shallow) and on a deep simulation (2,000 genes, ~3,000 UMIs per cell) at several minibatch
# sizes, integration quality by scib-metrics on a simulation, and memory at 1M cells x 2,000 genes.
bench-train: build bench-venv $(DEFAULTS)/deep.h5ad
	$(BENCH_PY) reference/bench/make_batched_mouse10k.py ../shared/data/mouse10k_chr1 bench-data/mouse10k_batched.h5ad
	$(RELEASE_BIN) simulate -o bench-data/sim3k.h5ad --cells 3000 --batches 3 --cell-types 4 --seed 0
	$(BENCH_PY) reference/bench/bench_train.py --speed-data bench-data/mouse10k_batched.h5ad $(DEFAULTS)/deep.h5ad \
	  --batch-sizes 128 256 512 1024 --quality-data bench-data/sim3k.h5ad \
	  --epochs-speed 10 --epochs-quality 400 --out bench-data/bench_train.json --cellweave $(RELEASE_BIN)
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_train_memory.py bench-data bench-data/bench_train_memory.json
	for seed in 2 3 4; do CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_anomaly.py bench-data/anomaly$$seed bench-data/bench_anomaly$$seed.json --seed $$seed || exit 1; done
	CELLWEAVE=$(RELEASE_BIN) $(PY) reference/bench/bench_anomaly.py bench-data/anomaly10k bench-data/bench_anomaly10k.json --cells 10000

# The deep simulation (2,000 genes, ~3,000 UMIs per cell) of the speed and defaults benchmarks.
$(DEFAULTS)/deep.h5ad: | build
	mkdir -p $(@D)
	$(RELEASE_BIN) simulate -o $@ --cells 6000 --genes 2000 --library-size 3000 --batches 3 --cell-types 6 --seed 1

# CellWeave's RNA + protein model beside totalVI (defaults), two CITE-seq-like scenarios.
bench-multiomics: build bench-venv
	$(BENCH_PY) reference/bench/bench_multiomics.py bench-data/multiomics --cellweave $(RELEASE_BIN)

# Training defaults over seeds beside scVI's defaults and scVI with a 25-epoch warm-up, at 100 epochs
# and at the default epoch count, on real counts with designed batch effects and a deep simulation.
bench-defaults: build bench-venv $(DEFAULTS)/deep.h5ad
	$(BENCH_PY) reference/bench/make_mouse10k_batch_effects.py ../shared/data/mouse10k_chr1 $(DEFAULTS)/real.h5ad
	for data in real deep; do for seed in 0 1 2 3 4; do \
	  $(BENCH_PY) reference/bench/bench_defaults.py scvi $(DEFAULTS)/$$data.h5ad $(DEFAULTS)/runs --seed $$seed --epochs 400 --snapshot 100 || exit 1; \
	  $(BENCH_PY) reference/bench/bench_defaults.py scvi $(DEFAULTS)/$$data.h5ad $(DEFAULTS)/runs --seed $$seed --epochs 400 --snapshot 100 --kl-warmup 25 || exit 1; \
	  $(BENCH_PY) reference/bench/bench_defaults.py cellweave $(DEFAULTS)/$$data.h5ad $(DEFAULTS)/runs --seed $$seed --method cw-defaults --epochs 100 --cellweave $(RELEASE_BIN) || exit 1; \
	  $(BENCH_PY) reference/bench/bench_defaults.py cellweave $(DEFAULTS)/$$data.h5ad $(DEFAULTS)/runs --seed $$seed --method cw-defaults --cellweave $(RELEASE_BIN) || exit 1; \
	done; done
	$(BENCH_PY) reference/bench/bench_defaults.py score $(DEFAULTS)/runs
	$(BENCH_PY) reference/bench/bench_defaults.py summary $(DEFAULTS)/runs --json bench-data/bench_defaults.json

# The linear decoder (LDVAE) beside scvi-tools' LinearSCVI with its defaults, and CellWeave's
# nonlinear default beside it: recovery of simulated gene programs, scib-metrics Total and seconds
# per epoch, on the program simulation and on the real counts with designed batch effects.
bench-linear: build bench-venv
	mkdir -p $(LINEAR)
	$(RELEASE_BIN) simulate -o $(LINEAR)/programs.h5ad --cells 6000 --genes 1000 --batches 3 --cell-types 6 --programs 3 --seed 1
	$(BENCH_PY) reference/bench/make_mouse10k_batch_effects.py ../shared/data/mouse10k_chr1 $(LINEAR)/real.h5ad
	for seed in 0 1 2; do for data in programs real; do \
	  $(BENCH_PY) reference/bench/bench_defaults.py scvi $(LINEAR)/$$data.h5ad $(LINEAR)/runs --seed $$seed --model linear --epochs 400 --snapshot 100 || exit 1; \
	  $(BENCH_PY) reference/bench/bench_defaults.py cellweave $(LINEAR)/$$data.h5ad $(LINEAR)/runs --seed $$seed --method cw-linear --cellweave $(RELEASE_BIN) -- --decoder linear || exit 1; \
	  $(BENCH_PY) reference/bench/bench_defaults.py cellweave $(LINEAR)/$$data.h5ad $(LINEAR)/runs --seed $$seed --method cw-defaults --cellweave $(RELEASE_BIN) || exit 1; \
	done; done
	$(BENCH_PY) reference/bench/bench_defaults.py score $(LINEAR)/runs
	$(BENCH_PY) reference/bench/bench_defaults.py summary $(LINEAR)/runs --json bench-data/bench_linear.json
	$(BENCH_PY) reference/bench/bench_defaults.py programs $(LINEAR)/runs --json bench-data/bench_linear_programs.json

clean:
	rm -rf .build $(OUT) bench-data
