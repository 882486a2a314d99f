# The two set-up commands of the README: `make demo` and `make test`.
# Everything else here is a step they use, or a developer convenience.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The oldest Python we support (the kernel doc toolchain's floor), from pyenv when present.
PY39 ?= $(firstword $(wildcard /root/.pyenv/versions/3.9*/bin/python3) $(shell command -v python3.9))
# The newest Python we support, with the newest Sphinx.
PY313 ?= $(firstword $(wildcard /root/.pyenv/versions/3.13*/bin/python3) $(shell command -v python3.13))
EXTRAS ?= test,sphinx,themes,lint,bench,dask
# Pins for an old toolchain (Sphinx 3.4.3, the kernel's minimum), when set.
CONSTRAINTS ?=
# More pytest options; the runs at both ends of the range leave out what `make test` ran
# already and does not depend on the interpreter (QEMU boots, clusters, signal soaks).
PYTEST_ARGS ?=

.PHONY: demo docs test lint test-py39 test-py313 test-floors bench bench-run clean

$(BIN)/balloon-conform: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[$(EXTRAS)]'
	@touch $@

## demo: create .venv, install, run the checker on the bundled sample captures
demo: $(BIN)/balloon-conform
	$(BIN)/balloon-conform --version
	$(BIN)/balloon-conform schema list
	$(BIN)/balloon-conform parse --meta examples/fleet/hyperv-6.15-balloon-up/sys/kernel/debug/hv-balloon
	$(BIN)/balloon-conform check examples/fleet
	$(BIN)/balloon-conform check --series examples/series/t0 examples/series/t1
	@echo '--- a capture that breaks rules on purpose (exit status 1 expected):'
	@$(BIN)/balloon-conform check examples/broken; test $$? -eq 1
	@echo '--- this machine, captured and checked:'
	rm -rf demo-out && mkdir demo-out && $(BIN)/balloon-conform capture demo-out/this-machine
	$(BIN)/balloon-conform check demo-out/this-machine
	$(MAKE) docs
	@echo "--- the docs are in docs/_build/html/index.html"

## docs: the project's site, every sample in it validated; warnings fail the build
docs: $(BIN)/balloon-conform
	$(BIN)/sphinx-build -q -W -b html docs docs/_build/html

## test: create .venv, install with test extras, run the whole test suite
test: $(BIN)/balloon-conform
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(BIN)/balloon-conform
	$(BIN)/ruff check conformance sphinxext_balloon tests benchmarks fuzz docs
	$(BIN)/ruff format --check conformance sphinxext_balloon tests benchmarks fuzz docs
	$(BIN)/mypy

## test-py39: the suite (less what is marked slow) on the oldest toolchain: Python 3.9 and Sphinx 3.4.3
test-py39:
	@test -n "$(PY39)" || { echo "no Python 3.9 found (set PY39=...)"; exit 1; }
	$(MAKE) test PYTHON=$(PY39) VENV=.venv-py39 EXTRAS=test,sphinx CONSTRAINTS=ci/sphinx-3.4.3-constraints.txt \
		PYTEST_ARGS='-m "not slow"'

## test-py313: the suite (less what is marked slow) on the newest: Python 3.13 and the newest Sphinx
test-py313:
	@test -n "$(PY313)" || { echo "no Python 3.13 found (set PY313=...)"; exit 1; }
	$(MAKE) test PYTHON=$(PY313) VENV=.venv-py313 EXTRAS=test,sphinx,themes PYTEST_ARGS='-m "not slow"'

## test-floors: the Sphinx extension and the schemas on what distributions ship: Python 3.9,
## Sphinx 3.4.3, docutils 0.16 and jsonschema 4.10.3 (Debian 12, Ubuntu 24.04), which is
## older than `referencing`. Checking the schema files against our meta-schema (a task of
## this project's developers, not of a documentation build) needs jsonschema 4.18: left out.
FLOORS_VENV ?= .venv-floors
test-floors:
	@test -n "$(PY39)" || { echo "no Python 3.9 found (set PY39=...)"; exit 1; }
	test -x $(FLOORS_VENV)/bin/python || $(PY39) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c ci/sphinx-3.4.3-constraints.txt \
		sphinx==3.4.3 docutils==0.16 jsonschema==4.10.3 'jsonschema-rs>=0.20' \
		pytest hypothesis beautifulsoup4
	$(FLOORS_VENV)/bin/python -m pip install --quiet --no-deps -e .
	! $(FLOORS_VENV)/bin/python -c 'import referencing' 2>/dev/null
	$(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" \
		tests/test_sphinx_*.py tests/test_schemas.py -k "not meta_schema"

bench: $(BIN)/balloon-conform
	$(BIN)/python benchmarks/parse.py
	$(BIN)/python benchmarks/parse.py --fleet
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/check.py

## bench-run: seconds per scenario step of `balloon-conform run` (TCG, and KVM where it works)
bench-run: $(BIN)/balloon-conform
	$(BIN)/python benchmarks/run_step.py

clean:
	rm -rf $(VENV) .venv-py39 .venv-py313 .venv-floors docs/_build demo-out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
