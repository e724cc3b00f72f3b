"""`make bench-webhooks`: Stripe webhook ingest. One web process (granian as in production:
config/web.py's settings and threads, WEB_CONCURRENCY=1, DEBUG off, behind a proxy that says https)
receives signed Stripe events, in `--accept-runs` timed runs (median printed: one run's rate moves by
±15 % on this machine); then 2 worker processes apply them in batches. See bench/README.md.

Printed beside the figures, the physical limits on this machine: a no-op WSGI answer through the same
web server and the same client (what the server and the client cost alone), and PostgreSQL's rate of
single-row committed INSERTs into the inbox table from one connection (what storing costs alone).

The client is raw sockets from 2 processes × 4 threads, each request on a new TCP connection closed after
the answer (`Connection: close`), as Stripe's deliveries are.
"""

import argparse
import contextlib
import multiprocessing
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-webhooks-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "CREDENTIALS_ENCRYPTION_KEYS": "q0xBZ3xYc1J6R1lVa0ZfY2h2a3dBUlN0T2xQcFhwWjg=",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
    "LOG_LEVEL": "WARNING",
    # The bench measures ingest, not the limiter: limits off (one counter read per request otherwise).
    "RATELIMIT_ENABLE": "false",
}
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
SECRET = "whsec_bench_0001"


# --- the data -------------------------------------------------------------------------------------------
def seed(subscriptions: int):
    """A merchant with `subscriptions` mirrored Stripe subscriptions (bench.billing_run's plain seed, given
    provider `stripe` and ids sub_bench_<pk>) and its Stripe connection in mirror mode."""
    from django.db import connection

    from bench.billing_run import seed as seed_plain
    from bench.billing_run import wipe
    from billing.choices import PaymentProvider, StripeMode
    from billing.models import ProviderConnection

    wipe()
    merchant = seed_plain(subscriptions, mix="plain")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subscribers_subscription SET provider = 'stripe', provider_id = 'sub_bench_' || id "
            "WHERE merchant_id = %s",
            [merchant.pk],
        )
        cursor.execute(
            "SELECT provider_id FROM subscribers_subscription WHERE merchant_id = %s ORDER BY id",
            [merchant.pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
    conn = ProviderConnection.objects.create(
        merchant=merchant,
        provider=PaymentProvider.STRIPE,
        mode=StripeMode.MIRROR,
        api_key="rk_test_bench",
        webhook_secret=SECRET,
    )
    return merchant, conn, ids


def requests_for(n: int, ids: list[str], host: str, path: str) -> list[bytes]:
    """n signed `customer.subscription.updated` deliveries (status unchanged: the handler finds nothing to
    change, so processing measures the inbox, not a subscription service), spread over the subscriptions,
    each subscription's events one second apart (no same-second refetch from Stripe)."""
    from tests.stripe_server import event, fixture, sign

    base = fixture("subscription", status="active")
    now = int(time.time())
    out = []
    for i in range(n):
        obj = dict(base, id=ids[i % len(ids)])
        body = event(
            "customer.subscription.updated", obj, created=now - 3600 + i // len(ids), event_id=f"evt_b{i}"
        )
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nStripe-Signature: {sign(body, SECRET, now)}\r\n"
            "X-Forwarded-Proto: https\r\nUser-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
            "Connection: close\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


# --- the client -----------------------------------------------------------------------------------------
def _send(address, data: bytes) -> bytes:
    with socket.create_connection(address) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _client(address, requests: list[bytes], threads: int, results) -> None:
    counts: dict[str, int] = {}
    lock = threading.Lock()
    work = iter(requests)

    def loop():
        mine: dict[str, int] = {}
        while True:
            with lock:
                data = next(work, None)
            if data is None:
                break
            status = _send(address, data)[9:12].decode() or "---"
            mine[status] = mine.get(status, 0) + 1
        with lock:
            for key, value in mine.items():
                counts[key] = counts.get(key, 0) + value

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put(counts)


def blast(address, requests: list[bytes], *, processes: int = 2, threads: int = 4) -> tuple[float, dict]:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    parts = [requests[i::processes] for i in range(processes)]
    started = time.perf_counter()
    workers = [context.Process(target=_client, args=(address, part, threads, results)) for part in parts]
    for worker in workers:
        worker.start()
    counts: dict[str, int] = {}
    for _ in workers:
        for key, value in results.get().items():
            counts[key] = counts.get(key, 0) + value
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return elapsed, counts


# --- the server -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(app: str, port: int) -> subprocess.Popen:
    """One web worker as production runs it (config/web.py's granian settings), serving `app`."""
    from config.web import granian_environment

    env = granian_environment({**os.environ, "WEB_CONCURRENCY": "1", "PORT": str(port)})
    env["GRANIAN_BACKLOG"] = "2048"
    process = subprocess.Popen([str(ROOT / ".venv/bin/granian"), app], cwd=ROOT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the web server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(master: subprocess.Popen) -> int:
    """The web server's one worker process (the main process's child)."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return int(children[0])


def noop_app(environ, start_response):
    """The physical limit of server + client: a WSGI answer with no Django at all."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


# --- PostgreSQL's own limit -----------------------------------------------------------------------------
def insert_rate(n: int, sample_body: str, merchant_id: int) -> float:
    """Committed single-row INSERTs per second into a copy of the inbox table (one connection, one
    transaction each: what the endpoint's store costs on its own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_inbox_copy")
        cursor.execute("CREATE TABLE bench_inbox_copy (LIKE billing_providerevent INCLUDING ALL)")
        columns = (
            "merchant_id, provider, event_id, type, created, object_key, headers, body, signature_valid, "
            "received_at, status, attempts, last_error, note, note_code, note_params"
        )
        sql = (
            f"INSERT INTO bench_inbox_copy ({columns}) VALUES "  # noqa: S608 - constant text
            "(%s, 'stripe', %s, 'customer.subscription.updated', now(), 'sub_x', '{}', %s, true, now(), "
            "'pending', 0, '', '', '', '{}')"
        )
        started = time.perf_counter()
        for i in range(n):
            cursor.execute(sql, [merchant_id, f"evt_copy_{i}", sample_body])  # autocommit: one commit each
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_inbox_copy")
    return n / elapsed


# --- processing -----------------------------------------------------------------------------------------
def _pg_backends_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL backends of this database other than this process's own
    (the web worker's or the billing workers' connections; the server runs on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += _cpu(pid)
    return total


def _worker(ready, go, results) -> None:
    """One billing worker: runs the batch task (billing.tasks.process_provider_event_batch) until no
    pending event is left (a batch that finds every object taken by the other worker waits a little)."""
    import django

    django.setup()
    from django.db import connection

    from billing.choices import ProviderEventStatus
    from billing.models import ProviderEvent
    from billing.services.provider_events import provider_events_process_batch

    with connection.cursor() as cursor:  # connect before the clock starts
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    ready.put(os.getpid())
    go.wait()
    backend_before = _cpu(backend)
    done = 0
    while True:
        counts = provider_events_process_batch()
        done += sum(value for key, value in counts.items() if key not in ("objects", "claimed"))
        if not counts["claimed"]:
            if not ProviderEvent.objects.filter(status=ProviderEventStatus.PENDING).exists():
                break
            time.sleep(0.005)
    backend_cpu = _cpu(backend) - backend_before
    connection.close()
    results.put((done, backend_cpu))


def process_all(workers: int) -> tuple[float, int, float, float]:
    """What the billing cluster does with a backlog: the drain creates the objects' state rows and queues
    batches; here `workers` processes (started and connected before the clock starts) run the batch task
    until nothing is pending. Returns the seconds, the events done, and the CPU seconds of the workers and
    of their PostgreSQL backends."""
    from billing.services.provider_events import _track_pending_objects

    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    procs = [context.Process(target=_worker, args=(ready, go, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    pids = [ready.get(timeout=120) for _ in procs]
    cpu_before = sum(_cpu(pid) for pid in pids)
    started = time.perf_counter()
    _track_pending_objects()
    go.set()
    done, pg_cpu = 0, 0.0
    for _ in procs:
        try:
            events, backend_cpu = results.get(timeout=600)
        except queue.Empty:
            break
        done += events
        pg_cpu += backend_cpu
    elapsed = time.perf_counter() - started
    cpu = sum(_cpu(pid) for pid in pids) - cpu_before
    for proc in procs:
        proc.join(timeout=60)
    return elapsed, done, cpu, pg_cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accept-runs", type=int, default=3, help="timed accept runs (median printed)")
    parser.add_argument("--migrate", action="store_true", help="migrate the (throwaway) database first")
    args = parser.parse_args(argv)

    import django

    django.setup()
    if args.migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection
    from django.urls import reverse

    from billing.choices import ProviderEventStatus
    from billing.models import ProviderEvent

    if connection.vendor != "postgresql":
        print("bench-webhooks needs PostgreSQL (scripts/with-postgres.sh)", file=sys.stderr)
        return 2
    merchant, conn, ids = seed(args.subscriptions)
    path = reverse("billing:stripe_webhook", args=[conn.webhook_token])
    port = free_port()
    address = ("127.0.0.1", port)
    host = f"127.0.0.1:{port}"
    load = os.getloadavg()
    print(
        f"{args.events:,} events over {args.subscriptions:,} mirrored subscriptions; granian, 1 worker "
        f"process × {os.environ.get('WEB_THREADS', '4')} threads (config/web.py); "
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    ok = True

    # 1. The physical limits.
    server = start_server("bench.webhooks:noop_app", port)
    try:
        noop_requests = requests_for(min(args.events, 10000), ids, host, "/noop")
        noop_pid = worker_pid(server)
        cpu_before = _cpu(noop_pid)
        elapsed, counts = blast(address, noop_requests)
        noop_cpu = (_cpu(noop_pid) - cpu_before) / len(noop_requests)
        noop_rate = len(noop_requests) / elapsed
    finally:
        stop(server)
    print(
        f"limit, no-op WSGI answer through the same web server and client: {noop_rate:,.0f} req/s {counts}; "
        f"the server's own CPU {noop_cpu * 1000:.2f} ms per request"
    )
    sample = requests_for(1, ids, host, path)[0].split(b"\r\n\r\n", 1)[1].decode()
    inserts = insert_rate(min(args.events, 10000), sample, merchant.pk)
    print(f"limit, PostgreSQL committed single-row INSERTs into the inbox table: {inserts:,.0f}/s")

    # 2. Accepting: verify, store, 2xx. Several runs, each with a fresh server and an empty inbox: on this
    # machine one run's rate moves by ±15 % from the next (bench/README.md), so the median is the figure.
    rates = []
    for run in range(1, args.accept_runs + 1):
        server = start_server("config.wsgi:application", port)
        try:
            _send(address, requests_for(1, ["sub_warm"], host, path)[0])  # first request loads the app
            ProviderEvent.objects.all().delete()
            requests = requests_for(args.events, ids, host, path)
            web = worker_pid(server)
            cpu_before, pg_before = _cpu(web), _pg_backends_cpu()
            elapsed, counts = blast(address, requests)
            web_cpu, accept_pg_cpu = _cpu(web) - cpu_before, _pg_backends_cpu() - pg_before
        finally:
            stop(server)
        stored = ProviderEvent.objects.filter(
            signature_valid=True, status=ProviderEventStatus.PENDING
        ).count()
        rates.append(stored / elapsed)
        ok &= counts.get("200", 0) == args.events == stored
        load = os.getloadavg()
        print(
            f"accepted (verified, stored, 2xx), run {run}: {rates[-1]:,.0f} events/s ({stored:,} in "
            f"{elapsed:.1f} s; answers {counts}); load average {load[0]:.2f}",
            flush=True,
        )
        print(
            f"  web worker CPU {web_cpu:.1f} s = {web_cpu / max(stored, 1) * 1000:.2f} ms per event: "
            f"{stored / max(web_cpu, 1e-9):,.0f} events/s per CPU-second of the web process (what one "
            f"process accepts when it has a core to itself and PostgreSQL keeps up); its PostgreSQL "
            f"backend's CPU {accept_pg_cpu / max(stored, 1) * 1000:.2f} ms per event",
            flush=True,
        )
    print(
        f"accepted: median {statistics.median(rates):,.0f} events/s over {len(rates)} runs "
        f"(lowest {min(rates):,.0f}); target ≥ 1,000/s",
        flush=True,
    )

    # 3. Processing by the workers.
    elapsed, done, workers_cpu, pg_cpu = process_all(args.workers)
    processed = ProviderEvent.objects.filter(status=ProviderEventStatus.PROCESSED).count()
    failed = ProviderEvent.objects.filter(status=ProviderEventStatus.FAILED).count()
    ok &= processed == args.events and not failed
    load = os.getloadavg()
    print(
        f"processed by {args.workers} workers: {processed / elapsed:,.0f} events/s ({processed:,} in "
        f"{elapsed:.1f} s, failed {failed}); target ≥ 500/s; load average {load[0]:.2f}",
        flush=True,
    )
    per = max(processed, 1) / 1000
    print(
        f"  workers' CPU {workers_cpu / per:.2f} ms per event, their PostgreSQL backends' "
        f"{pg_cpu / per:.2f} ms: "
        f"{processed / max(workers_cpu + pg_cpu, 1e-9):,.0f} events/s per CPU-second of both",
        flush=True,
    )
    print(f"checks {'OK' if ok else 'FAILED'}")
    connection.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
