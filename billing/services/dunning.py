"""The dunning schedule: when a declined invoice is tried again, and what ends it.

One copy of the rule, read by the per-subscription path (`billing.services.charging._failed`), the bulk
writer (`billing.services.batch`) and the "Simular inadimplência" preview
(`billing.services.upcoming.simulate_dunning`), so what the screen promises is what the billing run does.
"""

import datetime as dt

from billing.choices import DunningFinalAction
from subscribers.choices import SubscriptionStatus

# Dunning's final action → the status the subscription ends in (None: it stays past due, owing).
FINAL_STATUS = {
    DunningFinalAction.EXPIRE: SubscriptionStatus.EXPIRED,
    DunningFinalAction.CANCEL: SubscriptionStatus.CANCELED,
    DunningFinalAction.KEEP_UNPAID: None,
}


def next_retry_at(*, policy, attempt_count: int, failed_at: dt.datetime) -> dt.datetime | None:
    """When an invoice whose `attempt_count`-th charge failed at `failed_at` is charged again under the
    merchant's `policy` (BillingSettings): `retries` more attempts, `retry_interval_hours` apart. None:
    the retries are exhausted (the invoice becomes uncollectible and the final action follows)."""
    if attempt_count <= policy.retries:
        return failed_at + dt.timedelta(hours=policy.retry_interval_hours)
    return None


def final_status(policy) -> str | None:
    """The status dunning's final action ends the subscription in (None: kept past due)."""
    return FINAL_STATUS[DunningFinalAction(policy.final_action)]
