"""Automations: each trigger fires on its event (and no other), each condition narrows it, through the
outbox consumer's fan-out (one run per rule and event)."""

import pytest

from billing.services.chargebacks import record_chargeback
from core.models import Event
from core.outbox import emit
from notifications.automations import runner, triggers
from notifications.automations.choices import ActionKind, RunOrigin, Trigger
from notifications.automations.models import AutomationRun
from subscribers.choices import SubscriptionStatus
from subscribers.services import subscription_cancel
from subscribers.services._common import _payload as subscription_payload
from tests.factories import (
    AutomationFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def sub_payload(merchant, **overrides):
    """The real subscription payload (subscribers' helper), with fields overridden."""
    payload = subscription_payload(SubscriptionFactory(merchant=merchant))
    payload = {**payload, "customer": dict(payload["customer"]), "plan": dict(payload["plan"])}
    for key, value in overrides.items():
        payload[key] = value
    return payload


def event(merchant, type, **overrides):
    payload = sub_payload(merchant, **overrides)
    if type == "chargeback.created":
        payload = {
            "id": 5,
            "payment": 9,
            "invoice": 8,
            "subscription": payload,
            "amount": 4990,
            "currency": "BRL",
            "reason": "fraude",
        }
    return emit(merchant=merchant, type=type, payload=payload)  # stored as the outbox stores it


def fired(rule) -> list[str]:
    """The event types that produced a run of `rule`, after one consumer pass."""
    runner.fan_out_all()
    return sorted(AutomationRun.objects.filter(automation=rule).values_list("event_type", flat=True))


# Every trigger, the event it listens to, and the cancel origin it needs.
CASES = [
    (Trigger.SUBSCRIPTION_CREATED, "subscription.created", ""),
    (Trigger.SUBSCRIPTION_ACTIVATED, "subscription.activated", ""),
    (Trigger.TRIAL_WILL_END, "subscription.trial_will_end", ""),
    (Trigger.PAST_DUE, "subscription.past_due", ""),
    (Trigger.CANCELED_ANY, "subscription.canceled", "seller"),
    (Trigger.CANCELED_BY_CUSTOMER, "subscription.canceled", "customer"),
    (Trigger.CANCELED_BY_SELLER, "subscription.canceled", "seller"),
    (Trigger.CANCELED_BY_ADMIN, "subscription.canceled", "admin"),
    (Trigger.EXPIRED, "subscription.expired", ""),
    (Trigger.REFUNDED, "subscription.refunded", "customer"),
    (Trigger.CHARGEBACK, "chargeback.created", ""),
    (Trigger.PAUSED, "subscription.paused", ""),
    (Trigger.RESUMED, "subscription.resumed", ""),
]
ALL_TYPES = sorted({event_type for _t, event_type, _o in CASES} | {"invoice.paid", "subscription.updated"})


def test_every_trigger_is_covered_here():
    assert {trigger for trigger, _e, _o in CASES} == set(Trigger.values)
    assert set(triggers.TRIGGER_EVENT_TYPE) == set(Trigger.values)


@pytest.mark.parametrize(("trigger", "event_type", "origin"), CASES, ids=[c[0] for c in CASES])
def test_each_trigger_fires_on_its_event_and_no_other(merchant, trigger, event_type, origin):
    rule = AutomationFactory(merchant=merchant, trigger=trigger)
    for other_type in ALL_TYPES:
        if other_type != event_type:
            event(merchant, other_type, cancel_origin=origin)
    assert fired(rule) == []

    event(merchant, event_type, cancel_origin=origin)

    assert fired(rule) == [event_type]


@pytest.mark.parametrize(
    ("trigger", "fires_for"),
    [
        (Trigger.CANCELED_ANY, {"customer", "seller", "admin"}),
        (Trigger.CANCELED_BY_CUSTOMER, {"customer"}),
        (Trigger.CANCELED_BY_SELLER, {"seller"}),
        (Trigger.CANCELED_BY_ADMIN, {"admin"}),
    ],
)
def test_cancellation_triggers_read_the_cancel_origin(merchant, trigger, fires_for):
    rule = AutomationFactory(merchant=merchant, trigger=trigger)
    for origin in ("customer", "seller", "admin"):
        event(merchant, "subscription.canceled", cancel_origin=origin)

    runner.fan_out_all()

    origins = {run.event.payload["cancel_origin"] for run in AutomationRun.objects.filter(automation=rule)}
    assert origins == fires_for


def test_a_real_cancellation_by_the_customer_fires_the_customer_rule_only(merchant):
    by_customer = AutomationFactory(merchant=merchant, trigger=Trigger.CANCELED_BY_CUSTOMER)
    by_seller = AutomationFactory(merchant=merchant, trigger=Trigger.CANCELED_BY_SELLER)
    subscription = SubscriptionFactory(merchant=merchant)

    subscription_cancel(subscription=subscription, actor=UserFactory(), origin="customer", reason="caro")

    assert fired(by_customer) == ["subscription.canceled"]
    assert fired(by_seller) == []
    run = AutomationRun.objects.get(automation=by_customer)
    assert run.event.payload["id"] == subscription.pk


def test_the_chargeback_trigger_reads_the_subscription_inside_the_payload(merchant):
    plan = PlanFactory(merchant=merchant)
    rule = AutomationFactory(merchant=merchant, trigger=Trigger.CHARGEBACK)
    rule.plans.set([plan])
    event(merchant, "chargeback.created", plan={"id": plan.pk, "name": plan.name})
    event(merchant, "chargeback.created")  # another plan

    assert fired(rule) == ["chargeback.created"]


# --- conditions -----------------------------------------------------------------------------------
def test_plan_condition(merchant):
    gold, silver = PlanFactory(merchant=merchant), PlanFactory(merchant=merchant)
    rule = AutomationFactory(merchant=merchant)
    rule.plans.set([gold, silver])
    event(merchant, "subscription.canceled", plan={"id": gold.pk, "name": "Gold"})
    event(merchant, "subscription.canceled", plan={"id": silver.pk, "name": "Silver"})
    event(merchant, "subscription.canceled", plan={"id": PlanFactory(merchant=merchant).pk, "name": "x"})

    runner.fan_out_all()

    plans = {run.event.payload["plan"]["id"] for run in AutomationRun.objects.filter(automation=rule)}
    assert plans == {gold.pk, silver.pk}


def test_payment_method_condition(merchant):
    rule = AutomationFactory(merchant=merchant, payment_methods=["pix", "boleto"])
    for method in ("card", "pix", "boleto", "manual"):
        event(merchant, "subscription.canceled", payment_method=method)

    runner.fan_out_all()

    methods = {run.event.payload["payment_method"] for run in AutomationRun.objects.filter(automation=rule)}
    assert methods == {"pix", "boleto"}


def test_cancel_origin_condition_on_a_non_cancellation_trigger(merchant):
    rule = AutomationFactory(merchant=merchant, trigger=Trigger.REFUNDED, cancel_origins=["seller"])
    for origin in ("customer", "seller", "admin", ""):
        event(merchant, "subscription.refunded", cancel_origin=origin)

    runner.fan_out_all()

    origins = [run.event.payload["cancel_origin"] for run in AutomationRun.objects.filter(automation=rule)]
    assert origins == ["seller"]


@pytest.mark.parametrize(
    ("amount_min", "amount_max", "expected"),
    [
        (5000, None, {5000, 9990}),
        (None, 5000, {4990, 5000}),
        (4991, 9990, {5000, 9990}),
        (5000, 5000, {5000}),
    ],
)
def test_amount_range_condition_is_inclusive(merchant, amount_min, amount_max, expected):
    rule = AutomationFactory(merchant=merchant, amount_min=amount_min, amount_max=amount_max)
    for amount in (4990, 5000, 9990):
        event(merchant, "subscription.canceled", amount=amount)

    runner.fan_out_all()

    amounts = {run.event.payload["amount"] for run in AutomationRun.objects.filter(automation=rule)}
    assert amounts == expected


def test_amount_range_ignores_subscriptions_in_another_currency(merchant):
    rule = AutomationFactory(merchant=merchant, amount_min=1000, currency="BRL")
    event(merchant, "subscription.canceled", amount=5000, currency="USD")

    assert fired(rule) == []


def test_combined_conditions_must_all_hold(merchant):
    gold = PlanFactory(merchant=merchant)
    rule = AutomationFactory(
        merchant=merchant,
        trigger=Trigger.CANCELED_BY_CUSTOMER,
        payment_methods=["card"],
        amount_min=4000,
        amount_max=6000,
    )
    rule.plans.set([gold])
    good = {"plan": {"id": gold.pk, "name": "Gold"}, "payment_method": "card", "amount": 4990}
    event(merchant, "subscription.canceled", cancel_origin="customer", **good)
    event(merchant, "subscription.canceled", cancel_origin="seller", **good)
    event(merchant, "subscription.canceled", cancel_origin="customer", **{**good, "payment_method": "pix"})
    event(merchant, "subscription.canceled", cancel_origin="customer", **{**good, "amount": 7000})
    event(merchant, "subscription.canceled", cancel_origin="customer", **{**good, "plan": {"id": 0}})

    runner.fan_out_all()

    assert AutomationRun.objects.filter(automation=rule).count() == 1


# --- which rules ----------------------------------------------------------------------------------
def test_a_disabled_rule_is_ignored(merchant):
    rule = AutomationFactory(merchant=merchant, is_enabled=False)
    event(merchant, "subscription.canceled", cancel_origin="seller")

    assert fired(rule) == []
    assert Event.objects.get().automations_processed_at is not None


def test_rules_of_another_merchant_never_fire(merchant, other_merchant):
    theirs = AutomationFactory(merchant=other_merchant)
    event(merchant, "subscription.canceled", cancel_origin="seller")

    assert fired(theirs) == []


def test_one_run_per_rule_and_event_even_when_the_event_is_offered_again(merchant):
    rule = AutomationFactory(merchant=merchant, action=ActionKind.WEBHOOK)
    canceled = event(merchant, "subscription.canceled", cancel_origin="seller")
    runner.fan_out_all()

    Event.objects.filter(pk=canceled.pk).update(automations_processed_at=None)  # as after a crash
    runner.fan_out_all()

    runs = AutomationRun.objects.filter(automation=rule)
    assert runs.count() == 1
    assert runs.get().origin == RunOrigin.EVENT


def test_the_consumer_marks_every_event_it_saw(merchant):
    AutomationFactory(merchant=merchant)
    for _ in range(3):
        event(merchant, "invoice.paid")

    assert runner.fan_out_all() == 3
    assert not Event.objects.filter(automations_processed_at__isnull=True).exists()
    assert runner.fan_out_all() == 0


def test_sample_payloads_fire_their_own_rule(merchant):
    for trigger in Trigger.values:
        rule = AutomationFactory(merchant=merchant, trigger=trigger)
        event_type = triggers.TRIGGER_EVENT_TYPE[trigger]
        assert triggers.matches(rule, event_type, triggers.sample_payload(rule), set()), trigger


def test_a_recorded_chargeback_fires_the_chargeback_rule_with_the_real_payload(merchant, owner):
    plan = PlanFactory(merchant=merchant)
    subscription = SubscriptionFactory(merchant=merchant, plan=plan, status=SubscriptionStatus.ACTIVE)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription)
    payment = PaymentFactory(merchant=merchant, invoice=invoice)
    chargeback_rule = AutomationFactory(merchant=merchant, trigger=Trigger.CHARGEBACK)
    chargeback_rule.plans.set([plan])
    by_customer = AutomationFactory(merchant=merchant, trigger=Trigger.CANCELED_BY_CUSTOMER)
    by_seller = AutomationFactory(merchant=merchant, trigger=Trigger.CANCELED_BY_SELLER)

    record_chargeback(payment=payment, actor=owner, reason="fraude")

    assert fired(chargeback_rule) == ["chargeback.created"]
    assert fired(by_customer) == ["subscription.canceled"]  # the bank's customer asked for it
    assert fired(by_seller) == []
