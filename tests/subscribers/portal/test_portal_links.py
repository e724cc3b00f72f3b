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
    assert "Cupom VOLTA50" in page and "No fim do período já pago" in page


def summary(page: str, cell: str) -> str:
    return page.split(f'id="{cell}">', 1)[1].split("</dd>", 1)[0]


@pytest.mark.parametrize(
    ("language", "policy", "offer"),
    [
        ("pt-br", "Imediato, quando o cliente confirma", "Nenhuma oferta configurada"),
        ("en", "Immediately, when the customer confirms", "No offer set up"),
    ],
)
def test_settings_summarise_the_portal_rules_in_words_of_the_users_language(
    owner_client, merchant, language, policy, offer
):
    owner_client.cookies["django_language"] = language

    page = owner_client.get(reverse("accounts:settings"), headers={"accept-language": language})

    text = page.content.decode()
    assert summary(text, "portal-cancel-policy") == policy
    assert offer in summary(text, "portal-retention-offer")


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
