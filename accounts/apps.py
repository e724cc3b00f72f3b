from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _remember_table_configs(sender, request, user, **kwargs):
    # Signing in copies the user's column choices into the session: list pages then read them from there
    # (core.table_config), without a query of their own.
    from core.table_config import remember_in_session

    if request is not None and hasattr(request, "session"):
        remember_in_session(user=user, session=request.session)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Contas")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_table_configs, dispatch_uid="accounts.remember_table_configs")
