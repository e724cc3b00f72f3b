from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Cobranças")

    def ready(self):
        from billing import signals  # noqa: F401  (registers the last-payment-status receiver)
