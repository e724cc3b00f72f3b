"""Painel notes agree in number with their counts ("1 assinatura ativa", not "1 assinaturas ativas")."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_one_active_subscription_is_singular(owner_client, merchant):
    SubscriptionFactory(merchant=merchant)

    html = owner_client.get(reverse("dashboard:index")).content.decode()

    assert "1 assinatura ativa" in html
    assert "1 assinaturas ativas" not in html
    assert "0 pagos" in html and "0 reembolsos" in html
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "1 active subscription<" in owner_client.get(reverse("dashboard:index")).content.decode()


def test_two_active_subscriptions_are_plural(owner_client, merchant):
    SubscriptionFactory.create_batch(2, merchant=merchant)

    assert "2 assinaturas ativas" in owner_client.get(reverse("dashboard:index")).content.decode()
