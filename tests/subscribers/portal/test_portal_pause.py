"""Pausar / Retomar in Minha assinatura: offered only where the merchant lets customers pause, through the
pause services with the customer as actor (timeline "pelo cliente (portal)", outbox events)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from tests.factories import BillingSettingsFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def url(name, subscription):
    return reverse(f"portal:{name}", kwargs={"slug": subscription.merchant.slug, "pk": subscription.pk})


def home(client, merchant) -> str:
    return client.get(reverse("portal:home", kwargs={"slug": merchant.slug})).content.decode()


@pytest.fixture
def may_pause(merchant):
    return BillingSettingsFactory(merchant=merchant, customers_may_pause=True)


def test_without_the_merchants_permission_there_is_no_pause(portal_client, merchant, customer, subscription):
    client = portal_client(customer)

    assert url("pause", subscription) not in home(client, merchant)
    assert client.get(url("pause", subscription)).status_code == 404
    assert client.post(url("pause", subscription), {"when": "now"}).status_code == 404
    assert client.post(url("resume", subscription)).status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.pause_at is None


def test_pause_now_shows_until_when_access_runs_then_pauses_as_the_customer(
    portal_client, merchant, customer, subscription, may_pause, owner_client
):
    client = portal_client(customer)
    assert url("pause", subscription) in home(client, merchant)
    page = client.get(url("pause", subscription)).content.decode()
    access_date = timezone.localtime(subscription.current_period_end, merchant.tzinfo).strftime("%d/%m/%Y")
    assert "Agora — acesso até " + access_date in page
    assert "No fim do período atual — acesso até " + access_date in page
    assert "Em uma data escolhida" not in page

    response = client.post(url("pause", subscription), {"when": "now"})

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.PAUSED and subscription.resume_at is None
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.PAUSED)
    assert entry.actor is None and entry.data["channel"] == "portal" and entry.data["customer"] == customer.pk
    assert Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_PAUSED).count() == 1
    after = home(client, merchant)
    assert url("resume", subscription) in after and url("pause", subscription) not in after


def test_a_date_is_not_among_the_customers_options(portal_client, customer, subscription, may_pause):
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()

    response = portal_client(customer).post(url("pause", subscription), {"when": "date", "at_date": tomorrow})

    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.pause_at is None


def test_resume_shows_what_it_charges_then_resumes_by_hand(
    portal_client, merchant, customer, subscription, may_pause
):
    client = portal_client(customer)
    client.post(url("pause", subscription), {"when": "now"})

    page = client.get(url("resume", subscription)).content.decode()
    response = client.post(url("resume", subscription))

    assert 'id="resume-charge-now"' in page and "Nada é cobrado na retomada" in page
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.RESUMED)
    assert entry.data["channel"] == "portal"
    assert Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_RESUMED).count() == 1


def test_a_pause_at_period_end_is_scheduled_and_can_be_taken_back(
    portal_client, merchant, customer, subscription, may_pause
):
    client = portal_client(customer)

    client.post(url("pause", subscription), {"when": "period_end"})
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.pause_at == subscription.current_period_end

    client.post(url("resume", subscription))

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.pause_at is None
    kinds = list(
        SubscriptionEvent.objects.filter(subscription=subscription).values_list("data__channel", flat=True)
    )
    assert kinds.count("portal") == 2


def test_a_subscription_that_cannot_be_paused_is_refused(portal_client, customer, subscription, may_pause):
    client = portal_client(customer)
    client.post(url("cancel", subscription), {"reason": "other"})

    page = client.get(url("pause", subscription)).content.decode()
    response = client.post(url("pause", subscription), {"when": "now"})

    assert "não pode ser pausada" in page
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
