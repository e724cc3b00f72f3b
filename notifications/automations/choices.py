from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges


class Trigger(models.TextChoices):
    """What fires a rule: an outbox event type, narrowed by the cancellation's origin for cancellations.
    triggers.TRIGGER_EVENT_TYPES maps each one to the event type it listens to."""

    SUBSCRIPTION_CREATED = "subscription_created", _("Assinatura criada")
    SUBSCRIPTION_ACTIVATED = "subscription_activated", _("Assinatura ativada após pagamento")
    TRIAL_WILL_END = "trial_will_end", _("Período de teste terminando")
    PAST_DUE = "past_due", _("Pagamento pendente (cobrança falhou)")
    CANCELED_ANY = "canceled_any", _("Cancelada (qualquer origem)")
    CANCELED_BY_CUSTOMER = "canceled_by_customer", _("Cancelada pelo cliente")
    CANCELED_BY_SELLER = "canceled_by_seller", _("Cancelada pelo vendedor")
    CANCELED_BY_ADMIN = "canceled_by_admin", _("Cancelada pelo administrador da plataforma")
    EXPIRED = "expired", _("Expirada")
    REFUNDED = "refunded", _("Reembolsada")
    CHARGEBACK = "chargeback", _("Chargeback recebido")
    PAUSED = "paused", _("Pausada")
    RESUMED = "resumed", _("Retomada")


class ActionKind(models.TextChoices):
    EMAIL = "email", _("Enviar e-mail ao cliente")
    WEBHOOK = "webhook", _("Chamar um webhook")
    PROVIDER = "provider", _("Enviar o contato a uma lista de e-mail marketing")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Executada")
    FAILED = "failed", _("Falhou")


register_badges(
    RunStatus,
    {
        RunStatus.PENDING: "text-bg-warning",
        RunStatus.SUCCEEDED: "text-bg-success",
        RunStatus.FAILED: "text-bg-danger",
    },
)


class RunOrigin(models.TextChoices):
    """Why a run exists: an outbox event (at most one per rule and event) or the "Enviar teste" button."""

    EVENT = "event", _("Evento")
    TEST = "test", _("Teste")


class IntegrationKind(models.TextChoices):
    GENERIC_HTTP = "generic_http", _("HTTP/JSON genérico")


class AutomationStatus(models.TextChoices):
    """An automation rule switched on or off (`is_enabled`), as its list and page show it."""

    ACTIVE = "active", _("Ativa")
    INACTIVE = "inactive", _("Inativa")


register_badges(
    AutomationStatus,
    {AutomationStatus.ACTIVE: "text-bg-success", AutomationStatus.INACTIVE: "text-bg-secondary"},
)
