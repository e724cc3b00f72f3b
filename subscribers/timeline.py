"""The timeline lines the system writes itself, kept as a code and its parameters
(`SubscriptionEvent.reason_code`, `reason_params`) and translated when shown: a merchant who reads the
timeline in English sees English whatever language the line was written under (a billing task, another
user). A person's own words (a cancellation reason typed in a form) stay in `SubscriptionEvent.reason`.

Adding a line: a code here with its pt-BR message (placeholders `%(name)s`, filled from the params),
its English in locale/en, and `_record(..., reason_code=CODE, reason_params={...})` at the writer. A code
is never renamed or removed: old rows keep it."""

import datetime as dt

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from core.money import format_money
from subscribers.choices import (
    FailureCode,
    PaymentMethod,
    PaymentStatus,
    PortalCancelReason,
    SubscriptionStatus,
)

SCHEDULE_CREATED = "schedule_created"
SCHEDULE_UPDATED = "schedule_updated"
SCHEDULE_PHASE_STARTED = "schedule_phase_started"
SCHEDULE_COMPLETED = "schedule_completed"
SCHEDULE_ENDED_SUBSCRIPTION = "schedule_ended_subscription"
SCHEDULE_RELEASED = "schedule_released"
SCHEDULE_CANCELED = "schedule_canceled"
SCHEDULE_CANCELED_BY_ENDING = "schedule_canceled_by_ending"
SCHEDULE_PAUSE_STARTED = "schedule_pause_started"
SCHEDULE_PAUSE_SKIPPED = "schedule_pause_skipped"
CUSTOMER_UPDATED = "customer_updated"
# Cancellation reasons the system words (Subscription.cancel_reason_code, and the timeline line saying so).
DUNNING_EXHAUSTED = "dunning_exhausted"
CHARGEBACK = "chargeback"
CANCELED_IN_STRIPE = "canceled_in_stripe"
CANCELED_BY_PLATFORM = "canceled_by_platform"
INVOICE_VOIDED = "invoice_voided"
INVOICE_UNCOLLECTIBLE = "invoice_uncollectible"
# What a customer gave as their reason in the portal (`option`, a PortalCancelReason value, and `details`,
# their own words, verbatim): a cancellation's reason and the retention offer's timeline lines.
PORTAL_CANCEL_REQUEST = "portal_cancel_request"
RETENTION_CANCEL_REVERTED = "retention_cancel_reverted"
RETENTION_COUPON_APPLIED = "retention_coupon_applied"
# Refund reasons the system words (billing's Refund.reason_code), and the timeline line of a refund.
WITHDRAWAL_REFUND = "withdrawal_refund"
REFUNDED_IN_STRIPE = "refunded_in_stripe"
PAYMENT_REFUNDED = "payment_refunded"
CREDIT_BALANCE_REFUND = "credit_balance_refund"
# Billing's lines (status changes and notes the billing run, charges and staff's invoice actions write).
PAYMENT_APPROVED = "payment_approved"
AWAITING_FIRST_PAYMENT = "awaiting_first_payment"
CHARGE_DECLINED = "charge_declined"
NOTHING_DUE = "invoice_nothing_due"
CHARGE_NOW = "charge_now"
INSTALLMENTS_PAID = "installments_paid"
INSTALLMENTS_ENDED_UNPAID = "installments_ended_unpaid"
# Changes of card, payment method and pause.
CARD_CHANGED = "card_changed"
PAYMENT_METHOD_CHANGED = "payment_method_changed"
PAUSE_UNDONE = "pause_undone"
PAUSED_IN_STRIPE = "paused_in_stripe"
STRIPE_INVOICE_VOIDED = "stripe_invoice_voided"
STRIPE_INVOICE_UNCOLLECTIBLE = "stripe_invoice_uncollectible"
CHARGE_REISSUED = "charge_reissued"
PRICE_CHANGED = "price_changed"
PRICE_CHANGE_SCHEDULED = "price_change_scheduled"

REASONS = {
    SCHEDULE_CREATED: _("Programação criada com %(count)s fases."),
    SCHEDULE_UPDATED: _("Programação alterada."),
    # `from`/`to`: phase numbers from 1; `from` None when the first phase starts.
    SCHEDULE_PHASE_STARTED: _("Fase %(from)s → %(to)s da programação."),
    SCHEDULE_COMPLETED: _("Programação concluída."),
    # The subscription cancelled because its schedule ended with end behaviour "cancel".
    SCHEDULE_ENDED_SUBSCRIPTION: _("Fim da programação."),
    SCHEDULE_RELEASED: _("Assinatura liberada da programação."),
    SCHEDULE_CANCELED: _("Programação cancelada com a assinatura."),
    SCHEDULE_CANCELED_BY_ENDING: _("Programação cancelada: a assinatura foi encerrada."),
    SCHEDULE_PAUSE_STARTED: _("Pausa da programação."),
    # `status`: a SubscriptionStatus value, shown as its label in the reader's language.
    SCHEDULE_PAUSE_SKIPPED: _(
        "Pausa da programação não aplicada: uma assinatura %(status)s não pode ser pausada."
    ),
    # `fields`: keys of CUSTOMER_FIELD_LABELS, shown as their labels in the reader's language.
    CUSTOMER_UPDATED: _("Dados do cliente alterados: %(fields)s."),
    DUNNING_EXHAUSTED: _("Tentativas de cobrança esgotadas."),
    # `amount`: minor units, in `currency`, shown as money in the reader's language; `reason`: as the bank or
    # the staff gave it ("—" for none).
    CHARGEBACK: _("Chargeback de %(amount)s: %(reason)s"),
    CANCELED_IN_STRIPE: _("Cancelada na Stripe."),
    CANCELED_BY_PLATFORM: _("Cancelada pela administração da plataforma."),
    # `number`: the invoice's number (a pending subscription whose only invoice went away never starts).
    INVOICE_VOIDED: _("Fatura nº %(number)s anulada."),
    INVOICE_UNCOLLECTIBLE: _("Fatura nº %(number)s marcada como incobrável."),
    # Nothing to translate around it: `reason` is the option's label in the reader's language, then the
    # customer's words (see _customer_reason).
    PORTAL_CANCEL_REQUEST: "%(reason)s",
    # `code`: the retention coupon's code.
    RETENTION_CANCEL_REVERTED: _("Oferta de retenção aceita no portal (cupom %(code)s)."),
    RETENTION_COUPON_APPLIED: _(
        "Oferta de retenção aceita no portal (cupom %(code)s) em vez de cancelar. "
        "Motivo do pedido: %(reason)s"
    ),
    WITHDRAWAL_REFUND: _("Direito de arrependimento (CDC art. 49), pedido pelo cliente no portal."),
    REFUNDED_IN_STRIPE: _("Reembolsado na Stripe."),
    # `number`: the invoice whose payment was refunded in full, without a reason of its own.
    PAYMENT_REFUNDED: _("Pagamento da fatura nº %(number)s reembolsado."),
    # A credit balance given back without a note from the staff.
    CREDIT_BALANCE_REFUND: _("Reembolso do saldo de crédito"),
    # `number`: the invoice's number.
    PAYMENT_APPROVED: _("Pagamento da fatura nº %(number)s aprovado."),
    AWAITING_FIRST_PAYMENT: _("Aguardando o pagamento da primeira fatura."),
    # `message`: the gateway's words as it gave them, or its failure code (ours are named when shown).
    CHARGE_DECLINED: _("Cobrança da fatura nº %(number)s recusada: %(message)s"),
    NOTHING_DUE: _("Fatura sem valor a pagar."),
    # `payment_status`: a PaymentStatus value, named in the reader's language.
    CHARGE_NOW: _("Cobrança imediata da fatura nº %(number)s: %(payment_status)s."),
    INSTALLMENTS_PAID: _("Todas as %(count)s parcelas foram pagas."),
    INSTALLMENTS_ENDED_UNPAID: _("O parcelamento terminou com %(unpaid)s de %(count)s parcelas não pagas."),
    # `old`, `new`: the cards' last four digits (`old` None when there was none).
    CARD_CHANGED: _("Cartão alterado: final %(old)s → final %(new)s."),
    # `old_method`, `new_method`: PaymentMethod values, named in the reader's language.
    PAYMENT_METHOD_CHANGED: _(
        "Forma de pagamento alterada: %(old_method)s → %(new_method)s, a partir da próxima fatura."
    ),
    PAUSE_UNDONE: _("Pausa agendada desfeita."),
    PAUSED_IN_STRIPE: _("Pausada na Stripe."),
    # `id`: Stripe's invoice id (in_…).
    STRIPE_INVOICE_VOIDED: _("Fatura %(id)s anulada na Stripe."),
    STRIPE_INVOICE_UNCOLLECTIBLE: _("Fatura %(id)s marcada como incobrável na Stripe."),
    # `method`: a PaymentMethod value; `date`: the day it lapses (ISO, the merchant's calendar) or None.
    CHARGE_REISSUED: _("2ª via da fatura nº %(number)s: novo %(method)s, válido até %(date)s."),
    # `old_amount`, `new_amount`: minor units, in `currency`, shown as money in the reader's language.
    PRICE_CHANGED: _("Novo preço em vigor: %(old_amount)s → %(new_amount)s por período."),
    # The same, and `date`: the notice's last day (ISO).
    PRICE_CHANGE_SCHEDULED: _(
        "Reajuste de %(old_amount)s para %(new_amount)s por período; aviso até %(date)s."
    ),
}

# What changed in a customer's details, by the key the outbox's `customer.updated` carries in "changed"
# (subscribers.services.customers): the address counts as one field.
CUSTOMER_FIELD_LABELS = {
    "name": _("nome"),
    "email": _("e-mail"),
    "handle": _("@usuário"),
    "document": _("CPF/CNPJ"),
    "phone": _("telefone"),
    "address": _("endereço"),
}

# Params holding a code of a choice, shown as the choice's label (lower case inside a sentence, or as it is).
_CHOICE_PARAMS = {
    "status": (SubscriptionStatus, True),
    "payment_status": (PaymentStatus, True),
    "old_method": (PaymentMethod, False),
    "new_method": (PaymentMethod, False),
    "method": (PaymentMethod, True),
    # A declined charge's `message` is the gateway's words, or one of our failure codes (named).
    "message": (FailureCode, False),
}
# Params holding minor units of the params' `currency`, shown as money.
_MONEY_PARAMS = ("amount", "old_amount", "new_amount")


def changed_field_labels(fields: list) -> list[str]:
    """A customer's changed fields (keys of CUSTOMER_FIELD_LABELS) named in the active language."""
    return [str(CUSTOMER_FIELD_LABELS.get(field, field)) for field in fields]


def reason_text(
    code: str, params: dict | None, fallback: str = "", *, messages=None, choice_params=None
) -> str:
    """The line in the active language; `fallback` (the stored text) for a row without a code, or with
    one this version does not know. Another app's coded texts (billing's inbox notes) pass their own
    `messages` (code → sentence) and `choice_params` (param → (choices, lower case)) beside these."""
    message = (REASONS if messages is None else messages).get(code)
    if message is None:
        return fallback
    params = params or {}
    choices = {**_CHOICE_PARAMS, **choice_params} if choice_params else _CHOICE_PARAMS
    values = {name: _param_text(name, value, choices) for name, value in params.items()}
    if "currency" in params:
        for name in _MONEY_PARAMS:
            if isinstance(params.get(name), int):
                values[name] = format_money(params[name], params["currency"])
    if "option" in params:
        values["reason"] = _customer_reason(params["option"], params.get("details", ""))
    try:
        return str(message) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def platform_reason_text(code: str, params: dict | None, text: str = "") -> str:
    """A coded reason's text in the platform's language (pt-BR), for event payloads and the API, whoever
    wrote it; `text` when uncoded."""
    if not code:
        return text
    with translation.override(settings.LANGUAGE_CODE):
        return reason_text(code, params, text)


def customer_reason_params(option: str, details: str = "") -> dict:
    """The params of a reason a customer picked in the portal: the option's value and their own words."""
    return {"option": option, "details": (details or "").strip()}


def _customer_reason(option: str, details: str) -> str:
    """ "<the option's label>: <the customer's words>", or the label alone; an unknown option as stored."""
    label = str(PortalCancelReason(option).label) if option in PortalCancelReason.values else option
    return f"{label}: {details}" if details else label


def _param_text(name: str, value, choice_params: dict):
    if value is None:
        return "—"
    if name == "fields" and isinstance(value, list):
        return ", ".join(changed_field_labels(value))
    if name == "date" and isinstance(value, str):
        try:
            return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    choices, lower = choice_params.get(name, (None, False))
    if choices is not None and value in choices.values:
        label = str(choices(value).label)
        return label.lower() if lower else label
    return value
