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
import os
import sys
import time

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
    """bench.dashboard's seed with these customers, plus one "created" timeline event per subscription."""
    from django.db import connection, transaction

    from bench import dashboard

    merchant, counts = dashboard.seed(n, months=months, slug=slug, customer=customer, name="Bench Assinantes")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO subscribers_subscriptionevent
                (merchant_id, subscription_id, kind, from_status, to_status, origin, reason, data, created_at)
            SELECT merchant_id, id, 'created', '', status, '', '', '{}'::jsonb, created_at
            FROM subscribers_subscription WHERE merchant_id = %s
            """,
            [merchant.pk],
        )
        counts["events"] = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subscribers_subscriptionevent")
    return merchant, counts


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=1_000_000, help="default 1000000")
    parser.add_argument("--months", type=int, default=3, help="months of invoices and payments (default 3)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per scenario (default 30)")
    parser.add_argument("--reuse", action="store_true", help="keep a previous run's data instead of seeding")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop (time later with --reuse)")
    parser.add_argument("--no-export", action="store_true", help="skip the export measurement")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
