"""Programações (subscription schedules): create, edit, release and cancel a schedule, and enter its
phases one after another (called by billing at each phase's start, inside the billing run's lock).

A schedule is validated whole, in one call, and saved atomically: the phases are replaced by the new
sequence and their dates recomputed (`phase_dates`). The edit rules: phases that ended are frozen; the
running phase may change its quantity, coupon, tax rates and end (from now on, prorated or not: the
`running_proration` of `schedule_update`); later phases are free. Every change writes a timeline line
and an outbox event in the same transaction.
"""

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.events import EventType
from core.outbox import emit
from core.percent import DISCOUNT_PERCENT
from plans.choices import IntervalUnit
from plans.periods import add_interval, period_containing
from subscribers import extension_points, timeline
from subscribers.choices import (
    LIVE_SCHEDULE_STATUSES,
    MAX_SCHEDULE_PHASES,
    SCHEDULE_TRANSITIONS,
    CancelWhen,
    DiscountType,
    EventKind,
    PhaseAnchor,
    PhaseKind,
    PhaseProration,
    ResumeMode,
    ScheduleEndBehavior,
    ScheduleStatus,
)
from subscribers.locks import lock_schedule, lock_subscription, schedules_for_update
from subscribers.models import SchedulePhase, Subscription, SubscriptionSchedule, price_terms
from subscribers.pricing import subscription_amount
from subscribers.services._common import S, _record
from subscribers.services.billing import subscription_apply_billing
from subscribers.services.pause import _pause_now, _resume_now
from subscribers.services.price_changes import PRICE_VERSION_FIELDS, subscription_plan_switch

SS = ScheduleStatus
# The terms the running phase may still change (from now on); the rest of it is frozen.
# A running pause block may change its end and resume mode (resume_mode is blank on a phase with terms).
CURRENT_PHASE_EDITABLE = ("quantity", "coupon", "tax_rates", "end_date", "iterations", "resume_mode")
TERM_FIELDS = (
    "plan",
    "price_name",
    "price_amount",
    "price_interval_unit",
    "price_interval_count",
    "quantity",
    "coupon",
    "discount_percent",
    "tax_rates",
    "trial_days",
    "end_date",
    "iterations",
    "proration",
    "anchor",
    "kind",
    "resume_mode",
)
# The statuses a schedule's pause block pauses (the transition table's edges into paused, docs/pause.md).
PAUSABLE = (S.ACTIVE, S.PAST_DUE)


@dataclass
class PhaseSpec:
    """One phase as the editor (or a caller) describes it; dates are computed, never given."""

    plan: object = None
    price_name: str = ""
    price_amount: int | None = None
    price_interval_unit: str = ""
    price_interval_count: int | None = None
    quantity: int = 1
    coupon: object = None
    discount_percent: Decimal | None = None
    tax_rates: list = field(default_factory=list)
    trial_days: int | None = None
    end_date: dt.datetime | None = None
    iterations: int | None = None
    proration: str = PhaseProration.PRORATE
    anchor: str = PhaseAnchor.AUTOMATIC
    # A pause block: no terms, an end date, and how the subscription resumes at its end.
    kind: str = PhaseKind.TERMS
    resume_mode: str = ""

    @classmethod
    def pause(cls, *, end_date: dt.datetime, resume_mode: str = ResumeMode.NEW_PERIOD) -> "PhaseSpec":
        return cls(kind=PhaseKind.PAUSE, end_date=end_date, resume_mode=resume_mode)

    @property
    def is_pause(self) -> bool:
        return self.kind == PhaseKind.PAUSE

    @property
    def custom_price(self) -> dict | None:
        if self.plan is not None or self.price_amount is None:
            return None
        return {
            "name": self.price_name or _("Preço avulso"),
            "amount": self.price_amount,
            "interval_unit": self.price_interval_unit,
            "interval_count": self.price_interval_count or 1,
        }

    @property
    def price(self):
        return price_terms(self.plan, self.custom_price)

    @classmethod
    def of(cls, phase: SchedulePhase) -> "PhaseSpec":
        """A saved phase as a spec (to compare an edit with, or to keep unchanged)."""
        values = {name: getattr(phase, name) for name in TERM_FIELDS if name != "tax_rates"}
        return cls(**values, tax_rates=list(phase.tax_rates.all()))

    def terms(self) -> tuple:
        """Comparable value of every term (tax rates and foreign keys by id)."""
        return tuple(_comparable(name, getattr(self, name)) for name in TERM_FIELDS)


def _comparable(name, value):
    if name == "tax_rates":
        return tuple(sorted(rate.pk for rate in value))
    if name in ("plan", "coupon"):
        return getattr(value, "pk", None)
    if name == "discount_percent" and value is not None:
        return Decimal(value).normalize()
    return value


# --- dates ----------------------------------------------------------------------------------------------
def phase_dates(
    specs: list[PhaseSpec], *, start: dt.datetime, anchor: dt.datetime, tz, interval: tuple | None = None
) -> list[tuple]:
    """(start, end) of each phase, one after another from `start`, with the billing-cycle anchor each phase
    runs on (`anchor` is the subscription's when the first phase starts).

    A phase ends on its end date, or after `iterations` billing periods of its price counted from the
    anchor it runs on (so the phase ends on a billing date: a phase entered between two billing dates
    counts the part up to the next one as its first period). `phase_start` resets the anchor to the
    phase's start, and so does a price billed at another interval than the phase before (`interval`: the
    subscription's when the first phase starts); a trial moves it to the trial's end and the periods
    count from there."""
    dates = []
    start, anchor = start.astimezone(tz), anchor.astimezone(tz)
    after_pause = False
    for spec in specs:
        if spec.is_pause:
            # A pause lasts until its end date; resumed "new period", the cycle restarts there.
            end = spec.end_date.astimezone(tz) if spec.end_date is not None else start
            if spec.resume_mode == ResumeMode.NEW_PERIOD:
                anchor = end
            dates.append((start, end))
            start, after_pause = end, True
            continue
        price = spec.price
        if after_pause:
            # The cycle after a pause is the resume's (schedule_advance resumes, then bills these terms).
            after_pause = False
        elif spec.anchor == PhaseAnchor.PHASE_START or (
            interval is not None and interval != (price.interval_unit, price.interval_count)
        ):
            anchor = start
        interval = (price.interval_unit, price.interval_count)
        if spec.trial_days:
            anchor = start + dt.timedelta(days=spec.trial_days)
        if spec.end_date is not None:
            end = spec.end_date.astimezone(tz)
        elif anchor > start:  # a trial: its end, then whole periods
            end = add_interval(anchor, price.interval_unit, price.interval_count, spec.iterations or 1)
        else:
            end = start
            for _period in range(spec.iterations or 1):
                end = period_containing(anchor, price.interval_unit, price.interval_count, end, tz=tz)[1]
        dates.append((start, end))
        start = end
    return dates


# --- validation ----------------------------------------------------------------------------------------
def _error_key(index: int, name: str) -> str:
    # The editor's formset prefix: the error lands next to the field it is about.
    return f"phases-{index}-{name}"


def validate_phases(
    *,
    subscription: Subscription,
    specs: list[PhaseSpec],
    end_behavior: str,
    start,
    anchor,
    now,
    schedule=None,
    kept=(),
) -> list[tuple]:
    """Checks a whole schedule (every phase and the edit rules against `schedule`'s saved phases);
    raises one ValidationError with every problem, keyed by field (`phases-<n>-<field>`). Returns the
    phases' dates: `kept` (the dates the ended phases ran) then the rest computed from `start` on the
    billing-cycle `anchor` in force there."""
    errors: dict[str, list] = {}

    def add(key, message, code):
        errors.setdefault(key, []).append(ValidationError(message, code=code))

    merchant = subscription.merchant
    if end_behavior not in ScheduleEndBehavior.values:
        add("end_behavior", _("Escolha o que acontece ao fim da programação."), "end_behavior_required")
    if not specs:
        add("phases", _("Uma programação precisa de pelo menos uma fase."), "no_phases")
    if len(specs) > MAX_SCHEDULE_PHASES:
        add(
            "phases",
            _("Uma programação tem no máximo %(max)s fases.") % {"max": MAX_SCHEDULE_PHASES},
            "too_many_phases",
        )
    # An archived plan is sold to no one new: a phase may name it only if the subscription is on it already
    # or the schedule planned it before it was archived (the editor offers none; the API could send one).
    planned_plans = {subscription.plan_id}
    if schedule is not None:
        planned_plans |= set(schedule.phases.exclude(plan=None).values_list("plan_id", flat=True))
    for index, spec in enumerate(specs):
        if spec.kind not in PhaseKind.values:
            add(_error_key(index, "kind"), _("Tipo de fase inválido."), "invalid_kind")
        elif spec.is_pause:
            _validate_pause(specs, index, add=add)
        else:
            _validate_spec(
                subscription,
                merchant,
                spec,
                index,
                last=index == len(specs) - 1,
                add=add,
                planned=planned_plans,
            )
            if index and specs[index - 1].is_pause:
                _validate_after_pause(spec, index, add=add)
    if errors:
        raise ValidationError(errors)
    kept = list(kept)
    dates = kept + phase_dates(specs[len(kept) :], start=start, anchor=anchor, tz=merchant.tzinfo)
    for index, (phase_start, phase_end) in enumerate(dates):
        if phase_end <= phase_start:
            add(
                _error_key(index, "end_date"),
                _("A fase termina antes de começar (%(start)s).")
                % {"start": formats.date_format(phase_start.date(), "SHORT_DATE_FORMAT")},
                "phase_ends_before_start",
            )
    if schedule is not None:
        _check_edit_rules(schedule, specs, dates, now=now, add=add)
    if errors:
        raise ValidationError(errors)
    return dates


def _validate_spec(
    subscription, merchant, spec: PhaseSpec, index: int, *, last: bool, add, planned=frozenset()
) -> None:
    key = lambda name: _error_key(index, name)  # noqa: E731 — a short local name reads better here
    if spec.plan is None and spec.price_amount is None:
        add(key("plan"), _("Escolha um plano ou informe um preço avulso."), "price_required")
    if spec.plan is not None:
        if spec.plan.merchant_id != merchant.pk:
            add(key("plan"), _("Plano não encontrado."), "invalid_plan")
        elif spec.plan.archived_at is not None and spec.plan.pk not in planned:
            add(key("plan"), _("Este plano está arquivado: escolha outro."), "archived_plan")
        elif spec.plan.currency != subscription.currency:
            add(key("plan"), _("O plano precisa estar na moeda da assinatura."), "currency_mismatch")
    elif spec.price_amount is not None:
        if spec.price_amount <= 0:
            add(key("price_amount"), _("O preço avulso deve ser maior que zero."), "invalid_price")
        if spec.price_interval_unit not in IntervalUnit.values:
            add(key("price_interval_unit"), _("Escolha o intervalo do preço avulso."), "interval_required")
        if not spec.price_interval_count or spec.price_interval_count < 1:
            add(key("price_interval_count"), _("O intervalo deve ser de pelo menos 1."), "invalid_interval")
    if not spec.quantity or spec.quantity < 1:
        add(key("quantity"), _("A quantidade deve ser de pelo menos 1."), "invalid_quantity")
    if spec.coupon is not None and spec.coupon.merchant_id != merchant.pk:
        add(key("coupon"), _("Cupom não encontrado."), "invalid_coupon")
    if spec.coupon is not None and spec.discount_percent:
        add(key("discount_percent"), _("Use um cupom ou um desconto, não os dois."), "coupon_and_discount")
    if spec.discount_percent is not None:
        try:
            valid = Decimal(spec.discount_percent) in DISCOUNT_PERCENT
        except InvalidOperation:
            valid = False
        if not valid:
            add(key("discount_percent"), str(DISCOUNT_PERCENT.message), "invalid_discount")
    for rate in spec.tax_rates:
        if rate.merchant_id != merchant.pk:
            add(key("tax_rates"), _("Imposto não encontrado."), "invalid_tax_rate")
    if spec.end_date is not None and spec.iterations:
        add(key("iterations"), _("Informe a data de fim ou o número de períodos, não os dois."), "two_ends")
    if spec.end_date is None and not spec.iterations and not last:
        add(
            key("iterations"),
            _("Informe quando a fase termina: uma data ou um número de períodos."),
            "no_end",
        )
    if spec.proration not in PhaseProration.values:
        add(key("proration"), _("Escolha o rateio ao entrar na fase."), "invalid_proration")
    if spec.anchor not in PhaseAnchor.values:
        add(key("anchor"), _("Escolha o ciclo de cobrança da fase."), "invalid_anchor")


def _validate_pause(specs, index: int, *, add) -> None:
    """A pause block: an end date and a resume mode, between two phases with terms (the subscription has
    terms to pause and terms to resume on)."""
    key = lambda name: _error_key(index, name)  # noqa: E731
    spec = specs[index]
    if index == 0:
        add(key("end_date"), _("A programação não pode começar com uma pausa."), "pause_first")
    elif specs[index - 1].is_pause:
        add(key("end_date"), _("Duas pausas seguidas: junte-as em uma só."), "pause_after_pause")
    if index == len(specs) - 1:
        add(
            key("end_date"),
            _("Depois de uma pausa vem uma fase: adicione as condições da retomada."),
            "pause_last",
        )
    if spec.end_date is None:
        add(key("end_date"), _("Informe até quando a assinatura fica pausada."), "pause_end_required")
    if spec.iterations:
        add(key("iterations"), _("Uma pausa termina numa data, não após períodos."), "pause_iterations")
    if spec.resume_mode not in ResumeMode.values:
        add(key("resume_mode"), _("Escolha como retomar ao fim da pausa."), "resume_mode_required")


def _validate_after_pause(spec: PhaseSpec, index: int, *, add) -> None:
    """The phase after a pause starts at the resume, on the cycle the pause's resume mode gives it."""
    if spec.trial_days:
        add(
            _error_key(index, "trial_days"),
            _("Uma fase logo após uma pausa não tem teste: ela começa com a retomada."),
            "trial_after_pause",
        )
    if spec.anchor == PhaseAnchor.PHASE_START:
        add(
            _error_key(index, "anchor"),
            _(
                "Após uma pausa, o ciclo é o do modo de retomada da pausa (para reiniciá-lo, escolha "
                "começar um novo período na retomada)."
            ),
            "anchor_after_pause",
        )


def _check_edit_rules(schedule: SubscriptionSchedule, specs, dates, *, now, add) -> None:
    """Ended phases are frozen; the running one changes only quantity, coupon, taxes and its end (to a
    moment still ahead); later phases are free."""
    saved = list(schedule.phases.prefetch_related("tax_rates").order_by("position"))
    current = schedule.current_position
    if current is None:
        return
    for phase in saved[: current + 1]:
        index = phase.position
        if index >= len(specs):
            add(
                "phases",
                _("A fase %(n)s já começou e não pode ser removida.") % {"n": index + 1},
                "phase_started",
            )
            continue
        before, after = PhaseSpec.of(phase).terms(), specs[index].terms()
        for name, old, new in zip(TERM_FIELDS, before, after, strict=True):
            if old == new:
                continue
            if index < current:
                add(
                    _error_key(index, name),
                    _("Esta fase já terminou e não pode ser alterada."),
                    "phase_frozen",
                )
            elif phase.is_pause and name not in ("end_date", "resume_mode"):
                add(
                    _error_key(index, name),
                    _("A pausa em curso só pode mudar o fim e o modo de retomada."),
                    "current_pause_limited",
                )
            elif name not in CURRENT_PHASE_EDITABLE:
                add(
                    _error_key(index, name),
                    _(
                        "A fase atual só pode mudar quantidade, cupom, impostos e o fim; para mudar isto, "
                        "adicione uma nova fase."
                    ),
                    "current_phase_limited",
                )
    if current < len(dates) and dates[current][1] <= now:
        add(
            _error_key(current, "end_date"),
            _("A fase atual precisa terminar depois de agora."),
            "current_end_past",
        )


# --- writes --------------------------------------------------------------------------------------------
def _move_schedule(schedule: SubscriptionSchedule, to_status: str) -> str:
    from_status = schedule.status
    if to_status not in SCHEDULE_TRANSITIONS[from_status]:
        raise ValidationError(
            _("Uma programação %(from)s não pode passar a %(to)s.")
            % {"from": SS(from_status).label.lower(), "to": SS(to_status).label.lower()},
            code="invalid_transition",
        )
    schedule.status = to_status
    return from_status


def schedule_payload(schedule: SubscriptionSchedule) -> dict:
    phases = list(schedule.phases.prefetch_related("tax_rates").order_by("position"))
    return {
        "id": schedule.pk,
        "subscription": schedule.subscription_id,
        "status": schedule.status,
        "end_behavior": schedule.end_behavior,
        "current_phase": schedule.current_position,
        "next_phase_at": schedule.next_phase_at,
        "phases": [
            {
                "start": phase.start_at,
                "end": phase.end_at,
                "plan": phase.plan_id,
                "price": phase.custom_price,
                "quantity": phase.quantity,
                "coupon": phase.coupon.code if phase.coupon_id else None,
                "discount_percent": str(phase.discount_percent)
                if phase.discount_percent is not None
                else None,
                "tax_rates": sorted(rate.pk for rate in phase.tax_rates.all()),
                "trial_days": phase.trial_days,
                "proration": phase.proration,
                "anchor": phase.anchor,
                "kind": phase.kind,
                "resume_mode": phase.resume_mode,
            }
            for phase in phases
        ],
    }


SCHEDULE_EVENT_TYPES = {
    "created": EventType.SUBSCRIPTION_SCHEDULE_CREATED,
    "updated": EventType.SUBSCRIPTION_SCHEDULE_UPDATED,
    "phase_started": EventType.SUBSCRIPTION_SCHEDULE_PHASE_STARTED,
    "released": EventType.SUBSCRIPTION_SCHEDULE_RELEASED,
    "completed": EventType.SUBSCRIPTION_SCHEDULE_COMPLETED,
    "canceled": EventType.SUBSCRIPTION_SCHEDULE_CANCELED,
}


def _emit(schedule, action, **extra):
    emit(
        merchant=schedule.subscription.merchant,
        type=SCHEDULE_EVENT_TYPES[action],
        payload={**schedule_payload(schedule), **extra},
    )


def _write_phases(schedule, specs, dates) -> None:
    schedule.phases.all().delete()
    for position, (spec, (start, end)) in enumerate(zip(specs, dates, strict=True)):
        phase = SchedulePhase.objects.create(
            schedule=schedule,
            position=position,
            start_at=start,
            end_at=end,
            **{name: getattr(spec, name) for name in TERM_FIELDS if name != "tax_rates"},
        )
        phase.tax_rates.set(spec.tax_rates)


def _current_terms(subscription: Subscription, *, end_date) -> PhaseSpec:
    """Phase 0 of a schedule attached to a running subscription: its terms now, until `end_date`."""
    custom = subscription.custom_price or {}
    return PhaseSpec(
        plan=None if custom else subscription.plan,
        price_name=custom.get("name", ""),
        price_amount=custom.get("amount"),
        price_interval_unit=custom.get("interval_unit", ""),
        price_interval_count=custom.get("interval_count"),
        quantity=subscription.quantity,
        coupon=subscription.coupon,
        discount_percent=(
            subscription.discount_percent if subscription.discount_type == DiscountType.PERCENT else None
        ),
        tax_rates=list(subscription.tax_rates.all()),
        end_date=end_date,
    )


@transaction.atomic
def schedule_create(
    *,
    subscription: Subscription,
    actor,
    phases: list[PhaseSpec],
    end_behavior: str = ScheduleEndBehavior.RELEASE,
    first_phase_end: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> SubscriptionSchedule:
    """Gives a subscription a schedule. A subscription not started yet (Nova assinatura's "Programar
    fases") takes `phases` from its start: phase 1's terms become its terms now, and the schedule starts
    with it. A running one keeps its current terms as phase 1, from its current period's start until
    `first_phase_end` (default: the current period's end), and `phases` follow."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    if subscription.is_ended:
        raise ValidationError(
            _("Uma assinatura encerrada não pode ser programada."), code="subscription_ended"
        )
    if subscription.schedules.filter(status__in=sorted(LIVE_SCHEDULE_STATUSES)).exists():
        raise ValidationError(_("Esta assinatura já tem uma programação."), code="schedule_exists")
    not_started = subscription.status == S.SCHEDULED
    specs = list(phases)
    if not_started:
        start = anchor = subscription.billing_cycle_anchor
    else:
        start = subscription.current_period_start or now
        anchor = subscription.billing_cycle_anchor
        end = first_phase_end or subscription.current_period_end or now
        specs = [_current_terms(subscription, end_date=end), *specs]
    dates = validate_phases(
        subscription=subscription, specs=specs, end_behavior=end_behavior, start=start, anchor=anchor, now=now
    )
    schedule = SubscriptionSchedule.objects.create(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        status=SS.NOT_STARTED,
        end_behavior=end_behavior,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    _write_phases(schedule, specs, dates)
    if not_started:
        # The first invoice (on the start date) is billed on phase 1's terms: they are the subscription's
        # from now. Billing enters the phase when the subscription starts (the schedule becomes active).
        _apply_terms(subscription, schedule.phases.get(position=0), at=start, reset_anchor=False)
        schedule.next_phase_at = dates[0][0]
        schedule.save(update_fields=["next_phase_at"])
    else:
        _move_schedule(schedule, SS.ACTIVE)
        schedule.current_position = 0
        schedule.next_phase_at = dates[0][1]
        schedule.save(update_fields=["status", "current_position", "next_phase_at"])
    _record(
        subscription,
        kind=EventKind.SCHEDULE,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.SCHEDULE_CREATED,
        reason_params={"count": len(specs)},
        data={"schedule": schedule.pk, "action": "created"},
        at=now,
    )
    _emit(schedule, "created")
    return schedule


@transaction.atomic
def schedule_update(
    *,
    schedule: SubscriptionSchedule,
    actor,
    phases: list[PhaseSpec],
    end_behavior: str,
    running_proration: str = PhaseProration.NONE,
    now: dt.datetime | None = None,
) -> SubscriptionSchedule:
    """Replaces the schedule's phases with `phases` (the whole sequence, ended and running phases
    included), validated together under the edit rules and saved in one transaction.

    A change to the running phase's quantity, coupon or tax rates is on the subscription from now on, and
    `running_proration` says what it bills: `none`, nothing now (the next invoice is on the new terms);
    `prorate`, what a plan change "agora" bills — the unused paid time of the old terms credited and the
    new terms charged for the rest of the period (the extension point subscribers.plan_change, in this
    transaction; billing.services.previews shows it before saving)."""
    now = now or timezone.now()
    subscription = lock_subscription(schedule.subscription_id)
    schedule = lock_schedule(schedule.pk)
    schedule.subscription = subscription
    if not schedule.is_live:
        raise ValidationError(
            _("Uma programação %(status)s não pode ser alterada.")
            % {"status": schedule.get_status_display().lower()},
            code="schedule_not_live",
        )
    saved = list(schedule.phases.order_by("position"))
    current = schedule.current_position
    if current is None:
        start, anchor, kept = saved[0].start_at, subscription.billing_cycle_anchor, []
    else:
        # Ended phases keep the dates they ran (an edit never rewrites history); the running phase and
        # the later ones are counted from the running phase's start, on the anchor billing uses now.
        start, anchor = saved[current].start_at, subscription.billing_cycle_anchor
        kept = [(phase.start_at, phase.end_at) for phase in saved[:current]]
    specs = list(phases)
    errors = {}
    if running_proration not in PhaseProration.values:
        errors["running_proration"] = [
            ValidationError(_("Escolha o que as mudanças da fase atual cobram."), code="invalid_proration")
        ]
    elif (
        running_proration == PhaseProration.PRORATE
        and current is not None
        and not saved[current].is_pause
        and subscription.custom_price
        and current < len(specs)
        and _running_terms(saved[current]) != _running_terms(specs[current])
    ):
        # A one-off price is not prorated against a plan (as when a phase is entered, billing.schedules).
        errors["running_proration"] = [
            ValidationError(
                _("Uma fase com preço avulso não é rateada: escolha Sem rateio."),
                code="custom_price_not_prorated",
            )
        ]
    try:
        dates = validate_phases(
            subscription=subscription,
            specs=specs,
            end_behavior=end_behavior,
            start=start,
            anchor=anchor,
            now=now,
            schedule=schedule,
            kept=kept[: len(specs)],
        )
    except ValidationError as exc:
        # Every problem at once: the proration choice's next to the phases'.
        raise ValidationError({**exc.error_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)
    if end_behavior == schedule.end_behavior and _same_phases(saved, specs, dates):
        # Saved as it was: no phase rewritten, no timeline line, no webhook for a change that did not happen.
        return schedule
    _write_phases(schedule, specs, dates)
    schedule.end_behavior = end_behavior
    fields = ["end_behavior", "next_phase_at", "updated_at"]
    if current is None:
        schedule.next_phase_at = dates[0][0]
        _apply_terms(subscription, schedule.phases.get(position=0), at=dates[0][0], reset_anchor=False)
    data = {"schedule": schedule.pk, "action": "updated"}
    if current is not None and saved[current].is_pause:
        # The pause in course: its new end (and resume mode) is when and how the due task resumes it.
        schedule.next_phase_at = dates[current][1]
        if subscription.status == S.PAUSED:
            subscription.resume_at = dates[current][1]
            subscription.resume_mode = specs[current].resume_mode
            subscription.save(update_fields=["resume_at", "resume_mode", "updated_at"])
    elif current is not None:
        schedule.next_phase_at = dates[current][1]
        note = _apply_running_changes(subscription, specs[current], proration=running_proration, now=now)
        if note:
            data["proration"] = note
    schedule.save(update_fields=fields)
    _record(
        subscription,
        kind=EventKind.SCHEDULE,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.SCHEDULE_UPDATED,
        data=data,
        at=now,
    )
    _emit(schedule, "updated")
    return schedule


class _DryRun(Exception):
    """Raised to roll back a preview's savepoint."""


@contextmanager
def schedule_dry_run(
    *, subscription: Subscription, actor, phases: list[PhaseSpec], end_behavior: str, now=None
) -> Iterator[Subscription]:
    """The editor's preview: the edit is saved in a savepoint — validated and written by the very
    `schedule_create`/`schedule_update` that save it — the block reads the subscription as it would be
    (billing's Próximas faturas reads the database, like the billing run), and everything is rolled back,
    the timeline line and the outbox event included. Nothing is billed now (`running_proration` none: what
    a proration bills is previewed by billing.services.previews from the terms before the edit). Raises the
    services' ValidationError when the schedule is not valid."""
    try:
        with transaction.atomic():
            schedule = subscription.live_schedule
            if schedule is None:
                schedule_create(
                    subscription=subscription, actor=actor, phases=phases, end_behavior=end_behavior, now=now
                )
            else:
                schedule_update(
                    schedule=schedule, actor=actor, phases=phases, end_behavior=end_behavior, now=now
                )
            yield Subscription.objects.select_related("merchant", "plan", "coupon").get(pk=subscription.pk)
            raise _DryRun
    except _DryRun:
        pass


def _same_phases(saved: list[SchedulePhase], specs: list[PhaseSpec], dates) -> bool:
    """Whether `specs` (with their computed dates) are exactly the stored phases, term by term."""
    if len(saved) != len(specs):
        return False
    for phase, spec, span in zip(saved, specs, dates, strict=True):
        if (phase.start_at, phase.end_at) != tuple(span):
            return False
        for name in TERM_FIELDS:
            if name == "tax_rates":
                if {rate.pk for rate in phase.tax_rates.all()} != {rate.pk for rate in spec.tax_rates}:
                    return False
            elif getattr(phase, name) != getattr(spec, name):
                return False
    return True


def _running_terms(phase) -> tuple:
    """What the running phase may change that moves money now: quantity, coupon, tax rates."""
    rates = phase.tax_rates if isinstance(phase, PhaseSpec) else phase.tax_rates.all()
    return phase.quantity, getattr(phase.coupon, "pk", None), tuple(sorted(rate.pk for rate in rates))


def _apply_running_changes(
    subscription: Subscription, spec: PhaseSpec, *, proration: str, now
) -> dict | None:
    """The running phase's editable terms, on the subscription from now on. With `prorate`, billing bills
    the rest of the period as for a plan change "agora" (subscribers.plan_change: credit of the old
    terms' unused paid time, charge of the new ones); with `none`, the next invoice is the first on them.
    Returns the proration's timeline note, or None."""
    prorate = proration == PhaseProration.PRORATE
    previous = copy.copy(subscription)
    old_quantity = subscription.quantity
    old_tax_rates = list(subscription.tax_rates.all())
    fields = []
    if spec.quantity != subscription.quantity:
        subscription.quantity = spec.quantity
        fields.append("quantity")
    if getattr(spec.coupon, "pk", None) != subscription.coupon_id:
        subscription.coupon = spec.coupon
        # Prorated, the coupon discounts the rest of this period; otherwise from the next invoice.
        subscription.coupon_applied_at = now if prorate else subscription.next_invoice_at or now
        fields += ["coupon", "coupon_applied_at"]
    taxes_changed = {rate.pk for rate in old_tax_rates} != {rate.pk for rate in spec.tax_rates}
    if fields:
        subscription.amount = subscription_amount(
            price=subscription.price_terms.price,
            quantity=subscription.quantity,
            discount_type=subscription.discount_type,
            discount_percent=subscription.discount_percent,
            discount_amount=subscription.discount_amount,
        )
        subscription.save(update_fields=[*fields, "amount", "updated_at"])
    subscription.tax_rates.set(spec.tax_rates)
    if not prorate or not (fields or taxes_changed) or subscription.custom_price:
        return None
    return extension_points.plan_change(
        subscription=subscription,
        old_plan=subscription.plan,
        old_quantity=old_quantity,
        now=now,
        previous=previous,
        old_tax_rates=old_tax_rates,
    )


def _apply_terms(subscription: Subscription, phase: SchedulePhase, *, at, reset_anchor: bool = True) -> None:
    """A phase's terms become the subscription's: price (plan or one-off), quantity, coupon or discount,
    tax rates, and with `phase_start` (or a trial, or a price at another interval) the billing-cycle
    anchor. A change chosen "no próximo
    ciclo" that was waiting is dropped: the schedule says what comes next."""
    old_price = subscription.price_terms
    if phase.plan_id is not None:
        subscription_plan_switch(subscription, phase.plan)
        subscription.currency = phase.plan.currency
    subscription.custom_price = phase.custom_price
    subscription.quantity = phase.quantity
    subscription.coupon = phase.coupon
    subscription.coupon_applied_at = at if phase.coupon_id else None
    if phase.discount_percent:
        subscription.discount_type = DiscountType.PERCENT
        subscription.discount_percent = phase.discount_percent
    else:
        subscription.discount_type = DiscountType.NONE
        subscription.discount_percent = None
    subscription.discount_amount = None
    subscription.discount_periods = None
    subscription.pending_plan = None
    subscription.pending_quantity = None
    subscription.amount = subscription_amount(
        price=subscription.price_terms.price,
        quantity=phase.quantity,
        discount_type=subscription.discount_type,
        discount_percent=subscription.discount_percent,
    )
    fields = [
        "plan",
        "currency",
        "custom_price",
        "quantity",
        "coupon",
        "coupon_applied_at",
        "discount_type",
        "discount_percent",
        "discount_amount",
        "discount_periods",
        "pending_plan",
        "pending_quantity",
        "amount",
        *PRICE_VERSION_FIELDS,
    ]
    new_price = subscription.price_terms
    interval_changed = (old_price.interval_unit, old_price.interval_count) != (
        new_price.interval_unit,
        new_price.interval_count,
    )
    if reset_anchor and (phase.anchor == PhaseAnchor.PHASE_START or phase.trial_days or interval_changed):
        anchor = at + dt.timedelta(days=phase.trial_days or 0)
        subscription.billing_cycle_anchor = anchor
        if subscription.next_invoice_at is None or subscription.next_invoice_at > at:
            # The period running now ends here; the next invoice is the phase's first (after its trial).
            subscription.current_period_end = anchor
            subscription.next_invoice_at = anchor
        fields += ["billing_cycle_anchor", "current_period_end", "next_invoice_at"]
    subscription.save(update_fields=[*fields, "updated_at"])
    subscription.tax_rates.set(list(phase.tax_rates.all()))


def schedule_due(subscription: Subscription, *, until) -> SubscriptionSchedule | None:
    """The subscription's live schedule when its next change falls at or before `until`."""
    return (
        schedules_for_update()
        .filter(
            subscription=subscription,
            status__in=sorted(LIVE_SCHEDULE_STATUSES),
            next_phase_at__isnull=False,
            next_phase_at__lte=until,
        )
        .first()
    )


def schedule_advance(*, subscription: Subscription, schedule: SubscriptionSchedule) -> SchedulePhase | None:
    """One step of a schedule at its `next_phase_at`: the next phase starts (its terms become the
    subscription's), or, after the last phase, the schedule completes — releasing the subscription on
    the last phase's terms, or ending it (end behaviour `cancel`). Called by billing, which holds the
    subscription's lock and bills the change (billing.services.schedules). Returns the phase entered."""
    at = schedule.next_phase_at
    schedule.subscription = subscription
    phases = list(schedule.phases.order_by("position"))
    position = 0 if schedule.current_position is None else schedule.current_position + 1
    if schedule.current_position is None and phases[0].start_at > at:
        return None
    if position >= len(phases):
        _move_schedule(schedule, SS.COMPLETED)
        schedule.next_phase_at = None
        schedule.ended_at = at
        schedule.save(update_fields=["status", "next_phase_at", "ended_at", "updated_at"])
        _record(
            subscription,
            kind=EventKind.SCHEDULE,
            actor=schedule.created_by,
            from_status=subscription.status,
            to_status=subscription.status,
            reason_code=timeline.SCHEDULE_COMPLETED,
            data={"schedule": schedule.pk, "action": "completed"},
            at=at,
        )
        _emit(schedule, "completed")
        if schedule.end_behavior == ScheduleEndBehavior.CANCEL and not subscription.is_ended:
            subscription_apply_billing(
                subscription=subscription,
                now=at,
                to_status=S.CANCELED,
                reason_code=timeline.SCHEDULE_ENDED_SUBSCRIPTION,
                ended_at=at,
            )
        return None
    phase = phases[position]
    from_position = schedule.current_position
    leaving_pause = from_position is not None and phases[from_position].is_pause
    if schedule.status == SS.NOT_STARTED:
        _move_schedule(schedule, SS.ACTIVE)
    schedule.current_position = position
    schedule.next_phase_at = phase.end_at
    schedule.save(update_fields=["status", "current_position", "next_phase_at", "updated_at"])
    if not phase.is_pause:
        # After a pause the cycle is the resume's (below), not the phase's anchor.
        _apply_terms(subscription, phase, at=at, reset_anchor=from_position is not None and not leaving_pause)
    _record(
        subscription,
        kind=EventKind.SCHEDULE,
        actor=schedule.created_by,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.SCHEDULE_PHASE_STARTED,
        reason_params={"from": None if from_position is None else from_position + 1, "to": position + 1},
        data={"schedule": schedule.pk, "action": "phase_started", "from": from_position, "to": position},
        at=at,
    )
    _emit(schedule, "phase_started", phase=position)
    if phase.is_pause:
        _enter_pause(subscription, schedule, phase, at=at)
    elif leaving_pause and subscription.status == S.PAUSED:
        # The pause services resume it (audit, `subscription.resumed`, the resume billed on the terms just
        # put on it: a new period renewed now, or the rest of the cycle's period prorated).
        _resume_now(
            subscription,
            actor=schedule.created_by,
            mode=phases[from_position].resume_mode,
            now=at,
            new_terms=True,
        )
    return phase


def _enter_pause(subscription: Subscription, schedule, phase: SchedulePhase, *, at) -> None:
    """A pause block starts: the subscription is paused by the pause services (status along the transition
    table, open boletos/pix voided, access per the merchant's rule, `subscription.paused`), with its resume
    due at the block's end (the due task then advances the schedule, which resumes it)."""
    if subscription.status not in PAUSABLE:
        # A trial, a pending first payment…: nothing to pause; the schedule still moves on at the end.
        _record(
            subscription,
            kind=EventKind.SCHEDULE,
            actor=schedule.created_by,
            from_status=subscription.status,
            to_status=subscription.status,
            reason_code=timeline.SCHEDULE_PAUSE_SKIPPED,
            reason_params={"status": subscription.status},
            data={"schedule": schedule.pk, "action": "pause_skipped"},
            at=at,
        )
        return
    subscription.resume_at = phase.end_at
    subscription.resume_mode = phase.resume_mode
    _pause_now(subscription, actor=schedule.created_by, now=at, reason_code=timeline.SCHEDULE_PAUSE_STARTED)


def schedule_pause_due(subscription: Subscription, *, now) -> SubscriptionSchedule | None:
    """The live schedule of a paused subscription whose pause block has ended by `now` (the due task
    advances it, which resumes the subscription), or None."""
    schedule = schedule_due(subscription, until=now)
    if schedule is None or schedule.current_position is None:
        return None
    if not schedule.phases.filter(position=schedule.current_position, kind=PhaseKind.PAUSE).exists():
        return None
    return schedule


@transaction.atomic
def schedule_release(
    *, schedule: SubscriptionSchedule, actor, now: dt.datetime | None = None
) -> SubscriptionSchedule:
    """Lets the subscription go on by itself on its current terms; the remaining phases never happen."""
    now = now or timezone.now()
    subscription = lock_subscription(schedule.subscription_id)
    schedule = lock_schedule(schedule.pk)
    schedule.subscription = subscription
    _move_schedule(schedule, SS.RELEASED)
    schedule.next_phase_at = None
    schedule.ended_at = now
    schedule.save(update_fields=["status", "next_phase_at", "ended_at", "updated_at"])
    _record(
        subscription,
        kind=EventKind.SCHEDULE,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.SCHEDULE_RELEASED,
        data={"schedule": schedule.pk, "action": "released"},
        at=now,
    )
    _emit(schedule, "released")
    return schedule


def schedule_end_with_subscription(
    subscription: Subscription, *, now, actor=None
) -> SubscriptionSchedule | None:
    """A subscription that ended another way (cancelled from its page, dunning's final action, a chargeback,
    a refund, deleted) takes its live schedule with it: the schedule is canceled (the transition table),
    with its timeline line and `subscription_schedule.canceled`, in the transaction that ends the
    subscription (whose lock the caller holds). A schedule left active would go on planning phases for a
    subscription that no longer bills. Returns the schedule closed, or None when there was none."""
    schedule = (
        schedules_for_update()
        .filter(subscription=subscription, status__in=sorted(LIVE_SCHEDULE_STATUSES))
        .first()
    )
    if schedule is None:
        return None
    schedule.subscription = subscription
    _move_schedule(schedule, SS.CANCELED)
    schedule.next_phase_at = None
    schedule.ended_at = now
    schedule.save(update_fields=["status", "next_phase_at", "ended_at", "updated_at"])
    _record(
        subscription,
        kind=EventKind.SCHEDULE,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.SCHEDULE_CANCELED_BY_ENDING,
        data={"schedule": schedule.pk, "action": "canceled"},
        at=now,
    )
    _emit(schedule, "canceled")
    return schedule


@transaction.atomic
def schedule_cancel(
    *, schedule: SubscriptionSchedule, actor, origin: str, reason: str = "", now: dt.datetime | None = None
) -> SubscriptionSchedule:
    """Cancels the schedule and its subscription now, with the usual cancellation record (origin, reason,
    access until the end of the paid period: subscribers.services.subscription_cancel)."""
    from subscribers.services.ending import subscription_cancel

    now = now or timezone.now()
    # The subscription first (the lock order): subscription_cancel below locks it too.
    lock_subscription(schedule.subscription_id)
    schedule = lock_schedule(schedule.pk)
    # The schedule is closed before the subscription ends, so that ending it (which closes a live schedule
    # the other way, schedule_end_with_subscription) finds nothing left to close; a refusal below rolls
    # both back.
    _move_schedule(schedule, SS.CANCELED)
    schedule.next_phase_at = None
    schedule.ended_at = now
    schedule.save(update_fields=["status", "next_phase_at", "ended_at", "updated_at"])
    subscription_cancel(
        subscription=schedule.subscription,
        actor=actor,
        origin=origin,
        when=CancelWhen.NOW,
        reason=reason,
        now=now,
    )
    schedule.subscription.refresh_from_db()
    _record(
        schedule.subscription,
        kind=EventKind.SCHEDULE,
        actor=actor,
        from_status=schedule.subscription.status,
        to_status=schedule.subscription.status,
        reason_code=timeline.SCHEDULE_CANCELED,
        data={"schedule": schedule.pk, "action": "canceled"},
        at=now,
    )
    _emit(schedule, "canceled")
    return schedule


__all__ = [
    "PhaseSpec",
    "phase_dates",
    "schedule_advance",
    "schedule_cancel",
    "schedule_create",
    "schedule_dry_run",
    "schedule_due",
    "schedule_end_with_subscription",
    "schedule_pause_due",
    "schedule_payload",
    "schedule_release",
    "schedule_update",
    "validate_phases",
]
