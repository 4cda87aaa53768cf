# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint loadtest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start Postgres, Redis, a demo election and all three services (Ctrl-C stops them).
run: $(STAMP)
	$(BIN)/ballotline up

## Install and run the whole test suite against real Postgres and Redis.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Static checks: undefined names, unused imports, import order.
lint: $(STAMP)
	$(BIN)/ruff check services tests loadtests

clean:
	rm -rf $(VENV) .data .pytest_cache

## Election day under load (issue 5): seed 1,000,000 voters, 50,000 Locust users, audit, report.
## LOADTEST_ARGS="--users 20000 --hold 180" changes the run (python -m loadtests.run --help).
loadtest: $(STAMP)
	$(BIN)/python -m loadtests.run --profile full $(LOADTEST_ARGS)

## The same scenario and audit with a few hundred users for about a minute (also in make test).
## Faults under load (kill -9, SIGTERM, Postgres restarts and outage, Redis), each audited.
.PHONY: chaos
chaos: $(STAMP)
	$(BIN)/python -m loadtests.chaos $(CHAOS_ARGS)

.PHONY: loadtest-smoke
loadtest-smoke: $(STAMP)
	$(BIN)/python -m loadtests.run --profile smoke $(LOADTEST_ARGS)
