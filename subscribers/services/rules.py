"""Whether an action may be done on a subscription now, asked the same way by every button and by the
services: the status table (`Subscription.can`), then the action's own rule — a refund needs a payment left
to refund (billing's rule, through the extension point), a delete needs no money to have moved."""

from subscribers import extension_points
from subscribers.choices import SubscriptionAction
from subscribers.models import Subscription
from subscribers.services._common import refusal_message


def action_refusal(
    subscription: Subscription, action: str, *, has_paid_payment=None, today=None
) -> str | None:
    """Why `action` may not be done on `subscription` now — the message its service raises — or None.

    `has_paid_payment` (refunds) may come annotated by a list's queryset
    (subscribers.selectors.with_row_action_facts); without it one query finds out."""
    if action == SubscriptionAction.REFUND:
        if has_paid_payment is None:
            from subscribers.selectors import with_row_action_facts

            has_paid_payment = (
                with_row_action_facts(Subscription.objects.filter(pk=subscription.pk))
                .values_list("has_paid_payment", flat=True)
                .first()
            )
        return extension_points.refund_refusal(subscription, has_paid_payment=bool(has_paid_payment))
    if not subscription.can(action, today=today):
        return refusal_message(subscription, action)
    if action == SubscriptionAction.DELETE:
        # subscription_delete refuses with the same reason (deletion_summary → billing_history).
        return extension_points.billing_history(subscription, delete=False)["blocked_reason"] or None
    return None
