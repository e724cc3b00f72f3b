"""Notificações > Automações and Integrações: screens, forms, permissions, secrets never shown back."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from notifications.automations.choices import ActionKind, RunOrigin, RunStatus, Trigger
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration
from tests.factories import (
    AutomationFactory,
    AutomationRunFactory,
    MembershipFactory,
    PlanFactory,
    ProviderIntegrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
LIST_URL = reverse("notifications:automation_list")
CREATE_URL = reverse("notifications:automation_create")
INTEGRATIONS_URL = reverse("notifications:integration_list")
INTEGRATION_CREATE_URL = reverse("notifications:integration_create")
TOKEN = "Bearer sk_live_NUNCA_MOSTRAR_9876"


def url(name, obj):
    return reverse(f"notifications:{name}", args=[obj.pk])


def form_data(**overrides):
    data = {
        "name": "Reconquista",
        "trigger": Trigger.CANCELED_BY_CUSTOMER,
        "action": ActionKind.WEBHOOK,
        "webhook_url": "https://crm.example.com/hook",
        "is_enabled": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- list -----------------------------------------------------------------------------------------
def test_the_list_shows_status_trigger_action_error_badge_and_last_run(
    owner_client, merchant, other_merchant
):
    AutomationFactory(merchant=merchant, name="Reconquista", trigger=Trigger.CANCELED_BY_CUSTOMER)
    AutomationFactory(
        merchant=merchant,
        name="Quebrada",
        is_enabled=False,
        last_error="HTTP 500: indisponível",
        last_error_at=timezone.now(),
        last_run_at=timezone.now(),
    )
    AutomationFactory(merchant=other_merchant, name="Segredo alheio")

    content = owner_client.get(LIST_URL).content.decode()

    assert "Reconquista" in content and "Cancelada pelo cliente" in content
    assert "Ativa" in content and "Inativa" in content
    assert "automation-error" in content and "HTTP 500: indisponível" in content
    assert "Segredo alheio" not in content
    assert "&lt;span" not in content  # badges are HTML, not escaped text


def test_the_list_needs_few_queries(owner_client, merchant, django_assert_max_num_queries):
    integration = ProviderIntegrationFactory(merchant=merchant)
    for _ in range(30):
        AutomationFactory(merchant=merchant, action=ActionKind.PROVIDER, integration=integration, list_id="l")
    with django_assert_max_num_queries(10):
        assert owner_client.get(LIST_URL).status_code == 200


def test_list_filters(owner_client, merchant):
    AutomationFactory(merchant=merchant, name="Alfa", is_enabled=False)
    AutomationFactory(merchant=merchant, name="Beta", trigger=Trigger.PAST_DUE)

    off = owner_client.get(LIST_URL, {"is_enabled": "false"}).content.decode()
    past_due = owner_client.get(LIST_URL, {"trigger": Trigger.PAST_DUE}).content.decode()
    searched = owner_client.get(LIST_URL, {"q": "alf"}).content.decode()

    assert "Alfa" in off and "Beta" not in off
    assert "Beta" in past_due and "Alfa" not in past_due
    assert "Alfa" in searched and "Beta" not in searched


# --- create / edit ------------------------------------------------------------------------------------------
def test_create_a_webhook_rule_shows_its_secret_once(owner_client, merchant):
    plan = PlanFactory(merchant=merchant)

    response = owner_client.post(
        CREATE_URL,
        form_data(
            plans=[plan.pk], payment_methods=["card", "pix"], amount_min="10,00", amount_max="1.000,00"
        ),
    )

    rule = Automation.objects.get()
    assert response.status_code == 302 and response["Location"] == rule.get_absolute_url()
    assert list(rule.plans.all()) == [plan]
    assert (rule.payment_methods, rule.amount_min, rule.amount_max) == (["card", "pix"], 1000, 100000)
    first = owner_client.get(rule.get_absolute_url()).content.decode()
    again = owner_client.get(rule.get_absolute_url()).content.decode()
    assert rule.signing_secret in first
    assert rule.signing_secret not in again and rule.masked_secret in again


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount_min": "50,00", "amount_max": "10,00"}, "amount_max", "maior ou igual ao valor mínimo"),
        ({"amount_min": "abc"}, "amount_min", "Informe um valor em reais"),
        ({"webhook_url": "http://crm.example.com/hook"}, "webhook_url", "Use uma URL https://"),
        ({"webhook_url": ""}, "webhook_url", "Informe a URL do webhook"),
        ({"action": ActionKind.PROVIDER, "webhook_url": ""}, "integration", "Escolha uma integração"),
        ({"action": ActionKind.PROVIDER, "webhook_url": ""}, "list_id", "Informe a lista do provedor"),
        ({"action": ActionKind.EMAIL}, "email_kind", "Escolha o e-mail a enviar"),
        ({"trigger": ""}, "trigger", "obrigatório"),
    ],
)
def test_the_form_explains_invalid_rules_in_portuguese(owner_client, overrides, field, message):
    response = owner_client.post(CREATE_URL, form_data(**overrides))

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert not Automation.objects.exists()


def test_plans_and_integrations_of_another_merchant_are_not_choices(owner_client, other_merchant):
    plan = PlanFactory(merchant=other_merchant)
    integration = ProviderIntegrationFactory(merchant=other_merchant)

    response = owner_client.post(
        CREATE_URL,
        form_data(action=ActionKind.PROVIDER, plans=[plan.pk], integration=integration.pk, list_id="l"),
    )

    form = response.context["form"]
    assert "plans" in form.errors and "integration" in form.errors
    assert not Automation.objects.exists()


def test_edit_a_rule_into_a_provider_action(owner_client, merchant):
    rule = AutomationFactory(merchant=merchant)
    integration = ProviderIntegrationFactory(merchant=merchant)
    assert owner_client.get(url("automation_update", rule)).status_code == 200

    response = owner_client.post(
        url("automation_update", rule),
        form_data(action=ActionKind.PROVIDER, integration=integration.pk, list_id="vip", tags="a, b ,"),
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.action, rule.integration, rule.list_id, rule.tags) == (
        "provider",
        integration,
        "vip",
        ["a", "b"],
    )
    assert rule.webhook_url == ""


def test_enable_and_disable(owner_client, merchant):
    rule = AutomationFactory(merchant=merchant)

    assert "Desativar" in owner_client.get(url("automation_toggle", rule)).content.decode()
    owner_client.post(url("automation_toggle", rule))
    rule.refresh_from_db()
    assert not rule.is_enabled
    owner_client.post(url("automation_toggle", rule))
    rule.refresh_from_db()
    assert rule.is_enabled


def test_send_test_shows_the_result_and_logs_the_run(owner_client, merchant, receiver, allow_private):
    rule = AutomationFactory(merchant=merchant, webhook_url=receiver.url)

    response = owner_client.post(url("automation_send_test", rule), follow=True)

    content = response.content.decode()
    assert "Teste executado com sucesso" in content
    run = AutomationRun.objects.get()
    assert (run.origin, run.status) == (RunOrigin.TEST, RunStatus.SUCCEEDED)
    assert 'id="run-log"' in content and "Teste" in content
    assert len(receiver.requests) == 1


def test_send_test_failure_is_shown(owner_client, merchant, receiver, allow_private):
    rule = AutomationFactory(merchant=merchant, webhook_url=receiver.url)
    receiver.respond((500, {}, b"fora do ar"))

    content = owner_client.post(url("automation_send_test", rule), follow=True).content.decode()

    assert "O teste falhou: HTTP 500: fora do ar" in content
    assert 'id="automation-error"' in content


def test_send_test_of_an_email_rule_e_mails_the_person_testing(owner_client, owner, merchant, mailoutbox):
    rule = AutomationFactory(merchant=merchant, action=ActionKind.EMAIL, email_kind="refund_issued")

    content = owner_client.post(url("automation_send_test", rule), follow=True).content.decode()

    assert "Teste executado com sucesso." in content
    assert [message.to for message in mailoutbox] == [[owner.email]]
    assert AutomationRun.objects.get().status == "succeeded"


def test_the_run_log_shows_every_run_with_its_result(owner_client, merchant):
    rule = AutomationFactory(merchant=merchant)
    AutomationRunFactory(merchant=merchant, automation=rule, last_error="HTTP 502: gateway", attempt_count=2)

    content = owner_client.get(rule.get_absolute_url()).content.decode()

    assert "subscription.canceled" in content and "HTTP 502: gateway" in content


def test_delete_removes_the_rule_and_its_runs(owner_client, merchant):
    run = AutomationRunFactory(merchant=merchant)
    rule = run.automation

    assert "1 execução" in owner_client.get(url("automation_delete", rule)).content.decode()
    response = owner_client.post(url("automation_delete", rule))

    assert response["Location"] == LIST_URL
    assert not Automation.objects.exists() and not AutomationRun.objects.exists()


# --- integrations ---------------------------------------------------------------------------------
def test_create_an_integration_and_the_token_never_appears_again(owner_client, merchant):
    response = owner_client.post(
        INTEGRATION_CREATE_URL,
        {
            "name": "Listas",
            "url": "https://lists.example.com/contacts",
            "auth_header": "X-Api-Key",
            "token": TOKEN,
        },
    )

    integration = ProviderIntegration.objects.get()
    assert response.status_code == 302
    assert integration.token() == TOKEN
    AutomationFactory(merchant=merchant, action=ActionKind.PROVIDER, integration=integration, list_id="l")
    pages = [
        INTEGRATIONS_URL,
        url("integration_detail", integration),
        url("integration_update", integration),
        url("integration_delete", integration),
        LIST_URL,
    ]
    for page in pages:
        content = owner_client.get(page).content.decode()
        assert TOKEN not in content and "sk_live" not in content, page
    edit = owner_client.get(url("integration_update", integration)).content.decode()
    assert "••••9876" in edit and "Substituir o token" in edit


def test_an_invalid_edit_does_not_echo_the_token(owner_client, merchant):
    integration = ProviderIntegrationFactory(merchant=merchant)

    response = owner_client.post(
        url("integration_update", integration),
        {"name": "x", "url": "http://nope.example.com", "auth_header": "X-Api-Key", "token": TOKEN},
    )

    assert response.status_code == 200 and TOKEN not in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"token": ""}, "token"),
        ({"auth_header": "Bad Header"}, "auth_header"),
        ({"auth_header": "Host"}, "auth_header"),
        ({"url": "https://192.168.0.10/contacts"}, "url"),
    ],
)
def test_integration_form_refusals(owner_client, data, field):
    values = {
        "name": "L",
        "url": "https://lists.example.com/c",
        "auth_header": "Authorization",
        "token": "t-123456",
    }
    values.update(data)

    response = owner_client.post(INTEGRATION_CREATE_URL, values)

    assert response.status_code == 200
    assert field in response.context["form"].errors or response.context["form"].non_field_errors()
    assert not ProviderIntegration.objects.exists()


def test_an_integration_in_use_is_not_deleted(owner_client, merchant):
    integration = ProviderIntegrationFactory(merchant=merchant)
    AutomationFactory(merchant=merchant, name="Usa", action=ActionKind.PROVIDER, integration=integration)

    content = owner_client.post(url("integration_delete", integration), follow=True).content.decode()

    assert "usada pelas automações: Usa" in content
    assert ProviderIntegration.objects.exists()


# --- permissions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "may_manage"),
    [(Role.OWNER, True), (Role.MANAGER, True), (Role.SUPPORT, False), (Role.VIEWER, False)],
)
def test_who_may_see_and_who_may_manage(client, merchant, role, may_manage):
    user = UserFactory(username=f"p-{role}")
    MembershipFactory(user=user, merchant=merchant, role=role)
    client.force_login(user)
    rule = AutomationFactory(merchant=merchant)
    integration = ProviderIntegrationFactory(merchant=merchant)

    for page in (LIST_URL, rule.get_absolute_url(), INTEGRATIONS_URL, integration.get_absolute_url()):
        assert client.get(page).status_code == 200, page
    detail = client.get(rule.get_absolute_url()).content.decode()
    assert ('id="send-test"' in detail) is may_manage
    expected = 200 if may_manage else 403
    for page in (
        CREATE_URL,
        url("automation_update", rule),
        url("automation_toggle", rule),
        url("automation_send_test", rule),
        url("automation_delete", rule),
        INTEGRATION_CREATE_URL,
        url("integration_update", integration),
        url("integration_delete", integration),
    ):
        assert client.get(page).status_code == expected, page
    if not may_manage:
        assert client.post(url("automation_toggle", rule)).status_code == 403
        assert client.post(url("automation_delete", rule)).status_code == 403
        rule.refresh_from_db()
        assert rule.is_enabled


def test_the_navigation_links_the_screens(owner_client):
    content = owner_client.get(LIST_URL).content.decode()
    assert INTEGRATIONS_URL in content and LIST_URL in content
