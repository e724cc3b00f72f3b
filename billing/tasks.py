"""django-q2 tasks of the billing app: they take ids and call services. They run on the billing cluster
(core.queues.BILLING); setup_schedules installs SCHEDULES there."""

from billing.services import billing_run, provider_events
from core.queues import enqueue

QUEUE = "billing"
SCHEDULES = {
    "billing: run (renewals, retries, boleto/pix expiries)": ("billing.tasks.run_billing", 1),
    # The workers' heartbeats also reap every few seconds; this catches a billing cluster with no worker
    # alive at all once one starts again.
    "billing: reap runs and chunks left by crashed workers": ("billing.tasks.reap_billing_runs", 1),
    "billing: queue provider events left pending": ("billing.tasks.sweep_provider_events", 1),
}


def run_billing():
    """The scheduled billing run: finds due work and enqueues it in chunks."""
    return [run.pk for run in billing_run.billing_run_start()]


def process_chunk(run_id, subscription_ids):
    return billing_run.process_chunk(run_id=run_id, subscription_ids=subscription_ids)


def reap_billing_runs():
    return billing_run.billing_run_reap()


def bill_subscription(subscription_id):
    """The first charge right after a contract (the scheduled run would pick it up within a minute)."""
    return billing_run.process_subscription(subscription_id=subscription_id)


def process_provider_events(merchant_id, object_key):
    """Applies one provider object's pending inbound events in order (billing/services/provider_events.py)."""
    return provider_events.provider_events_process(merchant_id=merchant_id, object_key=object_key)


def process_provider_event_batch():
    """Applies the pending inbound events of up to BATCH_OBJECTS objects; a full batch queues the next one
    (there may be more)."""
    counts = provider_events.provider_events_process_batch()
    if counts["claimed"] >= provider_events.BATCH_OBJECTS:
        enqueue("billing.tasks.process_provider_event_batch", queue=QUEUE)
    return counts


def drain_provider_events(not_before):
    """A web process's wake-up: queues the objects with pending inbound events once its window closed."""
    return provider_events.provider_events_drain(not_before=not_before)


def sweep_provider_events():
    return provider_events.provider_events_sweep()
