#!/usr/bin/env bash
# The whole check, as CI runs it: lint, Django's checks, the full suite on PostgreSQL (browser tests
# included), then a smoke run of the non-browser suite on the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
# The development configuration, explicitly (the settings default to production); tests of the
# production configuration set their own environment in subprocesses.
export DJANGO_DEBUG=true

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== django checks"
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run
.venv/bin/python scripts/check_translations.py

echo "== pytest on PostgreSQL (unit, PostgreSQL-only, browser and scale-out tests; Redis for the last)"
scripts/with-postgres.sh scripts/with-redis.sh --as TEST_REDIS_URL .venv/bin/pytest -p no:cacheprovider "$@"

echo "== pytest smoke run on SQLite"
SQLITE_TEST_NAME="" .venv/bin/pytest -p no:cacheprovider -q -m "not browser and not postgres" "$@"
