"""Tenant isolation of the REST API: every API route, walked from the URLconf (so routes added later
are covered), answers 404 for another merchant's ids and never lists its rows."""

import pytest
from django.urls import resolve, reverse

from subscribers.models import Subscription
from subscribers.services.schedules import PhaseSpec, schedule_create
from tests.factories import FACTORY_FOR_MODEL, CustomerFactory, PlanFactory, SubscriptionFactory
from tests.urlwalk import api_routes

pytestmark = pytest.mark.django_db

ROUTES = api_routes()
OBJECT_ROUTES = [r for r in ROUTES if r.kwargs]
LIST_ROUTES = [r for r in ROUTES if not r.kwargs and r.name.endswith("-list")]
# The schema and the docs pages describe the API; they hold no tenant data and need no key.
PUBLIC_ROUTES = {"api:schema", "api:docs", "api:redoc"}
SECRET = "Segredo-da-outra-loja"


def _model(route, url):
    view = resolve(url).func
    return view.cls.queryset.model


def _make(model, merchant):
    """A row of `model` for `merchant`. A subscription comes with a schedule (schedule_create), so the
    routes of its schedule find one for the key's own merchant (200) and their 404 for another merchant's
    id is the tenant check, not a missing schedule."""
    row = FACTORY_FOR_MODEL[model](merchant=merchant)
    if model is Subscription:
        schedule_create(subscription=row, actor=None, phases=[PhaseSpec(plan=row.plan)])
    return row


def _methods(route) -> list[str]:
    """Every HTTP method the route answers (from the viewset's method → action map), HEAD aside."""
    probe = reverse(route.name, kwargs={kwarg: 1 for kwarg in route.kwargs})
    return sorted(method for method in resolve(probe).func.actions if method != "head")


OBJECT_ROUTE_METHODS = [(route, method) for route in OBJECT_ROUTES for method in _methods(route)]
WRITE_ROUTE_METHODS = [
    (route, method)
    for route in ROUTES
    if route.name not in {"api:schema", "api:docs", "api:redoc"}
    for method in _methods(route)
    if method not in ("get", "options")
]


def test_the_walk_finds_the_api_routes():
    names = {r.name for r in ROUTES}
    assert {
        "api:customer-list",
        "api:customer-detail",
        "api:customer-access",
        "api:plan-list",
        "api:plan-detail",
        "api:subscription-list",
        "api:subscription-detail",
        "api:subscription-cancel",
        "api:subscription-refund",
        "api:subscription-change-preview",
        "api:subscription-cancel-preview",
        "api:subscription-schedule",
        "api:subscription-schedule-release",
        "api:subscription-schedule-cancel",
        "api:subscription-schedule-preview",
        "api:subscription-upcoming-invoices",
        "api:invoice-list",
        "api:invoice-detail",
        "api:invoice-pdf",
        "api:payment-list",
        "api:event-list",
        "api:webhook_endpoint-detail",
    } <= names
    assert {r.name for r in ROUTES if not r.kwargs} - {r.name for r in LIST_ROUTES} == PUBLIC_ROUTES


@pytest.mark.parametrize("route", [r for r in OBJECT_ROUTES if "get" in _methods(r)], ids=lambda r: r.name)
def test_another_merchants_id_is_404_on_every_api_route(route, api, merchant, other_merchant):
    probe = reverse(route.name, kwargs={kwarg: 1 for kwarg in route.kwargs})
    model = _model(route, probe)
    foreign = _make(model, other_merchant)
    own = _make(model, merchant)

    foreign_url = reverse(route.name, kwargs={kwarg: foreign.pk for kwarg in route.kwargs})
    response = api.get(foreign_url)
    assert response.status_code == 404, f"GET {foreign_url} leaked another merchant's {model.__name__}"
    assert response.json()["error"]["type"] == "not_found_error"
    assert SECRET not in response.content.decode()
    # The same route answers for the key's own object: the 404 above is the tenant check, not a typo.
    assert api.get(reverse(route.name, kwargs={kwarg: own.pk for kwarg in route.kwargs})).status_code == 200


@pytest.mark.parametrize(
    ("route", "method"), OBJECT_ROUTE_METHODS, ids=lambda value: getattr(value, "name", value)
)
def test_every_method_of_every_object_route_is_404_for_another_merchants_id(
    route, method, api_rw, merchant, other_merchant
):
    """Writes too: a read-write key never reaches another merchant's object (checked before the body)."""
    probe = reverse(route.name, kwargs={kwarg: 1 for kwarg in route.kwargs})
    model = _model(route, probe)
    foreign = _make(model, other_merchant)
    before = model.objects.filter(pk=foreign.pk).values().get()
    url = reverse(route.name, kwargs={kwarg: foreign.pk for kwarg in route.kwargs})

    response = getattr(api_rw, method)(url, {}, format="json") if method != "get" else api_rw.get(url)

    assert response.status_code == 404, f"{method.upper()} {url} reached another merchant's {model.__name__}"
    assert response.json()["error"]["type"] == "not_found_error"
    assert model.objects.filter(pk=foreign.pk).values().get() == before


@pytest.mark.parametrize(
    ("route", "method"), WRITE_ROUTE_METHODS, ids=lambda value: getattr(value, "name", value)
)
def test_a_read_only_key_gets_403_on_every_write(route, method, api, merchant):
    url = reverse(route.name, kwargs={kwarg: 1 for kwarg in route.kwargs})
    response = getattr(api, method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.name)
def test_lists_never_show_another_merchants_rows(route, api, other_merchant):
    plan = PlanFactory(merchant=other_merchant, name=SECRET)
    customer = CustomerFactory(merchant=other_merchant, name=SECRET)
    SubscriptionFactory(merchant=other_merchant, plan=plan, customer=customer)
    # And a row of the listed model itself (invoices, payments, events, webhook endpoints…).
    FACTORY_FOR_MODEL[_model(route, reverse(route.name))](merchant=other_merchant)

    response = api.get(reverse(route.name))

    assert response.status_code == 200
    assert response.json()["results"] == []
    # Filtering by another merchant's ids finds nothing either.
    assert api.get(reverse(route.name), {"plan": plan.pk, "customer": customer.pk}).json()["results"] == []


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC_ROUTES], ids=lambda r: r.name)
def test_every_api_route_needs_a_key(route, client, merchant):
    url = reverse(route.name, kwargs={kwarg: 1 for kwarg in route.kwargs})
    assert client.get(url).status_code == 401
