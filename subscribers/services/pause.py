"""Pausar / retomar (docs/pause.md): a paused subscription issues no invoices and its periods do not advance
until it is resumed, by hand or on a scheduled date, starting a new period or continuing its cycle.

The status moves only here (active/past_due → paused → active, or cancelled while paused), along the one
transition table. Money goes through billing, which provides the extension points: the merchant's pause
rules, withdrawing open boletos/pix, billing the resume and previewing it (subscribers may not import
billing).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import EventType
from core.outbox import emit
from plans.periods import period_containing
from subscribers import extension_points, timeline
from subscribers.choices import (
    LIVE_SCHEDULE_STATUSES,
    EventKind,
    PauseAccess,
    PauseCoupons,
    PauseWhen,
    PhaseKind,
    ResumeMode,
    SubscriptionAction,
)
from subscribers.locks import lock_subscription
from subscribers.models import SchedulePhase, Subscription
from subscribers.services._common import S, _field_error, _move, _payload, _record, _refuse

PAUSE_FIELDS = ["pause_at", "paused_at", "resume_at", "resume_mode", "access_until"]


def pause_start(*, subscription: Subscription, when: str, at_date: dt.date | None = None, now=None):
    """When a pause asked for `when` starts: now, at the end of the current period, or at the start of a
    future day (the merchant's midnight). Refuses a day that is not in the future."""
    now = now or timezone.now()
    if when == PauseWhen.NOW:
        return now
    if when == PauseWhen.PERIOD_END:
        return max(subscription.current_period_end or now, now)
    if when == PauseWhen.DATE:
        if at_date is None:
            raise _field_error("at_date", _("Escolha a data da pausa."), "date_required")
        if at_date <= subscription.merchant.localdate(now):
            raise _field_error(
                "at_date", _("Escolha uma data futura; para hoje, use “Agora”."), "date_not_future"
            )
        return subscription.merchant.start_of_day(at_date)
    raise _field_error("when", _("Escolha quando pausar."), "when_required")


def _resume_moment(subscription, resume_on: dt.date | None, *, after) -> dt.datetime | None:
    if resume_on is None:
        return None
    at = subscription.merchant.start_of_day(resume_on)
    if at <= after:
        raise _field_error(
            "resume_on", _("A retomada precisa ser depois do início da pausa."), "resume_before_pause"
        )
    return at


def paid_until(subscription: Subscription, now) -> dt.datetime:
    """The end of the time the customer already paid for: the current period's end for an active
    subscription (a past-due one's period is unpaid), never before now."""
    if subscription.status == S.ACTIVE and subscription.current_period_end:
        return max(subscription.current_period_end, now)
    return now


@transaction.atomic
def subscription_pause(
    *,
    subscription: Subscription,
    actor,
    when: str = PauseWhen.NOW,
    at_date: dt.date | None = None,
    resume_on: dt.date | None = None,
    resume_mode: str = ResumeMode.CONTINUE,
    reason: str = "",
    reason_code: str = "",
    now: dt.datetime | None = None,
) -> Subscription:
    """Pauses now, at the end of the current period or on a date, optionally resuming on a later date
    (`resume_on`, with `resume_mode`; without it, it is resumed by hand). A later start is recorded now and
    carried out by `subscription_process_due`; the billing run renews nothing from it on. `reason` is what a
    person typed; a pause the system words (a provider's) is `reason_code` (subscribers/timeline.py)."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.PAUSE, now=now)
    if resume_mode not in ResumeMode.values:
        raise _field_error("resume_mode", _("Escolha como retomar."), "resume_mode_required")
    starts = pause_start(subscription=subscription, when=when, at_date=at_date, now=now)
    subscription.resume_at = _resume_moment(subscription, resume_on, after=max(starts, now))
    subscription.resume_mode = resume_mode
    reason = "" if reason_code else (reason or "").strip()
    if starts <= now:
        _pause_now(subscription, actor=actor, now=now, reason=reason, reason_code=reason_code)
        return subscription
    subscription.pause_at = starts
    subscription.save(update_fields=[*PAUSE_FIELDS, "updated_at"])
    _record(
        subscription,
        kind=EventKind.PAUSE_SCHEDULED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason=reason,
        reason_code=reason_code,
        data=_pause_data(subscription),
        at=now,
    )
    return subscription


def _pause_data(subscription) -> dict:
    return {
        "pause_at": subscription.pause_at.isoformat() if subscription.pause_at else None,
        "resume_at": subscription.resume_at.isoformat() if subscription.resume_at else None,
        "resume_mode": subscription.resume_mode,
    }


def _pause_now(subscription, *, actor, now, reason="", reason_code="") -> None:
    """Moves a locked subscription to paused now: access per the merchant's rule, open boletos/pix
    withdrawn (billing), timeline entry and `subscription.paused`."""
    policy = extension_points.pause_policy(subscription.merchant)
    access_until = now if policy["access"] == PauseAccess.NONE else paid_until(subscription, now)
    from_status = _move(subscription, S.PAUSED)
    subscription.paused_at = now
    subscription.pause_at = None
    subscription.access_until = access_until
    subscription.save(update_fields=[*PAUSE_FIELDS, "status", "updated_at"])
    voided = extension_points.subscription_paused(subscription, now=now)
    _record(
        subscription,
        kind=EventKind.PAUSED,
        actor=actor,
        from_status=from_status,
        to_status=S.PAUSED,
        reason=reason,
        reason_code=reason_code,
        data={
            **_pause_data(subscription),
            "access_until": access_until.isoformat(),
            "invoices_voided": voided,
        },
        at=now,
    )
    emit(merchant=subscription.merchant, type=EventType.SUBSCRIPTION_PAUSED, payload=_payload(subscription))
    if access_until <= now:
        emit(
            merchant=subscription.merchant,
            type=EventType.SUBSCRIPTION_ACCESS_REVOKED,
            payload=_payload(subscription),
        )


@transaction.atomic
def subscription_pause_cancel(*, subscription: Subscription, actor, now=None) -> Subscription:
    """Takes back a pause scheduled for later (before it starts)."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    if subscription.pause_at is None or subscription.status == S.PAUSED:
        raise ValidationError(_("Esta assinatura não tem uma pausa agendada."), code="no_pause_scheduled")
    data = _pause_data(subscription)
    subscription.pause_at = subscription.resume_at = None
    subscription.resume_mode = ""
    subscription.save(update_fields=["pause_at", "resume_at", "resume_mode", "updated_at"])
    _record(
        subscription,
        kind=EventKind.PAUSE_SCHEDULED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.PAUSE_UNDONE,
        data={**data, "reverted": True},
        at=now,
    )
    return subscription


def resume_cycle(subscription: Subscription, *, mode: str, now) -> dict:
    """The cycle fields a resume at `now` gives the subscription (pure: reads attributes only).

    - new period: the billing-cycle anchor moves to `now` and the next invoice is due now (a full period);
    - continue: the anchor stays. Still inside the period paid before the pause, nothing is owed until its
      end; past it, the period of the old cycle that contains `now` is the current one, and its rest is
      charged prorated (billing) before the next renewal at its end.
    """
    if mode == ResumeMode.NEW_PERIOD:
        return {"billing_cycle_anchor": now, "next_invoice_at": now}
    end = subscription.current_period_end
    if end is not None and now < end:
        return {"next_invoice_at": end}
    terms = subscription.price_terms
    tz = subscription.merchant.tzinfo
    start, end = period_containing(
        subscription.billing_cycle_anchor.astimezone(tz),
        terms.interval_unit,
        terms.interval_count,
        now.astimezone(tz),
        tz=tz,
    )
    return {"current_period_start": start, "current_period_end": end, "next_invoice_at": end}


def coupon_applied_at_on_resume(subscription, policy, now):
    """A repeating coupon counts months from when it was applied; frozen during a pause, that moment moves
    on by the time paused (kept explicit, since it otherwise falls back to the anchor a resume may move)."""
    if subscription.coupon_id is None:
        return subscription.coupon_applied_at
    applied = subscription.coupon_applied_at or subscription.billing_cycle_anchor
    if policy["coupons"] == PauseCoupons.FREEZE and subscription.paused_at is not None:
        applied += now - subscription.paused_at
    return applied


@transaction.atomic
def subscription_resume(
    *,
    subscription: Subscription,
    actor,
    mode: str = ResumeMode.CONTINUE,
    at_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Subscription:
    """Resumes a paused subscription now (billing what `mode` says, as the preview showed) or schedules the
    resume for the start of `at_date` (carried out by `subscription_process_due`)."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.RESUME, now=now)
    if in_schedule_pause(subscription):
        raise ValidationError(
            _(
                "Esta pausa faz parte da programação da assinatura: para retomar em outra data, altere o "
                "fim da pausa em Editar programação."
            ),
            code="schedule_pause",
        )
    if mode not in ResumeMode.values:
        raise _field_error("mode", _("Escolha como retomar."), "resume_mode_required")
    if at_date is not None:
        subscription.resume_at = _resume_moment(subscription, at_date, after=now)
        subscription.resume_mode = mode
        subscription.save(update_fields=["resume_at", "resume_mode", "updated_at"])
        _record(
            subscription,
            kind=EventKind.RESUME_SCHEDULED,
            actor=actor,
            from_status=subscription.status,
            to_status=subscription.status,
            data=_pause_data(subscription),
            at=now,
        )
        return subscription
    _resume_now(subscription, actor=actor, mode=mode, now=now)
    return subscription


def in_schedule_pause(subscription: Subscription) -> bool:
    """Whether the subscription is paused by its schedule's pause block (which also decides the resume)."""
    return (
        subscription.status == S.PAUSED
        and SchedulePhase.objects.filter(
            schedule__subscription=subscription,
            schedule__status__in=sorted(LIVE_SCHEDULE_STATUSES),
            position=F("schedule__current_position"),
            kind=PhaseKind.PAUSE,
        ).exists()
    )


def _resume_now(subscription, *, actor, mode, now, new_terms: bool = False) -> None:
    """`new_terms`: a schedule put its next phase's terms on the subscription for the resume, with their
    coupon counting from now (the pause's coupon freeze is about the terms that were paused)."""
    policy = extension_points.pause_policy(subscription.merchant)
    paused_at = subscription.paused_at
    coupon_applied_at = (
        subscription.coupon_applied_at
        if new_terms
        else coupon_applied_at_on_resume(subscription, policy, now)
    )
    previous_access = subscription.access_until
    cycle = resume_cycle(subscription, mode=mode, now=now)
    from_status = _move(subscription, S.ACTIVE)
    for name, value in cycle.items():
        setattr(subscription, name, value)
    subscription.coupon_applied_at = coupon_applied_at
    subscription.paused_at = subscription.pause_at = subscription.resume_at = None
    subscription.resume_mode = ""
    subscription.access_until = None
    subscription.save(update_fields=[*PAUSE_FIELDS, *cycle, "coupon_applied_at", "status", "updated_at"])
    note = extension_points.resume_billing(
        subscription=subscription, mode=mode, charge_rest="current_period_start" in cycle, now=now
    )
    _record(
        subscription,
        kind=EventKind.RESUMED,
        actor=actor,
        from_status=from_status,
        to_status=S.ACTIVE,
        data={
            "mode": mode,
            "paused_at": paused_at.isoformat() if paused_at else None,
            "billing": note,
        },
        at=now,
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_RESUMED,
        payload={**_payload(subscription), "resume_mode": mode},
    )
    if previous_access is not None and previous_access <= now:
        emit(
            merchant=subscription.merchant,
            type=EventType.SUBSCRIPTION_ACCESS_GRANTED,
            payload=_payload(subscription),
        )
