"""The web process's WSGI application: Django's, with Stripe's webhook deliveries answered by bare views
(core/lean_wsgi.py, the URLconf config/urls_webhooks.py) so one process can take the delivery rate
bench/README.md asks of it. Nothing to configure in the web server or nginx: the URL is the same one, only the
Python that serves it is shorter."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from core.lean_wsgi import LeanWSGIHandler  # noqa: E402 - after django.setup()

application = LeanWSGIHandler(urlconf="config.urls_webhooks", fallback=django_application)
