"""The one place where an Invoice, a Payment or a Refund changes status.

`invoice_move`, `payment_move` and `refund_move` check the transition tables of billing.choices, set the
status (and the fields that go with it), save with `update_fields` and emit the outbox event the change
calls for, in the caller's transaction. The caller holds the row locks (Subscription, then Invoice, then
Payment). Gateways only return results; the services apply them through these functions.
The bulk renewal (billing.services.batch) writes rows set-based; it takes its statuses from
`bulk_transition`, which asserts the same tables.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from billing.choices import (
    CHARGEBACK_TRANSITIONS,
    INVOICE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REFUND_TRANSITIONS,
    ChargebackStatus,
    InvoiceStatus,
    PaymentStatus,
    RefundStatus,
)
from billing.models import Chargeback, Invoice, Payment, Refund
from billing.services.credit import credit_return_from_invoice
from billing.services.invoicing import invoice_payload
from core.events import EventType
from core.outbox import emit

# The event each move emits (none for the moves whose service emits a richer event itself: a refund emits
# payment.refunded with the refund in its payload, partial or full).
INVOICE_EVENT_TYPES = {
    InvoiceStatus.OPEN: EventType.INVOICE_FINALIZED,
    InvoiceStatus.PAID: EventType.INVOICE_PAID,
    InvoiceStatus.VOID: EventType.INVOICE_VOIDED,
    InvoiceStatus.UNCOLLECTIBLE: EventType.INVOICE_MARKED_UNCOLLECTIBLE,
}
PAYMENT_EVENT_TYPES = {
    PaymentStatus.SUCCEEDED: EventType.PAYMENT_SUCCEEDED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.CANCELED: EventType.PAYMENT_CANCELED,
}


def payment_payload(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "invoice": payment.invoice_id,
        "attempt": payment.attempt,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": payment.method,
        "gateway": payment.gateway,
        "status": payment.status,
        "failure_code": payment.failure_code,
        "amount_refunded": payment.amount_refunded,
        "amount_charged_back": payment.amount_charged_back,
    }


REFUSALS = {
    "invoice": gettext_lazy("Uma fatura %(from)s não pode passar a %(to)s."),
    "payment": gettext_lazy("Um pagamento %(from)s não pode passar a %(to)s."),
    "refund": gettext_lazy("Um reembolso %(from)s não pode passar a %(to)s."),
    "chargeback": gettext_lazy("Um chargeback %(from)s não pode passar a %(to)s."),
}


def transition_refusal(table, labels, from_status: str, to_status: str, noun: str) -> ValidationError | None:
    """The error a move from `from_status` to `to_status` raises, or None when the table allows it."""
    if to_status in table.get(from_status, ()):
        return None
    return ValidationError(
        str(REFUSALS[noun])
        % {"from": labels(from_status).label.lower(), "to": labels(to_status).label.lower()},
        code="invalid_transition",
    )


def bulk_transition(table, from_status: str, to_status: str) -> str:
    """The set-based writers' check: `to_status` as a stored value, once the table allows the edge."""
    if to_status not in table[from_status]:
        raise ValueError(f"{from_status} → {to_status} is not in the transition table")
    return str(to_status.value if hasattr(to_status, "value") else to_status)


def _move(instance, *, table, labels, noun, to: str, fields: dict) -> str:
    refusal = transition_refusal(table, labels, instance.status, to, noun)
    if refusal is not None:
        raise refusal
    from_status = instance.status
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.status = to
    instance.save(update_fields=["status", *fields])
    return from_status


def invoice_move(*, invoice: Invoice, to: str, now, emit_event: bool = True, **fields) -> Invoice:
    """Moves an invoice along INVOICE_TRANSITIONS (paid also records paid_at, next attempts stop) and emits
    its event. `emit_event=False` is for a caller that emits a more specific event for the same change
    (dunning's `invoice.overdue` when the retries run out)."""
    if to == InvoiceStatus.PAID:
        fields.setdefault("paid_at", now)
    if to != InvoiceStatus.OPEN:
        fields.setdefault("next_attempt_at", None)
    _move(invoice, table=INVOICE_TRANSITIONS, labels=InvoiceStatus, noun="invoice", to=to, fields=fields)
    if to == InvoiceStatus.VOID:
        # Nothing was settled on a voided invoice: the credit balance it consumed goes back to the customer.
        credit_return_from_invoice(invoice=invoice)
    if emit_event:
        emit(merchant=invoice.merchant_id, type=INVOICE_EVENT_TYPES[to], payload=invoice_payload(invoice))
    return invoice


def payment_move(*, payment: Payment, to: str, now, **fields) -> Payment:
    """Moves a payment along PAYMENT_TRANSITIONS (succeeded also records settled_at) and emits its event.
    A chargeback won (charged_back → succeeded/partially_refunded) keeps its settlement date and emits
    nothing here: the money was received once; `chargeback.closed` (chargeback_close) tells the news."""
    reinstated = payment.status == PaymentStatus.CHARGED_BACK
    if to == PaymentStatus.SUCCEEDED and not reinstated:
        fields.setdefault("settled_at", now)
    _move(payment, table=PAYMENT_TRANSITIONS, labels=PaymentStatus, noun="payment", to=to, fields=fields)
    event_type = None if reinstated else PAYMENT_EVENT_TYPES.get(to)
    if event_type:
        emit(merchant=payment.merchant_id, type=event_type, payload=payment_payload(payment))
    return payment


def refund_move(*, refund: Refund, to: str, now, **fields) -> Refund:
    """Moves a refund still waiting on its gateway to the gateway's answer (REFUND_TRANSITIONS)."""
    _move(refund, table=REFUND_TRANSITIONS, labels=RefundStatus, noun="refund", to=to, fields=fields)
    return refund


def chargeback_move(*, chargeback: Chargeback, to: str, now, **fields) -> Chargeback:
    """Moves a chargeback's dispute along CHARGEBACK_TRANSITIONS (open → won | lost, recording when it
    closed). The caller (billing.services.chargebacks.chargeback_close) emits `chargeback.closed`."""
    if to != ChargebackStatus.OPEN:
        fields.setdefault("closed_at", now)
    _move(
        chargeback,
        table=CHARGEBACK_TRANSITIONS,
        labels=ChargebackStatus,
        noun="chargeback",
        to=to,
        fields=fields,
    )
    return chargeback
