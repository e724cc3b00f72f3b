"""Contracts dated in the past: how far back a merchant accepts, and what the first charges will be.

Both are named by settings hooks (subscribers may not import billing): `contract_date_bounds` is
checked by `subscription_create` for every caller; `draft_due_invoices` drafts, with the renewal engine
the billing run uses (`billing.services.renewal.draft_renewal` → `billing.calculations`), what will be
charged now for a subscription just contracted — the preview shown before saving and the amount the
success message states.
"""

import copy
import datetime as dt

from billing.models import BillingSettings
from billing.services.invoicing import taxes_of
from billing.services.renewal import RenewalDraft, draft_renewal
from plans.periods import add_interval, add_months
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


def draft_due_invoices(*, subscription, tax_rates, now) -> list[RenewalDraft]:
    """The renewals the billing run makes for `subscription` at `now`, drafted without writing them.

    For a subscription just contracted (saved or not): its first invoice(s) — every period from its
    anchor to now for a backdated contract charged by whole periods, one for a contract starting today,
    none during a trial or for a scheduled one. The subscription is not changed (a copy advances).
    """
    if subscription.status not in (S.ACTIVE, S.PAST_DUE, S.PENDING, S.TRIALING):
        return []
    state = copy.copy(subscription)
    tz = subscription.merchant.tzinfo
    taxes = taxes_of(tax_rates)
    drafts: list[RenewalDraft] = []
    while state.next_invoice_at is not None and state.next_invoice_at <= now and len(drafts) < _MAX_DRAFTED:
        if state.cancel_at is not None and state.cancel_at <= state.next_invoice_at:
            break
        draft = draft_renewal(
            subscription=state,
            plan=subscription.price_terms,
            periods_billed=len(drafts),
            taxes=taxes,
            tz=tz,
            now=now,
        )
        if draft is None:  # every installment drafted
            break
        drafts.append(draft)
        state.next_invoice_at = draft.period_end
    return drafts
