"""subscription_update (Editar assinatura)."""

import pytest
from django.core.exceptions import ValidationError

from core.models import Event
from subscribers.choices import DiscountType, EventKind, PaymentMethod
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_update
from tests.factories import PlanFactory
from tests.subscribers.subscription_services.common import NOW, S, event_types, running


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
