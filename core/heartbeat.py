"""Worker heartbeats: each django-q2 worker process says it is alive every few seconds.

django-q2 keeps its own cluster status in the cache, which a web process on another machine (or with the
default per-process cache) cannot read, so the liveness the product relies on is a row per worker process
in the database (core.models.WorkerHeartbeat). A thread started when the worker process spawns
(django-q2's `post_spawn` signal) writes it, then runs the cluster's hooks (`worker_heartbeat`, provided
by the apps above core: the billing run's reaper takes back chunks of workers whose heartbeat went silent).
"""

import logging
import multiprocessing
import os
import signal
import socket
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from core.registry import Hooks

logger = logging.getLogger(__name__)

_KEY = None

# Run by every worker of the cluster named by the key, after each beat.
worker_heartbeat = Hooks(
    "core.worker_heartbeat",
    declared_by="core",
    description="Run after each heartbeat by the workers of the cluster named by the key (no arguments).",
)
# Run by `manage.py worker` with the heartbeat keys of the workers it had to kill on stop, so their work goes
# back to the queue at once.
worker_release = Hooks(
    "core.worker_release",
    declared_by="core",
    description="Called as (keys=[heartbeat keys]) for the worker processes `manage.py worker` killed.",
)


def worker_key() -> str | None:
    """This process's heartbeat key (host:pid:random), or None outside a worker process."""
    return _KEY


def cluster_name() -> str:
    from django_q.conf import Conf

    return Conf.CLUSTER_NAME


def beat(*, key: str, cluster: str, started_at, now=None) -> None:
    from core.models import WorkerHeartbeat

    now = now or timezone.now()
    host, pid, _random = key.rsplit(":", 2)
    WorkerHeartbeat.objects.update_or_create(
        key=key,
        defaults={
            "cluster": cluster,
            "host": host,
            "pid": int(pid),
            "started_at": started_at,
            "beat_at": now,
        },
    )


def alive_keys(*, now=None):
    """Keys of worker processes whose heartbeat is fresh."""
    from core.models import WorkerHeartbeat

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(beat_at__gt=stale).values_list("key", flat=True)


def cluster_status(*, now=None) -> list[dict]:
    """Per cluster: live workers and seconds since the freshest beat, for /healthz and Execuções.
    A cluster is listed when any of its workers beat within the last hour."""
    from django.db.models import Count, Max, Q

    from core.models import WorkerHeartbeat

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    rows = (
        WorkerHeartbeat.objects.filter(beat_at__gt=now - timedelta(hours=1))
        .values("cluster")
        .annotate(last=Max("beat_at"), alive=Count("pk", filter=Q(beat_at__gt=stale)))
        .order_by("cluster")
    )
    return [
        {
            "cluster": row["cluster"],
            "workers": row["alive"],
            "alive": row["alive"] > 0,
            "seconds_since_beat": max(int((now - row["last"]).total_seconds()), 0),
        }
        for row in rows
    ]


def _loop(key: str, cluster: str, started_at, stop: threading.Event) -> None:
    hooks = worker_heartbeat.get(cluster)
    interval = settings.WORKER_HEARTBEAT_SECONDS
    while not stop.is_set():
        try:
            close_old_connections()
            beat(key=key, cluster=cluster, started_at=started_at)
            for hook in hooks:
                hook()
        except Exception:  # a database hiccup must not kill the thread; the next beat tries again
            logger.warning("heartbeat of %s failed", key, exc_info=True)
            connection.close()
        stop.wait(interval)


def task_started(task=None, **_signal_kwargs) -> None:
    """django-q2's `pre_execute`: remember which broker task this process runs (see manage.py worker)."""
    from core.models import WorkerHeartbeat

    if _KEY is None:
        return
    try:
        WorkerHeartbeat.objects.filter(key=_KEY).update(
            task_ack_id=str((task or {}).get("ack_id") or "")[:64]
        )
    except Exception:  # bookkeeping only: the task must run regardless
        logger.warning("heartbeat: could not record the task of %s", _KEY, exc_info=True)


def task_finished(**_signal_kwargs) -> None:
    """django-q2's `post_execute_in_worker`."""
    from core.models import WorkerHeartbeat

    if _KEY is None:
        return
    try:
        WorkerHeartbeat.objects.filter(key=_KEY).update(task_ack_id="")
    except Exception:
        logger.warning("heartbeat: could not clear the task of %s", _KEY, exc_info=True)


def start(**_signal_kwargs) -> threading.Thread | None:
    """Starts this worker process's heartbeat thread (connected to django-q2's `post_spawn`), after a
    first beat so the row exists before the first task."""
    global _KEY
    if multiprocessing.parent_process() is None:
        # django-q2's sync mode runs its worker function in the calling process (tests, Q_SYNC): that is
        # no cluster worker, and a thread beating for it would outlive the task.
        return None
    # `manage.py worker` makes the sentinel ignore SIGTERM; a worker must stay killable by it (django-q2
    # terminates a worker whose task ran past the timeout).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _KEY = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    started_at = timezone.now()
    try:
        beat(key=_KEY, cluster=cluster_name(), started_at=started_at)
    except Exception:
        logger.warning("heartbeat: first beat of %s failed", _KEY, exc_info=True)
    thread = threading.Thread(
        target=_loop,
        args=(_KEY, cluster_name(), started_at, threading.Event()),
        name="recorrente-heartbeat",
        daemon=True,
    )
    thread.start()
    return thread
