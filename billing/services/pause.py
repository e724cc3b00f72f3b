"""What pausing and resuming a subscription does to its money (docs/pause.md). Subscribers moves the status
(subscribers.services.pause) and calls these through its extension points, inside its transaction:

- `pause_policy`: the merchant's rules (Configurações > Cobrança);
- `subscription_paused_charges`: open boletos/pix are withdrawn and their invoices voided;
- `resume_billing`: a new period is renewed at once by the billing run's own `_renew`, or the rest of the
  current cycle's period is charged prorated (`resume_rest_totals`, over billing.calculations);
- `resume_preview`: the same two computations, for the screen, before anything is written.
"""

import copy
import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _

from billing.calculations import (
    PeriodTerms,
    compute_invoice,
    discount_for_period,
    prorated_line,
    unused_fraction,
)
from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.locks import lock_invoice
from billing.models import BillingSettings
from billing.services.charging import cancel_pending_payments
from billing.services.invoicing import subscription_taxes
from billing.services.proration import periods_billed_before, proration_invoice_create
from billing.services.states import invoice_move
from billing.services.upcoming import upcoming_invoices
from subscribers.choices import ResumeMode, SubscriptionStatus
from subscribers.services.pause import coupon_applied_at_on_resume, resume_cycle


def pause_policy(merchant) -> dict:
    """The merchant's pause rules (unsaved defaults when they never changed them)."""
    policy = BillingSettings.for_merchant(merchant)
    return {
        "coupons": policy.pause_coupons,
        "access": policy.pause_access,
        "customers_may_pause": policy.customers_may_pause,
    }


def subscription_paused_charges(subscription, *, now) -> int:
    """A paused subscription keeps no live boleto/pix: each one is withdrawn and its invoice voided
    (`payment.canceled`, `invoice.voided`). Card invoices still being collected stay open (the debt is
    still owed): the billing run retries nothing while paused, and resumes the retries with the
    subscription. Returns how many invoices were voided. The caller holds the subscription's lock."""
    live = subscription.invoices.filter(
        status=InvoiceStatus.OPEN, payments__status=PaymentStatus.PENDING
    ).distinct()
    voided = 0
    for pk in live.order_by("pk").values_list("pk", flat=True):
        invoice = lock_invoice(pk)
        if invoice.status != InvoiceStatus.OPEN:
            continue
        if cancel_pending_payments(invoice=invoice, now=now):
            invoice_move(invoice=invoice, to=InvoiceStatus.VOID, now=now)
            voided += 1
    return voided


def resume_rest_totals(subscription, *, at: dt.datetime, taxes=None, periods_before: int | None = None):
    """The rest of the current period from `at` to its end, prorated to the second: what one period costs
    under the subscription's terms (its discount for that period and its taxes) × the part still ahead,
    rounded once (billing.calculations.prorated_line). Próximas faturas, resuming a copy it previews,
    gives the tax inputs in force at the resume (`taxes`, else the subscription's rates) and how many
    periods it has invoiced before (`periods_before`, else the written ones)."""
    start, end = subscription.current_period_start, subscription.current_period_end
    terms = subscription.price_terms
    tz = subscription.merchant.tzinfo
    discount = discount_for_period(
        subscription=subscription,
        period_start=start,
        periods_billed=(
            periods_billed_before(subscription, start) if periods_before is None else periods_before
        ),
        tz=tz,
    )
    taxes = subscription_taxes(subscription) if taxes is None else taxes
    line = prorated_line(
        description=(
            _("Retomada: %(plan)s × %(quantity)s, de %(start)s a %(end)s")
            % {
                "plan": terms.name,
                "quantity": subscription.quantity,
                "start": formats.date_format(at.astimezone(tz), "SHORT_DATE_FORMAT"),
                "end": formats.date_format(end.astimezone(tz), "SHORT_DATE_FORMAT"),
            }
        )[:200],
        full_amount=terms.price * subscription.quantity,
        terms=PeriodTerms(discount=discount, taxes=tuple(taxes)),
        fraction=unused_fraction(period_start=start, period_end=end, at=at),
        credit=False,
        period_start=at,
        period_end=end,
    )
    return compute_invoice(lines=[line])


def resume_billing(*, subscription, mode: str, charge_rest: bool, now) -> dict | None:
    """Bills a resume (subscribers.resume_billing): the subscription is active again with its cycle fields
    set by subscribers.services.pause.resume_cycle."""
    if mode == ResumeMode.NEW_PERIOD:
        from billing.services.billing_run import _renew  # billing_run imports the services this one uses

        outcomes = _renew(subscription, now)
        invoice = subscription.invoices.filter(kind=InvoiceKind.RECURRING).order_by("-pk").first()
        return {
            "invoice": invoice.pk if invoice else None,
            "number": invoice.number if invoice else None,
            "total": invoice.total if invoice else 0,
            "outcome": outcomes[0] if outcomes else "",
        }
    if not charge_rest:
        return None
    _invoice, note = proration_invoice_create(
        subscription=subscription, totals=resume_rest_totals(subscription, at=now), now=now
    )
    return note


def resume_preview(*, subscription, mode: str, at: dt.datetime) -> dict:
    """What resuming at `at` in `mode` charges now and what the next invoice will be, computed by the
    functions that bill it: {"mode", "currency", "charge_now": {"total", "period_start", "period_end"} or
    None, "next_invoice": {"at", "total", "period_end"} or None}. Writes nothing."""
    state = copy.copy(subscription)
    cycle = resume_cycle(subscription, mode=mode, now=at)
    state.coupon_applied_at = coupon_applied_at_on_resume(
        subscription, pause_policy(subscription.merchant), at
    )
    for name, value in cycle.items():
        setattr(state, name, value)
    state.status = SubscriptionStatus.ACTIVE
    state.pause_at = state.resume_at = None
    charge_now = None
    if mode == ResumeMode.NEW_PERIOD:
        coming = upcoming_invoices(state, count=2, now=at).invoices
        if coming:
            first, coming = coming[0], coming[1:]
            charge_now = {
                "total": first.total,
                "period_start": first.draft.period_start,
                "period_end": first.draft.period_end,
            }
    else:
        if "current_period_start" in cycle:
            totals = resume_rest_totals(state, at=at)
            charge_now = {"total": totals.total, "period_start": at, "period_end": state.current_period_end}
        coming = upcoming_invoices(state, count=1, now=at).invoices
    following = coming[0] if coming else None
    return {
        "mode": mode,
        "currency": subscription.currency,
        "charge_now": charge_now,
        "next_invoice": (
            {"at": following.at, "total": following.total, "period_end": following.draft.period_end}
            if following
            else None
        ),
    }
