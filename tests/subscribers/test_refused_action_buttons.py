"""Buttons ask the same rule as the service: a button the status allows but the action's own rule refuses
(nothing to refund, money already moved for a delete) is greyed with the service's reason instead of being
offered and then refused."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.choices import InvoiceStatus, PaymentStatus
from billing.services.refunds import subscription_refund
from subscribers.choices import PaymentMethod, SubscriptionAction, SubscriptionStatus
from subscribers.services import action_refusal, subscription_delete
from tests.factories import InvoiceFactory, PaymentFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

NOTHING_TO_REFUND = "Esta assinatura não tem pagamento a reembolsar."


def paid(subscription):
    invoice = InvoiceFactory(
        merchant=subscription.merchant, subscription=subscription, subtotal=5000, status=InvoiceStatus.PAID
    )
    return PaymentFactory(
        merchant=subscription.merchant,
        invoice=invoice,
        amount=5000,
        status=PaymentStatus.SUCCEEDED,
        method=PaymentMethod.CARD,
    )


@pytest.fixture
def canceled_unpaid(merchant):
    return SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.CANCELED, payment_method="card")


@pytest.fixture
def fresh_paid(merchant):
    subscription = SubscriptionFactory(merchant=merchant, contract_date=timezone.localdate())
    paid(subscription)
    return subscription


def detail(client, subscription):
    return client.get(reverse("subscribers:subscription_detail", args=[subscription.pk])).content.decode()


def test_refund_of_a_subscription_with_nothing_paid_is_greyed_with_the_services_reason(
    owner_client, owner, canceled_unpaid
):
    html = detail(owner_client, canceled_unpaid)

    assert 'data-action-refused="refund"' in html
    assert 'data-action="refund"' not in html
    assert NOTHING_TO_REFUND in html
    with pytest.raises(ValidationError) as refused:
        subscription_refund(subscription=canceled_unpaid, actor=owner)
    assert refused.value.messages == [NOTHING_TO_REFUND]
    assert action_refusal(canceled_unpaid, SubscriptionAction.REFUND) == NOTHING_TO_REFUND


def test_refund_of_a_paid_cancelled_subscription_is_offered(owner_client, canceled_unpaid):
    paid(canceled_unpaid)

    html = detail(owner_client, canceled_unpaid)

    assert 'data-action="refund"' in html
    assert 'data-action-refused="refund"' not in html


def test_delete_of_a_paid_subscription_is_greyed_with_the_services_reason(owner_client, owner, fresh_paid):
    reason = action_refusal(fresh_paid, SubscriptionAction.DELETE)
    assert reason

    html = detail(owner_client, fresh_paid)

    assert 'data-action-refused="delete"' in html
    assert 'data-action="delete"' not in html
    with pytest.raises(ValidationError) as refused:
        subscription_delete(subscription=fresh_paid, actor=owner)
    assert refused.value.messages == [str(reason)]


def test_delete_of_an_unpaid_new_subscription_is_offered(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant, contract_date=timezone.localdate())

    html = detail(owner_client, subscription)

    assert 'data-action="delete"' in html
    assert action_refusal(subscription, SubscriptionAction.DELETE) is None


def test_the_subscription_list_greys_refund_when_nothing_was_paid(owner_client, merchant, canceled_unpaid):
    other = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.CANCELED, payment_method="card")
    paid(other)

    html = owner_client.get(reverse("subscribers:subscription_list")).content.decode()

    assert html.count('data-action-refused="refund"') == 1
    assert NOTHING_TO_REFUND in html
    assert reverse("billing:subscription_refund", kwargs={"pk": other.pk}) in html
    assert reverse("billing:subscription_refund", kwargs={"pk": canceled_unpaid.pk}) not in html
