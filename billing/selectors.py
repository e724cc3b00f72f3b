"""Reads of invoices, payments and billing runs: the Cobranças screens, the PDF, the subscription page."""

import datetime as dt
import re

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.choices import (
    MONEY_RECEIVED_STATUSES,
    REFUNDABLE_PAYMENT_STATUSES,
    SETTLEMENT_CREDIT_REASONS,
    CreditReason,
    InvoiceKind,
    InvoiceStatus,
    PaymentStatus,
)
from billing.gateways import payment_codes
from billing.models import BillingRun, Chargeback, CreditEntry, Invoice, Payment, Refund
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription


def with_refund_row_facts(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Provides subscribers.refund_row_facts: annotates Assinantes' rows with `has_paid_payment`, whether a
    successful payment is left to refund (the refund rule's last part, read by `refund_row_refusal`), in
    the list's own query. Only canceled subscriptions may be refunded, so the payments are looked at for
    those rows only."""
    paid = Payment.objects.filter(
        invoice__subscription=OuterRef("pk"),
        status__in=REFUNDABLE_PAYMENT_STATUSES,
        # What a chargeback took back is not ours to refund either (billing.services.refunds).
        amount_refunded__lt=F("amount") - F("amount_charged_back"),
    )
    return queryset.annotate(
        has_paid_payment=Case(
            When(status=SubscriptionStatus.CANCELED, then=Exists(paid)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


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
    # What a proration invoice put on the customer's credit balance (a downgrade's net credit): only
    # proration invoices can, so only they pay the query.
    credited_to_balance = 0
    if invoice.kind == InvoiceKind.PRORATION:
        credited_to_balance = _total(
            CreditEntry.objects.filter(invoice=invoice, reason=CreditReason.PRORATION_CREDIT), "amount"
        )
    return {
        "lines": lines,
        "payments": payments,
        "refunds": refunds,
        "chargebacks": chargebacks,
        "credited_to_balance": credited_to_balance,
    }


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
        "open_charges": open_charges(invoices[:limit]),
    }


def open_charges(invoices) -> list[dict]:
    """For each open invoice among `invoices` (payments prefetched, no query): when dunning tries it again,
    and the boleto line or pix code of a payment still awaiting the customer."""
    charges = []
    for invoice in invoices:
        if invoice.status != InvoiceStatus.OPEN:
            continue
        awaiting = [
            {"payment": payment, **payment_codes(payment)}
            for payment in invoice.payments.all()
            if payment.status == PaymentStatus.PENDING
        ]
        awaiting = [item for item in awaiting if item["boleto_line"] or item["pix_code"]]
        if invoice.next_attempt_at or awaiting:
            charges.append({"invoice": invoice, "awaiting": awaiting})
    return charges


def subscription_outstanding(subscription) -> dict:
    """What the subscription still owes: open and uncollectible invoices (an installment given up on
    stays owed), as {"count", "amount", "uncollectible"}; one query."""
    row = Invoice.objects.filter(
        subscription_id=subscription.pk, status__in=[InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE]
    ).aggregate(
        count=Count("pk"),
        amount=Sum(F("total") - F("credit_applied") - F("amount_paid")),
        uncollectible=Count("pk", filter=Q(status=InvoiceStatus.UNCOLLECTIBLE)),
    )
    return {
        "count": row["count"],
        "amount": row["amount"] or 0,
        "uncollectible": row["uncollectible"],
        "currency": subscription.currency,
    }


# --- the customer's credit balance and money summary (docs/money.md) -----------------------------------
def credit_balance(*, customer, currency: str) -> int:
    """The customer's credit balance in `currency`: the sum of their ledger entries (> 0 is credit they
    can use). One indexed aggregate."""
    customer_id = getattr(customer, "pk", customer)
    return CreditEntry.objects.filter(customer_id=customer_id, currency=currency).aggregate(
        balance=Coalesce(Sum("amount"), 0)
    )["balance"]


def credit_balances(*, customer) -> dict[str, int]:
    """{currency: balance} for every currency the customer has entries in (zero balances included)."""
    rows = (
        CreditEntry.objects.filter(customer_id=customer.pk)
        .values("currency")
        .annotate(balance=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: row["balance"] for row in rows}


def credit_entries(*, customer, limit: int = 50) -> list[CreditEntry]:
    """The customer's latest ledger entries with their invoice and actor, newest first."""
    return list(
        CreditEntry.objects.filter(customer_id=customer.pk)
        .select_related("invoice", "actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def _total(queryset, expression) -> int:
    return queryset.aggregate(total=Coalesce(Sum(expression), 0))["total"]


def customer_money_summary(*, customer, currency: str) -> dict:
    """Where a customer's money stands in one currency; the invariant `paid − refunded == settled +
    balance` holds for every customer and currency (docs/money.md):

    - paid: Σ `amount` of the customer's payments that succeeded (status succeeded or refunded);
    - refunded: Σ over those payments of `amount_refunded + amount_charged_back` — every refund (of an
      invoice or of credit balance) and every chargeback;
    - balance: Σ of the customer's CreditEntry amounts (`credit_balance`);
    - settled: what the customer's invoices settled, minus the credit granted to them:
        Σ paid invoices' `total` + Σ open/uncollectible invoices' `credit_applied` (credit already
        consumed by an invoice still unpaid; a voided invoice gives it back and settles nothing)
        − Σ invoices' `amount_refunded` (refunds of invoice payments; a balance refund is not one)
        − Σ `amount_charged_back` of their payments
        − Σ CreditEntry amounts whose reason is a proration credit (a downgrade or cancellation's
          unused time, whose proration invoice has total 0) or a manual adjustment (value the merchant
          granted, not money that moved).
    """
    payments = Payment.objects.filter(
        invoice__customer_id=customer.pk,
        currency=currency,
        status__in=MONEY_RECEIVED_STATUSES,
    )
    invoices = Invoice.objects.filter(customer_id=customer.pk, currency=currency)
    entries = CreditEntry.objects.filter(customer_id=customer.pk, currency=currency)
    paid = _total(payments, "amount")
    refunded = _total(payments, "amount_refunded") + _total(payments, "amount_charged_back")
    balance = _total(entries, "amount")
    settled = (
        _total(invoices.filter(status=InvoiceStatus.PAID), "total")
        + _total(
            invoices.filter(status__in=[InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE]), "credit_applied"
        )
        - _total(invoices, "amount_refunded")
        - _total(payments, "amount_charged_back")
        - _total(entries.filter(reason__in=SETTLEMENT_CREDIT_REASONS), "amount")
    )
    return {"currency": currency, "paid": paid, "refunded": refunded, "balance": balance, "settled": settled}


def installment_invoices(subscription_id: int) -> QuerySet[Invoice]:
    """The recurring invoices of the installment plan running now: those carrying an installment number
    since the last recurring invoice that did not. A subscription changed to an installment plan (a plan
    change, a schedule's phase) counts its installments from the change: the periods of the plan before
    are not installments of this one (docs/schedules.md)."""
    recurring = Invoice.objects.filter(subscription_id=subscription_id, kind=InvoiceKind.RECURRING)
    last_plain = (
        recurring.filter(installment_number__isnull=True)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    run = recurring.filter(installment_number__isnull=False)
    return run if last_plain is None else run.filter(period_start__gt=last_plain)


def provider_event_queryset():
    """Eventos recebidos: newest first (the view scopes it to the merchant)."""
    from billing.models import ProviderEvent

    return ProviderEvent.objects.order_by("-received_at", "-pk")


def provider_events_failed(merchant):
    """The merchant's inbound events that failed (the banner and "Reprocessar com falha")."""
    from billing.choices import ProviderEventStatus
    from billing.models import ProviderEvent

    return ProviderEvent.objects.filter(merchant=merchant, status=ProviderEventStatus.FAILED)
