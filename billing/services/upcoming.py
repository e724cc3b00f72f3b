"""Próximas faturas and Simular inadimplência: what a subscription's next invoices will be, and what a
failed next charge sets off, computed by the functions the billing run itself calls.

Nothing here writes, and nothing here has a rule of its own:

- each invoice is `billing.services.renewal.draft_renewal` (the pure draft both renewal writers save:
  amounts from `billing.calculations`, coupon and manual discount from `discount_for_period`, taxes,
  installments, the backdated time of a first invoice), walked period by period the way
  `billing_run._renew` walks a subscription that is behind: a pending plan or quantity change
  (`pending_change_terms`) from the first new period, no invoice from a scheduled cancellation on, none
  after the last installment, a contract not started yet started as `subscription_process_due` starts it
  (`_start`: the trial pushes the first invoice to its end);
- the credit balance pays each invoice first (`billing.calculations.apply_credit`, as
  `credit_apply_to_invoice` does when the invoice is written);
- the dunning simulation follows `billing.services.dunning` (the retry schedule and the final action that
  `charging._failed` and the bulk writer apply) and the sandbox's boleto/pix expiry.

tests/billing/test_upcoming.py checks the amounts by hand, and that the billing run, with the clock moved
through the periods, writes exactly the previewed invoices, line by line, through both renewal writers.
"""

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from django.utils import timezone

from billing.calculations import ComputedLine, TaxInput, apply_credit, discount_for_period
from billing.choices import InvoiceKind
from billing.models import BillingSettings
from billing.selectors import credit_balance, installment_invoices
from billing.services.dunning import final_status, next_retry_at
from billing.services.invoicing import subscription_taxes
from billing.services.proration import PeriodRecord, applied_change_totals, unused_time_credit
from billing.services.renewal import RenewalDraft, draft_renewal, pending_change_terms
from billing.services.schedules import enters_mid_period
from core.events import EventType as E
from plans.models import Plan
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import price_terms
from subscribers.services.contract import _start
from subscribers.services.pause import resume_cycle

S = SubscriptionStatus
# The statuses the billing run renews (billing_run.BILLABLE), and a contract waiting for its date.
RENEWING = (S.ACTIVE, S.PAST_DUE, S.PENDING, S.TRIALING)
DEFAULT_COUNT = 12


@dataclass(frozen=True)
class TermsInForce:
    """What bills one period: the plan (anything read like a Plan by `draft_renewal`: name, price,
    interval_unit, interval_count, installments, currency — a schedule phase's one-off price fits), the
    quantity, the tax rates, and any other Subscription attribute in force for that period (`overrides`:
    coupon, coupon_applied_at, discount_type/percent/amount/periods, billing_cycle_anchor, currency)."""

    plan: Any
    quantity: int
    taxes: tuple[TaxInput, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


# The seam for per-period terms: period start → the terms in force for the period starting then.
TermsFor = Callable[[dt.datetime], TermsInForce]


@dataclass(frozen=True)
class PhaseEntry:
    """A schedule phase entered at `at` that bills something when it falls between two billing dates
    (billing.services.schedules.enter_due_phases):

    - resetting the billing-cycle anchor, its first invoice is on `first_invoice_at` (its start, or its
      trial's end): the running period ends there (schedules._apply_terms) and, with `prorate`, its
      unused paid time is credited (proration.credit_unused_time);
    - kept on the anchor (`first_invoice_at` None) with `prorate`: a plan change "agora"
      (proration.prorate_plan_change), whose proration invoice credits the balance or consumes it."""

    at: dt.datetime
    first_invoice_at: dt.datetime | None
    prorate: bool


@dataclass(frozen=True)
class PauseEntry:
    """A schedule's pause block from `at` to `until` (`started`: the subscription is in it now): no invoice
    in it, then resumed in `mode` on the next phase's terms, as schedules.schedule_advance resumes it
    through subscribers.services.pause (resume_cycle)."""

    at: dt.datetime
    until: dt.datetime
    mode: str
    started: bool = False


@dataclass(frozen=True)
class ScheduleTerms:
    """A `TermsFor` that also gives the phase entries moving a billing date and the pause blocks
    (schedules.schedule_terms)."""

    terms_for: TermsFor
    entries: tuple[PhaseEntry, ...] = ()
    pauses: tuple[PauseEntry, ...] = ()

    def __call__(self, period_start: dt.datetime) -> TermsInForce:
        return self.terms_for(period_start)


def subscription_terms(subscription) -> TermsFor:
    """The terms of a subscription without a schedule: its own, for every coming period, with a change
    chosen "no próximo ciclo" in force from the first one (the billing run applies it then). With a
    schedule, each period's terms are those of the phase in force then (schedules.schedule_terms)."""
    schedule = subscription.live_schedule
    if schedule is not None:
        from billing.services.schedules import schedule_terms  # schedules reads TermsInForce from here

        return schedule_terms(subscription, schedule)
    pending = pending_change_terms(subscription)
    plan, quantity = pending or (subscription.plan, subscription.quantity)
    taxes = tuple(subscription_taxes(subscription))
    overrides = MappingProxyType({"currency": plan.currency} if pending else {})
    by_price = {}

    def terms_for(period_start):
        # The price version in force at each period's start (a migrated price from the first period after
        # its notice), as the billing run reads it; another plan chosen "no próximo ciclo" at its price.
        price = subscription.plan_price_at(period_start) if plan == subscription.plan else plan.price
        if price not in by_price:
            by_price[price] = TermsInForce(
                # A one-off price (a schedule phase's `custom_price`) bills instead of the plan, as in
                # billing_run.
                plan=price_terms(plan, subscription.custom_price, price=price),
                quantity=quantity,
                taxes=taxes,
                overrides=overrides,
            )
        return by_price[price]

    return terms_for


@dataclass(frozen=True)
class UpcomingInvoice:
    """One coming invoice as the billing run will write it (`draft`), plus what the screen explains."""

    draft: RenewalDraft
    plan_name: str
    credit_applied: int
    amount_due: int
    discount_source: str  # the coupon code or "manual" discounting this invoice, "" for none
    trial_ends: bool  # the first invoice after a trial
    plan_changes: bool  # a pending plan/quantity change takes effect with this invoice
    discount_ended: str  # the discount that stopped with this invoice (was on the previous one), or ""

    @property
    def at(self) -> dt.datetime:
        return self.draft.period_start

    @property
    def lines(self) -> tuple[ComputedLine, ...]:
        return self.draft.totals.lines

    @property
    def subtotal(self) -> int:
        return self.draft.totals.subtotal

    @property
    def discount(self) -> int:
        return self.draft.totals.discount

    @property
    def tax(self) -> int:
        return self.draft.totals.tax

    @property
    def total(self) -> int:
        return self.draft.totals.total


@dataclass(frozen=True)
class UpcomingInvoices:
    """The next invoices of a subscription and how its billing ends within them.

    `ends_at`/`end_reason`: "cancel" (a scheduled cancellation: no invoice from then on), "pause" (a
    scheduled pause: none until it is resumed), "installments"
    (the last installment was billed; the plan ends with its period), "" (it keeps renewing).
    `balance`/`balance_after`: the customer's credit balance in the invoices' currency now and after them.
    """

    invoices: tuple[UpcomingInvoice, ...]
    currency: str
    balance: int
    balance_after: int
    ends_at: dt.datetime | None = None
    end_reason: str = ""


def upcoming_invoices(
    subscription,
    count: int = DEFAULT_COUNT,
    *,
    terms_for: TermsFor | None = None,
    now: dt.datetime | None = None,
) -> UpcomingInvoices:
    """The next `count` invoices of `subscription` (dates, lines, discount, taxes, credit applied, total),
    each drafted by `draft_renewal` exactly as the billing run will draft it when its period comes.

    `terms_for` is the seam for terms that change over time: called with each period's start, it gives
    the `TermsInForce` for that period (plan or one-off price, quantity, taxes, and Subscription
    attributes such as the coupon, the discount or a reset `billing_cycle_anchor`). The default,
    `subscription_terms`, is the subscription's own terms with a pending "next cycle" change; a schedule
    supplies its phases' terms through the same argument (whatever it returns must be what the billing
    run will bill for that period, or the preview and the bill part ways).

    Reads: the subscription with `select_related("merchant", "plan", "customer", "coupon",
    "pending_plan")`, its tax rates, the count of its recurring invoices and the customer's credit
    balance (a few queries, then pure). The balance is the customer's: another subscription of the
    same customer renewing first would use it before these invoices do.
    """
    now = now or timezone.now()
    state = copy.copy(subscription)
    tz = subscription.merchant.tzinfo
    if state.status == S.SCHEDULED and state.next_invoice_at is None:
        # Not started yet: it starts on its date as subscription_process_due starts it (a trial first).
        _start(state, now=max(state.billing_cycle_anchor, now))
    pending = pending_change_terms(subscription) is not None
    terms_for = terms_for or subscription_terms(subscription)
    periods_billed = subscription.invoices.filter(kind=InvoiceKind.RECURRING).count()
    installments_billed = installment_invoices(subscription.pk).count()
    balances: dict[str, int] = {}  # currency → what is left of the balance after the invoices so far
    starting: dict[str, int] = {}
    first_currency = subscription.currency
    invoices = []
    ends_at, end_reason, previous_source = None, "", ""
    entries = list(getattr(terms_for, "entries", ()))
    # What the invoices of the running period hold, for a phase entered in it: None, the written ones
    # (the period billed already); else the previewed renewal, paid when due, and the prorations
    # previewed since (each later change in the period prorates the charge of the one before).
    record: PeriodRecord | None = None
    period_taxes = None  # the tax inputs in force in the running period (None: the subscription's)

    def balance_of(currency):
        if currency not in balances:
            balances[currency] = starting[currency] = credit_balance(
                customer=subscription.customer_id, currency=currency
            )
        return balances[currency]

    pauses = list(getattr(terms_for, "pauses", ()))
    if state.status == S.PAUSED and pauses and pauses[0].started:
        # Paused by its schedule: resumed at the block's end.
        pause = pauses.pop(0)
        resumed = _resume_from_pause(state, pause, terms_for, balance_of, balances, periods_billed)
        if resumed is not None:
            record, period_taxes = resumed, terms_for(pause.until).taxes

    def resume_due_pauses(start):
        """Pause blocks starting by the billing date `start` (after the phase entries before them): nothing
        is billed until each one's end, then its resume gives the next billing date."""
        nonlocal record, period_taxes
        while pauses and pauses[0].at <= start and not (entries and entries[0].at < pauses[0].at):
            pause = pauses.pop(0)
            resumed = _resume_from_pause(state, pause, terms_for, balance_of, balances, periods_billed)
            if resumed is not None:
                record, period_taxes = resumed, terms_for(pause.until).taxes
            start = state.next_invoice_at
        return start

    while len(invoices) < count:
        start = state.next_invoice_at
        if state.status not in RENEWING or start is None:
            break
        start = resume_due_pauses(start)
        while entries and entries[0].at <= start:
            # A phase entered before this billing date: billing enters it then (enter_due_phases).
            entry = entries.pop(0)
            if entry.at == start:  # entered on this billing date: its terms bill from it (terms_for)
                continue
            prorated = entry.prorate and enters_mid_period(state, entry.at)
            terms = terms_for(entry.at)
            if entry.first_invoice_at is None:
                # Kept on the anchor: a plan change "agora"; the running period and its billing date stay.
                if prorated:
                    record = _preview_phase_proration(
                        state, terms, entry.at, balance_of, balances, record, period_taxes
                    )
                _put_terms(state, terms)
                period_taxes = terms.taxes
                continue
            # Resetting the anchor: the running period ends at it, crediting its unused paid time.
            if prorated:
                credit = unused_time_credit(
                    subscription=state, at=entry.at, record=record, taxes=period_taxes
                )
                if credit is not None:
                    balances[state.currency] = balance_of(state.currency) + credit.credit
            # What was charged for the period is no line of the shortened one (its end moved).
            record = replace(record or PeriodRecord.of_written(state), charged=None)
            _put_terms(state, terms)
            period_taxes = terms.taxes
            state.current_period_end = state.next_invoice_at = start = entry.first_invoice_at
        # A pause block after a phase entered before this billing date (e.g. a prorated change, then a pause).
        start = resume_due_pauses(start)
        if state.cancel_at is not None and state.cancel_at <= start:
            ends_at, end_reason = state.cancel_at, "cancel"
            break
        if state.pause_at is not None and state.pause_at <= start:
            ends_at, end_reason = state.pause_at, "pause"
            break
        terms = terms_for(start)
        if isinstance(terms.plan, Plan):  # a one-off price is not a Plan row: the draft reads it as one
            state.plan = terms.plan
        state.quantity = terms.quantity
        for name, value in terms.overrides.items():
            setattr(state, name, value)
        draft = draft_renewal(
            subscription=state,
            plan=terms.plan,
            periods_billed=periods_billed,
            installments_billed=installments_billed,
            taxes=list(terms.taxes),
            tz=tz,
            now=max(start, now),
        )
        if draft is None:  # every installment billed: the plan ends with the last period billed
            ends_at, end_reason = state.current_period_end, "installments"
            break
        if not invoices:
            first_currency = draft.currency
        applied, due = apply_credit(draft.totals.total, balance_of(draft.currency))
        balances[draft.currency] -= applied
        discount = discount_for_period(
            subscription=state, period_start=start, periods_billed=periods_billed, tz=tz
        )
        source = discount.source if discount is not None else ""
        invoices.append(
            UpcomingInvoice(
                draft=draft,
                plan_name=terms.plan.name,
                credit_applied=applied,
                amount_due=due,
                discount_source=source,
                trial_ends=bool(state.trial_ends_at and state.trial_ends_at == start and not periods_billed),
                plan_changes=pending and not invoices,
                discount_ended=previous_source if previous_source and previous_source != source else "",
            )
        )
        previous_source = source
        # The renewal as a phase entered in its period finds it: charged, paid when due (the assumption of
        # the whole preview: a later invoice's payment cannot be known now).
        record = PeriodRecord(charged=None, periods_before=periods_billed).after(
            draft.totals.lines, period_end=draft.period_end
        )
        period_taxes = terms.taxes
        if state.status in (S.TRIALING, S.PENDING):
            # Paid when due (or nothing to pay), the first invoice after a trial makes it active: a phase
            # entered in that period is prorated (enters_mid_period).
            state.status = S.ACTIVE
        # What the billing run writes after each renewal (billing_run._renew → subscription_apply_billing).
        state.current_period_start, state.current_period_end = draft.period_start, draft.period_end
        state.next_invoice_at = draft.period_end
        state.backdate_charge_from = None
        periods_billed += 1
        # An invoice without an installment number ends a run: a later installment plan counts from 0.
        installments_billed = installments_billed + 1 if draft.installment_number else 0
    if invoices and invoices[-1].draft.last_installment and not end_reason:
        ends_at, end_reason = invoices[-1].draft.period_end, "installments"
    if first_currency not in starting:
        starting[first_currency] = credit_balance(customer=subscription.customer_id, currency=first_currency)
    return UpcomingInvoices(
        invoices=tuple(invoices),
        currency=first_currency,
        balance=starting[first_currency],
        balance_after=balances.get(first_currency, starting[first_currency]),
        ends_at=ends_at,
        end_reason=end_reason,
    )


def _preview_phase_proration(
    state, terms: TermsInForce, at, balance_of, balances, record, period_taxes
) -> PeriodRecord | None:
    """What the proration invoice of a schedule phase kept on the anchor and entered at `at`, between two
    billing dates, does to the credit balance (`balances`, updated): enter_due_phases puts the phase's
    terms on the subscription (`state`, updated) and bills the change as `prorate_plan_change` does — a net
    credit goes to the balance, a net charge consumes it first, and an unpaid invoice it voids gives its
    credit back. Computed by the same `applied_change_totals` on a copy of the subscription on the phase's
    terms, from what the period's invoices hold (`record`; None: the written ones) and the tax rates in
    force in it (`period_taxes`; None: the subscription's). Returns the period's record after it."""
    after = _put_terms(copy.copy(state), terms)
    if state.plan.currency != after.currency:  # billing refuses to prorate into another currency
        return record
    totals, unpaid = applied_change_totals(
        subscription=after,
        old_plan=state.plan,
        old_quantity=state.quantity,
        previous=state,
        old_taxes=subscription_taxes(state) if period_taxes is None else list(period_taxes),
        new_taxes=list(terms.taxes),
        new_plan=terms.plan,
        at=at,
        record=record,
    )
    if totals is None:
        return record
    currency = after.currency
    balance = balance_of(currency) + (unpaid.credit_applied if unpaid is not None else 0)
    # proration_invoice_create: the net credit into the balance, then the balance pays the net charge.
    applied, _due = apply_credit(totals.total, balance + totals.credit)
    balances[currency] = balance + totals.credit - applied
    before = record or PeriodRecord.of_written(state)
    if unpaid is not None:  # voided: its charge is no longer what the period charged
        before = replace(before, charged=None)
    return before.after(totals.lines, period_end=state.current_period_end)


def _put_terms(state, terms: TermsInForce):
    """`state` on `terms` (what schedule_advance puts on the subscription when a phase starts)."""
    if isinstance(terms.plan, Plan):  # a one-off price is not a Plan row: `custom_price` carries it
        state.plan = terms.plan
    state.quantity = terms.quantity
    for name, value in terms.overrides.items():
        setattr(state, name, value)
    return state


def _resume_from_pause(
    state, pause: PauseEntry, terms_for, balance_of, balances, periods_billed
) -> PeriodRecord | None:
    """`state` as the schedule leaves a pause block: the next phase's terms on it (what resume_cycle reads:
    the price's interval), then the cycle fields `subscribers.services.pause.resume_cycle` gives a resume
    in the block's mode at its end. Resumed in the current cycle past the paid period, the rest of the
    period is a proration invoice (billing.services.pause.resume_billing) that the credit balance pays
    first: `balances` is updated with what it takes. The schedule puts the next phase's terms on the
    subscription before it resumes, so that rest is charged on them: its price, quantity, discount and
    tax rates. Returns the record of the period it charges (its renewal is none of the rest: unpaid for
    `current_period_paid`), or None when it charges nothing."""
    from billing.services.pause import resume_rest_totals  # it previews with this module

    terms = terms_for(pause.until)
    _put_terms(state, terms)
    state.status = S.ACTIVE
    state.pause_at = state.resume_at = None
    cycle = resume_cycle(state, mode=pause.mode, now=pause.until)
    for name, value in cycle.items():
        setattr(state, name, value)
    if "current_period_start" in cycle:
        rest = resume_rest_totals(state, at=pause.until, taxes=terms.taxes, periods_before=periods_billed)
        applied, _due = apply_credit(rest.total, balance_of(state.currency))
        balances[state.currency] -= applied
        return PeriodRecord(charged=None, paid=False, periods_before=periods_billed).after(
            rest.lines, period_end=state.current_period_end
        )
    return None


# --- Simular inadimplência ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DunningStep:
    """One moment of the simulated dunning: a charge attempt (`attempt`), its failure, or the end.

    `events` are the outbox event types the billing run emits at that moment (the customer e-mails follow
    from them: notifications maps them); `status_from`/`status_to` the subscription's status change, if
    any; `retry_at` when the next attempt is scheduled (None: no retry left)."""

    at: dt.datetime
    kind: str  # "charge" | "boleto_issued" | "failed" | "exhausted" | "ended"
    attempt: int
    events: tuple[str, ...] = ()
    status_from: str = ""
    status_to: str = ""
    retry_at: dt.datetime | None = None

    @property
    def status_from_label(self) -> str:
        return S(self.status_from).label if self.status_from else ""

    @property
    def status_to_label(self) -> str:
        return S(self.status_to).label if self.status_to else ""


@dataclass(frozen=True)
class DunningSimulation:
    """What happens if the next charge fails, and keeps failing, under the merchant's dunning policy.

    `outcome`: "ended" (the final action ends the subscription at `access_ends_at`), "kept_unpaid"
    (it stays past due, owing), "next_installment" (an installment plan goes on to its next installment),
    "nothing_to_charge" (the credit balance or a zero total pays the next invoice), "manual" (staff record
    payments: nothing is charged automatically), "no_invoice" (no invoice is coming)."""

    outcome: str
    invoice: UpcomingInvoice | None
    policy: BillingSettings
    steps: tuple[DunningStep, ...] = ()
    final_status: str | None = None
    access_ends_at: dt.datetime | None = None

    @property
    def final_status_label(self) -> str:
        return S(self.final_status).label if self.final_status else ""

    @property
    def attempts(self) -> int:
        """How many charges are attempted in all (the first and its retries)."""
        return self.policy.retries + 1


def simulate_dunning(subscription, *, now: dt.datetime | None = None) -> DunningSimulation:
    """Simular inadimplência: the next invoice's charge fails, and so does every retry. Follows the
    billing run: a card is declined at once; a boleto/pix lapses unpaid at its expiry (the merchant's
    `boleto_pix_expiry_days`) and each retry issues a new one. Read-only."""
    policy = BillingSettings.for_merchant(subscription.merchant)
    coming = upcoming_invoices(subscription, 1, now=now).invoices
    if not coming:
        return DunningSimulation(outcome="no_invoice", invoice=None, policy=policy)
    invoice = coming[0]
    if invoice.amount_due == 0:
        return DunningSimulation(outcome="nothing_to_charge", invoice=invoice, policy=policy)
    method = subscription.payment_method
    if method == PaymentMethod.MANUAL:
        return DunningSimulation(outcome="manual", invoice=invoice, policy=policy)
    collected_later = method in (PaymentMethod.BOLETO, PaymentMethod.PIX)
    status = _status_when_billed(subscription)
    steps = []
    attempt, attempt_at = 1, invoice.at
    while True:
        if collected_later:
            issued = [E.INVOICE_CREATED, E.PAYMENT_PENDING] if attempt == 1 else [E.PAYMENT_PENDING]
            status_from = status
            if status == S.TRIALING:  # awaiting the first payment (charging._apply_result)
                status = S.PENDING
                issued.append(E.SUBSCRIPTION_PENDING)
            steps.append(
                DunningStep(
                    at=attempt_at,
                    kind="boleto_issued",
                    attempt=attempt,
                    events=tuple(issued),
                    status_from=status_from if status_from != status else "",
                    status_to=status if status_from != status else "",
                )
            )
            failed_at = attempt_at + dt.timedelta(days=policy.boleto_pix_expiry_days)
        else:
            failed_at = attempt_at
        events = [E.INVOICE_CREATED] if attempt == 1 and not collected_later else []
        events += [E.PAYMENT_FAILED, E.INVOICE_PAYMENT_FAILED]
        retry_at = next_retry_at(policy=policy, attempt_count=attempt, failed_at=failed_at)
        status_from, status_to = status, status
        if status in (S.ACTIVE, S.PENDING, S.TRIALING):
            status_to = S.PAST_DUE
            events.append(E.SUBSCRIPTION_PAST_DUE)
        status = status_to
        steps.append(
            DunningStep(
                at=failed_at,
                kind="failed",
                attempt=attempt,
                events=tuple(events),
                status_from=status_from if status_from != status_to else "",
                status_to=status_to if status_from != status_to else "",
                retry_at=retry_at,
            )
        )
        if retry_at is None:
            break
        attempt, attempt_at = attempt + 1, retry_at
    exhausted_at = steps[-1].at
    steps.append(DunningStep(at=exhausted_at, kind="exhausted", attempt=attempt, events=(E.INVOICE_OVERDUE,)))
    installments = invoice.draft.installment_number
    if installments and not invoice.draft.last_installment:
        return DunningSimulation(
            outcome="next_installment", invoice=invoice, policy=policy, steps=tuple(steps)
        )
    final = final_status(policy)
    if final is None:
        return DunningSimulation(outcome="kept_unpaid", invoice=invoice, policy=policy, steps=tuple(steps))
    events = [E.SUBSCRIPTION_CANCELED if final == S.CANCELED else E.SUBSCRIPTION_EXPIRED]
    events.append(E.SUBSCRIPTION_ACCESS_REVOKED)
    steps.append(
        DunningStep(
            at=exhausted_at,
            kind="ended",
            attempt=attempt,
            events=tuple(events),
            status_from=status,
            status_to=final,
        )
    )
    return DunningSimulation(
        outcome="ended",
        invoice=invoice,
        policy=policy,
        steps=tuple(steps),
        final_status=final,
        access_ends_at=exhausted_at,
    )


def _status_when_billed(subscription) -> str:
    """The status the subscription has when its next invoice is charged: a contract not started yet
    starts first (as subscription_process_due starts it)."""
    if subscription.status != S.SCHEDULED:
        return subscription.status
    state = copy.copy(subscription)
    _start(state, now=state.billing_cycle_anchor)
    return state.status
