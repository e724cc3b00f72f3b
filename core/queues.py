"""The task queues and how work is routed to them.

Billing and notifications run on separate django-q2 clusters (config.settings Q_CLUSTER and its
ALT_CLUSTERS; a `qcluster` process picks its cluster from the `Q_CLUSTER_NAME` environment variable), so
a merchant's backlog of webhook deliveries never sits in front of anyone's billing run. Every enqueue in
the project goes through `enqueue` with the queue named, never the default one by accident.
"""

from django_q.tasks import async_task

BILLING = "billing"
NOTIFICATIONS = "notifications"
QUEUES = (BILLING, NOTIFICATIONS)


def enqueue(func: str, *args, queue: str, task_name: str | None = None):
    """Queues `func(*args)` on `queue`'s cluster (the broker list that cluster alone reads)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    options = {"cluster": queue}
    if task_name:
        options["task_name"] = task_name
    return async_task(func, *args, q_options=options)
