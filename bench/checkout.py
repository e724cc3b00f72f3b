"""Public checkout benchmark: the checkout link's page and its sign-ups, server time through the whole
middleware stack (django.test.Client), with N subscriptions and N customers already in the database.

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate --noinput &&
        .venv/bin/python -m bench.checkout --subscriptions 1000000'

What it does (figures in bench/README.md):

1. Seeds with bench.subscribers.seed (PostgreSQL COPY: one merchant, five plans, N customers, N
   subscriptions in every status, `--months` months of invoices and payments, timeline events), then
   makes one checkout link to the monthly plan.
2. Times, `--repeat` times each after one warm-up request (beside them, in the same run, the floor: a
   trivial view through the same middleware stack, bench/checkout_urls.py, and PostgreSQL's `SELECT 1`
   round trip; and the load average, since the machine may be shared): GET of the public page (the
   link's lookup, its visit count, the first-charge preview), the live coupon check, and the order page
   of a boleto sign-up; p50 / p95 / max, the median CPU time and the queries of one request. The bar:
   the page's p95 < 100 ms.
3. Times sign-ups (POST, each with a fresh form token from an untimed GET): a new customer paying by
   card 4242 (customer, subscription, invoice, payment, events, the sandbox charge), an existing customer
   found by e-mail among the N, and a boleto.

It refuses to run on SQLite and wipes a previous run's merchant first; rate limits are switched off (one
client would hit them at once).
"""

import argparse
import os
import platform
import re
import statistics
import sys
import time
from functools import partial

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ["RATELIMIT_ENABLE"] = "false"

BENCH_SLUG = "bench-checkout"
PAGE_BAR_MS = 100
TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


def cpf(i: int) -> str:
    """A valid CPF (check digits computed) for the i-th sign-up: each sign-up is a new person."""
    base = [int(d) for d in f"{(i * 7919 + 100_000_001) % 1_000_000_000:09d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(base, range(size + 1, 1, -1), strict=True))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, base))


def _count_query(queries, execute, sql, *args):
    queries.append(sql)
    return execute(sql, *args)


def _percentile(sorted_values, fraction):
    index = min(int(round(fraction * (len(sorted_values) - 1))), len(sorted_values) - 1)
    return sorted_values[index]


def _timed(client, method, url, data=None, *, repeat: int, prepare=None, expect=(200,)):
    """(p50, p95, max, queries of the first request) of `repeat` requests; `prepare(i)` gives each one's
    data (untimed: e.g. a fresh form token)."""
    from django.db import connection

    timings, cpu, queries = [], [], []
    for i in range(repeat + 1):
        payload = prepare(i) if prepare else data
        wrapper = connection.execute_wrapper(partial(_count_query, queries)) if i == 1 else _null()
        with wrapper:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = getattr(client, method)(url, payload or {})
            elapsed = (time.perf_counter() - started) * 1000
            elapsed_cpu = (time.process_time() - started_cpu) * 1000
        assert response.status_code in expect, (url, response.status_code, response.content[:500])
        if i:  # the first request warms caches (templates, translations) and is not counted
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": _percentile(timings, 0.95),
        "max": timings[-1],
        "cpu": statistics.median(cpu),
        "queries": len(queries),
    }


def _select_one(*, repeat: int) -> dict:
    """PostgreSQL's own round trip on Django's connection: the least one query costs."""
    from django.db import connection

    timings = []
    with connection.cursor() as cursor:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1000)
    timings = sorted(timings[1:])
    return {
        "p50": statistics.median(timings),
        "p95": _percentile(timings, 0.95),
        "max": timings[-1],
        "cpu": 0.0,
        "queries": 1,
    }


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def make_link(merchant):
    from django.db.models import Max

    from billing.models import Invoice, InvoiceSequence
    from plans.models import Coupon, Plan
    from plans.services import checkout_link_create

    # The seed writes invoices with COPY, past the numbering: new invoices continue after the last one.
    last = Invoice.objects.filter(merchant=merchant).aggregate(last=Max("number"))["last"] or 0
    InvoiceSequence.objects.update_or_create(merchant=merchant, defaults={"last_number": last})

    plan = Plan.objects.filter(merchant=merchant, currency="BRL").order_by("pk").first()
    Coupon.objects.get_or_create(
        merchant=merchant, code="BENCH10", defaults={"percent_off": 10, "currency": "BRL"}
    )
    return checkout_link_create(merchant=merchant, plan=plan, brand_color="#7a2cbf")


def run(merchant, *, repeat: int, signups: int) -> tuple[list[tuple[str, dict]], bool]:
    from django.test import Client
    from django.urls import reverse

    from subscribers.models import Customer

    link = make_link(merchant)
    page = reverse("checkout:page", args=[link.slug])
    client = Client()
    rows = []

    def fresh(i, **fields):
        html = client.get(page).content.decode()
        data = {
            "name": "Cliente Bench",
            "email": f"bench-signup-{time.time_ns()}-{i}@bench.example",
            "document": cpf(time.time_ns() % 10**8 + i),
            "phone": "",
            "payment_method": "card",
            "card_number": "4242424242424242",
            "website": "",
            "form_token": TOKEN_RE.search(html).group(1),
        }
        data.update(fields)
        return data

    rows.append(("GET page (visit counted, preview)", _timed(client, "get", page, repeat=repeat)))
    # The floor in the same run: a view that does nothing, through the same middleware stack.
    rows.append(
        ("floor: trivial view, same middleware", _timed(client, "get", "/bench-trivial/", repeat=repeat))
    )
    rows.append(("floor: SELECT 1 round trip", _select_one(repeat=repeat)))
    rows.append(
        (
            "GET coupon check (htmx)",
            _timed(
                client,
                "get",
                reverse("checkout:coupon", args=[link.slug]),
                {"coupon_code": "bench10"},
                repeat=repeat,
            ),
        )
    )
    # Seeded customers have no CPF: a new e-mail and a new CPF make a new customer each time.
    rows.append(
        (
            "POST card 4242, new customer",
            _timed(
                client,
                "post",
                page,
                repeat=signups,
                prepare=fresh,
                expect=(302,),
            ),
        )
    )
    existing = list(
        Customer.objects.filter(merchant=merchant)
        .order_by("?")
        .values_list("email", flat=True)[: signups + 1]
    )
    rows.append(
        (
            "POST card 4242, customer found by e-mail",
            _timed(
                client,
                "post",
                page,
                repeat=signups,
                prepare=lambda i: fresh(i, email=existing[i]),
                expect=(302,),
            ),
        )
    )
    rows.append(
        (
            "POST boleto, new customer",
            _timed(
                client,
                "post",
                page,
                repeat=signups,
                prepare=lambda i: fresh(i, payment_method="boleto", card_number=""),
                expect=(302,),
            ),
        )
    )
    status = client.post(page, fresh(0, payment_method="boleto", card_number="")).url
    rows.append(("GET order page, boleto waiting", _timed(client, "get", status, repeat=repeat)))
    failed = rows[0][1]["p95"] >= PAGE_BAR_MS
    return rows, failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=1_000_000, help="default 1000000")
    parser.add_argument("--months", type=int, default=1, help="months of invoices and payments (default 1)")
    parser.add_argument("--repeat", type=int, default=200, help="timed GETs per scenario (default 200)")
    parser.add_argument("--signups", type=int, default=50, help="timed sign-ups per scenario (default 50)")
    parser.add_argument("--reuse", action="store_true", help="keep a previous run's data instead of seeding")
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    from accounts.models import Merchant
    from bench import subscribers

    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh (or set DATABASE_URL)")
    merchant = Merchant.objects.filter(slug=BENCH_SLUG).first() if options.reuse else None
    if merchant is None:
        subscribers.wipe(BENCH_SLUG)
        started = time.perf_counter()
        merchant, counts = subscribers.seed(options.subscriptions, months=options.months, slug=BENCH_SLUG)
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT count(*) FROM subscribers_subscription")
        total = cursor.fetchone()[0]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {version}")
    print(f"\npublic checkout — {total} subscriptions in the database")
    # The load average beside the figures: the machine is shared, and wall time on a busy one is mostly
    # waiting for a CPU. "cpu ms" (median process CPU per request, PostgreSQL's own work excluded) does not
    # grow with the load: it is what the request costs.
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'scenario':<44} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu ms':>7} {'queries':>7}")
    from django.test.utils import override_settings

    # The project's URLs plus one trivial view (bench/checkout_urls.py) for the floor.
    with override_settings(ROOT_URLCONF="bench.checkout_urls"):
        rows, failed = run(merchant, repeat=options.repeat, signups=options.signups)
    for name, row in rows:
        print(
            f"{name:<44} {row['p50']:>7.1f} {row['p95']:>7.1f} {row['max']:>7.1f} {row['cpu']:>7.1f} "
            f"{row['queries']:>7}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"bar: the public page's p95 < {PAGE_BAR_MS} ms — {'FAILED' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
