"""Billing a schedule's phase changes (subscribers.services.schedules holds the schedule's states).

Both renewal writers call `enter_due_phases` before they draft a renewal, with the subscription locked:
the row writer (billing_run._renew) for every subscription, the bulk writer (batch.renew_many) for the
subscriptions of its chunk whose phase starts on the billing date being renewed. So the period that
starts with a phase is drafted on that phase's terms by the same `draft_renewal`, whichever writer takes
it.

A phase that starts between two billing dates is billed as its `proration` says:

- `prorate`, keeping the anchor: a plan or quantity change applied at that moment
  (proration.prorate_plan_change: credit of the old terms' unused time, charge of the new ones');
- `prorate`, resetting the anchor (`phase_start`, a trial, or a price at another interval): the old
  terms' unused paid time goes to the customer's credit balance (proration.credit_unused_time) and the
  phase's first period is invoiced at its start, consuming that credit;
- `none`: nothing is credited or charged for the rest of the old period.

Those mid-period changes are done by the row writer only (the bulk writer leaves such subscriptions to it).
"""

import copy
import datetime as dt
from dataclasses import replace
from types import MappingProxyType

from billing.services.proration import credit_unused_time, prorate_plan_change
from subscribers.choices import (
    MAX_SCHEDULE_PHASES,
    PhaseAnchor,
    PhaseProration,
    ResumeMode,
    ScheduleEndBehavior,
    SubscriptionStatus,
)
from subscribers.models import price_terms
from subscribers.services.schedules import schedule_advance, schedule_due

S = SubscriptionStatus
_PRORATED = (S.ACTIVE, S.PAST_DUE)


def _interval(price) -> tuple:
    return price.interval_unit, price.interval_count


def enters_mid_period(subscription, at) -> bool:
    """A phase entered at `at` falls between two billing dates of a paying subscription: its `proration`
    decides what is billed for the rest of the period (enter_due_phases, and Próximas faturas)."""
    return (
        subscription.status in _PRORATED
        and subscription.current_period_start is not None
        and subscription.next_invoice_at is not None
        and subscription.current_period_start < at < subscription.next_invoice_at
    )


def enter_due_phases(subscription, *, now) -> int:
    """Enters every phase change of the subscription's schedule due by `now` and not after its next
    billing date, in order, billing each as its phase says. Returns how many steps were taken."""
    steps = 0
    for _step in range(MAX_SCHEDULE_PHASES + 1):
        until = now if subscription.next_invoice_at is None else min(now, subscription.next_invoice_at)
        schedule = schedule_due(subscription, until=until)
        if schedule is None:
            break
        at = schedule.next_phase_at
        position = 0 if schedule.current_position is None else schedule.current_position + 1
        phase = schedule.phases.filter(position=position).first()
        if phase is not None and phase.is_pause:
            # A pause block: schedule_advance pauses the subscription by the pause services; nothing is
            # billed until the due task resumes it at the block's end (no renewal drafted after this).
            schedule_advance(subscription=subscription, schedule=schedule)
            steps += 1
            break
        mid_period = (
            phase is not None
            and schedule.current_position is not None
            and enters_mid_period(subscription, at)
        )
        prorate = mid_period and phase.proration == PhaseProration.PRORATE
        resets_anchor = phase is not None and (
            phase.anchor == PhaseAnchor.PHASE_START
            or bool(phase.trial_days)
            or _interval(phase.price) != _interval(subscription.price_terms)
        )
        previous = copy.copy(subscription)
        old_plan, old_quantity = subscription.plan, subscription.quantity
        old_tax_rates, old_custom = list(subscription.tax_rates.all()), subscription.custom_price
        if prorate and resets_anchor:
            credit_unused_time(subscription=subscription, now=at)
        schedule_advance(subscription=subscription, schedule=schedule)
        steps += 1
        if prorate and not resets_anchor and not old_custom and not subscription.custom_price:
            # One-off prices are not prorated against a plan: the phase's price starts at the next date.
            prorate_plan_change(
                subscription=subscription,
                old_plan=old_plan,
                old_quantity=old_quantity,
                now=at,
                previous=previous,
                old_tax_rates=old_tax_rates,
            )
        if subscription.is_ended or subscription.status == S.PAUSED:
            break
    return steps


def schedule_terms(subscription, schedule):
    """Próximas faturas for a subscription with a schedule (billing.services.upcoming's `terms_for`): the
    terms of the phase in force at each period's start, as `schedule_advance` puts them on the
    subscription — price (plan or one-off), quantity, coupon from the phase's start or discount, tax
    rates, the anchor a phase resets (`phase_start`, a trial, another interval) — and, with end behaviour
    `cancel`, no invoice from the last phase's end on. Phases entered between two billing dates are
    previewed from their first billing date (a proration they bill is not a renewal invoice) and given in
    `entries`: one that resets the anchor there (upcoming_invoices moves the billing date to its anchor
    and, with `prorate`, credits the unused paid time as `credit_unused_time` does), and one kept on the
    anchor with `prorate` (upcoming_invoices adds what its proration invoice credits to, or takes from,
    the credit balance, as `prorate_plan_change` bills it)."""
    from billing.services.invoicing import taxes_of
    from billing.services.upcoming import PauseEntry, PhaseEntry, ScheduleTerms, TermsInForce

    phases = list(schedule.phases.select_related("plan", "coupon").prefetch_related("tax_rates"))
    anchor, previous, in_force, entries = subscription.billing_cycle_anchor, None, [], []
    previous_custom = None
    pauses, after_pause = [], False
    for phase in phases:
        entered = schedule.current_position is not None and phase.position <= schedule.current_position
        if phase.is_pause:
            # No invoice from its start to its end; then resumed as the pause services resume (new
            # period: the anchor moves to the resume; continue: it stays).
            coming = not entered or phase.position == schedule.current_position
            if coming:
                pauses.append(
                    PauseEntry(at=phase.start_at, until=phase.end_at, mode=phase.resume_mode, started=entered)
                )
            if coming and phase.resume_mode == ResumeMode.NEW_PERIOD:
                anchor = phase.end_at
            after_pause = True
            continue
        price = phase.price
        prorate = phase.proration == PhaseProration.PRORATE
        resets = phase.anchor == PhaseAnchor.PHASE_START or phase.trial_days
        if after_pause:
            after_pause = False  # the cycle is the resume's (schedule_advance), not the phase's anchor
        elif not entered and previous is not None:
            if resets or _interval(price) != _interval(previous):
                anchor = phase.start_at + dt.timedelta(days=phase.trial_days or 0)
                # _apply_terms ends the running period at the new anchor: entered between two billing
                # dates, the phase's first invoice is on its anchor, not on the old billing date.
                entries.append(PhaseEntry(at=phase.start_at, first_invoice_at=anchor, prorate=prorate))
            elif prorate and not previous_custom and not phase.custom_price:
                # Kept on the anchor, entered between two billing dates it is a plan change "agora"
                # (enter_due_phases → prorate_plan_change); one-off prices are not prorated.
                entries.append(PhaseEntry(at=phase.start_at, first_invoice_at=None, prorate=True))
        previous = price
        previous_custom = subscription.custom_price if entered else phase.custom_price
        overrides = {
            "coupon": phase.coupon,
            "coupon_applied_at": phase.start_at if phase.coupon_id else None,
            "discount_type": "percent" if phase.discount_percent else "",
            "discount_percent": phase.discount_percent or None,
            "discount_amount": None,
            "discount_periods": None,
            "custom_price": phase.custom_price,
            "billing_cycle_anchor": anchor,
            "currency": phase.plan.currency if phase.plan_id else subscription.currency,
        }
        if entered:
            # The running phase is already on the subscription: its own values (edits apply from now).
            overrides = {"billing_cycle_anchor": subscription.billing_cycle_anchor}
            terms = TermsInForce(
                plan=subscription.price_terms,
                quantity=subscription.quantity,
                taxes=tuple(taxes_of(subscription.tax_rates.all())),
                overrides=MappingProxyType(overrides),
            )
        else:
            terms = TermsInForce(
                plan=price,
                quantity=phase.quantity,
                taxes=tuple(taxes_of(phase.tax_rates.all())),
                overrides=MappingProxyType(overrides),
            )
        # On the subscription's own plan the period is billed at its price version in force then (a
        # migrated price from the first period after its notice), as the billing run reads it.
        own_plan = (entered or phase.plan_id == subscription.plan_id) and not (
            phase.custom_price if not entered else subscription.custom_price
        )
        in_force.append((phase.start_at, phase.end_at, terms, own_plan))
    ends = schedule.end_behavior == ScheduleEndBehavior.CANCEL and phases
    end_at = phases[-1].end_at if ends else None

    def terms_for(period_start):
        chosen, own_plan = in_force[0][2], in_force[0][3]
        for start, _end, terms, own in in_force:
            if start <= period_start:
                chosen, own_plan = terms, own
        if own_plan:
            price = subscription.plan_price_at(period_start)
            if price != chosen.plan.price:
                chosen = replace(chosen, plan=price_terms(subscription.plan, None, price=price))
        if end_at is not None:
            # The schedule ends the subscription at its last phase's end: the preview stops there too.
            return replace(chosen, overrides=MappingProxyType({**chosen.overrides, "cancel_at": end_at}))
        return chosen

    return ScheduleTerms(terms_for, tuple(entries), tuple(pauses))
