"""Changing terms: plan, quantity, discount, salesperson, payment method, tax rates."""

import copy
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import EventType
from core.outbox import emit
from subscribers import extension_points, timeline
from subscribers.choices import (
    DiscountType,
    EventKind,
    PaymentMethod,
    SubscriptionAction,
)
from subscribers.locks import lock_subscription
from subscribers.models import Subscription
from subscribers.pricing import subscription_amount
from subscribers.services._common import (
    S,
    _check_catalog,
    _check_discount,
    _check_tax_rates,
    _field_error,
    _jsonable,
    _payload,
    _record,
    _refuse,
)
from subscribers.services.contract import _card_fields, _check_coupon
from subscribers.services.price_changes import PRICE_VERSION_FIELDS, subscription_plan_switch
from subscribers.validators import card_digits

# `coupon` default of subscription_update: leave the coupon as it is.
KEEP = object()


def kept_discount(subscription: Subscription) -> dict:
    """The subscription's own discount, as subscription_update and the change previews take it."""
    return {
        "discount_type": subscription.discount_type,
        "discount_percent": subscription.discount_percent,
        "discount_amount": subscription.discount_amount,
        "discount_periods": subscription.discount_periods,
    }


def kept_terms(subscription: Subscription) -> dict:
    """What subscription_update asks for besides plan and quantity, as the subscription has it now: for a
    change of one term (the portal's plan switch, a retention coupon) that keeps every other."""
    return {
        "payment_method": subscription.payment_method,
        "salesperson": subscription.salesperson,
        **kept_discount(subscription),
    }


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    actor,
    plan,
    quantity: int,
    payment_method: str,
    salesperson=None,
    discount_type: str = DiscountType.NONE,
    discount_percent: Decimal | None = None,
    discount_amount: int | None = None,
    discount_periods: int | None = None,
    tax_rates=None,
    coupon=KEEP,
    apply: str = "now",
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    now: dt.datetime | None = None,
) -> Subscription:
    """Changes plan, quantity, discount, salesperson, payment method or tax rates; refused once the
    subscription ended.

    A plan or quantity change waits for the next renewal (`pending_plan` / `pending_quantity`, applied
    by the billing run) unless `apply="now"` (or the subscription has not started): then it takes effect
    at once and the extension point subscribers.plan_change (billing's proration) bills
    the rest of the paid period, in this same transaction. Choosing the current terms again drops a
    change that was waiting. Other terms always change at once.

    `tax_rates=None` leaves the taxes as they are; a list replaces them (the merchant's active ones, or
    ones the subscription already has) and is recorded among the edit's changes as ids.

    `coupon` (default: kept) adds, replaces (a Coupon, checked like at contract time) or removes (None)
    the coupon. It discounts from the next invoice on: the period already paid is not re-billed (a plan
    change applied now in the same edit prorates its new side with it). Recorded as `coupon` in the
    edit's changes, with the `subscription.updated` event. `reason` is the timeline entry's text as a person
    typed it; a line the system words itself (a retention offer accepted in the portal) is `reason_code`
    and its `reason_params` (subscribers/timeline.py), translated when shown.
    """
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.EDIT)
    if apply not in ("now", "next_cycle"):
        raise _field_error("apply", _("Escolha quando aplicar a mudança."), "apply_required")
    merchant = subscription.merchant
    _check_catalog(
        merchant=merchant,
        customer=subscription.customer,
        plan=plan,
        salesperson=salesperson,
        # The plan of a change already waiting for the next cycle stays acceptable, like the current one.
        current_plan=plan if plan in (subscription.plan, subscription.pending_plan) else subscription.plan,
    )
    old_plan, old_quantity = subscription.plan, subscription.quantity
    terms_change = (plan, quantity) != (old_plan, old_quantity)
    # A subscription that has not started has no cycle to wait for: its first one uses the new terms.
    if subscription.status == S.SCHEDULED:
        apply = "now"
    defer = terms_change and apply == "next_cycle"
    discount_type = discount_type or DiscountType.NONE
    # The subscription's own price version on its plan (grandfathered); another plan at its current price.
    gross = (subscription.plan_price_at(now) if plan == old_plan else plan.price) * (quantity or 1)
    _check_discount(
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        # The discount applies at once: while a change waits it must fit the current terms as well.
        gross=min(gross, subscription.plan_price_at(now) * old_quantity) if defer else gross,
    )
    before = model_to_dict(subscription, fields=_EDITABLE)
    # The terms before the edit (discount, coupon, taxes): a proration credits the old terms' unused time
    # at what they cost.
    previous = copy.copy(subscription)
    old_tax_rates = list(subscription.tax_rates.all())
    old_tax_rate_ids = sorted(rate.pk for rate in old_tax_rates)
    old_coupon_id = subscription.coupon_id
    if coupon is not KEEP and getattr(coupon, "pk", None) != old_coupon_id:
        _check_coupon(merchant=merchant, coupon=coupon, now=now)
        subscription.coupon = coupon
        subscription.coupon_applied_at = now if coupon is not None else None
    new_tax_rate_ids = old_tax_rate_ids
    if tax_rates is not None:
        tax_rates = list(tax_rates)
        _check_tax_rates(merchant=merchant, tax_rates=tax_rates, kept=subscription.tax_rates.all())
        new_tax_rate_ids = sorted({rate.pk for rate in tax_rates})
    if defer:
        subscription.pending_plan = plan if plan != old_plan else None
        subscription.pending_quantity = quantity if quantity != old_quantity else None
    else:
        subscription_plan_switch(subscription, plan)
        subscription.currency = plan.currency
        subscription.quantity = quantity
        subscription.pending_plan = None
        subscription.pending_quantity = None
    subscription.payment_method = payment_method
    subscription.salesperson = salesperson
    subscription.discount_type = discount_type
    subscription.discount_percent = discount_percent if discount_type == DiscountType.PERCENT else None
    subscription.discount_amount = discount_amount if discount_type == DiscountType.FIXED else None
    subscription.discount_periods = discount_periods if discount_type else None
    subscription.amount = subscription_amount(
        price=subscription.plan_price_at(now),
        quantity=subscription.quantity,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
    )
    subscription.full_clean(exclude=["status"])
    after = model_to_dict(subscription, fields=_EDITABLE)
    changes = {k: [_jsonable(before[k]), _jsonable(after[k])] for k in _EDITABLE if before[k] != after[k]}
    if new_tax_rate_ids != old_tax_rate_ids:
        changes["tax_rates"] = [old_tax_rate_ids, new_tax_rate_ids]
    if subscription.coupon_id != old_coupon_id:
        changes["coupon"] = [old_coupon_id, subscription.coupon_id]
    if not changes:
        return subscription
    subscription.save(
        update_fields=[
            *_EDITABLE,
            *PRICE_VERSION_FIELDS,
            "currency",
            "coupon",
            "coupon_applied_at",
            "updated_at",
        ]
    )
    if "tax_rates" in changes:
        subscription.tax_rates.set(new_tax_rate_ids)
    data = {"changes": changes}
    if defer:
        data["apply"] = "next_cycle"
    elif terms_change:
        data["apply"] = "now"
        hook = extension_points.plan_change
        note = hook(
            subscription=subscription,
            old_plan=old_plan,
            old_quantity=old_quantity,
            now=now,
            previous=previous,
            old_tax_rates=old_tax_rates,
        )
        if note:
            data["proration"] = note
    _record(
        subscription,
        kind=EventKind.EDITED,
        actor=actor,
        reason="" if reason_code else reason,
        reason_code=reason_code,
        reason_params=reason_params,
        data=data,
        at=now,
    )
    emit(
        merchant=merchant,
        type=EventType.SUBSCRIPTION_UPDATED,
        payload={**_payload(subscription), "changes": changes},
    )
    return subscription


_EDITABLE = [
    "plan",
    "quantity",
    "pending_plan",
    "pending_quantity",
    "payment_method",
    "salesperson",
    "discount_type",
    "discount_percent",
    "discount_amount",
    "discount_periods",
    "amount",
]


@transaction.atomic
def subscription_change_card(
    *, subscription: Subscription, actor, card_number: str, now=None
) -> Subscription:
    """Alterar cartão: replaces the card on file (the gateway's token; the sandbox takes its test card
    numbers as tokens) so the next attempt, or "Cobrar agora", charges the new card. Refused unless the
    subscription is paid by card and still charged; the timeline and `subscription.card_updated` record
    the last four digits of both cards, never the number."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.CHANGE_CARD, now=now)
    digits = card_digits(card_number or "")
    old_last4 = subscription.card_last4
    for name, value in _card_fields(PaymentMethod.CARD, digits).items():
        setattr(subscription, name, value)
    subscription.save(update_fields=["payment_token", "card_brand", "card_last4", "updated_at"])
    data = {
        "old_card_last4": old_last4,
        "card_last4": subscription.card_last4,
        "card_brand": subscription.card_brand,
    }
    _record(
        subscription,
        kind=EventKind.EDITED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.CARD_CHANGED,
        reason_params={"old": old_last4 or None, "new": subscription.card_last4},
        data=data,
        at=now,
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_CARD_UPDATED,
        payload={**_payload(subscription), **data},
    )
    return subscription


# What a subscription may be switched to by a payment-method change: the methods charged through a gateway.
# "manual" (paid offline, recorded by the team) is set from the edit screen only.
SWITCHABLE_METHODS = (PaymentMethod.CARD, PaymentMethod.BOLETO, PaymentMethod.PIX)


@transaction.atomic
def subscription_change_payment_method(
    *, subscription: Subscription, actor, payment_method: str, card_number: str = "", now=None
) -> Subscription:
    """Trocar forma de pagamento (card ↔ boleto ↔ pix) from the next invoice on: invoices already issued
    keep the charge they have (an open boleto stays payable), the billing run charges the next one with the
    new method. A switch to card needs the card (its token; the sandbox takes test numbers); a switch away
    from card forgets the card on file. Recorded on the timeline (the edit's `changes`) and as
    `subscription.updated`, like the edit screen's change of method."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.EDIT, now=now)
    if payment_method not in SWITCHABLE_METHODS:
        raise _field_error("payment_method", _("Escolha cartão, boleto ou pix."), "payment_method_invalid")
    old_method = subscription.payment_method
    if payment_method == old_method:
        raise _field_error(
            "payment_method", _("Esta já é a forma de pagamento da assinatura."), "payment_method_unchanged"
        )
    digits = card_digits(card_number or "") if payment_method == PaymentMethod.CARD else ""
    if payment_method == PaymentMethod.CARD and not digits:
        raise _field_error("card_number", _("Informe o número do cartão."), "card_required")
    old_last4 = subscription.card_last4
    subscription.payment_method = payment_method
    for name, value in _card_fields(payment_method, digits).items():
        setattr(subscription, name, value)
    subscription.save(
        update_fields=["payment_method", "payment_token", "card_brand", "card_last4", "updated_at"]
    )
    changes = {"payment_method": [old_method, payment_method]}
    if old_last4 != subscription.card_last4:
        changes["card_last4"] = [old_last4, subscription.card_last4]
    _record(
        subscription,
        kind=EventKind.EDITED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.PAYMENT_METHOD_CHANGED,
        reason_params={"old_method": old_method, "new_method": payment_method},
        data={"changes": changes, "apply": "next_invoice"},
        at=now,
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_UPDATED,
        payload={**_payload(subscription), "changes": changes},
    )
    return subscription
