"""The Próximas faturas card and the Simular inadimplência panel on a subscription's page: read-only, for
every role that sees the subscription, in Portuguese and English."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from tests.factories import MembershipFactory, PlanFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
DECLINED = "4000000000000002"


@pytest.fixture
def subscription(merchant):
    now = timezone.now()
    return SubscriptionFactory(
        merchant=merchant,
        plan=PlanFactory(merchant=merchant, name="Digital", price=4990),
        billing_cycle_anchor=now - dt.timedelta(days=20),
        current_period_start=now - dt.timedelta(days=20),
        current_period_end=now + dt.timedelta(days=10),
        next_invoice_at=now + dt.timedelta(days=10),
        payment_token=DECLINED,
    )


def test_the_subscription_page_loads_the_card_by_htmx(client, owner, subscription):
    client.force_login(owner)

    body = client.get(subscription.get_absolute_url()).content.decode()

    url = reverse("billing:subscription_upcoming_invoices", args=[subscription.pk])
    assert f'hx-get="{url}"' in body


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_sees_the_twelve_next_invoices(client, merchant, subscription, role):
    user = UserFactory(username=f"upcoming-{role}")
    MembershipFactory(user=user, merchant=merchant, role=role)
    client.force_login(user)
    url = reverse("billing:subscription_upcoming_invoices", args=[subscription.pk])

    partial = client.get(url, **HTMX)
    page = client.get(url)

    assert partial.status_code == page.status_code == 200
    assert partial.content.decode().count('class="upcoming-invoice"') == 12
    assert "<html" not in partial.content.decode()
    assert "Próximas faturas" in page.content.decode() and "<html" in page.content.decode()


def test_the_card_is_read_only(client, owner, subscription):
    client.force_login(owner)
    url = reverse("billing:subscription_upcoming_invoices", args=[subscription.pk])

    assert client.post(url).status_code == 405
    assert "<form" not in client.get(url, **HTMX).content.decode()


def test_the_card_costs_a_few_queries(client, owner, subscription, django_assert_max_num_queries):
    client.force_login(owner)
    url = reverse("billing:subscription_upcoming_invoices", args=[subscription.pk])

    # A fixed number, whatever the number of invoices previewed: sign-in and the subscription (4), the
    # schedule, the invoices billed so far and the installments among them (4), the price version, the
    # credit balance and the read-only savepoint.
    with django_assert_max_num_queries(14):
        client.get(url, **HTMX)


def test_the_simulation_panel_shows_retries_status_changes_and_e_mails(client, viewer, subscription):
    client.force_login(viewer)
    url = reverse("billing:subscription_dunning_simulation", args=[subscription.pk])

    body = client.get(url, **HTMX).content.decode()

    assert 'data-outcome="ended"' in body
    assert body.count('data-kind="failed"') == 3
    assert "Ativa → <strong>Pagamento pendente</strong>" in body
    assert "Pagamento recusado" in body  # the payment-failed e-mail
    assert "<form" not in body


def test_the_panels_speak_english(client, owner, subscription):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    upcoming = client.get(
        reverse("billing:subscription_upcoming_invoices", args=[subscription.pk]),
        **HTMX,
    ).content.decode()
    simulation = client.get(
        reverse("billing:subscription_dunning_simulation", args=[subscription.pk]),
        **HTMX,
    ).content.decode()

    assert "Upcoming invoices" in upcoming
    assert "Simulate" in simulation
