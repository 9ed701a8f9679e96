# pubcredit: every target works on a fresh machine; `make run` and `make test` are the two that matter.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SUBJECTS ?= 2000

.PHONY: install run serve test test-sqlite test-postgres test-citus lint format lock messages bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Regenerate the pinned lock from pyproject's ranges (run after changing dependencies).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install -q --upgrade pip
	.lockenv/bin/python -m pip install -q -e '.[dev]'
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^pubcredit' > requirements.lock
	rm -rf .lockenv

# Serves with the task worker (db_worker) and the scheduler beside runserver (`pubcredit serve`):
# Ctrl-C, or any of the three stopping, stops all three. A developer's laptop: DEBUG on (Django's
# error pages, the demo staff accounts) unless PUBCREDIT_DEBUG=0 is given; a production site
# runs the processes itself, with DEBUG off (README, "Production").
run serve: export PUBCREDIT_DEBUG ?= 1
run: install
	$(BIN)/pubcredit migrate --noinput
	$(BIN)/pubcredit setup --demo-subjects $(DEMO_SUBJECTS)
	$(BIN)/pubcredit serve $(HOST):$(PORT)

# The same three processes without migrate/setup.
serve: install
	$(BIN)/pubcredit serve $(HOST):$(PORT)

# One test process per core, at most TEST_WORKERS_MAX (pytest-xdist; each has its own test
# database). TEST_WORKERS=0 runs everything in this process. --dist loadgroup: the tests of an
# xdist_group (a module sharing an expensive module fixture) go to one worker.
TEST_WORKERS_MAX ?= 2
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt $(TEST_WORKERS_MAX) ] && n=$(TEST_WORKERS_MAX); echo $$n)

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

# The scale suite (scale/, outside `make test`) on a local three-node Citus cluster: a coordinator
# and two workers on 127.0.0.1:5440-5442 (../shared/vendor/citus/cluster.sh; needs root and Citus
# built into PostgreSQL 15 by build.sh). The suite creates its database on the three nodes,
# migrates, distributes (`pubcredit scaleout distribute`) and runs the daily paths on it.
CITUS_VENDOR ?= $(firstword $(wildcard $(abspath ../shared/vendor/citus) /work/shared/vendor/citus) $(abspath ../shared/vendor/citus))
CITUS_DB ?= pubcredit_scale
test-citus: install
	bash $(CITUS_VENDOR)/cluster.sh start >/dev/null
	DATABASE_URL=postgres://postgres@127.0.0.1:5440/$(CITUS_DB) $(BIN)/pytest -p no:xdist -p no:cacheprovider scale

# ruff, then the layers (import-linter: pyproject's [tool.importlinter], docs/architecture.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Chinese strings are the msgids; refresh the English catalogue, translate the new entries in
# pubcredit/locale/en/LC_MESSAGES/django.po, then compile (the .mo file is committed).
messages: install
	cd pubcredit && ../$(BIN)/pubcredit makemessages -l en --no-obsolete --ignore='static/vendor/*' && ../$(BIN)/pubcredit compilemessages -l en

# Every benchmark at a size that fits in about 15 minutes on 2 cores (benchmarks/run_all.py), on
# the PostgreSQL at BENCH_POSTGRES: one JSON and one Markdown table of each figure beside its
# floor in benchmarks/out/ (bench-<stamp>.json/.md and bench.md). BENCH_ARGS: e.g. --only scoring.
# frictionless (the intake benchmarks' floor) is not a project dependency: it gets a virtual
# environment of its own, var/bench-tools, which the runner puts on the benchmarks' PATH.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432
BENCH_TOOLS := var/bench-tools
$(BENCH_TOOLS)/bin/frictionless:
	rm -rf $(BENCH_TOOLS) && $(PYTHON) -m venv $(BENCH_TOOLS)
	$(BENCH_TOOLS)/bin/python -m pip install -q frictionless

bench: install $(BENCH_TOOLS)/bin/frictionless
	$(BIN)/python benchmarks/run_all.py --postgres $(BENCH_POSTGRES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var
