"""Invoices: numbering and the invoice for one period of a subscription."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from billing.calculations import LineInput, TaxInput, compute_invoice, discount_for_period
from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import Invoice, InvoiceLine, InvoiceSequence, Payment
from core.outbox import emit


def allocate_invoice_numbers(merchant, count: int = 1) -> range:
    """Reserves `count` consecutive invoice numbers for `merchant` (one short row lock per call)."""
    with transaction.atomic():
        sequence, _created = InvoiceSequence.objects.select_for_update().get_or_create(merchant=merchant)
        first = sequence.last_number + 1
        InvoiceSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + count)
    return range(first, first + count)


def invoice_payload(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "subscription": invoice.subscription_id,
        "customer": invoice.customer_id,
        "status": invoice.status,
        "currency": invoice.currency,
        "subtotal": invoice.subtotal,
        "discount": invoice.discount,
        "tax": invoice.tax,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "installment_number": invoice.installment_number,
    }


def subscription_taxes(subscription) -> list[TaxInput]:
    return [
        TaxInput(tax_rate_id=rate.pk, name=rate.name, percentage=rate.percentage, inclusive=rate.inclusive)
        for rate in subscription.tax_rates.all()
        if rate.is_active
    ]


def invoice_create_for_period(
    *, subscription, period_start, period_end, now, periods_billed: int, installment_number=None
) -> Invoice | None:
    """The recurring invoice of one period, with its lines, discount and taxes (billing.calculations).

    Returns None when that period already has an invoice: the unique (subscription, period_start)
    constraint, checked in a savepoint, is what makes two workers or a retried task safe.
    """
    plan = subscription.plan
    description = plan.name
    if installment_number and plan.installments:
        description = f"{plan.name} ({installment_number}/{plan.installments})"
    totals = compute_invoice(
        lines=[
            LineInput(
                description=description,
                quantity=subscription.quantity,
                unit_amount=plan.price,
                period_start=period_start,
                period_end=period_end,
            )
        ],
        discount=discount_for_period(
            subscription=subscription, period_start=period_start, periods_billed=periods_billed
        ),
        taxes=subscription_taxes(subscription),
    )
    (number,) = allocate_invoice_numbers(subscription.merchant, 1)
    invoice = Invoice(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        customer_id=subscription.customer_id,
        number=number,
        kind=InvoiceKind.RECURRING,
        status=InvoiceStatus.OPEN,
        period_start=period_start,
        period_end=period_end,
        installment_number=installment_number,
        currency=subscription.currency,
        subtotal=totals.subtotal,
        discount=totals.discount,
        tax=totals.tax,
        total=totals.total,
        due_at=max(period_start, now),
    )
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError:
        if Invoice.objects.filter(
            subscription=subscription, period_start=period_start, kind=InvoiceKind.RECURRING
        ).exists():
            return None
        raise
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                description=line.description,
                period_start=line.period_start,
                period_end=line.period_end,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                discount_amount=line.discount_amount,
                tax_amount=line.tax_amount,
                tax_details=line.tax_details,
                proration=line.proration,
            )
            for line in totals.lines
        ]
    )
    emit(merchant=subscription.merchant, type="invoice.created", payload=invoice_payload(invoice))
    return invoice


def subscription_billing_history(subscription, *, delete: bool = False) -> dict:
    """A subscription's invoices and payments, for its delete (the one delete the product allows).

    Unpaid history (open or failed attempts) goes with the subscription and is listed first; once any
    payment succeeded, money moved and the delete is refused: cancel and refund instead.
    """
    invoices = Invoice.objects.filter(subscription=subscription)
    payments = Payment.objects.filter(invoice__subscription=subscription)
    moved = payments.filter(status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]).exists()
    summary = {
        "invoices": invoices.count(),
        "payments": payments.count(),
        "blocked_reason": _(
            "Esta assinatura já tem pagamentos aprovados e não pode ser excluída. "
            "Cancele-a (e reembolse, se for o caso)."
        )
        if moved
        else "",
    }
    if delete and not moved:
        payments.delete()
        invoices.delete()
    return summary
