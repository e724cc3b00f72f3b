#!/usr/bin/env bash
# The whole check, as CI runs it: lint, Django's checks, the full suite on PostgreSQL (browser tests
# included), then a smoke run on the embedded SQLite database of what `make run` exercises there.
#
# Both runs are spread over PYTEST_WORKERS processes with pytest-xdist (default: one per CPU core; 0 runs
# in one process). Each worker gets its own test database (test_recorrente_gw0, … on PostgreSQL; its own
# in-memory database on SQLite), its own live server and browser; see docs/architecture.md, "Tests".
# `--dist loadgroup` keeps tests marked `@pytest.mark.xdist_group(name)` on one worker.
set -euo pipefail
cd "$(dirname "$0")/.."
# The development configuration, explicitly (the settings default to production); tests of the
# production configuration set their own environment in subprocesses.
export DJANGO_DEBUG=true
PARALLEL=(-n "${PYTEST_WORKERS:-auto}" --dist loadgroup)

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== import layers (import-linter, pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports --no-cache

echo "== django checks"
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run
.venv/bin/python scripts/check_translations.py

echo "== pytest on PostgreSQL (unit, PostgreSQL-only, browser and scale-out tests; Redis for the last)"
# --durations: the slowest tests in every CI log, to keep the suite within its 10-minute budget.
scripts/with-postgres.sh scripts/with-redis.sh --as TEST_REDIS_URL .venv/bin/pytest -p no:cacheprovider "${PARALLEL[@]}" \
    --durations=20 "$@"

# The SQLite smoke run: what `make run` does on the embedded database — migrations and the demo data,
# every page of every role (the URL walker), the lists, export and dashboard queries, the billing run and
# its bulk writes. The rest of the suite is database-neutral ORM code already run on PostgreSQL above;
# repeating all of it here cost a quarter of `make test`'s time and kept it over its 10-minute budget.
SQLITE_SMOKE=(
    tests/test_demo.py tests/test_isolation.py tests/dashboard tests/plans
    tests/subscribers/test_subscriber_list.py tests/subscribers/test_subscriber_export.py
    tests/subscribers/test_subscription_views.py tests/billing/test_renewal_engine.py
    tests/billing/test_batch.py tests/billing/test_lifecycles.py tests/billing/test_invoice_views.py
    tests/core/test_autocommit_fetchone.py
)
echo "== pytest smoke run on SQLite"
SQLITE_TEST_NAME="" .venv/bin/pytest -p no:cacheprovider "${PARALLEL[@]}" -q -m "not browser and not postgres" \
    "${SQLITE_SMOKE[@]}" "$@"
