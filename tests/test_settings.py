"""DATABASE_URL and REDIS_URL switch the database and the task broker; nothing else changes."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "db = s.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'options': db.get('OPTIONS', {}),"
    " 'q': {k: v for k, v in s.Q_CLUSTER.items() if k in ('orm', 'redis')}}, default=str))"
)


def probe(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_tuned_for_concurrency_and_the_orm_broker():
    config = probe()
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["options"]["init_command"]
    assert config["q"] == {"orm": "default"}


def test_urls_switch_to_postgresql_and_redis():
    config = probe(
        DATABASE_URL="postgres://u:p@db.example:5432/rec", REDIS_URL="redis://cache.example:6379/0"
    )
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["q"] == {"redis": "redis://cache.example:6379/0"}
