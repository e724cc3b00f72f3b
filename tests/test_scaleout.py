"""Scale-out on one machine (issue 12): PostgreSQL + Redis as the broker, 2 web processes and 2 billing
clusters. A billing run of 5,000 due subscriptions (bench.billing_run's realistic mix: cards, coupons,
taxes, installments, boleto/pix, declines) is started from the web ("Executar agora") while
other requests keep coming to both web processes; one cluster is killed with SIGKILL mid-run. Then:
every period invoiced once, every successful charge once, no outbox event lost or doubled, the run
finished with exact counts, and every web request answered.

Redis: $TEST_REDIS_URL if set (scripts/with-redis.sh), else a throwaway `redis-server` started here on
a free loopback port (Debian's package, installed by `make test-deps`)."""

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client

from accounts.choices import Role
from billing.choices import PaymentStatus
from billing.models import BillingRun, BillingRunChunk, Invoice, Payment
from core.models import Event, WorkerHeartbeat
from tests import processes
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.scaleout, pytest.mark.django_db(transaction=True)]
SUBSCRIPTIONS = 5000


@pytest.fixture
def redis_url(tmp_path):
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make test-deps installs Debian's)")
    port = processes.free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    assert processes.wait_for(lambda: _pings(redis, url), timeout=20), "redis-server did not start"
    yield url
    process.terminate()
    process.wait(timeout=10)


def _pings(redis, url) -> bool:
    try:
        return redis.from_url(url).ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def started():
    running = []
    yield running.append
    for process in running:
        processes.kill_tree(process, signal.SIGKILL)
    with connection.cursor() as cursor:  # the trigger outlives the test's flush: it must not slow the rest
        cursor.execute(
            "DROP TRIGGER IF EXISTS slow_insert ON billing_invoice; DROP FUNCTION IF EXISTS slow_insert();"
        )
    connection.close()


def web_command(port: int) -> list[str]:
    """One web process as production starts it (config/web.py), with one worker."""
    return [sys.executable, "-m", "config.web", "--port", str(port), "--workers", "1"]


def slow_invoice_inserts():
    """Each chunk's INSERT into billing_invoice takes 0.5 s more (a real trigger), so the run lasts long
    enough to kill a cluster in the middle of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION slow_insert() RETURNS trigger AS $$
            BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER slow_insert AFTER INSERT ON billing_invoice
              FOR EACH STATEMENT EXECUTE FUNCTION slow_insert();
            """
        )


logging.getLogger("httpx").setLevel(logging.WARNING)


class Traffic(threading.Thread):
    """Keeps both web processes busy with a signed-in page and the health check until stopped."""

    def __init__(self, urls, cookies):
        super().__init__(daemon=True)
        self.urls, self.cookies, self.statuses, self.stop = urls, cookies, [], threading.Event()

    def run(self):
        with httpx.Client(cookies=self.cookies, timeout=30, headers={"Host": "localhost"}) as client:
            while not self.stop.is_set():
                for base in self.urls:
                    for path in ("/healthz", "/cobrancas/execucoes/", "/planos/assinaturas/", "/clientes/"):
                        self.statuses.append(client.get(base + path).status_code)


def test_two_webs_and_two_billing_clusters_on_redis_survive_a_sigkill_mid_run(redis_url, started, tmp_path):
    from bench.billing_run import seed

    merchant = seed(SUBSCRIPTIONS)
    owner = UserFactory(username="scaleout-owner")
    MembershipFactory(user=owner, merchant=merchant, role=Role.OWNER)
    session = Client()
    session.force_login(owner)
    cookies = {"sessionid": session.cookies["sessionid"].value}
    slow_invoice_inserts()

    env = {"REDIS_URL": redis_url, "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1"}
    ports = [processes.free_port(), processes.free_port()]
    for number, port in enumerate(ports):
        started(
            processes.start(
                web_command(port), env=processes.environment(**env), log_path=tmp_path / f"web{number}.log"
            )
        )
    doomed = processes.start_worker("billing", log_path=tmp_path / "doomed.log", **env)
    survivor = processes.start_worker("billing", log_path=tmp_path / "survivor.log", **env)
    started(doomed), started(survivor)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    assert processes.wait_for(lambda: all(_up(url) for url in urls), timeout=60), (
        "the web processes never answered"
    )
    assert processes.wait_for(
        lambda: WorkerHeartbeat.objects.filter(cluster="billing").count() >= 2, timeout=60
    )

    traffic = Traffic(urls, cookies)
    traffic.start()
    with httpx.Client(cookies=cookies, timeout=30, headers={"Host": "localhost"}) as client:
        page = client.get(urls[0] + "/cobrancas/execucoes/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = client.post(urls[0] + "/cobrancas/execucoes/executar/", data={"csrfmiddlewaretoken": token})
    assert answer.status_code == 302, answer.text[:500]
    run = BillingRun.objects.get(merchant=merchant)
    assert run.due == SUBSCRIPTIONS

    def doomed_holds_a_chunk():
        claimed = BillingRunChunk.objects.filter(run=run, status="claimed").values_list(
            "claimed_by", flat=True
        )
        doomed_pids = {str(pid) for pid in processes.descendants(doomed.pid)}
        return any(key.split(":")[1] in doomed_pids for key in claimed)

    assert processes.wait_for(doomed_holds_a_chunk, timeout=60, interval=0.05), (
        "the doomed cluster took no chunk"
    )
    processes.kill_tree(doomed, signal.SIGKILL)
    assert processes.wait_for(lambda: BillingRun.objects.get(pk=run.pk).status != "running", timeout=120), (
        "the run never finished"
    )
    time.sleep(1)
    traffic.stop.set()
    traffic.join(timeout=60)

    run.refresh_from_db()
    assert run.status == "finished"
    assert (run.processed, run.chunks_done) == (SUBSCRIPTIONS, run.chunks_total)
    # The realistic mix (bench.billing_run.MIX): cards, coupons, taxes, installments, boleto/pix, declines.
    assert Invoice.objects.count() == SUBSCRIPTIONS
    assert (
        not Invoice.objects.values("subscription", "period_start")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    assert Payment.objects.count() == SUBSCRIPTIONS  # one attempt per renewal, none repeated by the retake
    assert not Payment.objects.values("invoice").annotate(n=Count("pk")).filter(n__gt=1).exists()
    succeeded = Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count()
    assert succeeded > SUBSCRIPTIONS * 0.9
    expected = {
        "payment.succeeded": succeeded,
        "invoice.paid": Invoice.objects.filter(status="paid").count(),
        "payment.failed": Payment.objects.filter(status=PaymentStatus.FAILED).count(),
        "payment.pending": Payment.objects.filter(status=PaymentStatus.PENDING).count(),
    }
    for event_type, count in expected.items():
        ids = list(Event.objects.filter(type=event_type).values_list("payload__id", flat=True))
        assert len(ids) == len(set(ids)) == count, event_type
    assert traffic.statuses and set(traffic.statuses) == {200}, sorted(set(traffic.statuses))


def _up(url) -> bool:
    try:
        return httpx.get(url + "/healthz", headers={"Host": "localhost"}, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
