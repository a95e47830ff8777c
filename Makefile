# Two entry points: `make demo` runs the exchange's demo market, `make test` runs the suite.
# Both create or reuse .venv and install the project with what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COMPILED := $(VENV)/.compiled

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(COMPILED)

# setup.py compiles risk modules with mypyc beside their sources: rebuilt when they change
$(COMPILED): $(STAMP) setup.py $(wildcard risk/*.py)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(COMPILED)

demo: $(COMPILED)
	$(BIN)/ipx demo

test: $(COMPILED)
	$(BIN)/ruff check engine gateway marketdata risk benchmarks tests setup.py
	$(BIN)/python -m pytest

bench: $(COMPILED)
	$(BIN)/python benchmarks/engine_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info *.so risk/*.so
