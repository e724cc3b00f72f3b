"""Previews of changes that move money, computed by the very functions that bill (docs/money.md: "Every
change that moves money is previewed before it is confirmed, by the same functions that bill").

Nothing here writes. The subscription screens reach these through extension points
(subscribers.change_money_preview, subscribers.cancel_money_preview; billing/apps.py provides them):
subscribers may not import billing. A preview is what confirming at the same instant bills, to the centavo.
"""

import copy
import datetime as dt

from django.utils import timezone

from billing.calculations import apply_credit
from billing.choices import InvoiceKind
from billing.selectors import credit_balance, installment_invoices
from billing.services.invoicing import subscription_taxes, taxes_of
from billing.services.proration import (
    current_period_paid,
    has_unused_paid_time,
    period_terms,
    plan_change_totals,
    unused_time_totals,
)
from billing.services.renewal import draft_renewal
from subscribers.choices import DiscountType, PhaseProration, SubscriptionStatus
from subscribers.models import price_terms
from subscribers.services.changes import kept_discount

_UNSET = object()


def _terms_after(
    subscription,
    *,
    plan,
    quantity,
    discount_type,
    discount_percent,
    discount_amount,
    discount_periods,
    coupon,
    now,
):
    """An unsaved copy of the subscription on the new terms, as subscription_update would set them."""
    after = copy.copy(subscription)
    after.plan, after.quantity, after.currency = plan, quantity, plan.currency
    discount_type = discount_type or DiscountType.NONE
    after.discount_type = discount_type
    after.discount_percent = discount_percent if discount_type == DiscountType.PERCENT else None
    after.discount_amount = discount_amount if discount_type == DiscountType.FIXED else None
    after.discount_periods = discount_periods if discount_type else None
    if coupon is not _UNSET and getattr(coupon, "pk", None) != subscription.coupon_id:
        after.coupon = coupon
        after.coupon_applied_at = now if coupon is not None else None
    return after


def subscription_change_preview(
    *,
    subscription,
    plan,
    quantity: int,
    apply: str = "now",
    discount_type: str = DiscountType.NONE,
    discount_percent=None,
    discount_amount=None,
    discount_periods=None,
    tax_rates=None,
    coupon=_UNSET,
    prorate_terms: bool = False,
    now: dt.datetime | None = None,
    **_other_terms,
) -> dict:
    """What saving the edit form with these values does to the customer's money, now and next:

    - `now`: the proration invoice a plan or quantity change applied now makes ({"total", "credited"
      (to the balance), "credit_applied" (from it), "charged", "lines"}), or None when nothing is billed now;
    - `next_invoice`: the next renewal on the new terms ({"at", "total", "discount", "tax",
      "credit_applied", "amount_due"}), or None when none is coming;
    - `balance` (now) and `balance_after` (after both), in the subscription's currency.

    `prorate_terms`: a coupon or tax change alone is billed now as well (a schedule's running phase edited
    with "Ratear agora", subscribers.services.schedules), not only a plan or quantity change.
    """
    now = now or timezone.now()
    quantity = quantity or 1
    after = _terms_after(
        subscription,
        plan=plan,
        quantity=quantity,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        discount_periods=discount_periods,
        coupon=coupon,
        now=now,
    )
    old_taxes = subscription_taxes(subscription)
    new_taxes = old_taxes if tax_rates is None else taxes_of(tax_rates)
    currency = subscription.currency
    balance = credit_balance(customer=subscription.customer_id, currency=currency)
    preview = {"currency": currency, "balance": balance, "now": None, "next_invoice": None}

    terms_change = (plan.pk, quantity) != (subscription.plan_id, subscription.quantity)
    if prorate_terms and not terms_change:
        coupon_changed = coupon is not _UNSET and getattr(coupon, "pk", None) != subscription.coupon_id
        taxes_changed = tax_rates is not None and {rate.pk for rate in tax_rates} != {
            rate.pk for rate in subscription.tax_rates.all()
        }
        terms_change = coupon_changed or taxes_changed
    applies_now = apply != "next_cycle" or subscription.status == SubscriptionStatus.SCHEDULED
    if terms_change and applies_now and plan.currency == currency and has_unused_paid_time(subscription, now):
        totals, unpaid = plan_change_totals(
            subscription=subscription,
            # Each side at its price version: the subscription's own on its plan, another plan's current.
            old_plan=price_terms(subscription.plan, None, price=subscription.plan_price_at(now)),
            old_quantity=subscription.quantity,
            old_terms=period_terms(terms_of=subscription, subscription=subscription, taxes=old_taxes),
            new_plan=price_terms(
                plan, None, price=subscription.plan_price_at(now) if plan.pk == subscription.plan_id else None
            ),
            new_quantity=quantity,
            new_terms=period_terms(terms_of=after, subscription=subscription, taxes=new_taxes),
            at=now,
        )
        if unpaid is not None:
            # Voided by the change: the credit it consumed is back in the balance first.
            balance += unpaid.credit_applied
    else:
        totals = unpaid = None
    if totals is not None:
        applied, due = apply_credit(totals.total, balance + totals.credit)
        preview["now"] = {
            "total": totals.total,
            "credited": totals.credit,
            "credit_applied": applied if totals.total else 0,
            "charged": due,
            "lines": totals.lines,
            "voided": unpaid.number if unpaid is not None else None,
        }
        balance = balance + totals.credit - preview["now"]["credit_applied"]

    preview["next_invoice"] = _next_invoice(subscription, after, new_taxes, balance)
    if preview["next_invoice"]:
        balance -= preview["next_invoice"]["credit_applied"]
    preview["balance_after"] = balance
    return preview


def _next_invoice(subscription, after, taxes, balance) -> dict | None:
    start = subscription.next_invoice_at
    if start is None or subscription.is_ended:
        return None
    if subscription.cancel_at is not None and subscription.cancel_at <= start:
        return None
    draft = draft_renewal(
        subscription=after,
        plan=after.plan,
        periods_billed=subscription.invoices.filter(kind=InvoiceKind.RECURRING).count(),
        installments_billed=installment_invoices(subscription.pk).count(),
        taxes=taxes,
        tz=subscription.merchant.tzinfo,
        now=timezone.now(),
    )
    if draft is None:  # every installment billed
        return None
    totals = draft.totals
    applied, due = apply_credit(totals.total, balance)
    return {
        "at": start,
        "total": totals.total,
        "discount": totals.discount,
        "tax": totals.tax,
        "credit_applied": applied,
        "amount_due": due,
    }


def cancellation_money_preview(
    *, subscription, when: str, credit_unused_time: bool = False, effective_at=None, now=None
) -> dict:
    """What a cancellation does to the customer's money: {"credit_available": what "cancelar agora,
    creditando o tempo não usado" would credit, "credited": what this choice credits (0 unless that
    option), "paid_until": the end of the paid period, "next_invoice": the renewal still billed before
    a cancellation at `effective_at` (None when none), "currency"}."""
    now = now or timezone.now()
    available = 0
    if has_unused_paid_time(subscription, now) and current_period_paid(subscription):
        available = unused_time_totals(subscription=subscription, at=now).credit
    credited = available if when == "now" and credit_unused_time else 0
    next_invoice = None
    if effective_at is not None:
        ending = copy.copy(subscription)
        ending.cancel_at = effective_at
        balance = credit_balance(customer=subscription.customer_id, currency=subscription.currency) + credited
        next_invoice = _next_invoice(ending, subscription, subscription_taxes(subscription), balance)
    return {
        "currency": subscription.currency,
        "credit_available": available,
        "credited": credited,
        "paid_until": subscription.current_period_end if available else None,
        "next_invoice": next_invoice,
    }


def schedule_running_change_preview(*, subscription, schedule, phases, running_proration) -> dict | None:
    """What saving `phases` bills now for the running phase's new quantity, coupon or taxes under "Ratear
    agora" (`subscription_change_preview`'s answer, its `now` part set), or None when nothing is billed
    now: no running phase, "Sem rateio", a one-off price, or a pause in course (only its end changes). The
    editor's Prévia and the API's schedule preview both ask it."""
    if schedule is None or schedule.current_position is None:
        return None
    if running_proration != PhaseProration.PRORATE or subscription.custom_price:
        return None
    if schedule.current_position >= len(phases):
        return None
    spec = phases[schedule.current_position]
    if spec.is_pause:
        return None
    preview = subscription_change_preview(
        subscription=subscription,
        plan=subscription.plan,
        quantity=spec.quantity,
        apply="now",
        **kept_discount(subscription),
        tax_rates=spec.tax_rates,
        coupon=spec.coupon,
        prorate_terms=True,
    )
    return preview if preview["now"] else None
