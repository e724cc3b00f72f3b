"""Assinantes at scale: the total is exact, cached or estimated (and the page says which), far pages are
read from the end of the ordering and equal a forward read, and the filters' indexes exist."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.pagination import (
    CACHED,
    ESTIMATE,
    EXACT,
    LargeListPaginator,
    RowCount,
    count_rows,
    estimate_rows,
)
from subscribers import selectors
from subscribers.choices import SubscriptionStatus
from subscribers.models import Customer, Subscription
from subscribers.selectors import customer_match_q
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("subscribers:subscriber_list")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def subscribers(merchant, count, **fields):
    """`count` subscriptions a day apart, newest contract first when listed (names "Cliente 000" oldest)."""
    start = dt.date(2024, 1, 1)
    return [
        SubscriptionFactory(
            merchant=merchant,
            customer=CustomerFactory(merchant=merchant, name=f"Cliente {n:03d}", email=f"c{n}@example.com"),
            contract_date=start + dt.timedelta(days=n),
            **fields,
        )
        for n in range(count)
    ]


def names(response):
    return [row.record.customer.name for row in response.context["table"].page.object_list]


def test_last_page_shows_the_oldest_subscriptions_in_order(owner_client, merchant):
    subscribers(merchant, 60)

    response = owner_client.get(LIST_URL, {"page": 3})

    assert response.status_code == 200
    assert names(response) == [f"Cliente {n:03d}" for n in range(9, -1, -1)]
    assert response.context["table"].paginator.num_pages == 3


def test_every_page_read_from_the_end_equals_the_forward_read(merchant):
    subscribers(merchant, 23)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    forward = list(queryset)

    paginator = LargeListPaginator(queryset, 5, count=len(forward))
    pages = [list(paginator.page(number).object_list) for number in paginator.page_range]

    assert [sub for page in pages for sub in page] == forward
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]


def test_far_pages_read_from_the_end_with_a_descending_query(merchant, django_assert_num_queries):
    subscribers(merchant, 12)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    paginator = LargeListPaginator(queryset, 5, count=12)

    with django_assert_num_queries(1) as captured:
        last = list(paginator.page(3).object_list)

    assert [sub.customer.name for sub in last] == ["Cliente 001", "Cliente 000"]
    # The page's ids come from the reversed order with no OFFSET; the rows are then put back in order.
    sql = captured.captured_queries[0]["sql"]
    assert re.search(r'IN \(SELECT \S+ AS "pk" .* ORDER BY \S+"contract_date" ASC, 1 ASC LIMIT 2\)\)', sql)
    assert "OFFSET" not in sql


def test_sorted_last_page_follows_the_sort(owner_client, merchant):
    subscribers(merchant, 30)

    response = owner_client.get(LIST_URL, {"sort": "name", "page": 2})

    assert names(response) == [f"Cliente {n:03d}" for n in range(25, 30)]


def test_small_lists_count_exactly_and_say_so(owner_client, merchant):
    subscribers(merchant, 3)

    html = owner_client.get(LIST_URL).content.decode()

    assert 'data-count-mode="exact">3 assinantes</span>' in html


def test_estimated_total_is_rounded_and_labelled():
    count = RowCount(1_034_512, ESTIMATE)

    assert count.shown == 1_000_000
    assert RowCount(1_034_512, CACHED).shown == 1_034_512
    assert RowCount(57, ESTIMATE).shown == 57


@pytest.mark.postgres
@override_settings(LIST_EXACT_COUNT_THRESHOLD=1)
def test_above_the_threshold_the_total_is_cached_and_the_page_says_when(owner_client, merchant):
    subscribers(merchant, 4)

    first = owner_client.get(LIST_URL, {"status": "active"}).content.decode()
    Subscription.objects.filter(merchant=merchant).update(status=SubscriptionStatus.ACTIVE)
    SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.ACTIVE)
    second = owner_client.get(LIST_URL, {"status": "active"}).content.decode()

    assert 'data-count-mode="cached"' in first
    assert "4 assinantes" in first and "(atualizado agora)" in first
    # Within the cache period the same filters reuse the stored count; the rows themselves are current.
    assert "4 assinantes" in second
    assert owner_client.get(LIST_URL, {"status": "canceled"}).context["table"].paginator.count == 0


@pytest.mark.postgres
@override_settings(LIST_EXACT_COUNT_THRESHOLD=1, LIST_COUNT_CACHE_SECONDS=600)
def test_cached_total_shows_its_age(owner_client, merchant):
    subscribers(merchant, 2)
    owner_client.get(LIST_URL)

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=150)):
        html = owner_client.get(LIST_URL).content.decode()

    assert "(atualizado há 2 min)" in html


@pytest.mark.postgres
@override_settings(LIST_EXACT_COUNT_THRESHOLD=1)
def test_when_counting_is_too_slow_the_page_shows_the_estimate(owner_client, merchant):
    subscribers(merchant, 2)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    # The COUNT timed out a moment ago: the estimate taken then is shown until the entry expires.
    cache.set("slow-count", {"value": None, "estimate": 1234, "as_of": timezone.now()})

    count = count_rows(queryset, cache_key="slow-count")

    assert count == RowCount(1234, ESTIMATE)


@pytest.mark.postgres
def test_the_count_gives_up_after_its_timeout(merchant):
    subscribers(merchant, 2)
    queryset = Subscription.objects.filter(merchant=merchant).extra(where=["pg_sleep(0.2) IS NOT NULL"])

    with override_settings(LIST_EXACT_COUNT_THRESHOLD=1, LIST_COUNT_TIMEOUT_MS=50):
        count = count_rows(queryset, cache_key="sleepy")

    assert count.mode == ESTIMATE
    # The connection is usable afterwards and keeps no timeout.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.1), 1")
        assert cursor.fetchone()[1] == 1


@pytest.mark.postgres
@override_settings(LIST_EXACT_COUNT_THRESHOLD=5)
def test_a_list_estimated_small_but_counted_large_is_cached_like_a_large_one(
    merchant, django_assert_num_queries
):
    subscribers(merchant, 6)
    # random() >= 0 always holds, but the planner takes a third of the rows for each: a few rows estimated.
    queryset = Subscription.objects.filter(merchant=merchant).extra(where=["random() >= 0"] * 3)
    assert estimate_rows(queryset) < 5

    first = count_rows(queryset, cache_key="underestimated")
    with django_assert_num_queries(0):
        second = count_rows(queryset, cache_key="underestimated")

    assert first.mode == CACHED and second == first and first.value == 6


def test_sqlite_and_small_lists_count_exactly(merchant):
    subscribers(merchant, 3)
    queryset = Subscription.objects.filter(merchant=merchant)

    assert count_rows(queryset, cache_key="any") == RowCount(3, EXACT)


@pytest.mark.postgres
def test_filter_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        subscription = connection.introspection.get_constraints(cursor, "subscribers_subscription")
        customer = connection.introspection.get_constraints(cursor, "subscribers_customer")
        payment = connection.introspection.get_constraints(cursor, "billing_payment")
        invoice = connection.introspection.get_constraints(cursor, "billing_invoice")

    assert subscription["sub_merchant_contract_idx"]["columns"] == ["merchant_id", "contract_date", "id"]
    assert subscription["sub_merchant_status_idx"]["columns"] == [
        "merchant_id",
        "status",
        "contract_date",
        "id",
    ]
    for name in [
        "sub_merchant_inactive_idx",
        "sub_merchant_method_idx",
        "sub_merchant_plan_idx",
        "sub_merchant_cancel_origin_idx",
        "sub_merchant_ended_sort_idx",
    ]:
        assert subscription[name]["index"]
    assert subscription["sub_provider_id_trgm_idx"]["type"] == "gin"
    for name in [
        "customer_name_trgm_idx",
        "customer_email_trgm_idx",
        "customer_handle_trgm_idx",
        "customer_document_trgm_idx",
    ]:
        assert customer[name]["type"] == "gin"
    assert payment["payment_invoice_latest_idx"]["columns"][:3] == ["invoice_id", "created_at", "id"]
    assert invoice["invoice_subscription_id_idx"]["columns"] == ["subscription_id", "id"]


@pytest.mark.postgres
def test_search_uses_the_trigram_indexes(merchant):
    subscribers(merchant, 3)
    customers = Customer.objects.filter(customer_match_q("cliente 001"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = customers.explain()

    assert "customer_name_trgm_idx" in plan and "customer_email_trgm_idx" in plan
    queryset = selectors.subscriber_search(
        selectors.subscriber_list_queryset().filter(merchant=merchant), query="cliente 001"
    )
    assert [sub.customer.name for sub in queryset] == ["Cliente 001"]


def test_search_finds_by_customer_or_provider_id(merchant):
    first, second, third = subscribers(merchant, 3)
    Subscription.objects.filter(pk=third.pk).update(provider_id="sub_XYZ123")
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)

    assert list(selectors.subscriber_search(queryset, query="Cliente 000")) == [first]
    assert list(selectors.subscriber_search(queryset, query="xyz12")) == [third]
    assert list(selectors.subscriber_search(queryset, query="c1@example")) == [second]


def test_invalid_filters_list_nothing_and_count_nothing(owner_client, merchant):
    subscribers(merchant, 2)

    response = owner_client.get(LIST_URL, {"subscribed_from": "not-a-date"})

    assert response.status_code == 200
    assert response.context["table"].paginator.count == 0


# --- Deferred join: a page's ids first (narrow query, OFFSET), then only those rows ----------------------
def tied_subscribers(merchant, count, **fields):
    """`count` subscriptions, three per contract day, so the order relies on the id tie-break."""
    return [
        SubscriptionFactory(
            merchant=merchant,
            customer=CustomerFactory(merchant=merchant, name=f"Cliente {n:03d}"),
            contract_date=dt.date(2024, 1, 1) + dt.timedelta(days=n // 3),
            **fields,
        )
        for n in range(count)
    ]


def test_every_page_equals_a_plain_offset_query_with_ties(merchant):
    tied_subscribers(merchant, 29)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    paginator = LargeListPaginator(queryset, 4, count=29)

    for number in paginator.page_range:
        bottom = (number - 1) * 4
        plain = [sub.pk for sub in queryset[bottom : bottom + 4]]
        assert [sub.pk for sub in paginator.page(number).object_list] == plain, number


def test_middle_page_selects_only_ids_with_the_offset(merchant, django_assert_num_queries):
    tied_subscribers(merchant, 30)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    paginator = LargeListPaginator(queryset, 5, count=30)

    with django_assert_num_queries(1) as captured:
        rows = list(paginator.page(3).object_list)

    assert [sub.pk for sub in rows] == [sub.pk for sub in queryset[10:15]]
    assert [sub.last_payment_status for sub in rows] == [""] * 5  # no payment yet: the column is empty
    sql = captured.captured_queries[0]["sql"]
    # The inner query selects the id alone (no joins, no last-payment subquery) and skips the rows.
    inner = re.search(r"IN \((SELECT .*? LIMIT 5 OFFSET 10)\)", sql).group(1)
    assert re.match(r'SELECT (\w+)\."id" AS "pk" FROM "subscribers_subscription" \1 WHERE', inner)
    assert "billing_payment" not in inner and "JOIN" not in inner


def test_sorted_pages_equal_a_plain_offset_query(merchant):
    tied_subscribers(merchant, 14)
    queryset = (
        selectors.subscriber_list_queryset().filter(merchant=merchant).order_by("-customer__name", "pk")
    )
    paginator = LargeListPaginator(queryset, 3, count=14)

    pages = [[sub.pk for sub in paginator.page(number).object_list] for number in paginator.page_range]

    assert [pk for page in pages for pk in page] == [sub.pk for sub in queryset]


def test_rows_queryset_runs_the_filters_once(owner_client, merchant, django_assert_max_num_queries):
    tied_subscribers(merchant, 6)
    owner_client.get(LIST_URL)  # the session's first save

    with django_assert_max_num_queries(10) as captured:
        response = owner_client.get(LIST_URL, {"q": "Cliente 00"})

    assert names(response) == [f"Cliente {n:03d}" for n in range(5, -1, -1)]
    # The search (search text or provider id): two LIKEs, in one query — the page's ids, which count the
    # matches too (a small list: no separate COUNT) — besides the planner's estimate (EXPLAIN).
    searched = [
        q["sql"]
        for q in captured.captured_queries
        if " LIKE " in q["sql"] and not q["sql"].startswith("EXPLAIN")
    ]
    assert len(searched) == 1 and searched[0].count(" LIKE ") == 2, searched
    assert "COUNT(*) OVER ()" in searched[0]
    (page_sql,) = [q["sql"] for q in captured.captured_queries if "last_payment_status" in q["sql"]]
    assert " LIKE " not in page_sql


def test_empty_list_page_runs_no_row_query(merchant, django_assert_num_queries):
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    paginator = LargeListPaginator(queryset, 5, count=0)

    with django_assert_num_queries(0):
        assert list(paginator.page(1).object_list) == []


def test_canceled_range_keeps_the_list_order_with_ties(owner_client, merchant):
    subs = tied_subscribers(
        merchant, 9, status=SubscriptionStatus.CANCELED, ended_at=dt.datetime(2025, 4, 2, 12, tzinfo=dt.UTC)
    )
    expected = [
        sub.customer.name for sub in sorted(subs, key=lambda s: (s.contract_date, s.pk), reverse=True)
    ]

    first = owner_client.get(LIST_URL, {"canceled_from": "2025-04-01", "canceled_to": "2025-04-30"})
    second = owner_client.get(
        LIST_URL, {"canceled_from": "2025-04-01", "canceled_to": "2025-04-30", "per_page": 4, "page": 2}
    )

    last = owner_client.get(
        LIST_URL, {"canceled_from": "2025-04-01", "canceled_to": "2025-04-30", "per_page": 4, "page": 3}
    )

    assert names(first) == expected
    assert names(second) == expected[4:8]
    assert names(last) == expected[8:]  # read from the end: the reversed expression order


@pytest.mark.postgres
def test_canceled_range_is_read_through_its_own_index(merchant):
    """The list's order is written so PostgreSQL reads the range by (merchant, ended_at, …) and sorts the
    matches, rather than walking every subscription by contract date."""
    queryset = selectors.subscriber_order_sorting_matches(
        Subscription.objects.filter(
            merchant=merchant,
            ended_at__gte=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
            ended_at__lt=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.values("pk")[:25].explain()

    # (Which index reads the range depends on the table's statistics; at a million rows it is
    # sub_merchant_ended_sort_idx, index-only. What matters: the matches are sorted, not walked in order.)
    assert "Sort Key: (COALESCE(contract_date, contract_date)) DESC, id DESC" in plan
    assert "sub_merchant_contract_idx" not in plan
