# Two commands do everything on a fresh machine (Python 3.11, pip, node/npm, apt):
#   make book   set up, execute the notebooks, build the site into _build/html
#   make test   everything CI checks
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Locked dependency groups (requirements/*.in, compiled with hashes by `make lock`):
# runtime (library + notebooks, what Binder installs), book, test, lab.
GROUPS := runtime book test lab
LOCKS := $(GROUPS:%=requirements/%.txt)
STAMP := $(VENV)/.installed-$(shell cat $(LOCKS) pyproject.toml | cksum | cut -d' ' -f1)
VENDOR := _vendor/widgets/.stamp
ESLINT := tools/lint/node_modules/.stamp
SITE := _build/html
PORT ?= 8000
# pip warns about this machine's unused local package mirrors; keep real messages only
# (grep finding nothing is fine; a failing pip still fails the recipe, through pipefail).
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || true; }
BUILD := $(BIN)/jupyter-book build . -W -n --keep-going
NBVAL := --nbval --nbval-sanitize-with tools/nbval_sanitize.cfg

.PHONY: help setup vendor execute build book pdf test lint browser-deps serve lab bench lock clean

help:
	@echo "make book   set up .venv, execute the notebooks, build the site into $(SITE)"
	@echo "make test   unit tests (with coverage), nbval on every notebook, strict book build, browser tests, lint"
	@echo "make lint   ruff (lint and format check) over the Python, ESLint over the widget front-ends"
	@echo "make lock   re-lock requirements/*.txt (with hashes) after changing pyproject.toml or requirements/*.in"
	@echo "make serve  serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make pdf    the whole book as one PDF (_build/pdf/)"
	@echo "make bench  benchmarks: build, nbval, page weights, engines, static calculator"

$(STAMP): $(LOCKS) pyproject.toml
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes $(LOCKS:%=-r %) 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | $(QUIET_PIP)
	touch $@

setup: $(STAMP)

RUNTIME_SOURCES := $(wildcard tools/widget-runtime/*.json tools/widget-runtime/*.mjs tools/widget-runtime/src/*)
$(VENDOR): tools/vendor.json tools/vendor_js.py $(RUNTIME_SOURCES) $(STAMP)
	$(BIN)/python tools/vendor_js.py
	touch $@

vendor: $(VENDOR)

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

build: $(STAMP) $(VENDOR)
	$(BUILD)

book: execute build
	@echo
	@echo "The book is built. Open $(SITE)/index.html, or run 'make serve' and visit http://127.0.0.1:$(PORT)"

pdf: $(STAMP) $(VENDOR) browser-deps
	$(BIN)/jupyter-book build . --builder singlehtml -W -n --keep-going
	PYTHONPATH=tools $(BIN)/python tools/print_book.py

# In CI a missing browser is installed (CI runs as root); elsewhere the tests say how to install it.
browser-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install it with 'sudo apt-get install -y chromium'"; fi; \
	fi

test: $(STAMP) $(VENDOR) browser-deps $(ESLINT)
	$(BIN)/python -m coverage run -m pytest tests chapters --ignore=tests/browser $(NBVAL) -q
	$(BIN)/python -m coverage report --skip-covered
	rm -rf $(SITE) _build/.doctrees _build/jupyter_execute
	$(BUILD)
	$(BIN)/python -m pytest tests/browser -q
	$(MAKE) --no-print-directory lint

# JavaScript linter: ESLint pinned in tools/lint/package.json, integrity in its package-lock.json.
$(ESLINT): tools/lint/package.json tools/lint/package-lock.json
	cd tools/lint && npm ci --silent --no-audit --no-fund
	touch $@

# Every linter runs, then the target fails if any of them found something.
lint: $(STAMP) $(ESLINT)
	status=0; \
	$(BIN)/ruff check --output-format=concise . || status=1; \
	$(BIN)/ruff format --check --output-format=concise . || status=1; \
	tools/lint/node_modules/.bin/eslint --config tools/lint/eslint.config.mjs lib/calcifications/static || status=1; \
	exit $$status

serve:
	@test -f $(SITE)/index.html || { echo "No built site: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory $(SITE)

lab: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir . --ServerApp.default_url=/lab/tree/chapters $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) $(VENDOR) browser-deps
	for script in benchmarks/bench_*.py; do echo "== $$script"; args=""; \
	  case $$script in *bench_radiograph.py) args="--out benchmarks/results/radiograph.txt";; esac; \
	  PYTHONPATH=tools $(BIN)/python $$script $$args; done

# Re-lock after changing pyproject.toml's dependencies or requirements/*.in: each group is
# compiled with hashes, constrained by the groups before it, keeping the current pins where
# they still fit. Upgrade with e.g. `make lock UPGRADE="--upgrade-package numpy"` (or --upgrade).
UV_COMPILE = $(BIN)/uv pip compile --quiet --no-strip-extras --generate-hashes --python-version 3.11.7 --custom-compile-command "make lock" $(UPGRADE)
lock: $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/runtime.in -o requirements/runtime.txt
	for group in $(filter-out runtime,$(GROUPS)); do $(UV_COMPILE) requirements/$$group.in -o requirements/$$group.txt; done

clean:
	rm -rf _build _vendor
