"""The subscription lifecycle: contract, edit, cancel (now / period end / date), remove, re-add, delete.

Every function checks the one action table (Subscription.can), moves status only along
choices.TRANSITIONS, and writes the audit SubscriptionEvent and the outbox Event in the same
transaction. E-mails leave after commit.
"""

import datetime as dt
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import formats, timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from core.outbox import emit
from plans.periods import period_containing
from subscribers import emails
from subscribers.choices import (
    TRANSITIONS,
    CancelOrigin,
    CancelWhen,
    DiscountType,
    EventKind,
    PaymentMethod,
    SubscriptionAction,
    SubscriptionOrigin,
    SubscriptionStatus,
)
from subscribers.models import Subscription, SubscriptionEvent, SubscriptionTombstone
from subscribers.pricing import subscription_amount

S = SubscriptionStatus


# --- helpers ---------------------------------------------------------------------------------------
def _locked(subscription: Subscription) -> Subscription:
    """Re-reads the row under a lock so two requests cannot both act on the same old status.

    Only the subscription row is locked (`of=("self",)`): without it PostgreSQL would also lock the
    joined merchant, plan and customer rows, serialising every write of a merchant and making the
    SKIP LOCKED workers skip unrelated subscriptions of the same merchant.
    """
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("merchant", "plan", "customer")
        .get(pk=subscription.pk)
    )


REFUSAL_CODES = {
    SubscriptionAction.EDIT: "cannot_edit",
    SubscriptionAction.CANCEL: "cannot_cancel",
    SubscriptionAction.REMOVE: "cannot_remove",
    SubscriptionAction.READD: "cannot_readd",
    SubscriptionAction.DELETE: "delete_window_closed",
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
    return _(
        "Esta assinatura só podia ser excluída até %(deadline)s (um mês após a contratação). "
        "Cancele-a em vez de excluir."
    ) % {"deadline": formats.date_format(subscription.delete_deadline, "SHORT_DATE_FORMAT")}


def _refuse(subscription, action, *, now=None):
    """Raises the action's refusal unless the one action table allows it (on the merchant's date)."""
    if not subscription.can(action, today=subscription.merchant.localdate(now)):
        raise ValidationError(refusal_message(subscription, action), code=REFUSAL_CODES[action])


def _payload(subscription: Subscription) -> dict:
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "customer": {"id": subscription.customer_id, "email": subscription.customer.email},
        "plan": {"id": subscription.plan_id, "name": subscription.plan.name},
        "quantity": subscription.quantity,
        "amount": subscription.amount,
        "currency": subscription.currency,
        "payment_method": subscription.payment_method,
        "current_period_end": subscription.current_period_end,
        "cancel_at": subscription.cancel_at,
        "cancel_origin": subscription.cancel_origin,
        "access_until": subscription.access_until,
    }


def _record(
    subscription, *, kind, actor, from_status="", to_status="", origin="", reason="", data=None, at=None
):
    return SubscriptionEvent.objects.create(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        origin=origin,
        reason=reason,
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
        elif not Decimal("0") < Decimal(discount_percent) <= Decimal("100"):
            errors["discount_percent"] = _("O percentual deve estar entre 0,01 e 100.")
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
    async_task(
        "billing.tasks.bill_subscription", subscription_pk, task_name=f"first-charge-{subscription_pk}"
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
    payment_token: str = "",
    salesperson=None,
    origin: str = SubscriptionOrigin.SCREEN,
    provider: str = "",
    provider_id: str = "",
    now: dt.datetime | None = None,
) -> Subscription:
    """Contracts `plan` for `customer`. Today or earlier starts now (trial → trialing); a future
    contract date waits as scheduled. With `notify_customer` an e-mail leaves after commit."""
    now = now or timezone.now()
    if contract_date is None:
        raise ValidationError({"contract_date": _("Informe a data de contratação.")})
    _check_catalog(merchant=merchant, customer=customer, plan=plan, salesperson=salesperson)
    discount_type = discount_type or DiscountType.NONE
    _check_coupon(merchant=merchant, coupon=coupon, now=now)
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
    _record(subscription, kind=EventKind.CREATED, actor=actor, to_status=subscription.status, at=now)
    emit(merchant=merchant, type="subscription.created", payload=_payload(subscription))
    if subscription.status in (S.ACTIVE, S.TRIALING):
        emit(merchant=merchant, type="subscription.access_granted", payload=_payload(subscription))
    if notify_customer:
        # robust: the subscription is committed by then; a mail server hiccup must not turn that into
        # an error page (and a second, duplicate contract when the user submits again).
        transaction.on_commit(lambda: emails.send_subscription_created(subscription.pk), robust=True)
    return subscription


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
    apply: str = "now",
    now: dt.datetime | None = None,
) -> Subscription:
    """Changes plan, quantity, discount, salesperson or payment method; refused once the subscription ended.

    A plan or quantity change waits for the next renewal (`pending_plan` / `pending_quantity`, applied
    by the billing run) unless `apply="now"` (or the subscription has not started): then it takes effect
    at once and the plan-change hook (settings.SUBSCRIPTION_PLAN_CHANGE_HOOK, billing's proration) bills
    the rest of the paid period, in this same transaction. Choosing the current terms again drops a
    change that was waiting. Other terms always change at once.
    """
    now = now or timezone.now()
    subscription = _locked(subscription)
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
    gross = plan.price * (quantity or 1)
    _check_discount(
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        # The discount applies at once: while a change waits it must fit the current terms as well.
        gross=min(gross, old_plan.price * old_quantity) if defer else gross,
    )
    before = model_to_dict(subscription, fields=_EDITABLE)
    if defer:
        subscription.pending_plan = plan if plan != old_plan else None
        subscription.pending_quantity = quantity if quantity != old_quantity else None
    else:
        subscription.plan = plan
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
        price=subscription.plan.price,
        quantity=subscription.quantity,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
    )
    subscription.full_clean(exclude=["status"])
    after = model_to_dict(subscription, fields=_EDITABLE)
    changes = {k: [_jsonable(before[k]), _jsonable(after[k])] for k in _EDITABLE if before[k] != after[k]}
    if not changes:
        return subscription
    subscription.save(update_fields=[*_EDITABLE, "currency", "updated_at"])
    data = {"changes": changes}
    if defer:
        data["apply"] = "next_cycle"
    elif terms_change:
        data["apply"] = "now"
        hook = plan_change_hook()
        note = hook(subscription=subscription, old_plan=old_plan, old_quantity=old_quantity, now=now)
        if note:
            data["proration"] = note
    _record(subscription, kind=EventKind.EDITED, actor=actor, data=data, at=now)
    emit(
        merchant=merchant, type="subscription.updated", payload={**_payload(subscription), "changes": changes}
    )
    return subscription


def plan_change_hook():
    """The function that bills a plan or quantity change applied now, named by
    settings.SUBSCRIPTION_PLAN_CHANGE_HOOK (billing builds on subscribers, so it is looked up by name).
    Called as hook(subscription=, old_plan=, old_quantity=, now=) inside the edit's transaction; what it
    returns (a JSON-safe dict or None) is noted on the edit's timeline entry."""
    return import_string(settings.SUBSCRIPTION_PLAN_CHANGE_HOOK)


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


def _jsonable(value):
    return str(value) if isinstance(value, Decimal) else value


# --- cancel, remove, re-add ------------------------------------------------------------------------
def cancellation_preview(*, subscription: Subscription, when: str, at_date: dt.date | None = None, now=None):
    """(effective_at, access_until) for a cancellation, so the screen can say "poderá usar até …"
    before the user confirms. Raises ValidationError for a date that is not in the future."""
    now = now or timezone.now()
    merchant = subscription.merchant
    paid_until = now
    if subscription.status == S.ACTIVE and subscription.current_period_end:
        paid_until = max(subscription.current_period_end, now)
    elif subscription.status == S.TRIALING and subscription.trial_ends_at:
        paid_until = max(subscription.trial_ends_at, now)
    if when == CancelWhen.NOW:
        return now, paid_until
    if when == CancelWhen.PERIOD_END:
        if subscription.status == S.SCHEDULED or not subscription.current_period_end:
            return now, now
        end = max(subscription.current_period_end, now)
        return end, end
    if when == CancelWhen.DATE:
        if at_date is None:
            raise _field_error("at_date", _("Escolha a data do cancelamento."), "date_required")
        if at_date <= merchant.localdate(now):
            raise _field_error(
                "at_date", _("Escolha uma data futura; para hoje, use “Imediatamente”."), "date_not_future"
            )
        effective = merchant.start_of_day(at_date)
        return effective, effective
    raise _field_error("when", _("Escolha quando cancelar."), "when_required")


def _effective_origin(actor, origin):
    # Platform staff act for the platform: their cancellations are recorded as "admin", always.
    if getattr(actor, "is_staff", False):
        return CancelOrigin.ADMIN
    if origin not in (CancelOrigin.CUSTOMER, CancelOrigin.SELLER):
        raise _field_error("origin", _("Informe quem pediu o cancelamento."), "origin_required")
    return origin


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    actor,
    origin: str,
    when: str = CancelWhen.NOW,
    at_date: dt.date | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Subscription:
    """Cancels now, at the end of the current period, or on a chosen date. A future end is recorded
    now and carried out by `subscription_process_due` at that time."""
    now = now or timezone.now()
    subscription = _locked(subscription)
    _refuse(subscription, SubscriptionAction.CANCEL, now=now)
    origin = _effective_origin(actor, origin)
    effective_at, access_until = cancellation_preview(
        subscription=subscription, when=when, at_date=at_date, now=now
    )
    subscription.cancel_requested_at = now
    subscription.cancel_when = when
    subscription.cancel_origin = origin
    subscription.cancel_reason = (reason or "").strip()
    subscription.canceled_by = actor if getattr(actor, "pk", None) else None
    subscription.access_until = access_until
    subscription.cancel_at = effective_at
    fields = [
        "cancel_requested_at",
        "cancel_when",
        "cancel_origin",
        "cancel_reason",
        "canceled_by",
        "access_until",
        "cancel_at",
        "updated_at",
    ]
    if effective_at <= now:
        _end(subscription, actor=actor, kind=EventKind.CANCELED, now=now, fields=fields)
    else:
        subscription.save(update_fields=fields)
        _record(
            subscription,
            kind=EventKind.CANCEL_SCHEDULED,
            actor=actor,
            from_status=subscription.status,
            to_status=S.CANCELED,
            origin=origin,
            reason=subscription.cancel_reason,
            data={"cancel_at": effective_at.isoformat(), "access_until": access_until.isoformat()},
            at=now,
        )
        emit(
            merchant=subscription.merchant,
            type="subscription.cancel_scheduled",
            payload=_payload(subscription),
        )
    return subscription


def _end(subscription, *, actor, kind, now, fields, ended_at=None):
    from_status = _move(subscription, S.CANCELED)
    subscription.ended_at = ended_at or now
    subscription.next_invoice_at = None
    subscription.save(update_fields=[*fields, "status", "ended_at", "next_invoice_at", "updated_at"])
    _record(
        subscription,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=S.CANCELED,
        origin=subscription.cancel_origin,
        reason=subscription.cancel_reason,
        data={"access_until": subscription.access_until.isoformat() if subscription.access_until else None},
        at=now,
    )
    emit(merchant=subscription.merchant, type="subscription.canceled", payload=_payload(subscription))


@transaction.atomic
def subscription_remove(*, subscription: Subscription, actor, reason: str = "", now=None) -> Subscription:
    """Revokes access now: an immediate cancellation by the seller, with no refund."""
    now = now or timezone.now()
    subscription = _locked(subscription)
    _refuse(subscription, SubscriptionAction.REMOVE, now=now)
    subscription.cancel_requested_at = now
    subscription.cancel_when = CancelWhen.NOW
    subscription.cancel_origin = _effective_origin(actor, CancelOrigin.SELLER)
    subscription.cancel_reason = (reason or "").strip()
    subscription.canceled_by = actor if getattr(actor, "pk", None) else None
    subscription.cancel_at = now
    subscription.access_until = now
    subscription.access_revoked_at = now
    fields = [
        "cancel_requested_at",
        "cancel_when",
        "cancel_origin",
        "cancel_reason",
        "canceled_by",
        "cancel_at",
        "access_until",
        "access_revoked_at",
    ]
    _end(subscription, actor=actor, kind=EventKind.REMOVED, now=now, fields=fields)
    emit(merchant=subscription.merchant, type="subscription.access_revoked", payload=_payload(subscription))
    return subscription


@transaction.atomic
def subscription_readd(*, subscription: Subscription, actor, now=None) -> Subscription:
    """For a running subscription whose customer lost access: grants access again and re-sends the
    access e-mail."""
    now = now or timezone.now()
    subscription = _locked(subscription)
    _refuse(subscription, SubscriptionAction.READD, now=now)
    if subscription.access_revoked_at is not None:
        subscription.access_revoked_at = None
        subscription.save(update_fields=["access_revoked_at", "updated_at"])
    _record(
        subscription,
        kind=EventKind.READDED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        at=now,
    )
    emit(merchant=subscription.merchant, type="subscription.access_granted", payload=_payload(subscription))
    transaction.on_commit(lambda: emails.send_access(subscription.pk), robust=True)
    return subscription


# --- delete ----------------------------------------------------------------------------------------
def billing_history_hook():
    """Named by settings.SUBSCRIPTION_BILLING_HISTORY_HOOK (billing builds on subscribers). Called as
    hook(subscription, delete=bool) → {"invoices": n, "payments": n, "blocked_reason": str}."""
    return import_string(settings.SUBSCRIPTION_BILLING_HISTORY_HOOK)


def deletion_summary(subscription: Subscription) -> dict:
    """What a delete removes, for the confirmation screen, and why it can't when money already moved."""
    return {"events": subscription.events.count(), **billing_history_hook()(subscription, delete=False)}


@transaction.atomic
def subscription_delete(*, subscription: Subscription, actor, now=None) -> SubscriptionTombstone:
    """Deletes a subscription for good, only within one calendar month of its contract date,
    leaving a tombstone (who, when, snapshot) that owners can see."""
    now = now or timezone.now()
    subscription = _locked(subscription)
    _refuse(subscription, SubscriptionAction.DELETE, now=now)
    summary = deletion_summary(subscription)
    if summary["blocked_reason"]:
        raise ValidationError(summary["blocked_reason"], code="has_payments")
    snapshot = {
        **{k: _jsonable(v) for k, v in model_to_dict(subscription).items()},
        "customer_email": subscription.customer.email,
        "events": summary["events"],
        "invoices": summary["invoices"],
        "payments": summary["payments"],
    }
    tombstone = SubscriptionTombstone.objects.create(
        merchant=subscription.merchant,
        subscription_pk=subscription.pk,
        customer_name=subscription.customer.name,
        plan_name=subscription.plan.name,
        snapshot=_json_safe(snapshot),
        deleted_by=actor if getattr(actor, "pk", None) else None,
        deleted_at=now,
    )
    emit(merchant=subscription.merchant, type="subscription.deleted", payload=_payload(subscription))
    billing_history_hook()(subscription, delete=True)
    subscription.delete()
    return tombstone


def _json_safe(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- time-driven -----------------------------------------------------------------------------------
def subscription_process_due(*, now=None, limit: int = 500) -> dict:
    """Carries out what has come due: scheduled contracts start, scheduled cancellations end.

    Each subscription is handled in its own transaction under a row lock (SKIP LOCKED where the
    database has it), and re-checked inside it, so two workers or a retried task never act twice.
    """
    now = now or timezone.now()
    done = {"started": 0, "canceled": 0}
    # A contract whose cancellation falls after its start date still starts (and ends later).
    starts = Subscription.objects.filter(status=S.SCHEDULED, billing_cycle_anchor__lte=now).exclude(
        cancel_at__lte=F("billing_cycle_anchor")
    )
    for pk in starts.values_list("pk", flat=True)[:limit]:
        done["started"] += _process_one(pk, now=now, kind="start")
    ends = Subscription.objects.filter(
        status__in=[S.SCHEDULED, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PENDING], cancel_at__lte=now
    )
    for pk in ends.values_list("pk", flat=True)[:limit]:
        done["canceled"] += _process_one(pk, now=now, kind="cancel")
    return done


def _process_one(pk, *, now, kind) -> int:
    with transaction.atomic():
        row = (
            Subscription.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("merchant", "plan", "customer")
            .filter(pk=pk)
            .first()
        )
        if row is None:
            return 0
        if (
            kind == "start"
            and row.status == S.SCHEDULED
            and row.billing_cycle_anchor <= now
            and (row.cancel_at is None or row.cancel_at > row.billing_cycle_anchor)
        ):
            from_status = row.status
            _start(row, now=now)
            row.save(update_fields=[*_STARTED_FIELDS, "updated_at"])
            _record(
                row, kind=EventKind.STARTED, actor=None, from_status=from_status, to_status=row.status, at=now
            )
            emit(merchant=row.merchant, type="subscription.started", payload=_payload(row))
            if row.status in (S.ACTIVE, S.TRIALING):
                emit(merchant=row.merchant, type="subscription.access_granted", payload=_payload(row))
            return 1
        if kind == "cancel" and row.cancel_at is not None and row.cancel_at <= now and not row.is_ended:
            # ended_at is when the cancellation took effect, even when this run comes late.
            _end(
                row,
                actor=row.canceled_by,
                kind=EventKind.CANCELED,
                now=now,
                fields=[],
                ended_at=row.cancel_at,
            )
            return 1
    return 0


_STARTED_FIELDS = [
    "status",
    "started_at",
    "trial_ends_at",
    "billing_cycle_anchor",
    "current_period_start",
    "current_period_end",
    "next_invoice_at",
]


# --- billing-driven changes (called by the billing app, which holds the subscription's row lock) -----
BILLING_EVENT_TYPES = {
    S.ACTIVE: "subscription.activated",
    S.PENDING: "subscription.pending",
    S.PAST_DUE: "subscription.past_due",
    S.EXPIRED: "subscription.expired",
    S.CANCELED: "subscription.canceled",
    S.REFUNDED: "subscription.refunded",
}


def subscription_apply_billing(
    *,
    subscription: Subscription,
    now,
    to_status: str | None = None,
    reason: str = "",
    data: dict | None = None,
    **fields,
) -> Subscription:
    """What a payment, a failed charge, a renewal or a refund does to a subscription: move its status
    along the transition table (with timeline entry and outbox event) and/or update its billing fields
    (periods, next_invoice_at, …). The caller holds the row lock inside its transaction."""
    allowed = {
        "current_period_start",
        "current_period_end",
        "next_invoice_at",
        "amount",
        "plan",
        "quantity",
        "pending_plan",
        "pending_quantity",
        "currency",
        "access_until",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Billing may not change {sorted(unknown)}")
    for name, value in fields.items():
        setattr(subscription, name, value)
    update = [*fields]
    from_status = subscription.status
    if to_status and to_status != from_status:
        _move(subscription, to_status)
        update.append("status")
        if to_status in (S.EXPIRED, S.CANCELED):
            subscription.ended_at = now
            subscription.next_invoice_at = None
            update += ["ended_at", "next_invoice_at"]
        if to_status == S.CANCELED and not subscription.cancel_origin:
            subscription.cancel_origin = CancelOrigin.SELLER
            subscription.cancel_at = now
            subscription.cancel_reason = reason
            subscription.access_until = now
            update += ["cancel_origin", "cancel_at", "cancel_reason", "access_until"]
    if update:
        subscription.save(update_fields=sorted({*update, "updated_at"}))
    if to_status and to_status != from_status:
        kind = {S.EXPIRED: EventKind.EXPIRED, S.REFUNDED: EventKind.REFUNDED}.get(
            to_status, EventKind.BILLING
        )
        _record(
            subscription,
            kind=kind,
            actor=None,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=data or {},
            at=now,
        )
        emit(
            merchant=subscription.merchant,
            type=BILLING_EVENT_TYPES[to_status],
            payload={**_payload(subscription), "reason": reason},
        )
        if to_status == S.ACTIVE and from_status in (S.PENDING, S.TRIALING):
            emit(
                merchant=subscription.merchant,
                type="subscription.access_granted",
                payload=_payload(subscription),
            )
        if to_status in (S.EXPIRED, S.CANCELED, S.REFUNDED) and from_status != S.CANCELED:
            emit(
                merchant=subscription.merchant,
                type="subscription.access_revoked",
                payload=_payload(subscription),
            )
    return subscription
