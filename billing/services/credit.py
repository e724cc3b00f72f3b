"""The customer's credit balance: every movement is a CreditEntry (docs/money.md).

Sign: an entry's `amount` > 0 is credit the customer can use, < 0 is credit used; the balance is their
sum per customer and currency (billing.selectors.credit_balance) and never goes below 0. Credit comes
in from a downgrade (or a cancellation crediting unused time) and from manual adjustments; it goes out
to invoices, which consume it before anything is charged, and back to the customer as a refund on a
payment whose method allows it (card, pix; never boleto).

Lock order: Subscription, then Customer (the balance's lock), then Invoice, then Payment. Every write
here holds the customer row's lock, so two invoices of one customer cannot spend the same credit.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.calculations import apply_credit
from billing.choices import (
    REFUNDABLE_PAYMENT_STATUSES,
    CreditReason,
    InvoiceStatus,
    RefundStatus,
)
from billing.locks import lock_customer
from billing.models import CreditEntry, Invoice, Payment
from billing.selectors import credit_balance
from core.events import EventType
from core.money import format_money
from core.outbox import emit
from subscribers import timeline
from subscribers.choices import PaymentMethod, method_is_refundable
from subscribers.models import Customer

# Methods whose payments a balance refund may go back to: those the refund rule allows
# (subscribers.choices.method_is_refundable: not boleto), through a gateway that pays money out (not
# manual, which only records what happened outside).
REFUNDABLE_METHODS = tuple(
    method for method in PaymentMethod if method_is_refundable(method) and method != PaymentMethod.MANUAL
)


def credit_entry_payload(entry: CreditEntry, balance: int) -> dict:
    return {
        "id": entry.pk,
        "customer": entry.customer_id,
        "currency": entry.currency,
        "amount": entry.amount,
        "reason": entry.reason,
        "invoice": entry.invoice_id,
        "payment": entry.payment_id,
        "balance": balance,
    }


def _record(
    *, customer, currency, amount, reason, actor=None, note="", invoice=None, payment=None, refund=None
):
    """One ledger entry and its outbox event; the caller holds the customer's lock."""
    entry = CreditEntry.objects.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        currency=currency,
        amount=amount,
        reason=reason,
        invoice=invoice,
        payment=payment,
        refund=refund,
        actor=actor if getattr(actor, "pk", None) else None,
        note=(note or "").strip(),
    )
    balance = credit_balance(customer=customer, currency=currency)
    if balance < 0:  # pragma: no cover - every caller checks first; the ledger must never say we owe less
        raise AssertionError(f"credit balance of customer {customer.pk} would be {balance}")
    emit(
        merchant=customer.merchant,
        type=EventType.CUSTOMER_CREDIT_BALANCE_CHANGED,
        payload=credit_entry_payload(entry, balance),
    )
    return entry


def credit_from_invoice(*, invoice: Invoice, amount: int, note: str = "") -> CreditEntry | None:
    """Puts a proration invoice's net credit (a downgrade's, or a cancellation's unused time) on the
    customer's balance, linked to that invoice. Inside the caller's transaction."""
    if amount <= 0:
        return None
    customer = lock_customer(invoice.customer_id)
    return _record(
        customer=customer,
        currency=invoice.currency,
        amount=amount,
        reason=CreditReason.PRORATION_CREDIT,
        invoice=invoice,
        note=note,
    )


def credit_apply_to_invoice(*, invoice: Invoice) -> int:
    """Pays as much of an invoice (not yet charged) as the customer's balance allows: records the
    `applied` entry and sets `invoice.credit_applied`. Returns the credit applied (0 when none). The
    caller holds the invoice (and subscription) locks; the amount left (`invoice.amount_due`) is what
    gets charged."""
    if invoice.total <= 0 or invoice.credit_applied or invoice.status != InvoiceStatus.OPEN:
        return 0
    # Cheap unlocked look first: almost no customer has a balance, and they must not queue on a lock.
    if not CreditEntry.objects.filter(customer_id=invoice.customer_id, currency=invoice.currency).exists():
        return 0
    customer = lock_customer(invoice.customer_id)
    applied, _due = apply_credit(invoice.total, credit_balance(customer=customer, currency=invoice.currency))
    if not applied:
        return 0
    invoice.credit_applied = applied
    invoice.save(update_fields=["credit_applied"])
    _record(
        customer=customer,
        currency=invoice.currency,
        amount=-applied,
        reason=CreditReason.APPLIED,
        invoice=invoice,
    )
    return applied


def credit_return_from_invoice(*, invoice: Invoice, note: str = "") -> CreditEntry | None:
    """Gives back the credit an invoice consumed when that invoice is voided (nothing was settled on it).
    For the void service; inside its transaction."""
    if not invoice.credit_applied:
        return None
    customer = lock_customer(invoice.customer_id)
    entry = _record(
        customer=customer,
        currency=invoice.currency,
        amount=invoice.credit_applied,
        reason=CreditReason.RETURNED,
        invoice=invoice,
        note=note,
    )
    Invoice.objects.filter(pk=invoice.pk).update(credit_applied=0)
    invoice.credit_applied = 0
    return entry


@transaction.atomic
def credit_adjust(*, customer: Customer, actor, currency: str, amount: int, note: str) -> CreditEntry:
    """A manual adjustment ("Ajustar saldo", support and up): `amount` > 0 credits the customer, < 0
    takes credit back. A reason is required and the balance cannot go below 0."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an integer in minor units, not {type(amount).__name__}")
    if amount == 0:
        raise ValidationError(
            {"amount": ValidationError(_("Informe um valor diferente de zero."), code="zero")}
        )
    if not (note or "").strip():
        raise ValidationError({"note": ValidationError(_("Diga o motivo do ajuste."), code="note_required")})
    customer = lock_customer(customer.pk)
    balance = credit_balance(customer=customer, currency=currency)
    if balance + amount < 0:
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("O saldo não pode ficar negativo: o saldo atual é %(balance)s.")
                    % {"balance": format_money(balance, currency)},
                    code="negative_balance",
                )
            }
        )
    return _record(
        customer=customer,
        currency=currency,
        amount=amount,
        reason=CreditReason.ADJUSTMENT,
        actor=actor,
        note=note,
    )


def refundable_payments(*, customer, currency):
    """The customer's payments a balance refund may go back to, newest first: succeeded, by card or
    pix, with something left that was neither refunded nor charged back."""
    return (
        Payment.objects.filter(
            invoice__customer_id=customer.pk,
            currency=currency,
            status__in=REFUNDABLE_PAYMENT_STATUSES,
            method__in=REFUNDABLE_METHODS,
            amount__gt=F("amount_refunded") + F("amount_charged_back"),
        )
        .select_related("invoice")
        .order_by(F("settled_at").desc(nulls_last=True), "-pk")
    )


def credit_refund(
    *, customer: Customer, actor, currency: str, amount: int | None = None, note: str = "", now=None
):
    """Gives (part of) the balance back to the customer as refunds of their latest card/pix payments,
    through the payments' gateway (billing.services.refunds.refund_through_gateway). The invoices those
    payments paid keep what they settled: this is money from the balance, not from the invoice.
    Returns the refunds made. Refused when there is nothing to give back or no payment to give it to."""
    from billing.services.refunds import refund_through_gateway

    now = now or timezone.now()
    with transaction.atomic():
        customer = lock_customer(customer.pk)
        balance = credit_balance(customer=customer, currency=currency)
        amount = balance if amount is None else amount
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"amount must be an integer in minor units, not {type(amount).__name__}")
        if not 1 <= amount <= balance:
            raise ValidationError(
                {
                    "amount": ValidationError(
                        _("O valor deve estar entre %(min)s e o saldo, %(max)s.")
                        % {"min": format_money(1, currency), "max": format_money(max(balance, 0), currency)},
                        code="invalid_amount",
                    )
                }
            )
        payments = list(
            refundable_payments(customer=customer, currency=currency).select_for_update(of=("self",))
        )
        room = sum(
            payment.amount - payment.amount_refunded - payment.amount_charged_back for payment in payments
        )
        if room < amount:
            raise ValidationError(
                _(
                    "Não há pagamento por cartão ou pix que comporte este reembolso (%(room)s disponível). "
                    "Boletos não podem ser reembolsados."
                )
                % {"room": format_money(room, currency)},
                code="nothing_to_refund",
            )
        refunds, left = [], amount
        # A note the staff typed is kept verbatim; without one, the system's words are a code, translated
        # when shown (subscribers/timeline.py).
        reason = {"reason": note} if note else {"reason_code": timeline.CREDIT_BALANCE_REFUND}
        for payment in payments:
            if left <= 0:
                break
            part = min(left, payment.amount - payment.amount_refunded - payment.amount_charged_back)
            refund = refund_through_gateway(payment=payment, amount=part, actor=actor, **reason)
            if refund.status != RefundStatus.SUCCEEDED:
                continue
            _record(
                customer=customer,
                currency=currency,
                amount=-part,
                reason=CreditReason.REFUNDED,
                actor=actor,
                note=note,
                payment=payment,
                refund=refund,
                invoice=payment.invoice,
            )
            refunds.append(refund)
            left -= part
    if not refunds:
        raise ValidationError(_("O gateway recusou o reembolso do saldo."), code="refund_failed")
    return refunds
