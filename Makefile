# kassa: `make run` sets everything up and serves; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use: the browser for the widget and dashboard tests, wrk for the
# benchmark smoke runs, pgbouncer for the scale-out test. Installed once when missing.
SYSTEM_TOOLS := /usr/bin/chromium:chromium /usr/bin/wrk:wrk /usr/sbin/pgbouncer:pgbouncer

.PHONY: run test lint types unit install system bench-tools clean

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
