"""The portal's public endpoints answer 429 over their limits (core/ratelimit.py)."""

import pytest
from django.core import mail
from django.urls import reverse

from subscribers.portal.tokens import issue_magic_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits_on(rate_limits_on):
    """Counted from an empty cache on a still clock (tests/conftest.py)."""


def test_asking_for_links_is_limited_per_email(client, settings, merchant, customer):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "portal_link": "3/10m"}
    url = reverse("portal:login", kwargs={"slug": merchant.slug})

    answers = [
        client.post(url, {"email": customer.email}, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(4)
    ]

    assert answers == [200, 200, 200, 429]
    assert len(mail.outbox) <= 3


def test_asking_for_links_is_limited_per_ip(client, settings, merchant):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "portal_link": "3/10m"}
    url = reverse("portal:login", kwargs={"slug": merchant.slug})

    answers = [client.post(url, {"email": f"pessoa{n}@example.com"}).status_code for n in range(4)]

    assert answers == [200, 200, 200, 429]
    blocked = client.post(url, {"email": "outra@example.com"})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Muitas tentativas" in blocked.content.decode()


def test_trying_magic_links_is_limited_per_ip(client, settings, merchant, customer):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public": "3/m"}
    urls = [reverse("portal:enter", kwargs={"slug": merchant.slug, "token": f"forjado{n}"}) for n in range(3)]
    good = reverse(
        "portal:enter", kwargs={"slug": merchant.slug, "token": issue_magic_token(customer=customer)}
    )

    answers = [client.get(url).status_code for url in urls]

    assert answers == [410, 410, 410]
    assert client.post(good).status_code == 429  # even a good link waits: guessing is what this stops
