"""The subscription lifecycle services: contract, edit, cancel, remove, re-add and delete.

Clocks are moved with time-machine; "now" is 15/03/2027 14:00 in São Paulo unless a test says otherwise.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from core.models import Event
from subscribers.choices import (
    CancelOrigin,
    CancelWhen,
    DiscountType,
    EventKind,
    PaymentMethod,
    SubscriptionStatus,
)
from subscribers.models import Subscription, SubscriptionEvent, SubscriptionTombstone
from subscribers.services import (
    cancellation_preview,
    deletion_summary,
    subscription_cancel,
    subscription_create,
    subscription_delete,
    subscription_process_due,
    subscription_readd,
    subscription_remove,
    subscription_update,
)
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PlanFactory,
    SubscriptionEventFactory,
    SubscriptionFactory,
    UserFactory,
)

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 3, 15, 14, 0, tzinfo=SAO_PAULO)
TODAY = NOW.date()


def local(*args):
    return dt.datetime(*args, tzinfo=SAO_PAULO)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def long_backdating(merchant):
    """This merchant accepts contracts backdated up to 3 periods (Configurações > Cobrança): the period
    arithmetic from 31/01 needs a contract older than the default bound of one period or 31 days."""
    from billing.models import BillingSettings

    BillingSettings.objects.create(merchant=merchant, backdate_max_periods=3)


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube do Livro", price=4990)


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")


def create(merchant, owner, customer, plan, **overrides):
    data = {"contract_date": TODAY}
    data.update(overrides)
    return subscription_create(merchant=merchant, actor=owner, customer=customer, plan=plan, **data)


def moment(iso: str) -> dt.datetime:
    """A datetime read back from a JSON payload (DjangoJSONEncoder writes UTC as "…Z")."""
    return dt.datetime.fromisoformat(iso)


def event_types():
    return sorted(Event.objects.values_list("type", flat=True))


def running(merchant, status=S.ACTIVE, **fields):
    """A started subscription whose current period runs 28/02/2027 → 31/03/2027 (anchor 31/01)."""
    values = {
        "merchant": merchant,
        "status": status,
        "contract_date": dt.date(2027, 1, 31),
        "billing_cycle_anchor": local(2027, 1, 31),
        "started_at": local(2027, 1, 31),
        "current_period_start": local(2027, 2, 28),
        "current_period_end": local(2027, 3, 31),
    }
    values.update(fields)
    return SubscriptionFactory(**values)


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


# --- subscription_update ------------------------------------------------------------------------------
def test_update_changes_plan_quantity_and_discount_and_records_what_changed(clock, merchant, owner, plan):
    subscription = running(merchant, plan=plan)
    bigger = PlanFactory(merchant=merchant, price=9990)

    subscription_update(
        subscription=subscription,
        actor=owner,
        plan=bigger,
        quantity=2,
        payment_method=PaymentMethod.PIX,
        discount_type=DiscountType.FIXED,
        discount_amount=980,
    )

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.quantity, subscription.amount) == (bigger, 2, 19000)
    assert subscription.payment_method == PaymentMethod.PIX
    assert subscription.status == S.ACTIVE
    event = SubscriptionEvent.objects.get()
    assert event.kind == EventKind.EDITED
    assert event.actor == owner
    assert event.data["changes"]["quantity"] == [1, 2]
    assert event.data["changes"]["amount"] == [4990, 19000]
    assert event.data["changes"]["plan"] == [plan.pk, bigger.pk]
    # Changing the plan now prorates (docs/money.md): billing adds the proration invoice's own event.
    assert [t for t in event_types() if t.startswith("subscription.")] == ["subscription.updated"]


def test_update_without_changes_records_nothing(clock, merchant, owner, plan):
    subscription = running(merchant, plan=plan)

    subscription_update(
        subscription=subscription, actor=owner, plan=plan, quantity=1, payment_method=PaymentMethod.CARD
    )

    assert not SubscriptionEvent.objects.exists()
    assert not Event.objects.exists()


def test_update_may_keep_a_plan_archived_since_the_contract(clock, merchant, owner, plan):
    subscription = running(merchant, plan=plan)
    plan.archived_at = NOW
    plan.save()

    subscription_update(
        subscription=subscription, actor=owner, plan=plan, quantity=3, payment_method=PaymentMethod.CARD
    )

    subscription.refresh_from_db()
    assert subscription.quantity == 3


def test_update_is_refused_when_switching_to_an_archived_plan(clock, merchant, owner, plan):
    subscription = running(merchant, plan=plan)
    archived = PlanFactory(merchant=merchant, archived_at=NOW)

    with pytest.raises(ValidationError) as excinfo:
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=archived,
            quantity=1,
            payment_method=PaymentMethod.CARD,
        )

    assert "plan" in excinfo.value.message_dict
    subscription.refresh_from_db()
    assert subscription.plan == plan
    assert not SubscriptionEvent.objects.exists()


def test_update_is_refused_for_a_discount_above_the_new_total(clock, merchant, owner, plan):
    subscription = running(merchant, plan=plan)

    with pytest.raises(ValidationError) as excinfo:
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=plan,
            quantity=1,
            payment_method=PaymentMethod.CARD,
            discount_type=DiscountType.FIXED,
            discount_amount=5000,
        )

    assert "discount_amount" in excinfo.value.message_dict
    subscription.refresh_from_db()
    assert subscription.discount_type == DiscountType.NONE


def test_update_is_refused_for_canceled_subscription_with_its_status_in_the_message(clock, merchant, owner):
    subscription = running(merchant, status=S.CANCELED)

    with pytest.raises(ValidationError) as excinfo:
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=subscription.plan,
            quantity=2,
            payment_method=PaymentMethod.CARD,
        )

    assert excinfo.value.code == "cannot_edit"
    assert excinfo.value.messages == ["Uma assinatura cancelada não pode ser alterada."]


# --- cancellation_preview -----------------------------------------------------------------------------
def test_preview_tells_until_when_the_customer_keeps_access(clock, merchant):
    subscription = running(merchant)

    assert cancellation_preview(subscription=subscription, when=CancelWhen.NOW) == (NOW, local(2027, 3, 31))
    assert cancellation_preview(subscription=subscription, when=CancelWhen.PERIOD_END) == (
        local(2027, 3, 31),
        local(2027, 3, 31),
    )
    assert cancellation_preview(
        subscription=subscription, when=CancelWhen.DATE, at_date=dt.date(2027, 3, 20)
    ) == (local(2027, 3, 20), local(2027, 3, 20))


def test_preview_is_refused_without_a_when(clock, merchant):
    with pytest.raises(ValidationError) as excinfo:
        cancellation_preview(subscription=running(merchant), when="")

    assert excinfo.value.error_dict["when"][0].code == "when_required"


# --- subscription_cancel: now -------------------------------------------------------------------------
def test_cancel_now_of_an_active_subscription_keeps_access_until_the_paid_period_ends(
    clock, merchant, support
):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription,
        actor=support,
        origin=CancelOrigin.CUSTOMER,
        when=CancelWhen.NOW,
        reason="  Achou caro.  ",
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_at == NOW
    assert subscription.ended_at == NOW
    assert subscription.cancel_requested_at == NOW
    assert subscription.access_until == local(2027, 3, 31)
    assert subscription.cancel_when == CancelWhen.NOW
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER
    assert subscription.cancel_reason == "Achou caro."
    assert subscription.canceled_by == support
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.CANCELED, S.ACTIVE, S.CANCELED)
    assert (event.actor, event.origin, event.reason) == (support, CancelOrigin.CUSTOMER, "Achou caro.")
    assert event.created_at == NOW
    assert event_types() == ["subscription.canceled"]
    assert moment(Event.objects.get().payload["access_until"]) == local(2027, 3, 31)


def test_cancel_now_of_a_trialing_subscription_keeps_access_until_the_trial_ends(clock, merchant, owner):
    trial_end = local(2027, 3, 20, 9)
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=trial_end, current_period_end=trial_end)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == trial_end


def test_cancel_now_of_a_past_due_subscription_ends_access_now(clock, merchant, owner):
    subscription = running(merchant, status=S.PAST_DUE)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW


def test_cancel_of_a_scheduled_subscription_ends_it_before_it_starts(clock, merchant, owner, customer, plan):
    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 4, 1))

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW
    assert subscription_process_due(now=local(2027, 4, 2)) == {"started": 0, "canceled": 0}


# --- subscription_cancel: at period end ---------------------------------------------------------------
def test_cancel_at_period_end_keeps_the_subscription_active_until_then(clock, merchant, owner):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_at == local(2027, 3, 31)
    assert subscription.access_until == local(2027, 3, 31)
    assert subscription.ended_at is None
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (
        EventKind.CANCEL_SCHEDULED,
        S.ACTIVE,
        S.CANCELED,
    )
    assert moment(event.data["cancel_at"]) == local(2027, 3, 31)
    assert moment(event.data["access_until"]) == local(2027, 3, 31)
    assert event_types() == ["subscription.cancel_scheduled"]


def test_cancel_at_period_end_is_carried_out_by_process_due_exactly_once(clock, merchant, owner):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    assert subscription_process_due(now=local(2027, 3, 30, 23, 59, 59)) == {"started": 0, "canceled": 0}
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE

    assert subscription_process_due(now=local(2027, 3, 31)) == {"started": 0, "canceled": 1}
    assert subscription_process_due(now=local(2027, 3, 31, 0, 1)) == {"started": 0, "canceled": 0}

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.ended_at == local(2027, 3, 31)
    canceled = SubscriptionEvent.objects.get(kind=EventKind.CANCELED)
    assert (canceled.from_status, canceled.actor, canceled.origin) == (S.ACTIVE, owner, CancelOrigin.CUSTOMER)
    assert event_types() == ["subscription.cancel_scheduled", "subscription.canceled"]


def test_cancel_at_period_end_of_a_trial_ends_with_the_trial(clock, merchant, owner):
    trial_end = local(2027, 3, 20, 9)
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=trial_end, current_period_end=trial_end)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at, subscription.access_until) == (
        S.TRIALING,
        trial_end,
        trial_end,
    )


def test_a_second_cancel_while_one_is_scheduled_is_refused_and_changes_nothing(
    clock, merchant, owner, support
):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )
    subscription.refresh_from_db()
    before = (
        subscription.cancel_at,
        subscription.canceled_by,
        subscription.cancel_when,
        subscription.updated_at,
    )

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=subscription, actor=support, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
        )

    assert excinfo.value.code == "cannot_cancel"
    assert excinfo.value.messages == ["O cancelamento desta assinatura já está agendado."]
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert (
        subscription.cancel_at,
        subscription.canceled_by,
        subscription.cancel_when,
        subscription.updated_at,
    ) == before
    assert SubscriptionEvent.objects.count() == 1
    assert Event.objects.count() == 1


# --- subscription_cancel: on a chosen date ------------------------------------------------------------
def test_cancel_on_a_chosen_date_takes_effect_at_that_days_local_midnight(clock, merchant, owner):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription,
        actor=owner,
        origin=CancelOrigin.SELLER,
        when=CancelWhen.DATE,
        at_date=dt.date(2027, 3, 16),
    )

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_when == CancelWhen.DATE
    assert subscription.cancel_at == local(2027, 3, 16)
    assert subscription.access_until == local(2027, 3, 16)
    assert subscription_process_due(now=local(2027, 3, 15, 23, 59)) == {"started": 0, "canceled": 0}
    assert subscription_process_due(now=local(2027, 3, 16)) == {"started": 0, "canceled": 1}
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED


@pytest.mark.parametrize("at_date", [TODAY, TODAY - dt.timedelta(days=1), dt.date(2020, 1, 1)])
def test_cancel_on_a_date_that_is_not_in_the_future_is_refused_and_changes_nothing(
    clock, merchant, owner, at_date
):
    subscription = running(merchant)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=subscription,
            actor=owner,
            origin=CancelOrigin.SELLER,
            when=CancelWhen.DATE,
            at_date=at_date,
        )

    assert excinfo.value.error_dict["at_date"][0].code == "date_not_future"
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at, subscription.access_until) == (S.ACTIVE, None, None)
    assert not SubscriptionEvent.objects.exists()
    assert not Event.objects.exists()


def test_cancel_on_a_date_counts_today_in_the_merchants_timezone(merchant, owner):
    # 15/03 22:30 in São Paulo is 16/03 in UTC; 16/03 is still tomorrow for the merchant.
    with time_machine.travel(local(2027, 3, 15, 22, 30), tick=False):
        subscription = subscription_cancel(
            subscription=running(merchant),
            actor=owner,
            origin=CancelOrigin.SELLER,
            when=CancelWhen.DATE,
            at_date=dt.date(2027, 3, 16),
        )

    assert subscription.cancel_at == local(2027, 3, 16)


def test_cancel_on_a_date_without_a_date_is_refused(clock, merchant, owner):
    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=running(merchant), actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.DATE
        )

    assert excinfo.value.error_dict["at_date"][0].code == "date_required"


# --- subscription_cancel: origin ----------------------------------------------------------------------
@pytest.mark.parametrize("origin", [CancelOrigin.CUSTOMER, CancelOrigin.SELLER])
def test_cancel_records_who_asked_for_it(clock, merchant, support, origin):
    subscription = subscription_cancel(subscription=running(merchant), actor=support, origin=origin)

    assert subscription.cancel_origin == origin
    assert SubscriptionEvent.objects.get().origin == origin
    assert Event.objects.get().payload["cancel_origin"] == origin


@pytest.mark.parametrize("origin", [CancelOrigin.CUSTOMER, CancelOrigin.SELLER, CancelOrigin.ADMIN])
def test_cancel_by_platform_staff_is_always_recorded_as_admin(clock, merchant, origin):
    staff = UserFactory(username="equipe-plataforma", is_staff=True)

    subscription = subscription_cancel(subscription=running(merchant), actor=staff, origin=origin)

    assert subscription.cancel_origin == CancelOrigin.ADMIN
    assert subscription.canceled_by == staff
    assert SubscriptionEvent.objects.get().origin == CancelOrigin.ADMIN


@pytest.mark.parametrize("origin", ["", CancelOrigin.ADMIN, "robot"])
def test_cancel_by_a_merchant_member_needs_customer_or_seller_as_origin(clock, merchant, owner, origin):
    subscription = running(merchant)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(subscription=subscription, actor=owner, origin=origin)

    assert excinfo.value.error_dict["origin"][0].code == "origin_required"
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert not SubscriptionEvent.objects.exists()


# --- subscription_remove ------------------------------------------------------------------------------
def test_remove_cancels_now_and_revokes_access_now(clock, merchant, support):
    subscription = running(merchant)

    subscription_remove(subscription=subscription, actor=support, reason="Fraude")

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_at == NOW
    assert subscription.ended_at == NOW
    assert subscription.access_until == NOW
    assert subscription.access_revoked_at == NOW
    assert subscription.cancel_origin == CancelOrigin.SELLER
    assert subscription.cancel_reason == "Fraude"
    assert subscription.canceled_by == support
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.REMOVED, S.ACTIVE, S.CANCELED)
    assert event.origin == CancelOrigin.SELLER
    assert event_types() == ["subscription.access_revoked", "subscription.canceled"]
    assert moment(Event.objects.get(type="subscription.access_revoked").payload["access_until"]) == NOW


def test_remove_overrides_a_scheduled_cancellation(clock, merchant, owner):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    subscription_remove(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW
    assert subscription_process_due(now=local(2027, 4, 1)) == {"started": 0, "canceled": 0}


def test_remove_by_platform_staff_is_recorded_as_admin(clock, merchant):
    staff = UserFactory(username="equipe-plataforma", is_staff=True)

    subscription = subscription_remove(subscription=running(merchant), actor=staff)

    assert subscription.cancel_origin == CancelOrigin.ADMIN


# --- subscription_readd -------------------------------------------------------------------------------
def test_readd_grants_access_again_with_an_event_that_says_readded(clock, merchant, owner):
    subscription = running(merchant, access_revoked_at=local(2027, 3, 10))

    subscription_readd(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.access_revoked_at is None
    assert subscription.status == S.ACTIVE
    # The access e-mail follows from this event (notifications' consumer), not from the service.
    assert mail.outbox == []
    assert Event.objects.get().payload["readded"] is True
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        EventKind.READDED,
        S.ACTIVE,
        S.ACTIVE,
        owner,
    )
    assert event.created_at == NOW
    assert event_types() == ["subscription.access_granted"]


def test_readd_of_a_trialing_subscription_grants_access_each_time(clock, merchant, owner):
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=local(2027, 3, 20))

    subscription_readd(subscription=subscription, actor=owner)
    subscription_readd(subscription=subscription, actor=owner)

    assert Event.objects.filter(type="subscription.access_granted", payload__readded=True).count() == 2
    assert SubscriptionEvent.objects.filter(kind=EventKind.READDED).count() == 2


# --- subscription_delete ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contract", "last_day"),
    [
        (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),
        (dt.date(2027, 3, 15), dt.date(2027, 4, 15)),
        (dt.date(2027, 12, 31), dt.date(2028, 1, 31)),
    ],
)
def test_delete_deadline_is_one_calendar_month_after_the_contract_clamped(merchant, contract, last_day):
    subscription = SubscriptionFactory(merchant=merchant, contract_date=contract)

    assert subscription.delete_deadline == last_day
    assert subscription.can("delete", today=last_day)
    assert not subscription.can("delete", today=last_day + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("contract", "last_moment"),
    [
        (dt.date(2027, 1, 31), local(2027, 2, 28, 23, 59, 59)),
        (dt.date(2028, 1, 31), local(2028, 2, 29, 23, 59, 59)),
    ],
)
def test_delete_works_until_the_end_of_the_last_day_in_the_merchants_timezone(
    merchant, owner, contract, last_moment
):
    subscription = SubscriptionFactory(merchant=merchant, contract_date=contract)

    with time_machine.travel(last_moment, tick=False):  # already the next day in UTC
        tombstone = subscription_delete(subscription=subscription, actor=owner)

    assert tombstone.deleted_at == last_moment
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


@pytest.mark.parametrize(
    ("contract", "first_moment_after", "deadline"),
    [
        (dt.date(2027, 1, 31), local(2027, 3, 1), "28/02/2027"),
        (dt.date(2028, 1, 31), local(2028, 3, 1), "29/02/2028"),
    ],
)
def test_delete_is_refused_from_the_day_after_the_deadline_and_changes_nothing(
    merchant, owner, contract, first_moment_after, deadline
):
    subscription = SubscriptionFactory(merchant=merchant, contract_date=contract)
    SubscriptionEventFactory(merchant=merchant, subscription=subscription)

    with time_machine.travel(first_moment_after, tick=False), pytest.raises(ValidationError) as excinfo:
        subscription_delete(subscription=subscription, actor=owner)

    assert excinfo.value.code == "delete_window_closed"
    assert deadline in excinfo.value.messages[0]
    assert Subscription.objects.filter(pk=subscription.pk).exists()
    assert subscription.events.count() == 1
    assert not SubscriptionTombstone.objects.exists()
    assert not Event.objects.exists()


def test_delete_leaves_a_tombstone_with_who_when_and_a_snapshot_and_removes_the_timeline(
    clock, merchant, owner, customer, plan
):
    subscription = create(
        merchant,
        owner,
        customer,
        plan,
        quantity=2,
        discount_type=DiscountType.PERCENT,
        discount_percent=Decimal("12.5"),
    )
    subscription_update(
        subscription=subscription,
        actor=owner,
        plan=plan,
        quantity=3,
        payment_method=PaymentMethod.CARD,
        discount_type=DiscountType.PERCENT,
        discount_percent=Decimal("12.5"),
        apply="next_cycle",  # prorating now would charge, and paid history blocks a delete
    )
    assert deletion_summary(subscription) == {"events": 2, "invoices": 0, "payments": 0, "blocked_reason": ""}
    pk = subscription.pk

    tombstone = subscription_delete(subscription=subscription, actor=owner)

    tombstone.refresh_from_db()
    assert tombstone.merchant == merchant
    assert tombstone.subscription_pk == pk
    assert tombstone.deleted_by == owner
    assert tombstone.deleted_at == NOW
    assert tombstone.customer_name == "Ana Souza"
    assert tombstone.plan_name == "Clube do Livro"
    assert tombstone.snapshot["status"] == "active"
    assert (tombstone.snapshot["quantity"], tombstone.snapshot["pending_quantity"]) == (2, 3)
    assert tombstone.snapshot["discount_percent"] == "12.50"
    assert tombstone.snapshot["contract_date"] == "2027-03-15"
    assert tombstone.snapshot["customer_email"] == "ana@example.com"
    assert tombstone.snapshot["events"] == 2
    assert not Subscription.objects.filter(pk=pk).exists()
    assert not SubscriptionEvent.objects.filter(subscription_id=pk).exists()
    deleted = Event.objects.get(type="subscription.deleted")
    assert deleted.payload["id"] == pk


def test_a_subscription_can_only_be_acted_on_by_the_current_state_in_the_database(clock, merchant, owner):
    # The caller holds a stale copy that still says "active"; the service re-reads the row under lock.
    subscription = running(merchant)
    stale = Subscription.objects.get(pk=subscription.pk)
    subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.SELLER)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(subscription=stale, actor=owner, origin=CancelOrigin.SELLER)

    assert excinfo.value.code == "cannot_cancel"
    assert SubscriptionEvent.objects.filter(kind=EventKind.CANCELED).count() == 1
