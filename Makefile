# The two commands of the README: `make run` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := wsgi

.PHONY: run test venv deps dev-deps migrate seed fuzz clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

migrate: deps
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed demo --if-empty

## Install, migrate, load the demo county if the database is empty, serve on $(HOST):$(PORT)
## (127.0.0.1 by default: it serves development secrets and demo passwords).
run: seed
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

## Install test tools and run the suite (SQLite; set TEST_DATABASE_URL for MariaDB).
test: dev-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## Schemathesis over the served OpenAPI spec (CI runs this too).
fuzz: dev-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/*.sqlite3
