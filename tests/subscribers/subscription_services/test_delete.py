"""subscription_delete: the one-month deadline and the tombstone."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.models import Event
from subscribers.choices import DiscountType, PaymentMethod
from subscribers.models import Subscription, SubscriptionEvent, SubscriptionTombstone
from subscribers.services import deletion_summary, subscription_delete, subscription_update
from tests.factories import SubscriptionEventFactory, SubscriptionFactory
from tests.subscribers.subscription_services.common import NOW, create, local


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
