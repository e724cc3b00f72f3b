"""Assinantes benchmark: N subscriptions with customers, payments and timeline events on PostgreSQL, then
the subscriber list's server time per filter and the CSV export's throughput, through the real views.

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate --noinput &&
        .venv/bin/python -m bench.subscribers --subscriptions 1000000'

What it does (see bench/README.md for the figures):

1. Seeds with bench.dashboard.seed (PostgreSQL COPY, explicit ids): one merchant, five plans, N customers
   with Brazilian-looking names, N subscriptions over three years in every status, `--months` months of
   invoices and payments; then one "created" timeline event per subscription (INSERT … SELECT).
2. Signs an owner in (django.test.Client: the whole middleware stack) and times GET /assinantes/ for no
   filter, each single filter, searches, sorts and the last page: one first request (the count is
   computed and cached, or estimated), then `--repeat` timed requests; p50 / p95 / max server time, the
   number of queries and how the page counted (exact, cached, estimate).
3. Streams the export of every row in a separate process (so its peak RSS is the export's alone), reading
   the response chunk by chunk: time to first chunk, rows/s, peak RSS; checks the row count and that the
   export was recorded.

It refuses to run on SQLite and wipes a previous run's merchant (same slug) first, so give it a
throwaway database (scripts/with-postgres.sh does).
"""

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from functools import partial

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

BENCH_SLUG = "bench-assinantes"
FIRST_NAMES = [
    "Ana", "Bruno", "Carla", "Daniel", "Eduarda", "Felipe", "Gabriela", "Heitor", "Isabela", "João",
    "Karina", "Lucas", "Mariana", "Nicolas", "Olívia", "Pedro", "Rafaela", "Samuel", "Tatiane", "Vinícius",
    "Beatriz", "Caio", "Débora", "Enzo", "Fernanda", "Gustavo", "Helena", "Igor", "Júlia", "Leonardo",
    "Larissa", "Matheus", "Natália", "Otávio", "Paula", "Renato", "Sofia", "Thiago", "Valentina", "Yuri",
]  # fmt: skip
LAST_NAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
    "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas",
    "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Pinto", "Correia", "Monteiro", "Moura",
]  # fmt: skip


def customer(i: int) -> tuple[str, str, str]:
    """The i-th customer: name "Mariana Costa Rocha", e-mail "mariana.costa12345@…", handle "mcosta12345"."""
    first = FIRST_NAMES[i % len(FIRST_NAMES)]
    middle = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
    last = LAST_NAMES[(i // 7) % len(LAST_NAMES)]
    plain = (first + "." + last).lower().translate(str.maketrans("áéíóúâêôãõç", "aeiouaeoaoc"))
    return f"{first} {middle} {last}", f"{plain}{i}@bench.example", f"{plain.replace('.', '')}{i}"


def seed(n: int, *, months: int, slug: str = BENCH_SLUG):
    """bench.dashboard's seed with these customers, six salespeople, and one "created" timeline event per
    subscription, all loaded before the tables' indexes are built (bench.dashboard.bulk_load)."""
    from bench import dashboard

    def salespeople(merchant):
        # Six salespeople (members), one in seven subscriptions without one: the Vendedor sort and filter
        # then read real groups (subscribers.selectors.subscriber_sort_walks), not one NULL group.
        return [*(_salesperson(merchant, k, first) for k, first in enumerate(SALESPEOPLE)), None]

    def events(cursor, merchant, counts):
        cursor.execute(
            """
            INSERT INTO subscribers_subscriptionevent
                (merchant_id, subscription_id, kind, from_status, to_status, origin, reason, reason_code,
                 reason_params, data, created_at)
            SELECT merchant_id, id, 'created', '', status, '', '', '', '{}'::jsonb, '{}'::jsonb, created_at
            FROM subscribers_subscription WHERE merchant_id = %s
            """,
            [merchant.pk],
        )
        counts["events"] = cursor.rowcount

    return dashboard.seed(
        n,
        months=months,
        slug=slug,
        customer=customer,
        name="Bench Assinantes",
        salespeople=salespeople,
        load_more=events,
        tables=(*dashboard.LOADED_TABLES, "subscribers_subscriptionevent"),
    )


SALESPEOPLE = ("Rafael", "Ana", "Bruno", "Camila", "Ana", "Diego")  # two Anas: ties on the name


def _salesperson(merchant, n: int, first_name: str) -> int:
    from django.contrib.auth import get_user_model

    from accounts.choices import Role
    from accounts.models import Membership

    user, _created = get_user_model().objects.get_or_create(
        username=f"{merchant.slug}-vendedor-{n}", defaults={"first_name": first_name, "last_name": "Vendas"}
    )
    Membership.objects.get_or_create(user=user, merchant=merchant, defaults={"role": Role.SUPPORT})
    return user.pk


def wipe(slug: str = BENCH_SLUG) -> None:
    from django.db import connection

    from accounts.models import Merchant
    from bench import dashboard

    merchant = Merchant.objects.filter(slug=slug).first()
    if merchant is None:
        return
    with connection.cursor() as cursor:
        for table in ["subscribers_subscriberexport", "subscribers_subscriptionevent"]:
            cursor.execute(f"DELETE FROM {table} WHERE merchant_id = %s", [merchant.pk])
    dashboard.wipe(slug)


# --- timing ----------------------------------------------------------------------------------------------
def _owner(merchant):
    from bench import dashboard

    return dashboard._owner(merchant)


def scenarios(merchant) -> list[tuple[str, dict]]:
    """(name, query) for the list: no filter, each filter, searches, a sort, the middle and last pages."""
    import datetime as dt

    from plans.models import Plan

    today = merchant.localdate()
    plan = Plan.objects.filter(merchant=merchant, name="Mensal").first()
    year_ago = today.replace(year=today.year - 1)
    from subscribers.models import Customer

    someone = customer(int(Customer.objects.filter(merchant=merchant).count() * 0.6))
    return [
        ("no filter", {}),
        ("status=active", {"status": "active"}),
        ("status=past_due", {"status": "past_due"}),
        ("status=refunded", {"status": "refunded"}),
        ("group=inactive", {"group": "inactive"}),
        ("payment_method=pix", {"payment_method": "pix"}),
        ("plan=Mensal", {"plan": plan.pk}),
        ("subscribed=last_30", {"subscribed": "last_30"}),
        ("subscribed=this_month", {"subscribed": "this_month"}),
        (
            "subscribed range",
            {
                "subscribed_from": year_ago.isoformat(),
                "subscribed_to": (year_ago + dt.timedelta(days=90)).isoformat(),
            },
        ),
        (
            "canceled range",
            {"canceled_from": (today - dt.timedelta(days=90)).isoformat(), "canceled_to": today.isoformat()},
        ),
        ("cancel_origin=customer", {"cancel_origin": "customer"}),
        ("search first name (1 in 40)", {"q": "Mariana"}),
        ("search full name", {"q": someone[0]}),
        ("search e-mail", {"q": someone[1]}),
        ("search @handle", {"q": "@" + someone[2]}),
        ("search CPF digits (none)", {"q": "123.456"}),
        *sort_scenarios(),
        ("middle page", {"page": "middle"}),
        # The group-walk sorts' deepest pages: whole plans / salespeople skipped by their counts.
        *((f"middle page, sort={sort}", {"sort": sort, "page": "middle"}) for sort in DEEP_SORTS),
        ("last page", {"page": "last"}),
        ("last page, status=active", {"status": "active", "page": "last"}),
    ]


DEEP_SORTS = ("plan", "-plan", "salesperson", "-salesperson")


def sort_scenarios() -> list[tuple[str, dict]]:
    """Every sortable column of the list, both ways (the first page, no filter)."""
    from subscribers.tables import SubscriberTable

    names = [name for name, column in SubscriberTable.base_columns.items() if column.orderable is not False]
    names = [name for name in names if name not in ("select", "actions")]
    return [(f"sort={prefix}{name}", {"sort": prefix + name}) for name in names for prefix in ("", "-")]


def _count_query(queries, execute, sql, *args):
    queries.append(sql)
    return execute(sql, *args)


def _time_query(spent, execute, sql, *args):
    """Adds the query's wall time (sent, run by PostgreSQL, rows read back) to spent[0]."""
    started = time.perf_counter()
    try:
        return execute(sql, *args)
    finally:
        spent[0] += time.perf_counter() - started


def _percentile(sorted_values, fraction):
    index = min(int(round(fraction * (len(sorted_values) - 1))), len(sorted_values) - 1)
    return sorted_values[index]


def time_list(merchant, *, repeat: int, only: str = "") -> list[dict]:
    """Server time of GET /assinantes/ per scenario through the test client (the whole middleware stack)."""
    import re

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from core.table_config import CONFIGURABLE_TABLES, table_config_save

    url = reverse("subscribers:subscriber_list")
    client = Client()
    owner = _owner(merchant)
    # Every column shown ("Configurar tabela"), so each sort below is one the page really applies.
    config = CONFIGURABLE_TABLES["assinantes"]
    table_config_save(user=owner, config=config, columns=[name for name, _header in config.choices()])
    client.force_login(owner)
    client.get(reverse("subscribers:subscriber_export_list"))  # the session's first save, not a list query
    cache.clear()
    rows = []
    pages = {}
    for name, query in scenarios(merchant):
        if only and not any(part in name for part in only.split(",")):
            continue
        query = dict(query)
        if query.get("page") in ("last", "middle"):
            base = {k: v for k, v in query.items() if k != "page"}
            # The last page the list links to (its paginator's, from the count it shows).
            html = client.get(url, base).content.decode()
            last = max([int(n) for n in re.findall(r"page=(\d+)", html)] or [1])
            query["page"] = last if query["page"] == "last" else last // 2
            pages[name] = query["page"]
        queries = []
        started = time.perf_counter()
        with connection.execute_wrapper(partial(_count_query, queries)):
            response = client.get(url, query)
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        mode = re.search(r'data-count-mode="(\w+)"', html)
        shown = re.search(r'id="list-count">\s*(.*?)</span>', html, re.S)
        timings, cpu, db = [], [], []
        for _ in range(repeat):
            # Wall time, and what it is made of: this process's CPU time (Python: the view, the template)
            # and the queries' time (PostgreSQL's work plus the round trips); on a machine others load, the
            # CPU and database times move far less than the wall time.
            spent = [0.0]
            started, started_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(partial(_time_query, spent)):
                response = client.get(url, query)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            db.append(spent[0] * 1000)
            assert response.status_code == 200
        timings.sort()
        rows.append(
            {
                "scenario": name + (f" (page {pages[name]})" if name in pages else ""),
                "cold": cold,
                "p50": statistics.median(timings),
                "p95": _percentile(timings, 0.95),
                "max": timings[-1],
                "cpu": statistics.median(cpu),
                "db": statistics.median(db),
                "queries": len(queries),
                "count": mode.group(1) if mode else "none",
                "shown": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", shown.group(1))).strip() if shown else "",
            }
        )
        print(_format_row(rows[-1]), flush=True)
    return rows


LIST_HEADER = (
    f"{'scenario':<36} {'1st ms':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu ms':>7} {'db ms':>7}"
    f" {'queries':>7}  count"
)


def _format_row(row: dict) -> str:
    timings = (
        f"{row['cold']:>7.1f} {row['p50']:>7.1f} {row['p95']:>7.1f} {row['max']:>7.1f}"
        f" {row['cpu']:>7.1f} {row['db']:>7.1f}"
    )
    return f"{row['scenario']:<36} {timings} {row['queries']:>7}  {row['count']}: {row['shown']}"


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _export_child(merchant_pk: int, query: dict, results) -> None:
    """Runs in its own process: streams one export through the test client and reports its figures."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Merchant
    from subscribers.models import SubscriberExport

    merchant = Merchant.objects.get(pk=merchant_pk)
    client = Client()
    client.force_login(_owner(merchant))
    connection.close()
    baseline = _peak_rss_mb()
    started, started_cpu = time.perf_counter(), time.process_time()
    response = client.get(reverse("subscribers:subscriber_export"), query)
    first = first_rows = None
    lines = size = 0
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        elif first_rows is None:
            first_rows = time.perf_counter() - started
        lines += chunk.count(b"\n")
        size += len(chunk)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    response.close()
    export = SubscriberExport.objects.filter(merchant=merchant).order_by("-pk").first()
    results.put(
        {
            "query": query,
            "rows": lines - 1,
            "bytes": size,
            "seconds": elapsed,
            "cpu": cpu,
            "first_byte": first,
            "first_rows": first_rows,
            "rss_mb": _peak_rss_mb(),
            "baseline_mb": baseline,
            "recorded": (export.status, export.row_count),
        }
    )


def _cluster_cpu_seconds() -> float | None:
    """CPU seconds used so far by the PostgreSQL cluster this process is connected to, every process of it
    (backends and parallel workers, ended ones included through the postmaster's children times), read
    from /proc: None when the server is not on this machine or not readable. The export's PostgreSQL work
    is spread over a leader and its workers; their sum is what a faster export has to lower."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        with open(f"/proc/{backend}/stat") as stat:
            postmaster = int(stat.read().rsplit(")", 1)[1].split()[1])
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        with open(f"/proc/{postmaster}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        children = set()
        for task in os.listdir(f"/proc/{postmaster}/task"):
            with open(f"/proc/{postmaster}/task/{task}/children") as listed:
                children.update(listed.read().split())
        for child in children:
            try:
                with open(f"/proc/{child}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile: counted in the postmaster's children times
                continue
            total += sum(int(value) for value in fields[11:15])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def time_export(merchant, query: dict) -> dict:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_export_child, args=(merchant.pk, query, results))
    before = _cluster_cpu_seconds()
    process.start()
    result = results.get()
    process.join()
    after = _cluster_cpu_seconds()
    result["pg_cpu"] = after - before if before is not None and after is not None else None
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=1_000_000, help="default 1000000")
    parser.add_argument("--months", type=int, default=3, help="months of invoices and payments (default 3)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per scenario (default 30)")
    parser.add_argument("--reuse", action="store_true", help="keep a previous run's data instead of seeding")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop (time later with --reuse)")
    parser.add_argument("--no-export", action="store_true", help="skip the export measurement")
    parser.add_argument("--no-list", action="store_true", help="skip the list measurement")
    parser.add_argument("--only", default="", help="list scenarios whose name contains one of these (a,b)")
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    from accounts.models import Merchant

    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh (or set DATABASE_URL)")

    merchant = Merchant.objects.filter(slug=BENCH_SLUG).first() if options.reuse else None
    if merchant is None:
        wipe()
        started = time.perf_counter()
        merchant, counts = seed(options.subscriptions, months=options.months)
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
        if options.seed_only:
            return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT count(*) FROM subscribers_subscription WHERE merchant_id = %s", [merchant.pk])
        total = cursor.fetchone()[0]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {version}")
    print("load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print(f"\nGET /assinantes/ — {total} subscriptions, {options.repeat} timed requests per scenario")
    failed = False
    if not options.no_list:
        print(LIST_HEADER)
        rows = time_list(merchant, repeat=options.repeat, only=options.only)
        worst = max(row["p95"] for row in rows)
        most = max(row["queries"] for row in rows)
        print(f"worst p95 {worst:.1f} ms (bar < 150 ms), most queries {most} (bar ≤ 10)")
        print("load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
        failed = worst >= 150 or most > 10
    if not options.no_export:
        # The default order, and the two sorted by a name on another table (written group by group).
        for query in ({}, {"sort": "plan"}, {"sort": "-salesperson"}):
            label = f"sort={query['sort']}" if query else "default order"
            print(f"\nexport (all rows, human format, {label}; separate process)", flush=True)
            result = time_export(merchant, query)
            rate = result["rows"] / result["seconds"]
            pg_cpu = f"{result['pg_cpu']:.1f} s" if result["pg_cpu"] is not None else "not readable"
            print(
                f"rows {result['rows']}, {result['bytes'] / 1e6:.0f} MB in {result['seconds']:.1f} s: "
                f"{rate:,.0f} rows/s, "
                f"first byte {result['first_byte'] * 1000:.0f} ms (header), first rows "
                f"{result['first_rows'] * 1000:.0f} ms, peak RSS {result['rss_mb']:.0f} MB "
                f"(before the request {result['baseline_mb']:.0f} MB), recorded {result['recorded']}; "
                f"CPU: PostgreSQL {pg_cpu} (every process of the cluster), export process "
                f"{result['cpu']:.1f} s; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            failed |= rate < 200_000 or result["rss_mb"] >= 200 or result["first_rows"] >= 1
            failed |= result["recorded"] != ("finished", total) or result["rows"] != total
        print("bars: ≥ 200,000 rows/s, peak RSS < 200 MB, first data row < 1 s")
        print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
