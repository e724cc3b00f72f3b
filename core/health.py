"""/healthz: what a load balancer or an uptime check asks. No login, no tenant data: only whether the
database answers and which task clusters have a live worker (names, counts and seconds, nothing else)."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import heartbeat
from core.queues import QUEUES


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers; 503 otherwise. Workers are reported, not required: the web can
    serve while a cluster restarts, and `?workers=1` makes a missing cluster a 503 too (for the check
    that watches the workers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        workers = {row["cluster"]: row for row in heartbeat.cluster_status()}
    except Exception:  # any database failure is "down"; the reason stays in the server's log
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    clusters = {
        name: {
            "alive": workers.get(name, {}).get("alive", False),
            "workers": workers.get(name, {}).get("workers", 0),
            "seconds_since_beat": workers.get(name, {}).get("seconds_since_beat"),
        }
        for name in QUEUES
    }
    ok = request.GET.get("workers") != "1" or all(c["alive"] for c in clusters.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "database": "ok", "workers": clusters},
        status=200 if ok else 503,
    )
