"""Startup refuses an unsafe production configuration; a documented production environment checks clean."""

import gzip
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.deploy.conftest import PYTHON, ROOT, WEB_SERVER, free_port, manage, production_env

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"


@pytest.mark.parametrize("secret_key", [None, "", DEVELOPMENT_SECRET_KEY])
def test_manage_py_refuses_to_start_without_a_real_secret_key(tmp_path, secret_key):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=secret_key)
    result = manage(env, "check", check=False)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_the_development_key_is_accepted_only_with_debug_on(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=DEVELOPMENT_SECRET_KEY, DJANGO_DEBUG="true")
    assert manage(env, "check").returncode == 0


def test_the_web_server_refuses_to_serve_with_the_development_secret_key(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=DEVELOPMENT_SECRET_KEY, WEB_CONCURRENCY="1")
    result = subprocess.run(
        [*WEB_SERVER, "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_the_task_worker_refuses_to_start_with_the_development_secret_key(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    result = manage(env, "worker", check=False, timeout=120)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_requires_its_own_credential_encryption_keys(tmp_path):
    result = manage(production_env(tmp_path, CREDENTIALS_ENCRYPTION_KEYS=None), "check", check=False)
    assert result.returncode != 0
    assert "CREDENTIALS_ENCRYPTION_KEYS must be set" in result.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING", check=False)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_a_production_environment_without_https(tmp_path):
    env = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SESSION_COOKIE_SECURE="false")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING", check=False)
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr


def test_production_defaults(tmp_path):
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'sandbox': s.SANDBOX_GATEWAY_ENABLED, 'demo': s.DEMO_DATA_ALLOWED,"
        "'email': s.EMAIL_BACKEND, 'storage': s.STORAGES['staticfiles']['BACKEND'],"
        "'log_format': s.LOG_FORMAT, 'webhooks_private': s.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES}))"
    )
    result = subprocess.run(
        [PYTHON, "-c", probe],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "debug": False,
        "sandbox": False,
        "demo": False,
        "email": "django.core.mail.backends.smtp.EmailBackend",
        "storage": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "log_format": "json",
        "webhooks_private": False,
    }


class _SentryIngest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


SENTRY_PROBE = """
import logging, django
django.setup()
import sentry_sdk
print("active" if sentry_sdk.get_client().is_active() else "inactive")
logging.getLogger("recorrente.probe").error("sentry probe error")
sentry_sdk.flush(timeout=10)
"""


def test_errors_go_to_sentry_only_when_sentry_dsn_is_set(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _SentryIngest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
        without = subprocess.run(
            [PYTHON, "-c", SENTRY_PROBE],
            cwd=ROOT,
            env=production_env(tmp_path),
            capture_output=True,
            text=True,
        )
        assert without.stdout.split()[0] == "inactive"
        assert _SentryIngest.received == []

        with_dsn = subprocess.run(
            [PYTHON, "-c", SENTRY_PROBE],
            cwd=ROOT,
            env=production_env(tmp_path, SENTRY_DSN=dsn),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert with_dsn.stdout.split()[0] == "active", with_dsn.stderr
        assert any(b"sentry probe error" in body for body in _SentryIngest.received)
    finally:
        server.shutdown()
