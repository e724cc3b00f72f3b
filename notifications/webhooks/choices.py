from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Entregue")
    FAILED = "failed", _("Falhou")


class DeliveryOrigin(models.TextChoices):
    """Why a delivery exists: the outbox fan-out (at most one per endpoint and event), a resend, a test."""

    EVENT = "event", _("Evento")
    RESEND = "resend", _("Reenvio")
    TEST = "test", _("Teste")


class DisabledReason(models.TextChoices):
    """Why the platform turned an endpoint off by itself (an endpoint the merchant turns off has none)."""

    GONE = "gone", _("O endpoint respondeu 410 Gone")
    FAILING = "failing", _("O endpoint falhou repetidamente")
