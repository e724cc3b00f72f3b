"""The production web server: `python -m config.web` runs granian serving config.wsgi.

granian (a Rust HTTP server with a WSGI interface, on PyPI) instead of gunicorn because it costs far less
per request: one web process accepts Stripe's webhook deliveries at ~1,800/s where gunicorn took
~1,000/s on the same two CPUs (bench/README.md, "Web server"). Everything is set by
environment variables; ours first (the same names as before), and any of granian's own `GRANIAN_*`
variables or command-line options on top (`python -m config.web --workers 5`):

    HOST, PORT             127.0.0.1, 8000: where nginx (deploy/nginx.conf) sends requests
    WEB_CONCURRENCY        3 worker processes
    WEB_THREADS            4 threads per worker running the application: a request spends much of its
                           time waiting for PostgreSQL (every commit waits for the WAL flush); each thread
                           keeps its own database connection, so workers × threads connections
    WEB_GRACEFUL_TIMEOUT   20 s: on SIGTERM, requests in flight get this long to finish (below systemd's
                           TimeoutStopSec), then a worker that has not stopped is killed
    WEB_MAX_RSS_MB         1024: a worker whose memory stays above it is replaced, gracefully (what
                           gunicorn's max_requests guarded against: a slow leak never grows unbounded)
    LOG_LEVEL              info

A worker that dies is started again. SIGHUP starts new workers with the new code and retires the old ones
(`systemctl reload recorrente-web`). The application logs one JSON line per request itself
(core.request_log), so granian's access log stays off.
"""

import os
import sys

#: Our variable -> granian's, with the default used when neither is set.
DEFAULTS = {
    "GRANIAN_INTERFACE": (None, "wsgi"),
    "GRANIAN_HOST": ("HOST", "127.0.0.1"),
    "GRANIAN_PORT": ("PORT", "8000"),
    "GRANIAN_WORKERS": ("WEB_CONCURRENCY", "3"),
    "GRANIAN_BLOCKING_THREADS": ("WEB_THREADS", "4"),
    "GRANIAN_WORKERS_KILL_TIMEOUT": ("WEB_GRACEFUL_TIMEOUT", "20"),
    "GRANIAN_WORKERS_MAX_RSS": ("WEB_MAX_RSS_MB", "1024"),
    "GRANIAN_RESPAWN_FAILED_WORKERS": (None, "true"),
    "GRANIAN_LOG_LEVEL": ("LOG_LEVEL", "info"),
    "GRANIAN_LOG_ACCESS_ENABLED": (None, "false"),
}
APPLICATION = "config.wsgi:application"


def granian_environment(environ) -> dict:
    """`environ` with granian's variables filled in from ours: a GRANIAN_* already set wins."""
    env = dict(environ)
    for granian_name, (our_name, default) in DEFAULTS.items():
        if granian_name not in env:
            value = (env.get(our_name) if our_name else None) or default
            # LOG_LEVEL is written INFO in our environment files; granian only takes lower case.
            env[granian_name] = value.lower() if granian_name == "GRANIAN_LOG_LEVEL" else value
    return env


def main(argv=None):
    from granian.cli import entrypoint

    os.environ.update(granian_environment(os.environ))
    sys.argv = ["granian", *(sys.argv[1:] if argv is None else argv), APPLICATION]
    entrypoint()


if __name__ == "__main__":
    main()
