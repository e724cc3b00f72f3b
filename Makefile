# Recorrente: `make run` to try it, `make test` to prove it. Both start from a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run`, `make test` and the benchmarks are development: DEBUG on (sandbox payments, console e-mail,
# no HTTPS redirect), set here explicitly because the settings default to production (README "Deploying").
DEV_ENV := DJANGO_DEBUG=true

.PHONY: help install deps static messages migrate demo run serve worker test lint check pytest test-deps bench bench-scale bench-subscribers bench-checkout bench-remote bench-webhooks bench-api clean

help:
	@echo "make run    install, migrate the embedded SQLite database, load demo data, serve web + worker on http://$(HOST):$(PORT)"
	@echo "make test   install, start a throwaway PostgreSQL, run ruff, checks and the whole test suite (+ SQLite smoke run)"
	@echo "make bench install, start a throwaway PostgreSQL, time the billing run (BENCH_SUBSCRIPTIONS=$(BENCH_SUBSCRIPTIONS), BENCH_WORKERS=\"$(BENCH_WORKERS)\")"
	@echo "make bench-scale  renewals/s of one billing run with 1, 2, 3 worker clusters (Redis broker, PostgreSQL)"
	@echo "make bench-remote  renewals/s charged through a 200 ms provider stub (Stripe PaymentIntents), 2 workers, then with one killed"
	@echo "make bench-webhooks  Stripe events/s accepted by one web process (granian), then applied by 2 workers"
	@echo "make bench-subscribers  seed BENCH_SUBSCRIBERS=$(BENCH_SUBSCRIBERS) subscriptions, time the Assinantes list and CSV export"
	@echo "make bench-api  seed BENCH_API_SUBSCRIPTIONS=$(BENCH_API_SUBSCRIPTIONS) subscriptions, time API reads through the web server"
	@echo "make bench-checkout  seed BENCH_CHECKOUT_SUBSCRIPTIONS=$(BENCH_CHECKOUT_SUBSCRIPTIONS) subscriptions, time the public checkout page and sign-ups"

# --- installation (locked) ---------------------------------------------------------------------
install: deps static messages

deps:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --quiet

static:
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --loglevel=error

# .po files are committed; the compiled .mo files are built here (Babel, so GNU gettext is not needed).
messages: deps
	.venv/bin/pybabel compile --domain=django --directory=locale --use-fuzzy --statistics 2>&1 | tail -n 2

# --- running -----------------------------------------------------------------------------------
migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(DEV_ENV) $(PY) manage.py setup_schedules
	$(DEV_ENV) $(PY) manage.py load_demo --url http://$(HOST):$(PORT)/

run: demo serve

# The processes of Procfile.dev (web, billing cluster, notifications cluster) under honcho; Ctrl-C stops
# them all within seconds (`manage.py worker`; exec so make's child is honcho itself).
serve:
	$(DEV_ENV) PORT=$(PORT) HOST=$(HOST) exec .venv/bin/honcho --procfile Procfile.dev start

# --- checks and tests ----------------------------------------------------------------------------
# Debian's chromium for the browser tests, GNU gettext to check that every string has its translation.
# Debian's redis-server for the scale-out test (scripts/with-redis.sh starts a throwaway one).
test-deps:
	@command -v chromium >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core gettext redis-server)

test: install test-deps
	scripts/run-tests.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

# Billing run: seeds BENCH_SUBSCRIPTIONS due renewals in a throwaway PostgreSQL and times the run with
# each worker count in BENCH_WORKERS (real processes); table and checks on stdout, see bench/README.md.
BENCH_SUBSCRIPTIONS ?= 200000
BENCH_WORKERS ?= 1 2
bench: install
	$(DEV_ENV) scripts/with-postgres.sh bash -c '$(PY) manage.py migrate --noinput -v 0 && \
	  $(PY) -m bench.billing_run --subscriptions $(BENCH_SUBSCRIPTIONS) --workers $(BENCH_WORKERS)'

# The production path at 1, 2, 3 worker clusters (`manage.py worker`, Redis broker) on one PostgreSQL:
# renewals/s of one billing run each; see bench/README.md.
BENCH_SCALE_SUBSCRIPTIONS ?= 20000
BENCH_SCALE_CLUSTERS ?= 1 2 3
bench-scale: install
	scripts/with-postgres.sh scripts/with-redis.sh bash -c '$(PY) manage.py migrate --noinput -v 0 && \
	  $(PY) -m bench.scale --subscriptions $(BENCH_SCALE_SUBSCRIPTIONS) --clusters $(BENCH_SCALE_CLUSTERS)'

# Remote provider: BENCH_REMOTE_SUBSCRIPTIONS due Stripe card subscriptions charged by 2 workers through a local
# provider stub answering in 200 ms (billing/services/remote_charging.py), then the same with one worker
# killed (SIGKILL) mid-phase-2; double charges counted on the stub's ledger. See bench/README.md.
BENCH_REMOTE_SUBSCRIPTIONS ?= 20000
bench-remote: install
	$(DEV_ENV) scripts/with-postgres.sh bash -c '$(PY) manage.py migrate --noinput -v 0 && \
	  $(PY) -m bench.remote --subscriptions $(BENCH_REMOTE_SUBSCRIPTIONS)'

# Stripe webhook ingest: BENCH_WEBHOOK_EVENTS signed events posted to one web process (granian, production
# settings, config/web.py), then applied by 2 workers; physical limits printed beside. See bench/README.md.
BENCH_WEBHOOK_EVENTS ?= 20000
bench-webhooks: install
	scripts/with-postgres.sh bash -c '$(PY) -m bench.webhooks --events $(BENCH_WEBHOOK_EVENTS) --migrate'

# Assinantes: seeds BENCH_SUBSCRIBERS subscriptions (customers, payments, timeline events) with COPY into a
# throwaway PostgreSQL, then times the list per filter and the full CSV export; see bench/README.md.
BENCH_SUBSCRIBERS ?= 1000000
bench-subscribers: install
	$(DEV_ENV) scripts/with-postgres.sh bash -c '$(PY) manage.py migrate --noinput -v 0 && \
	  $(PY) -m bench.subscribers --subscriptions $(BENCH_SUBSCRIBERS)'

# Public checkout: seeds BENCH_CHECKOUT_SUBSCRIPTIONS subscriptions like bench-subscribers, then times the
# checkout link's public page (bar: p95 < 100 ms), the coupon check, the order page and sign-ups.
BENCH_CHECKOUT_SUBSCRIPTIONS ?= 1000000
bench-checkout: install
	$(DEV_ENV) scripts/with-postgres.sh bash -c '$(PY) manage.py migrate --noinput -v 0 && \
	  $(PY) -m bench.checkout --subscriptions $(BENCH_CHECKOUT_SUBSCRIPTIONS)'

# Merchant API: seeds BENCH_API_SUBSCRIPTIONS subscriptions like bench-subscribers, creates an API key, then
# times GET /api/v1/subscriptions/{id} (bar p95 < 30 ms) and the access check (bar p95 < 20 ms) through one
# web process (granian, production settings), beside the same server's floor; see bench/README.md.
BENCH_API_SUBSCRIPTIONS ?= 1000000
bench-api: install
	scripts/with-postgres.sh $(PY) -m bench.api --migrate --subscriptions $(BENCH_API_SUBSCRIPTIONS)

clean:
	rm -rf .venv node_modules var staticfiles .pytest_cache .ruff_cache
