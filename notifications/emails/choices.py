from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges


class CustomerEmailKind(models.TextChoices):
    """The e-mails Recorrente sends to a merchant's customers; each has a default pt-BR template that the
    merchant may edit (Notificações > E-mails) and that automations may send."""

    SUBSCRIPTION_CREATED = "subscription_created", _("Assinatura criada")
    TRIAL_ENDING = "trial_ending", _("Fim do período de teste")
    PAYMENT_FAILED = "payment_failed", _("Pagamento recusado")
    RENEWAL_REMINDER = "renewal_reminder", _("Lembrete de renovação")
    PAYMENT_INSTRUCTIONS = "payment_instructions", _("Boleto ou Pix emitido")
    SUBSCRIPTION_CANCELED = "subscription_canceled", _("Assinatura cancelada")
    REFUND_ISSUED = "refund_issued", _("Reembolso emitido")
    ACCESS_RESENT = "access_resent", _("Acesso reenviado")
    PRICE_CHANGE = "price_change", _("Reajuste de preço")


class TemplateState(models.TextChoices):
    """What a customer e-mail's template is for the merchant: switched off, edited, or the default text."""

    DISABLED = "disabled", _("Desativado")
    CUSTOMIZED = "customized", _("Editado")
    DEFAULT = "default", _("Padrão")

    @classmethod
    def of(cls, *, is_enabled: bool, is_customized: bool) -> "TemplateState":
        if not is_enabled:
            return cls.DISABLED
        return cls.CUSTOMIZED if is_customized else cls.DEFAULT


register_badges(
    TemplateState,
    {
        TemplateState.DISABLED: "text-bg-secondary",
        TemplateState.CUSTOMIZED: "text-bg-primary",
        TemplateState.DEFAULT: "text-bg-success",
    },
)


class EmailSendingStatus(models.TextChoices):
    """Where one customer e-mail is: recorded and waiting for its transaction to commit, handed to the
    mail server, refused by it, or deliberately not sent (its kind is turned off)."""

    PENDING = "pending", _("Na fila")
    SENT = "sent", _("Enviado")
    FAILED = "failed", _("Falhou")
    SKIPPED = "skipped", _("Não enviado")


# Why an e-mail is skipped (its only reason), shown when read (EmailSending.error_display), never stored.
SKIPPED_REASON = _("Modelo desativado pelo lojista.")


register_badges(
    EmailSendingStatus,
    {
        EmailSendingStatus.PENDING: "text-bg-warning",
        EmailSendingStatus.SENT: "text-bg-success",
        EmailSendingStatus.FAILED: "text-bg-danger",
        EmailSendingStatus.SKIPPED: "text-bg-secondary",
    },
)
