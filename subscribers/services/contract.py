"""Contracting: subscription_create and what a start does to a subscription."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.events import EventType
from core.outbox import emit
from core.queues import BILLING, enqueue
from plans.periods import period_containing
from subscribers import extension_points
from subscribers.choices import (
    BackdateBilling,
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
    """A coupon must be this merchant's and redeemable now (Coupon.redemption_refusal)."""
    if coupon is None:
        return
    if coupon.merchant_id != merchant.pk:
        message = _("Cupom não encontrado.")
    else:
        message = coupon.redemption_refusal(now=now)
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


# --- contract dates --------------------------------------------------------------------------------
def contract_date_bounds(*, merchant, plan, today: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest, latest) contract date accepted for `plan` today: the merchant's "retroativo máximo"
    and a ceiling a few years ahead. Billing owns the policy (extension point
    subscribers.contract_date_bounds)."""
    return extension_points.contract_date_bounds(merchant=merchant, plan=plan, today=today)


def _check_contract_date(*, merchant, plan, contract_date: dt.date, today: dt.date) -> None:
    earliest, latest = contract_date_bounds(merchant=merchant, plan=plan, today=today)
    if contract_date < earliest:
        raise ValidationError(
            {
                "contract_date": _(
                    "A data de contratação pode retroagir no máximo até %(date)s (retroativo máximo em "
                    "Configurações > Cobrança). Confira o ano digitado."
                )
                % {"date": formats.date_format(earliest, "SHORT_DATE_FORMAT")}
            },
            code="contract_date_too_old",
        )
    if contract_date > latest:
        raise ValidationError(
            {
                "contract_date": _(
                    "A data de contratação pode ser no máximo %(date)s. Confira o ano digitado."
                )
                % {"date": formats.date_format(latest, "SHORT_DATE_FORMAT")}
            },
            code="contract_date_too_far",
        )


def first_invoices(*, subscription, tax_rates, now) -> list:
    """The invoices billing will issue for a subscription just contracted (billing's DraftInvoice list:
    period_start, period_end, totals), by the extension point subscribers.first_invoices."""
    return extension_points.first_invoices(subscription=subscription, tax_rates=tax_rates, now=now)


def _draft_subscription(
    *,
    merchant,
    customer,
    plan,
    contract_date: dt.date,
    quantity: int,
    payment_method: str,
    discount_type: str,
    discount_percent,
    discount_amount,
    discount_periods,
    coupon,
    backdate_billing: str,
    now,
    **fields,
) -> Subscription:
    """The subscription `subscription_create` would save, unsaved and started (status, periods, anchor).

    A backdated contract is billed as the merchant chose: by whole periods from the contract date (the
    anchor stays there), or from a cycle starting now, with (PRORATED) or without (TODAY) a charge for the
    time already passed (`backdate_charge_from`, added by billing to the first invoice).
    """
    today = merchant.localdate(now)
    backdated = contract_date < today
    anchor = now if contract_date == today else merchant.start_of_day(contract_date)
    backdate_charge_from = None
    if backdated and backdate_billing == BackdateBilling.PRORATED and plan.trial_days:
        raise ValidationError(
            {
                "backdate_billing": _(
                    "Em um plano com período de teste, escolha cobrar os períodos inteiros desde a data ou "
                    "começar a cobrar hoje."
                )
            },
            code="backdate_with_trial",
        )
    if backdated and backdate_billing in (BackdateBilling.PRORATED, BackdateBilling.TODAY):
        anchor = now
        if backdate_billing == BackdateBilling.PRORATED:
            backdate_charge_from = merchant.start_of_day(contract_date)
    # The plan's current price version as the object when the caller already joined it (the public checkout
    # page selects it with its link): the drafting reads it, and the page saves a query.
    if type(plan).current_price.is_cached(plan):
        version = {"plan_price": plan.current_price}
    else:
        version = {"plan_price_id": plan.current_price_id}
    subscription = Subscription(
        merchant=merchant,
        customer=customer,
        plan=plan,
        **version,
        quantity=quantity,
        status=S.SCHEDULED,
        payment_method=payment_method,
        currency=plan.currency,
        discount_type=discount_type,
        discount_percent=discount_percent if discount_type == DiscountType.PERCENT else None,
        discount_amount=discount_amount if discount_type == DiscountType.FIXED else None,
        discount_periods=discount_periods if discount_type else None,
        coupon=coupon,
        coupon_applied_at=now if coupon else None,
        contract_date=contract_date,
        billing_cycle_anchor=anchor,
        backdate_charge_from=backdate_charge_from,
        **fields,
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
    return subscription


def subscription_contract_preview(
    *,
    merchant,
    plan,
    contract_date: dt.date,
    quantity: int = 1,
    payment_method: str = PaymentMethod.CARD,
    discount_type: str = DiscountType.NONE,
    discount_percent: Decimal | None = None,
    discount_amount: int | None = None,
    discount_periods: int | None = None,
    coupon=None,
    tax_rates=(),
    now: dt.datetime | None = None,
) -> dict:
    """What contracting now would charge, per backdating choice: {choice: [DraftInvoice, …]}.

    Raises the ValidationError `subscription_create` would raise for these terms (a date out of bounds,
    a bad discount). Only a backdated contract has more than one choice; the others get PERIODS only.
    """
    now = now or timezone.now()
    today = merchant.localdate(now)
    _check_contract_date(merchant=merchant, plan=plan, contract_date=contract_date, today=today)
    choices = list(BackdateBilling) if contract_date < today else [BackdateBilling.PERIODS]
    if plan.trial_days:
        choices = [choice for choice in choices if choice != BackdateBilling.PRORATED]
    preview = {}
    for choice in choices:
        subscription = _draft_subscription(
            merchant=merchant,
            customer=None,
            plan=plan,
            contract_date=contract_date,
            quantity=quantity,
            payment_method=payment_method,
            discount_type=discount_type or DiscountType.NONE,
            discount_percent=discount_percent,
            discount_amount=discount_amount,
            discount_periods=discount_periods,
            coupon=coupon,
            backdate_billing=choice,
            now=now,
        )
        preview[choice] = first_invoices(subscription=subscription, tax_rates=list(tax_rates or ()), now=now)
    return preview


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
    backdate_billing: str = BackdateBilling.PERIODS,
    now: dt.datetime | None = None,
) -> Subscription:
    """Contracts `plan` for `customer`. Today or earlier starts now (trial → trialing); a future
    contract date waits as scheduled. With `notify_customer` the customer gets the "assinatura criada"
    e-mail: notifications' outbox consumer sends it from the `subscription.created` event.

    The contract date must lie within the merchant's bounds (`contract_date_bounds`); a backdated one is
    billed as `backdate_billing` says (whole periods since the date — the default —, the elapsed time
    prorated with a cycle starting now, or nothing for the past with a cycle starting now).

    `tax_rates` (the merchant's active ones) are added to every invoice by billing; `payment_token` is
    the card as the gateway knows it (the sandbox takes a test card number), kept only for "card".
    """
    now = now or timezone.now()
    if contract_date is None:
        raise ValidationError({"contract_date": _("Informe a data de contratação.")})
    if backdate_billing not in BackdateBilling.values:
        raise ValidationError({"backdate_billing": _("Escolha como cobrar o tempo retroativo.")})
    _check_catalog(merchant=merchant, customer=customer, plan=plan, salesperson=salesperson)
    today = merchant.localdate(now)
    _check_contract_date(merchant=merchant, plan=plan, contract_date=contract_date, today=today)
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
    subscription = _draft_subscription(
        merchant=merchant,
        customer=customer,
        plan=plan,
        contract_date=contract_date,
        quantity=quantity,
        payment_method=payment_method,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        discount_periods=discount_periods,
        coupon=coupon,
        backdate_billing=backdate_billing,
        now=now,
        origin=origin,
        provider=provider,
        provider_id=provider_id,
        salesperson=salesperson,
        notify_customer=notify_customer,
        **_card_fields(payment_method, payment_token),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    subscription.full_clean(exclude=["status"])
    subscription.save()
    subscription.tax_rates.set(tax_rates)
    data = {}
    if tax_rates:
        data["tax_rates"] = sorted(rate.pk for rate in tax_rates)
    if contract_date < today:
        data["backdate_billing"] = backdate_billing
    _record(
        subscription,
        kind=EventKind.CREATED,
        actor=actor,
        to_status=subscription.status,
        data=data or None,
        at=now,
    )
    emit(merchant=merchant, type=EventType.SUBSCRIPTION_CREATED, payload=_payload(subscription))
    if subscription.status in (S.ACTIVE, S.TRIALING):
        emit(merchant=merchant, type=EventType.SUBSCRIPTION_ACCESS_GRANTED, payload=_payload(subscription))
    if subscription.next_invoice_at is not None and subscription.next_invoice_at <= now:
        # Started and due (not a trial still running): charged now, not at the next schedule tick. On
        # commit, so the task never looks for a subscription a rollback took away.
        transaction.on_commit(lambda pk=subscription.pk: _enqueue_first_charge(pk))
    return subscription
