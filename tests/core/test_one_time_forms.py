"""Double submits: every form that creates something carries a one-time token (core.idempotency); the
same token posted again creates nothing and lands on what the first submission created."""

import re
import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from billing.models import Payment
from billing.services.billing_run import process_subscription
from core.idempotency import (
    AlreadyDone,
    InvalidToken,
    form_scope,
    issue_form_token,
    once,
    read_form_token,
)
from core.models import IdempotencyKey
from core.views import FORM_ALREADY_SENT
from notifications.automations.models import Automation, ProviderIntegration
from notifications.models import WebhookEndpoint
from plans.models import Coupon, Plan, TaxRate
from subscribers.models import Customer, Subscription
from tests.factories import CustomerFactory, PlanFactory, UserFactory
from tests.notifications.automations.test_automation_views import form_data as automation_form_data
from tests.plans.conftest import VALID_FORM as PLAN_FORM
from tests.plans.test_coupons import VALID_FORM as COUPON_FORM
from tests.plans.test_tax_rates import VALID_FORM as TAX_RATE_FORM
from tests.subscribers.test_customer_form import _data as customer_form_data

TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


def form_token(client, url) -> str:
    """The token the page hands out, as a browser would submit it."""
    response = client.get(url)
    assert response.status_code == 200
    match = TOKEN_RE.search(response.content.decode())
    assert match, f"{url} renders no form_token"
    return match.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def subscription_data(customer, plan, token):
    return {
        "customer": customer.pk,
        "contract_date": "",  # filled by the caller: today on the merchant's clock
        "plan": plan.pk,
        "quantity": "1",
        "payment_method": "card",
        "discount_type": "",
        "form_token": token,
    }


# --- the mechanism -----------------------------------------------------------------------------------
def test_a_token_is_bound_to_merchant_user_and_form(merchant, other_merchant, owner):
    token = issue_form_token(merchant=merchant, user=owner, kind="subscribers:subscription_create")

    assert read_form_token(token, merchant=merchant, user=owner, kind="subscribers:subscription_create")
    for kwargs in (
        {"merchant": other_merchant, "user": owner, "kind": "subscribers:subscription_create"},
        {"merchant": merchant, "user": UserFactory(), "kind": "subscribers:subscription_create"},
        {"merchant": merchant, "user": owner, "kind": "plans:plan_create"},
    ):
        with pytest.raises(InvalidToken):
            read_form_token(token, **kwargs)
    with pytest.raises(InvalidToken):
        read_form_token(
            token[:-2] + "xx", merchant=merchant, user=owner, kind="subscribers:subscription_create"
        )


def test_once_runs_the_body_once_and_remembers_its_result(merchant, owner):
    plan = PlanFactory(merchant=merchant)
    with once(merchant=merchant, scope=form_scope("x"), key="k1", user=owner) as use:
        use.result, use.result_url = plan, "/planos/1/"

    with pytest.raises(AlreadyDone) as done, once(merchant=merchant, scope=form_scope("x"), key="k1"):
        pytest.fail("the body of a used key must not run")

    assert done.value.record.result == plan
    assert done.value.record.result_url == "/planos/1/"


def test_a_refused_body_does_not_use_the_key(merchant):
    with pytest.raises(ValueError), once(merchant=merchant, scope="form:x", key="k2"):
        raise ValueError("refused by the service")

    assert not IdempotencyKey.objects.exists()
    with once(merchant=merchant, scope="form:x", key="k2"):
        pass
    assert IdempotencyKey.objects.count() == 1


# --- Nova assinatura ---------------------------------------------------------------------------------
def test_two_identical_posts_create_one_subscription_and_the_second_lands_on_it(owner_client, merchant):
    customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant, price=4990)
    url = reverse("subscribers:subscription_create")
    data = subscription_data(customer, plan, form_token(owner_client, url))
    data["contract_date"] = merchant.localdate().isoformat()

    first = owner_client.post(url, data)
    second = owner_client.post(url, data)

    subscription = Subscription.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == subscription.get_absolute_url()
    assert FORM_ALREADY_SENT in messages_of(second)


def test_a_service_refusal_leaves_the_token_usable(owner_client, merchant):
    customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant)
    url = reverse("subscribers:subscription_create")
    data = subscription_data(customer, plan, form_token(owner_client, url))
    data["contract_date"] = merchant.localdate().isoformat()

    refused = owner_client.post(url, {**data, "discount_type": "fixed", "discount_amount": "999999,00"})
    accepted = owner_client.post(url, data)

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert Subscription.objects.count() == 1


def test_a_forged_token_is_refused_with_a_new_one(owner_client, merchant):
    customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant)
    url = reverse("subscribers:subscription_create")
    data = subscription_data(customer, plan, "forjado")
    data["contract_date"] = merchant.localdate().isoformat()

    response = owner_client.post(url, data)

    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert "Este formulário expirou" in response.content.decode()
    assert TOKEN_RE.search(response.content.decode()).group(1) != "forjado"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_one_token_make_one_subscription_and_one_charge(merchant, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant, price=4990)
    url = reverse("subscribers:subscription_create")
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(owner)
    data = subscription_data(customer, plan, form_token(clients[0], url))
    data["contract_date"] = merchant.localdate().isoformat()
    start = threading.Barrier(2)
    responses = []

    def submit(client):
        try:
            start.wait()
            responses.append(client.post(url, data))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    subscription = Subscription.objects.get()
    process_subscription(subscription_id=subscription.pk)
    assert [r.status_code for r in responses] == [302, 302]
    assert {r.url for r in responses} == {subscription.get_absolute_url()}
    assert Payment.objects.filter(invoice__subscription=subscription).count() == 1
    assert IdempotencyKey.objects.get().result == subscription


# --- every create form -------------------------------------------------------------------------------
def _plan(merchant):
    return {**PLAN_FORM}


CREATE_FORMS = {
    "subscribers:subscription_create": (Subscription, None),
    "subscribers:customer_create": (Customer, lambda m: customer_form_data()),
    "plans:plan_create": (Plan, lambda m: {**PLAN_FORM}),
    "plans:coupon_create": (Coupon, lambda m: {**COUPON_FORM}),
    "plans:taxrate_create": (TaxRate, lambda m: {**TAX_RATE_FORM}),
    "notifications:endpoint_create": (
        WebhookEndpoint,
        lambda m: {"url": "https://hooks.example.com/r", "all_event_types": "on", "is_active": "on"},
    ),
    "notifications:automation_create": (Automation, lambda m: automation_form_data()),
    "notifications:integration_create": (
        ProviderIntegration,
        lambda m: {
            "name": "Listas",
            "url": "https://lists.example.com/c",
            "auth_header": "X-Api-Key",
            "token": "t",
        },
    ),
}


@pytest.mark.parametrize("url_name", CREATE_FORMS)
def test_a_replayed_token_creates_nothing_new(url_name, owner_client, merchant):
    model, build = CREATE_FORMS[url_name]
    if build is None:
        customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant)
        data = subscription_data(customer, plan, "")
        data["contract_date"] = merchant.localdate().isoformat()
    else:
        data = build(merchant)
    url = reverse(url_name)
    data["form_token"] = form_token(owner_client, url)
    before = model.objects.count()

    first = owner_client.post(url, data)
    replay = owner_client.post(url, data)

    assert first.status_code == 302, first.context["form"].errors if first.context else first
    assert model.objects.count() == before + 1
    assert replay.status_code == 302 and replay.url == first.url
    assert FORM_ALREADY_SENT in messages_of(replay)
