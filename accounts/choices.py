from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Proprietário")
    MANAGER = "manager", _("Gerente")
    SUPPORT = "support", _("Suporte")
    VIEWER = "viewer", _("Leitor")


class ApiKeyRole(models.TextChoices):
    """What an API key may do inside its merchant (docs/api.md)."""

    READ_ONLY = "read_only", _("Somente leitura")
    READ_WRITE = "read_write", _("Leitura e escrita")


class ApiKeyMode(models.TextChoices):
    """The key's prefix: `rk_live_` for production systems, `rk_test_` for a merchant's test systems."""

    LIVE = "live", _("Produção")
    TEST = "test", _("Teste")
