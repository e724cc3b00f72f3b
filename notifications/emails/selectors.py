"""Reads of the customer e-mail screens and of the subscription page's e-mail list."""

from django.db.models import Max, Q, QuerySet

from notifications.emails.choices import CustomerEmailKind, TemplateState
from notifications.emails.models import CustomerEmailTemplate, EmailSending


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
            "state": TemplateState.of(
                is_enabled=rows.get(kind.value) is None or rows[kind.value].is_enabled,
                is_customized=rows.get(kind.value) is not None and rows[kind.value].is_customized,
            ),
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
