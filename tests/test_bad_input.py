"""Bad input answers 400 or a form error, never a 500: NUL bytes, absurd page sizes, huge searches, and
exports with invalid filters (which must record nothing)."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from core.pagination import MAX_PER_PAGE
from subscribers.filtersets import SubscriberFilterSet
from subscribers.models import SubscriberExport, Subscription
from tests.factories import CustomerFactory, MembershipFactory, SubscriptionFactory, UserFactory
from tests.urlwalk import merchant_routes

pytestmark = pytest.mark.django_db

# Parameters every list understands besides its filters (pagination, sort, export options).
COMMON_PARAMS = ("q", "page", "per_page", "sort", "export", "format", "delimiter", "download_token")
# Screens without a filterset of their own that read a list's filters.
FILTERS_OF = {"subscribers:subscriber_export": SubscriberFilterSet}


def _get_routes():
    """Every merchant URL without an object in it (lists, searches, exports, forms) that answers GET."""
    return [route for route in merchant_routes() if not route.kwargs and route.view_class is not None]


GET_ROUTES = _get_routes()


def params_of(route, merchant) -> list[str]:
    filterset_class = FILTERS_OF.get(route.name) or getattr(route.view_class, "filterset_class", None)
    names = list(COMMON_PARAMS)
    if filterset_class is not None:
        model = filterset_class._meta.model
        filterset = filterset_class({}, queryset=model.objects.none(), merchant=merchant)
        names += [name for name in filterset.form.fields if name not in names]
    return names


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig", errors="replace")


@pytest.fixture
def owner_of(merchant, client):
    user = UserFactory(username="dono-bad-input")
    MembershipFactory(user=user, merchant=merchant, role=Role.OWNER)
    client.force_login(user)
    return client


@pytest.mark.postgres
@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: r.name)
def test_a_nul_byte_in_any_get_parameter_is_never_a_500(route, merchant, owner_of):
    SubscriptionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant, name="Ana"))
    url = reverse(route.name)
    failures = []
    for name in params_of(route, merchant):
        response = owner_of.get(url, {name: "a\x00b"})
        body(response)  # a streamed export fails while it streams, not when the view returns
        if response.status_code >= 500:
            failures.append(name)
    assert not failures, f"{route.name}: 500 for NUL in {failures}"
    assert not SubscriberExport.objects.filter(query__icontains="\\u0000").exists()


@pytest.mark.postgres
def test_the_named_nul_cases_answer_400_or_an_empty_search(merchant, owner_of):
    export = owner_of.get(reverse("subscribers:subscriber_export"), {"q": "a\x00b"})
    lookup = owner_of.get(reverse("subscribers:customer_lookup"), {"q": "a\x00b"})

    assert export.status_code == 400
    assert "caracteres nulos" in body(export)
    assert lookup.status_code in (200, 400)
    assert not SubscriberExport.objects.exists()


@pytest.mark.parametrize("per_page", ["-1", "0", "100000000000000000000", "abc"])
@pytest.mark.parametrize(
    "name",
    ["subscribers:subscriber_list", "subscribers:customer_list", "plans:plan_list", "billing:invoice_list"],
)
def test_absurd_page_sizes_fall_back_to_a_bounded_page(merchant, owner_of, name, per_page):
    for _ in range(3):
        SubscriptionFactory(merchant=merchant)

    response = owner_of.get(reverse(name), {"per_page": per_page})

    assert response.status_code == 200
    table = response.context["table"]
    assert 1 <= table.paginator.per_page <= MAX_PER_PAGE


def test_a_page_size_within_bounds_is_kept(merchant, owner_of):
    response = owner_of.get(reverse("plans:plan_list"), {"per_page": "50"})

    assert response.context["table"].paginator.per_page == 50


@pytest.mark.parametrize(
    "name", ["subscribers:subscriber_list", "subscribers:customer_list", "subscribers:customer_lookup"]
)
def test_a_60000_character_search_is_refused_with_a_message(merchant, owner_of, name):
    """On SQLite a LIKE pattern this long raised "LIKE or GLOB pattern too complex"; anywhere it is no
    search a person makes."""
    SubscriptionFactory(merchant=merchant)

    response = owner_of.get(reverse(name), {"q": "a" * 60_000})

    assert response.status_code in (200, 400)
    assert "no máximo 200 caracteres" in body(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"plan": "999999"}, "plan"),
        ({"subscribed_from": "31/02/2026"}, "subscribed_from"),
    ],
)
def test_an_export_with_an_invalid_filter_shows_the_error_and_records_nothing(
    merchant, owner_of, params, field, caplog
):
    SubscriptionFactory(merchant=merchant)

    response = owner_of.get(reverse("subscribers:subscriber_export"), params)

    assert response.status_code == 400
    assert not response.streaming
    assert response["Content-Type"].startswith("text/html")
    assert response.context["filter"].form.errors[field]
    assert "alert" in body(response) or "invalid-feedback" in body(response)
    assert not SubscriberExport.objects.exists()
    assert not [r for r in caplog.records if r.exc_info]
    assert Subscription.objects.count() == 1


def test_a_nul_byte_in_a_parameter_name_or_on_an_object_page_is_refused_too(merchant, owner_of):
    """The check runs before any view (core.middleware), so pages with their own filters — an endpoint's
    delivery log — and parameter names are covered as well."""
    from tests.factories import WebhookEndpointFactory

    endpoint = WebhookEndpointFactory(merchant=merchant)

    by_value = owner_of.get(endpoint.get_absolute_url(), {"status": "a\x00b"})
    by_name = owner_of.get(reverse("subscribers:subscriber_list"), {"a\x00b": "1"})

    assert by_value.status_code == by_name.status_code == 400
    assert "caracteres nulos" in by_value.content.decode()
