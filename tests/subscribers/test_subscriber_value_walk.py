"""Deep pages of Assinantes in its own order (Assinou em, id; newest first) skip whole
days by their counts (core.pagination.ValueWalk) instead of an OFFSET through every row before the page:
the same rows, in the same order, on every page; the counts taken once and kept with the list's total."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.postgres

LIST_URL = reverse("subscribers:subscriber_list")
PER_PAGE = 7


@pytest.fixture
def dated(merchant, other_merchant):
    cache.clear()
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED, SubscriptionStatus.PAST_DUE]
    for n in range(45):
        SubscriptionFactory(
            merchant=merchant,
            contract_date=dt.date(2025, 1, 1) + dt.timedelta(days=(n * 7) % 11),  # many ties per day
            status=statuses[n % len(statuses)],
        )
    SubscriptionFactory(merchant=other_merchant, contract_date=dt.date(2025, 1, 3))  # never counted


def listed_pks(client, params):
    pks, page = [], 1
    while True:
        response = client.get(LIST_URL, {**params, "per_page": PER_PAGE, "page": page})
        assert response.status_code == 200
        pks += [row.record.pk for row in response.context["table"].page.object_list]
        if page >= response.context["table"].paginator.num_pages:
            return pks
        page += 1


@pytest.mark.parametrize("status", ["", SubscriptionStatus.CANCELED])
def test_every_page_equals_the_plain_order(owner_client, merchant, dated, status, monkeypatch):
    """Pages before the middle walk forward, pages after it from the end: both by the day counts."""
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", 3)  # every page but the first walks by counts
    rows = Subscription.objects.filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    expected = list(rows.order_by("-contract_date", "-pk").values_list("pk", flat=True))

    assert listed_pks(owner_client, {"status": status}) == expected


def test_a_deep_page_counts_the_days_once_and_offsets_within_a_day(
    owner_client, merchant, dated, monkeypatch
):
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", PER_PAGE)
    page = {"per_page": PER_PAGE, "page": 3}  # rows 15-21: in the middle of the list

    owner_client.get(LIST_URL, {**page, "page": 1})  # the session's first save
    with CaptureQueriesContext(connection) as first:
        assert owner_client.get(LIST_URL, page).status_code == 200
    with CaptureQueriesContext(connection) as again:
        response = owner_client.get(LIST_URL, page)

    counted = [q["sql"] for q in first.captured_queries if "GROUP BY" in q["sql"] and "COUNT(*)" in q["sql"]]
    assert len(counted) == 1 and '"contract_date"' in counted[0], counted
    assert not [q["sql"] for q in again.captured_queries if "GROUP BY" in q["sql"]]
    # The counts cost the statement timeout and the GROUP BY (and, inside the test's transaction, its
    # savepoint and the timeout's reset); the page itself stays within the list's budget.
    statements = [q["sql"] for q in first.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) - len(again.captured_queries) <= 3, statements
    assert len(again.captured_queries) <= 10
    # The page's ids come from its day(s), each read with an OFFSET within the day (a plain read: OFFSET 14).
    offsets = [int(n) for q in again.captured_queries for n in re.findall(r"OFFSET (\d+)", q["sql"])]
    assert all(offset < 14 for offset in offsets), offsets
    expected = list(
        Subscription.objects.filter(merchant=merchant)
        .order_by("-contract_date", "-pk")
        .values_list("pk", flat=True)
    )
    assert [row.record.pk for row in response.context["table"].page.object_list] == expected[14:21]
