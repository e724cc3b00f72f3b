"""Tenant isolation: every URL pattern, every role, every other-merchant object is a 404.

The test walks the URLconf, so a URL added later is covered automatically; one whose objects cannot
be built from FACTORY_FOR_MODEL fails here until the test knows how to build them.
"""

import pytest
from django.urls import reverse

from accounts.choices import Role
from tests.factories import FACTORY_FOR_MODEL, CustomerFactory, MembershipFactory, PlanFactory, UserFactory
from tests.urlwalk import merchant_routes

ROUTES = merchant_routes()
OBJECT_ROUTES = [r for r in ROUTES if r.kwargs]
LIST_ROUTES = [r for r in ROUTES if not r.kwargs]
SECRET = "Segredo-da-outra-loja"


def test_the_walk_finds_the_merchant_screens():
    names = {r.name for r in ROUTES}
    assert {
        "plans:plan_list",
        "plans:plan_detail",
        "subscribers:customer_detail",
        "accounts:settings",
    } <= names


@pytest.fixture
def users_of_a(merchant):
    users = {}
    for role in Role:
        user = UserFactory(username=f"a-{role}")
        MembershipFactory(user=user, merchant=merchant, role=role)
        users[role] = user
    return users


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_other_merchants_object_is_404_for_every_role(route, role, client, users_of_a, other_merchant):
    model = route.model
    assert model is not None, f"{route.name}: the isolation test cannot tell which model {route.route} shows"
    factory = FACTORY_FOR_MODEL.get(model)
    assert factory is not None, f"{route.name}: add a factory for {model.__name__} to FACTORY_FOR_MODEL"
    foreign = factory(merchant=other_merchant)
    url = reverse(route.name, kwargs={kwarg: foreign.pk for kwarg in route.kwargs})
    client.force_login(users_of_a[role])

    assert client.get(url).status_code == 404, f"GET {url} leaked another merchant's {model.__name__}"
    assert client.post(url, {}).status_code == 404, f"POST {url} leaked another merchant's {model.__name__}"


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.name)
def test_pages_never_show_another_merchants_rows(route, client, users_of_a, other_merchant):
    PlanFactory(merchant=other_merchant, name=SECRET)
    CustomerFactory(merchant=other_merchant, name=SECRET)
    client.force_login(users_of_a[Role.OWNER])

    response = client.get(reverse(route.name))

    assert response.status_code in (200, 405), f"{route.name} answered {response.status_code}"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET not in body.decode("utf-8-sig")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_anonymous_visitors_are_sent_to_login(route, client, merchant):
    kwargs = {kwarg: 1 for kwarg in route.kwargs}
    response = client.get(reverse(route.name, kwargs=kwargs))
    assert response.status_code in (302, 404, 405)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


def test_switching_to_a_merchant_you_do_not_belong_to_is_404(client, users_of_a, other_merchant):
    client.force_login(users_of_a[Role.OWNER])
    response = client.post(reverse("accounts:switch_merchant"), {"merchant": other_merchant.pk})
    assert response.status_code == 404


def test_a_forged_session_merchant_falls_back_to_the_users_own(client, users_of_a, merchant, other_merchant):
    client.force_login(users_of_a[Role.OWNER])
    session = client.session
    session["current_merchant_id"] = other_merchant.pk
    session.save()

    response = client.get(reverse("dashboard:index"))

    assert response.context["current_merchant"] == merchant
