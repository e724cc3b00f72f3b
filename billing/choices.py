from django.db import models
from django.utils.translation import gettext_lazy as _


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Rascunho")
    OPEN = "open", _("Em aberto")
    PAID = "paid", _("Paga")
    VOID = "void", _("Anulada")
    UNCOLLECTIBLE = "uncollectible", _("Incobrável")


class InvoiceKind(models.TextChoices):
    RECURRING = "recurring", _("Recorrente")
    PRORATION = "proration", _("Rateio")
    MANUAL = "manual", _("Avulsa")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Paga")
    FAILED = "failed", _("Falhou")
    REFUNDED = "refunded", _("Reembolsada")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Concluído")
    FAILED = "failed", _("Falhou")


class DunningFinalAction(models.TextChoices):
    EXPIRE = "expire", _("Expirar a assinatura")
    CANCEL = "cancel", _("Cancelar a assinatura")
    KEEP_UNPAID = "keep_unpaid", _("Manter como pagamento pendente")


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Em andamento")
    FINISHED = "finished", _("Concluída")
    FAILED = "failed", _("Falhou")


class BillingRunTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Agendada")
    MANUAL = "manual", _("Manual")


class Gateway(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox (testes)")
    MANUAL = "manual", _("Manual")


class CreditReason(models.TextChoices):
    """Why a customer's credit balance moved (billing.models.CreditEntry)."""

    PRORATION_CREDIT = "proration_credit", _("Crédito de rateio")
    OVERPAYMENT = "overpayment", _("Pagamento a maior")
    ADJUSTMENT = "adjustment", _("Ajuste manual")
    APPLIED = "applied", _("Aplicado a fatura")
    RETURNED = "returned", _("Devolvido por fatura anulada")
    REFUNDED = "refunded", _("Reembolsado")


# Entries that are value the merchant granted (a credit note), not money that moved: they count, negated,
# in a customer's settled amount (billing.selectors.customer_money_summary).
SETTLEMENT_CREDIT_REASONS = (CreditReason.PRORATION_CREDIT, CreditReason.ADJUSTMENT)
