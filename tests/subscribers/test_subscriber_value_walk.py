"""Deep pages of Assinantes in its own order (Assinou em, id; newest first) skip whole
days by their counts (core.pagination.ValueWalk) instead of an OFFSET through every row before the page:
the same rows, in the same order, on every page; the counts taken once and kept with the list's total."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.pagination import CACHED
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import SubscriptionFactory
from tests.subscribers.walks import LIST_URL, listed_pks

pytestmark = pytest.mark.postgres

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


@pytest.mark.parametrize("status", ["", SubscriptionStatus.CANCELED])
def test_every_page_equals_the_plain_order(owner_client, merchant, dated, status, monkeypatch):
    """Pages before the middle walk forward, pages after it from the end: both by the day counts."""
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", 3)  # every page but the first walks by counts
    rows = Subscription.objects.filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    expected = list(rows.order_by("-contract_date", "-pk").values_list("pk", flat=True))

    assert listed_pks(owner_client, {"status": status}, per_page=PER_PAGE) == expected


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


# Transaction control is not a query of the page (bench/subscribers.py counts statements the same way): the
# timed counts run in a transaction (BEGIN/COMMIT); inside the test's own transaction that is a SAVEPOINT,
# and the statement timeout is reset after it (core.pagination._timed), which a request never needs.
TRANSACTION = re.compile(
    r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT"
    r"|SET LOCAL statement_timeout = DEFAULT)"
)


@override_settings(LIST_EXACT_COUNT_THRESHOLD=1)  # counted like a million-row list: cached, not exact
@pytest.mark.parametrize(
    "sort,order",
    [
        ("", ("-contract_date", "-pk")),
        ("plan", ("plan__name", "plan_id", "contract_date", "pk")),
        (
            "-salesperson",
            ("-salesperson__first_name", "-salesperson__last_name", "-salesperson__username")
            + ("-salesperson_id", "-contract_date", "-pk"),
        ),
    ],
)
def test_a_deep_page_opened_first_counts_by_its_groups_within_ten_queries(
    owner_client, merchant, dated, monkeypatch, sort, order
):
    """Opened before the list's total is cached, a deep page took its total from the groups' counts it
    reads anyway (their sum) instead of a COUNT before them: ≤ 10 queries (13 before)."""
    monkeypatch.setattr("core.pagination.MAX_WALK_DEPTH", PER_PAGE)
    owner_client.get(reverse("subscribers:subscriber_export_list"))  # the session's first save
    cache.clear()
    page = {"per_page": PER_PAGE, "page": 3, "sort": sort}

    with CaptureQueriesContext(connection) as first:
        response = owner_client.get(LIST_URL, page)
    with CaptureQueriesContext(connection) as again:
        owner_client.get(LIST_URL, page)

    statements = [q["sql"] for q in first.captured_queries if not TRANSACTION.match(q["sql"])]
    assert len(statements) <= 10, statements
    assert not [sql for sql in statements if "COUNT(*)" in sql and "GROUP BY" not in sql], statements
    assert len([sql for sql in statements if "GROUP BY" in sql]) == 1
    table = response.context["table"]
    assert table.paginator.count == 45 and table.row_count.mode == CACHED
    assert "45 assinantes" in response.content.decode()
    expected = list(
        Subscription.objects.filter(merchant=merchant).order_by(*order).values_list("pk", flat=True)
    )
    assert [row.record.pk for row in table.page.object_list] == expected[14:21]
    # The total and the counts were cached together: the next request counts nothing.
    assert not [q["sql"] for q in again.captured_queries if "COUNT(" in q["sql"] or "EXPLAIN" in q["sql"]]
