"""What the customer portal (subscribers/portal/) asks of billing, provided as extension points in
`BillingConfig.ready()`: the customer's invoices, one invoice's PDF, the withdrawal refund, and the open
boletos/pix with their *2ª via* (a new boleto/pix for an open invoice whose charge lapsed or is about to)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import InvoiceStatus, PaymentStatus
from billing.gateways import payment_codes
from billing.locks import lock_invoice, lock_subscription
from billing.models import BillingSettings, Invoice, Payment
from billing.pdf import invoice_pdf_filename, render_invoice_pdf
from billing.services.billing_run import BILLABLE
from billing.services.charging import _attempt, cancel_pending_payments
from billing.services.refunds import subscription_refund
from subscribers import timeline
from subscribers.choices import PaymentMethod
from subscribers.services import subscription_note_billing

# A boleto/pix may be reissued once it lapsed, or when it lapses within this time (the customer who opens
# the portal on the due date gets a new one instead of one that dies tonight).
REISSUE_BEFORE_EXPIRY = dt.timedelta(days=1)
REISSUABLE_METHODS = (PaymentMethod.BOLETO, PaymentMethod.PIX)


def _customer_invoices(customer):
    # Drafts are billing's work in progress, never a document the customer owes.
    return (
        Invoice.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("subscription__plan")
    )


def retention_coupon(merchant):
    """The coupon the merchant offers in the portal after a cancellation request (Configurações > Cobrança),
    or None."""
    return BillingSettings.for_merchant(merchant).portal_retention_coupon


def customer_invoices(*, customer, limit: int = 50) -> list[Invoice]:
    """The customer's invoices for Minha assinatura, newest first."""
    return list(_customer_invoices(customer).order_by("-created_at", "-pk")[:limit])


def customer_invoice_pdf(*, customer, invoice_id: int) -> tuple[str, bytes]:
    """(filename, PDF) of one of the customer's invoices; any other invoice is a 404."""
    invoice = (
        _customer_invoices(customer).select_related("merchant", "customer").filter(pk=invoice_id).first()
    )
    if invoice is None:
        raise Http404
    return invoice_pdf_filename(invoice), render_invoice_pdf(invoice)


def withdrawal_refund(*, subscription, actor, reason_code: str, now):
    """The full refund of a withdrawal (CDC art. 49): the refund service itself, so its rules (card and
    pix only, nothing refunded twice) apply. `reason_code`: the refund's reason (subscribers/timeline.py)."""
    return subscription_refund(subscription=subscription, actor=actor, reason_code=reason_code, now=now)


def _reissuable(invoice, payment, *, now) -> bool:
    """An open invoice of a subscription paid by boleto/pix, whose last boleto/pix lapsed (or failed) or
    lapses within REISSUE_BEFORE_EXPIRY."""
    subscription = invoice.subscription
    if invoice.status != InvoiceStatus.OPEN or subscription.payment_method not in REISSUABLE_METHODS:
        return False
    # Ended and paused subscriptions keep no live boleto/pix (docs/pause.md, the design's billing rules).
    if subscription.status not in BILLABLE:
        return False
    if payment is None or payment.status != PaymentStatus.PENDING:
        return True
    return payment.expires_at is not None and payment.expires_at <= now + REISSUE_BEFORE_EXPIRY


def customer_open_charges(*, customer, now=None) -> list[dict]:
    """The customer's open invoices paid by boleto/pix, for Minha assinatura: each with its current
    boleto/pix (line or copia-e-cola, due date) and whether a 2ª via may be issued. Two queries."""
    now = now or timezone.now()
    invoices = list(
        _customer_invoices(customer)
        .filter(status=InvoiceStatus.OPEN, subscription__payment_method__in=REISSUABLE_METHODS)
        .select_related("subscription")
        .order_by("due_at", "pk")
    )
    latest = {}
    for payment in Payment.objects.filter(invoice__in=invoices).order_by("invoice_id", "-attempt", "-pk"):
        latest.setdefault(payment.invoice_id, payment)
    charges = []
    for invoice in invoices:
        payment = latest.get(invoice.pk)
        live = payment if payment is not None and payment.status == PaymentStatus.PENDING else None
        charges.append(
            {
                "invoice": invoice,
                "payment": live,
                "replaces": payment.pk if payment is not None else 0,
                "reissuable": _reissuable(invoice, payment, now=now),
                **(payment_codes(live) if live else {"boleto_line": "", "pix_code": ""}),
            }
        )
    return charges


@transaction.atomic
def customer_charge_reissue(*, customer, invoice_id: int, replaces: int, actor, now=None) -> Payment:
    """2ª via: withdraws the invoice's lapsing boleto/pix (payment canceled) and issues a new one through
    the gateway (a new attempt, so a new idempotency key), with the merchant's validity.

    `replaces` is the payment the customer saw (0: none). Under the subscription's and the invoice's locks,
    a second request for the same one (a double click, two tabs) finds it already replaced and gets the
    new boleto/pix instead of a third one. Another customer's invoice is a 404."""
    now = now or timezone.now()
    invoice = _customer_invoices(customer).filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404
    subscription = lock_subscription(invoice.subscription_id)
    invoice = lock_invoice(invoice.pk)
    invoice.subscription = subscription
    current = invoice.payments.order_by("-attempt", "-pk").first()
    if current is not None and current.pk != replaces and current.status == PaymentStatus.PENDING:
        return current
    if not _reissuable(invoice, current, now=now):
        raise ValidationError(
            _("Esta fatura não tem boleto ou pix para gerar a 2ª via agora."), code="not_reissuable"
        )
    withdrawn = cancel_pending_payments(invoice=invoice, now=now)
    payment = _attempt(invoice=invoice, subscription=subscription, now=now, manual=True)
    subscription_note_billing(
        subscription=subscription,
        actor=actor,
        reason_code=timeline.CHARGE_REISSUED,
        reason_params={
            "number": invoice.number,
            "method": payment.method,
            "date": timezone.localtime(payment.expires_at, subscription.merchant.tzinfo).date().isoformat()
            if payment.expires_at
            else None,
        },
        now=now,
        data={"invoice": invoice.pk, "payment": payment.pk, "withdrawn": withdrawn, "action": "reissue"},
    )
    return payment
