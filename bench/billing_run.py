"""Billing-run benchmark: N due renewals on PostgreSQL, processed by W real worker processes.

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate --noinput &&
        .venv/bin/python -m bench.billing_run --subscriptions 20000 --workers 1 2'

What it does (see bench/README.md for the figures):

1. Seeds, with PostgreSQL COPY, one merchant, one monthly plan, N customers and N active card
   subscriptions (empty payment token: the sandbox charges it as 4242…, which succeeds).
2. For each worker count W: resets the billing tables and makes all N subscriptions due again
   (next_invoice_at = now − 1 minute, anchor and current period consistent with it), starts W OS
   processes (multiprocessing, "spawn"; each runs django.setup() and connects before the clock starts),
   then times, from one wall clock: `billing_run_start` (finds the due work and splits it into chunks,
   with a dispatch that collects them instead of enqueuing django-q tasks) + the W processes pulling
   those chunks from a shared queue and running `process_chunk` on each, until all of them are done.
   After each run it checks the result: N invoices, N succeeded payments, no (subscription,
   period_start) invoiced twice, nothing left due, the BillingRun finished with N processed.
3. Profiles one worker in-process on a small slice (cProfile, written to bench/profile-billing.txt) and
   lists the SQL of one renewal (CaptureQueriesContext).

It refuses to run on SQLite or on a database holding other merchants' data: it truncates the billing
tables between runs, so give it a throwaway database (scripts/with-postgres.sh does).
"""

import argparse
import ast
import cProfile
import datetime as dt
import importlib
import io
import multiprocessing
import os
import platform
import pstats
import queue
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production-like: DEBUG off (no per-query debug cursor), no INFO chatter from every worker.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

BENCH_SLUG = "bench-billing-run"
PLAN_PRICE = 4990
DEFAULT_PROFILE_OUT = Path(__file__).resolve().parent / "profile-billing.txt"
DEFAULT_CHUNK_FUNCTION = "billing.services.billing_run.process_chunk"


# --- seeding ----------------------------------------------------------------------------------------------
def _due_periods(now, tz):
    """(anchor, current_period_start, next_invoice_at) with next_invoice_at = now − 1 minute exactly and
    an anchor whose day of month makes that instant a period boundary (31/03 ← 31/01, not 28/02)."""
    from plans.choices import IntervalUnit
    from plans.periods import add_months, period_containing

    due = (now - dt.timedelta(minutes=1)).astimezone(tz)
    for months_back in range(1, 13):
        anchor = add_months(due, -months_back)
        if anchor.day == due.day:
            break
    else:  # pragma: no cover - some month within a year always has the day
        raise RuntimeError(f"no anchor for {due}")
    current_start = add_months(anchor, months_back - 1)
    # The engine must see `due` as the start of a period counted from the anchor.
    start, _end = period_containing(anchor, IntervalUnit.MONTH, 1, due, tz=tz)
    assert start == due, (start, due)
    return anchor, current_start, due


def _row_template(model, **values):
    """Column names and one row of database values for `model`, as Django would save it."""
    from django.db import connection
    from django.utils import timezone

    obj = model(**values)
    now = timezone.now()
    columns, row = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(obj, field.attname)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        columns.append(field.column)
        row.append(field.get_db_prep_save(value, connection))
    return columns, row


def _copy(model, columns, rows) -> None:
    """COPY … FROM STDIN through psycopg 3 on Django's own connection."""
    from django.db import connection

    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def seed(n: int, mix: str = "realistic"):
    """One merchant, one monthly plan, n customers and n due card subscriptions, turned into the
    realistic mix (see MIX) unless `mix` is "plain". Returns the merchant."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Merchant
    from plans.choices import IntervalUnit
    from plans.models import Plan
    from subscribers.choices import PaymentMethod, SubscriptionStatus
    from subscribers.models import Customer, Subscription

    with transaction.atomic():
        merchant = Merchant.objects.create(name="Bench", slug=BENCH_SLUG, timezone="America/Sao_Paulo")
        plan = Plan.objects.create(
            merchant=merchant,
            name="Mensal",
            price=PLAN_PRICE,
            currency="BRL",
            interval_unit=IntervalUnit.MONTH,
            interval_count=1,
        )
        columns, template = _row_template(
            Customer, merchant=merchant, name="", email="", handle="", document="", phone=""
        )
        at = {name: columns.index(name) for name in ("name", "email", "handle")}

        def customers():
            for i in range(1, n + 1):
                row = template.copy()
                row[at["name"]] = f"Cliente {i}"
                row[at["email"]] = f"cliente{i}@bench.example"
                row[at["handle"]] = f"cliente{i}"
                yield row

        _copy(Customer, columns, customers())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM subscribers_customer WHERE merchant_id = %s ORDER BY id", [merchant.pk]
            )
            customer_ids = [pk for (pk,) in cursor.fetchall()]
        assert len(customer_ids) == n, (len(customer_ids), n)

        anchor, current_start, due = _due_periods(timezone.now(), merchant.tzinfo)
        columns, template = _row_template(
            Subscription,
            merchant=merchant,
            customer_id=customer_ids[0],
            plan=plan,
            quantity=1,
            status=SubscriptionStatus.ACTIVE,
            payment_method=PaymentMethod.CARD,
            payment_token="",
            currency="BRL",
            amount=PLAN_PRICE,
            contract_date=anchor.date(),
            billing_cycle_anchor=anchor,
            started_at=anchor,
            current_period_start=current_start,
            current_period_end=due,
            next_invoice_at=due,
        )
        customer_at = columns.index("customer_id")

        def subscriptions():
            for customer_id in customer_ids:
                row = template.copy()
                row[customer_at] = customer_id
                yield row

        _copy(Subscription, columns, subscriptions())
        if mix == "realistic":
            _apply_mix(merchant, plan)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subscribers_customer")
        cursor.execute("VACUUM ANALYZE subscribers_subscription")
    return merchant


# The realistic mix, by subscription position modulo 100 (so every chunk holds every kind): what each
# hundredth of the subscriptions is. Everything else stays a plain card renewal.
DECLINED_CARD = "4000000000000002"
MIX = (
    ("plain card", 70),
    ("coupon", 10),  # 20 % forever
    ("tax rate", 10),  # ISS 5 % exclusive
    ("installments", 5),  # R$ 49,90 × 12
    ("boleto", 2),  # issued, pending until paid or expired
    ("pix", 1),
    ("declined card", 2),  # failed: retry scheduled, past due
)


def _apply_mix(merchant, plan) -> dict[str, int]:
    """Turns the seeded plain card subscriptions into MIX, with a few set-based statements."""
    from decimal import Decimal

    from django.db import connection

    from plans.models import Coupon, Plan, TaxRate
    from subscribers.choices import PaymentMethod
    from subscribers.models import Subscription

    coupon = Coupon.objects.create(
        merchant=merchant, code="BENCH20", percent_off=Decimal("20"), duration="forever"
    )
    iss = TaxRate.objects.create(merchant=merchant, name="ISS", percentage=Decimal("5"))
    course = Plan.objects.create(
        merchant=merchant,
        name="Curso",
        price=plan.price,
        currency=plan.currency,
        interval_unit=plan.interval_unit,
        interval_count=1,
        installments=12,
    )
    bounds, start = {}, 0
    for kind, share in MIX:
        bounds[kind] = (start, start + share)
        start += share
    table = Subscription._meta.db_table
    position = "mod(row_number() OVER (ORDER BY id) - 1, 100)"

    def update(kind, assignments, params):
        low, high = bounds[kind]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE id IN (SELECT id FROM (SELECT id, {position} AS p "
                f"FROM {table} WHERE merchant_id = %s) AS s WHERE p >= %s AND p < %s)",
                [*params, merchant.pk, low, high],
            )

    update("coupon", "coupon_id = %s, coupon_applied_at = billing_cycle_anchor", [coupon.pk])
    update("installments", "plan_id = %s", [course.pk])
    update("boleto", "payment_method = %s", [PaymentMethod.BOLETO])
    update("pix", "payment_method = %s", [PaymentMethod.PIX])
    update("declined card", "payment_token = %s", [DECLINED_CARD])
    low, high = bounds["tax rate"]
    through = Subscription.tax_rates.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {through} (subscription_id, taxrate_id) SELECT id, %s FROM "
            f"(SELECT id, {position} AS p FROM {table} WHERE merchant_id = %s) AS s WHERE p >= %s AND p < %s",
            [iss.pk, merchant.pk, low, high],
        )


def _expected(n: int) -> dict[str, int]:
    """What a run must leave: how many charges pend (boleto/pix) and how many are declined."""
    from subscribers.choices import PaymentMethod
    from subscribers.models import Subscription

    subscriptions = Subscription.objects.filter(merchant__slug=BENCH_SLUG)
    pending = subscriptions.filter(payment_method__in=[PaymentMethod.BOLETO, PaymentMethod.PIX]).count()
    declined = subscriptions.filter(payment_token=DECLINED_CARD).count()
    return {"pending": pending, "declined": declined, "succeeded": n - pending - declined}


# --- reset and checks -------------------------------------------------------------------------------------
def _written_models():
    """Every table the billing run writes to (besides subscriptions), emptied before each run."""
    from billing.models import (
        BillingRun,
        Invoice,
        InvoiceLine,
        InvoiceSequence,
        Payment,
        Refund,
        SandboxCharge,
    )
    from core.models import Event
    from notifications.models import WebhookDelivery, WebhookDeliveryAttempt
    from subscribers.models import SubscriptionEvent

    return [
        WebhookDeliveryAttempt,  # they point at outbox events, so they go first
        WebhookDelivery,
        Refund,
        InvoiceLine,
        Payment,
        Invoice,
        InvoiceSequence,
        SandboxCharge,
        BillingRun,
        Event,
        SubscriptionEvent,
    ]


def wipe() -> None:
    """Removes a previous benchmark's data (same database re-used)."""
    from django.db import connection

    from accounts.models import Merchant
    from subscribers.models import Customer, Subscription

    tables = [m._meta.db_table for m in _written_models()]
    tables += [
        Subscription.tax_rates.through._meta.db_table,
        Subscription._meta.db_table,
        Customer._meta.db_table,
    ]
    with connection.cursor() as cursor:
        # CASCADE: rows that point at these (chargebacks, e-mail sendings, automation runs) go too.
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    Merchant.objects.filter(slug=BENCH_SLUG).delete()


def reset(merchant) -> None:
    """Empties what the last run wrote and makes every subscription due again, as freshly seeded."""
    from django.db import connection
    from django.utils import timezone

    from subscribers.choices import SubscriptionStatus

    tables = [m._meta.db_table for m in _written_models()]
    now = timezone.now()
    anchor, current_start, due = _due_periods(now, merchant.tzinfo)
    with connection.cursor() as cursor:
        # CASCADE: rows that point at these (chargebacks, e-mail sendings, automation runs) go too.
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute(
            "UPDATE subscribers_subscription SET status = %s, billing_cycle_anchor = %s, contract_date = %s, "
            "started_at = %s, current_period_start = %s, current_period_end = %s, next_invoice_at = %s, "
            "updated_at = %s WHERE merchant_id = %s",
            [
                SubscriptionStatus.ACTIVE,
                anchor,
                anchor.date(),
                anchor,
                current_start,
                due,
                due,
                now,
                merchant.pk,
            ],
        )
        for table in ["subscribers_subscription", *tables]:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")


def verify(n: int) -> dict:
    """What the run left behind; `problems` lists every broken expectation."""
    from django.db.models import Count, Sum
    from django.utils import timezone

    from billing.choices import BillingRunStatus, PaymentStatus
    from billing.models import BillingRun, Invoice, InvoiceLine, Payment, SandboxCharge
    from billing.services.billing_run import renewals_due
    from core.models import Event
    from subscribers.models import SubscriptionEvent

    found = {
        "invoices": Invoice.objects.count(),
        "lines": InvoiceLine.objects.count(),
        "payments": Payment.objects.count(),
        "succeeded": Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count(),
        "sandbox_charges": SandboxCharge.objects.count(),
        "events": Event.objects.count(),
        "timeline": SubscriptionEvent.objects.count(),
        "duplicates": Invoice.objects.values("subscription_id", "period_start")
        .annotate(c=Count("id"))
        .filter(c__gt=1)
        .count(),
        "still_due": renewals_due(timezone.now()).count(),
    }
    found["pending"] = Payment.objects.filter(status=PaymentStatus.PENDING).count()
    found["declined"] = Payment.objects.filter(status=PaymentStatus.FAILED).count()
    runs = BillingRun.objects.aggregate(
        processed=Sum("processed"), succeeded=Sum("succeeded"), failed=Sum("failed")
    )
    unfinished = BillingRun.objects.exclude(status=BillingRunStatus.FINISHED).count()
    problems = []
    expected = {"invoices": n, "lines": n, "payments": n, "sandbox_charges": n, **_expected(n)}
    for key, count in expected.items():
        if found[key] != count:
            problems.append(f"{key}: {found[key]} (expected {count})")
    if found["duplicates"]:
        problems.append(f"{found['duplicates']} (subscription, period_start) pairs invoiced twice")
    if found["still_due"]:
        problems.append(f"{found['still_due']} subscriptions still due")
    # A pending boleto/pix counts as a success of the run (the charge was issued); a decline as failed.
    if (
        runs["processed"] != n
        or runs["failed"] != expected["declined"]
        or runs["succeeded"] != n - expected["declined"]
        or unfinished
    ):
        problems.append(f"billing runs: {runs}, {unfinished} not finished")
    found["problems"] = problems
    return found


def _db_counters() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        commits, inserted, updated = cursor.fetchone()
    return {"commits": commits, "rows_written": inserted + updated}


# --- one timed run ----------------------------------------------------------------------------------------
def _configure_db(options: dict) -> None:
    """Extra OPTIONS for the default connection (e.g. server_side_binding), before it connects."""
    from django.db import connections

    if options:
        connections["default"].close()
        connections["default"].settings_dict["OPTIONS"].update(options)


def _import(dotted: str):
    module, _dot, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _worker(tasks, results, ready, chunk_function: str, db_options: dict) -> None:
    """A billing worker process: set up Django, connect, wait for the start, process chunks until None."""
    report = {"pid": os.getpid(), "chunks": 0, "processed": 0, "succeeded": 0, "failed": 0, "busy": 0.0}
    connection = None
    try:
        import django

        django.setup()
        from django.db import connection
        from django.utils.translation import gettext

        _configure_db(db_options)
        process_chunk = _import(chunk_function)
        connection.ensure_connection()
        gettext("Fatura nº %(number)s")  # loads the translation catalogue before the clock starts
        ready.wait(timeout=300)
        while (item := tasks.get()) is not None:
            run_id, subscription_ids = item
            started = time.perf_counter()
            counts = process_chunk(run_id=run_id, subscription_ids=subscription_ids)
            report["busy"] += time.perf_counter() - started
            report["chunks"] += 1
            for key in ("processed", "succeeded", "failed"):
                report[key] += counts[key]
    except BaseException as exc:  # reported to the parent, which fails the benchmark
        report["error"] = f"{type(exc).__name__}: {exc}"
        ready.abort()  # a parent still waiting for the start hears of it at once
    finally:
        if connection is not None:
            connection.close()
        results.put(report)


def timed_run(n: int, workers: int, merchant, chunk_size: int, chunk_function: str, db_options: dict) -> dict:
    from billing.services.billing_run import billing_run_start

    reset(merchant)
    before = _db_counters()
    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    ready = context.Barrier(workers + 1)
    processes = [
        context.Process(
            target=_worker,
            args=(tasks, results, ready, chunk_function, db_options),
            name=f"billing-worker-{i}",
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        ready.wait(timeout=300)  # every worker is set up and connected
    except threading.BrokenBarrierError:
        errors = [report.get("error") for report in _drain(results)]
        for process in processes:
            process.join(timeout=10)
        raise RuntimeError(f"a worker failed to start: {errors}") from None

    started = time.perf_counter()
    chunks = []
    billing_run_start(chunk_size=chunk_size, dispatch=lambda run_id, ids: chunks.append((run_id, ids)))
    scan = time.perf_counter() - started
    for chunk in chunks:
        tasks.put(chunk)
    for _ in processes:
        tasks.put(None)
    reports = []
    while len(reports) < workers:
        try:
            reports.append(results.get(timeout=5))
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"worker(s) died: {[(p.name, p.exitcode) for p in dead]}") from None
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started

    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise RuntimeError(f"worker error(s): {errors}")
    time.sleep(0.2)  # exited backends flush their statistics
    after = _db_counters()
    found = verify(n)
    return {
        "workers": workers,
        "subscriptions": n,
        "chunks": len(chunks),
        "scan": scan,
        "seconds": elapsed,
        "rate": n / elapsed,
        "busy": [round(r["busy"], 2) for r in reports],
        "worker_chunks": [r["chunks"] for r in reports],
        "commits": after["commits"] - before["commits"],
        "rows_written": after["rows_written"] - before["rows_written"],
        **found,
    }


def _drain(results) -> list[dict]:
    reports = []
    while True:
        try:
            reports.append(results.get(timeout=2))
        except queue.Empty:
            return reports


# --- PostgreSQL's own limits --------------------------------------------------------------------------------
def limits(n: int) -> dict:
    """How fast this PostgreSQL takes the very rows the last run wrote, with nothing else to do: its
    invoices, lines, payments, sandbox charges, timeline entries and outbox events copied into empty
    twins of their tables (same columns, defaults, constraints and indexes), once with COPY and once
    with executemany (psycopg 3, pipelined), one connection, one transaction each; plus the set-based
    UPDATE of the N subscriptions.
    Divided by N, that is the ceiling of a renewal's writes on this machine per connection."""
    from django.db import connection

    from billing.models import Invoice, InvoiceLine, Payment, SandboxCharge
    from core.models import Event
    from subscribers.models import Subscription, SubscriptionEvent

    models = (Invoice, InvoiceLine, Payment, SandboxCharge, SubscriptionEvent, Event)
    tables = [m._meta.db_table for m in models]
    data = {}
    raw = connection.connection
    with raw.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            data[table] = ([d.name for d in cursor.description], cursor.fetchall())
    raw.commit()
    rows = sum(len(r) for _c, r in data.values())

    def twins(create: bool):
        with raw.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
                if create:
                    cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
        raw.commit()

    def update_subscriptions(cursor):
        cursor.execute(
            f"UPDATE {Subscription._meta.db_table} SET current_period_start = current_period_start, "
            "next_invoice_at = next_invoice_at, updated_at = now() WHERE merchant_id = "
            "(SELECT id FROM accounts_merchant WHERE slug = %s)",
            [BENCH_SLUG],
        )

    def copy_all(cursor):
        for table, (columns, values) in data.items():
            with cursor.copy(f"COPY bench_{table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)

    def executemany_all(cursor):
        for table, (columns, values) in data.items():
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO bench_{table} ({', '.join(columns)}) VALUES ({placeholders})", values
            )

    result = {"rows": rows}
    for name, write in (("copy", copy_all), ("executemany", executemany_all)):
        twins(create=True)
        started = time.perf_counter()
        with raw.cursor() as cursor:
            write(cursor)
            update_subscriptions(cursor)
        raw.commit()
        result[name] = time.perf_counter() - started
    twins(create=False)
    return result


# --- profile ----------------------------------------------------------------------------------------------
def profile(merchant, count: int, chunk_size: int, out: Path, chunk_function: str) -> dict:
    """cProfile of one worker over `count` renewals (in this process), then the SQL of one renewal."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.services.billing_run import billing_run_start, process_subscription

    process_chunk = _import(chunk_function)

    reset(merchant)
    chunks = []
    billing_run_start(chunk_size=chunk_size, dispatch=lambda run_id, ids: chunks.append((run_id, ids)))
    run_id = chunks[0][0]
    ids = [pk for _run, chunk in chunks for pk in chunk]
    profiled, extra = ids[:count], ids[count]

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(0, len(profiled), chunk_size):
        process_chunk(run_id=run_id, subscription_ids=profiled[i : i + chunk_size])
    profiler.disable()
    elapsed = time.perf_counter() - started

    with CaptureQueriesContext(connection) as captured:
        outcome = process_subscription(subscription_id=extra)
    queries = [q["sql"] for q in captured.captured_queries]
    kinds: dict[str, int] = {}
    for sql in queries:
        kind = sql.split(None, 1)[0].upper()
        kinds[kind] = kinds.get(kind, 0) + 1

    text = io.StringIO()
    text.write(
        f"Billing-run profile: 1 worker, in-process, {len(profiled)} renewals in {elapsed:.2f} s "
        f"({len(profiled) / elapsed:.0f}/s under cProfile)\n\n"
    )
    for sort in ("cumulative", "tottime"):
        text.write(f"=== top 25 by {sort} ===\n")
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(sort).print_stats(25)
    text.write(f"=== SQL of one renewal (subscription {extra}, {outcome}): {len(queries)} queries ===\n")
    text.write("by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + "\n")
    for number, sql in enumerate(queries, 1):
        text.write(f"{number:3}. {sql[:300]}\n")
    out.write_text(text.getvalue())
    return {"renewals": len(profiled), "seconds": elapsed, "queries": len(queries), "kinds": kinds}


# --- main -------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=8000, help="due renewals (default 8000)")
    parser.add_argument("--workers", "-w", type=int, nargs="+", default=[1, 2], help="worker counts (1 2)")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the engine's CHUNK_SIZE")
    parser.add_argument(
        "--mix",
        choices=["realistic", "plain"],
        default="realistic",
        help="realistic (default): "
        + ", ".join(f"{share} %% {kind}" for kind, share in MIX)
        + "; plain: every renewal a succeeding card",
    )
    parser.add_argument(
        "--profile-subscriptions",
        type=int,
        default=500,
        help="renewals profiled with one in-process worker (0: no profile; default 500)",
    )
    parser.add_argument("--profile-out", type=Path, default=DEFAULT_PROFILE_OUT)
    parser.add_argument(
        "--process-chunk",
        default=DEFAULT_CHUNK_FUNCTION,
        metavar="DOTTED.PATH",
        help="the function the workers call per chunk, to time a candidate engine change side by side "
        f"(same keyword arguments; default {DEFAULT_CHUNK_FUNCTION})",
    )
    parser.add_argument(
        "--db-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra database OPTIONS for every connection, e.g. server_side_binding=True "
        "prepare_threshold=5 (values are Python literals)",
    )
    args = parser.parse_args(argv)
    try:
        db_options = {k: ast.literal_eval(v) for k, _eq, v in (o.partition("=") for o in args.db_option)}
    except (ValueError, SyntaxError):
        parser.error("--db-option takes KEY=VALUE with a Python literal value, e.g. prepare_threshold=5")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Merchant
    from billing.services.billing_run import CHUNK_SIZE

    _configure_db(db_options)
    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh (or set DATABASE_URL)")
    call_command("migrate", interactive=False, verbosity=0)
    if Merchant.objects.exclude(slug=BENCH_SLUG).exists():
        parser.error(
            "the database holds other merchants; the benchmark truncates billing tables: use a throwaway one"
        )
    n, chunk_size = args.subscriptions, args.chunk_size or CHUNK_SIZE
    if args.profile_subscriptions >= n:
        parser.error("--profile-subscriptions must be smaller than --subscriptions")

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {server_version} (same machine); chunk size {chunk_size}"
    )
    if args.process_chunk != DEFAULT_CHUNK_FUNCTION or db_options:
        print(f"chunks processed by {args.process_chunk}; database options {db_options}")
    wipe()
    started = time.perf_counter()
    merchant = seed(n, args.mix)
    seeding = time.perf_counter() - started
    print(f"seeded {n} customers + {n} due subscriptions with COPY in {seeding:.1f} s")
    if args.mix == "realistic":
        print("mix: " + ", ".join(f"{share} % {kind}" for kind, share in MIX))

    results = []
    for workers in args.workers:
        result = timed_run(n, workers, merchant, chunk_size, args.process_chunk, db_options)
        results.append(result)
        r = result
        status = "OK" if not r["problems"] else "FAILED: " + "; ".join(r["problems"])
        print(
            f"  W={workers}: {r['seconds']:.2f} s (scan {r['scan']:.2f} s, {r['chunks']} chunks "
            f"{r['worker_chunks']}, busy {r['busy']} s), {r['commits']} commits, "
            f"{r['rows_written']} rows written; check {status}",
            flush=True,
        )

    header = (
        f"{'workers':>7} {'subscriptions':>13} {'seconds':>8} {'renewals/s':>10} {'events':>7} "
        f"{'invoices':>8} {'payments ok':>11} {'dup.':>4} {'commits/renewal':>15}  check"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['workers']:>7} {r['subscriptions']:>13} {r['seconds']:>8.2f} {r['rate']:>10.0f} "
            f"{r['events']:>7} {r['invoices']:>8} {r['succeeded']:>11} {r['duplicates']:>4} "
            f"{r['commits'] / n:>15.1f}  {'OK' if not r['problems'] else 'FAILED'}"
        )
    print()

    limit = limits(n)
    print(
        f"PostgreSQL limits, the same {limit['rows']} rows (invoices, lines, payments, sandbox charges, "
        f"timeline entries, outbox events) + the UPDATE of N subscriptions, one connection, one transaction:"
    )
    for name in ("copy", "executemany"):
        print(f"  {name:<11}: {limit[name]:.2f} s = {n / limit[name]:>8.0f} renewals/s")
    best = max(results, key=lambda r: r["workers"])
    print(
        f"  engine (W={best['workers']}): {best['seconds']:.2f} s = {best['rate']:>8.0f} renewals/s "
        f"({best['rate'] / (n / limit['copy']):.0%} of COPY's rate on one connection)"
    )
    print()

    if args.profile_subscriptions:
        p = profile(merchant, args.profile_subscriptions, chunk_size, args.profile_out, args.process_chunk)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(p["kinds"].items()))
        print(
            f"profile: 1 worker, {p['renewals']} renewals in {p['seconds']:.2f} s under cProfile "
            f"-> {args.profile_out}"
        )
        print(f"queries per renewal: {p['queries']} ({kinds})")
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
