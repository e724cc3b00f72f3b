"""The billing run's fast path: the plain renewals of a chunk, in bulk, in one transaction.

A plain renewal is the common case: an active subscription paid by card (the sandbox gateway) with
exactly one period due, no pending plan or quantity change, no installments, no open invoice, no
lapsed boleto/pix payment and no customer credit balance. For those, `renew_plain` does what
`process_subscription` does, with a fixed number of statements per chunk instead of ~30 per subscription:

1. one `SELECT … FOR UPDATE OF subscription SKIP LOCKED` of the chunk, with the due conditions and the
   "plain" filter in its WHERE (a row another worker holds is skipped, as in the per-subscription path);
2. the invoices computed in Python by `billing.calculations` (discount, coupon, tax rates prefetched);
3. the chunk's invoice numbers reserved in one statement (`reserve_invoice_numbers`: on PostgreSQL in
   its own short transaction, so the sequence row is not locked until this chunk commits: if the chunk
   then fails, those numbers stay unused, a gap) and the invoice/payment ids drawn from their sequences;
4. every charge through `charge_many` under the same idempotency keys (`inv_<invoice>_att_1`);
5. invoices, lines and payments inserted in their final state, the subscriptions' periods updated in one
   statement, the outbox events (same types and payloads as the per-subscription path) in one insert;
6. a charge that did not succeed (declined card, gateway off) gets its effects — dunning dates, past_due,
   timeline entry and events — from the very code the per-subscription path runs (`_apply_result`).

Whatever this does not take (and the whole chunk, if anything here raises) goes through
`process_subscription` afterwards: see `billing_run.process_chunk`. The unique constraints (one invoice
per subscription and period, one successful payment per invoice, unique idempotency keys) stay the last
line of defence: a violation rolls the whole batch back.
"""

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant
from billing.calculations import LineInput, TaxInput, compute_invoice, discount_for_period
from billing.choices import Gateway, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.gateways import ChargeRequest, get_gateway
from billing.models import CreditEntry, Invoice, InvoiceLine, Payment
from billing.services.charging import _apply_result, lock_subscription, payment_payload
from billing.services.invoicing import invoice_payload, reserve_invoice_numbers
from core.bulk import in_values, insert_rows, reserve_pks
from core.outbox import emit_many
from plans.models import Coupon
from plans.periods import add_interval, period_containing
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription

# What the locking SELECT reads (Subscription field paths), in the order _Renewal takes them.
FIELDS = (
    "pk",
    "merchant_id",
    "customer_id",
    "customer__email",
    "merchant__timezone",
    "plan__name",
    "plan__price",
    "plan__interval_unit",
    "plan__interval_count",
    "quantity",
    "currency",
    "payment_token",
    "next_invoice_at",
    "billing_cycle_anchor",
    "coupon_id",
    "coupon_applied_at",
    "discount_type",
    "discount_percent",
    "discount_amount",
    "discount_periods",
)


class _Renewal:
    """One plain renewal: the subscription's columns (read like a Subscription by discount_for_period)
    and what the batch computes for it."""

    __slots__ = (*(name for name in FIELDS if name != "pk"), "pk", "coupon", "tz", "end", "totals", "billed")

    def __init__(self, row):
        for name, value in zip(FIELDS, row, strict=True):
            setattr(self, name, value)
        self.coupon = None
        self.billed = 0


class _Row:
    """The field values of a row to insert (its `__dict__`, which insert_rows takes), readable like a model
    instance by the payload helpers (invoice_payload, payment_payload)."""

    def __init__(self, **values):
        self.__dict__ = values

    @property
    def pk(self):
        return self.id


# Stored values, looked up once (an enum member's .value costs a descriptor call per access).
RECURRING = InvoiceKind.RECURRING.value
OPEN, PAID = InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value
PENDING, SUCCEEDED, FAILED = (
    PaymentStatus.PENDING.value,
    PaymentStatus.SUCCEEDED.value,
    PaymentStatus.FAILED.value,
)
CARD, SANDBOX = PaymentMethod.CARD.value, Gateway.SANDBOX.value


def period_end(start, *, anchor, unit: str, count: int, tz):
    """End of the period starting at `start`, counted from the anchor so the day of month comes back after
    a short month (31/01 → 28/02 → 31/03); the same rule as the per-subscription renewal."""
    anchor = anchor.astimezone(tz)
    if anchor <= start:
        return period_containing(anchor, unit, count, start.astimezone(tz), tz=tz)[1]
    return add_interval(start.astimezone(tz), unit, count)


def plain_renewals_due(subscription_ids, now):
    """The chunk's subscriptions whose only due work is one plain renewal, locked (others' rows skipped)."""
    S = SubscriptionStatus
    open_invoices = Invoice.objects.filter(subscription=OuterRef("pk"), status=InvoiceStatus.OPEN)
    lapsed_payments = Payment.objects.filter(
        invoice__subscription=OuterRef("pk"), status=PaymentStatus.PENDING, expires_at__lte=now
    )
    # A customer with a credit balance in the subscription's currency renews through the per-subscription
    # path, which consumes the balance first (billing.services.credit): this path never sees credit.
    credit = (
        CreditEntry.objects.filter(customer_id=OuterRef("customer_id"), currency=OuterRef("currency"))
        .order_by()
        .values("customer_id")
        .annotate(balance=Sum("amount"))
        .values("balance")
    )
    return (
        Subscription.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            pk__in=in_values(subscription_ids),
            status=S.ACTIVE,
            payment_method=PaymentMethod.CARD,
            next_invoice_at__lte=now,
            pending_plan__isnull=True,
            pending_quantity__isnull=True,
        )
        .filter(Q(cancel_at__isnull=True) | Q(cancel_at__gt=F("next_invoice_at")))
        .filter(Q(plan__installments__isnull=True) | Q(plan__installments=0))
        .exclude(Exists(open_invoices))
        .exclude(Exists(lapsed_payments))
        .alias(credit_balance=Subquery(credit))
        .filter(Q(credit_balance__isnull=True) | Q(credit_balance=0))
        .order_by("pk")
        .values_list(*FIELDS)
    )


def renew_plain(*, subscription_ids, now) -> dict[int, str]:
    """Renews the plain subscriptions among `subscription_ids` in one transaction; returns their outcomes
    (subscription id → "succeeded" or "failed", as process_subscription would have returned). The ids
    not in the answer were not touched. Raises (with everything rolled back) when anything goes wrong."""
    # Numbers may be reserved on a separate connection only when this transaction is ours: inside a
    # caller's (e.g. a test's) transaction that connection could not see the caller's rows.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        renewals = _lock_and_compute(subscription_ids, now)
        if not renewals:
            return {}
        charged = [r for r in renewals if r.totals.total > 0]
        invoice_ids = reserve_pks(Invoice, len(renewals))
        payment_ids = reserve_pks(Payment, len(charged))
        if invoice_ids is None or payment_ids is None:
            return {}  # a backend without explicit-id inserts: everything goes one at a time
        numbers = {}
        for merchant_id in dict.fromkeys(r.merchant_id for r in renewals):
            count = sum(1 for r in renewals if r.merchant_id == merchant_id)
            numbers[merchant_id] = iter(
                reserve_invoice_numbers(merchant_id, count, own_transaction=own_transaction)
            )

        invoices = {}
        for renewal, invoice_id in zip(renewals, invoice_ids, strict=True):
            invoices[renewal.pk] = _invoice_row(renewal, invoice_id, next(numbers[renewal.merchant_id]), now)
        payments = {
            r.pk: _payment_row(invoices[r.pk], pk) for r, pk in zip(charged, payment_ids, strict=True)
        }
        description = _("Fatura nº %(number)s")
        requests = [
            ChargeRequest(
                merchant_id=r.merchant_id,
                idempotency_key=payments[r.pk].idempotency_key,
                amount=payments[r.pk].amount,
                currency=payments[r.pk].currency,
                method=PaymentMethod.CARD,
                description=description % {"number": invoices[r.pk].number},
                customer_email=r.customer__email,
                payment_token=r.payment_token,
            )
            for r in charged
        ]
        answers = get_gateway(Gateway.SANDBOX).charge_many(requests)
        results = dict(zip((r.pk for r in charged), answers, strict=True))

        outcomes, events, lines, unsettled = {}, [], [], []
        for renewal in renewals:
            invoice = invoices[renewal.pk]
            lines += [_line_row(line, invoice.id) for line in renewal.totals.lines]
            events.append((renewal.merchant_id, "invoice.created", invoice_payload(invoice)))
            outcomes[renewal.pk] = "succeeded"
            if invoice.total == 0:
                # Nothing to charge: paid at once, like the per-subscription path (no payment, no event).
                invoice.status, invoice.paid_at = PAID, now
                continue
            payment, result = payments[renewal.pk], results[renewal.pk]
            invoice.attempt_count = 1
            if result.status != SUCCEEDED:
                unsettled.append((renewal, result))  # inserted as the attempt left them; effects below
                continue
            payment.gateway_reference = result.reference or payment.gateway_reference
            payment.status, payment.settled_at = SUCCEEDED, now
            invoice.status, invoice.amount_paid, invoice.paid_at = PAID, invoice.total, now
            events.append((renewal.merchant_id, "payment.succeeded", payment_payload(payment)))
            events.append((renewal.merchant_id, "invoice.paid", invoice_payload(invoice)))

        insert_rows(Invoice, [vars(invoice) for invoice in invoices.values()])
        insert_rows(InvoiceLine, lines)
        insert_rows(Payment, [vars(payment) for payment in payments.values()])
        # Bulk inserts send no signals: the renewal's payment, the subscription's newest, gives its last
        # payment status in the same UPDATE (a second UPDATE would rewrite every index of the row again).
        _advance_periods(renewals, {pk: payment.status for pk, payment in payments.items()})
        emit_many(events)
        for renewal, result in unsettled:
            outcomes[renewal.pk] = _settle_one(
                renewal, invoices[renewal.pk], payments[renewal.pk], result, now
            )
    return outcomes


def _lock_and_compute(subscription_ids, now) -> list[_Renewal]:
    renewals = []
    zones = {}
    for row in plain_renewals_due(subscription_ids, now):
        renewal = _Renewal(row)
        name = renewal.merchant__timezone
        if name not in zones:
            zones[name] = Merchant(timezone=name).tzinfo
        renewal.tz = zones[name]
        renewal.end = period_end(
            renewal.next_invoice_at,
            anchor=renewal.billing_cycle_anchor,
            unit=renewal.plan__interval_unit,
            count=renewal.plan__interval_count,
            tz=renewal.tz,
        )
        # More than one period behind (a backdated contract catching up): the per-subscription path
        # invoices them one after the other.
        if renewal.end > now:
            renewals.append(renewal)
    if not renewals:
        return []

    taxes = _active_tax_rates([r.pk for r in renewals])
    coupons = Coupon.objects.in_bulk({r.coupon_id for r in renewals if r.coupon_id})
    with_discount = [r.pk for r in renewals if r.coupon_id or r.discount_type]
    billed = dict(
        Invoice.objects.filter(subscription_id__in=with_discount, kind=InvoiceKind.RECURRING)
        .order_by()
        .values("subscription_id")
        .annotate(count=Count("pk"))
        .values_list("subscription_id", "count")
        if with_discount
        else ()
    )
    for renewal in renewals:
        renewal.coupon = coupons.get(renewal.coupon_id)
        renewal.billed = billed.get(renewal.pk, 0)
        renewal.totals = compute_invoice(
            lines=[
                LineInput(
                    description=renewal.plan__name,
                    quantity=renewal.quantity,
                    unit_amount=renewal.plan__price,
                    period_start=renewal.next_invoice_at,
                    period_end=renewal.end,
                )
            ],
            discount=discount_for_period(
                subscription=renewal,
                period_start=renewal.next_invoice_at,
                periods_billed=renewal.billed,
                tz=renewal.tz,
            ),
            taxes=taxes.get(renewal.pk, []),
        )
    return renewals


def _active_tax_rates(subscription_ids) -> dict[int, list[TaxInput]]:
    """subscription id → its active tax rates, in the order `subscription.tax_rates.all()` gives them."""
    through = Subscription.tax_rates.through
    rows = (
        through.objects.filter(subscription_id__in=in_values(subscription_ids), taxrate__is_active=True)
        .order_by("taxrate__name", "taxrate__pk")
        .values_list(
            "subscription_id", "taxrate_id", "taxrate__name", "taxrate__percentage", "taxrate__inclusive"
        )
    )
    taxes: dict[int, list[TaxInput]] = {}
    for subscription_id, rate_id, name, percentage, inclusive in rows:
        taxes.setdefault(subscription_id, []).append(
            TaxInput(tax_rate_id=rate_id, name=name, percentage=percentage, inclusive=inclusive)
        )
    return taxes


def _invoice_row(renewal: _Renewal, invoice_id: int, number: int, now) -> _Row:
    """The invoice as invoice_create_for_period saves it (open, not attempted yet)."""
    totals, start = renewal.totals, renewal.next_invoice_at
    return _Row(
        id=invoice_id,
        merchant_id=renewal.merchant_id,
        subscription_id=renewal.pk,
        customer_id=renewal.customer_id,
        number=number,
        kind=RECURRING,
        status=OPEN,
        period_start=start,
        period_end=renewal.end,
        installment_number=None,
        currency=renewal.currency,
        subtotal=totals.subtotal,
        discount=totals.discount,
        tax=totals.tax,
        total=totals.total,
        amount_paid=0,
        amount_refunded=0,
        credit_applied=0,  # customers with a credit balance never reach the batch (plain_renewals_due)
        due_at=max(start, now),
        attempt_count=0,
        next_attempt_at=None,
        paid_at=None,
    )


def _line_row(line, invoice_id: int) -> dict:
    return {
        "invoice_id": invoice_id,
        "description": line.description,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "amount": line.amount,
        "discount_amount": line.discount_amount,
        "tax_amount": line.tax_amount,
        "proration": line.proration,
        "tax_details": line.tax_details,
    }


def _payment_row(invoice: _Row, payment_id: int) -> _Row:
    """The first attempt's payment as `_attempt` creates it (pending, before the gateway answers)."""
    return _Row(
        id=payment_id,
        merchant_id=invoice.merchant_id,
        invoice_id=invoice.id,
        attempt=1,
        amount=invoice.total - invoice.amount_paid,
        currency=invoice.currency,
        method=CARD,
        gateway=SANDBOX,
        gateway_reference="",
        status=PENDING,
        failure_code="",
        failure_message="",
        idempotency_key=f"inv_{invoice.id}_att_1",
        amount_refunded=0,
        amount_charged_back=0,
        expires_at=None,
        settled_at=None,
        recorded_by_id=None,
    )


def _advance_periods(renewals: list[_Renewal], last_payment_status: dict[int, str]) -> None:
    """current_period_start/end, next_invoice_at and last_payment_status (unchanged for a renewal that
    charged nothing) of every renewed subscription, in one statement."""
    updated_at = timezone.now()
    if connection.vendor == "postgresql":
        import psycopg  # only here: the embedded SQLite install does not need it

        # Binary array parameters (server-side binding): quoting 1,000 timestamps as text costs more than
        # the UPDATE. A plain psycopg cursor on Django's connection, inside this transaction.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"UPDATE {Subscription._meta.db_table} AS s SET current_period_start = u.period_start, "
                "current_period_end = u.period_end, next_invoice_at = u.period_end, updated_at = %b, "
                "last_payment_status = COALESCE(u.payment_status, s.last_payment_status) "
                "FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[], %b::text[]) "
                "AS u(id, period_start, period_end, payment_status) "
                "WHERE s.id = u.id",
                [
                    updated_at,
                    [r.pk for r in renewals],
                    [r.next_invoice_at for r in renewals],
                    [r.end for r in renewals],
                    [last_payment_status.get(r.pk) for r in renewals],  # None: nothing charged
                ],
            )
        return
    for r in renewals:
        Subscription.objects.filter(pk=r.pk).update(
            current_period_start=r.next_invoice_at,
            current_period_end=r.end,
            next_invoice_at=r.end,
            updated_at=updated_at,
            **({"last_payment_status": last_payment_status[r.pk]} if r.pk in last_payment_status else {}),
        )


def _settle_one(renewal: _Renewal, invoice_row: _Row, payment_row: _Row, result, now) -> str:
    """A charge that did not succeed: its effects come from the per-subscription path's own code."""
    subscription = lock_subscription(renewal.pk)  # already locked by this transaction
    # As the renewal left it in memory (the period end in the merchant's zone, as events show it).
    subscription.current_period_start = renewal.next_invoice_at
    subscription.current_period_end = renewal.end
    subscription.next_invoice_at = renewal.end
    invoice, payment = Invoice(**vars(invoice_row)), Payment(**vars(payment_row))
    invoice._state.adding = payment._state.adding = False
    _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
    return "failed" if payment.status == FAILED else "succeeded"
