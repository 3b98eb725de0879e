# kassa: `make run` sets everything up and serves; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use: the browser for the widget and dashboard tests, wrk for the
# benchmark smoke runs, pgbouncer for the scale-out test. Installed once when missing.
SYSTEM_TOOLS := /usr/bin/chromium:chromium /usr/bin/wrk:wrk /usr/sbin/pgbouncer:pgbouncer

.PHONY: run test lint types unit install system bench-tools bench clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./sdk  # kassa-client first: kassa depends on it (kassa call)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  [ -x "$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Baselines of `kassa bench` that are not dependencies of kassa: localstripe (the offline
# Stripe fake) in its own venv, as its aiohttp pins differ from ours. Never needed by the tests.
bench-tools: var/bench-tools/bin/localstripe

var/bench-tools/bin/localstripe:
	$(PYTHON) -m venv var/bench-tools
	var/bench-tools/bin/pip install --quiet localstripe==1.15.10

# Every `kassa bench` scenario on PostgreSQL and SQLite, reports into docs/benchmarks/ (about
# 20 minutes; run it on a quiet machine). Not part of `make test`.
BENCH := $(BIN)/kassa bench
BENCH_OUT := --out docs/benchmarks
SQLITE_BENCH := --database-url sqlite:///var/bench.sqlite3
bench: $(STAMP) system bench-tools
	$(BENCH) create --workers 2 --profile $(BENCH_OUT)
	$(BENCH) create $(SQLITE_BENCH) $(BENCH_OUT)
	$(BENCH) status $(BENCH_OUT)
	$(BENCH) cpu $(BENCH_OUT)
	$(BENCH) cpu $(SQLITE_BENCH) $(BENCH_OUT)
	$(BENCH) status $(SQLITE_BENCH) $(BENCH_OUT)
	$(BENCH) card-flow --profile $(BENCH_OUT)
	$(BENCH) card-flow $(SQLITE_BENCH) $(BENCH_OUT)
	$(BENCH) refund $(BENCH_OUT)
	$(BENCH) payout-flow $(BENCH_OUT)
	$(BENCH) mixed $(BENCH_OUT)
	$(BENCH) mixed $(SQLITE_BENCH) $(BENCH_OUT)
	$(BENCH) webhooks $(BENCH_OUT)
	$(BENCH) sizes --sessions 1000000 $(BENCH_OUT)
	$(BENCH) soak --requests 1000000 $(BENCH_OUT)

run: $(STAMP)
	$(BIN)/kassa migrate
	$(BIN)/kassa serve --demo

lint: $(STAMP)
	$(BIN)/ruff format --check src tests sdk
	$(BIN)/ruff check src tests sdk

types: $(STAMP)
	$(BIN)/mypy

# Two pytest workers, whole files each (module fixtures such as one server per module stay
# whole); most tests wait on servers, webhooks and processes, so two overlap well on 2 cores.
TEST_WORKERS ?= 2

test: system lint types
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
