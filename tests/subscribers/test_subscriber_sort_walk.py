"""Assinantes sorted by Plano or Vendedor: read plan by plan (salesperson by salesperson) through the filter's
index instead of sorting every row, with exactly the rows and order the plain sort gives — every page, both
directions, equal names, subscriptions without a salesperson, and with a filter."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import MembershipFactory, PlanFactory, SubscriptionFactory, UserFactory
from tests.subscribers.walks import LIST_URL, listed_pks

pytestmark = pytest.mark.postgres

PER_PAGE = 7
ORDER = {
    "plan": ("plan__name", "plan_id", "contract_date", "pk"),
    "salesperson": (
        "salesperson__first_name",
        "salesperson__last_name",
        "salesperson__username",
        "salesperson_id",
        "contract_date",
        "pk",
    ),
}


@pytest.fixture
def mixed(merchant, other_merchant):
    cache.clear()
    plans = [
        PlanFactory(merchant=merchant, name=name)
        for name in ("Mensal", "Anual", "Mensal", "Zeta", "Básico")  # two plans named alike
    ]
    PlanFactory(merchant=merchant, name="Nunca vendido")
    people = [UserFactory(first_name=first, last_name="Silva") for first in ("Rui", "Ana", "Ana", "")]
    for person in people:
        MembershipFactory(merchant=merchant, user=person)
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED, SubscriptionStatus.PAST_DUE]
    for n in range(47):
        SubscriptionFactory(
            merchant=merchant,
            plan=plans[n % len(plans)],
            salesperson=None if n % 5 == 0 else people[n % len(people)],
            contract_date=dt.date(2025, 1, 1) + dt.timedelta(days=n % 9),  # ties on the date too
            status=statuses[n % len(statuses)],
        )
    SubscriptionFactory(merchant=other_merchant)  # never in the walk


@pytest.mark.parametrize("column", ["plan", "salesperson"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("status", ["", SubscriptionStatus.CANCELED])
def test_every_page_equals_the_plain_sort(owner_client, merchant, mixed, column, descending, status):
    rows = Subscription.objects.filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    order = [f"-{name}" if descending else name for name in ORDER[column]]
    expected = list(rows.order_by(*order).values_list("pk", flat=True))

    params = {"sort": f"-{column}" if descending else column, "status": status}
    assert listed_pks(owner_client, params, per_page=PER_PAGE) == expected


@pytest.mark.parametrize("column", ["plan", "salesperson"])
def test_no_page_query_sorts_the_merchants_rows_by_a_joined_name(owner_client, merchant, mixed, column):
    name = {"plan": '"plans_plan"."name"', "salesperson": '"auth_user"."first_name"'}[column]

    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LIST_URL, {"sort": column, "per_page": PER_PAGE, "page": 2})

    assert response.status_code == 200
    # Only the page's own rows (an id list) are ordered by the name; picking them reads the indexes.
    by_name = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "subscribers_subscription"' in q["sql"]
        and re.search(f"ORDER BY {re.escape(name)}", q["sql"])
    ]
    assert by_name, "the page's rows are still ordered by the name"
    assert all(re.search(r'"subscribers_subscription"\."id" IN \(\d', sql) for sql in by_name), by_name


@pytest.mark.parametrize("column", ["plan", "salesperson"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("status", ["", SubscriptionStatus.CANCELED])
def test_deep_pages_skip_whole_groups_by_count_with_the_same_rows(
    owner_client, merchant, mixed, column, descending, status, monkeypatch
):
    """Past MAX_WALK_DEPTH a page skips the groups before it by their counts and reads the groups it
    overlaps from their nearer end: every page still equals the plain sort, across group boundaries, both
    ways, with a filter, the subscriptions without a salesperson included."""
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", 3)  # every page but the first (of 7 rows)
    rows = Subscription.objects.filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    order = [f"-{name}" if descending else name for name in ORDER[column]]
    expected = list(rows.order_by(*order).values_list("pk", flat=True))

    params = {"sort": f"-{column}" if descending else column, "status": status}
    assert listed_pks(owner_client, params, per_page=PER_PAGE) == expected


@pytest.mark.parametrize("column", ["plan", "salesperson"])
def test_a_deep_page_counts_the_groups_once_and_never_sorts_every_row(
    owner_client, merchant, mixed, column, monkeypatch
):
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", PER_PAGE)  # page 1 walks, deeper ones count
    name = {"plan": '"plans_plan"."name"', "salesperson": '"auth_user"."first_name"'}[column]
    page = {"sort": column, "per_page": PER_PAGE, "page": 4}  # rows 22-28: the middle of the list

    owner_client.get(LIST_URL, {**page, "page": 1})  # the session's first save
    with CaptureQueriesContext(connection) as first:
        assert owner_client.get(LIST_URL, page).status_code == 200
    with CaptureQueriesContext(connection) as again:
        response = owner_client.get(LIST_URL, page)

    assert response.status_code == 200
    # The counts cost the statement timeout and the GROUP BY (and, inside the test's transaction, its
    # savepoint and the timeout's reset); the page itself stays within the list's budget.
    statements = [q["sql"] for q in first.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) - len(again.captured_queries) <= 3, statements
    assert len(again.captured_queries) <= 10
    grouped = [q["sql"] for q in first.captured_queries if "GROUP BY" in q["sql"] and "COUNT(*)" in q["sql"]]
    assert len(grouped) == 1, grouped  # the per-group counts, once
    # The counts are kept with the list's total: the next request neither counts nor walks.
    assert not [q["sql"] for q in again.captured_queries if "GROUP BY" in q["sql"]]
    assert len(again.captured_queries) < len(first.captured_queries)
    for queries in (first, again):
        by_name = [
            q["sql"]
            for q in queries.captured_queries
            if 'FROM "subscribers_subscription"' in q["sql"]
            and re.search(f"ORDER BY {re.escape(name)}", q["sql"])
        ]
        assert all(re.search(r'"subscribers_subscription"\."id" IN \(\d', sql) for sql in by_name), by_name
    expected = list(
        Subscription.objects.filter(merchant=merchant).order_by(*ORDER[column]).values_list("pk", flat=True)
    )
    assert [row.record.pk for row in response.context["table"].page.object_list] == expected[21:28]


@pytest.mark.parametrize("column", ["plan", "salesperson"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("status", ["", SubscriptionStatus.CANCELED])
@pytest.mark.parametrize("first_rows", [3, 1000])
def test_the_csv_sorted_by_plan_or_salesperson_starts_with_the_first_group_and_sorts_the_rest_by_rank(
    owner_client, merchant, mixed, column, descending, status, first_rows, monkeypatch
):
    """The export's first rows are the first group's, read through the walk's index; the rest is one COPY
    sorted by the groups' ranks (GroupWalk.ranked), never by the joined name; the file is byte for byte
    the plain sort's — with the first group split (3) or wholly in the first statement (1000)."""
    from subscribers import exports, selectors
    from subscribers.tables import SubscriberTable

    monkeypatch.setattr(exports, "FIRST_ROWS", first_rows)
    sort = f"-{column}" if descending else column
    params = {"sort": sort, **({"status": status} if status else {})}
    response = owner_client.get(reverse("subscribers:subscriber_export"), params)
    body = b"".join(response.streaming_content)

    rows = selectors.subscriber_list_queryset().filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    plain = SubscriberTable(rows, order_by=sort).data.data
    expected = b"".join(exports.stream_csv_copy(plain, delimiter=";", output_format="human", counter=[0]))
    assert body.endswith(expected) and body.count(b"\n") == expected.count(b"\n") + 1
    # What the download COPYs: the first group's rows, then the rest by rank; neither orders by the name.
    head, rest = exports._segments(plain, "human", selectors.subscriber_sort_walks(merchant=merchant))
    copies = [str(head.query), str(rest(first_rows).query)]
    name = {"plan": '"plans_plan"."name"', "salesperson": '"auth_user"."first_name"'}[column]
    assert not [sql for sql in copies if re.search(f"ORDER BY {re.escape(name)}", sql)], copies
    assert "array_position" in copies[1] and "array_position" not in copies[0]
