"""Contracts dated in the past: how far back a merchant accepts, and what the first charges will be.

Both are named by settings hooks (subscribers may not import billing): `contract_date_bounds` is
checked by `subscription_create` for every caller; `draft_due_invoices` computes, with the very
functions the billing run uses (`period_invoice_totals` → `billing.calculations`), what will be
charged now for a subscription just contracted — the preview shown before saving and the amount the
success message states.
"""

import datetime as dt
from dataclasses import dataclass

from billing.calculations import InvoiceTotals
from billing.models import BillingSettings
from billing.services.invoicing import period_invoice_totals, tax_inputs
from plans.periods import add_interval, add_months, period_containing
from subscribers.choices import SubscriptionStatus

S = SubscriptionStatus
# A contract date further ahead than this is a typo far more often than a plan (2062 for 2026).
CONTRACT_MAX_YEARS_AHEAD = 2
# A safety net: within the bounds a contract has at most 12 periods (or 366 days) behind it.
_MAX_DRAFTED = 400


def contract_date_bounds(*, merchant, plan, today: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest, latest) contract date accepted today for `plan`.

    Earliest: the merchant's "retroativo máximo" — N periods of the plan or M days, whichever reaches
    further back (default 1 period or 31 days). Latest: `CONTRACT_MAX_YEARS_AHEAD` years from today.
    """
    policy = BillingSettings.for_merchant(merchant)
    by_days = today - dt.timedelta(days=policy.backdate_max_days)
    by_periods = add_interval(today, plan.interval_unit, plan.interval_count, -policy.backdate_max_periods)
    return min(by_days, by_periods), add_months(today, 12 * CONTRACT_MAX_YEARS_AHEAD)


@dataclass(frozen=True)
class DraftInvoice:
    period_start: dt.datetime
    period_end: dt.datetime
    totals: InvoiceTotals


def draft_due_invoices(*, subscription, tax_rates, now) -> list[DraftInvoice]:
    """The recurring invoices the billing run issues for `subscription` at `now`, without writing them.

    For a subscription just contracted (saved or not): its first invoice(s) — every period from its
    anchor to now for a backdated contract charged by whole periods, one for a contract starting today,
    none during a trial or for a scheduled one. Periods are stepped as the billing run steps them.
    """
    tz = subscription.merchant.tzinfo
    plan = subscription.plan
    taxes = tax_inputs(tax_rates)
    anchor = subscription.billing_cycle_anchor.astimezone(tz)
    start = subscription.next_invoice_at
    drafts: list[DraftInvoice] = []
    if subscription.status not in (S.ACTIVE, S.PAST_DUE, S.PENDING, S.TRIALING):
        return drafts
    while start is not None and start <= now and len(drafts) < _MAX_DRAFTED:
        if plan.installments and len(drafts) >= plan.installments:
            break
        if subscription.cancel_at is not None and subscription.cancel_at <= start:
            break
        local_start = start.astimezone(tz)
        if anchor <= local_start:
            _start, end = period_containing(
                anchor, plan.interval_unit, plan.interval_count, local_start, tz=tz
            )
        else:
            end = add_interval(local_start, plan.interval_unit, plan.interval_count)
        billed = len(drafts)
        totals = period_invoice_totals(
            subscription=subscription,
            period_start=start,
            period_end=end,
            periods_billed=billed,
            taxes=taxes,
            installment_number=billed + 1 if plan.installments else None,
        )
        drafts.append(DraftInvoice(period_start=start, period_end=end, totals=totals))
        start = end
    return drafts
