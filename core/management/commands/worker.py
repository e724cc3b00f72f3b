"""`manage.py worker`: a django-q2 cluster that stops within seconds on SIGTERM or SIGINT.

Use it instead of `manage.py qcluster` (same settings; the cluster comes from Q_CLUSTER_NAME). Why
django-q2's own command does not stop (django-q2 1.11, reproduced in tests/test_worker_stop.py):

- SIGTERM to the process group (systemd's default, honcho's stop, `kill -TERM -PGID`) reaches the
  sentinel too, which django-q2 leaves at SIG_DFL: it dies on the spot, usually while waiting on the
  cluster's stop Event. The parent's handler then calls `stop_event.set()`, which waits for that dead
  waiter to acknowledge the wake-up (multiprocessing's Condition handshake) and blocks for ever: the
  parent stays alive with a zombie sentinel, and honcho/make wait on it.
- The parent does the whole stop inside its signal handler, with no deadline.

Here the sentinel ignores SIGTERM/SIGINT and leads its own session (so a group signal meant for the
worker reaches only this parent), the parent only sets a flag in its handler, then asks the cluster to
stop (pusher first, then each worker after its current task), waits up to STOP_GRACE_SECONDS, and kills
whatever is left. Work a killed worker held is released at once: its billing chunk goes back to the
billing queue (core.heartbeat.worker_release) and its ORM-broker task is unlocked for redelivery.
"""

import contextlib
import os
import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 7.0


def _children(pid: int) -> set[int]:
    """Every descendant pid of `pid` (from /proc; psutil is not a dependency)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _patch_sentinel():
    """django-q2's Cluster starts `django_q.cluster.Sentinel` by its module-level name; a subclass that
    only changes the signal set-up is swapped in there (the class offers no other hook)."""
    from django_q import cluster

    if getattr(cluster.Sentinel, "recorrente_graceful", False):
        return

    class GracefulSentinel(cluster.Sentinel):
        recorrente_graceful = True

        def __init__(self, *args, **kwargs):
            start = kwargs.pop("start", True)
            super().__init__(*args, start=False, **kwargs)
            # Our parent coordinates the stop; a signal to the whole group must not kill us mid-handshake.
            os.setsid()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if start:
                self.start()

    cluster.Sentinel = GracefulSentinel


def release(pids: set[int]) -> None:
    """Gives back the work of killed worker processes (their heartbeat rows say what they held)."""
    import socket

    from core.models import WorkerHeartbeat

    rows = list(WorkerHeartbeat.objects.filter(host=socket.gethostname()[:80], pid__in=pids))
    keys = [row.key for row in rows]
    tasks = [row.task_ack_id for row in rows if row.task_ack_id]
    from core.heartbeat import worker_release

    for hook in worker_release.get():
        hook(keys=keys)
    if tasks and settings.Q_CLUSTER.get("orm"):
        from django.utils import timezone
        from django_q.models import OrmQ

        # The task is still in the ORM broker, locked until `retry`; unlock it so another cluster takes it.
        OrmQ.objects.filter(pk__in=tasks).update(lock=timezone.now())
    WorkerHeartbeat.objects.filter(key__in=keys).delete()


class Command(BaseCommand):
    help = "Runs the django-q2 cluster named by Q_CLUSTER_NAME and stops it within seconds on SIGTERM/SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=float, default=STOP_GRACE_SECONDS)

    def handle(self, *args, grace, **options):
        from django.db import connections
        from django_q.cluster import Cluster
        from django_q.conf import Conf

        _patch_sentinel()
        stopping = []

        def on_signal(signum, frame):
            stopping.append(signum)

        cluster = Cluster()
        # Cluster() installs handlers that stop inside the handler; ours only records the request.
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        connections.close_all()
        cluster.start()
        self.stderr.write(f"worker: cluster {Conf.CLUSTER_NAME} running (pid {os.getpid()})")
        while not stopping and cluster.sentinel.is_alive():
            time.sleep(0.1)
        if not stopping:
            self.stderr.write("worker: the sentinel died; exiting so the supervisor restarts us")
            sys.exit(1)
        self.stderr.write(f"worker: signal {stopping[0]} received, stopping (grace {grace:.0f} s)")
        started = time.monotonic()
        sentinel_pid = cluster.sentinel.pid
        pids = _children(sentinel_pid) | {sentinel_pid}
        cluster.stop_event.set()
        cluster.sentinel.join(timeout=grace)
        left = {pid for pid in pids if _alive(pid)}
        if cluster.sentinel.is_alive() or left:
            killed = (_children(sentinel_pid) | left) - {os.getpid()}
            with contextlib.suppress(ProcessLookupError):
                os.killpg(sentinel_pid, signal.SIGKILL)
            for pid in killed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            cluster.sentinel.join(timeout=2)
            pids |= killed
            self.stderr.write(f"worker: killed {len(killed)} process(es) still busy, their work released")
        # Whatever a worker still held (killed above, or killed by a signal sent to the whole cgroup) goes
        # back to its queue; for workers that finished cleanly this only clears their heartbeat rows.
        release(pids)
        self.stderr.write(f"worker: stopped in {time.monotonic() - started:.1f} s")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False
