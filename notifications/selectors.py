"""Reads of the notification screens: endpoint list, delivery log, the alert banner, customer e-mails."""

from django.db.models import Count, Max, Q, QuerySet

from notifications.choices import CustomerEmailKind, DeliveryStatus
from notifications.models import (
    CustomerEmailTemplate,
    EmailSending,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)

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


def email_sending_list_queryset() -> QuerySet[EmailSending]:
    """The customer e-mails log, newest first (scoped to the merchant by the view); bodies stay unread."""
    return EmailSending.objects.defer("body_text", "body_html").order_by("-created_at", "-pk")


def email_sending_search(queryset: QuerySet[EmailSending], *, query: str) -> QuerySet[EmailSending]:
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(Q(recipient__icontains=query) | Q(subject__icontains=query))


def customer_email_kinds(merchant) -> list[dict]:
    """Every kind with the merchant's state of it (default / edited / off) and when it last went out."""
    rows = {row.kind: row for row in CustomerEmailTemplate.objects.filter(merchant=merchant)}
    last_sent = dict(
        EmailSending.objects.filter(merchant=merchant, status="sent")
        .values("kind")
        .annotate(last=Max("sent_at"))
        .values_list("kind", "last")
    )
    return [
        {
            "kind": kind,
            "label": kind.label,
            "row": rows.get(kind.value),
            "is_enabled": rows.get(kind.value) is None or rows[kind.value].is_enabled,
            "is_customized": rows.get(kind.value) is not None and rows[kind.value].is_customized,
            "last_sent_at": last_sent.get(kind.value),
        }
        for kind in CustomerEmailKind
    ]


def subscription_email_sendings(
    subscription_id: int, *, merchant_id: int, limit: int = 10
) -> list[EmailSending]:
    return list(
        EmailSending.objects.filter(merchant_id=merchant_id, subscription_id=subscription_id)
        .defer("body_text", "body_html")
        .order_by("-created_at", "-pk")[:limit]
    )
