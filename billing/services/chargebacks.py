"""Chargebacks: the card holder's bank took a payment back. The money is gone, so the subscription ends.

Lock order: Subscription, then Invoice, then Payment (docs/billing-states.md).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import ChargebackStatus, PaymentStatus
from billing.locks import lock_payment_with_parents
from billing.models import Chargeback, Payment
from billing.services.charging import payment_payload
from billing.services.states import chargeback_move, payment_move
from core.events import EventType
from core.money import format_money
from core.outbox import emit
from subscribers import timeline
from subscribers.choices import CancelOrigin, SubscriptionStatus
from subscribers.services import subscription_apply_billing, subscription_payload

# Statuses a chargeback ends: the subscription still runs (or has yet to start) on money that is gone.
ENDS_ON_CHARGEBACK = frozenset(
    {
        SubscriptionStatus.SCHEDULED,
        SubscriptionStatus.PENDING,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
    }
)


def chargeback_payload(chargeback: Chargeback, payment: Payment, subscription) -> dict:
    return {
        "id": chargeback.pk,
        "payment": payment_payload(payment),
        "invoice": payment.invoice_id,
        "subscription": subscription_payload(subscription) if subscription is not None else None,
        "amount": chargeback.amount,
        "currency": payment.currency,
        "reason": chargeback.reason,
        "gateway_reference": chargeback.gateway_reference,
        "status": chargeback.status,
    }


def record_chargeback(
    *,
    payment: Payment,
    actor=None,
    amount: int | None = None,
    reason: str = "",
    gateway_reference="",
    now=None,
) -> Chargeback:
    """Records the bank's chargeback of `payment` (all that is left of it when `amount` is None) and ends
    its subscription at once (canceled by the customer, access revoked), all in one transaction with the
    `chargeback.created` event. Refused with ValidationError when the payment cannot be charged back."""
    now = now or timezone.now()
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise TypeError(f"amount must be an integer in minor units, not {type(amount).__name__}")
    with transaction.atomic():
        subscription, _invoice, payment = lock_payment_with_parents(payment)
        refusal = payment.chargeback_refusal()
        if refusal is not None:
            raise ValidationError(refusal, code="cannot_charge_back")
        available = payment.chargeable_amount
        if amount is None:
            amount = available
        if not 1 <= amount <= available:
            raise ValidationError(
                {
                    "amount": ValidationError(
                        _("O valor do chargeback deve estar entre %(min)s e %(max)s.")
                        % {
                            "min": format_money(1, payment.currency),
                            "max": format_money(available, payment.currency),
                        },
                        code="invalid_amount",
                    )
                }
            )
        reason = (reason or "").strip()
        chargeback = Chargeback.objects.create(
            merchant_id=payment.merchant_id,
            payment=payment,
            amount=amount,
            reason=reason,
            gateway_reference=(gateway_reference or "")[:100],
            actor=actor if getattr(actor, "pk", None) else None,
        )
        # The payment ends charged_back (no event of its own: chargeback.created below carries it).
        payment_move(payment=payment, to=PaymentStatus.CHARGED_BACK, now=now, amount_charged_back=amount)
        if subscription is not None and subscription.status in ENDS_ON_CHARGEBACK:
            subscription_apply_billing(
                subscription=subscription,
                now=now,
                to_status=SubscriptionStatus.CANCELED,
                cancel_origin=CancelOrigin.CUSTOMER,
                reason_code=timeline.CHARGEBACK,
                reason_params={"amount": amount, "currency": payment.currency, "reason": reason or "—"},
                data={"chargeback": chargeback.pk, "amount": amount},
            )
        emit(
            merchant=payment.merchant,
            type=EventType.CHARGEBACK_CREATED,
            payload=chargeback_payload(chargeback, payment, subscription),
        )
    return chargeback


def chargeback_close(*, chargeback: Chargeback, won: bool, now=None) -> Chargeback:
    """The bank decided the dispute. Won: the money came back to the merchant, so the payment counts as
    received again (amount_charged_back back to 0; succeeded, or partially_refunded when part of it had
    been refunded). Lost: it stays charged back. Either way the subscription stays ended (taking a
    customer back is the merchant's call) and `chargeback.closed` is emitted, in one transaction. A
    chargeback already decided is left as it is (returns it unchanged)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription, _invoice, payment = lock_payment_with_parents(chargeback.payment)
        chargeback = Chargeback.objects.select_for_update().get(pk=chargeback.pk)
        if chargeback.status != ChargebackStatus.OPEN:
            return chargeback
        if won:
            chargeback_move(chargeback=chargeback, to=ChargebackStatus.WON, now=now)
            if payment.status == PaymentStatus.CHARGED_BACK:
                to = PaymentStatus.PARTIALLY_REFUNDED if payment.amount_refunded else PaymentStatus.SUCCEEDED
                payment_move(payment=payment, to=to, now=now, amount_charged_back=0)
        else:
            chargeback_move(chargeback=chargeback, to=ChargebackStatus.LOST, now=now)
        emit(
            merchant=payment.merchant,
            type=EventType.CHARGEBACK_CLOSED,
            payload=chargeback_payload(chargeback, payment, subscription),
        )
    return chargeback
