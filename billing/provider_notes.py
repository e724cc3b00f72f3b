"""What processing an inbound provider event did (Notificações > Eventos recebidos), kept on the event as a
code and its parameters (`ProviderEvent.note_code`, `note_params`) and translated when shown, so a
merchant reading in English sees English whatever language the billing worker ran in. The mechanism is
subscribers/timeline.py's (`reason_text`), with this module's sentences. `ProviderEvent.note` keeps what is
truly free text: a provider's own words (why a delivery's signature did not verify), and the rows written
before these codes existed.

Adding a note: a code here with its pt-BR sentence (placeholders `%(name)s`, filled from the params), its
English in locale/en, and `Note(CODE, {...})` returned by the handler (billing/services/stripe_sync.py). A
code is never renamed or removed: old rows keep it."""

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from billing.choices import ChargebackStatus, InvoiceStatus
from subscribers import timeline

# The inbox's own outcomes (billing/services/provider_events.py).
OLDER_THAN_APPLIED = "older_than_applied"
UNHANDLED_TYPE = "unhandled_type"
# Subscriptions. A note of a subscription just created from Stripe's carries {"created": True} and is
# shown after SUBSCRIPTION_CREATED's sentence.
NOTHING_CHANGED = "nothing_changed"
SUBSCRIPTION_CREATED = "subscription_created"
UNKNOWN_STATUS = "unknown_status"
SUBSCRIPTION_CANCELED = "subscription_canceled"
SUBSCRIPTION_PAUSED = "subscription_paused"
SUBSCRIPTION_RESUMED = "subscription_resumed"
STATUS_CHANGED = "status_changed"
STATUS_REFUSED = "status_refused"
# Invoices and charges.
INVOICE_SEEN = "invoice_seen"
PAYMENT_ALREADY_RECORDED = "payment_already_recorded"
NO_OPEN_INVOICE_FOR_PAYMENT = "no_open_invoice_for_payment"
INVOICE_ALREADY = "invoice_already"
PAYMENT_RECORDED = "payment_recorded"
NO_OPEN_INVOICE_FOR_DECLINE = "no_open_invoice_for_decline"
DECLINE_ALREADY_RECORDED = "decline_already_recorded"
CHARGE_DECLINED = "charge_declined"
NO_OPEN_INVOICE_MATCHES = "no_open_invoice_matches"
# Disputes and refunds.
CHARGEBACK_ALREADY_RECORDED = "chargeback_already_recorded"
CHARGEBACK_RECORDED = "chargeback_recorded"
DISPUTE_WON_UNRECORDED = "dispute_won_unrecorded"
CHARGEBACK_ALREADY_CLOSED = "chargeback_already_closed"
CHARGEBACK_CLOSED = "chargeback_closed"
REFUNDS_ALREADY_RECORDED = "refunds_already_recorded"
REFUNDS_RECORDED = "refunds_recorded"
# Customers.
CUSTOMER_WITHOUT_SUBSCRIPTION = "customer_without_subscription"
CUSTOMER_UPDATED = "customer_updated"

NOTES = {
    OLDER_THAN_APPLIED: _("Mais antigo que o estado já aplicado."),
    UNHANDLED_TYPE: _("Tipo não tratado."),
    NOTHING_CHANGED: _("Nada mudou."),
    SUBSCRIPTION_CREATED: _("Assinatura criada a partir da Stripe."),
    # `stripe_status`: Stripe's word, as it gave it.
    UNKNOWN_STATUS: _("Situação %(stripe_status)s da Stripe desconhecida."),
    SUBSCRIPTION_CANCELED: _("Assinatura encerrada: cancelada na Stripe."),
    SUBSCRIPTION_PAUSED: _("Assinatura pausada: pausada na Stripe."),
    SUBSCRIPTION_RESUMED: _("Assinatura retomada: retomada na Stripe."),
    # `status`: a SubscriptionStatus value, named in the reader's language.
    STATUS_CHANGED: _("Situação alterada para %(status)s."),
    # `remote`: Stripe's status as it gave it; `status`: ours (a SubscriptionStatus value).
    STATUS_REFUSED: _("A Stripe diz %(remote)s; aqui está %(status)s e não pode mudar para essa situação."),
    # `id`: Stripe's invoice id; `sub`: our subscription's id.
    INVOICE_SEEN: _("Fatura %(id)s da assinatura %(sub)s."),
    # `ref`: Stripe's charge (or payment intent, or invoice) id.
    PAYMENT_ALREADY_RECORDED: _("Pagamento %(ref)s já registrado."),
    NO_OPEN_INVOICE_FOR_PAYMENT: _("Nenhuma fatura em aberto para registrar o pagamento %(ref)s."),
    # `number`: our invoice's number; `invoice_status`: an InvoiceStatus value, named when shown.
    INVOICE_ALREADY: _("Fatura %(number)s já está %(invoice_status)s."),
    PAYMENT_RECORDED: _("Pagamento %(ref)s registrado na fatura %(number)s."),
    NO_OPEN_INVOICE_FOR_DECLINE: _("Nenhuma fatura em aberto para a cobrança recusada da fatura %(id)s."),
    DECLINE_ALREADY_RECORDED: _("Recusa %(ref)s já registrada ou fatura %(number)s não está em aberto."),
    # `code`: the failure code Stripe gave, as it gave it.
    CHARGE_DECLINED: _("Cobrança %(ref)s recusada na Stripe (%(code)s); fatura %(number)s em aberto."),
    NO_OPEN_INVOICE_MATCHES: _("Nenhuma fatura em aberto corresponde à fatura %(id)s da Stripe."),
    # The same sentences as the timeline's lines (`id`: Stripe's invoice id).
    timeline.STRIPE_INVOICE_VOIDED: timeline.REASONS[timeline.STRIPE_INVOICE_VOIDED],
    timeline.STRIPE_INVOICE_UNCOLLECTIBLE: timeline.REASONS[timeline.STRIPE_INVOICE_UNCOLLECTIBLE],
    # `id`: Stripe's dispute id; `pk`: our chargeback's id.
    CHARGEBACK_ALREADY_RECORDED: _("Chargeback %(id)s já registrado."),
    CHARGEBACK_RECORDED: _("Chargeback %(pk)s registrado."),
    DISPUTE_WON_UNRECORDED: _("Disputa %(id)s ganha na Stripe; nenhum chargeback registrado aqui."),
    CHARGEBACK_ALREADY_CLOSED: _("Chargeback %(pk)s já encerrado."),
    # `chargeback_status`: a ChargebackStatus value, named in the reader's language.
    CHARGEBACK_CLOSED: _("Chargeback %(pk)s encerrado: %(chargeback_status)s."),
    # `id`: Stripe's charge id.
    REFUNDS_ALREADY_RECORDED: _("Reembolsos da cobrança %(id)s já registrados."),
    # `amount`: minor units, in `currency`, shown as money in the reader's language.
    REFUNDS_RECORDED: _("%(count)s reembolso(s) da cobrança %(id)s registrado(s): %(amount)s."),
    # `id`: Stripe's customer id.
    CUSTOMER_WITHOUT_SUBSCRIPTION: _("Cliente %(id)s sem assinatura aqui."),
    # `fields`: keys of timeline.CUSTOMER_FIELD_LABELS ("name", "address").
    CUSTOMER_UPDATED: _("Cliente atualizado: %(fields)s."),
}

# Params holding a code of a billing choice, shown as its label (lower case inside the sentence).
CHOICE_PARAMS = {
    "invoice_status": (InvoiceStatus, True),
    "chargeback_status": (ChargebackStatus, True),
}


class Note(NamedTuple):
    """What a handler did: a code of NOTES and its params. `str()` is the sentence in the active language
    (Ressincronizar shows it at once)."""

    code: str
    params: dict = {}  # noqa: RUF012 — a NamedTuple's default, never mutated

    def __str__(self) -> str:
        return note_text(self.code, self.params)


def note_text(code: str, params: dict | None, fallback: str = "") -> str:
    """The note in the active language; `fallback` (the stored text) without a code, or with one this
    version does not know."""
    text = timeline.reason_text(code, params, fallback, messages=NOTES, choice_params=CHOICE_PARAMS)
    if code in NOTES and (params or {}).get("created") and code != SUBSCRIPTION_CREATED:
        return f"{NOTES[SUBSCRIPTION_CREATED]} {text}"
    return text
