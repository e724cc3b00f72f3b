"""Configurações > Pagamentos, Eventos recebidos (Reprocessar single and bulk, the failed banner) and
Ressincronizar, per role; the Stripe API is the local stand-in."""

import pytest
from django.urls import reverse

from billing.choices import PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderConnection, ProviderEvent
from subscribers.choices import SubscriptionStatus
from tests.factories import ProviderConnectionFactory, ProviderEventFactory, SubscriptionFactory
from tests.stripe_server import fixture

pytestmark = pytest.mark.django_db


def test_connecting_stripe_checks_the_key_and_never_shows_it_back(client, owner, merchant, stripe_server):
    client.force_login(owner)
    url = reverse("billing:providers")
    response = client.post(
        url,
        {
            "op": "connect",
            "api_key": "rk_test_51Secret9876",
            "webhook_secret": "whsec_abc12345",
            "mode": "mirror",
        },
    )
    assert response.status_code == 302
    connection = ProviderConnection.objects.get(merchant=merchant, provider=PaymentProvider.STRIPE)
    assert connection.account_id == "acct_1Nv0FGQ9RKHgCVdK"
    assert stripe_server.calls("GET", "/v1/account")[-1][2]["Authorization"] == "Bearer rk_test_51Secret9876"
    page = client.get(url).content.decode()
    assert "rk_test_51Secret9876" not in page and "whsec_abc12345" not in page
    assert "••••9876" in page
    assert str(connection.webhook_token) in page


def test_a_key_stripe_refuses_is_not_saved(client, owner, merchant, stripe_server):
    client.force_login(owner)
    stripe_server.fail_with(401)
    client.post(
        reverse("billing:providers"),
        {"op": "connect", "api_key": "rk_test_bad", "webhook_secret": "whsec_x", "mode": "mirror"},
    )
    assert not ProviderConnection.objects.filter(merchant=merchant).exists()


def test_rotate_and_disconnect(client, owner, merchant, stripe_server):
    client.force_login(owner)
    connection = ProviderConnectionFactory(merchant=merchant)
    url = reverse("billing:providers")
    client.post(url, {"op": "rotate", "api_key": "", "webhook_secret": "whsec_rotated99"})
    connection.refresh_from_db()
    assert connection.webhook_secret == "whsec_rotated99" and connection.webhook_secret_last4 == "ed99"
    client.post(url, {"op": "disconnect"})
    connection.refresh_from_db()
    assert not connection.is_active and connection.api_key == "" and connection.webhook_secret == ""


def test_support_cannot_change_payments(client, support, merchant, stripe_server):
    client.force_login(support)
    client.post(
        reverse("billing:providers"),
        {"op": "connect", "api_key": "rk_test_51X", "webhook_secret": "whsec_y", "mode": "mirror"},
    )
    client.post(reverse("billing:providers"), {"op": "paypal"})
    assert not ProviderConnection.objects.filter(merchant=merchant).exists()


def test_paypal_manual_tracking_is_switched_on_without_credentials(client, owner, merchant):
    client.force_login(owner)
    client.post(reverse("billing:providers"), {"op": "paypal"})
    paypal = ProviderConnection.objects.get(merchant=merchant, provider=PaymentProvider.PAYPAL)
    assert paypal.is_active and paypal.api_key == "" and paypal.mode == ""


def test_received_events_list_banner_and_reprocessar(client, owner, merchant, other_merchant):
    client.force_login(owner)
    failed = ProviderEventFactory(merchant=merchant, status=PE.FAILED, last_error="Traceback boom")
    ProviderEventFactory(merchant=merchant, status=PE.PROCESSED, type="invoice.paid")
    ProviderEventFactory(merchant=other_merchant, status=PE.FAILED, type="customer.updated")
    page = client.get(reverse("billing:provider_event_list"))
    body = page.content.decode()
    assert 'id="failed-events-banner"' in body and "customer.updated" not in body
    filtered = client.get(reverse("billing:provider_event_list"), {"type": "invoice."}).content.decode()
    assert "invoice.paid" in filtered and failed.type not in filtered
    detail = client.get(failed.get_absolute_url()).content.decode()
    assert "Traceback boom" in detail and failed.body.replace('"', "&quot;") in detail

    client.post(reverse("billing:provider_event_bulk_reprocess"), {"failed": "1"})
    failed.refresh_from_db()
    assert failed.status == PE.PENDING
    assert ProviderEvent.objects.filter(merchant=other_merchant, status=PE.FAILED).count() == 1


def test_the_bulk_buttons_show_only_where_they_can_act(client, owner, merchant, other_merchant):
    """No events: neither button (another merchant's failure does not count); events but no failure: only
    Reprocessar selecionados; a failure: both."""
    client.force_login(owner)
    url = reverse("billing:provider_event_list")
    ProviderEventFactory(merchant=other_merchant, status=PE.FAILED)
    body = client.get(url).content.decode()
    assert 'id="reprocess-selected"' not in body and 'id="reprocess-failed"' not in body
    ProviderEventFactory(merchant=merchant, status=PE.PROCESSED)
    body = client.get(url).content.decode()
    assert 'id="reprocess-selected"' in body and 'id="reprocess-failed"' not in body
    ProviderEventFactory(merchant=merchant, status=PE.FAILED)
    body = client.get(url).content.decode()
    assert 'id="reprocess-selected"' in body and 'id="reprocess-failed"' in body


def test_viewer_cannot_reprocess(client, viewer, merchant):
    client.force_login(viewer)
    failed = ProviderEventFactory(merchant=merchant, status=PE.FAILED)
    response = client.post(reverse("billing:provider_event_bulk_reprocess"), {"ids": [failed.pk]})
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == PE.FAILED


def test_ressincronizar_from_the_subscription_page(client, owner, merchant, stripe_server):
    client.force_login(owner)
    ProviderConnectionFactory(merchant=merchant)
    subscription = SubscriptionFactory(
        merchant=merchant, provider=PaymentProvider.STRIPE, provider_id="sub_1PzQ8kLkdIwHu7ix0abcDEF1"
    )
    stripe_server.put(fixture("subscription", status="past_due"))
    page = client.get(subscription.get_absolute_url()).content.decode()
    assert 'id="resync-button"' in page
    url = reverse("billing:subscription_resync", args=[subscription.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"form_token": client.get(url).context.get("form_token", "")})
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE


def test_ressincronizar_a_subscription_stripe_does_not_bill_is_refused_with_the_reason(
    client, owner, merchant, stripe_server
):
    client.force_login(owner)
    ProviderConnectionFactory(merchant=merchant)
    subscription = SubscriptionFactory(merchant=merchant)
    url = reverse("billing:subscription_resync", args=[subscription.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == subscription.get_absolute_url()
    assert "não é cobrada pela Stripe" in response.content.decode()
    response = client.post(url, {"form_token": "x"}, follow=True)
    assert stripe_server.calls("GET", f"/v1/subscriptions/{subscription.provider_id}") == []
