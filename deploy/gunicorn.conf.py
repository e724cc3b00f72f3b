"""gunicorn settings for the web process (`gunicorn config.wsgi --config deploy/gunicorn.conf.py`).

Everything can be overridden with gunicorn's own GUNICORN_CMD_ARGS or the variables below.
"""

import os

bind = (
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# 2 × cores + 1 worker processes is gunicorn's advice. Each runs 4 threads (gunicorn's gthread worker): a
# request spends much of its time waiting for PostgreSQL (every commit waits for the WAL flush), and a
# single-threaded worker sits idle meanwhile. Measured on Stripe's webhook, one process took 131 deliveries/s
# with 1 thread and 675/s with 4 on the same loaded machine (bench/README.md). Each thread keeps its own
# database connection (CONN_MAX_AGE): workers × threads connections per machine.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, requests in flight get this long to finish (keep it below systemd's TimeoutStopSec).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then so a slow leak never grows unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The app logs one line per request itself (core.request_log, JSON in production): no access log here.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The proxy in front (nginx on the same machine) may set X-Forwarded-*; Django decides what to trust
# (DJANGO_SECURE_PROXY_SSL_HEADER), gunicorn only needs to accept it from the proxy's address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
