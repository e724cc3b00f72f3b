"""The renewal engine: what renewing a subscription for one period means, drafted without touching the
database, and the idempotency key every charge of an invoice is sent under.

`draft_renewal` is a pure function of a subscription's state and the clock: the invoice (amounts from
`billing.calculations.compute_invoice`, discount from `discount_for_period`, the subscription's taxes,
the installment number) and the charge request (amount, method, gateway, idempotency key). It is written
by one of two writers that share it:

- the row writer (`renewal_write`, below), one subscription at a time, for `process_subscription`;
- the bulk writer (`billing.services.batch.renew_many`), a chunk of subscriptions with a fixed number of
  statements.

Both then give the gateway's answer the same effects (billing.services.charging for one row, the batch's
set-based version of the same rules for many); tests/billing/test_renewal_engine.py holds them to
writing the same rows and events.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.calculations import (
    InvoiceTotals,
    LineInput,
    TaxInput,
    compute_invoice,
    discount_for_period,
    elapsed_time_amount,
)
from billing.choices import Gateway, InvoiceKind, InvoiceStatus
from billing.models import Invoice
from billing.services.invoicing import invoice_lines_create, invoice_payload
from core.events import EventType
from core.outbox import emit
from plans.periods import add_interval, period_containing
from subscribers.choices import PaymentMethod

KIND_TAGS = {
    InvoiceKind.RECURRING.value: "rec",
    InvoiceKind.PRORATION.value: "pro",
    InvoiceKind.MANUAL.value: "man",
}


def charge_key(*, subscription_id: int, kind: str, period_start: dt.datetime, attempt: int) -> str:
    """The idempotency key of an invoice's `attempt`-th charge, from what survives a crash: the
    subscription, the invoice's kind and natural key (its period start: one recurring invoice per period;
    a proration or one-off invoice starts at the moment it was made) and the attempt number. Never the
    invoice id: it comes from a sequence a rolled-back transaction does not give back, so a retry after a
    crash would reach the gateway under a new key and could be charged twice."""
    moment = period_start.astimezone(dt.UTC)
    return f"sub_{subscription_id}_{KIND_TAGS[kind]}_{moment:%Y%m%dT%H%M%S%f}Z_att_{attempt}"


def invoice_charge_key(invoice, attempt: int) -> str:
    """`charge_key` of a saved (or drafted) invoice."""
    return charge_key(
        subscription_id=invoice.subscription_id,
        kind=invoice.kind,
        period_start=invoice.period_start,
        attempt=attempt,
    )


def gateway_for_method(payment_method: str, provider: str = "") -> str:
    """The gateway that charges a subscription: manual for offline payments; the merchant's Stripe
    account (our engine creating PaymentIntents) for a card saved in Stripe (`provider` "stripe");
    the sandbox for everything else."""
    if payment_method == PaymentMethod.MANUAL:
        return Gateway.MANUAL
    if provider == Gateway.STRIPE and payment_method == PaymentMethod.CARD:
        return Gateway.STRIPE
    return Gateway.SANDBOX


def pending_change_terms(subscription):
    """(plan, quantity) of a change chosen "no próximo ciclo" (`pending_plan` / `pending_quantity`), which
    takes effect with the first new period; None when none is pending. Read by the billing run when it
    applies the change and by the upcoming-invoices preview (billing.services.upcoming)."""
    if subscription.pending_plan_id is None and subscription.pending_quantity is None:
        return None
    plan = subscription.pending_plan or subscription.plan
    return plan, subscription.pending_quantity or subscription.quantity


def period_end(start, *, anchor, unit: str, count: int, tz):
    """End of the period starting at `start`, counted from the anchor so the day of month comes back after
    a short month (31/01 → 28/02 → 31/03)."""
    anchor = anchor.astimezone(tz)
    if anchor <= start:
        return period_containing(anchor, unit, count, start.astimezone(tz), tz=tz)[1]
    return add_interval(start.astimezone(tz), unit, count)


@dataclass(frozen=True)
class ChargeDraft:
    """The first charge of a drafted invoice, as the gateway is asked for it."""

    attempt: int
    amount: int
    currency: str
    method: str
    gateway: str
    idempotency_key: str


@dataclass(frozen=True)
class RenewalDraft:
    """One period's renewal of one subscription: its invoice and the charge to request (None: nothing to
    pay, the invoice is paid at once)."""

    subscription_id: int
    merchant_id: int
    customer_id: int
    period_start: dt.datetime
    period_end: dt.datetime
    installment_number: int | None
    last_installment: bool
    currency: str
    totals: InvoiceTotals
    due_at: dt.datetime
    charge: ChargeDraft | None
    kind: str = InvoiceKind.RECURRING.value

    def invoice_fields(self) -> dict:
        """The invoice's field values (attnames) as it is saved before any charge: open, not attempted."""
        totals = self.totals
        return {
            "merchant_id": self.merchant_id,
            "subscription_id": self.subscription_id,
            "customer_id": self.customer_id,
            "kind": self.kind,
            "status": InvoiceStatus.OPEN.value,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "installment_number": self.installment_number,
            "currency": self.currency,
            "subtotal": totals.subtotal,
            "discount": totals.discount,
            "tax": totals.tax,
            "total": totals.total,
            "amount_paid": 0,
            "amount_refunded": 0,
            "credit_applied": 0,  # applied after writing (billing_run._renew); the batch never sees a balance
            "due_at": self.due_at,
            "attempt_count": 0,
            "next_attempt_at": None,
            "paid_at": None,
        }


def draft_renewal(
    *,
    subscription,
    plan,
    periods_billed: int,
    taxes: list[TaxInput],
    tz,
    now,
    installments_billed: int | None = None,
) -> RenewalDraft | None:
    """The renewal of the period starting at `subscription.next_invoice_at`. Pure: reads attributes only.

    `subscription` is read like a Subscription (pk, merchant_id, customer_id, next_invoice_at,
    billing_cycle_anchor, quantity, currency, payment_method, the discount and coupon fields that
    `discount_for_period` reads); `plan` like a Plan (name, price, interval_unit, interval_count,
    installments); `periods_billed` counts the recurring invoices already made, `taxes` are the active
    tax rates, `tz` the merchant's zone. `installments_billed` counts the installments of the plan running
    now already invoiced (billing.selectors.installment_invoices: the periods of a plan before a change to
    an installment plan are not its installments); it defaults to `periods_billed`. Returns None when an
    installment plan has billed all its installments (nothing more to renew: the caller ends it)."""
    installments = plan.installments or 0
    if installments_billed is None:
        installments_billed = periods_billed
    if installments and installments_billed >= installments:
        return None
    start = subscription.next_invoice_at
    end = period_end(
        start,
        anchor=subscription.billing_cycle_anchor,
        unit=plan.interval_unit,
        count=plan.interval_count,
        tz=tz,
    )
    installment_number = installments_billed + 1 if installments else None
    description = plan.name
    if installment_number:
        description = f"{plan.name} ({installment_number}/{installments})"
    lines = [
        LineInput(
            description=description,
            quantity=subscription.quantity,
            unit_amount=plan.price,
            period_start=start,
            period_end=end,
        )
    ]
    backdated = _backdated_time_line(subscription, plan, periods_billed=periods_billed, start=start, tz=tz)
    if backdated is not None:
        lines.append(backdated)
    totals = compute_invoice(
        lines=lines,
        discount=discount_for_period(
            subscription=subscription, period_start=start, periods_billed=periods_billed, tz=tz
        ),
        taxes=taxes,
    )
    charge = None
    if totals.total > 0:
        charge = ChargeDraft(
            attempt=1,
            amount=totals.total,
            currency=subscription.currency,
            method=subscription.payment_method,
            gateway=gateway_for_method(subscription.payment_method, getattr(subscription, "provider", "")),
            idempotency_key=charge_key(
                subscription_id=subscription.pk,
                kind=InvoiceKind.RECURRING.value,
                period_start=start,
                attempt=1,
            ),
        )
    return RenewalDraft(
        subscription_id=subscription.pk,
        merchant_id=subscription.merchant_id,
        customer_id=subscription.customer_id,
        period_start=start,
        period_end=end,
        installment_number=installment_number,
        last_installment=bool(installments and installment_number == installments),
        currency=subscription.currency,
        totals=totals,
        due_at=max(start, now),
        charge=charge,
    )


def _backdated_time_line(subscription, plan, *, periods_billed: int, start, tz) -> LineInput | None:
    """The first invoice of a backdated contract whose merchant chose to charge the time already passed
    (`backdate_charge_from`, set by subscription_create) carries that time beside its period: whole
    periods at full price, the last partial one prorated (billing.calculations.elapsed_time_amount)."""
    since = getattr(subscription, "backdate_charge_from", None)
    if periods_billed or since is None or since >= start:
        return None
    since, until = since.astimezone(tz), start.astimezone(tz)
    amount = elapsed_time_amount(
        full_amount=plan.price * subscription.quantity,
        start=since,
        end=until,
        interval_unit=plan.interval_unit,
        interval_count=plan.interval_count,
    )
    return LineInput(
        description=(
            _("%(plan)s: tempo retroativo de %(start)s a %(end)s")
            % {"plan": plan.name, "start": f"{since:%d/%m/%Y}", "end": f"{until:%d/%m/%Y %H:%M}"}
        )[:200],
        quantity=1,
        unit_amount=amount,
        period_start=since,
        period_end=start,
        proration=True,
    )


def renewal_write(*, subscription, draft: RenewalDraft, number: int) -> Invoice | None:
    """The row writer: saves the drafted invoice (open, not attempted) with its lines and its
    `invoice.created` event, inside the caller's transaction. Returns None when that period already has
    an invoice: the unique (subscription, period_start) constraint, checked in a savepoint, is what makes
    two workers or a retried task safe."""
    invoice = Invoice(**draft.invoice_fields(), number=number)
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError:
        if Invoice.objects.filter(
            subscription_id=draft.subscription_id, period_start=draft.period_start, kind=draft.kind
        ).exists():
            return None
        raise
    invoice_lines_create(invoice, draft.totals)
    emit(merchant=subscription.merchant, type=EventType.INVOICE_CREATED, payload=invoice_payload(invoice))
    return invoice
