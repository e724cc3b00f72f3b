"""The outbox's event types: the one list of what Recorrente emits (Saleor's `OrderEvents`, as choices).

Every `emit(type=…)` names one of these members, never a string; `notifications/catalog.py` documents each
one for receivers (description and sample payload) and a test keeps the two lists equal. The values are
what receivers see in the envelope's "type" and what endpoints subscribe to: never rename one.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SUBSCRIPTION_CREATED = "subscription.created", _("Assinatura criada")
    SUBSCRIPTION_STARTED = "subscription.started", _("Assinatura iniciada")
    SUBSCRIPTION_ACTIVATED = "subscription.activated", _("Assinatura ativada")
    SUBSCRIPTION_PENDING = "subscription.pending", _("Assinatura pendente")
    SUBSCRIPTION_PAST_DUE = "subscription.past_due", _("Pagamento da assinatura pendente")
    SUBSCRIPTION_UPDATED = "subscription.updated", _("Assinatura alterada")
    SUBSCRIPTION_CANCEL_SCHEDULED = "subscription.cancel_scheduled", _("Cancelamento agendado")
    SUBSCRIPTION_CANCEL_REVERTED = "subscription.cancel_reverted", _("Cancelamento desfeito")
    SUBSCRIPTION_CANCELED = "subscription.canceled", _("Assinatura cancelada")
    SUBSCRIPTION_PAUSED = "subscription.paused", _("Assinatura pausada")
    SUBSCRIPTION_RESUMED = "subscription.resumed", _("Assinatura retomada")
    SUBSCRIPTION_EXPIRED = "subscription.expired", _("Assinatura expirada")
    SUBSCRIPTION_REFUNDED = "subscription.refunded", _("Assinatura reembolsada")
    SUBSCRIPTION_TRIAL_WILL_END = "subscription.trial_will_end", _("Período de teste terminando")
    SUBSCRIPTION_ACCESS_GRANTED = "subscription.access_granted", _("Acesso liberado")
    SUBSCRIPTION_ACCESS_REVOKED = "subscription.access_revoked", _("Acesso removido")
    SUBSCRIPTION_DELETED = "subscription.deleted", _("Assinatura excluída")
    SUBSCRIPTION_CARD_UPDATED = "subscription.card_updated", _("Cartão da assinatura trocado")
    SUBSCRIPTION_PRICE_CHANGE_SCHEDULED = (
        "subscription.price_change_scheduled",
        _("Reajuste de preço da assinatura avisado"),
    )
    SUBSCRIPTION_SCHEDULE_CREATED = "subscription_schedule.created", _("Programação criada")
    SUBSCRIPTION_SCHEDULE_UPDATED = "subscription_schedule.updated", _("Programação alterada")
    SUBSCRIPTION_SCHEDULE_PHASE_STARTED = (
        "subscription_schedule.phase_started",
        _("Fase da programação iniciada"),
    )
    SUBSCRIPTION_SCHEDULE_RELEASED = "subscription_schedule.released", _("Assinatura liberada da programação")
    SUBSCRIPTION_SCHEDULE_COMPLETED = "subscription_schedule.completed", _("Programação concluída")
    SUBSCRIPTION_SCHEDULE_CANCELED = "subscription_schedule.canceled", _("Programação cancelada")
    PLAN_PRICE_CHANGED = "plan.price_changed", _("Preço do plano alterado")
    INVOICE_CREATED = "invoice.created", _("Fatura emitida")
    INVOICE_PAID = "invoice.paid", _("Fatura paga")
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed", _("Cobrança da fatura falhou")
    INVOICE_OVERDUE = "invoice.overdue", _("Fatura vencida")
    INVOICE_FINALIZED = "invoice.finalized", _("Fatura finalizada")
    INVOICE_VOIDED = "invoice.voided", _("Fatura anulada")
    INVOICE_MARKED_UNCOLLECTIBLE = "invoice.marked_uncollectible", _("Fatura incobrável")
    PAYMENT_SUCCEEDED = "payment.succeeded", _("Pagamento aprovado")
    PAYMENT_PENDING = "payment.pending", _("Pagamento aguardando")
    PAYMENT_FAILED = "payment.failed", _("Pagamento recusado")
    PAYMENT_CANCELED = "payment.canceled", _("Pagamento cancelado")
    PAYMENT_REFUNDED = "payment.refunded", _("Pagamento reembolsado")
    CHARGEBACK_CREATED = "chargeback.created", _("Chargeback recebido")
    CHARGEBACK_CLOSED = "chargeback.closed", _("Disputa de chargeback encerrada")
    CUSTOMER_UPDATED = "customer.updated", _("Dados do cliente alterados")
    CUSTOMER_CREDIT_BALANCE_CHANGED = "customer.credit_balance_changed", _("Saldo de crédito alterado")
    # Sent only by "Enviar teste", to the endpoint being tested (never offered for subscription).
    WEBHOOK_TEST = "webhook.test", _("Evento de teste")
