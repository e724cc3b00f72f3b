"""Writes of the dashboard app: the stored snapshot large merchants' Painel reads."""

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Merchant
from dashboard import selectors
from dashboard.models import MetricFact, MetricsSnapshot
from subscribers.models import Subscription

FACT_BATCH_SIZE = 5_000


@transaction.atomic
def snapshot_refresh(*, merchant, now=None) -> MetricsSnapshot:
    """Recomputes a merchant's snapshot from scratch: the state of the moment and every daily fact over
    all history, replacing the previous ones in one transaction (readers see the old or the new, whole).

    Concurrent refreshes of one merchant queue on the snapshot row's lock instead of interleaving."""
    now = now or timezone.now()
    snapshot, _created = MetricsSnapshot.objects.get_or_create(merchant=merchant, defaults={"taken_at": now})
    snapshot = MetricsSnapshot.objects.select_for_update().get(pk=snapshot.pk)
    state = selectors.live_state(merchant=merchant)
    facts = selectors.running_facts(merchant=merchant) + selectors.event_facts(merchant=merchant)
    MetricFact.objects.filter(merchant=merchant).delete()
    MetricFact.objects.bulk_create(
        (MetricFact(merchant=merchant, **fact._asdict()) for fact in facts), batch_size=FACT_BATCH_SIZE
    )
    snapshot.taken_at = now
    snapshot.subscriptions = state["subscriptions"]
    snapshot.state = state
    snapshot.save(update_fields=["taken_at", "subscriptions", "state"])
    return snapshot


@transaction.atomic
def snapshot_drop(*, merchant) -> None:
    """Back to live numbers (the merchant has fewer than LIVE_LIMIT subscriptions again)."""
    MetricFact.objects.filter(merchant=merchant).delete()
    MetricsSnapshot.objects.filter(merchant=merchant).delete()


def snapshots_refresh(*, limit: int = selectors.LIVE_LIMIT, now=None) -> dict:
    """Refreshes the snapshot of every merchant with `limit` subscriptions or more and drops those of
    merchants below it; one transaction per merchant. Returns {"refreshed": n, "dropped": n}."""
    sizes = dict(
        Subscription.objects.values("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("merchant_id", "n")
    )
    large = [merchant_id for merchant_id, n in sizes.items() if n >= limit]
    refreshed = 0
    for merchant in Merchant.objects.filter(pk__in=large).order_by("pk"):
        snapshot_refresh(merchant=merchant, now=now)
        refreshed += 1
    dropped = 0
    for merchant in (
        Merchant.objects.filter(metrics_snapshot__isnull=False).exclude(pk__in=large).order_by("pk")
    ):
        snapshot_drop(merchant=merchant)
        dropped += 1
    return {"refreshed": refreshed, "dropped": dropped}
