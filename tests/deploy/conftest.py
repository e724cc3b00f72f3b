"""Production configuration tests: real subprocesses (manage.py, the web server) with a production
environment.

The suite itself runs with the development settings (tests/settings.py); these tests never change them in
process, they start the processes a deploy starts, with the environment README "Deploying" documents.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
WEB_SERVER = [PYTHON, "-m", "config.web"]  # README "Deploying": granian serving config.wsgi
HOST = "recorrente.example.com"
OWNER_PASSWORD = "uma-senha-de-producao-9271"

# Variables of the developer's or CI's shell that must not leak into a "fresh" production process.
_DROPPED = {"DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SENTRY_DSN"}


def production_env(tmp_path: Path, **overrides) -> dict:
    """The environment of README "Deploying" (SQLite in tmp_path instead of PostgreSQL, for speed)."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED and not k.startswith(("DJANGO_", "Q_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "CREDENTIALS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
            "RECORRENTE_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "EMAIL_HOST": "127.0.0.1",
            "DEFAULT_FROM_EMAIL": "Recorrente <nao-responda@recorrente.example.com>",
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env, *args, check=True, timeout=180, input=None):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        input=input,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProductionServer:
    def __init__(self, base_url, log_path, env):
        self.base_url = base_url
        self.log_path = log_path
        self.env = env

    def client(self, **kwargs) -> httpx.Client:
        """A client as nginx forwards it: https said by X-Forwarded-Proto, the public Host."""
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.fixture(scope="session")
def production_server(tmp_path_factory):
    """migrate, collectstatic, create_merchant and the web server, as README "Deploying" runs them. Once per
    session: with other modules' tests between this module's (xdist), a module-scoped server was started
    again each time the worker came back to the module."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path, WEB_CONCURRENCY="1", LOG_LEVEL="INFO")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    password_file = tmp_path / "owner-password"
    password_file.write_text(OWNER_PASSWORD + "\n")
    manage(
        env,
        "create_merchant",
        "--name",
        "Loja de Produção",
        "--owner-username",
        "dona",
        "--owner-email",
        "dona@example.com",
        "--password-file",
        str(password_file),
    )
    port = free_port()
    log_path = tmp_path / "web.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*WEB_SERVER, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/conta/login/", headers={"Host": HOST}, timeout=5)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web server did not start:\n" + log_path.read_text()) from None
                time.sleep(0.3)
        yield ProductionServer(base_url, log_path, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
