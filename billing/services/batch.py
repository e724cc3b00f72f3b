"""The renewal engine's bulk writer: a chunk's renewals in one transaction, with a fixed number of
statements per chunk instead of ~30 per subscription.

It takes every renewal of an active subscription with one period due and nothing else to do first (no
pending plan or quantity change, no open invoice, no lapsed boleto/pix, no customer credit balance: the
per-subscription path consumes the balance first) paid through the sandbox: card,
boleto or pix, with coupons, manual discounts, taxes and installments. Each is drafted by the same pure
function as the per-subscription path (`billing.services.renewal.draft_renewal`), and:

1. one `SELECT … FOR UPDATE OF subscription SKIP LOCKED` of the chunk, with those conditions in its
   WHERE (a row another worker holds is skipped, as in the per-subscription path), then the tax rates,
   coupons, invoice counts and billing settings of the chunk in one query each;
2. the chunk's invoice numbers reserved in one statement (`reserve_invoice_numbers`: on PostgreSQL in
   its own short transaction, so the sequence row is not locked until this chunk commits: if the chunk
   then fails, those numbers stay unused, a gap) and the invoice/payment ids drawn from their sequences;
3. every charge through the gateway's `charge_many` under the drafted idempotency keys — except those of
   a remote gateway (Stripe, our engine): their payments are inserted *awaiting* (pending, no reference)
   and sent once this transaction has committed (billing.services.remote_charging, phases 2 and 3);
4. the gateway's answers applied by the rules of `billing.services.charging`, set-based: a success pays
   the invoice; a boleto/pix is left pending until its expiry (`payment.pending`); a decline with retries
   left schedules the retry and moves the subscription to past due (timeline entry and event);
5. invoices, lines, payments and timeline entries inserted in their final state (COPY), the
   subscriptions' periods, status and last payment status updated in one statement, the outbox events
   (same types and payloads, in the same order per subscription, as the per-subscription path) in one
   insert;
6. the rare answers whose effects reach further — the last installment (the plan ends once everything
   is paid), a decline with no retry left (dunning's final action) — get them from the very code the
   per-subscription path runs (`_apply_result`), after the inserts.

Whatever this does not take (and the whole chunk, if anything here raises) goes through
`process_subscription` afterwards: see `billing_run.process_chunk`. The unique constraints (one invoice
per subscription and period, one successful payment per invoice, unique idempotency keys) stay the last
line of defence: a violation rolls the whole batch back.
"""

from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant
from billing.calculations import TaxInput
from billing.choices import (
    INVOICE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    Gateway,
    InvoiceKind,
    InvoiceStatus,
    PaymentStatus,
)
from billing.gateways import REMOTE_GATEWAYS, ChargeRequest, get_gateway
from billing.locks import lock_subscription, subscriptions_for_update
from billing.models import BillingSettings, CreditEntry, Invoice, InvoiceLine, Payment, ProviderConnection
from billing.selectors import installment_invoices
from billing.services.charging import _apply_result, decline_reason, payment_payload
from billing.services.dunning import next_retry_at
from billing.services.invoicing import invoice_payload, reserve_invoice_numbers
from billing.services.renewal import RenewalDraft, draft_renewal
from billing.services.schedules import enter_due_phases
from billing.services.states import bulk_transition
from core.bulk import in_values, insert_rows, reserve_pks
from core.events import EventType
from core.outbox import emit_many
from plans.models import Coupon
from subscribers.choices import (
    LIVE_SCHEDULE_STATUSES,
    TRANSITIONS,
    EventKind,
    PaymentMethod,
    SubscriptionStatus,
)
from subscribers.models import (
    Subscription,
    SubscriptionEvent,
    SubscriptionSchedule,
    plan_price_at,
    price_terms,
)
from subscribers.services import subscription_payload
from subscribers.services.billing import BILLING_EVENT_TYPES
from subscribers.timeline import platform_reason_text

# What the locking SELECT reads (Subscription field paths), in the order _Renewal takes them.
FIELDS = (
    "pk",
    "merchant_id",
    "customer_id",
    "customer__email",
    "customer__name",
    "merchant__timezone",
    "status",
    "plan_id",
    "plan__name",
    "plan__price",
    "plan_price__plan_id",
    "plan_price__amount",
    "next_plan_price__amount",
    "next_plan_price_from",
    "plan__interval_unit",
    "plan__interval_count",
    "plan__installments",
    "quantity",
    "amount",
    "currency",
    "payment_method",
    "payment_token",
    "next_invoice_at",
    "billing_cycle_anchor",
    "cancel_at",
    "cancel_origin",
    "cancel_reason",
    "cancel_reason_code",
    "cancel_reason_params",
    "access_until",
    "coupon_id",
    "coupon_applied_at",
    "discount_type",
    "discount_percent",
    "discount_amount",
    "discount_periods",
    "custom_price",
    "provider",
)
# The methods the sandbox collects (a "manual" subscription is paid by staff, one at a time).
BATCHED_METHODS = (PaymentMethod.CARD, PaymentMethod.BOLETO, PaymentMethod.PIX)


class _Renewal:
    """One subscription's columns, readable like a Subscription by draft_renewal, discount_for_period and
    subscription_payload, and the draft made of them."""

    __slots__ = (
        *(name for name in FIELDS if name != "pk"),
        "pk",
        "coupon",
        "plan",
        "customer",
        "tz",
        "draft",
        "current_period_end",
    )

    def __init__(self, row):
        for name, value in zip(FIELDS, row, strict=True):
            setattr(self, name, value)
        self.coupon = None
        self.customer = SimpleNamespace(email=self.customer__email, name=self.customer__name)


class _Row:
    """The field values of a row to insert (its `__dict__`, which insert_rows takes), readable like a model
    instance by the payload helpers (invoice_payload, payment_payload)."""

    def __init__(self, **values):
        self.__dict__ = values

    @property
    def pk(self):
        return self.id


# Stored values, looked up once (an enum member's .value costs a descriptor call per access).
# The statuses the set-based path writes are the transition tables' edges (billing.services.states):
# invoices are inserted open or paid (open → paid); payments pending, succeeded (pending → succeeded) or
# failed (pending → failed).
PAID = bulk_transition(INVOICE_TRANSITIONS, InvoiceStatus.OPEN, InvoiceStatus.PAID)
PENDING = PaymentStatus.PENDING.value
SUCCEEDED = bulk_transition(PAYMENT_TRANSITIONS, PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)
FAILED = bulk_transition(PAYMENT_TRANSITIONS, PaymentStatus.PENDING, PaymentStatus.FAILED)
ACTIVE, PAST_DUE = SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAST_DUE.value
# A first decline moves an active subscription to past due (billing.services.charging._failed).
assert PAST_DUE in TRANSITIONS[ACTIVE]


def renewals_batchable(subscription_ids, now):
    """The chunk's subscriptions whose only due work is one renewal the batch takes, locked (others' rows
    skipped)."""
    open_invoices = Invoice.objects.filter(subscription=OuterRef("pk"), status=InvoiceStatus.OPEN)
    lapsed_payments = Payment.objects.filter(
        invoice__subscription=OuterRef("pk"), status=PaymentStatus.PENDING, expires_at__lte=now
    )
    mid_period_phases = SubscriptionSchedule.objects.filter(
        subscription=OuterRef("pk"),
        status__in=sorted(LIVE_SCHEDULE_STATUSES),
        next_phase_at__lt=OuterRef("next_invoice_at"),
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
        subscriptions_for_update(skip_locked=True)
        .filter(
            pk__in=in_values(subscription_ids),
            status=ACTIVE,
            payment_method__in=BATCHED_METHODS,
            next_invoice_at__lte=now,
            pending_plan__isnull=True,
            pending_quantity__isnull=True,
            # A first invoice that also charges backdated time is drafted by the per-subscription path.
            backdate_charge_from__isnull=True,
        )
        # So is the first renewal after a price-change notice: it applies the new version (once).
        .filter(Q(next_plan_price_from__isnull=True) | Q(next_plan_price_from__gt=F("next_invoice_at")))
        .filter(Q(cancel_at__isnull=True) | Q(cancel_at__gt=F("next_invoice_at")))
        # A pause starting by this billing date: the due task pauses it, nothing is renewed.
        .filter(Q(pause_at__isnull=True) | Q(pause_at__gt=F("next_invoice_at")))
        # Stripe in mirror mode bills these itself.
        .exclude(ProviderConnection.billed_by_provider())
        .exclude(Exists(open_invoices))
        .exclude(Exists(lapsed_payments))
        # A schedule's phase starting before this billing date is billed (prorated) by the row writer.
        .exclude(Exists(mid_period_phases))
        .alias(credit_balance=Subquery(credit))
        .filter(Q(credit_balance__isnull=True) | Q(credit_balance=0))
        .order_by("pk")
        .values_list(*FIELDS)
    )


def renew_many(*, subscription_ids, now) -> dict[int, str]:
    """Renews the subscriptions among `subscription_ids` that the batch takes, in one transaction; returns
    their outcomes (subscription id → "succeeded" or "failed", as process_subscription would have
    returned). The ids not in the answer were not touched. Raises (with everything rolled back) when
    anything goes wrong."""
    # Numbers may be reserved on a separate connection only when this transaction is ours: inside a
    # caller's (e.g. a test's) transaction that connection could not see the caller's rows.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        renewals = _lock_and_draft(subscription_ids, now)
        if not renewals:
            return {}
        charged = [r for r in renewals if r.draft.charge is not None]
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

        invoices = {
            r.pk: _Row(id=pk, number=next(numbers[r.merchant_id]), **r.draft.invoice_fields())
            for r, pk in zip(renewals, invoice_ids, strict=True)
        }
        payments = {
            r.pk: _payment_row(r.draft, invoices[r.pk], pk)
            for r, pk in zip(charged, payment_ids, strict=True)
        }
        # A remote gateway's charges are not sent here (phase 1 of billing.services.remote_charging):
        # their payments are inserted awaiting and sent once this transaction has committed.
        awaiting = {r.pk for r in charged if r.draft.charge.gateway in REMOTE_GATEWAYS}
        charged = [r for r in charged if r.pk not in awaiting]
        description = _("Fatura nº %(number)s")
        requests = [
            ChargeRequest(
                merchant_id=r.merchant_id,
                idempotency_key=payments[r.pk].idempotency_key,
                amount=payments[r.pk].amount,
                currency=payments[r.pk].currency,
                method=payments[r.pk].method,
                description=description % {"number": invoices[r.pk].number},
                customer_email=r.customer__email,
                payment_token=r.payment_token,
            )
            for r in charged
        ]
        answers = get_gateway(Gateway.SANDBOX).charge_many(requests) if requests else []
        results = dict(zip((r.pk for r in charged), answers, strict=True))
        policies = _billing_settings({r.merchant_id for r in charged})

        outcomes, events, lines, timeline, statuses, unsettled = {}, [], [], [], {}, []
        for renewal in renewals:
            invoice = invoices[renewal.pk]
            lines += [_line_row(line, invoice.id) for line in renewal.draft.totals.lines]
            events.append((renewal.merchant_id, EventType.INVOICE_CREATED, invoice_payload(invoice)))
            outcomes[renewal.pk] = "succeeded"
            if renewal.draft.charge is None:
                # Nothing to charge: paid at once, like the per-subscription path (no payment).
                invoice.status, invoice.paid_at = PAID, now
                events.append((renewal.merchant_id, EventType.INVOICE_PAID, invoice_payload(invoice)))
                continue
            if renewal.pk in awaiting:
                # Inserted as `_attempt` creates it before asking the gateway: pending, first attempt.
                invoice.attempt_count = 1
                outcomes[renewal.pk] = "awaiting"
                continue
            payment, result = payments[renewal.pk], results[renewal.pk]
            payment.gateway_reference = result.reference or payment.gateway_reference
            invoice.attempt_count = 1
            policy = policies[renewal.merchant_id]
            if result.status == SUCCEEDED and not renewal.draft.last_installment:
                payment.status, payment.settled_at = SUCCEEDED, now
                invoice.status, invoice.amount_paid, invoice.paid_at = PAID, invoice.total, now
                events.append((renewal.merchant_id, EventType.PAYMENT_SUCCEEDED, payment_payload(payment)))
                events.append((renewal.merchant_id, EventType.INVOICE_PAID, invoice_payload(invoice)))
            elif result.status == PENDING:
                # A boleto/pix issued: it waits for its payment (or its expiry) on an active subscription.
                payment.status, payment.expires_at = PENDING, result.expires_at
                events.append((renewal.merchant_id, EventType.PAYMENT_PENDING, payment_payload(payment)))
            elif result.status == FAILED and (
                retry_at := next_retry_at(policy=policy, attempt_count=invoice.attempt_count, failed_at=now)
            ):
                # A decline with retries left: the retry is scheduled and the subscription is past due.
                payment.status = FAILED
                payment.failure_code = result.failure_code or "failed"
                payment.failure_message = result.failure_message[:255]
                invoice.next_attempt_at = retry_at
                events.append((renewal.merchant_id, EventType.PAYMENT_FAILED, payment_payload(payment)))
                events.append(
                    (renewal.merchant_id, EventType.INVOICE_PAYMENT_FAILED, invoice_payload(invoice))
                )
                reason = decline_reason(invoice, payment)
                statuses[renewal.pk] = PAST_DUE
                timeline.append(_timeline_row(renewal, ACTIVE, PAST_DUE, reason, now))
                renewal.status = PAST_DUE
                renewal.current_period_end = renewal.draft.period_end
                events.append(
                    (
                        renewal.merchant_id,
                        BILLING_EVENT_TYPES[PAST_DUE],
                        {
                            **subscription_payload(renewal),
                            "reason": platform_reason_text(reason["reason_code"], reason["reason_params"]),
                        },
                    )
                )
            else:
                unsettled.append((renewal, result))  # inserted as the attempt left them; effects below

        insert_rows(Invoice, [vars(invoice) for invoice in invoices.values()])
        insert_rows(InvoiceLine, lines)
        insert_rows(Payment, [vars(payment) for payment in payments.values()])
        insert_rows(SubscriptionEvent, timeline)
        # Bulk inserts send no signals: the renewal's payment, the subscription's newest, gives its last
        # payment status in the same UPDATE (a second UPDATE would rewrite every index of the row again).
        _advance_periods(renewals, {pk: payment.status for pk, payment in payments.items()}, statuses)
        emit_many(events)
        for renewal, result in unsettled:
            outcomes[renewal.pk] = _settle_one(
                renewal, invoices[renewal.pk], payments[renewal.pk], result, now
            )
        for pk in statuses:
            outcomes[pk] = "failed"
    return outcomes


def _enter_phases(subscription_ids, now) -> list:
    """The chunk's rows, after entering the schedule phases that start on the billing date being renewed:
    the same step as the row writer (billing.services.schedules), for these few subscriptions one at a
    time, then their rows read again (a phase may have ended the subscription or moved its billing date)."""
    rows = list(renewals_batchable(subscription_ids, now))
    starting = set(
        SubscriptionSchedule.objects.filter(
            subscription_id__in=in_values([row[0] for row in rows]),
            status__in=sorted(LIVE_SCHEDULE_STATUSES),
            next_phase_at__lte=now,
        ).values_list("subscription_id", flat=True)
    )
    if not starting:
        return rows
    for subscription in Subscription.objects.filter(pk__in=sorted(starting)).select_related(
        "merchant", "plan", "customer"
    ):
        enter_due_phases(subscription, now=now)
    again = {row[0]: row for row in renewals_batchable(sorted(starting), now)}
    return [
        again.get(row[0]) if row[0] in starting else row
        for row in rows
        if row[0] not in starting or row[0] in again
    ]


def _lock_and_draft(subscription_ids, now) -> list[_Renewal]:
    candidates = []
    zones, plans = {}, {}
    for row in _enter_phases(subscription_ids, now):
        renewal = _Renewal(row)
        name = renewal.merchant__timezone
        if name not in zones:
            zones[name] = Merchant(timezone=name).tzinfo
        renewal.tz = zones[name]
        if renewal.custom_price:
            # A schedule phase's one-off price, read like a plan (subscribers.models.price_terms).
            renewal.plan = price_terms(None, renewal.custom_price)
            candidates.append(renewal)
            continue
        # The subscription's price version for this period (subscribers.models.plan_price_at, as the
        # per-subscription path reads it through Subscription.price_terms).
        price = plan_price_at(
            plan_price=renewal.plan__price,
            contracted=renewal.plan_price__amount if renewal.plan_price__plan_id == renewal.plan_id else None,
            scheduled=renewal.next_plan_price__amount,
            scheduled_from=renewal.next_plan_price_from,
            period_start=renewal.next_invoice_at,
        )
        if (renewal.plan_id, price) not in plans:
            plans[renewal.plan_id, price] = SimpleNamespace(
                name=renewal.plan__name,
                price=price,
                interval_unit=renewal.plan__interval_unit,
                interval_count=renewal.plan__interval_count,
                installments=renewal.plan__installments,
            )
        renewal.plan = plans[renewal.plan_id, price]
        candidates.append(renewal)
    if not candidates:
        return []

    taxes = _active_tax_rates([r.pk for r in candidates])
    coupons = Coupon.objects.in_bulk({r.coupon_id for r in candidates if r.coupon_id})
    counted = [r.pk for r in candidates if r.coupon_id or r.discount_type or r.plan__installments]
    billed = dict(
        Invoice.objects.filter(subscription_id__in=in_values(counted), kind=InvoiceKind.RECURRING)
        .order_by()
        .values("subscription_id")
        .annotate(count=Count("pk"))
        .values_list("subscription_id", "count")
        if counted
        else ()
    )
    renewals = []
    for renewal in candidates:
        renewal.coupon = coupons.get(renewal.coupon_id)
        renewal.draft = draft_renewal(
            subscription=renewal,
            plan=renewal.plan,
            periods_billed=billed.get(renewal.pk, 0),
            # Installment rows are few: their run is counted one by one (since a change to the plan).
            installments_billed=installment_invoices(renewal.pk).count()
            if renewal.plan__installments
            else None,
            taxes=taxes.get(renewal.pk, []),
            tz=renewal.tz,
            now=now,
        )
        # Every installment billed (the plan ends), or more than one period behind (a backdated contract
        # catching up): the per-subscription path does those.
        if renewal.draft is not None and renewal.draft.period_end > now:
            renewals.append(renewal)
    return renewals


def _billing_settings(merchant_ids) -> dict[int, BillingSettings]:
    """merchant id → its billing settings (the defaults when it never changed them)."""
    found = {s.merchant_id: s for s in BillingSettings.objects.filter(merchant_id__in=merchant_ids)}
    return {pk: found.get(pk) or BillingSettings(merchant_id=pk) for pk in merchant_ids}


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


def _payment_row(draft: RenewalDraft, invoice: _Row, payment_id: int) -> _Row:
    """The drafted charge's payment as `_attempt` creates it (pending, before the gateway answers)."""
    charge = draft.charge
    return _Row(
        id=payment_id,
        merchant_id=invoice.merchant_id,
        invoice_id=invoice.id,
        attempt=charge.attempt,
        amount=charge.amount,
        currency=charge.currency,
        method=charge.method,
        gateway=charge.gateway,
        gateway_reference="",
        status=PENDING,
        failure_code="",
        failure_message="",
        idempotency_key=charge.idempotency_key,
        amount_refunded=0,
        amount_charged_back=0,
        expires_at=None,
        settled_at=None,
        recorded_by_id=None,
    )


def _timeline_row(renewal: _Renewal, from_status: str, to_status: str, reason: dict, now) -> dict:
    """The SubscriptionEvent that subscription_apply_billing records for a status change by billing;
    `reason`: its reason_code and reason_params (subscribers/timeline.py)."""
    return {
        "merchant_id": renewal.merchant_id,
        "subscription_id": renewal.pk,
        "kind": EventKind.BILLING.value,
        "from_status": from_status,
        "to_status": to_status,
        "actor_id": None,
        "origin": "",
        "reason": "",
        "reason_code": reason["reason_code"],
        "reason_params": reason["reason_params"],
        "data": {},
        "created_at": now,
    }


def _advance_periods(
    renewals: list[_Renewal], last_payment_status: dict[int, str], statuses: dict[int, str]
) -> None:
    """current_period_start/end, next_invoice_at, status (when a decline changed it) and last_payment_status
    (unchanged for a renewal that charged nothing) of every renewed subscription, in one statement."""
    updated_at = timezone.now()
    if connection.vendor == "postgresql":
        import psycopg  # only here: the embedded SQLite install does not need it

        # Binary array parameters (server-side binding): quoting 1,000 timestamps as text costs more than
        # the UPDATE. A plain psycopg cursor on Django's connection, inside this transaction.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"UPDATE {Subscription._meta.db_table} AS s SET current_period_start = u.period_start, "
                "current_period_end = u.period_end, next_invoice_at = u.period_end, updated_at = %b, "
                "status = COALESCE(u.status, s.status), "
                "last_payment_status = COALESCE(u.payment_status, s.last_payment_status) "
                "FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[]) "
                "AS u(id, period_start, period_end, payment_status, status) "
                "WHERE s.id = u.id",
                [
                    updated_at,
                    [r.pk for r in renewals],
                    [r.draft.period_start for r in renewals],
                    [r.draft.period_end for r in renewals],
                    [last_payment_status.get(r.pk) for r in renewals],  # None: nothing charged
                    [statuses.get(r.pk) for r in renewals],  # None: unchanged
                ],
            )
        return
    for r in renewals:
        changes = {"last_payment_status": last_payment_status[r.pk]} if r.pk in last_payment_status else {}
        if r.pk in statuses:
            changes["status"] = statuses[r.pk]
        Subscription.objects.filter(pk=r.pk).update(
            current_period_start=r.draft.period_start,
            current_period_end=r.draft.period_end,
            next_invoice_at=r.draft.period_end,
            updated_at=updated_at,
            **changes,
        )


def _settle_one(renewal: _Renewal, invoice_row: _Row, payment_row: _Row, result, now) -> str:
    """An answer whose effects reach further: they come from the per-subscription path's own code."""
    subscription = lock_subscription(renewal.pk)  # already locked by this transaction
    # As the renewal left it in memory (the period end in the merchant's zone, as events show it).
    subscription.current_period_start = renewal.draft.period_start
    subscription.current_period_end = renewal.draft.period_end
    subscription.next_invoice_at = renewal.draft.period_end
    invoice, payment = Invoice(**vars(invoice_row)), Payment(**vars(payment_row))
    invoice._state.adding = payment._state.adding = False
    _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
    return "failed" if payment.status == FAILED else "succeeded"
