"""Pausar / Retomar on the screens: the subscription page, the resume preview, Assinantes' row actions,
its status filter and export, and the roles."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from subscribers.choices import SubscriptionStatus
from subscribers.services import subscription_pause
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

S = SubscriptionStatus


@pytest.fixture
def subscription(merchant):
    now = timezone.now()
    return SubscriptionFactory(
        merchant=merchant,
        customer=CustomerFactory(merchant=merchant, name="Carla Dias"),
        plan=PlanFactory(merchant=merchant, price=3000),
        billing_cycle_anchor=now - dt.timedelta(days=20),
        current_period_start=now - dt.timedelta(days=20),
        current_period_end=now + dt.timedelta(days=10),
        next_invoice_at=now + dt.timedelta(days=10),
    )


def _url(name, subscription):
    return reverse(f"subscribers:{name}", args=[subscription.pk])


def test_owner_pauses_from_the_page_and_sees_it_paused(client, owner, subscription):
    client.force_login(owner)
    assert 'data-action="pause"' in client.get(subscription.get_absolute_url()).content.decode()

    response = client.post(
        _url("subscription_pause", subscription), {"when": "now", "resume_mode": "continue"}
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.PAUSED
    content = client.get(subscription.get_absolute_url()).content.decode()
    assert "Pausada desde" in content
    assert 'data-action="resume"' in content
    assert 'data-action="pause"' not in content
    upcoming = client.get(reverse("billing:subscription_upcoming_invoices", args=[subscription.pk]))
    assert "Assinatura pausada: nenhuma fatura até ser retomada." in upcoming.content.decode()


def test_pause_form_refuses_a_past_date_with_the_services_message(client, owner, subscription):
    client.force_login(owner)

    response = client.post(
        _url("subscription_pause", subscription),
        {"when": "date", "at_date": timezone.localdate().isoformat(), "resume_mode": "continue"},
    )

    assert response.status_code == 200
    assert "Escolha uma data futura" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


def test_resume_page_previews_each_mode(client, owner, subscription):
    subscription_pause(subscription=subscription, actor=owner)
    client.force_login(owner)

    page = client.get(_url("subscription_resume", subscription)).content.decode()
    new_period = client.get(_url("subscription_resume_preview", subscription), {"mode": "new_period"})

    assert "Nada é cobrado na retomada" in page
    assert "Cobrado agora: R$\xa030,00" in new_period.content.decode()


def test_viewer_may_not_pause(client, viewer, subscription):
    client.force_login(viewer)

    assert client.post(_url("subscription_pause", subscription), {"when": "now"}).status_code == 403
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


def test_assinantes_offers_resume_on_paused_rows_and_filters_and_exports_by_status(
    client, owner, merchant, subscription
):
    other = SubscriptionFactory(
        merchant=merchant, customer=CustomerFactory(merchant=merchant, name="Davi Reis")
    )
    subscription_pause(subscription=subscription, actor=owner)
    client.force_login(owner)

    content = client.get(reverse("subscribers:subscriber_list")).content.decode()
    assert 'data-row-action="resume"' in content
    assert 'data-row-action="pause"' in content  # the other, active row

    paused = client.get(reverse("subscribers:subscriber_list"), {"status": "paused"}).content.decode()
    assert "Carla Dias" in paused and other.customer.name not in paused

    export = client.get(reverse("subscribers:subscriber_export"), {"status": "paused"})
    rows = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "Carla Dias" in rows[1] and "Pausada" in rows[1]
