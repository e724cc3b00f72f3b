from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Entregue")
    FAILED = "failed", _("Falhou")


register_badges(
    DeliveryStatus,
    {
        DeliveryStatus.PENDING: "text-bg-warning",
        DeliveryStatus.SUCCEEDED: "text-bg-success",
        DeliveryStatus.FAILED: "text-bg-danger",
    },
)


class DeliveryOrigin(models.TextChoices):
    """Why a delivery exists: the outbox fan-out (at most one per endpoint and event), a resend, a test."""

    EVENT = "event", _("Evento")
    RESEND = "resend", _("Reenvio")
    TEST = "test", _("Teste")


class DisabledReason(models.TextChoices):
    """Why the platform turned an endpoint off by itself (an endpoint the merchant turns off has none)."""

    GONE = "gone", _("O endpoint respondeu 410 Gone")
    FAILING = "failing", _("O endpoint falhou repetidamente")


class EndpointStatus(models.TextChoices):
    """Where an endpoint stands, as its list and page show it: derived from `is_active` and
    `disabled_reason` (an endpoint that kept failing was switched off by us), never stored."""

    ACTIVE = "active", _("Ativo")
    AUTO_DISABLED = "auto_disabled", _("Desativado automaticamente")
    INACTIVE = "inactive", _("Inativo")


register_badges(
    EndpointStatus,
    {
        EndpointStatus.ACTIVE: "text-bg-success",
        EndpointStatus.AUTO_DISABLED: "text-bg-danger",
        EndpointStatus.INACTIVE: "text-bg-secondary",
    },
)
