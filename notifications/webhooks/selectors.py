"""Reads of the webhook screens: endpoint list, delivery log, the alert banner."""

from django.db.models import Count, Max, Q, QuerySet

from notifications.webhooks.choices import DeliveryStatus
from notifications.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint

ALERT_LIMIT = 3


def endpoint_list_queryset() -> QuerySet[WebhookEndpoint]:
    """Endpoints with their delivery figures for the list (scoped to the merchant by the view)."""
    return WebhookEndpoint.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        last_delivery_at=Max("deliveries__last_attempt_at"),
    ).order_by("-created_at", "-pk")


def endpoint_search(queryset: QuerySet[WebhookEndpoint], *, query: str) -> QuerySet[WebhookEndpoint]:
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(Q(url__icontains=query) | Q(description__icontains=query))


def delivery_log_queryset(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """One endpoint's deliveries, newest first, with the event every row shows."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )


def delivery_detail_queryset() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("endpoint", "event", "created_by", "resend_of")


def delivery_attempts(delivery: WebhookDelivery) -> QuerySet[WebhookDeliveryAttempt]:
    return delivery.attempts.order_by("-number")


def disabled_endpoint_alerts(merchant) -> list[WebhookEndpoint]:
    """The merchant's endpoints the platform disabled by itself: the banner on every page lists them."""
    return list(
        WebhookEndpoint.objects.filter(merchant=merchant, is_active=False)
        .exclude(disabled_reason="")
        .only("pk", "url", "disabled_at", "disabled_reason")
        .order_by("-disabled_at", "-pk")[:ALERT_LIMIT]
    )
