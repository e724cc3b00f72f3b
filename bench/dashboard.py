"""Dashboard benchmark: N subscriptions (and a year of their payments) on PostgreSQL, then the Painel's
response time for every period preset through django.test.Client.

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate --noinput &&
        .venv/bin/python -m bench.dashboard --subscriptions 200000'

What it does:

1. Seeds, with PostgreSQL COPY and explicit ids, one merchant (America/Sao_Paulo), five plans (monthly,
   quarterly, annual and weekly in BRL, monthly in USD), N customers and N subscriptions spread over
   three years in every status (mixed quantities, some percent discounts, trials, cancellations with
   origin and reason), and for the last `--months` months one paid invoice + succeeded payment per
   billing period of every subscription that was running (the past-due ones end with an open invoice
   and a failed payment; the refunded ones with a refunded payment and its refund).
2. Refreshes the MRR history snapshot (dashboard.tasks.refresh_snapshots, what the daily django-q2
   schedule runs) and times it.
3. Signs an owner in and times GET / for each period preset (`--repeat` times each, after one warm-up
   request), printing p50 / p95 / max and the number of queries of one request.

It refuses to run on SQLite and wipes a previous run's merchant (same slug) first, so give it a
throwaway database (scripts/with-postgres.sh does).
"""

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

BENCH_SLUG = "bench-dashboard"
# (name, price, currency, interval unit, interval count, weight)
PLANS = [
    ("Mensal", 4990, "BRL", "month", 1, 55),
    ("Trimestral", 12990, "BRL", "month", 3, 15),
    ("Anual", 49900, "BRL", "year", 1, 15),
    ("Semanal", 1990, "BRL", "week", 1, 3),
    ("Monthly (USD)", 990, "USD", "month", 1, 12),
]
STATUSES = [
    ("active", 60),
    ("trialing", 4),
    ("past_due", 5),
    ("pending", 2),
    ("scheduled", 2),
    ("canceled", 20),
    ("expired", 5),
    ("refunded", 2),
]
ORIGINS = [("customer", 60), ("seller", 30), ("admin", 10)]
REASONS = ["Preço alto", "Não uso mais", "Mudei de serviço", "Problemas técnicos", "Mudança de endereço", ""]
METHODS = [("card", 70), ("boleto", 15), ("pix", 15)]
HISTORY_DAYS = 3 * 365


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def _next_ids(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def _defaults(table: str, columns: list[str]) -> tuple[list[str], tuple]:
    """The table's other NOT NULL columns and their model defaults. The seed lists the columns it varies;
    a field added later with a default (the customer's address, the cancellation reason's code) must not
    make the COPY fail on a NOT NULL it never heard of (Django sets defaults in Python, not in the table)."""
    from django.apps import apps
    from django.db import connection

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    extra, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.null or field.primary_key:
            continue
        default = field.get_default()
        if default is not None:
            extra.append(field.column)
            values.append(field.get_db_prep_save(default, connection))
    return extra, tuple(values)


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    extra, values = _defaults(table, columns)
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join([*columns, *extra])}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, *values))
            count += 1
    return count


# The tables the seed fills. Their secondary indexes (a dozen on subscriptions, trigram GIN included) are
# dropped for the load and built once afterwards, and foreign keys are not checked row by row: updating
# every index per COPYed row, plus a later UPDATE of every subscription rewriting them all again, is what
# made a 1M seed take ~45 minutes on the shared machine.
LOADED_TABLES = (
    "subscribers_customer",
    "subscribers_subscription",
    "billing_invoice",
    "billing_payment",
    "billing_refund",
)


@contextlib.contextmanager
def bulk_load(cursor, tables=LOADED_TABLES):
    """Drops `tables`' secondary indexes (not those behind a primary key or unique constraint) and turns
    off foreign-key triggers for the session while the body loads, then builds the indexes again.

    Foreign keys stay declared and unchecked for the seed's own rows, which it writes consistent (explicit
    ids); `session_replication_role` needs a superuser, which scripts/with-postgres.sh gives. Run
    `analyze(cursor, tables)` afterwards (one VACUUM ANALYZE per table, for the planner and the
    visibility map of index-only scans)."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")


def analyze(cursor, tables=LOADED_TABLES) -> None:
    for table in tables:
        cursor.execute(f"VACUUM ANALYZE {table}")


def _reset_sequence(cursor, table: str) -> None:
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def _first_index(anchor, plan, window_start) -> int:
    """A period index at or just before `window_start` (so seeding does not walk three years of weeks)."""
    if anchor >= window_start:
        return 0
    if plan.interval_unit in ("month", "year"):
        months = (window_start.year - anchor.year) * 12 + window_start.month - anchor.month
        per = plan.interval_count * (12 if plan.interval_unit == "year" else 1)
        return max(months // per - 1, 0)
    days = plan.interval_count * (7 if plan.interval_unit == "week" else 1)
    return max((window_start - anchor).days // days - 1, 0)


def wipe(slug: str = BENCH_SLUG) -> None:
    """Removes a previous run's merchant and everything it owns."""
    from django.db import connection

    from accounts.models import Merchant

    merchant = Merchant.objects.filter(slug=slug).first()
    if merchant is None:
        return
    with connection.cursor() as cursor:
        for table in [
            "billing_refund",
            "billing_payment",
            "billing_invoice",
            "subscribers_subscription",
            "subscribers_customer",
            "plans_plan",
        ]:
            cursor.execute(f"DELETE FROM {table} WHERE merchant_id = %s", [merchant.pk])
    merchant.delete()


def _plain_customer(i: int) -> tuple[str, str, str]:
    return f"Cliente {i}", f"c{i}@bench.example", f"c{i}"


def seed(
    n: int,
    *,
    months: int = 13,
    seed_value: int = 20240601,
    slug: str = BENCH_SLUG,
    customer=_plain_customer,
    name: str = "Bench Painel",
    salespeople=None,
    load_more=None,
    tables=LOADED_TABLES,
):
    """One merchant with n subscriptions and `months` months of payments. Returns (merchant, counts).

    `customer(i)` gives the i-th customer's (name, e-mail, handle); e-mails must be unique.
    `salespeople(merchant)` (optional) gives a list of user ids or None: subscription id k gets
    the (k mod length)-th. `load_more(cursor, merchant, counts)` (optional) loads more rows while the
    indexes of `tables` are dropped (see bulk_load).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Merchant
    from plans.models import Plan
    from plans.periods import add_interval
    from subscribers.models import SEARCH_SEPARATOR
    from subscribers.pricing import subscription_amount

    rng = random.Random(seed_value)
    now = timezone.now().replace(microsecond=0)
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor, bulk_load(cursor, tables):
        merchant = Merchant.objects.create(name=name, slug=slug, timezone="America/Sao_Paulo")
        people = salespeople(merchant) if salespeople else [None]
        today = merchant.localdate(now)
        plans = [
            Plan.objects.create(
                merchant=merchant,
                name=name,
                price=price,
                currency=currency,
                interval_unit=unit,
                interval_count=count,
            )
            for name, price, currency, unit, count, _weight in PLANS
        ]
        plan_weights = [weight for *_rest, weight in PLANS]

        first_customer = _next_ids(cursor, "subscribers_customer")
        counts["customers"] = _copy(
            cursor,
            "subscribers_customer",
            ["id", "merchant_id", "name", "email", "handle", "document", "phone", "created_at", "updated_at"],
            ((first_customer + i, merchant.pk, *customer(i), "", "", now, now) for i in range(n)),
        )

        sub_columns = [
            "id", "merchant_id", "customer_id", "plan_id", "quantity", "status", "payment_method", "origin",
            "provider", "provider_id", "payment_token", "card_brand", "card_last4", "currency", "amount",
            "discount_type", "discount_percent", "contract_date", "billing_cycle_anchor", "started_at",
            "trial_ends_at", "current_period_start", "current_period_end", "ended_at", "cancel_at",
            "cancel_when", "cancel_origin", "cancel_reason", "notify_customer", "created_at", "updated_at",
            "search_text", "resume_mode", "salesperson_id",
        ]  # fmt: skip
        first_sub = _next_ids(cursor, "subscribers_subscription")
        billed = []  # (subscription id, customer id, plan, amount, currency, method, anchor, until, status)

        def subscriptions():
            for i in range(n):
                plan = rng.choices(plans, weights=plan_weights, k=1)[0]
                status = _weighted(rng, STATUSES)
                quantity = 1 if rng.random() < 0.85 else rng.randint(2, 5)
                discounted = rng.random() < 0.1
                amount = subscription_amount(
                    price=plan.price,
                    quantity=quantity,
                    discount_type="percent" if discounted else "",
                    discount_percent=10 if discounted else None,
                )
                method = _weighted(rng, METHODS)
                if status == "scheduled":
                    contract = today + dt.timedelta(days=rng.randint(1, 30))
                elif status == "trialing":
                    contract = today - dt.timedelta(days=rng.randint(0, 13))
                elif status == "pending":
                    contract = today - dt.timedelta(days=rng.randint(0, 5))
                else:
                    contract = today - dt.timedelta(days=rng.randint(14, HISTORY_DAYS))
                start = merchant.start_of_day(contract) + dt.timedelta(hours=9)
                started = None if status == "scheduled" else start
                trial_end = start + dt.timedelta(days=14) if status == "trialing" else None
                ended = origin = reason = None
                if status in ("canceled", "expired", "refunded"):
                    ended = start + (now - start) * rng.random()
                    if status != "expired":
                        origin, reason = _weighted(rng, ORIGINS), rng.choice(REASONS)
                period_start = trial_end or start
                sub_id = first_sub + i
                if status in ("active", "past_due", "canceled", "expired", "refunded"):
                    billed.append(
                        (sub_id, first_customer + i, plan, amount, method, start, ended or now, status)
                    )
                yield (
                    sub_id, merchant.pk, first_customer + i, plan.pk, quantity, status, method, "screen",
                    "", "", "", "", "", plan.currency, amount,
                    "percent" if discounted else "", 10 if discounted else None, contract, trial_end or start,
                    started, trial_end, period_start, period_start + dt.timedelta(days=30), ended, ended,
                    "now" if origin else "", origin or "", reason or "", False, start, now,
                    # Subscription.search_text: the customer's name, e-mail, handle and (empty) document.
                    SEARCH_SEPARATOR.join([*customer(i), "", ""]),
                    "",  # resume_mode: never paused
                    people[sub_id % len(people)],
                )  # fmt: skip

        counts["subscriptions"] = _copy(cursor, "subscribers_subscription", sub_columns, subscriptions())

        window_start = now - dt.timedelta(days=31 * months)
        first_invoice = _next_ids(cursor, "billing_invoice")
        first_payment = _next_ids(cursor, "billing_payment")

        def periods():
            """(number, subscription row, begin, end, unpaid, refunded) for every billed period in the window,
            the same sequence on every call, so invoices, payments and refunds are three streaming COPYs."""
            number = 0
            for row in billed:
                _sub_id, _customer_id, plan, _amount, _method, anchor, until, status = row
                index = _first_index(anchor, plan, window_start)
                begins = []
                while True:
                    begin = add_interval(anchor, plan.interval_unit, plan.interval_count, index)
                    if begin >= until:
                        break
                    if begin >= window_start:
                        begins.append(
                            (begin, add_interval(anchor, plan.interval_unit, plan.interval_count, index + 1))
                        )
                    index += 1
                for position, (begin, end) in enumerate(begins):
                    last = position == len(begins) - 1
                    number += 1
                    yield (
                        number,
                        row,
                        begin,
                        end,
                        last and status == "past_due",
                        last and status == "refunded",
                    )

        def invoices():
            for number, row, begin, end, unpaid, refunded in periods():
                sub_id, customer_id, plan, amount, _method, _anchor, _until, _status = row
                created = begin + dt.timedelta(minutes=5)
                yield (
                    first_invoice + number - 1, merchant.pk, sub_id, customer_id, number, "recurring",
                    "open" if unpaid else "paid", begin, end, plan.currency, amount, 0, 0, amount,
                    0 if unpaid else amount, amount if refunded else 0, begin, 1, None if unpaid else created,
                    created,
                )  # fmt: skip

        def payments():
            for number, row, begin, _end, unpaid, refunded in periods():
                _sub_id, _customer_id, plan, amount, method, _anchor, _until, _status = row
                created = begin + dt.timedelta(minutes=5)
                payment_id = first_payment + number - 1
                yield (
                    payment_id, merchant.pk, first_invoice + number - 1, 1, amount, plan.currency, method,
                    "sandbox", "", "failed" if unpaid else ("refunded" if refunded else "succeeded"), "", "",
                    f"bench-{payment_id}", amount if refunded else 0, None if unpaid else created, created,
                )  # fmt: skip

        def refunds():
            for number, row, _begin, _end, _unpaid, refunded in periods():
                if refunded:
                    payment_id = first_payment + number - 1
                    yield (merchant.pk, payment_id, row[3], "", "succeeded", "", "", "", row[6])

        counts["invoices"] = _copy(
            cursor,
            "billing_invoice",
            [
                "id",
                "merchant_id",
                "subscription_id",
                "customer_id",
                "number",
                "kind",
                "status",
                "period_start",
                "period_end",
                "currency",
                "subtotal",
                "discount",
                "tax",
                "total",
                "amount_paid",
                "amount_refunded",
                "due_at",
                "attempt_count",
                "paid_at",
                "created_at",
            ],  # fmt: skip
            invoices(),
        )
        counts["payments"] = _copy(
            cursor,
            "billing_payment",
            [
                "id",
                "merchant_id",
                "invoice_id",
                "attempt",
                "amount",
                "currency",
                "method",
                "gateway",
                "gateway_reference",
                "status",
                "failure_code",
                "failure_message",
                "idempotency_key",
                "amount_refunded",
                "settled_at",
                "created_at",
            ],  # fmt: skip
            payments(),
        )
        counts["refunds"] = _copy(
            cursor,
            "billing_refund",
            [
                "merchant_id",
                "payment_id",
                "amount",
                "reason",
                "status",
                "gateway_reference",
                "failure_code",
                "failure_message",
                "created_at",
            ],  # fmt: skip
            refunds(),
        )
        for table in [
            "subscribers_customer",
            "subscribers_subscription",
            "billing_invoice",
            "billing_payment",
        ]:
            _reset_sequence(cursor, table)
        # COPY sends no signals: each subscription's last payment status, in one pass over the payments.
        from billing.services.last_payment import sync_all_last_payment_status

        sync_all_last_payment_status(connection)
        if load_more:
            load_more(cursor, merchant, counts)
    with connection.cursor() as cursor:
        analyze(cursor, tables)
    return merchant, counts


# --- timing ----------------------------------------------------------------------------------------------
def _owner(merchant):
    from django.contrib.auth import get_user_model

    from accounts.choices import Role
    from accounts.models import Membership

    user, _created = get_user_model().objects.get_or_create(username=f"{merchant.slug}-owner")
    Membership.objects.get_or_create(user=user, merchant=merchant, defaults={"role": Role.OWNER})
    return user


def time_requests(merchant, *, repeat: int) -> list[dict]:
    """p50 / p95 / max of GET / for each preset (one warm-up request first), and one request's queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dashboard.periods import Preset

    client = Client()
    client.force_login(_owner(merchant))
    today = merchant.localdate()
    presets = [p for p in Preset.values if p != Preset.CUSTOM]
    params = {preset: {"period": preset} for preset in presets}
    params["custom (2 years)"] = {
        "period": "custom",
        "start": today.replace(year=today.year - 2).isoformat(),
        "end": today.isoformat(),
    }
    rows = []
    for name, query in params.items():
        assert client.get("/", query).status_code == 200
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/", query)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get("/", query)
        timings.sort()
        rows.append(
            {
                "period": name,
                "p50": statistics.median(timings),
                "p95": timings[max(int(len(timings) * 0.95) - 1, 0)] if len(timings) >= 20 else timings[-1],
                "max": timings[-1],
                "queries": len(queries),
            }
        )
    return rows


def _print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'period':<18} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for row in rows:
        timings = f"{row['p50']:>8.1f} {row['p95']:>8.1f} {row['max']:>8.1f}"
        print(f"{row['period']:<18} {timings} {row['queries']:>8}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--subscriptions", "-n", type=int, default=200_000, help="subscriptions (default 200000)"
    )
    parser.add_argument("--months", type=int, default=13, help="months of payments to seed (default 13)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per period (default 20)")
    parser.add_argument("--reuse", action="store_true", help="keep a previous run's data instead of seeding")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop (time later with --reuse)")
    parser.add_argument(
        "--slug", default=BENCH_SLUG, help="the bench merchant's slug (several sizes side by side)"
    )
    parser.add_argument(
        "--live", action="store_true", help="also time the live path (no snapshot) — slow on large merchants"
    )
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    from accounts.models import Merchant
    from dashboard import services
    from dashboard.models import MetricFact

    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh (or set DATABASE_URL)")

    merchant = Merchant.objects.filter(slug=options.slug).first() if options.reuse else None
    if merchant is None:
        wipe(options.slug)
        started = time.perf_counter()
        merchant, counts = seed(options.subscriptions, months=options.months, slug=options.slug)
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}")
        if options.seed_only:
            return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {version}")

    started = time.perf_counter()
    snapshot = services.snapshot_refresh(merchant=merchant)
    facts = MetricFact.objects.filter(merchant=merchant).count()
    print(f"snapshot refresh: {time.perf_counter() - started:.2f} s ({facts} daily facts)")
    _print_rows(
        f"stored snapshot ({snapshot.subscriptions} subscriptions)",
        time_requests(merchant, repeat=options.repeat),
    )
    if options.live:
        services.snapshot_drop(merchant=merchant)
        _print_rows("live (no snapshot)", time_requests(merchant, repeat=max(options.repeat // 4, 3)))
        services.snapshot_refresh(merchant=merchant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
