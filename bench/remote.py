"""`make bench-remote`: the billing run charging through a remote provider (Stripe PaymentIntents, our
engine) that answers after 200 ms, with 2 worker processes; then the same run with one worker killed
(SIGKILL) in the middle of sending its charges. See bench/README.md.

The provider is tests/stripe_server.py in its own process (an asyncio HTTP server on 127.0.0.1, deduplicating
idempotency keys); the workers use the real `stripe` library pointed at it. Double charges are counted on
the stub's ledger: a key with two PaymentIntents, or more PaymentIntents than subscriptions.
"""

import argparse
import json
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- the provider stub, in its own process ----------------------------------------------------------------
def start_stub(latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stripe_server", "--latency", str(latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def ledger(api_base: str, *, keys: bool = False) -> dict:
    url = f"{api_base}/_stub/ledger" + ("?keys=1" if keys else "")
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - our own stub on 127.0.0.1
        return json.load(answer)


def reset_stub(api_base: str) -> None:
    request = urllib.request.Request(f"{api_base}/_stub/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310


# --- the data -------------------------------------------------------------------------------------------
def seed(n: int):
    """bench.billing_run's plain seed (n due card subscriptions), turned into Stripe cards."""
    from django.db import connection

    from bench.billing_run import seed as seed_plain
    from bench.billing_run import wipe
    from billing.choices import PaymentProvider, StripeMode
    from billing.models import ProviderConnection

    wipe()
    merchant = seed_plain(n, mix="plain")
    # Our engine charges this merchant's Stripe cards (in mirror mode the run would leave them to Stripe).
    ProviderConnection.objects.create(
        merchant=merchant, provider=PaymentProvider.STRIPE, mode=StripeMode.ENGINE, api_key="sk_test_bench"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subscribers_subscription SET provider = 'stripe', payment_token = %s "
            "WHERE merchant_id = %s",
            ["cus_bench/pm_card_visa", merchant.pk],
        )
    return merchant


def verify(n: int, stub: dict) -> dict:
    from django.db.models import Count

    from billing.models import Invoice, Payment
    from billing.services.remote_charging import awaiting_payments

    invoices = Invoice.objects.count()
    twice = Invoice.objects.values("subscription_id").annotate(c=Count("pk")).filter(c__gt=1).count()
    payments = Payment.objects.count()
    succeeded = Payment.objects.filter(status="succeeded").count()
    statuses = {
        f"{row['status']}{'/' + row['failure_code'] if row['failure_code'] else ''}": row["c"]
        for row in Payment.objects.values("status", "failure_code").annotate(c=Count("pk"))
    }
    found = {
        "statuses": statuses,
        "invoices": invoices,
        "payments": payments,
        "succeeded": succeeded,
        "awaiting": awaiting_payments().count(),
        "invoiced_twice": twice,
        "provider_intents": stub["intents"],
        "provider_requests": stub["requests"],
        "double_charges": stub["intents"] - stub["distinct_keys"] + max(0, stub["distinct_keys"] - n),
        "max_in_flight": stub["max_in_flight"],
    }
    found["ok"] = (
        invoices == payments == succeeded == stub["intents"] == stub["distinct_keys"] == n
        and not twice
        and not found["awaiting"]
    )
    return found


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _postgres_cpu() -> float:
    """CPU seconds of this benchmark's PostgreSQL server only (not the other servers on the machine): its
    postmaster (found as the parent of our own backend) with the children it has reaped (cutime, cstime:
    the workers' backends, gone once they disconnect) and its live children."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    postmaster = int(_stat(backend)[1])
    fields = _stat(postmaster)
    total = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# --- the workers ----------------------------------------------------------------------------------------
PHASES = {
    "draft": ("billing.services.billing_run", "renew_many"),
    "read": ("billing.services.remote_charging", "awaiting_requests"),
    "send": ("billing.services.remote_charging", "send_charges"),
    "record": ("billing.services.remote_charging", "record_results"),
}


def _time_phases(sending=None, backend: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """The worker's CPU seconds per phase (process time: every thread of the worker), and its PostgreSQL
    backend's (`backend`: its pid, read from /proc: the server runs on this machine), by wrapping the
    functions process_chunk calls; whatever is left (claiming the chunk, settling the run) is "other".
    `sending` (a shared value) is 1 while the worker is in phase 2, so the kill run can aim there."""
    import functools
    import importlib

    spent = dict.fromkeys(PHASES, 0.0)
    spent_db = dict.fromkeys(PHASES, 0.0)
    for phase, (module_name, name) in PHASES.items():
        module = importlib.import_module(module_name)
        function = getattr(module, name)

        @functools.wraps(function)
        def timed(*args, _function=function, _phase=phase, **kwargs):
            started, started_db = time.process_time(), _cpu(backend)
            if _phase == "send" and sending is not None:
                sending.value = 1
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_phase] += time.process_time() - started
                spent_db[_phase] += _cpu(backend) - started_db
                if _phase == "send" and sending is not None:
                    sending.value = 0

        setattr(module, name, timed)
    return spent, spent_db


def _worker(tasks, results, taken, ready, api_base: str, concurrency: int, sending=None) -> None:
    """A billing worker: Django, the Stripe gateway pointed at the stub, then chunks until None. The
    gateway is built here rather than from the connection (engine_gateway_for) to set the bench's
    concurrency bound and no rate limit (the stub has none)."""
    import django

    django.setup()
    from django.db import connection

    from billing.choices import Gateway
    from billing.gateways import remote_gateways
    from billing.gateways.stripe_intents import StripeIntentsGateway
    from billing.services.billing_run import process_chunk

    gateway = StripeIntentsGateway(
        api_key="sk_test_bench", api_base=api_base, max_concurrency=concurrency, rate_per_second=0
    )
    remote_gateways.register(Gateway.STRIPE, lambda merchant_id: gateway)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    phases, db_phases = _time_phases(sending, backend)
    ready.wait(timeout=300)
    report = {"pid": os.getpid(), "chunks": 0, "succeeded": 0, "failed": 0}
    cpu_before, db_before = _cpu(os.getpid()), _cpu(backend)
    while (item := tasks.get()) is not None:
        run_id, ids = item
        taken.put((os.getpid(), ids[0]))  # small: an unread queue must not block the worker's exit
        counts = process_chunk(run_id=run_id, subscription_ids=ids)
        report["chunks"] += 1
        report["succeeded"] += counts["succeeded"]
        report["failed"] += counts["failed"]
    report["db"] = _cpu(backend) - db_before
    connection.close()
    report["cpu"] = _cpu(os.getpid()) - cpu_before
    report["phases"] = phases
    report["db_phases"] = db_phases
    results.put(report)


def timed_run(
    n: int, workers: int, merchant, api_base: str, concurrency: int, *, latency: float, kill_after: float = 0
):
    """One billing run over the n due subscriptions; with `kill_after` (a fraction of n), the first
    worker is killed with SIGKILL once the provider has received that many requests, in its next phase 2
    (it needs a chunk left to take), and its chunk is queued again for the others (what the reaper does
    when its heartbeat goes silent)."""
    from bench.billing_run import reset
    from billing.services.billing_run import billing_run_start
    from billing.services.remote_charging import awaiting_payments

    reset(merchant)
    reset_stub(api_base)
    context = multiprocessing.get_context("spawn")
    tasks, results, taken = context.Queue(), context.Queue(), context.Queue()
    ready = context.Barrier(workers + 1)
    sending = [context.Value("i", 0) for _ in range(workers)]
    processes = [
        context.Process(
            target=_worker, args=(tasks, results, taken, ready, api_base, concurrency, sending[index])
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    stub_pid = int(ledger(api_base)["pid"])
    cpu_stub, cpu_postgres = _cpu(stub_pid), _postgres_cpu()
    started = time.perf_counter()
    chunks = []
    billing_run_start(dispatch=lambda run_id, ids: chunks.append((run_id, ids)))
    for chunk in chunks:
        tasks.put(chunk)
    by_first = {ids[0]: (run_id, ids) for run_id, ids in chunks}
    killed = None
    holding: dict[int, tuple] = {}

    def note_taken():
        while True:
            try:
                pid, chunk = taken.get_nowait()
            except queue.Empty:
                return
            holding[pid] = by_first[chunk]

    if kill_after:
        victim = processes[0]
        # Once the provider has had `kill_after` of the requests, at the victim's next phase 2, a little
        # more than one latency into it: some of its chunk's charges answered, none recorded.
        while ledger(api_base)["requests"] < kill_after * n:
            time.sleep(0.05)
        deadline = time.monotonic() + 300
        while not sending[0].value:
            if time.monotonic() > deadline:
                raise RuntimeError("the worker to kill never reached phase 2 again (too few chunks?)")
            time.sleep(0.005)
        time.sleep(latency * 1.5)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join()
        note_taken()
        run_id, ids = holding[victim.pid]
        awaiting = awaiting_payments().filter(invoice__subscription_id__in=ids)
        sent = set(ledger(api_base, keys=True)["keys"])
        killed = {
            "pid": victim.pid,
            "chunk_awaiting": awaiting.count(),
            "chunk_awaiting_already_sent": sum(
                1 for key in awaiting.values_list("idempotency_key", flat=True) if key in sent
            ),
        }
        tasks.put((run_id, ids))  # the reaper's re-queue
        # The cluster's guard starts a new worker in place of the dead one.
        # (its barrier kept referenced here: the child unpickles it after this statement)
        replacement_ready = context.Barrier(1)
        replacement = context.Process(
            target=_worker, args=(tasks, results, taken, replacement_ready, api_base, concurrency)
        )
        replacement.start()
        processes.append(replacement)
    alive = [p for p in processes if p.exitcode is None]
    for _ in alive:
        tasks.put(None)
    reports = []
    while len(reports) < len(alive):
        try:
            reports.append(results.get(timeout=5))
        except queue.Empty:
            dead = [p.exitcode for p in alive if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"worker(s) died: exit codes {dead}") from None
    elapsed = time.perf_counter() - started
    note_taken()
    for process in alive:
        process.join(timeout=60)
    stub = ledger(api_base)
    cpu = {
        # A killed worker's CPU is not counted (it never reported): the figure is a lower bound then.
        "workers": sum(r["cpu"] for r in reports),
        "phases": {phase: sum(r["phases"][phase] for r in reports) for phase in PHASES},
        "db": sum(r["db"] for r in reports),
        "db_phases": {phase: sum(r["db_phases"][phase] for r in reports) for phase in PHASES},
        "stub": _cpu(stub_pid) - cpu_stub,
        "postgres": _postgres_cpu() - cpu_postgres,
    }
    return {
        "cpu": cpu,
        "workers": workers,
        "seconds": elapsed,
        "rate": n / elapsed,
        "chunks": len(chunks),
        "worker_chunks": [r["chunks"] for r in reports],
        "killed": killed,
        **verify(n, stub),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.2, help="the provider's answer time, seconds")
    parser.add_argument(
        "--concurrency", type=int, default=256, help="requests in flight per worker (the gateway's bound)"
    )
    parser.add_argument("--kill-after", type=float, default=0.3, help="kill run: fraction of n sent first")
    parser.add_argument("--no-kill", action="store_true", help="the clean run only (a quick look)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench-remote needs PostgreSQL (scripts/with-postgres.sh)", file=sys.stderr)
        return 2
    n = args.subscriptions
    stub_process, api_base = start_stub(args.latency)
    try:
        started = time.perf_counter()
        merchant = seed(n)
        print(f"seeded {n:,} due Stripe card subscriptions in {time.perf_counter() - started:.1f} s")
        load = os.getloadavg()
        bound = args.workers * args.concurrency / args.latency
        print(
            f"provider stub {api_base}, {args.latency * 1000:.0f} ms a request; {args.workers} workers × "
            f"{args.concurrency} in flight; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            f"on {os.cpu_count()} CPUs",
            flush=True,
        )
        ok = True
        runs = [("clean run", 0.0), ("kill -9 of one worker mid-phase-2", args.kill_after)]
        for label, kill in runs[:1] if args.no_kill else runs:
            result = timed_run(
                n, args.workers, merchant, api_base, args.concurrency, latency=args.latency, kill_after=kill
            )
            ok &= result["ok"]
            print(
                f"\n{label}: {result['rate']:,.0f} renewals/s ({n:,} in {result['seconds']:.1f} s); "
                f"theoretical bound {args.workers} × {args.concurrency} ÷ {args.latency:g} s = {bound:,.0f}/s"
            )
            if result["killed"]:
                k = result["killed"]
                print(
                    f"  killed worker {k['pid']}: its chunk had {k['chunk_awaiting']} charges awaiting, "
                    f"{k['chunk_awaiting_already_sent']} of them already sent to the provider; re-queued"
                )
            print(
                f"  invoices {result['invoices']:,}, payments {result['payments']:,} "
                f"(succeeded {result['succeeded']:,}, awaiting {result['awaiting']}), "
                f"periods invoiced twice {result['invoiced_twice']}"
            )
            print(
                f"  provider: {result['provider_intents']:,} PaymentIntents from "
                f"{result['provider_requests']:,} requests, max {result['max_in_flight']} in flight; "
                f"DOUBLE CHARGES: {result['double_charges']}"
            )
            print(f"  payments by status: {result['statuses']}")
            cpu = result["cpu"]
            per = (cpu["workers"] + cpu["stub"]) / n * 1000
            print(
                f"  CPU: workers {cpu['workers']:.1f} s, provider stub {cpu['stub']:.1f} s, PostgreSQL "
                f"{cpu['postgres']:.1f} s = {per + cpu['postgres'] / n * 1000:.2f} ms per renewal "
                f"(wall {result['seconds']:.1f} s × {os.cpu_count()} CPUs = "
                f"{result['seconds'] * os.cpu_count():.1f} CPU-s available, shared with the other sessions)"
            )
            phases = cpu["phases"]
            other = cpu["workers"] - sum(phases.values())
            print(
                "  worker CPU per renewal: "
                + ", ".join(f"{phase} {seconds / n * 1000:.2f} ms" for phase, seconds in phases.items())
                + f", other {other / n * 1000:.2f} ms"
            )
            db_phases = cpu["db_phases"]
            db_other = cpu["db"] - sum(db_phases.values())
            print(
                "  PostgreSQL CPU per renewal: the workers' backends "
                + ", ".join(f"{phase} {seconds / n * 1000:.2f} ms" for phase, seconds in db_phases.items())
                + f", other {db_other / n * 1000:.2f} ms; the rest of the server (this benchmark's own "
                f"queries, autovacuum, checkpoints) {(cpu['postgres'] - cpu['db']) / n * 1000:.2f} ms"
            )
            print(
                f"  worker chunks {result['worker_chunks']}; checks {'OK' if result['ok'] else 'FAILED'}",
                flush=True,
            )
        return 0 if ok else 1
    finally:
        stub_process.terminate()
        stub_process.wait(timeout=10)
        if threading.current_thread() is threading.main_thread():
            connection.close()


if __name__ == "__main__":
    sys.exit(main())
