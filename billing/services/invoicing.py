"""Invoices: numbering and the invoice for one period of a subscription."""

import threading
from contextlib import suppress

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F
from django.utils.translation import gettext as _

from billing.calculations import TaxInput
from billing.choices import MONEY_RECEIVED_STATUSES
from billing.models import Invoice, InvoiceLine, InvoiceSequence, Payment


def allocate_invoice_numbers(merchant, count: int = 1) -> range:
    """Reserves `count` consecutive invoice numbers for `merchant` (an instance or its id). The
    sequence row stays locked until the *calling* transaction commits (a savepoint does not release
    it), so concurrent writers of one merchant take turns from here to their commit."""
    merchant_id = getattr(merchant, "pk", merchant)
    with transaction.atomic():
        sequence, _created = InvoiceSequence.objects.select_for_update().get_or_create(
            merchant_id=merchant_id
        )
        first = sequence.last_number + 1
        InvoiceSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + count)
    return range(first, first + count)


# The numbering connection (see reserve_invoice_numbers) gives up waiting for the sequence row after
# this long (the batch then falls back to one subscription at a time): a wait the database cannot see
# as a deadlock must not hang. The server closes it once idle this long, so it never outlives the
# work (a test database can be dropped right after); the next batch opens it again.
NUMBERING_LOCK_TIMEOUT = "10s"
NUMBERING_IDLE_TIMEOUT = "2s"
_numbering = threading.local()


def reserve_invoice_numbers(merchant_id: int, count: int, *, own_transaction: bool) -> range:
    """`count` consecutive invoice numbers for a whole batch of invoices.

    With `own_transaction` (on PostgreSQL, when the caller is not nested in a transaction another
    connection could not see), they are taken in one statement committed at once on a separate
    connection (one per thread, kept between batches), so the merchant's sequence row is locked for
    that statement only and concurrent workers do not queue behind each other's commit. The price: if
    the caller's transaction then rolls back, those numbers are never used (a gap in the merchant's
    numbering). Otherwise this is `allocate_invoice_numbers`, inside the caller's transaction (SQLite
    has one writer at a time anyway).
    """
    if count <= 0:
        return range(0)
    if not own_transaction or connection.vendor != "postgresql":
        return allocate_invoice_numbers(merchant_id, count)
    table = InvoiceSequence._meta.db_table
    sql = (
        f"INSERT INTO {table} (merchant_id, last_number) VALUES (%s, %s) ON CONFLICT (merchant_id) "
        f"DO UPDATE SET last_number = {table}.last_number + EXCLUDED.last_number RETURNING last_number"
    )
    for retry in (False, True):
        numbering = _numbering_connection()
        try:
            with numbering.cursor() as cursor:
                cursor.execute(sql, [merchant_id, count])
                (last,) = cursor.fetchone()
            return range(last - count + 1, last + 1)
        except (OperationalError, InterfaceError):
            # Closed by the server while idle (or lost): open a new one, once. A statement that failed
            # after committing would only leave a gap.
            _numbering.connection = None
            with suppress(DatabaseError):
                numbering.close()
            if retry:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _numbering_connection():
    numbering = getattr(_numbering, "connection", None)
    if numbering is not None and numbering.settings_dict is connection.settings_dict:
        return numbering
    if numbering is not None:
        with suppress(DatabaseError):
            numbering.close()
    numbering = connections.create_connection(connection.alias)
    with numbering.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{NUMBERING_LOCK_TIMEOUT}'")
        if numbering.pg_version >= 140000:
            cursor.execute(f"SET idle_session_timeout = '{NUMBERING_IDLE_TIMEOUT}'")
    _numbering.connection = numbering
    return numbering


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
        "credit_applied": invoice.credit_applied,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "installment_number": invoice.installment_number,
    }


def subscription_taxes(subscription) -> list[TaxInput]:
    return taxes_of(subscription.tax_rates.all())


def taxes_of(tax_rates) -> list[TaxInput]:
    """The active ones of `tax_rates` (TaxRate rows) as calculation inputs."""
    return [
        TaxInput(tax_rate_id=rate.pk, name=rate.name, percentage=rate.percentage, inclusive=rate.inclusive)
        for rate in tax_rates
        if rate.is_active
    ]


def subscription_billing_history(subscription, *, delete: bool = False) -> dict:
    """A subscription's invoices and payments, for its delete (the one delete the product allows).

    Unpaid history (open or failed attempts) goes with the subscription and is listed first; once any
    payment succeeded, money moved and the delete is refused: cancel and refund instead.
    """
    invoices = Invoice.objects.filter(subscription=subscription)
    payments = Payment.objects.filter(invoice__subscription=subscription)
    moved = payments.filter(status__in=MONEY_RECEIVED_STATUSES).exists()
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


def invoice_lines_create(invoice: Invoice, totals) -> list[InvoiceLine]:
    """Stores the computed lines (billing.calculations.InvoiceTotals) of an invoice."""
    return InvoiceLine.objects.bulk_create(
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
