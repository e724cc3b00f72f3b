"""Notificações > Webhooks: endpoints, the one-time secret, the delivery log, test, resend, the banner."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from notifications.catalog import EVENT_TYPES, TEST_EVENT_TYPE
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus, DisabledReason
from notifications.webhooks.services import deliveries
from tests.factories import (
    PlanFactory,
    WebhookDeliveryAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("notifications:endpoint_list")
CREATE_URL = reverse("notifications:endpoint_create")
EVENTS_URL = reverse("notifications:event_types")


def detail_url(endpoint):
    return reverse("notifications:endpoint_detail", args=[endpoint.pk])


def create(client, **data):
    values = {"url": "https://hooks.example.com/recorrente", "description": "ERP", "all_event_types": "on"}
    values.update(data)
    values.setdefault("is_active", "on")
    return client.post(CREATE_URL, {k: v for k, v in values.items() if v is not None})


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(deliveries, "enqueue_delivery_run", lambda: calls.append(True))
    return calls


# --- the list -------------------------------------------------------------------------------------------
def test_the_list_shows_the_merchants_endpoints_with_their_state(owner_client, merchant, other_merchant):
    WebhookEndpointFactory(merchant=merchant, url="https://erp.example.com/hook")
    WebhookEndpointFactory(
        merchant=merchant, url="https://gone.example.com/hook", is_active=False, disabled_reason="gone"
    )
    WebhookEndpointFactory(merchant=other_merchant, url="https://secret.example.com/hook")

    content = owner_client.get(LIST_URL).content.decode()

    assert "erp.example.com" in content and "gone.example.com" in content
    assert "secret.example.com" not in content
    assert "Desativado automaticamente" in content


def test_list_search_and_active_filter(owner_client, merchant):
    WebhookEndpointFactory(merchant=merchant, url="https://erp.example.com/hook", description="ERP")
    WebhookEndpointFactory(
        merchant=merchant, url="https://crm.example.com/hook", description="CRM", is_active=False
    )

    def urls(**params):
        return [r.record.url for r in owner_client.get(LIST_URL, params).context["table"].rows]

    assert urls(q="crm") == ["https://crm.example.com/hook"]
    assert urls(is_active="true") == ["https://erp.example.com/hook"]
    assert urls(is_active="false") == ["https://crm.example.com/hook"]


def test_the_list_runs_a_bounded_number_of_queries(owner_client, merchant, django_assert_max_num_queries):
    for _ in range(30):
        endpoint = WebhookEndpointFactory(merchant=merchant)
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.FAILED)

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL)

    assert len(response.context["table"].page.object_list) == 25


# --- create and the one-time secret -------------------------------------------------------------------------
def test_creating_shows_the_secret_once_then_only_a_masked_prefix(owner_client, merchant):
    response = create(owner_client, description="Meu ERP")

    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert response.status_code == 302 and response["Location"] == detail_url(endpoint)
    assert endpoint.secret.startswith("whsec_") and endpoint.description == "Meu ERP"

    first = owner_client.get(detail_url(endpoint)).content.decode()
    assert endpoint.secret in first
    assert 'id="secret-reveal"' in first

    second = owner_client.get(detail_url(endpoint)).content.decode()
    assert endpoint.secret not in second
    assert endpoint.masked_secret in second
    assert endpoint.secret[10:] not in second


def test_creating_with_chosen_event_types(owner_client, merchant):
    create(owner_client, all_event_types=None, event_types=["invoice.paid", "payment.failed"])

    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert not endpoint.all_event_types
    assert endpoint.event_types == ["invoice.paid", "payment.failed"]
    assert endpoint.receives("invoice.paid") and not endpoint.receives("invoice.created")


def test_choosing_no_event_type_is_refused(owner_client, merchant):
    response = create(owner_client, all_event_types=None)

    assert response.status_code == 200
    assert "Escolha ao menos um evento" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/",
        "http://localhost:9000/",
    ],
)
def test_the_form_refuses_urls_the_ssrf_rule_refuses(owner_client, url):
    response = create(owner_client, url=url)

    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    assert response.context["form"].errors["url"]


def test_the_form_accepts_http_localhost_with_the_switch(owner_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True

    create(owner_client, url="http://localhost:9000/hook")

    assert WebhookEndpoint.objects.get().url == "http://localhost:9000/hook"


def test_a_viewer_cannot_create_edit_or_send(member_client, viewer, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    client = member_client(viewer)

    assert client.get(CREATE_URL).status_code == 403
    assert create(client).status_code == 403
    assert client.post(reverse("notifications:endpoint_send_test", args=[endpoint.pk])).status_code == 403
    assert client.get(detail_url(endpoint)).status_code == 200
    assert WebhookEndpoint.objects.count() == 1
    content = client.get(detail_url(endpoint)).content.decode()
    assert reverse("notifications:endpoint_send_test", args=[endpoint.pk]) not in content
    assert 'id="bulk-resend-form"' not in content and 'form="bulk-resend-form"' not in content
    assert CREATE_URL not in client.get(LIST_URL).content.decode()


def test_another_merchants_endpoint_is_404(owner_client, other_merchant):
    foreign = WebhookEndpointFactory(merchant=other_merchant)
    delivery = WebhookDeliveryFactory(merchant=other_merchant)

    assert owner_client.get(detail_url(foreign)).status_code == 404
    assert (
        owner_client.post(reverse("notifications:endpoint_send_test", args=[foreign.pk])).status_code == 404
    )
    assert owner_client.post(reverse("notifications:delivery_resend", args=[delivery.pk])).status_code == 404


# --- edit, rotate, delete ---------------------------------------------------------------------------------
def test_editing_never_shows_the_secret(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    url = reverse("notifications:endpoint_update", args=[endpoint.pk])

    assert endpoint.secret not in owner_client.get(url).content.decode()
    response = owner_client.post(
        url, {"url": "https://new.example.com/x", "description": "Novo", "all_event_types": "on"}
    )

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.url == "https://new.example.com/x" and not endpoint.is_active
    assert endpoint.secret not in owner_client.get(detail_url(endpoint)).content.decode()


def test_reactivating_clears_an_automatic_disable(owner_client, merchant):
    endpoint = WebhookEndpointFactory(
        merchant=merchant,
        is_active=False,
        disabled_reason=DisabledReason.FAILING,
        disabled_at=timezone.now(),
        failing_since=timezone.now() - dt.timedelta(days=5),
        consecutive_failed_deliveries=20,
    )

    owner_client.post(
        reverse("notifications:endpoint_update", args=[endpoint.pk]),
        {"url": endpoint.url, "all_event_types": "on", "is_active": "on"},
    )

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == "" and endpoint.disabled_at is None
    assert endpoint.failing_since is None and endpoint.consecutive_failed_deliveries == 0


def test_deactivating_ends_pending_deliveries(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    pending = WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint)

    owner_client.post(
        reverse("notifications:endpoint_update", args=[endpoint.pk]),
        {"url": endpoint.url, "all_event_types": "on"},
    )

    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.FAILED


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace_period(
    owner_client, merchant, settings
):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    endpoint = WebhookEndpointFactory(merchant=merchant)
    old = endpoint.secret
    url = reverse("notifications:endpoint_rotate_secret", args=[endpoint.pk])
    assert "24 horas" in owner_client.get(url).content.decode()

    response = owner_client.post(url)

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at - endpoint.secret_rotated_at == dt.timedelta(hours=24)
    assert endpoint.signing_secrets(timezone.now()) == [endpoint.secret, old]
    first = owner_client.get(detail_url(endpoint)).content.decode()
    assert endpoint.secret in first and old not in first
    assert endpoint.secret not in owner_client.get(detail_url(endpoint)).content.decode()


def test_deleting_removes_the_endpoint_and_its_log(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    delivery = WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint)
    url = reverse("notifications:endpoint_delete", args=[endpoint.pk])
    assert "1 entrega(s)" in owner_client.get(url).content.decode()

    response = owner_client.post(url)

    assert response["Location"] == LIST_URL
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert Event.objects.filter(pk=delivery.event_id).exists()


# --- test, resend -----------------------------------------------------------------------------------------
def test_send_test_creates_a_test_event_for_this_endpoint_only(
    owner_client, merchant, enqueued, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    other = WebhookEndpointFactory(merchant=merchant)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("notifications:endpoint_send_test", args=[endpoint.pk]))

    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint and delivery.origin == DeliveryOrigin.TEST
    assert delivery.event.type == TEST_EVENT_TYPE and delivery.event.processed_at is not None
    assert not other.deliveries.exists()
    assert enqueued == [True]


def test_send_test_is_refused_for_an_inactive_endpoint(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant, is_active=False)

    response = owner_client.post(reverse("notifications:endpoint_send_test", args=[endpoint.pk]))

    assert response.status_code == 302
    assert not WebhookDelivery.objects.exists()
    assert "desativado" in owner_client.get(response["Location"]).content.decode()


def test_single_resend_is_a_new_delivery_of_the_same_event(owner_client, owner, merchant, enqueued):
    original = WebhookDeliveryFactory(merchant=merchant, status=DeliveryStatus.FAILED, attempt_count=8)

    response = owner_client.post(reverse("notifications:delivery_resend", args=[original.pk]))

    assert response["Location"] == detail_url(original.endpoint)
    resend = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert resend.event == original.event and resend.endpoint == original.endpoint
    assert resend.origin == DeliveryOrigin.RESEND and resend.resend_of == original
    assert resend.status == DeliveryStatus.PENDING and resend.attempt_count == 0
    assert resend.created_by == owner


def test_a_pending_delivery_is_not_resent(owner_client, merchant):
    pending = WebhookDeliveryFactory(merchant=merchant)

    owner_client.post(reverse("notifications:delivery_resend", args=[pending.pk]))

    assert WebhookDelivery.objects.count() == 1


def test_bulk_resend_of_the_selected_deliveries(owner_client, merchant, other_merchant, enqueued):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    chosen = [
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.SUCCEEDED)
        for _ in range(2)
    ]
    WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.FAILED)
    foreign = WebhookDeliveryFactory(merchant=other_merchant, status=DeliveryStatus.FAILED)

    owner_client.post(
        reverse("notifications:endpoint_resend", args=[endpoint.pk]),
        {"delivery": [chosen[0].pk, chosen[1].pk, foreign.pk], "selected": "1"},
    )

    resent = WebhookDelivery.objects.filter(origin=DeliveryOrigin.RESEND)
    assert sorted(resent.values_list("resend_of_id", flat=True)) == sorted(d.pk for d in chosen)
    assert not WebhookDelivery.objects.filter(resend_of=foreign).exists()


def test_bulk_resend_of_all_failed(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    failed = [
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.FAILED)
        for _ in range(3)
    ]
    WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.SUCCEEDED)
    url = reverse("notifications:endpoint_resend", args=[endpoint.pk])
    assert "Reenviar todas as falhas" in owner_client.get(url).content.decode()

    owner_client.post(url, {"all_failed": "1"})

    resent = WebhookDelivery.objects.filter(origin=DeliveryOrigin.RESEND)
    assert sorted(resent.values_list("resend_of_id", flat=True)) == [d.pk for d in failed]


def test_bulk_resend_with_nothing_selected_says_so(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)

    response = owner_client.post(
        reverse("notifications:endpoint_resend", args=[endpoint.pk]), {"selected": "1"}
    )

    assert "Nenhuma entrega para reenviar." in owner_client.get(response["Location"]).content.decode()


# --- the delivery log and a delivery's page ----------------------------------------------------------------
def test_the_log_shows_each_delivery_with_its_last_attempt(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    WebhookDeliveryFactory(
        merchant=merchant,
        endpoint=endpoint,
        status=DeliveryStatus.FAILED,
        attempt_count=3,
        last_attempt_at=timezone.now(),
        last_status_code=503,
        last_latency_ms=250,
        last_response_excerpt="Service Unavailable",
    )

    content = owner_client.get(detail_url(endpoint)).content.decode()

    assert "invoice.paid" in content and "503" in content and "250 ms" in content
    assert "Service Unavailable" in content and "Falhou" in content


def test_the_log_filters_by_status(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    failed = WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.FAILED)
    WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.SUCCEEDED)

    response = owner_client.get(detail_url(endpoint), {"status": "failed"})

    assert [row.record.pk for row in response.context["table"].rows] == [failed.pk]


def test_the_log_page_runs_a_bounded_number_of_queries(owner_client, merchant, django_assert_max_num_queries):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    for _ in range(40):
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, status=DeliveryStatus.FAILED)

    with django_assert_max_num_queries(12):
        response = owner_client.get(detail_url(endpoint))

    assert len(response.context["table"].page.object_list) == 25


def test_the_log_answers_htmx_with_the_partial(owner_client, merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint)

    response = owner_client.get(detail_url(endpoint), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert 'id="delivery-log"' in content and "<html" not in content


def test_a_delivery_page_shows_the_body_and_every_attempt(owner_client, merchant):
    delivery = WebhookDeliveryFactory(merchant=merchant, status=DeliveryStatus.FAILED, attempt_count=2)
    WebhookDeliveryAttemptFactory(
        delivery=delivery, number=1, status_code=500, response_excerpt="erro interno"
    )
    WebhookDeliveryAttemptFactory(
        delivery=delivery, number=2, status_code=None, error="Tempo de resposta esgotado"
    )

    content = owner_client.get(delivery.get_absolute_url()).content.decode()

    assert str(delivery.event.uid) in content
    assert "erro interno" in content and "Tempo de resposta esgotado" in content
    assert "&quot;type&quot;: &quot;invoice.paid&quot;" in content
    assert delivery.endpoint.secret not in content


# --- the banner -------------------------------------------------------------------------------------------
def test_an_automatically_disabled_endpoint_shows_a_banner_on_every_page(
    owner_client, merchant, other_merchant
):
    endpoint = WebhookEndpointFactory(
        merchant=merchant,
        url="https://erp.example.com/hook",
        is_active=False,
        disabled_reason=DisabledReason.GONE,
        disabled_at=timezone.now(),
    )
    WebhookEndpointFactory(merchant=merchant, url="https://off.example.com/hook", is_active=False)
    WebhookEndpointFactory(
        merchant=other_merchant, url="https://other.example.com/hook", is_active=False, disabled_reason="gone"
    )
    PlanFactory(merchant=merchant)

    for url in (reverse("dashboard:index"), reverse("plans:plan_list"), LIST_URL):
        content = owner_client.get(url).content.decode()
        assert "O endpoint de webhook <strong>https://erp.example.com/hook</strong> foi desativado" in content
        assert detail_url(endpoint) in content
        assert "off.example.com" not in content.split("webhook-alert")[-1][:500]
        assert "other.example.com" not in content


def test_no_banner_when_every_endpoint_is_healthy(owner_client, merchant):
    WebhookEndpointFactory(merchant=merchant)

    assert "webhook-alert" not in owner_client.get(reverse("dashboard:index")).content.decode()


# --- Notificações > Eventos ---------------------------------------------------------------------------------
def test_the_events_page_documents_every_type_with_a_sample_and_the_envelope(member_client, viewer):
    content = member_client(viewer).get(EVENTS_URL).content.decode()

    for event_type in EVENT_TYPES:
        assert f'<code class="me-3">{event_type.type}</code>' in content
    assert "webhook-signature" in content and "whsec_" in content
    assert "&quot;version&quot;: 1" in content


def test_the_navigation_has_webhooks_and_events(owner_client):
    content = owner_client.get(reverse("dashboard:index")).content.decode()

    assert f'href="{LIST_URL}"' in content and f'href="{EVENTS_URL}"' in content
