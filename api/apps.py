from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The merchant REST API under /api/v1/ (docs/api.md): reads the lower apps' selectors, on top of
    them like the dashboard."""

    name = "api"
    verbose_name = "API"

    def ready(self):
        from api import schema  # noqa: F401  (registers the auth scheme with drf-spectacular)
