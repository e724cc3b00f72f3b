from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = _("Assinantes")

    def ready(self):
        # Declares what subscribers asks of the apps above it, so the startup check (core.E001) sees a
        # point left without its provider.
        from subscribers import extension_points  # noqa: F401
