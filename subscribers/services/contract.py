"""Contracting: subscription_create and what a start does to a subscription."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.outbox import emit
from core.queues import BILLING, enqueue
from plans.periods import period_containing
from subscribers.choices import (
    DiscountType,
    EventKind,
    PaymentMethod,
    SubscriptionOrigin,
)
from subscribers.models import Subscription
from subscribers.pricing import subscription_amount
from subscribers.services._common import (
    S,
    _check_catalog,
    _check_discount,
    _check_tax_rates,
    _move,
    _payload,
    _record,
)


def _card_fields(payment_method: str, payment_token: str) -> dict:
    """What we keep of a card: the gateway's token, the brand and the last four digits."""
    digits = "".join(ch for ch in (payment_token or "") if ch.isdigit())
    if payment_method != PaymentMethod.CARD or not digits:
        return {"payment_token": "", "card_brand": "", "card_last4": ""}
    brand = {"4": "Visa", "5": "Mastercard", "3": "Amex", "6": "Elo"}.get(digits[0], "")
    return {"payment_token": digits, "card_brand": brand, "card_last4": digits[-4:]}


def _check_coupon(*, merchant, coupon, now) -> None:
    """A coupon must be this merchant's, active, not expired and not used up."""
    if coupon is None:
        return
    message = None
    if coupon.merchant_id != merchant.pk:
        message = _("Cupom não encontrado.")
    elif not coupon.is_active:
        message = _("Este cupom está desativado.")
    elif coupon.expires_at is not None and coupon.expires_at <= now:
        message = _("Este cupom expirou.")
    elif coupon.max_redemptions is not None and coupon.subscriptions.count() >= coupon.max_redemptions:
        message = _("Este cupom já foi usado o número máximo de vezes.")
    if message:
        raise ValidationError({"coupon": message}, code="invalid_coupon")


def _start(subscription: Subscription, *, now) -> None:
    """Sets status, periods and anchor for a subscription whose contract date has arrived.

    Calendar arithmetic happens in the merchant's timezone (the anchor may come back from the database
    in UTC). A backdated contract whose trial is already over starts billing at the trial's end.
    """
    plan = subscription.plan
    tz = subscription.merchant.tzinfo
    start = subscription.billing_cycle_anchor.astimezone(tz)
    subscription.started_at = now
    if plan.trial_days:
        subscription.trial_ends_at = start + dt.timedelta(days=plan.trial_days)
        subscription.billing_cycle_anchor = subscription.trial_ends_at
    # Billing invoices from the anchor: a trial's end, or the contract date (a backdated contract is
    # charged for the periods already passed).
    subscription.next_invoice_at = subscription.billing_cycle_anchor
    if plan.trial_days and now < subscription.trial_ends_at:
        subscription.current_period_start, subscription.current_period_end = start, subscription.trial_ends_at
        to_status = S.TRIALING
    else:
        anchor = subscription.billing_cycle_anchor
        subscription.current_period_start, subscription.current_period_end = period_containing(
            anchor, plan.interval_unit, plan.interval_count, max(now, anchor), tz=tz
        )
        # Boleto and pix are paid later: the subscription waits as "pending" until billing settles it.
        waiting = subscription.payment_method in (PaymentMethod.BOLETO, PaymentMethod.PIX)
        to_status = S.PENDING if waiting else S.ACTIVE
    if subscription.status != to_status:
        _move(subscription, to_status)


def _enqueue_first_charge(subscription_pk: int) -> None:
    # By name: billing builds on subscribers, so we may not import it. The per-minute billing run
    # would pick the subscription up anyway; this only makes the first charge immediate.
    enqueue(
        "billing.tasks.bill_subscription",
        subscription_pk,
        queue=BILLING,
        task_name=f"first-charge-{subscription_pk}",
    )


# --- contract --------------------------------------------------------------------------------------
@transaction.atomic
def subscription_create(
    *,
    merchant,
    actor,
    customer,
    plan,
    contract_date: dt.date,
    quantity: int = 1,
    payment_method: str = PaymentMethod.CARD,
    notify_customer: bool = False,
    discount_type: str = DiscountType.NONE,
    discount_percent: Decimal | None = None,
    discount_amount: int | None = None,
    discount_periods: int | None = None,
    coupon=None,
    tax_rates=(),
    payment_token: str = "",
    salesperson=None,
    origin: str = SubscriptionOrigin.SCREEN,
    provider: str = "",
    provider_id: str = "",
    now: dt.datetime | None = None,
) -> Subscription:
    """Contracts `plan` for `customer`. Today or earlier starts now (trial → trialing); a future
    contract date waits as scheduled. With `notify_customer` the customer gets the "assinatura criada"
    e-mail: notifications' outbox consumer sends it from the `subscription.created` event.

    `tax_rates` (the merchant's active ones) are added to every invoice by billing; `payment_token` is
    the card as the gateway knows it (the sandbox takes a test card number), kept only for "card".
    """
    now = now or timezone.now()
    if contract_date is None:
        raise ValidationError({"contract_date": _("Informe a data de contratação.")})
    _check_catalog(merchant=merchant, customer=customer, plan=plan, salesperson=salesperson)
    discount_type = discount_type or DiscountType.NONE
    _check_coupon(merchant=merchant, coupon=coupon, now=now)
    tax_rates = list(tax_rates or ())
    _check_tax_rates(merchant=merchant, tax_rates=tax_rates)
    _check_discount(
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        gross=plan.price * (quantity or 1),
    )
    today = merchant.localdate(now)
    anchor = now if contract_date == today else merchant.start_of_day(contract_date)
    subscription = Subscription(
        merchant=merchant,
        customer=customer,
        plan=plan,
        quantity=quantity,
        status=S.SCHEDULED,
        payment_method=payment_method,
        origin=origin,
        provider=provider,
        provider_id=provider_id,
        currency=plan.currency,
        discount_type=discount_type,
        discount_percent=discount_percent if discount_type == DiscountType.PERCENT else None,
        discount_amount=discount_amount if discount_type == DiscountType.FIXED else None,
        discount_periods=discount_periods if discount_type else None,
        salesperson=salesperson,
        notify_customer=notify_customer,
        coupon=coupon,
        coupon_applied_at=now if coupon else None,
        **_card_fields(payment_method, payment_token),
        contract_date=contract_date,
        billing_cycle_anchor=anchor,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    subscription.amount = subscription_amount(
        price=plan.price,
        quantity=quantity or 1,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
    )
    if contract_date <= today:
        _start(subscription, now=now)
    subscription.full_clean(exclude=["status"])
    subscription.save()
    subscription.tax_rates.set(tax_rates)
    _record(
        subscription,
        kind=EventKind.CREATED,
        actor=actor,
        to_status=subscription.status,
        data={"tax_rates": sorted(rate.pk for rate in tax_rates)} if tax_rates else None,
        at=now,
    )
    emit(merchant=merchant, type="subscription.created", payload=_payload(subscription))
    if subscription.status in (S.ACTIVE, S.TRIALING):
        emit(merchant=merchant, type="subscription.access_granted", payload=_payload(subscription))
    if subscription.next_invoice_at is not None and subscription.next_invoice_at <= now:
        # Started and due (not a trial still running): charged now, not at the next schedule tick. On
        # commit, so the task never looks for a subscription a rollback took away.
        transaction.on_commit(lambda pk=subscription.pk: _enqueue_first_charge(pk))
    return subscription
