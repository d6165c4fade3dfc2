# gctune — every target installs what it needs into .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
SWEEP_ARGS ?=
REPORT_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv interpreters sweep report report-screenshot test lint typecheck bench \
	bench-compare bench-probe bench-agreement baseline clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUN_STAMP) $(STAMP)

# `make sweep` and `make report` need gctune only, not the test and lint tools: on a fresh
# clone they install just that (the full .venv of `make venv`/`make test` serves them too).
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

venv: $(STAMP) ## Create or refresh the virtualenv with gctune and its tools

# Debian sid's CPython 3.14 and 3.15, relocated to run here (tools/interpreters.py): cached
# in .interpreters/ after the first run; never fails the build (the version tests skip).
INTERPRETERS_ARGS ?=

interpreters: $(STAMP) ## Fetch CPython 3.14 and 3.15 into .interpreters/ and print their paths
	$(BIN)/python tools/interpreters.py $(INTERPRETERS_ARGS)

sweep: $(RUN_STAMP) ## Run the default sweep (built-in workloads, quick grid) into results/
	$(BIN)/gctune sweep $(SWEEP_ARGS)

report: $(RUN_STAMP) ## Rebuild the report (Markdown + HTML) of the latest sweep under results/
	$(BIN)/gctune report $(REPORT_ARGS)

# Needs Chromium: apt-get install chromium. SCREENSHOT_ARGS: e.g. --fresh, or --sweep DIR.
SCREENSHOT_ARGS ?=
report-screenshot: $(STAMP) ## Tiny real sweep; its HTML report screenshotted in headless Chromium
	$(BIN)/python tools/report_screenshot.py $(SCREENSHOT_ARGS)

# Two test processes (pytest-xdist), each test file whole in one of them (its module
# fixtures built once): most tests wait on one real worker process at a time, so two use
# a 2-core machine. PYTEST_JOBS= runs the suite in one process.
PYTEST_JOBS ?= -n 2 --dist loadfile

test: $(STAMP) interpreters ## Lint, type-check and run the test suite (unit + integration)
	$(BIN)/ruff check gctune workloads tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -m "not benchmark" -q --durations=20 $(PYTEST_JOBS)

lint: $(STAMP) ## ruff only
	$(BIN)/ruff check gctune workloads tests benchmarks tools

typecheck: $(STAMP) ## mypy only
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# pytest-benchmark suite (benchmarks/): each round is a fresh process, see benchmarks/test_workloads.py
BENCH_ARGS ?=
BENCH := $(BIN)/python -m pytest benchmarks -m benchmark \
	--benchmark-group-by=param:workload --benchmark-sort=name \
	--benchmark-columns=min,mean,median,stddev,rounds

bench: $(STAMP) ## Benchmark the built-in workloads (default and tuned GC); save a baseline in .benchmarks/
	$(BENCH) --benchmark-autosave $(BENCH_ARGS)

bench-compare: $(STAMP) ## Benchmark again; fail if a mean is 10% above the last `make bench`
	@ls .benchmarks/*/*.json >/dev/null 2>&1 || { \
	  echo "make bench-compare: no saved baseline in .benchmarks/: run 'make bench' first" >&2; \
	  exit 1; }
	$(BENCH) --benchmark-compare --benchmark-compare-fail=mean:10% $(BENCH_ARGS)

# The committed CI baseline: a fast sweep of two workloads, compared by .github/workflows/gc-perf.yml
BASELINE_ARGS ?= acyclic_churn short_cycles -s 70000,20,100+freeze --fast

baseline: $(STAMP) ## Measure results/baseline/ again (commit it from main, on the Python CI uses)
	rm -rf results/baseline
	$(BIN)/gctune sweep $(BASELINE_ARGS) --out results/baseline
	rm -rf results/baseline/logs results/baseline/report results/baseline/.lock

clean: ## Remove the virtualenv and caches (results are kept)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info

bench-probe: $(STAMP) ## Measure the probe's own overhead (with vs without, side by side)
	$(BIN)/python benchmarks/probe_overhead.py

bench-agreement: $(STAMP) interpreters ## On 3.15: the probe's pauses against the interpreter's own duration
	$(BIN)/python benchmarks/duration_agreement.py
