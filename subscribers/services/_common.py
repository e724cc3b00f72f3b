"""Helpers shared by the subscription services: locking, the refusal rule, timeline and outbox rows."""

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.percent import DISCOUNT_PERCENT
from subscribers import extension_points
from subscribers.choices import (
    TRANSITIONS,
    DiscountType,
    SubscriptionAction,
    SubscriptionStatus,
)
from subscribers.models import Subscription, SubscriptionEvent
from subscribers.timeline import platform_reason_text

S = SubscriptionStatus


# --- helpers ---------------------------------------------------------------------------------------
REFUSAL_CODES = {
    SubscriptionAction.EDIT: "cannot_edit",
    SubscriptionAction.CANCEL: "cannot_cancel",
    SubscriptionAction.REMOVE: "cannot_remove",
    SubscriptionAction.READD: "cannot_readd",
    SubscriptionAction.DELETE: "delete_window_closed",
    SubscriptionAction.CHANGE_CARD: "cannot_change_card",
    SubscriptionAction.REVERT_CANCEL: "cannot_revert_cancel",
    SubscriptionAction.PAUSE: "cannot_pause",
    SubscriptionAction.RESUME: "cannot_resume",
}


def refusal_message(subscription: Subscription, action: str) -> str:
    """Why `action` is not possible now: the services raise it, the screens show it."""
    status = subscription.get_status_display().lower()
    if action == SubscriptionAction.EDIT:
        return _("Uma assinatura %(status)s não pode ser alterada.") % {"status": status}
    if action == SubscriptionAction.CANCEL:
        if subscription.cancel_at is not None and not subscription.is_ended:
            return _("O cancelamento desta assinatura já está agendado.")
        return _("Uma assinatura %(status)s não pode ser cancelada.") % {"status": status}
    if action == SubscriptionAction.REMOVE:
        return _("Uma assinatura %(status)s não pode ser removida.") % {"status": status}
    if action == SubscriptionAction.READD:
        return _("Só é possível readicionar uma assinatura ativa ou em teste.")
    if action == SubscriptionAction.REVERT_CANCEL:
        if subscription.is_ended:
            return _("Uma assinatura %(status)s não pode ter o cancelamento desfeito.") % {"status": status}
        return _("Esta assinatura não tem um cancelamento agendado para desfazer.")
    if action == SubscriptionAction.PAUSE:
        if subscription.pause_at is not None and not subscription.is_ended:
            return _("A pausa desta assinatura já está agendada.")
        if subscription.cancel_at is not None and not subscription.is_ended:
            return _("Esta assinatura tem um cancelamento agendado: desfaça-o antes de pausar.")
        return _("Só é possível pausar uma assinatura ativa ou com pagamento pendente.")
    if action == SubscriptionAction.RESUME:
        return _("Só é possível retomar uma assinatura pausada.")
    if action == SubscriptionAction.CHANGE_CARD:
        if subscription.payment_method != "card" and not subscription.is_ended:
            return _("Esta assinatura não é paga com cartão de crédito.")
        return _("Uma assinatura %(status)s não pode ter o cartão alterado.") % {"status": status}
    return _(
        "Esta assinatura só podia ser excluída até %(deadline)s (um mês após a contratação). "
        "Cancele-a em vez de excluir."
    ) % {"deadline": formats.date_format(subscription.delete_deadline, "SHORT_DATE_FORMAT")}


def _refuse(subscription, action, *, now=None):
    """Raises the action's refusal unless the one action table allows it (on the merchant's date)."""
    if not subscription.can(action, today=subscription.merchant.localdate(now)):
        raise ValidationError(refusal_message(subscription, action), code=REFUSAL_CODES[action])


CANCEL_REASON_FIELDS = ("cancel_reason", "cancel_reason_code", "cancel_reason_params")


def _set_cancel_reason(subscription, reason: str, code: str, params: dict | None) -> None:
    """The cancellation's reason: what a person typed (`reason`), or a sentence the system words itself,
    kept as its code and params (subscribers/timeline.py) and translated when shown."""
    subscription.cancel_reason = "" if code else (reason or "").strip()
    subscription.cancel_reason_code = code
    subscription.cancel_reason_params = (params or {}) if code else {}


def cancel_reason_payload(subscription) -> dict:
    """What an event payload says of the cancellation's reason: `cancel_reason_code` (stable; "" for a
    reason a person typed) with its `cancel_reason_params`, and `cancel_reason`, the text in the platform's
    language (pt-BR), whoever wrote it. Reads only the three fields (the bulk writer's rows have them)."""
    code, params = subscription.cancel_reason_code, subscription.cancel_reason_params or {}
    return {
        "cancel_reason": platform_reason_text(code, params, subscription.cancel_reason),
        "cancel_reason_code": code,
        "cancel_reason_params": params,
    }


def _payload(subscription: Subscription) -> dict:
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "customer": {
            "id": subscription.customer_id,
            "email": subscription.customer.email,
            "name": subscription.customer.name,
        },
        "plan": {"id": subscription.plan_id, "name": subscription.plan.name},
        "quantity": subscription.quantity,
        "amount": subscription.amount,
        "currency": subscription.currency,
        "payment_method": subscription.payment_method,
        "current_period_end": subscription.current_period_end,
        "cancel_at": subscription.cancel_at,
        "cancel_origin": subscription.cancel_origin,
        **cancel_reason_payload(subscription),
        "access_until": subscription.access_until,
    }


def _record(subscription, **fields):
    """One timeline line (`_timeline_row`'s fields), saved. A line the system words itself is `reason_code`
    (subscribers/timeline.py) and its `reason_params`, translated when shown; `reason` is for what a person
    typed."""
    row = _timeline_row(subscription, **fields)
    row.save(force_insert=True)
    return row


def _timeline_row(
    subscription,
    *,
    kind,
    actor,
    from_status="",
    to_status="",
    origin="",
    reason="",
    reason_code="",
    reason_params=None,
    data=None,
    at=None,
) -> SubscriptionEvent:
    """`_record`'s line, not saved yet: for a writer that records one line on many subscriptions with one
    `bulk_create`."""
    if hasattr(actor, "timeline_data"):
        # Not a user (a customer, an API key, a provider): the entry says who and through which channel
        # (subscribers/actors.py).
        data = {**(data or {}), **actor.timeline_data()}
        actor = None
    return SubscriptionEvent(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        origin=origin,
        reason=reason,
        reason_code=reason_code,
        reason_params=reason_params or {},
        data=data or {},
        created_at=at or timezone.now(),
    )


def _field_error(field: str, message, code: str) -> ValidationError:
    # ValidationError({field: message}, code=...) silently drops the code; it has to sit on the inner error.
    return ValidationError({field: ValidationError(message, code=code)})


def _move(subscription: Subscription, to_status: str) -> str:
    """Changes the status in memory after checking the transition table; returns the old status."""
    from_status = subscription.status
    if to_status not in TRANSITIONS[from_status]:
        raise ValidationError(
            _("Uma assinatura %(from)s não pode passar a %(to)s.")
            % {"from": S(from_status).label.lower(), "to": S(to_status).label.lower()},
            code="invalid_transition",
        )
    subscription.status = to_status
    return from_status


def _check_discount(*, discount_type, discount_percent, discount_amount, gross):
    errors = {}
    if discount_type == DiscountType.PERCENT:
        if discount_percent is None:
            errors["discount_percent"] = _("Informe o percentual de desconto.")
        elif discount_percent not in DISCOUNT_PERCENT:
            errors["discount_percent"] = str(DISCOUNT_PERCENT.message)
    elif discount_type == DiscountType.FIXED:
        if discount_amount is None:
            errors["discount_amount"] = _("Informe o valor do desconto.")
        elif discount_amount <= 0:
            errors["discount_amount"] = _("O desconto deve ser maior que zero.")
        elif discount_amount > gross:
            errors["discount_amount"] = _("O desconto não pode ser maior que o valor da assinatura.")
    if errors:
        raise ValidationError(errors)


def _check_catalog(*, merchant, customer, plan, salesperson, current_plan=None):
    errors = {}
    if customer.merchant_id != merchant.pk:
        errors["customer"] = _("Cliente não encontrado.")
    if plan.merchant_id != merchant.pk:
        errors["plan"] = _("Plano não encontrado.")
    elif plan != current_plan and (not plan.is_active or plan.archived_at is not None):
        errors["plan"] = _("Este plano não está disponível para novas assinaturas.")
    if salesperson is not None and not salesperson.memberships.filter(merchant=merchant).exists():
        errors["salesperson"] = _("O vendedor responsável precisa fazer parte da equipe.")
    if errors:
        raise ValidationError(errors)


def _jsonable(value):
    return str(value) if isinstance(value, Decimal) else value


def _json_safe(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _check_tax_rates(*, merchant, tax_rates, kept=()) -> None:
    """Every tax rate must be this merchant's and active; `kept` (the ones a subscription already has)
    stay acceptable after being deactivated, so editing something else does not drop them."""
    kept_ids = {rate.pk for rate in kept}
    for rate in tax_rates:
        if rate.merchant_id != merchant.pk:
            raise _field_error("tax_rates", _("Imposto não encontrado."), "invalid_tax_rate")
        if not rate.is_active and rate.pk not in kept_ids:
            raise _field_error(
                "tax_rates",
                _("O imposto “%(name)s” está desativado.") % {"name": rate.name},
                "inactive_tax_rate",
            )


def _end_charges(subscription: Subscription, *, now) -> None:
    """An ended subscription keeps no open charge: billing withdraws them, in this transaction (the
    extension point subscribers.subscription_ended; billing builds on subscribers)."""
    # A price-change notice waiting for a renewal that will never come is void (it never applies).
    from subscribers.services.price_changes import price_notices_void  # it builds on this module

    if subscription.next_plan_price_id is not None:
        price_notices_void([subscription.pk])
    extension_points.subscription_ended(subscription, now=now)
