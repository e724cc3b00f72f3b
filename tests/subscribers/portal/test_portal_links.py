"""Where the portal is announced: the merchant's settings page (URL, cancellation policy, retention offer)
and every customer e-mail ("Gerenciar assinatura", the `portal` variable)."""

import pytest
from django.urls import reverse

from notifications.emails.choices import CustomerEmailKind
from notifications.emails.services.customer_emails import render_customer_email

pytestmark = pytest.mark.django_db


def test_settings_show_the_portal_url_and_save_the_retention_offer(owner_client, merchant):
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert "http://testserver/portal/the-pacific/" in page

    owner_client.post(
        reverse("accounts:settings"),
        {
            "name": merchant.name,
            "currency": merchant.currency,
            "timezone": merchant.timezone,
            "portal_cancel_at_period_end": "on",
            "portal_retention_offer": "  Cupom VOLTA50: 50% por 3 meses ",
        },
    )

    merchant.refresh_from_db()
    assert merchant.portal_cancel_at_period_end is True
    assert merchant.portal_retention_offer == "Cupom VOLTA50: 50% por 3 meses"
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert "Cupom VOLTA50" in page and "no fim do período pago" in page


def test_customer_emails_carry_the_portal_link(settings, merchant, subscription):
    settings.PUBLIC_URL = "https://app.example.com/"

    _subject, text, html = render_customer_email(
        merchant=merchant, kind=CustomerEmailKind.SUBSCRIPTION_CREATED, subscription=subscription
    )

    assert "Gerenciar assinatura: https://app.example.com/portal/the-pacific/" in text
    assert 'href="https://app.example.com/portal/the-pacific/"' in html


def test_without_a_public_url_emails_carry_no_portal_link(settings, merchant, subscription):
    settings.PUBLIC_URL = ""

    _subject, text, html = render_customer_email(
        merchant=merchant, kind=CustomerEmailKind.SUBSCRIPTION_CREATED, subscription=subscription
    )

    assert "Gerenciar assinatura" not in text and "Gerenciar assinatura" not in html
