# Two commands do everything on a fresh machine (Python 3.11, pip, node/npm, apt):
#   make book   set up, execute the notebooks, build the site into _build/html
#   make test   everything CI checks
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
VENDOR := _vendor/widgets/.stamp
SITE := _build/html
PORT ?= 8000
# pip warns about this machine's unused local package mirrors; keep real messages only.
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true
BUILD := $(BIN)/jupyter-book build . -W -n --keep-going
NBVAL := --nbval --nbval-sanitize-with tools/nbval_sanitize.cfg

.PHONY: help setup vendor execute build book pdf test browser-deps serve lab bench lock clean

help:
	@echo "make book   set up .venv, execute the notebooks, build the site into $(SITE)"
	@echo "make test   unit tests, nbval on every notebook, strict book build, browser tests"
	@echo "make serve  serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make pdf    the whole book as one PDF (_build/pdf/)"
	@echo "make bench  benchmarks: build, nbval, page weights, engines, static calculator"

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | $(QUIET_PIP)
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

test: $(STAMP) $(VENDOR) browser-deps
	$(BIN)/python -m pytest tests chapters --ignore=tests/browser $(NBVAL) -q
	rm -rf $(SITE) _build/.doctrees _build/jupyter_execute
	$(BUILD)
	$(BIN)/python -m pytest tests/browser -q

serve:
	@test -f $(SITE)/index.html || { echo "No built site: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory $(SITE)

lab: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir chapters $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) $(VENDOR) browser-deps
	for script in benchmarks/bench_*.py; do echo "== $$script"; PYTHONPATH=tools $(BIN)/python $$script; done

# Re-pin every dependency from requirements.in (run after changing it).
lock:
	rm -rf /tmp/calcifications-lock && $(PYTHON) -m venv /tmp/calcifications-lock
	/tmp/calcifications-lock/bin/pip install --quiet -r requirements.in 2>&1 | $(QUIET_PIP)
	/tmp/calcifications-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf _build _vendor
