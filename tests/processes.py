"""Real processes for the tests that start clusters, web servers or honcho, and stop or kill them."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database (pytest-django's test_… copy), as another process must reach it."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(**extra) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url(), "Q_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_DEBUG", "true")  # development settings (no production secrets in tests)
    for name in ("Q_SYNC", "REDIS_URL", "Q_CLUSTER_NAME"):
        env.pop(name, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(args, *, env, log_path=None, new_session=True) -> subprocess.Popen:
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=new_session
    )


def start_worker(queue: str, *, log_path=None, **env) -> subprocess.Popen:
    return start(
        [sys.executable, "manage.py", "worker"],
        env=environment(Q_CLUSTER_NAME=queue, **env),
        log_path=log_path,
    )


def descendants(pid: int) -> set[int]:
    from core.management.commands.worker import _children

    return _children(pid)


def alive(pid: int) -> bool:
    from core.management.commands.worker import _alive

    return _alive(pid)


def kill_tree(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    """Sends `sig` to the process and every descendant (a cluster's sentinel leads its own session)."""
    pids = descendants(process.pid) | {process.pid}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    if sig == signal.SIGKILL:
        process.wait(timeout=10)


def wait_gone(pids, *, timeout: float) -> float | None:
    """Seconds until every pid is gone (zombies count as gone), or None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not any(alive(pid) for pid in pids):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def wait_for(condition, *, timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
