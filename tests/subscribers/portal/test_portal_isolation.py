"""A portal session reaches its own customer's objects only: the URL walker over every portal URL, with a
portal session as the actor. Another customer's (same merchant) or another merchant's subscription or
invoice is a 404; without a session every page sends to the e-mail form; a portal session opens none of
the merchant's screens."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, InvoiceFactory, SubscriptionFactory
from tests.urlwalk import merchant_routes, portal_routes

pytestmark = pytest.mark.django_db

ROUTES = portal_routes()
OBJECT_ROUTES = [r for r in ROUTES if "pk" in r.kwargs]
SESSION_ROUTES = [r for r in ROUTES if getattr(r.view_class, "login_required", False)]


def test_the_walk_finds_the_portal():
    assert {"portal:login", "portal:enter", "portal:home", "portal:cancel", "portal:invoice_pdf"} <= {
        r.name for r in ROUTES
    }
    assert not any(r.name.startswith("portal:") for r in merchant_routes())


def foreign_object(route, merchant):
    kind = route.view_class.portal_object
    assert kind in ("subscription", "invoice"), f"{route.name}: set portal_object on its view"
    subscription = SubscriptionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant))
    if kind == "invoice":
        return InvoiceFactory(merchant=merchant, subscription=subscription)
    return subscription


def kwargs_for(route, merchant, obj=None):
    values = {"slug": merchant.slug, "pk": getattr(obj, "pk", 1), "token": "x"}
    return {name: values[name] for name in route.kwargs}


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("owner_of_object", ["another customer", "another merchant"])
def test_another_customers_object_is_404(route, owner_of_object, portal_client, merchant, other_merchant):
    customer = CustomerFactory(merchant=merchant)
    SubscriptionFactory(merchant=merchant, customer=customer)
    client = portal_client(customer)
    foreign = foreign_object(route, merchant if owner_of_object == "another customer" else other_merchant)
    # The URL names the session's merchant: the object must not be found through it.
    url = reverse(route.name, kwargs=kwargs_for(route, merchant, foreign))
    status_before = foreign.status

    assert client.get(url).status_code == 404, f"GET {url} leaked {owner_of_object}'s object"
    assert client.post(url, {}).status_code in (404, 405), f"POST {url} leaked {owner_of_object}'s object"
    foreign.refresh_from_db()
    assert foreign.status == status_before


@pytest.mark.parametrize("route", SESSION_ROUTES, ids=lambda r: r.name)
def test_without_a_portal_session_every_page_asks_for_the_email(route, client, merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    url = reverse(route.name, kwargs=kwargs_for(route, merchant, subscription))

    for response in (client.get(url), client.post(url, {})):
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:login", kwargs={"slug": merchant.slug})


@pytest.mark.parametrize("route", SESSION_ROUTES, ids=lambda r: r.name)
def test_a_session_for_one_merchant_opens_nothing_at_another(route, portal_client, merchant, other_merchant):
    customer = CustomerFactory(merchant=merchant)
    client = portal_client(customer)
    subscription = SubscriptionFactory(merchant=other_merchant)

    response = client.get(reverse(route.name, kwargs=kwargs_for(route, other_merchant, subscription)))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login", kwargs={"slug": other_merchant.slug})


@pytest.mark.parametrize("route", [r for r in merchant_routes() if not r.kwargs], ids=lambda r: r.name)
def test_a_portal_session_opens_none_of_the_merchants_screens(route, portal_client, merchant):
    client = portal_client(CustomerFactory(merchant=merchant))

    response = client.get(reverse(route.name))

    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
