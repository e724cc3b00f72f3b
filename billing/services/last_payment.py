"""Each subscription's newest payment status, kept on the subscription (`last_payment_status`).

Assinantes shows it on every row and its export writes it for every subscription: read from the row,
that costs nothing, where looking it up per subscription was most of a million-row export's time.
Every payment written through the ORM updates it (billing.signals); the batch renewal, which inserts
and updates payments in bulk, calls `sync_last_payment_status` for its chunk.
"""

from django.db import connection
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from billing.models import Invoice, Payment
from core.bulk import in_values
from subscribers.models import Subscription


def _newest_status():
    # The same "last payment" the list always showed: the newest payment of any of the subscription's
    # invoices (created_at, then id).
    newest = Payment.objects.filter(invoice__subscription=OuterRef("pk")).order_by("-created_at", "-pk")
    return Coalesce(Subquery(newest.values("status")[:1]), Value(""))


# These subscriptions' newest payments in one pass (PostgreSQL), not a subquery per subscription. The
# correlated subquery is planned per row from the tables' statistics, and tables filled since their last
# ANALYZE (a truncated table refilled, a fresh database; the first billing runs of a new install) have
# none: the planner then joined each subscription's invoices to a sequential scan of every payment, 1,000
# scans a chunk, growing with the table (make bench-remote: 0.9 s of PostgreSQL a chunk at 3,000 payments,
# most of its PostgreSQL CPU at 20,000). Here the worst plan scans the payments once per call.
SYNC_SOME_POSTGRES = """
WITH newest AS (
    SELECT DISTINCT ON (i.subscription_id) i.subscription_id, p.status
    FROM billing_invoice i JOIN billing_payment p ON p.invoice_id = i.id
    WHERE i.subscription_id = ANY(%(ids)s::bigint[])
    ORDER BY i.subscription_id, p.created_at DESC, p.id DESC
)
UPDATE subscribers_subscription AS s SET last_payment_status = COALESCE(newest.status, '')
FROM unnest(%(ids)s::bigint[]) AS ids(id) LEFT JOIN newest ON newest.subscription_id = ids.id
WHERE s.id = ids.id AND s.last_payment_status IS DISTINCT FROM COALESCE(newest.status, '')
"""


def sync_last_payment_status(subscription_ids) -> int:
    """Recomputes `last_payment_status` of these subscriptions in one UPDATE; returns how many rows
    it rewrote (PostgreSQL: only those whose status changed)."""
    subscription_ids = sorted(set(subscription_ids))
    if not subscription_ids:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(SYNC_SOME_POSTGRES, {"ids": subscription_ids})
            return cursor.rowcount
    return Subscription.objects.filter(pk__in=in_values(subscription_ids)).update(
        last_payment_status=_newest_status()
    )


# Every subscription at once (PostgreSQL): one pass over the payments instead of a lookup per subscription.
# For data loaded in bulk (benchmarks, imports); the migration that added the column runs the same.
SYNC_ALL_POSTGRES = """
UPDATE subscribers_subscription AS s SET last_payment_status = newest.status
FROM (
    SELECT DISTINCT ON (i.subscription_id) i.subscription_id, p.status
    FROM billing_payment p JOIN billing_invoice i ON i.id = p.invoice_id
    WHERE i.subscription_id IS NOT NULL
    ORDER BY i.subscription_id, p.created_at DESC, p.id DESC
) AS newest
WHERE s.id = newest.subscription_id AND s.last_payment_status IS DISTINCT FROM newest.status
"""


def sync_all_last_payment_status(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute(SYNC_ALL_POSTGRES)
        return cursor.rowcount


def sync_for_invoice(invoice_id: int) -> int:
    """The same, for the subscription an invoice belongs to (one UPDATE, no lookup first)."""
    owner = Invoice.objects.filter(pk=invoice_id).values("subscription_id")[:1]
    return Subscription.objects.filter(pk=Subquery(owner)).update(last_payment_status=_newest_status())
