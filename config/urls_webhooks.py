"""The URLs the web process answers with bare views (config/wsgi.py, core/lean_wsgi.py): inbound provider
webhooks. Each path is one config/urls.py routes to a view giving the same answer through the full stack
(tests/test_lean_wsgi.py checks both URLconfs agree). A flat list: core/lean_wsgi.py tries each path as it
stands. Errors are answered in JSON by the short path itself."""

from django.urls import path

from billing.urls import bare_webhook_urlpatterns
from config.urls import BILLING_PREFIX

urlpatterns = [
    path(f"{BILLING_PREFIX}{pattern.pattern}", pattern.callback, name=pattern.name)
    for pattern in bare_webhook_urlpatterns
]
