"""Deliveries a merchant asks for: "Enviar teste", "Reenviar" and the bulk "Reenviar" of the delivery log."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Event
from core.queues import NOTIFICATIONS, enqueue
from notifications.catalog import TEST_EVENT_TYPE
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint


def enqueue_delivery_run() -> None:
    """Asks a worker for a delivery pass now instead of at the next minute."""
    enqueue("notifications.tasks.deliver_webhooks", queue=NOTIFICATIONS, task_name="webhooks-on-demand")


def _refuse_inactive(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise ValidationError(
            _("O endpoint está desativado. Ative-o antes de enviar eventos para ele."),
            code="endpoint_inactive",
        )


def _new_delivery(*, endpoint, event, origin, actor, now, resend_of=None) -> WebhookDelivery:
    return WebhookDelivery(
        merchant_id=endpoint.merchant_id,
        endpoint=endpoint,
        event=event,
        origin=origin,
        resend_of=resend_of,
        next_attempt_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def webhook_send_test(*, endpoint: WebhookEndpoint, actor, now=None) -> WebhookDelivery:
    """Sends a "webhook.test" event to this endpoint only (its outbox row is born processed, so the
    fan-out never offers it to the merchant's other endpoints)."""
    now = now or timezone.now()
    _refuse_inactive(endpoint)
    event = Event.objects.create(
        merchant_id=endpoint.merchant_id,
        type=TEST_EVENT_TYPE,
        payload={"endpoint": {"id": endpoint.pk, "url": endpoint.url}},
        processed_at=now,
    )
    delivery = _new_delivery(endpoint=endpoint, event=event, origin=DeliveryOrigin.TEST, actor=actor, now=now)
    delivery.save()
    transaction.on_commit(lambda: enqueue_delivery_run(), robust=True)
    return delivery


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery, actor, now=None) -> WebhookDelivery:
    """A new delivery of the same event to the same endpoint: same body, same `webhook-id`, so a receiver
    that already processed it can recognise it."""
    now = now or timezone.now()
    _refuse_inactive(delivery.endpoint)
    if not delivery.can_resend:
        raise ValidationError(
            _("Esta entrega ainda está sendo tentada; aguarde o resultado para reenviar."),
            code="still_pending",
        )
    resend = _new_delivery(
        endpoint=delivery.endpoint,
        event=delivery.event,
        origin=DeliveryOrigin.RESEND,
        actor=actor,
        now=now,
        resend_of=delivery,
    )
    resend.save()
    transaction.on_commit(lambda: enqueue_delivery_run(), robust=True)
    return resend


@transaction.atomic
def webhook_deliveries_resend(
    *, endpoint: WebhookEndpoint, actor, delivery_ids=None, all_failed: bool = False, now=None
) -> list[WebhookDelivery]:
    """Resends several deliveries of one endpoint: the chosen ones (`delivery_ids`, other endpoints' and
    still-pending ones are ignored) or every delivery that ended failed (`all_failed`)."""
    now = now or timezone.now()
    _refuse_inactive(endpoint)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).exclude(status=DeliveryStatus.PENDING)
    if all_failed:
        deliveries = deliveries.filter(status=DeliveryStatus.FAILED)
    else:
        deliveries = deliveries.filter(pk__in=list(delivery_ids or []))
    originals = list(deliveries.select_related("event").order_by("pk"))
    if not originals:
        raise ValidationError(_("Nenhuma entrega para reenviar."), code="nothing_to_resend")
    resends = WebhookDelivery.objects.bulk_create(
        [
            _new_delivery(
                endpoint=endpoint,
                event=original.event,
                origin=DeliveryOrigin.RESEND,
                actor=actor,
                now=now,
                resend_of=original,
            )
            for original in originals
        ]
    )
    transaction.on_commit(lambda: enqueue_delivery_run(), robust=True)
    return resends
