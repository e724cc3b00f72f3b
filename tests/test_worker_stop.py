"""Graceful stop (issue 12) with real processes: SIGTERM to a worker's process group (systemd, honcho),
SIGTERM to honcho, Ctrl-C (SIGINT to the foreground group) on `make serve`. Every process must be gone
within 10 s, and the task in flight either finished or back in the queue.

django-q2's own `qcluster` fails the first one (its sentinel dies on the group's SIGTERM and the parent
deadlocks on the stop Event; see core/management/commands/worker.py); `manage.py worker` passes.
"""

import os
import signal

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ

from core.models import WorkerHeartbeat
from core.queues import NOTIFICATIONS, enqueue
from tests import processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LIMIT = 10.0


@pytest.fixture
def cleanup():
    started = []
    yield started.append
    for process in started:
        processes.kill_tree(process, signal.SIGKILL)
    connection.close()


def every_pid(process) -> set[int]:
    return processes.descendants(process.pid) | {process.pid}


def wait_for_task_in_flight():
    assert processes.wait_for(lambda: WorkerHeartbeat.objects.exclude(task_ack_id="").exists(), timeout=60), (
        "the cluster never started the task"
    )


def start_worker_with_a_task(cleanup, tmp_path, seconds):
    worker = processes.start_worker(NOTIFICATIONS, log_path=tmp_path / "worker.log")
    cleanup(worker)
    marker = tmp_path / "finished"
    enqueue("tests.worker_tasks.sleep_then_touch", str(marker), seconds, queue=NOTIFICATIONS)
    wait_for_task_in_flight()
    return worker, marker


def test_sigterm_to_the_workers_process_group_stops_it_within_seconds_after_finishing_the_task(
    cleanup, tmp_path
):
    worker, marker = start_worker_with_a_task(cleanup, tmp_path, seconds=2)
    pids = every_pid(worker)

    os.killpg(worker.pid, signal.SIGTERM)

    assert processes.wait_gone(pids, timeout=LIMIT) is not None, (tmp_path / "worker.log").read_text()
    assert marker.read_text() == "done"
    assert not OrmQ.objects.exists()  # finished and acknowledged
    assert not WorkerHeartbeat.objects.exists()


def test_a_task_longer_than_the_grace_is_put_back_in_the_queue_and_the_worker_still_stops(cleanup, tmp_path):
    worker, marker = start_worker_with_a_task(cleanup, tmp_path, seconds=120)
    pids = every_pid(worker)

    os.killpg(worker.pid, signal.SIGTERM)

    assert processes.wait_gone(pids, timeout=LIMIT) is not None, (tmp_path / "worker.log").read_text()
    assert not marker.exists()
    (queued,) = OrmQ.objects.all()
    assert queued.key == NOTIFICATIONS and queued.lock <= timezone.now()  # another worker may take it now


def honcho_env(port):
    return processes.environment(PORT=port, HOST="127.0.0.1", WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="true")


def wait_for_both_clusters():
    assert processes.wait_for(
        lambda: (
            set(WorkerHeartbeat.objects.values_list("cluster", flat=True)) == {"billing", "notifications"}
        ),
        timeout=90,
    ), "the Procfile's clusters never started"


def test_sigterm_to_honcho_stops_honcho_web_and_both_clusters_within_seconds(cleanup, tmp_path):
    honcho = processes.start(
        [str(processes.ROOT / ".venv/bin/honcho"), "--procfile", "Procfile.dev", "start"],
        env=honcho_env(processes.free_port()),
        log_path=tmp_path / "honcho.log",
    )
    cleanup(honcho)
    wait_for_both_clusters()
    pids = every_pid(honcho)

    honcho.send_signal(signal.SIGTERM)

    assert processes.wait_gone(pids, timeout=LIMIT) is not None, (tmp_path / "honcho.log").read_text()


def test_ctrl_c_on_make_serve_stops_make_honcho_web_and_both_clusters_within_seconds(cleanup, tmp_path):
    make = processes.start(
        ["make", "--no-print-directory", "serve", f"PORT={processes.free_port()}"],
        env=honcho_env(processes.free_port()),
        log_path=tmp_path / "make.log",
    )
    cleanup(make)
    wait_for_both_clusters()
    pids = every_pid(make)

    os.killpg(make.pid, signal.SIGINT)  # what the terminal sends to its foreground process group on Ctrl-C

    assert processes.wait_gone(pids, timeout=LIMIT) is not None, (tmp_path / "make.log").read_text()
    assert make.wait(timeout=5) is not None


@pytest.mark.parametrize("name", ["Procfile", "Procfile.dev"])
def test_qcluster_is_not_what_the_procfiles_run(name):
    commands = [line for line in (processes.ROOT / name).read_text().splitlines() if not line.startswith("#")]
    assert not [line for line in commands if "qcluster" in line]
    assert sum("manage.py worker" in line for line in commands) == 2
