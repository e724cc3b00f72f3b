"""Automations as a merchant clicks them: create a provider integration (its token never shown back),
a rule that pushes canceled customers to a list, send a test, see it in the run log — against a real
receiver on 127.0.0.1; then a real cancellation runs the rule through the outbox consumer."""

import json

import pytest
from playwright.sync_api import expect

from notifications.automations import runner
from notifications.automations.models import Automation, ProviderIntegration
from subscribers.services import subscription_cancel
from tests.factories import SubscriptionFactory
from tests.notifications.receiver import running_receiver

TOKEN = "Bearer tok_navegador_5678"


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_TIMEOUT = 5
    with running_receiver() as receiver:
        yield receiver


def test_create_an_integration_and_a_rule_send_a_test_and_see_the_run_log(
    page, login, owner, merchant, receiver
):
    login(owner)

    page.get_by_role("link", name="Integrações").click()
    page.get_by_role("link", name="Nova integração").first.click()
    page.get_by_label("Nome").fill("Minha lista")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Cabeçalho de autenticação").fill("X-Api-Key")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("Integração criada.")).to_be_visible()
    expect(page.locator("#token-masked")).to_have_text("••••5678")
    page.get_by_role("link", name="Editar").click()
    assert TOKEN not in page.content()
    integration = ProviderIntegration.objects.get(merchant=merchant)

    page.get_by_role("link", name="Automações").click()
    page.get_by_role("link", name="Nova automação").first.click()
    page.get_by_label("Nome").fill("Reconquista")
    page.get_by_label("Gatilho").select_option("canceled_by_customer")
    page.locator("#id_action").select_option("provider")
    expect(page.get_by_label("URL do webhook")).to_be_hidden()
    page.get_by_label("Integração").select_option(str(integration.pk))
    page.get_by_label("Lista", exact=True).fill("cancelados")
    page.get_by_label("Tags").fill("winback")
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("Automação criada.")).to_be_visible()
    page.get_by_role("button", name="Enviar teste").click()
    expect(page.get_by_text("Teste executado com sucesso.")).to_be_visible()
    log = page.locator("#run-log")
    expect(log).to_contain_text("subscription.canceled")
    expect(log).to_contain_text("Teste")
    expect(log).to_contain_text("Executada")
    (request,) = receiver.requests
    assert request.headers["x-api-key"] == TOKEN
    assert json.loads(request.body)["list"] == "cancelados"

    # A real cancellation by the customer, then the worker's pass.
    subscription = SubscriptionFactory(merchant=merchant)
    subscription_cancel(subscription=subscription, actor=owner, origin="customer", reason="caro")
    runner.automations_run(sleep=lambda s: None)
    page.reload()
    expect(page.locator("#run-log tbody tr")).to_have_count(2)
    expect(page.locator("#run-log")).to_contain_text("Evento")
    assert json.loads(receiver.requests[1].body)["email"] == subscription.customer.email
    assert Automation.objects.get().last_error == ""
