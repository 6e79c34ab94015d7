# Two commands: `make run` (set up and serve) and `make test` (set up and test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Loopback only by default: the demo's passwords are public. ADDRESS=0.0.0.0 serves the network.
ADDRESS ?= 127.0.0.1
export CM_DB_PATH ?= $(CURDIR)/data/customers.duckdb

.PHONY: run test setup db secrets bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# A random cookie-signing key on first start; never overwritten.
secrets: setup
	$(PY) -m lib.cli secrets --file .streamlit/secrets.toml

# Demo data and demo users on first start (idempotent).
db: setup
	$(PY) -m lib.cli init --demo

run: setup secrets db
	$(PY) -m streamlit run server.py --server.address $(ADDRESS) --server.port $(PORT)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/bench_core.py

clean:
	rm -rf $(VENV) .pytest_cache
