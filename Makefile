# The two Quickstart commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# pyzotero declares bibtexparser<2 for its BibTeX import, which zotsync never calls; the bibtex
# source needs bibtexparser 2, so it is installed after the rest without dependency resolution
BIBTEXPARSER := bibtexparser>=2.0,<3

.PHONY: demo test lint types imports unit bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps '$(BIBTEXPARSER)'
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps '$(BIBTEXPARSER)'
	touch $@ $(STAMP_RUN)

## make demo: build demo-vault/ from the bundled library (offline, no Zotero needed)
demo: $(STAMP_RUN)
	ZOTSYNC_OFFLINE=1 $(BIN)/zotsync demo demo-vault

## make test: lint, types, import contracts (layers) and the test suite
test: $(STAMP_TEST) lint types imports unit

lint: $(STAMP_TEST)
	$(BIN)/ruff check zotsync tests bench
	$(BIN)/ruff format --check zotsync tests bench

types: $(STAMP_TEST)
	$(BIN)/mypy

# the layers of docs/architecture.md, as import-linter contracts in pyproject.toml
imports: $(STAMP_TEST)
	$(BIN)/lint-imports

unit: $(STAMP_TEST)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP_TEST)
	$(BIN)/python bench/run.py --sizes 1000 10000

docs: $(STAMP_TEST)
	$(BIN)/python docs/gen_cli.py > docs/cli.md

clean:
	rm -rf $(VENV) demo-vault build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
