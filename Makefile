# Two entry points on a fresh machine with only python3 and make:
#   make deck   create .venv, install deckgen, build dist/<deck>.apkg from questions.yaml
#   make test   install the test dependencies too, then run ruff, mypy and pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?= questions.yaml

.PHONY: install deck test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Editable, as a path in a .pth file (setuptools' "compat" mode): its default for this layout
# is an import hook that every deckgen process spends 10-12 ms importing before it starts.
# setuptools says the mode will go: then the default is installed instead.
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt
EDITABLE := --config-settings editable_mode=compat

$(VENV)/.installed: pyproject.toml constraints.txt Makefile | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet --yes deckgen 2>/dev/null  # the name before 0.2
	$(PIP_INSTALL) $(EDITABLE) -e . || $(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt Makefile | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet --yes deckgen 2>/dev/null  # the name before 0.2
	$(PIP_INSTALL) $(EDITABLE) -e '.[test]' || $(PIP_INSTALL) -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

deck: $(VENV)/.installed
	$(BIN)/deckgen build $(SOURCE)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check deckgen tests
	$(BIN)/ruff format --check deckgen tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache deckgen.egg-info

# Issue 13's benchmark (README, "Performance"): two generated bank shapes at 10,000 and 100,000
# questions against fair floors, alternating; writes bench/out/results.json and exits 1 when a
# target is missed. About 10 minutes on 2 cores; BENCH_ARGS=--quick takes 2-3. Then
# `$(BIN)/python bench/run.py --readme` rewrites the README's figures from the results.
BENCH_ARGS ?=
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)
