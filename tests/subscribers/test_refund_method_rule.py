"""The refund rule on payment methods lives once (subscribers.choices.method_is_refundable): the action
table, the refund service and the balance refund all follow it, so changing it there changes them all."""

import pytest

from billing.services.credit import REFUNDABLE_METHODS
from billing.services.refunds import BOLETO_NOT_REFUNDABLE, method_refusal
from subscribers.choices import PaymentMethod, SubscriptionAction, SubscriptionStatus, method_is_refundable
from tests.factories import SubscriptionFactory


@pytest.mark.parametrize(
    ("method", "refundable"),
    [
        (PaymentMethod.CARD, True),
        (PaymentMethod.PIX, True),
        (PaymentMethod.MANUAL, True),
        (PaymentMethod.BOLETO, False),
    ],
)
def test_only_boleto_money_cannot_be_refunded(method, refundable):
    assert method_is_refundable(method) is refundable


@pytest.mark.django_db
@pytest.mark.parametrize("method", list(PaymentMethod))
def test_the_action_table_asks_the_rule(merchant, method):
    subscription = SubscriptionFactory(
        merchant=merchant, status=SubscriptionStatus.CANCELED, payment_method=method
    )

    assert subscription.can(SubscriptionAction.REFUND) is method_is_refundable(method)


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_the_refund_service_refuses_exactly_the_methods_the_rule_refuses(method):
    refusal = method_refusal(method)

    if method_is_refundable(method):
        assert refusal is None
    else:
        assert refusal.code == "boleto_not_refundable"
        assert refusal.messages == [str(BOLETO_NOT_REFUNDABLE)]


def test_a_balance_refund_goes_back_only_to_refundable_gateway_methods():
    assert REFUNDABLE_METHODS == (PaymentMethod.CARD, PaymentMethod.PIX)
    assert all(method_is_refundable(method) for method in REFUNDABLE_METHODS)
