"""Reads of invoices, payments and billing runs: the Cobranças screens, the PDF, the subscription page."""

import datetime as dt
import re

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from billing.choices import InvoiceStatus
from billing.models import BillingRun, Chargeback, Invoice, Payment, Refund

# How many invoices the subscription page's "Transações" lists before pointing to Cobranças > Faturas.
SUBSCRIPTION_TRANSACTIONS_LIMIT = 24


# --- Cobranças > Faturas ------------------------------------------------------------------------------
def invoice_list_queryset() -> QuerySet[Invoice]:
    """Invoices for the list screen (scoped to the merchant by the view), with what every column shows."""
    return Invoice.objects.select_related("customer", "subscription").order_by("-created_at", "-pk")


def invoice_number_from_query(query: str) -> int | None:
    """The invoice number in a search ("123", "nº 123" or "#123" → 123), or None."""
    match = re.fullmatch(r"(?:n[º°o.]?\s*|#)?\s*(\d{1,18})", query.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def invoice_search(queryset: QuerySet[Invoice], *, query: str) -> QuerySet[Invoice]:
    """One search box over the customer's name and e-mail and the invoice number."""
    query = (query or "").strip()
    if not query:
        return queryset
    condition = Q(customer__name__icontains=query) | Q(customer__email__icontains=query)
    number = invoice_number_from_query(query)
    if number is not None:
        condition |= Q(number=number)
    return queryset.filter(condition)


def invoice_detail_queryset() -> QuerySet[Invoice]:
    """Invoices for their page and PDF (scoped to the merchant by the views)."""
    return Invoice.objects.select_related("merchant", "customer", "subscription__plan")


def invoice_document(invoice: Invoice) -> dict:
    """Everything an invoice's page and PDF print besides the invoice row: lines, payments with their
    refunds, and all refunds — three queries whatever the number of rows (four with chargebacks)."""
    lines = list(invoice.lines.all())
    payments = list(
        invoice.payments.select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "refunds", queryset=Refund.objects.select_related("actor").order_by("-created_at", "-pk")
            )
        )
        .order_by("-created_at", "-pk")
    )
    refunds = [refund for payment in payments for refund in payment.refunds.all()]
    refunds.sort(key=lambda refund: (refund.created_at, refund.pk), reverse=True)
    # Chargebacks are rare: only an invoice that has one pays the query.
    chargebacks = []
    if any(payment.amount_charged_back for payment in payments):
        chargebacks = list(
            Chargeback.objects.filter(payment__invoice=invoice)
            .select_related("actor")
            .order_by("-created_at")
        )
    return {"lines": lines, "payments": payments, "refunds": refunds, "chargebacks": chargebacks}


def created_between_q(*, merchant, start: dt.date | None = None, end: dt.date | None = None) -> Q:
    """`created_at` on a day within [start, end] on the merchant's clock, as a half-open range of instants
    (so the (merchant, status, created_at) indexes serve it)."""
    condition = Q()
    if start:
        condition &= Q(created_at__gte=merchant.start_of_day(start))
    if end:
        condition &= Q(created_at__lt=merchant.start_of_day(end + dt.timedelta(days=1)))
    return condition


# --- Cobranças > Pagamentos ---------------------------------------------------------------------------
def payment_list_queryset() -> QuerySet[Payment]:
    """Payments for the list screen, newest first, with their invoice and customer."""
    return Payment.objects.select_related("invoice__customer").order_by("-created_at", "-pk")


def payment_search(queryset: QuerySet[Payment], *, query: str) -> QuerySet[Payment]:
    """One search box over the customer's name and e-mail, the invoice number and the gateway reference."""
    query = (query or "").strip()
    if not query:
        return queryset
    condition = (
        Q(invoice__customer__name__icontains=query)
        | Q(invoice__customer__email__icontains=query)
        | Q(gateway_reference=query)
    )
    number = invoice_number_from_query(query)
    if number is not None:
        condition |= Q(invoice__number=number)
    return queryset.filter(condition)


def payment_detail_queryset() -> QuerySet[Payment]:
    return Payment.objects.select_related("invoice")


# --- Cobranças > Execuções ----------------------------------------------------------------------------
def run_list_queryset() -> QuerySet[BillingRun]:
    """Billing runs, newest first, with who started the manual ones."""
    return BillingRun.objects.select_related("started_by").order_by("-started_at", "-pk")


# --- the subscription's page --------------------------------------------------------------------------
def subscription_transactions(subscription, *, limit: int = SUBSCRIPTION_TRANSACTIONS_LIMIT) -> dict:
    """The subscription's latest invoices (newest first) with their payments: two queries.

    Returns {"invoices": [...], "has_more": bool}; one extra row is read to know whether there are more.
    """
    invoices = list(
        Invoice.objects.filter(subscription_id=subscription.pk)
        .order_by("-created_at", "-pk")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("-created_at", "-pk")))[
            : limit + 1
        ]
    )
    return {
        "invoices": invoices[:limit],
        "has_more": len(invoices) > limit,
        "outstanding": subscription_outstanding(subscription),
    }


def subscription_outstanding(subscription) -> dict:
    """What the subscription still owes: open and uncollectible invoices (an installment given up on
    stays owed), as {"count", "amount", "uncollectible"}; one query."""
    row = Invoice.objects.filter(
        subscription_id=subscription.pk, status__in=[InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE]
    ).aggregate(
        count=Count("pk"),
        amount=Sum(F("total") - F("amount_paid")),
        uncollectible=Count("pk", filter=Q(status=InvoiceStatus.UNCOLLECTIBLE)),
    )
    return {
        "count": row["count"],
        "amount": row["amount"] or 0,
        "uncollectible": row["uncollectible"],
        "currency": subscription.currency,
    }
