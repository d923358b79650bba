# Two commands do all set-up on a fresh machine (Python 3.10+ and the package index):
#   make demo   runs the example DAG for one day against the embedded Genesys sandbox
#   make test   runs the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python scripts/demo.py

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check airflow_provider_genesys tests dags benchmarks scripts
	$(BIN)/ruff format --check airflow_provider_genesys tests dags benchmarks scripts
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/engine_vs_naive.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
