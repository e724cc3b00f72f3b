"""django-q2 tasks of the dashboard app."""

from dashboard import services

# Installed by `manage.py setup_schedules` (idempotent): name → (function path, minutes between runs).
SCHEDULES = {
    "dashboard: refresh large merchants' metrics": ("dashboard.tasks.refresh_snapshots", 15),
}


def refresh_snapshots():
    """Recomputes the stored Painel numbers of merchants too large to aggregate on every visit."""
    return services.snapshots_refresh()
