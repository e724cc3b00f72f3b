"""`make bench-api`: the merchant API's reads with N subscriptions, through the web server as production
runs it.

    scripts/with-postgres.sh .venv/bin/python -m bench.api --migrate --subscriptions 1000000

What it does (figures in bench/README.md, "API"):

1. Seeds with bench.subscribers.seed (PostgreSQL COPY: one merchant, five plans, N customers, N
   subscriptions in every status, `--months` months of invoices and payments, timeline events), then
   creates a read-only API key through the accounts service (accounts.services.api_key_create).
2. Starts one web process (granian with config/web.py's settings, WEB_CONCURRENCY=1, DEBUG off, behind a
   proxy that says https) and one client issuing sequential requests (raw sockets, a new connection per
   request, closed after each answer), each with the Bearer key.
3. Times, `--repeat` requests each after warm-up, over random ids: `GET /api/v1/subscriptions/{id}`
   (bar p95 < 30 ms) and `GET /api/v1/customers/{id}/access` (bar p95 < 20 ms); beside them, the
   physical limit measured in the same run through the same server and client: an unauthenticated 404
   under /api/v1/ (routing, middleware, a JSON answer, no query) and `/healthz` (one `SELECT 1` and the
   workers' heartbeat). p50 / p95 / max, and the load average, since the machine may be shared.
4. In-process (django.test.Client, the same middleware stack): the queries of one request of each kind
   (CaptureQueriesContext) and the median CPU time per request over 100 of them ("CPU ms": Python's share,
   which a loaded machine inflates less than wall time).

The read budget of the key is raised (API_RATE_LIMIT_READ) so one fast client is not throttled; the
throttle itself still runs (one cache read and write per request), as in production.
"""

import argparse
import cProfile
import os
import platform
import pstats
import random
import statistics
import sys
import time

ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-api-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123",
    "CREDENTIALS_ENCRYPTION_KEYS": "q0xBZ3xYc1J6R1lVa0ZfY2h2a3dBUlN0T2xQcFhwWjg=",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
    "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "API_RATE_LIMIT_READ": "1000000/m",
}
for _name, _value in ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SUBSCRIPTION_BAR_MS = 30
ACCESS_BAR_MS = 20


def _percentile(sorted_values, fraction):
    index = min(int(round(fraction * (len(sorted_values) - 1))), len(sorted_values) - 1)
    return sorted_values[index]


def _request(host: str, path: str, secret: str | None) -> bytes:
    auth = f"Authorization: Bearer {secret}\r\n" if secret else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n{auth}"
        "X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
    ).encode()


def time_paths(address, host: str, paths: list[str], secret: str | None, *, expect: int) -> dict:
    """Sequential requests, one after the other; p50 / p95 / max in ms. The first 10 warm up."""
    from bench.webhooks import _send

    timings, statuses = [], {}
    for i, path in enumerate(paths):
        data = _request(host, path, secret)
        started = time.perf_counter()
        answer = _send(address, data)
        elapsed = (time.perf_counter() - started) * 1000
        status = answer[9:12].decode() or "---"
        statuses[status] = statuses.get(status, 0) + 1
        if status != str(expect):
            raise RuntimeError(f"{path}: {answer[:600]!r}")
        if i >= 10:
            timings.append(elapsed)
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": _percentile(timings, 0.95),
        "max": timings[-1],
        "n": len(timings),
    }


def in_process(
    paths: list[str], secret: str | None, *, profile: bool = False
) -> tuple[int, list[str], float]:
    """In-process through the same middleware stack: the queries of one request, and the median CPU time
    of this process per request over `paths` (Python's share, which a loaded machine does not inflate
    the way it inflates wall time; PostgreSQL's own work runs in its process and is not counted)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}" if secret else "")
    client.get(paths[0], secure=True)  # warm: the first request of a process loads catalogues, caches
    with CaptureQueriesContext(connection) as captured:
        client.get(paths[0], secure=True)
    # Read now: every request's request_started signal empties the connection's query log.
    sql = [query["sql"] for query in captured.captured_queries]
    profiler = cProfile.Profile() if profile else None
    cpu = []
    for path in paths:
        started = time.process_time()
        if profiler:
            profiler.enable()
        client.get(path, secure=True)
        if profiler:
            profiler.disable()
        cpu.append((time.process_time() - started) * 1000)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return len(sql), sql, statistics.median(cpu)


def random_ids(table: str, merchant_id: int, count: int, rng: random.Random) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {table} WHERE merchant_id = %s", [merchant_id])
        low, high = cursor.fetchone()
        # The seed's ids are dense; keep only ids that exist (a 404 would time another path).
        wanted = sorted({rng.randint(low, high) for _ in range(count * 2)})
        cursor.execute(
            f"SELECT id FROM {table} WHERE merchant_id = %s AND id = ANY(%s)", [merchant_id, wanted]
        )
        found = [row[0] for row in cursor.fetchall()]
    rng.shuffle(found)
    return found[:count]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=1_000_000, help="default 1000000")
    parser.add_argument("--months", type=int, default=3, help="months of invoices and payments (default 3)")
    parser.add_argument("--repeat", type=int, default=500, help="timed requests per endpoint (default 500)")
    parser.add_argument("--migrate", action="store_true", help="migrate the (throwaway) database first")
    parser.add_argument("--reuse", action="store_true", help="keep a previous run's data instead of seeding")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one request each")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process requests (top 30)")
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.choices import ApiKeyMode, ApiKeyRole
    from accounts.models import Merchant
    from accounts.services import api_key_create
    from bench import subscribers
    from bench.webhooks import free_port, start_server, stop

    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh (or set DATABASE_URL)")
    if options.migrate:
        call_command("migrate", verbosity=0, interactive=False)

    merchant = Merchant.objects.filter(slug=subscribers.BENCH_SLUG).first() if options.reuse else None
    if merchant is None:
        subscribers.wipe()
        started = time.perf_counter()
        merchant, counts = subscribers.seed(options.subscriptions, months=options.months)
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    _key, secret = api_key_create(
        merchant=merchant, name="Bench", role=ApiKeyRole.READ_ONLY, mode=ApiKeyMode.LIVE
    )

    rng = random.Random(20261206)
    total = options.repeat + 10
    subscription_ids = random_ids("subscribers_subscription", merchant.pk, total, rng)
    customer_ids = random_ids("subscribers_customer", merchant.pk, total, rng)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT count(*) FROM subscribers_subscription WHERE merchant_id = %s", [merchant.pk])
        count = cursor.fetchone()[0]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {version}")

    scenarios = [
        ("limit: unauthenticated API 404", ["/api/v1/bench-nothing-here"] * total, None, 404, None),
        ("limit: /healthz", ["/healthz"] * total, None, 200, None),
        (
            "GET /api/v1/subscriptions/{id}",
            [f"/api/v1/subscriptions/{pk}" for pk in subscription_ids],
            secret,
            200,
            SUBSCRIPTION_BAR_MS,
        ),
        (
            "GET /api/v1/customers/{id}/access",
            [f"/api/v1/customers/{pk}/access" for pk in customer_ids],
            secret,
            200,
            ACCESS_BAR_MS,
        ),
    ]
    queries, cpu = {}, {}
    for label, paths, key, _expect, _bar in scenarios:
        queries[label], sql, cpu[label] = in_process(paths[:100], key, profile=options.profile)
        if options.show_queries:
            print(f"\n{label}: {queries[label]} queries", *sql, sep="\n  ")
    connection.close()  # the web worker has its own; keep ours out of the timed run

    port = free_port()
    address, host = ("127.0.0.1", port), f"127.0.0.1:{port}"
    load = os.getloadavg()
    print(
        f"\n{count:,} subscriptions; granian, 1 worker, DEBUG off; one sequential client, "
        f"{options.repeat} timed requests each over random ids; "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    print(f"{'':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'CPU ms':>7}  bar (p95)")
    failed = False
    server = start_server("config.wsgi:application", port)
    try:
        for label, paths, key, expect, bar in scenarios:
            result = time_paths(address, host, paths, key, expect=expect)
            verdict = ""
            if bar is not None:
                ok = result["p95"] < bar
                failed |= not ok
                verdict = f"< {bar} ms {'OK' if ok else 'MISSED'}"
            print(
                f"{label:38} {result['p50']:8.1f} {result['p95']:8.1f} {result['max']:8.1f} "
                f"{queries[label]:8} {cpu[label]:7.1f}  {verdict}",
                flush=True,
            )
    finally:
        stop(server)
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
