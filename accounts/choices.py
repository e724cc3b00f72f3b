from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Proprietário")
    MANAGER = "manager", _("Gerente")
    SUPPORT = "support", _("Suporte")
    VIEWER = "viewer", _("Leitor")
