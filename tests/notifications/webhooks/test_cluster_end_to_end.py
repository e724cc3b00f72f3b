"""End to end through a real django-q2 cluster: a subscription contracted on the screen's service writes
its outbox event, a task is queued on the ORM broker, a separate `manage.py qcluster` process picks it up,
fans the event out and POSTs it, signed, to a receiver listening on 127.0.0.1 in this test.

PostgreSQL only: the cluster is another process and must see this test's committed rows.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django_q.tasks import async_task
from standardwebhooks import Webhook

from notifications.models import WebhookDelivery
from notifications.webhooks.choices import DeliveryStatus
from subscribers.services import subscription_create
from tests.factories import CustomerFactory, PlanFactory, WebhookEndpointFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """The test database (pytest-django's test_… copy), as the cluster process must reach it."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def cluster():
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "Q_WORKERS": "1",
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    for name in ("Q_SYNC", "REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        # A graceful stop waits out django-q2's guard loop (tens of seconds); the work is done and
        # checked by now, so a short grace period and then the whole process group goes.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        connection.close()  # the flush after the test must not wait on anything of ours


def wait_for(condition, *, timeout=60.0, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"qcluster exited with {process.returncode}: {process.stdout.read().decode()[-2000:]}"
            )
        time.sleep(0.2)
    return False


def test_a_subscription_event_reaches_a_local_receiver_through_the_cluster(
    merchant, owner, receiver, cluster
):
    endpoint = WebhookEndpointFactory(
        merchant=merchant, url=receiver.url, all_event_types=False, event_types=["subscription.created"]
    )
    subscription = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=CustomerFactory(merchant=merchant, email="ana@example.com"),
        plan=PlanFactory(merchant=merchant, price=4990),
        contract_date=merchant.localdate(),
    )

    async_task("notifications.tasks.deliver_webhooks")

    assert wait_for(lambda: receiver.requests, process=cluster), "the cluster never delivered the event"
    (request,) = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "subscription.created"
    assert payload["data"]["id"] == subscription.pk
    assert payload["data"]["customer"]["email"] == "ana@example.com"
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).exists()
    )
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert request.headers["webhook-id"] == str(delivery.event.uid)
