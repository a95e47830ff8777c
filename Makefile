# Two entry points: `make demo` runs the exchange's demo market, `make test` runs the suite.
# Both create or reuse .venv and install the project with what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

# setup.py compiles risk modules with mypyc beside their sources: reinstalled when they change
$(STAMP): pyproject.toml setup.py $(wildcard risk/*.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ipx demo

test: $(STAMP)
	$(BIN)/ruff check engine gateway marketdata risk benchmarks tests setup.py
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info *.so risk/*.so
