import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from plans.choices import CouponDuration
from tests.factories import (
    BillingSettingsFactory,
    CouponFactory,
    CustomerFactory,
    PlanFactory,
    SubscriptionFactory,
)

LINK = re.compile(r"https?://\S+/portal/[\w-]+/entrar/\S+/")


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube Mensal", price=4990)


@pytest.fixture
def subscription(merchant, customer, plan):
    return SubscriptionFactory(merchant=merchant, customer=customer, plan=plan)


def request_link(client, merchant, email) -> str | None:
    """Asks for the magic link like the customer does; the link from the e-mail sent, if any."""
    before = len(mail.outbox)
    # The e-mail leaves after the commit: run the request's on-commit callbacks like a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("portal:login", kwargs={"slug": merchant.slug}), {"email": email})
    sent = mail.outbox[before:]
    if not sent:
        return None
    return LINK.search(sent[-1].body).group(0)


@pytest.fixture
def portal_client(client):
    """portal_client(customer) → the test client inside that customer's portal, entered by the real link."""

    def enter(customer):
        link = request_link(client, customer.merchant, customer.email)
        response = client.post(link)
        assert response.status_code == 302, response.content
        return client

    return enter


@pytest.fixture
def offer(merchant):
    """The merchant's portal retention offer: 50% off for 3 months (coupon FICA50)."""
    coupon = CouponFactory(
        merchant=merchant,
        code="FICA50",
        percent_off=Decimal("50"),
        duration=CouponDuration.REPEATING,
        duration_in_months=3,
    )
    BillingSettingsFactory(merchant=merchant, portal_retention_coupon=coupon)
    return coupon
