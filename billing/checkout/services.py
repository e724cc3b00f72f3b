"""Subscribing through a checkout link: the customer, the subscription (origin checkout) and its first
charge, through the same services as Nova assinatura, in one transaction guarded by a one-time token.

    with once(...):                      the form's token: a double submit, a reload or "back" replays
        checkout_link_complete(...)      a link with a limit: locked and counted first
        customer_find_or_create(...)     never two customers for one e-mail or CPF/CNPJ
        subscription_create(...)         origin "checkout": card → active, boleto/pix → pending
        process_subscription(...)        the first charge, now, by the billing run's own function
        checkout_link_count(...)         a link without a limit: counted last (no lock across the charge)

A declined card raises, so everything above rolls back together (token included): nothing exists, the
page says why, and the customer may fix the card and send the same form again. Boleto and pix leave the
subscription pending until the payment settles (billing.services.charging.payment_settle).
"""

import datetime as dt

from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import PaymentStatus
from billing.models import Payment
from billing.services.billing_run import process_subscription
from core.idempotency import form_scope, once, read_form_token
from plans.models import CheckoutLink, Coupon
from plans.services import checkout_link_complete, checkout_link_count, normalize_coupon_code
from subscribers.choices import BackdateBilling, PaymentMethod, SubscriptionOrigin
from subscribers.models import Subscription
from subscribers.services import customer_find_or_create, subscription_contract_preview, subscription_create

_STATUS_SALT = "billing.checkout.status"
# How long the "your order" page of a sign-up stays reachable from its signed address.
STATUS_MAX_AGE = 60 * 60 * 24 * 30


def form_kind(link: CheckoutLink) -> str:
    """The one-time token's form: one per link, so a token from one link is useless on another."""
    return f"checkout:{link.pk}"


def status_token(*, link: CheckoutLink, subscription: Subscription) -> str:
    """The signed, unguessable part of the sign-up's own page (no ids to enumerate)."""
    return signing.dumps({"l": link.pk, "s": subscription.pk}, salt=_STATUS_SALT)


def subscription_for_status_token(*, link: CheckoutLink, token: str) -> Subscription | None:
    try:
        data = signing.loads(token, salt=_STATUS_SALT, max_age=STATUS_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("l") != link.pk:
        return None
    return (
        Subscription.objects.filter(pk=data.get("s"), merchant_id=link.merchant_id)
        .select_related("plan", "customer")
        .first()
    )


def coupon_for_code(*, link: CheckoutLink, code: str, now) -> Coupon | None:
    """The link's preset coupon, or the merchant's coupon with the typed code (None when nothing was
    typed). Raises ValidationError on the `coupon_code` field when the code is unknown or not redeemable:
    the same message for both, so the field cannot be used to list a merchant's codes."""
    if link.coupon_id:
        return link.coupon
    code = normalize_coupon_code(code)
    if not code:
        return None
    coupon = Coupon.objects.filter(merchant_id=link.merchant_id, code=code).first()
    refusal = coupon.redemption_refusal(now=now) if coupon is not None else _("Cupom inválido.")
    if coupon is not None and refusal is None and coupon.amount_off and coupon.currency != link.plan.currency:
        refusal = _("Cupom inválido.")
    if refusal:
        raise ValidationError({"coupon_code": refusal}, code="invalid_coupon")
    return coupon


def first_charge_total(*, link: CheckoutLink, coupon: Coupon | None, now) -> int | None:
    """What the first invoice charges today with this coupon (billing's own drafting, via the contract
    preview), or None during a trial (nothing charged today)."""
    preview = subscription_contract_preview(
        merchant=link.merchant,
        plan=link.plan,
        contract_date=link.merchant.localdate(now),
        coupon=coupon,
        now=now,
    )
    drafts = preview[BackdateBilling.PERIODS]
    return drafts[0].totals.total if drafts else None


def checkout_subscribe(
    *,
    link: CheckoutLink,
    form_token: str,
    name: str,
    email: str,
    document: str,
    phone: str,
    payment_method: str,
    card_number: str = "",
    coupon_code: str = "",
    now: dt.datetime | None = None,
) -> Subscription:
    """Signs the customer up to the link's plan and charges the first invoice now.

    Raises InvalidToken (a forged, foreign or expired token), AlreadyDone (the token was used: its record
    points at the first sign-up's page) and ValidationError (closed link, bad coupon, method not allowed,
    card declined), in which case nothing was written."""
    now = now or timezone.now()
    merchant = link.merchant
    key = read_form_token(form_token, merchant=merchant, user=None, kind=form_kind(link))
    with once(merchant=merchant, scope=form_scope(form_kind(link)), key=key) as use:
        limited = link.max_completions is not None
        if limited:
            # Locked and counted first, so the last place is taken before anyone is charged for it.
            link = checkout_link_complete(link_id=link.pk, now=now)
        elif link.public_refusal(now=now):
            raise ValidationError(
                _("Este link de pagamento não está mais disponível."), code="checkout_link_closed"
            )
        if payment_method not in link.payment_methods:
            raise ValidationError(
                {"payment_method": _("Esta forma de pagamento não está disponível.")},
                code="method_not_allowed",
            )
        coupon = coupon_for_code(link=link, code=coupon_code, now=now)
        customer = customer_find_or_create(
            merchant=merchant, name=name, email=email, document=document, phone=phone
        )
        subscription = subscription_create(
            merchant=merchant,
            actor=None,
            customer=customer,
            plan=link.plan,
            contract_date=merchant.localdate(now),
            payment_method=payment_method,
            coupon=coupon,
            payment_token=card_number if payment_method == PaymentMethod.CARD else "",
            origin=SubscriptionOrigin.CHECKOUT,
            notify_customer=True,
            now=now,
        )
        if subscription.next_invoice_at is not None and subscription.next_invoice_at <= now:
            # The first charge now, not on the next billing tick: the page shows its outcome.
            process_subscription(subscription_id=subscription.pk, now=now)
            _refuse_declined(subscription)
        if not limited:
            # An UPDATE at the very end: the link's row is locked only until the commit that follows, never
            # across the charge, so one busy link does not make its customers queue.
            checkout_link_count(link_id=link.pk, counter="completed")
        subscription.refresh_from_db()
        use.result = subscription
        use.result_url = status_path(link=link, subscription=subscription)
    return subscription


def status_path(*, link: CheckoutLink, subscription: Subscription) -> str:
    return reverse(
        "checkout:status",
        kwargs={"slug": link.slug, "token": status_token(link=link, subscription=subscription)},
    )


def _refuse_declined(subscription: Subscription) -> None:
    """A declined first charge undoes the sign-up (the caller's transaction rolls back): nothing active,
    no customer, no invoice; the page shows the gateway's reason."""
    payment = Payment.objects.filter(invoice__subscription=subscription).order_by("-pk").first()
    if payment is None or payment.status != PaymentStatus.FAILED:
        return
    reason = payment.failure_display or _("Pagamento recusado.")
    raise ValidationError(
        _(
            "Pagamento recusado: %(reason)s Nada foi cobrado e a assinatura não foi criada. "
            "Confira os dados ou use outro cartão."
        )
        % {"reason": reason},
        code="payment_declined",
    )
