"""Webhooks as a merchant clicks them: create an endpoint, see its secret once, send a test, read the log,
resend — against a real receiver on 127.0.0.1."""

import re

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from notifications.models import WebhookEndpoint
from notifications.webhooks.services import deliveries, dispatch
from tests.notifications.receiver import running_receiver


@pytest.fixture
def receiver(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_TIMEOUT = 5
    # The worker, in-process: "Enviar teste" and "Reenviar" deliver before the page comes back.
    monkeypatch.setattr(
        deliveries, "enqueue_delivery_run", lambda: dispatch.webhooks_run(sleep=lambda s: None)
    )
    with running_receiver() as receiver:
        yield receiver


def test_create_an_endpoint_send_a_test_and_resend_it(page, login, owner, merchant, receiver):
    login(owner)

    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name="Novo endpoint").first.click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Descrição").fill("Receptor local")
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("Endpoint criado.")).to_be_visible()
    secret = page.locator("#secret-value").input_value()
    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert secret == endpoint.secret and secret.startswith("whsec_")
    page.reload()
    expect(page.locator("#secret-reveal")).to_have_count(0)
    expect(page.locator("#secret-masked")).to_have_text(endpoint.masked_secret)
    assert secret not in page.content()

    page.get_by_role("button", name="Enviar teste").click()
    expect(page.get_by_text("Evento de teste enfileirado.")).to_be_visible()
    log = page.locator("#delivery-log")
    expect(log).to_contain_text("webhook.test")
    expect(log).to_contain_text("Entregue")
    expect(log).to_contain_text("200")
    (first,) = receiver.requests
    assert Webhook(secret).verify(first.body, first.headers)["type"] == "webhook.test"

    log.locator("tbody").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("webhook.test")
    expect(page.locator("#attempts")).to_contain_text("200")
    page.get_by_role("button", name="Reenviar").click()

    expect(page.get_by_text("Entrega reenviada com o mesmo webhook-id.")).to_be_visible()
    expect(page.locator("#delivery-log tbody tr")).to_have_count(2)
    expect(page.locator("#delivery-log")).to_contain_text("Reenvio")
    assert len(receiver.requests) == 2
    assert receiver.requests[1].headers["webhook-id"] == first.headers["webhook-id"]
    Webhook(secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
    expect(page.locator("#delivery-log")).not_to_contain_text(re.compile("Falhou"))
