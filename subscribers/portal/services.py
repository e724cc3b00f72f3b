"""What the customer does in Minha assinatura, each through the subscription services the merchant's
screens use, with a `CustomerActor` as actor (subscribers/actors.py) and origin "customer"."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from subscribers import extension_points, timeline
from subscribers.actors import CustomerActor
from subscribers.choices import (
    CancelOrigin,
    CancelWhen,
    PauseAccess,
    PauseWhen,
    ResumeMode,
    SubscriptionAction,
    SubscriptionOrigin,
    SubscriptionStatus,
    method_is_refundable,
)
from subscribers.models import ADDRESS_FIELDS, EMAIL_TAKEN_CODE, Customer, Subscription
from subscribers.portal.tokens import MAGIC_LINK_MAX_AGE, issue_magic_token
from subscribers.services import (
    kept_terms,
    subscription_cancel,
    subscription_cancel_revert,
    subscription_change_card,
    subscription_change_payment_method,
    subscription_pause,
    subscription_pause_cancel,
    subscription_resume,
    subscription_update,
)
from subscribers.services.changes import SWITCHABLE_METHODS
from subscribers.services.customers import customer_details, customer_update
from subscribers.services.pause import paid_until, pause_start

# CDC art. 49: seven days to withdraw from a purchase made outside a shop (online).
WITHDRAWAL_DAYS = 7
# Sign-ups the customer made online themselves: the checkout link and the merchant's site through the API.
ONLINE_ORIGINS = frozenset({SubscriptionOrigin.CHECKOUT, SubscriptionOrigin.API})


def portal_link_request(*, merchant, email: str, link_for) -> None:
    """Sends the magic link to `email` when it is one of the merchant's customers; otherwise nothing.
    The caller answers the same either way, so the page does not tell who is a customer.
    `link_for(token)` builds the absolute URL of the link."""
    customer = Customer.objects.filter(merchant=merchant, email__iexact=(email or "").strip()).first()
    if customer is None:
        return
    link = link_for(issue_magic_token(customer=customer))
    with translation.override("pt-br"):
        context = {
            "merchant": merchant,
            "customer": customer,
            "link": link,
            "minutes": MAGIC_LINK_MAX_AGE // 60,
        }
        subject = _("Seu link de acesso a Minha assinatura — %(merchant)s") % {"merchant": merchant.name}
        body = render_to_string("portal/magic_link_email.txt", context)
    # After the commit: the e-mail leaves the database's world (and a rolled-back request sends nothing).
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email], fail_silently=False)
    )


# The team's form says "Já existe um cliente com este e-mail"; told to a customer, that would say who else
# buys from the merchant. Any e-mail the portal cannot take gets this instead.
EMAIL_UNAVAILABLE_MESSAGE = gettext_lazy(
    "Não foi possível usar este e-mail. Confira o endereço ou use outro; se precisar, fale com a loja."
)
# Fields the customer does not edit: an error on one (a record kept from before validation) is not theirs
# to fix, so it is said once, without the field.
_NOT_CUSTOMERS_FIELDS_MESSAGE = gettext_lazy(
    "Não foi possível salvar seus dados agora. Entre em contato com a loja para atualizá-los."
)
_PORTAL_DETAILS = ("email", "phone", *ADDRESS_FIELDS)


@transaction.atomic
def portal_update_details(*, customer: Customer, **details: str) -> Customer:
    """Meus dados: the customer changes their e-mail, phone and address (`_PORTAL_DETAILS`; one not
    passed stays as it is) through `customer_update`, the service of Clientes > Editar (same normalization
    and checks); name, @usuário and CPF/CNPJ stay as the merchant keeps them. The row is locked, so a
    merchant's edit at the same moment is not overwritten with the values this request read. The portal
    session keeps the customer's id, so a new e-mail does not end it; the next magic link goes to the new
    address.

    The change is recorded as the customer's (`CustomerActor`): `customer.updated` in the outbox and
    "pelo cliente (portal)" on the timeline of each of their subscriptions."""
    unknown = set(details) - set(_PORTAL_DETAILS)
    if unknown:  # a caller's mistake, never the customer's: the merchant's fields are not theirs to change
        raise TypeError(f"portal_update_details cannot change {', '.join(sorted(unknown))}")
    locked = Customer.objects.select_for_update().get(pk=customer.pk, merchant_id=customer.merchant_id)
    try:
        return customer_update(
            customer=locked,
            actor=CustomerActor(customer_id=locked.pk),
            **{**customer_details(locked), **details},
        )
    except ValidationError as exc:
        raise _for_the_customer(exc) from None


def _for_the_customer(exc: ValidationError) -> ValidationError:
    """The service's errors, keyed by the fields the portal shows, without telling whether another
    customer has the e-mail."""
    errors: dict[str, list] = {}
    for field, field_errors in exc.update_error_dict({}).items():
        for error in field_errors:
            if field == "email" and error.code in (EMAIL_TAKEN_CODE, "unique"):
                errors.setdefault("email", []).append(
                    ValidationError(EMAIL_UNAVAILABLE_MESSAGE, code="email")
                )
            elif field in _PORTAL_DETAILS:
                errors.setdefault(field, []).append(error)
            else:
                errors[NON_FIELD_ERRORS] = [ValidationError(_NOT_CUSTOMERS_FIELDS_MESSAGE, code="record")]
    return ValidationError(errors)


def withdrawal_window_open(subscription: Subscription, *, now: dt.datetime) -> bool:
    """True within CDC art. 49's seven days of an online sign-up (docs/portal.md)."""
    return (
        subscription.origin in ONLINE_ORIGINS
        and subscription.created_at is not None
        and now - subscription.created_at <= dt.timedelta(days=WITHDRAWAL_DAYS)
    )


@dataclass
class PortalCancellation:
    subscription: Subscription
    withdrawal: bool
    refund: object | None = None
    refund_error: str = ""


def portal_cancel(
    *,
    subscription: Subscription,
    customer: Customer,
    reason_params: dict,
    hold_for_offer: bool = False,
    now: dt.datetime | None = None,
) -> PortalCancellation:
    """Cancels at the customer's request, in the channel they asked in, effective at once (or, when the
    merchant chose so, at the end of the period already paid; the request itself is recorded now).
    `reason_params`: the option the customer picked and their words (`timeline.customer_reason_params`),
    kept as the code PORTAL_CANCEL_REQUEST so the merchant reads the option in their own language.

    `hold_for_offer`: the merchant's one-click retention offer is about to be shown. The cancellation is
    still recorded now (Decreto 11.034: it must not wait for a second click, and a customer who closes the
    tab on the offer is cancelled), at the end of the period already paid so that accepting the offer can
    take it back (`portal_accept_retention`); nothing is charged again either way.

    Within the withdrawal window the cancellation is immediate and the payment is refunded in full through
    billing's refund service (card and pix; a boleto cannot be refunded by the gateway, so the merchant
    returns it by hand and the page says so). A refund the gateway refuses leaves the cancellation done."""
    now = now or timezone.now()
    actor = CustomerActor(customer_id=customer.pk)
    withdrawal = withdrawal_window_open(subscription, now=now)
    when = CancelWhen.NOW
    if (hold_for_offer or subscription.merchant.portal_cancel_at_period_end) and not withdrawal:
        when = CancelWhen.PERIOD_END
    subscription = subscription_cancel(
        subscription=subscription,
        actor=actor,
        origin=CancelOrigin.CUSTOMER,
        when=when,
        reason_code=timeline.PORTAL_CANCEL_REQUEST,
        reason_params=reason_params,
        now=now,
    )
    result = PortalCancellation(subscription=subscription, withdrawal=withdrawal)
    if not withdrawal:
        return result
    if not method_is_refundable(subscription.payment_method):
        result.refund_error = _(
            "Pagamentos por boleto não podem ser devolvidos automaticamente: a loja vai devolver o valor."
        )
        return result
    try:
        result.refund = extension_points.withdrawal_refund(
            subscription=subscription,
            actor=actor,
            reason_code=timeline.WITHDRAWAL_REFUND,
            now=now,
        )
    except ValidationError as exc:
        result.refund_error = " ".join(exc.messages)
    subscription.refresh_from_db()
    return result


def portal_change_plan(*, subscription: Subscription, customer: Customer, plan, now=None) -> Subscription:
    """Switches plan now, with the same proration as the merchant's edit screen; every other term kept."""
    return subscription_update(
        subscription=subscription,
        actor=CustomerActor(customer_id=customer.pk),
        plan=plan,
        quantity=subscription.quantity,
        **kept_terms(subscription),
        apply="now",
        now=now,
    )


def retention_offer(subscription: Subscription, *, now: dt.datetime | None = None):
    """The merchant's one-click retention coupon for this subscription, or None: none configured, no longer
    redeemable, in another currency, already applied, or a withdrawal (CDC art. 49 asks for no offer)."""
    now = now or timezone.now()
    coupon = extension_points.retention_coupon(subscription.merchant)
    if coupon is None or coupon.pk == subscription.coupon_id or withdrawal_window_open(subscription, now=now):
        return None
    if coupon.kind == "fixed" and coupon.currency != subscription.currency:
        return None
    if coupon.redemption_refusal(now=now):
        return None
    if subscription.can(SubscriptionAction.CANCEL):
        return coupon  # before the request
    # After the request (portal_cancel held it for the offer): the customer's own scheduled cancellation,
    # which accepting takes back.
    held = subscription.cancel_origin == CancelOrigin.CUSTOMER and subscription.can(
        SubscriptionAction.REVERT_CANCEL
    )
    return coupon if held else None


def portal_accept_retention(
    *, subscription: Subscription, customer: Customer, reason_params: dict, now=None
) -> Subscription:
    """Aceitar a oferta: the customer who asked to cancel keeps the subscription with the merchant's coupon:
    the cancellation recorded with the request is taken back (`subscription.cancel_reverted`) and the coupon
    applied by the edit service (from the next invoice; timeline and `subscription.updated`), together.
    `reason_params`: the reason they gave for the request (`timeline.customer_reason_params`)."""
    now = now or timezone.now()
    coupon = retention_offer(subscription, now=now)
    if coupon is None:
        raise ValidationError(_("Esta oferta não está mais disponível."), code="offer_unavailable")
    actor = CustomerActor(customer_id=customer.pk)
    with transaction.atomic():
        if subscription.cancel_at is not None:
            subscription = subscription_cancel_revert(
                subscription=subscription,
                actor=actor,
                reason_code=timeline.RETENTION_CANCEL_REVERTED,
                reason_params={"code": coupon.code},
                now=now,
            )
        return _apply_retention_coupon(
            subscription, coupon, actor=actor, reason_params=reason_params, now=now
        )


def _apply_retention_coupon(subscription, coupon, *, actor, reason_params, now) -> Subscription:
    return subscription_update(
        subscription=subscription,
        actor=actor,
        plan=subscription.plan,
        quantity=subscription.quantity,
        **kept_terms(subscription),
        coupon=coupon,
        reason_code=timeline.RETENTION_COUPON_APPLIED,
        reason_params={"code": coupon.code, **reason_params},
        now=now,
    )


def portal_change_card(
    *, subscription: Subscription, customer: Customer, card_number: str, now=None
) -> Subscription:
    return subscription_change_card(
        subscription=subscription,
        actor=CustomerActor(customer_id=customer.pk),
        card_number=card_number,
        now=now,
    )


def portal_payment_methods(subscription: Subscription) -> list[str]:
    """The methods the customer may switch to: those charged through the merchant's gateway (card, boleto,
    pix: `SWITCHABLE_METHODS`), other than the current one."""
    return [method for method in SWITCHABLE_METHODS if method != subscription.payment_method]


def portal_change_payment_method(
    *, subscription: Subscription, customer: Customer, payment_method: str, card_number: str = "", now=None
) -> Subscription:
    """Trocar forma de pagamento, from the next invoice on (the open one keeps its charge)."""
    if payment_method not in portal_payment_methods(subscription):
        raise ValidationError(
            _("Escolha uma das formas de pagamento disponíveis."), code="payment_method_invalid"
        )
    return subscription_change_payment_method(
        subscription=subscription,
        actor=CustomerActor(customer_id=customer.pk),
        payment_method=payment_method,
        card_number=card_number,
        now=now,
    )


# --- pause -----------------------------------------------------------------------------------------
# What a customer may choose in the portal: a pause now or at the end of the period already paid, resumed
# by hand (here, with "Retomar"). A chosen date is the team's tool (Assinaturas > Pausar).
PORTAL_PAUSE_WHEN = (PauseWhen.NOW, PauseWhen.PERIOD_END)
# A customer's resume keeps the cycle: nothing is charged again for time already paid (docs/pause.md).
PORTAL_RESUME_MODE = ResumeMode.CONTINUE


def customers_may_pause(merchant) -> bool:
    """The merchant's setting *Permitir que clientes pausem a assinatura* (Configurações > Cobrança)."""
    return bool(extension_points.pause_policy(merchant)["customers_may_pause"])


def _check_may_pause(subscription: Subscription) -> None:
    if not customers_may_pause(subscription.merchant):
        raise PermissionDenied("customers may not pause")


def portal_pause_options(subscription: Subscription, *, now: dt.datetime | None = None) -> list[dict]:
    """Each pause the customer may choose, with what it means before they confirm: when the pause starts
    and until when they keep access (the same rules `subscription_pause` applies: the merchant's access
    rule for a pause now; a pause at the period's end starts when the paid time runs out)."""
    now = now or timezone.now()
    policy = extension_points.pause_policy(subscription.merchant)
    options = []
    for when in PORTAL_PAUSE_WHEN:
        starts = pause_start(subscription=subscription, when=when, now=now)
        if starts <= now and policy["access"] == PauseAccess.NONE:
            access_until = now
        else:
            access_until = max(paid_until(subscription, now), starts)
        options.append(
            {"when": when, "label": PauseWhen(when).label, "starts": starts, "access_until": access_until}
        )
    return options


def portal_pause(*, subscription: Subscription, customer: Customer, when: str, now=None) -> Subscription:
    """Pauses at the customer's request, when the merchant lets customers pause; resumed by hand."""
    _check_may_pause(subscription)
    if when not in PORTAL_PAUSE_WHEN:
        raise ValidationError(_("Escolha quando pausar."), code="when_required")
    return subscription_pause(
        subscription=subscription,
        actor=CustomerActor(customer_id=customer.pk),
        when=when,
        resume_mode=PORTAL_RESUME_MODE,
        now=now,
    )


def portal_resume(*, subscription: Subscription, customer: Customer, now=None) -> Subscription:
    """Retomar: a paused subscription resumes now, continuing its cycle (as previewed); a pause that has
    not started yet is taken back."""
    _check_may_pause(subscription)
    actor = CustomerActor(customer_id=customer.pk)
    if subscription.status != SubscriptionStatus.PAUSED and subscription.pause_at is not None:
        return subscription_pause_cancel(subscription=subscription, actor=actor, now=now)
    return subscription_resume(subscription=subscription, actor=actor, mode=PORTAL_RESUME_MODE, now=now)
