"""Assinaturas excluídas: owners only, columns, search, isolation, htmx partial and query count."""

import datetime as dt

import pytest
from django.urls import reverse

from subscribers.models import SubscriptionTombstone
from tests.factories import SubscriptionTombstoneFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("subscribers:tombstone_list")


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return [row.record.customer_name for row in response.context["table"].page.object_list]


def test_owner_sees_deleted_subscriptions_newest_first(owner_client, owner, merchant):
    SubscriptionTombstoneFactory(
        merchant=merchant,
        subscription_pk=41,
        customer_name="Ana Souza",
        plan_name="Clube do Vinho",
        deleted_by=owner,
        deleted_at=dt.datetime(2025, 3, 7, 15, 30, tzinfo=dt.UTC),
    )
    SubscriptionTombstoneFactory(
        merchant=merchant,
        customer_name="Bruno Lima",
        deleted_at=dt.datetime(2025, 4, 1, 12, 0, tzinfo=dt.UTC),
    )

    response = owner_client.get(LIST_URL)

    assert response.status_code == 200
    assert listed(owner_client) == ["Bruno Lima", "Ana Souza"]
    content = response.content.decode()
    for text in [
        "#41",
        "Ana Souza",
        "Clube do Vinho",
        owner.get_full_name() or owner.username,
        "07/03/2025 12:30",
    ]:
        assert text in content, text


def test_deleted_by_shows_a_dash_when_unknown(owner_client, merchant):
    SubscriptionTombstoneFactory(merchant=merchant, deleted_by=None)

    response = owner_client.get(LIST_URL)

    assert response.context["table"].rows[0].get_cell("deleted_by") == "—"


def test_deleted_by_prefers_the_full_name(owner_client, merchant):
    user = UserFactory(username="carla", first_name="Carla", last_name="Dias")
    SubscriptionTombstoneFactory(merchant=merchant, deleted_by=user)

    response = owner_client.get(LIST_URL)

    assert response.context["table"].rows[0].get_cell("deleted_by") == "Carla Dias"


@pytest.mark.parametrize("role", ["manager", "support", "viewer"])
def test_only_owners_may_see_deleted_subscriptions(member_client, request, role):
    user = request.getfixturevalue(role)

    assert member_client(user).get(LIST_URL).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ana", ["Ana Souza"]), ("VINHO", ["Ana Souza"]), ("café", ["Bruno Lima"]), ("ninguém", [])],
)
def test_search_by_customer_or_plan_name(owner_client, merchant, query, expected):
    SubscriptionTombstoneFactory(merchant=merchant, customer_name="Ana Souza", plan_name="Clube do Vinho")
    SubscriptionTombstoneFactory(merchant=merchant, customer_name="Bruno Lima", plan_name="Clube do Café")

    assert listed(owner_client, q=query) == expected


def test_other_merchants_deletions_are_not_listed(owner_client, merchant, other_merchant):
    SubscriptionTombstoneFactory(merchant=other_merchant, customer_name="Segredo da outra loja")

    response = owner_client.get(LIST_URL)

    assert listed(owner_client) == []
    assert "Segredo da outra loja" not in response.content.decode()
    assert "Nenhuma assinatura foi excluída." in response.content.decode()


def test_htmx_request_gets_only_the_results_partial(owner_client, merchant):
    SubscriptionTombstoneFactory(merchant=merchant, customer_name="Ana Souza")
    SubscriptionTombstoneFactory(merchant=merchant, customer_name="Bruno Lima")

    response = owner_client.get(LIST_URL, {"q": "bruno"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert [t.name for t in response.templates][0] == "core/partials/list_results.html"
    assert "filter-form" not in content
    assert "Bruno Lima" in content
    assert "Ana Souza" not in content


def test_list_query_count_does_not_grow_with_rows(
    owner_client, owner, merchant, django_assert_max_num_queries
):
    SubscriptionTombstone.objects.bulk_create(
        SubscriptionTombstone(
            merchant=merchant,
            subscription_pk=n,
            customer_name=f"Cliente {n}",
            plan_name="Plano",
            deleted_by=owner,
        )
        for n in range(200)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"page": 2, "sort": "deleted_by"})

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25
