"""Simular inadimplência (billing.services.upcoming.simulate_dunning): the retry dates, status changes, end
of access and e-mails of a next charge that keeps failing, checked by hand and against the billing run
itself with the clock moved to each of those moments."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from billing.choices import DunningFinalAction, InvoiceStatus
from billing.models import BillingSettings, Invoice
from billing.services.billing_run import process_subscription
from billing.services.upcoming import simulate_dunning
from core.models import Event
from notifications.emails.choices import CustomerEmailKind as Kind
from notifications.emails.services.email_triggers import EVENT_EMAIL_KINDS, EVENT_HANDLERS, emails_for_events
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import (
    CreditEntryFactory,
    CustomerEmailTemplateFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
S = SubscriptionStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
T0 = dt.datetime(2027, 3, 15, 10, 0, tzinfo=SP)  # the next charge
DECLINED = "4000000000000002"
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def subscription(merchant, plan=None, **fields):
    defaults = {
        "status": S.ACTIVE,
        "billing_cycle_anchor": T0.replace(month=2),
        "started_at": T0.replace(month=2),
        "current_period_start": T0.replace(month=2),
        "current_period_end": T0,
        "next_invoice_at": T0,
        "payment_token": DECLINED,
    }
    plan = plan or PlanFactory(merchant=merchant, price=4990)
    created = SubscriptionFactory(merchant=merchant, plan=plan, **{**defaults, **fields})
    return Subscription.objects.select_related("merchant", "plan", "customer", "coupon", "pending_plan").get(
        pk=created.pk
    )


def test_a_declined_card_is_retried_twice_a_day_apart_then_expires(merchant):
    sub = subscription(merchant)

    simulation = simulate_dunning(sub, now=T0 - DAY)

    # The default policy: 2 more attempts, 24 h apart; then the subscription expires.
    assert [(s.kind, s.at, s.retry_at) for s in simulation.steps] == [
        ("failed", T0, T0 + 24 * HOUR),
        ("failed", T0 + 24 * HOUR, T0 + 48 * HOUR),
        ("failed", T0 + 48 * HOUR, None),
        ("exhausted", T0 + 48 * HOUR, None),
        ("ended", T0 + 48 * HOUR, None),
    ]
    assert [(s.status_from, s.status_to) for s in simulation.steps if s.status_to] == [
        (S.ACTIVE, S.PAST_DUE),
        (S.PAST_DUE, S.EXPIRED),
    ]
    assert (simulation.outcome, simulation.final_status, simulation.access_ends_at) == (
        "ended",
        S.EXPIRED,
        T0 + 48 * HOUR,
    )
    assert simulation.invoice.amount_due == 4990


def _run_at(moments, subscription_id):
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            process_subscription(subscription_id=subscription_id, now=moment)


def _events_of(subscription):
    invoice_ids = list(Invoice.objects.filter(subscription=subscription).values_list("pk", flat=True))
    rows = Event.objects.filter(merchant=subscription.merchant).order_by("pk")
    return [
        e.type
        for e in rows
        if (e.type.startswith("subscription.") and e.payload.get("id") == subscription.pk)
        or (e.type.startswith("invoice.") and e.payload.get("id") in invoice_ids)
        or (e.type.startswith("payment.") and e.payload.get("invoice") in invoice_ids)
    ]


@pytest.mark.parametrize("final_action", list(DunningFinalAction))
def test_the_billing_run_does_what_the_card_simulation_said(merchant, final_action):
    BillingSettings.objects.create(
        merchant=merchant, retries=3, retry_interval_hours=36, final_action=final_action
    )
    sub = subscription(merchant)
    simulation = simulate_dunning(sub, now=T0 - DAY)

    # When the billing run runs at each moment the simulation named.
    _run_at(dict.fromkeys(s.at for s in simulation.steps), sub.pk)

    # Then the retries were scheduled at those dates, and the subscription ended as announced.
    invoice = Invoice.objects.get(subscription=sub, period_start=T0)
    assert invoice.attempt_count == simulation.attempts == 4
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE
    sub.refresh_from_db()
    expected_status = simulation.final_status or S.PAST_DUE
    assert sub.status == expected_status
    if simulation.access_ends_at:
        assert sub.ended_at == simulation.access_ends_at == T0 + 3 * 36 * HOUR
    assert _events_of(sub) == [event for step in simulation.steps for event in step.events]


def test_the_billing_run_does_what_the_boleto_simulation_said(merchant):
    sub = subscription(merchant, payment_method=PaymentMethod.BOLETO, payment_token="")
    simulation = simulate_dunning(sub, now=T0 - DAY)

    # A boleto lapses after 3 days; the retry 24 h later issues a new one.
    assert [(s.kind, s.at) for s in simulation.steps] == [
        ("boleto_issued", T0),
        ("failed", T0 + 3 * DAY),
        ("boleto_issued", T0 + 4 * DAY),
        ("failed", T0 + 7 * DAY),
        ("boleto_issued", T0 + 8 * DAY),
        ("failed", T0 + 11 * DAY),
        ("exhausted", T0 + 11 * DAY),
        ("ended", T0 + 11 * DAY),
    ]

    _run_at(dict.fromkeys(s.at for s in simulation.steps), sub.pk)

    sub.refresh_from_db()
    assert (sub.status, sub.ended_at) == (S.EXPIRED, simulation.access_ends_at)
    assert _events_of(sub) == [event for step in simulation.steps for event in step.events]


def test_keep_unpaid_leaves_the_subscription_past_due(merchant):
    BillingSettings.objects.create(merchant=merchant, final_action=DunningFinalAction.KEEP_UNPAID)

    simulation = simulate_dunning(subscription(merchant), now=T0 - DAY)

    assert (simulation.outcome, simulation.access_ends_at) == ("kept_unpaid", None)
    assert simulation.steps[-1].kind == "exhausted"


def test_a_middle_installment_given_up_lets_the_next_installments_come(merchant):
    course = PlanFactory(merchant=merchant, price=100000, installments=6)
    sub = subscription(merchant, course)
    InvoiceFactory(merchant=merchant, subscription=sub, status=InvoiceStatus.PAID, installment_number=1)

    simulation = simulate_dunning(sub, now=T0 - DAY)

    assert simulation.outcome == "next_installment"
    assert simulation.invoice.draft.installment_number == 2


def test_nothing_can_fail_when_the_credit_balance_pays_the_next_invoice(merchant):
    sub = subscription(merchant)
    CreditEntryFactory(merchant=merchant, customer=sub.customer, amount=5000)

    assert simulate_dunning(sub, now=T0 - DAY).outcome == "nothing_to_charge"


def test_manual_payments_are_never_retried_automatically(merchant):
    sub = subscription(merchant, payment_method=PaymentMethod.MANUAL)

    assert simulate_dunning(sub, now=T0 - DAY).outcome == "manual"


def test_an_ended_subscription_has_nothing_to_simulate(merchant):
    sub = subscription(merchant, status=S.CANCELED, next_invoice_at=None)

    assert simulate_dunning(sub, now=T0 - DAY).outcome == "no_invoice"


def test_the_e_mails_of_dunning_are_the_ones_the_events_send(merchant):
    # Every event that sends a customer e-mail is in the map the simulation reads.
    assert set(EVENT_EMAIL_KINDS) == set(EVENT_HANDLERS)
    CustomerEmailTemplateFactory(merchant=merchant, kind=Kind.SUBSCRIPTION_CANCELED, is_enabled=False)

    card = emails_for_events(
        ["invoice.created", "payment.failed", "invoice.payment_failed", "subscription.canceled"],
        merchant=merchant,
        payment_method=PaymentMethod.CARD,
    )
    boleto = emails_for_events(
        ["invoice.created", "payment.pending"], merchant=merchant, payment_method=PaymentMethod.BOLETO
    )

    assert card == [(Kind.PAYMENT_FAILED, True), (Kind.SUBSCRIPTION_CANCELED, False)]
    assert boleto == [(Kind.PAYMENT_INSTRUCTIONS, True)]
