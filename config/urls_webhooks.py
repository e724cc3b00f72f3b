"""The URLs served by the lean handler (config/wsgi.py, core/lean_wsgi.py): inbound provider webhooks.

Each path is the one config/urls.py routes to the same view (tests/test_lean_wsgi.py checks it). The error
handlers answer in JSON: the site's error pages need the session and the user, which this handler does
not load."""

from django.http import JsonResponse
from django.urls import include, path

from billing.urls import webhook_urlpatterns
from config.urls import BILLING_PREFIX


def _error(status: int, message: str):
    def view(request, exception=None):
        return JsonResponse({"error": message}, status=status)

    return view


urlpatterns = [path(BILLING_PREFIX, include((webhook_urlpatterns, "billing")))]

handler400 = _error(400, "bad request")
handler403 = _error(403, "forbidden")
handler404 = _error(404, "not found")
handler500 = _error(500, "server error")
