"""Scale-out benchmark: renewals/s of one billing run with 1, 2, 3 worker clusters on the same PostgreSQL.

    make bench-scale            # scripts/with-postgres.sh + scripts/with-redis.sh, then this module

Unlike bench/billing_run.py (worker processes fed from an in-memory queue, the engine alone), this runs
the production path: each cluster is a real `manage.py worker` (Q_CLUSTER_NAME=billing, Q_WORKERS
processes each), the run is started with `billing_run_start` and its chunks travel through the broker
(Redis when REDIS_URL is set, else the ORM broker), the workers claim and count them as in production.
The clock runs from the start of the run to its `finished_at`. Each pass is checked like bench/billing_run
(N invoices and succeeded payments, nothing invoiced twice, the run finished with N processed).
"""

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parents[1]


def start_clusters(count: int, workers: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "Q_CLUSTER_NAME": "billing",
        "Q_WORKERS": str(workers),
        "Q_BILLING_WORKERS": str(workers),
    }
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def stop_clusters(clusters) -> None:
    for process in clusters:
        os.killpg(process.pid, signal.SIGTERM)
    for process in clusters:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_pass(merchant, n: int, clusters: int, workers: int, chunk_size: int) -> dict:
    from django.db import connection

    from bench.billing_run import reset, verify
    from billing.models import BillingRun
    from billing.services.billing_run import billing_run_start
    from core.models import WorkerHeartbeat

    reset(merchant)
    WorkerHeartbeat.objects.all().delete()
    running = start_clusters(clusters, workers)
    try:
        deadline = time.monotonic() + 120
        while WorkerHeartbeat.objects.filter(cluster="billing").count() < clusters * workers:
            if time.monotonic() > deadline:
                raise SystemExit("the clusters never started")
            time.sleep(0.2)
        (run,) = billing_run_start(chunk_size=chunk_size)
        while True:
            run.refresh_from_db()
            if run.status != "running":
                break
            time.sleep(0.05)
        seconds = (run.finished_at - run.started_at).total_seconds()
        found = verify(n)
        runs = BillingRun.objects.count()
    finally:
        stop_clusters(running)
        connection.close()
    problems = found["problems"] + ([f"{runs} runs"] if runs != 1 else [])
    return {"clusters": clusters, "seconds": seconds, "rate": n / seconds, "problems": problems}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", "-n", type=int, default=20000)
    parser.add_argument("--clusters", "-c", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", "-w", type=int, default=1, help="worker processes per cluster (1)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--mix", choices=["realistic", "plain"], default="realistic", help="as make bench")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    from accounts.models import Merchant
    from bench.billing_run import BENCH_SLUG, seed
    from billing.services.billing_run import CHUNK_SIZE

    if connection.vendor != "postgresql":
        parser.error("needs PostgreSQL: run it under scripts/with-postgres.sh")
    if Merchant.objects.exclude(slug=BENCH_SLUG).exists():
        parser.error("the database holds other merchants; the benchmark truncates billing tables")
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM (PostgreSQL)"
    chunk_size = args.chunk_size or CHUNK_SIZE
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}; "
        f"broker {broker}; "
        f"{args.subscriptions} due renewals ({args.mix} mix), chunk size {chunk_size}, "
        f"{args.workers} worker(s) per cluster"
    )
    merchant = Merchant.objects.filter(slug=BENCH_SLUG).first() or seed(args.subscriptions, args.mix)
    results = [timed_pass(merchant, args.subscriptions, c, args.workers, chunk_size) for c in args.clusters]
    print(f"{'clusters':>8} {'seconds':>8} {'renewals/s':>11}  checks")
    for r in results:
        print(
            f"{r['clusters']:>8} {r['seconds']:>8.2f} {r['rate']:>11,.0f}  {'; '.join(r['problems']) or 'ok'}"
        )
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
