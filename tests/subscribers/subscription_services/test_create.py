"""subscription_create (Contratar plano): statuses and periods, events, e-mail choice, money, refusals."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from core.models import Event
from subscribers.choices import DiscountType, EventKind, PaymentMethod
from subscribers.models import Subscription, SubscriptionEvent
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, UserFactory
from tests.subscribers.subscription_services.common import NOW, S, create, event_types, local


# --- subscription_create: statuses and periods --------------------------------------------------------
@pytest.mark.parametrize("payment_method", [PaymentMethod.CARD, PaymentMethod.MANUAL])
def test_create_today_with_card_or_manual_payment_is_active(
    clock, merchant, owner, customer, plan, payment_method
):
    subscription = create(merchant, owner, customer, plan, payment_method=payment_method)

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.billing_cycle_anchor == NOW
    assert subscription.started_at == NOW
    assert subscription.current_period_start == NOW
    assert subscription.current_period_end == local(2027, 4, 15, 14)
    assert subscription.trial_ends_at is None
    assert subscription.amount == 4990
    assert subscription.currency == "BRL"
    assert subscription.created_by == owner


@pytest.mark.parametrize("payment_method", [PaymentMethod.BOLETO, PaymentMethod.PIX])
def test_create_today_with_boleto_or_pix_waits_as_pending(
    clock, merchant, owner, customer, plan, payment_method
):
    subscription = create(merchant, owner, customer, plan, payment_method=payment_method)

    subscription.refresh_from_db()
    assert subscription.status == S.PENDING
    assert subscription.current_period_end == local(2027, 4, 15, 14)
    assert event_types() == ["subscription.created"]  # no access until the payment settles


def test_create_with_a_trial_plan_is_trialing_until_the_trial_ends(clock, merchant, owner, customer):
    plan = PlanFactory(merchant=merchant, trial_days=7)

    subscription = create(merchant, owner, customer, plan)

    subscription.refresh_from_db()
    assert subscription.status == S.TRIALING
    assert subscription.trial_ends_at == local(2027, 3, 22, 14)
    assert subscription.current_period_start == NOW
    assert subscription.current_period_end == local(2027, 3, 22, 14)
    assert subscription.billing_cycle_anchor == local(2027, 3, 22, 14)


def test_create_with_a_future_date_is_scheduled_from_that_days_local_midnight(
    clock, merchant, owner, customer, plan
):
    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 4, 1))

    subscription.refresh_from_db()
    assert subscription.status == S.SCHEDULED
    assert subscription.billing_cycle_anchor == local(2027, 4, 1)
    assert subscription.started_at is None
    assert subscription.current_period_start is None
    assert subscription.current_period_end is None
    assert event_types() == ["subscription.created"]


def test_create_backdated_anchors_at_the_contract_dates_local_midnight_and_runs_the_period_of_today(
    long_backdating, clock, merchant, owner, customer, plan
):
    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 1, 31))

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.billing_cycle_anchor == local(2027, 1, 31)
    # 31/01 → 28/02 → 31/03: the period holding 15/03 starts on the clamped 28/02.
    assert subscription.current_period_start == local(2027, 2, 28)
    assert subscription.current_period_end == local(2027, 3, 31)
    assert subscription.current_period_start <= NOW < subscription.current_period_end


def test_create_backdated_with_a_trial_still_running_is_trialing(clock, merchant, owner, customer):
    plan = PlanFactory(merchant=merchant, trial_days=7)

    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 3, 12))

    assert subscription.status == S.TRIALING
    assert subscription.trial_ends_at == local(2027, 3, 19)
    assert subscription.current_period_start == local(2027, 3, 12)
    assert subscription.current_period_end == local(2027, 3, 19)


def test_create_backdated_past_its_trial_bills_from_the_trials_end_in_the_period_of_today(
    long_backdating, clock, merchant, owner, customer
):
    plan = PlanFactory(merchant=merchant, trial_days=7)

    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 1, 31))

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.trial_ends_at == local(2027, 2, 7)
    assert subscription.billing_cycle_anchor == local(2027, 2, 7)
    assert subscription.current_period_start == local(2027, 3, 7)
    assert subscription.current_period_end == local(2027, 4, 7)


def test_create_late_in_the_evening_clamps_the_period_in_the_merchants_timezone(
    merchant, owner, customer, plan
):
    # 30/01 22:30 in São Paulo is 31/01 01:30 UTC; the period must end on 28/02 local, not on 27/02.
    evening = local(2027, 1, 30, 22, 30)
    with time_machine.travel(evening, tick=False):
        subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 1, 30))

    subscription.refresh_from_db()
    assert subscription.current_period_end == local(2027, 2, 28, 22, 30)


def test_create_uses_the_merchants_calendar_to_tell_today_from_tomorrow(owner, customer, plan, merchant):
    merchant.timezone = "Asia/Tokyo"
    merchant.save()
    # 15/03 14:00 in São Paulo is already 16/03 02:00 in Tokyo: a contract for 16/03 starts now.
    with time_machine.travel(NOW, tick=False):
        subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 3, 16))

    assert subscription.status == S.ACTIVE
    assert subscription.billing_cycle_anchor == NOW


def test_create_records_one_created_event_and_the_outbox_events(clock, merchant, owner, customer, plan):
    subscription = create(merchant, owner, customer, plan)

    event = SubscriptionEvent.objects.get()
    assert event.subscription == subscription
    assert event.kind == EventKind.CREATED
    assert event.to_status == S.ACTIVE
    assert event.actor == owner
    assert event.created_at == NOW
    assert event_types() == ["subscription.access_granted", "subscription.created"]
    created = Event.objects.get(type="subscription.created")
    assert created.merchant == merchant
    assert created.payload["id"] == subscription.pk
    assert created.payload["status"] == "active"
    assert created.payload["customer"] == {
        "id": customer.pk,
        "email": "ana@example.com",
        "name": customer.name,
    }


@pytest.mark.parametrize(
    ("overrides", "trial_days", "status", "types"),
    [
        ({}, 0, S.ACTIVE, ["subscription.access_granted", "subscription.created"]),
        ({"payment_method": PaymentMethod.BOLETO}, 0, S.PENDING, ["subscription.created"]),
        ({}, 7, S.TRIALING, ["subscription.access_granted", "subscription.created"]),
        ({"contract_date": dt.date(2027, 5, 1)}, 0, S.SCHEDULED, ["subscription.created"]),
        (
            {"contract_date": dt.date(2027, 1, 31)},
            0,
            S.ACTIVE,
            ["subscription.access_granted", "subscription.created"],
        ),
    ],
)
def test_every_kind_of_contract_writes_one_created_event_and_one_created_outbox_event(
    long_backdating, clock, merchant, owner, customer, overrides, trial_days, status, types
):
    plan = PlanFactory(merchant=merchant, trial_days=trial_days)

    subscription = create(merchant, owner, customer, plan, **overrides)

    assert subscription.status == status
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.CREATED, "", status)
    assert event_types() == types


# --- subscription_create: e-mail ----------------------------------------------------------------------
# The e-mail itself leaves from notifications' outbox consumer
# (tests/notifications/emails/test_customer_emails*).
@pytest.mark.parametrize("notify", [True, False])
def test_create_keeps_the_notify_choice_for_the_email_consumer_and_sends_nothing_itself(
    clock, merchant, owner, customer, plan, django_capture_on_commit_callbacks, notify
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        subscription = create(merchant, owner, customer, plan, notify_customer=notify)

    assert subscription.notify_customer is notify
    assert Event.objects.filter(type="subscription.created", payload__id=subscription.pk).exists()
    # The one callback enqueues the first charge (tests/billing/test_renewal_engine.py); no e-mail here.
    assert len(callbacks) == 1
    assert mail.outbox == []


# --- subscription_create: money -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("price", "quantity", "percent", "expected"),
    [
        (4990, 1, Decimal("10"), 4491),  # discount 499
        (4990, 1, Decimal("15"), 4241),  # discount 748,5 → 749 (half up)
        (4995, 1, Decimal("10"), 4495),  # discount 499,5 → 500 (half up)
        (4990, 1, Decimal("33.33"), 3327),  # discount 1663,167 → 1663
        (1001, 3, Decimal("12.5"), 2628),  # gross 3003, discount 375,375 → 375
        (4990, 1, Decimal("100"), 0),
        (4990, 1, Decimal("0.01"), 4990),  # discount 0,499 → 0
    ],
)
def test_create_with_a_percent_discount_rounds_the_discount_half_up(
    clock, merchant, owner, customer, price, quantity, percent, expected
):
    plan = PlanFactory(merchant=merchant, price=price)

    subscription = create(
        merchant,
        owner,
        customer,
        plan,
        quantity=quantity,
        discount_type=DiscountType.PERCENT,
        discount_percent=percent,
        discount_periods=3,
    )

    subscription.refresh_from_db()
    assert subscription.amount == expected
    assert subscription.discount_percent == percent
    assert subscription.discount_amount is None
    assert subscription.discount_periods == 3


@pytest.mark.parametrize(
    ("quantity", "discount", "expected"), [(1, 1000, 3990), (2, 1000, 8980), (1, 4990, 0), (1, 1, 4989)]
)
def test_create_with_a_fixed_discount_subtracts_it_from_price_times_quantity(
    clock, merchant, owner, customer, plan, quantity, discount, expected
):
    subscription = create(
        merchant,
        owner,
        customer,
        plan,
        quantity=quantity,
        discount_type=DiscountType.FIXED,
        discount_amount=discount,
    )

    subscription.refresh_from_db()
    assert subscription.amount == expected
    assert subscription.discount_amount == discount
    assert subscription.discount_percent is None
    assert subscription.discount_periods is None  # forever


def test_create_keeps_only_the_fields_of_the_chosen_discount_type(clock, merchant, owner, customer, plan):
    subscription = create(
        merchant,
        owner,
        customer,
        plan,
        discount_type=DiscountType.NONE,
        discount_percent=Decimal("50"),
        discount_amount=100,
        discount_periods=2,
    )

    assert subscription.amount == 4990
    assert (subscription.discount_percent, subscription.discount_amount, subscription.discount_periods) == (
        None,
        None,
        None,
    )


# --- subscription_create: refusals --------------------------------------------------------------------
def assert_create_refused(excinfo, field):
    assert field in excinfo.value.message_dict
    assert not Subscription.objects.exists()
    assert not SubscriptionEvent.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("discount", "field"),
    [
        ({"discount_type": DiscountType.PERCENT}, "discount_percent"),
        ({"discount_type": DiscountType.PERCENT, "discount_percent": Decimal("0")}, "discount_percent"),
        ({"discount_type": DiscountType.PERCENT, "discount_percent": Decimal("-5")}, "discount_percent"),
        ({"discount_type": DiscountType.PERCENT, "discount_percent": Decimal("100.01")}, "discount_percent"),
        ({"discount_type": DiscountType.FIXED}, "discount_amount"),
        ({"discount_type": DiscountType.FIXED, "discount_amount": 0}, "discount_amount"),
        ({"discount_type": DiscountType.FIXED, "discount_amount": -100}, "discount_amount"),
        ({"discount_type": DiscountType.FIXED, "discount_amount": 4991}, "discount_amount"),
        (
            {"discount_type": DiscountType.FIXED, "discount_amount": 100, "discount_periods": 0},
            "discount_periods",
        ),
    ],
)
def test_create_is_refused_for_a_bad_discount_and_saves_nothing(
    clock, merchant, owner, customer, plan, discount, field
):
    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, customer, plan, **discount)

    assert_create_refused(excinfo, field)


def test_create_is_refused_for_another_merchants_customer(clock, merchant, other_merchant, owner, plan):
    stranger = CustomerFactory(merchant=other_merchant)

    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, stranger, plan)

    assert_create_refused(excinfo, "customer")


def test_create_is_refused_for_another_merchants_plan(clock, merchant, other_merchant, owner, customer):
    foreign_plan = PlanFactory(merchant=other_merchant)

    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, customer, foreign_plan)

    assert_create_refused(excinfo, "plan")


@pytest.mark.parametrize(
    "plan_state", [{"is_active": False}, {"archived_at": NOW}, {"is_active": False, "archived_at": NOW}]
)
def test_create_is_refused_for_an_archived_or_inactive_plan(clock, merchant, owner, customer, plan_state):
    plan = PlanFactory(merchant=merchant, **plan_state)

    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, customer, plan)

    assert_create_refused(excinfo, "plan")


def test_create_is_refused_when_the_salesperson_is_not_a_member(
    clock, merchant, other_merchant, owner, customer, plan
):
    outsider = UserFactory(username="vendedor-de-fora")
    MembershipFactory(user=outsider, merchant=other_merchant)

    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, customer, plan, salesperson=outsider)

    assert_create_refused(excinfo, "salesperson")


def test_create_accepts_any_member_of_the_team_as_salesperson(clock, merchant, owner, viewer, customer, plan):
    subscription = create(merchant, owner, customer, plan, salesperson=viewer)

    assert subscription.salesperson == viewer


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"contract_date": None}, "contract_date"),
        ({"quantity": 0}, "quantity"),
        ({"payment_method": "cheque"}, "payment_method"),
    ],
)
def test_create_is_refused_for_invalid_input(clock, merchant, owner, customer, plan, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        create(merchant, owner, customer, plan, **overrides)

    assert_create_refused(excinfo, field)
