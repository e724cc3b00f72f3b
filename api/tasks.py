"""django-q2 tasks of the API app."""

from api import idempotency

# Installed by `manage.py setup_schedules` (idempotent): name → (function path, minutes between runs).
SCHEDULES = {
    "api: purge Idempotency-Keys past their 24 h": ("api.tasks.purge_idempotency_keys", 60),
}


def purge_idempotency_keys():
    return idempotency.purge_expired()
