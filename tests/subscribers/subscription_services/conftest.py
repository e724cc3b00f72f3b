"""Fixtures of the subscription service tests: the frozen clock, the merchant's plan and customer."""

import pytest
import time_machine

from tests.factories import CustomerFactory, PlanFactory
from tests.subscribers.subscription_services.common import NOW


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
