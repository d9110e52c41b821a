# The two commands of the README: `make run` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := wsgi

.PHONY: run test venv deps dev-deps migrate seed fuzz clean cluster-up cluster-down cluster-test

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

## A local Galera cluster on loopback: 3 nodes, 3 app servers, nginx on :8800
## (deploy/cluster.sh; docs/operations.md "Cluster").
COOP_CLUSTER_DIR ?= /tmp/coop-cluster
export COOP_CLUSTER_DIR
# The suite's API tests in cluster mode (tests/conftest.py, TEST_CLUSTER_DB_URLS): each
# unit of work on the next node. Every API folder; not the browser (console), the
# single-server internals (integration, unit), the CLI drills (ops), fuzz and bench.
CLUSTER_API_TESTS ?= tests/api tests/shares tests/payouts tests/county tests/distribution \
	tests/registry tests/places tests/city tests/auth tests/onboarding tests/notifications \
	tests/reports tests/abuse

cluster-up: dev-deps
	deploy/cluster.sh up

cluster-down:
	deploy/cluster.sh down

## Against a running cluster (`make cluster-up` first; this starts nothing): the cluster
## tests through the entry point, the API tests with requests spread over the three nodes,
## then the audit chain verified on every node. All three run; any failure fails the target.
cluster-test: dev-deps
	@test -f $(COOP_CLUSTER_DIR)/env || { echo "no cluster in $(COOP_CLUSTER_DIR): make cluster-up" >&2; exit 1; }
	@. $(COOP_CLUSTER_DIR)/env; failed=""; \
	COOP_CLUSTER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/cluster $(PYTEST_ARGS) \
	  || failed="$$failed tests/cluster"; \
	TEST_CLUSTER_DB_URLS="$$COOP_CLUSTER_TEST_DB_URLS" \
	  $(BIN)/python -m pytest -q -p no:cacheprovider $(CLUSTER_API_TESTS) $(PYTEST_ARGS) \
	  || failed="$$failed api-tests"; \
	for url in $$COOP_CLUSTER_DB_URLS; do \
	  echo "flask audit verify on $${url##*@}"; \
	  DATABASE_URL="$$url" COOP_ENV=development $(BIN)/flask audit verify || failed="$$failed audit"; \
	done; \
	if [ -n "$$failed" ]; then echo "cluster-test failed:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) instance/*.sqlite3
