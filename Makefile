# gctune — every target installs what it needs into .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SWEEP_ARGS ?=
REPORT_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv sweep report test lint typecheck bench bench-compare clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## Create or refresh the virtualenv with gctune and its tools

sweep: $(STAMP) ## Run the default sweep (built-in workloads, quick grid) into results/
	$(BIN)/gctune sweep $(SWEEP_ARGS)

report: $(STAMP) ## Rebuild the report (Markdown + HTML) of the latest sweep under results/
	$(BIN)/gctune report $(REPORT_ARGS)

test: $(STAMP) ## Lint, type-check and run the test suite (unit + integration)
	$(BIN)/ruff check gctune workloads tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not benchmark" -q

lint: $(STAMP) ## ruff only
	$(BIN)/ruff check gctune workloads tests benchmarks

typecheck: $(STAMP) ## mypy only
	$(BIN)/mypy

clean: ## Remove the virtualenv and caches (results are kept)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
