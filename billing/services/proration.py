"""Plan and quantity changes in the middle of a paid period (DESIGN.md, "Billing rules").

`proration_lines` is the one function that computes a proration: a credit for the unused time of the
old terms and a charge for the rest of the period at the new ones, to the second. `prorate_plan_change`
turns it into an invoice of kind "proration"; subscribers calls it through the named hook
`settings.SUBSCRIPTION_PLAN_CHANGE_HOOK` (subscribers may not import billing).
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.calculations import LineInput, compute_invoice
from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import Invoice
from billing.services.charging import _attempt
from billing.services.invoicing import (
    allocate_invoice_numbers,
    invoice_lines_create,
    invoice_payload,
    subscription_taxes,
)
from core.money import round_minor
from core.outbox import emit
from subscribers.choices import SubscriptionStatus
from subscribers.services import subscription_update

S = SubscriptionStatus
# Statuses whose current period has been invoiced: only there is there unused time to credit.
PRORATED_STATUSES = (S.ACTIVE, S.PAST_DUE)
_SECOND = dt.timedelta(seconds=1)


def proration_lines(
    *,
    old_price: int,
    old_quantity: int,
    new_price: int,
    new_quantity: int,
    period_start: dt.datetime,
    period_end: dt.datetime,
    at: dt.datetime,
    old_name: str = "",
    new_name: str = "",
) -> list[LineInput]:
    """[credit, charge] for switching from `old_price × old_quantity` to `new_price × new_quantity` at `at`.

    The unused fraction of the period is `(period_end − at) / (period_end − period_start)`, counted in
    whole seconds; `at` outside the period is clamped to it. Each line is its full-period amount times
    that fraction, rounded once (`round_minor`, half up), so the credit of a change at the very start
    is exactly the old full amount and both lines are 0 at the very end. The credit is a negative line.
    """
    at = min(max(at, period_start), period_end)
    total_seconds = (period_end - period_start) // _SECOND
    remaining_seconds = (period_end - at) // _SECOND if total_seconds > 0 else 0
    total_seconds = max(total_seconds, 1)

    def part(full_amount: int) -> int:
        # One exact integer product and one division: with periods of at most a few billion seconds,
        # Decimal's 28 digits cannot move the result across a rounding boundary.
        return round_minor(Decimal(full_amount * remaining_seconds) / Decimal(total_seconds))

    credit = part(old_price * old_quantity)
    charge = part(new_price * new_quantity)
    return [
        LineInput(
            description=(
                _("Crédito pelo tempo não usado: %(plan)s × %(quantity)s")
                % {"plan": old_name or _("plano anterior"), "quantity": old_quantity}
            )[:200],
            quantity=1,
            unit_amount=-credit,
            period_start=at,
            period_end=period_end,
            proration=True,
        ),
        LineInput(
            description=(
                _("Tempo restante: %(plan)s × %(quantity)s")
                % {"plan": new_name or _("novo plano"), "quantity": new_quantity}
            )[:200],
            quantity=1,
            unit_amount=charge,
            period_start=at,
            period_end=period_end,
            proration=True,
        ),
    ]


def subscription_change_plan(
    *, subscription, actor, plan, quantity: int, apply: str = "next_cycle", now: dt.datetime | None = None
):
    """Changes only the plan and/or quantity, keeping every other term: `apply="now"` prorates the rest
    of the paid period (through the hook), `"next_cycle"` leaves the change for the next renewal."""
    return subscription_update(
        subscription=subscription,
        actor=actor,
        plan=plan,
        quantity=quantity,
        payment_method=subscription.payment_method,
        salesperson=subscription.salesperson,
        discount_type=subscription.discount_type,
        discount_percent=subscription.discount_percent,
        discount_amount=subscription.discount_amount,
        discount_periods=subscription.discount_periods,
        apply=apply,
        now=now,
    )


@transaction.atomic
def prorate_plan_change(*, subscription, old_plan, old_quantity: int, now: dt.datetime | None = None):
    """The SUBSCRIPTION_PLAN_CHANGE_HOOK: bills a plan or quantity change applied now.

    Called by `subscription_update` inside its transaction, with the subscription locked and already
    on its new terms. Only a subscription with a current paid period (active or past due, period not
    over) gets a proration invoice: credit for the old terms' unused time, charge for the new ones,
    with the subscription's taxes. A positive total is charged at once; a downgrade's net credit is
    recorded on a zero-total invoice and not refunded. Returns what the timeline should note, or None.
    """
    now = now or timezone.now()
    start, end = subscription.current_period_start, subscription.current_period_end
    if subscription.status not in PRORATED_STATUSES or start is None or end is None or end <= now:
        return None
    if old_plan.currency != subscription.currency:
        raise ValidationError(
            {
                "plan": ValidationError(
                    _("Um plano em outra moeda só pode valer a partir do próximo ciclo."),
                    code="currency_mismatch",
                )
            }
        )
    lines = proration_lines(
        old_price=old_plan.price,
        old_quantity=old_quantity,
        new_price=subscription.plan.price,
        new_quantity=subscription.quantity,
        period_start=start,
        period_end=end,
        at=now,
        old_name=old_plan.name,
        new_name=subscription.plan.name,
    )
    totals = compute_invoice(lines=lines, taxes=subscription_taxes(subscription))
    exclusive_tax = sum(
        detail["amount"] for line in totals.lines for detail in line.tax_details if not detail["inclusive"]
    )
    # What a downgrade's credit exceeds the charges by: shown on the invoice's lines, never refunded.
    unapplied_credit = max(-(totals.subtotal - totals.discount + exclusive_tax), 0)
    (number,) = allocate_invoice_numbers(subscription.merchant, 1)
    invoice = Invoice.objects.create(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        customer_id=subscription.customer_id,
        number=number,
        kind=InvoiceKind.PRORATION,
        status=InvoiceStatus.PAID if totals.total == 0 else InvoiceStatus.OPEN,
        period_start=now,
        period_end=end,
        currency=subscription.currency,
        subtotal=totals.subtotal,
        discount=totals.discount,
        tax=totals.tax,
        total=totals.total,
        due_at=now,
        paid_at=now if totals.total == 0 else None,
    )
    invoice_lines_create(invoice, totals)
    emit(
        merchant=subscription.merchant,
        type="invoice.created",
        payload={**invoice_payload(invoice), "kind": invoice.kind, "unapplied_credit": unapplied_credit},
    )
    note = {
        "invoice": invoice.pk,
        "number": invoice.number,
        "credit": -lines[0].unit_amount,
        "charge": lines[1].unit_amount,
        "total": invoice.total,
        "unapplied_credit": unapplied_credit,
    }
    if invoice.total > 0:
        payment = _attempt(invoice=invoice, subscription=subscription, now=now)
        note["payment_status"] = payment.status
    return note
