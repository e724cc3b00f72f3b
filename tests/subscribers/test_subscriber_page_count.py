"""A small Assinantes list (a rare search: the planner's estimate under LIST_EXACT_COUNT_THRESHOLD) is counted
by the page's own id query (`COUNT(*) OVER ()`, core.pagination.LargeListPaginator(count_with_page=True)):
the matches are found once per request instead of once for the COUNT and once for the page. Same rows,
same order, same exact total as the COUNT then the page; the sorts read by a group walk, pages past the end
and empty lists keep the plain COUNT."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.pagination import EXACT, LargeListPaginator
from subscribers import selectors
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.postgres

LIST_URL = reverse("subscribers:subscriber_list")
PER_PAGE = 4


@pytest.fixture
def people(merchant, other_merchant):
    cache.clear()
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED, SubscriptionStatus.PAST_DUE]
    for n in range(23):
        first = ["Ana", "Bruno", "Carla"][n % 3]
        SubscriptionFactory(
            merchant=merchant,
            customer=CustomerFactory(
                merchant=merchant, name=f"{first} Souza {n:02d}", email=f"{first.lower()}{n}@bench.example"
            ),
            contract_date=dt.date(2025, 1, 1) + dt.timedelta(days=n // 3),  # ties: the id decides
            status=statuses[n % len(statuses)],
            provider_id=f"sub_{n}",
        )
    SubscriptionFactory(
        merchant=other_merchant, customer=CustomerFactory(merchant=other_merchant, name="Ana Souza 99")
    )
    yield
    cache.clear()


def searched(merchant, query, order_by=None):
    queryset = selectors.subscriber_search(
        selectors.subscriber_list_queryset().filter(merchant=merchant), query=query
    )
    return queryset.order_by(*order_by) if order_by else queryset


def plain_count_pages(queryset):
    """The old path: an exact COUNT, then each page by the paginator told that count."""
    paginator = LargeListPaginator(queryset, PER_PAGE, count=queryset.count())
    return paginator.count, [[sub.pk for sub in paginator.page(n).object_list] for n in paginator.page_range]


QUERIES = ["Ana", "souza 1", "bench.example", "bruno7@bench.example", "sub_2", "zzz"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("order_by", [None, ("sort_name", "pk"), ("-amount", "-pk")])
def test_every_page_and_the_total_equal_the_count_then_the_page(merchant, people, query, order_by):
    queryset = searched(merchant, query, order_by)
    total, expected = plain_count_pages(queryset)

    pages = []
    for number in range(1, max(len(expected), 1) + 1):
        paginator = LargeListPaginator(queryset, PER_PAGE, count_with_page=True)  # a fresh request per page
        pages.append([sub.pk for sub in paginator.page(number).object_list])
        assert paginator.count == total, (query, number)

    assert pages == (expected or [[]])


def test_a_page_with_its_count_is_two_queries_and_no_count(merchant, people):
    queryset = searched(merchant, "souza 1")  # 10 … 19: ten matches, three pages of 4
    rows = selectors.subscriber_list_queryset().filter(merchant=merchant)  # the view's unfiltered rows
    paginator = LargeListPaginator(queryset, PER_PAGE, count_with_page=True, rows=rows)

    with CaptureQueriesContext(connection) as captured:
        rows = list(paginator.page(2).object_list)

    assert paginator.count == 10
    assert [sub.pk for sub in rows] == [sub.pk for sub in queryset[4:8]]
    ids_sql, rows_sql = [q["sql"] for q in captured.captured_queries]
    assert "COUNT(*) OVER ()" in ids_sql and ids_sql.count(" LIKE ") == 2 and "OFFSET 4" in ids_sql
    assert " LIKE " not in rows_sql  # the rows by their ids: the search ran once


def test_a_page_past_the_end_falls_back_to_the_count(merchant, people):
    paginator = LargeListPaginator(searched(merchant, "souza 1"), PER_PAGE, count_with_page=True)

    with pytest.raises(EmptyPage):
        paginator.page(4)
    assert paginator.count == 10  # counted by a plain COUNT once the page came back empty


def test_no_match_is_an_empty_first_page(merchant, people):
    paginator = LargeListPaginator(searched(merchant, "zzz"), PER_PAGE, count_with_page=True)

    assert list(paginator.page(1).object_list) == []
    assert paginator.count == 0


def test_a_sort_read_by_a_group_walk_keeps_its_walk(merchant, people):
    queryset = searched(merchant, "souza", ("plan__name", "plan_id", "contract_date", "pk"))
    walks = selectors.subscriber_page_walks(merchant=merchant)
    paginator = LargeListPaginator(queryset, PER_PAGE, count_with_page=True, walks=walks)

    with CaptureQueriesContext(connection) as captured:
        rows = list(paginator.page(2).object_list)

    assert [sub.pk for sub in rows] == [sub.pk for sub in queryset[4:8]]
    assert paginator.count == 23
    assert not [q["sql"] for q in captured.captured_queries if "OVER ()" in q["sql"]]


def test_the_list_counts_a_rare_search_with_its_page(owner_client, merchant, people):
    owner_client.get(LIST_URL)  # the session's first save

    with CaptureQueriesContext(connection) as captured:
        response = owner_client.get(LIST_URL, {"q": "souza 1", "per_page": PER_PAGE, "page": 3})

    table = response.context["table"]
    assert table.paginator.count == 10 and table.row_count.value == 10 and table.row_count.mode == EXACT
    assert 'data-count-mode="exact">10 assinantes</span>' in response.content.decode()
    expected = list(searched(merchant, "souza 1").values_list("pk", flat=True))
    assert [row.record.pk for row in table.page.object_list] == expected[8:10]
    statements = [q["sql"] for q in captured.captured_queries]
    # Found once: no COUNT(*) of the matches beside the page's id query (only the planner's EXPLAIN).
    assert not [sql for sql in statements if "COUNT(*)" in sql and "OVER ()" not in sql]
    assert len([sql for sql in statements if " LIKE " in sql and not sql.startswith("EXPLAIN")]) == 1
    assert len(statements) <= 10


def test_the_list_past_the_last_page_shows_the_last_page(owner_client, merchant, people):
    response = owner_client.get(LIST_URL, {"q": "souza 1", "per_page": PER_PAGE, "page": 9})

    table = response.context["table"]
    assert table.paginator.count == 10 and table.page.number == 3
    assert len(table.page.object_list) == 2


def test_a_filter_without_search_counts_with_its_page_too(owner_client, merchant, people):
    response = owner_client.get(LIST_URL, {"status": SubscriptionStatus.CANCELED, "per_page": PER_PAGE})

    rows = Subscription.objects.filter(merchant=merchant, status=SubscriptionStatus.CANCELED)
    table = response.context["table"]
    assert table.paginator.count == rows.count() == 8
    expected = list(rows.order_by("-contract_date", "-pk").values_list("pk", flat=True))
    assert [row.record.pk for row in table.page.object_list] == expected[:PER_PAGE]


def test_a_list_estimated_near_the_threshold_keeps_its_count(owner_client, merchant, people, monkeypatch):
    # Only rare lists (estimate under COUNT_WITH_PAGE_BELOW) are counted by the page: near the exact-count
    # threshold the window saved nothing, and it would make an index-ordered page read every match.
    monkeypatch.setattr("core.pagination.COUNT_WITH_PAGE_BELOW", 0)
    owner_client.get(LIST_URL)  # the session's first save

    with CaptureQueriesContext(connection) as captured:
        response = owner_client.get(LIST_URL, {"q": "souza 1", "per_page": PER_PAGE})

    statements = [q["sql"] for q in captured.captured_queries]
    assert [sql for sql in statements if "COUNT(*)" in sql and "OVER ()" not in sql]
    assert not [sql for sql in statements if "OVER ()" in sql]
    assert response.context["table"].paginator.count == 10
