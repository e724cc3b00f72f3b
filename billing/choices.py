"""Billing statuses and kinds, and the transition tables of invoices, payments and refunds.

Every status change of an Invoice, Payment or Refund goes through `billing.services.states` (`invoice_move`,
`payment_move`, `refund_move`), which checks these tables; screens ask the same tables (through the models'
`can_*` predicates) before offering a button. docs/billing-states.md explains each edge.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges

# Our own failure codes of payments and refunds, also named by the subscription's timeline.
from subscribers.choices import FailureCode as FailureCode

# A payment's statuses are defined by subscribers, below billing, because every subscription carries its
# newest payment's status (`last_payment_status`) and subscribers' screens and export label it.
from subscribers.choices import PaymentStatus as PaymentStatus
from subscribers.choices import failure_text as failure_text


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Rascunho")
    OPEN = "open", _("Em aberto")
    PAID = "paid", _("Paga")
    VOID = "void", _("Anulada")
    UNCOLLECTIBLE = "uncollectible", _("Incobrável")


# Bootstrap badge per status (core.badges): green settled, yellow waiting, red failed, grey closed.
register_badges(
    InvoiceStatus,
    {
        InvoiceStatus.DRAFT: "text-bg-light border",
        InvoiceStatus.OPEN: "text-bg-warning",
        InvoiceStatus.PAID: "text-bg-success",
        InvoiceStatus.VOID: "text-bg-secondary",
        InvoiceStatus.UNCOLLECTIBLE: "text-bg-danger",
    },
)


class InvoiceKind(models.TextChoices):
    RECURRING = "recurring", _("Recorrente")
    PRORATION = "proration", _("Rateio")
    MANUAL = "manual", _("Avulsa")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Concluído")
    FAILED = "failed", _("Falhou")


class ChargebackStatus(models.TextChoices):
    """A chargeback's dispute: open while the bank decides, then won (the money came back to the merchant)
    or lost (it stays with the customer)."""

    OPEN = "open", _("Em disputa")
    WON = "won", _("Ganha")
    LOST = "lost", _("Perdida")


register_badges(
    ChargebackStatus,
    {
        ChargebackStatus.OPEN: "text-bg-warning",
        ChargebackStatus.WON: "text-bg-success",
        ChargebackStatus.LOST: "text-bg-danger",
    },
)


class DunningFinalAction(models.TextChoices):
    EXPIRE = "expire", _("Expirar a assinatura")
    CANCEL = "cancel", _("Cancelar a assinatura")
    KEEP_UNPAID = "keep_unpaid", _("Manter como pagamento pendente")


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Em andamento")
    FINISHED = "finished", _("Concluída")
    FAILED = "failed", _("Falhou")


# Why a billing run failed, in our own words: BillingRun.error_code and error_params, shown in the reader's
# language by subscribers.timeline.reason_text (BillingRun.error_display). A code is never renamed.
RUN_CHUNKS_GIVEN_UP = "chunks_given_up"
RUN_INTERRUPTED = "interrupted"
BILLING_RUN_ERRORS = {
    # `count`: chunks given up; `attempts`: the attempts each had (MAX_CHUNK_ATTEMPTS).
    RUN_CHUNKS_GIVEN_UP: _("%(count)s lote(s) abandonado(s) após %(attempts)s tentativas."),
    RUN_INTERRUPTED: _("Execução interrompida sem registro de lotes."),
}


register_badges(
    BillingRunStatus,
    {
        BillingRunStatus.RUNNING: "text-bg-primary",
        BillingRunStatus.FINISHED: "text-bg-success",
        BillingRunStatus.FAILED: "text-bg-danger",
    },
)


class BillingRunTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Agendada")
    MANUAL = "manual", _("Manual")


class Gateway(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox (testes)")
    MANUAL = "manual", _("Manual")
    STRIPE = "stripe", _("Stripe")
    PAYPAL = "paypal", _("PayPal")


class PaymentProvider(models.TextChoices):
    """A payment provider a merchant connects on Configurações > Pagamentos (billing.ProviderConnection).
    The value is also what a subscription's `provider` holds when the provider bills it."""

    STRIPE = "stripe", _("Stripe")
    PAYPAL = "paypal", _("PayPal")


class StripeMode(models.TextChoices):
    """Who charges a Stripe merchant's renewals (docs/providers.md)."""

    MIRROR = "mirror", _("Stripe cobra, o Recorrente espelha")
    ENGINE = "engine", _("O Recorrente cobra pela Stripe (PaymentIntents)")


class InvoiceAction(models.TextChoices):
    """What staff may do to an invoice from its page (support and up)."""

    CHARGE_NOW = "charge_now", _("Cobrar agora")
    VOID = "void", _("Anular")
    MARK_UNCOLLECTIBLE = "mark_uncollectible", _("Marcar como incobrável")
    RECORD_PAYMENT = "record_payment", _("Registrar pagamento")


IS = InvoiceStatus
P = PaymentStatus
R = RefundStatus

# invoice status → statuses a service may move it to.
INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    # A draft is finalised (open) or thrown away (void); nothing is owed before it is open.
    IS.DRAFT: frozenset({IS.OPEN, IS.VOID}),
    # Open: paid (a charge or a recorded payment), given up (dunning exhausted or staff's "Marcar como
    # incobrável"), or voided (staff's "Anular", or its subscription ended with nothing collected).
    IS.OPEN: frozenset({IS.PAID, IS.UNCOLLECTIBLE, IS.VOID}),
    # Uncollectible is still owed: a late payment recorded by staff settles it (payment_record_manual).
    IS.UNCOLLECTIBLE: frozenset({IS.PAID}),
    # Paid and void are final; refunds and chargebacks are amounts on the payment, not invoice statuses.
    IS.PAID: frozenset(),
    IS.VOID: frozenset(),
}

# payment status → statuses a service may move it to.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    # A pending boleto/pix (or a charge awaiting the gateway) is paid, declined or lapses (failed), or is
    # withdrawn (canceled: its invoice was voided or its subscription ended).
    P.PENDING: frozenset({P.SUCCEEDED, P.FAILED, P.CANCELED}),
    # Money received. A refund gives back part (partially_refunded) or all of it (refunded); a chargeback
    # takes back what is left (charged_back). amount_refunded / amount_charged_back stay the ledger's
    # source; the status says which of those happened (docs/billing-states.md).
    P.SUCCEEDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.CHARGED_BACK}),
    # A further partial refund is no move (the status stays, amount_refunded grows); the refund that
    # reaches the amount makes it refunded; a chargeback of the rest makes it charged_back.
    P.PARTIALLY_REFUNDED: frozenset({P.REFUNDED, P.CHARGED_BACK}),
    P.FAILED: frozenset(),
    P.CANCELED: frozenset(),
    # Nothing is left to refund or to charge back: final.
    P.REFUNDED: frozenset(),
    # The merchant won the dispute: the bank gave the money back, so the payment is received again (as it
    # was before: succeeded, or partially_refunded when part had been refunded). Lost stays charged_back.
    P.CHARGED_BACK: frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED}),
}

# Payments whose money was received, whatever happened to it afterwards: the one successful payment of
# an invoice, "paid" in a customer's money summary, revenue. (What went back is in amount_refunded and
# amount_charged_back.)
MONEY_RECEIVED_STATUSES = frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.CHARGED_BACK})
# Payments with money that is still the merchant's to refund (the rest of amount − refunded − charged
# back): a charged-back payment is not, whatever is left of it; the bank settled it with the customer.
REFUNDABLE_PAYMENT_STATUSES = frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED})

# refund status → statuses a service may move it to (refunds are created with the gateway's answer, so
# only one still waiting on the gateway may move).
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
}

# chargeback status → statuses a service may move it to (billing.services.states.chargeback_move): the
# dispute is decided once.
CHARGEBACK_TRANSITIONS: dict[str, frozenset[str]] = {
    ChargebackStatus.OPEN: frozenset({ChargebackStatus.WON, ChargebackStatus.LOST}),
    ChargebackStatus.WON: frozenset(),
    ChargebackStatus.LOST: frozenset(),
}

# The invoice statuses in which each staff action is offered (and allowed by its service).
INVOICE_ACTIONS: dict[str, frozenset[str]] = {
    InvoiceAction.CHARGE_NOW: frozenset({IS.OPEN}),
    InvoiceAction.VOID: frozenset(s for s, targets in INVOICE_TRANSITIONS.items() if IS.VOID in targets)
    - {IS.DRAFT},
    InvoiceAction.MARK_UNCOLLECTIBLE: frozenset(
        s for s, targets in INVOICE_TRANSITIONS.items() if IS.UNCOLLECTIBLE in targets
    ),
    InvoiceAction.RECORD_PAYMENT: frozenset(
        s for s, targets in INVOICE_TRANSITIONS.items() if IS.PAID in targets
    ),
}


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


class ProviderEventStatus(models.TextChoices):
    """An inbound provider event's progress in the inbox (billing.models.ProviderEvent)."""

    PENDING = "pending", _("Pendente")
    PROCESSING = "processing", _("Processando")
    PROCESSED = "processed", _("Processado")
    FAILED = "failed", _("Falhou")
    IGNORED = "ignored", _("Ignorado")


_PE = ProviderEventStatus
# Moved only by billing.services.provider_events.provider_event_move. "processing" goes back to "pending"
# when a worker died holding it (its lease ran out); failed and ignored events go back to pending on
# Reprocessar or when the provider delivers them again; a processed one only on Reprocessar.
PROVIDER_EVENT_TRANSITIONS = {
    _PE.PENDING: frozenset({_PE.PROCESSING, _PE.IGNORED}),
    _PE.PROCESSING: frozenset({_PE.PROCESSED, _PE.FAILED, _PE.IGNORED, _PE.PENDING}),
    _PE.PROCESSED: frozenset({_PE.PENDING}),
    _PE.FAILED: frozenset({_PE.PENDING}),
    _PE.IGNORED: frozenset({_PE.PENDING}),
}

register_badges(
    ProviderEventStatus,
    {
        _PE.PENDING: "text-bg-warning",
        _PE.PROCESSING: "text-bg-info",
        _PE.PROCESSED: "text-bg-success",
        _PE.FAILED: "text-bg-danger",
        _PE.IGNORED: "text-bg-secondary",
    },
)
