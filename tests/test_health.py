"""/healthz (issue 12): reachable without login, database reachable → 200 JSON, otherwise 503; worker
heartbeats per cluster, also on Cobranças > Execuções; nothing about any merchant."""

import datetime as dt
import json
import subprocess
import sys

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.heartbeat import beat
from tests import processes

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 5, 10, 12, 0, tzinfo=dt.UTC)


def test_healthz_answers_without_login_with_the_database_and_no_tenant_data(client, merchant, owner):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "workers": {
            "billing": {"alive": False, "workers": 0, "seconds_since_beat": None},
            "notifications": {"alive": False, "workers": 0, "seconds_since_beat": None},
        },
    }
    assert merchant.name not in response.content.decode() and owner.username not in response.content.decode()


def test_healthz_reports_each_clusters_live_workers_from_their_heartbeats(client):
    with time_machine.travel(NOW, tick=False):
        beat(key="web1:10:a", cluster="billing", started_at=NOW, now=NOW - dt.timedelta(seconds=5))
        beat(key="web1:11:b", cluster="billing", started_at=NOW, now=NOW - dt.timedelta(seconds=3))
        beat(key="web2:12:c", cluster="notifications", started_at=NOW, now=NOW - dt.timedelta(minutes=5))
        body = client.get("/healthz").json()
        strict = client.get("/healthz?workers=1")

    assert body["workers"]["billing"] == {"alive": True, "workers": 2, "seconds_since_beat": 3}
    assert body["workers"]["notifications"] == {"alive": False, "workers": 0, "seconds_since_beat": 300}
    assert strict.status_code == 503 and strict.json()["status"] == "degraded"


def test_healthz_with_every_cluster_alive_passes_the_strict_check(client):
    now = timezone.now()
    for number, cluster in enumerate(("billing", "notifications")):
        beat(key=f"h:{number}:x", cluster=cluster, started_at=now, now=now)

    assert client.get("/healthz?workers=1").status_code == 200


def test_healthz_is_503_when_the_database_is_unreachable():
    """A real web process configuration pointed at a closed port (no mocks)."""
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='localhost'); print(json.dumps([r.status_code, r.json()]))"
    )
    env = processes.environment(DATABASE_URL=f"postgres://nobody@127.0.0.1:{processes.free_port()}/none")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=processes.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    status, body = json.loads(out.stdout.strip().splitlines()[-1])
    assert (status, body) == (503, {"status": "error", "database": "unreachable"})


def test_healthz_only_answers_reads(client):
    assert client.post("/healthz").status_code == 405


def test_the_runs_screen_says_which_clusters_are_alive(member_client, owner):
    now = timezone.now()
    beat(key="h:1:x", cluster="billing", started_at=now, now=now - dt.timedelta(seconds=5))

    page = member_client(owner).get(reverse("billing:run_list")).content.decode()

    assert "billing ativo há 5 s (1 processo)" in page
    assert "notifications parado" in page
