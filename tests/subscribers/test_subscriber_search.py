"""Assinantes' search reads the subscription's own columns (`search_text`, `provider_id`): the search text
follows the customer's edits, means exactly what the per-field search meant, and has its trigram index on
PostgreSQL."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.pagination import LargeListPaginator
from subscribers import selectors
from subscribers.models import SEARCH_SEPARATOR, Subscription
from subscribers.services.customers import customer_details, customer_update
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def found(merchant, query):
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    return sorted(sub.customer.name for sub in selectors.subscriber_search(queryset, query=query))


def per_field(merchant, query):
    """What the search meant before search_text: the customer search through the relation, or provider id."""
    condition = selectors.customer_match_q(query, prefix="customer__")
    queryset = Subscription.objects.filter(merchant=merchant).filter(
        condition | Q(provider_id__icontains=query)
    )
    return sorted(sub.customer.name for sub in queryset)


def test_search_text_is_written_when_the_subscription_is_created(merchant):
    customer = CustomerFactory(
        merchant=merchant, name="Ana Souza", email="ana@example.com", handle="aninha", document="12345678909"
    )
    subscription = SubscriptionFactory(merchant=merchant, customer=customer, provider_id="sub_1")

    subscription.refresh_from_db()
    assert subscription.search_text.split(SEARCH_SEPARATOR) == [
        "Ana Souza",
        "ana@example.com",
        "aninha",
        "12345678909",
        "",
    ]


def test_search_text_follows_the_customers_edits(merchant, owner):
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com", handle="aninha")
    first = SubscriptionFactory(merchant=merchant, customer=customer)
    second = SubscriptionFactory(merchant=merchant, customer=customer)
    other = SubscriptionFactory(merchant=merchant)

    customer_update(
        customer=customer,
        actor=owner,
        **{
            **customer_details(customer),
            "name": "Beatriz Lima",
            "email": "bia@example.com",
            "handle": "@bialima",
            "document": "529.982.247-25",
            "phone": "",
        },
    )

    assert found(merchant, "Ana Souza") == []
    assert found(merchant, "aninha") == []
    assert found(merchant, "Beatriz") == ["Beatriz Lima", "Beatriz Lima"]
    assert found(merchant, "bia@") == ["Beatriz Lima", "Beatriz Lima"]
    assert found(merchant, "@bialima") == ["Beatriz Lima", "Beatriz Lima"]
    assert found(merchant, "529.982.247-25") == ["Beatriz Lima", "Beatriz Lima"]
    for subscription in (first, second):
        subscription.refresh_from_db()
        assert subscription.search_text.startswith("Beatriz Lima" + SEARCH_SEPARATOR)
    other_text = Subscription.objects.get(pk=other.pk).search_text
    assert "Beatriz" not in other_text


def test_saving_an_unrelated_customer_field_leaves_the_search_text(merchant, django_assert_num_queries):
    customer = CustomerFactory(merchant=merchant, name="Ana")
    SubscriptionFactory(merchant=merchant, customer=customer)
    customer.phone = "11 99999-0000"

    with django_assert_num_queries(1):  # the customer's UPDATE alone
        customer.save(update_fields=["phone"])


def test_an_edit_in_the_admin_reaches_the_search(merchant, admin_user):
    customer = CustomerFactory(merchant=merchant, name="Ana", email="ana@example.com", handle="ana")
    SubscriptionFactory(merchant=merchant, customer=customer)
    client = Client()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:subscribers_customer_change", args=[customer.pk]),
        {
            "merchant": merchant.pk,
            "name": "Carla Dias",
            "email": "carla@example.com",
            "handle": "carla",
            "document": "",
            "phone": "",
        },
    )

    assert response.status_code == 302
    assert found(merchant, "Carla") == ["Carla Dias"]
    assert found(merchant, "Ana") == []


def test_moving_a_subscription_to_another_customer_moves_its_search_text(merchant):
    subscription = SubscriptionFactory(
        merchant=merchant, customer=CustomerFactory(merchant=merchant, name="Ana")
    )
    subscription.customer = CustomerFactory(merchant=merchant, name="Bruno")
    subscription.save(update_fields=["customer"])

    assert found(merchant, "Bruno") == ["Bruno"]
    assert found(merchant, "Ana") == []


@pytest.mark.parametrize(
    "query",
    [
        "ana",
        "ANA",
        "@ana",  # the handle without "@", or "@ana" in an e-mail
        "@example",  # every e-mail, no handle
        "@mariazinha",
        "maria",
        "123.456",  # a CPF's digits with punctuation: the document only, not an e-mail's digits
        "123456",  # digits: the document, the e-mail and the provider id alike
        "529.982.247-25",
        "sub_",
        "SUB_A",
        "a.s",
        "@",
        "-",
        "ana souza@",
        "zzz",
        "%",
        "_",
        "\\",
        # E-mail-looking: the index is asked for the part up to the "@", the whole query checked after.
        "ana.souza123456@example.com",
        "ANA.Souza123456@Example.COM",
        "souza123456@example",
        "na.souza123456@example.com",  # inside an e-mail: still "contains"
        "ana.souza123456@example.org",  # the part before "@" matches, the rest does not
        "carlos_100@example.com",  # "_" is a character, not LIKE's wildcard
        "carlosX100@example.com",
        "100%@example",
        "jo@example.com",  # too short for a trigram: searched whole
        "joana@example.com",
        "bruna@mariazinha",
        "mariazinha@",
        "aninha@example.com",  # a handle is not followed by "@": no match
    ],
)
def test_search_means_what_the_per_field_search_meant(merchant, query):
    people = [
        ("Ana Souza", "ana.souza123456@example.com", "aninha", "52998224725", "sub_a"),
        ("Joana Maria", "joana@example.com", "jo", "12345678909", "sub_b"),
        ("Bruna Lopes", "bruna@mariazinha.com", "mariazinha", "", ""),
        ("Carlos 100%", "carlos_100@example.com", "carlos", "11222333000181", "123456"),
        ("Dora", "dora@example.com", "", "", "SUB_Z"),
    ]
    for name, email, handle, document, provider_id in people:
        customer = CustomerFactory(
            merchant=merchant, name=name, email=email, handle=handle, document=document
        )
        SubscriptionFactory(merchant=merchant, customer=customer, provider_id=provider_id)

    assert found(merchant, query) == per_field(merchant, query)


def test_search_text_of_another_merchant_is_not_searched(merchant, other_merchant):
    SubscriptionFactory(
        merchant=other_merchant, customer=CustomerFactory(merchant=other_merchant, name="Ana")
    )

    assert found(merchant, "Ana") == []


@pytest.mark.postgres
def test_search_text_has_its_trigram_index(merchant):
    SubscriptionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant, name="Ana Souza"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'sub_search_text_trgm_idx'")
        (definition,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "gin" in definition and "gin_trgm_ops" in definition and "upper(search_text)" in definition

    plan = Subscription.objects.filter(selectors.subscriber_match_q("souza")).explain()
    assert "sub_search_text_trgm_idx" in plan
    assert found(merchant, "souza") == ["Ana Souza"]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query,asked",
    [
        ("ana.souza123456@example.com", "%ANA.SOUZA123456@%"),
        ("souza123456@example", "%SOUZA123456@%"),
        ("jo@example.com", "%JO@EXAMPLE.COM%"),  # no trigram before the "@": the whole query
        ("ana souza", "%ANA SOUZA%"),
    ],
)
def test_an_e_mail_asks_the_trigram_index_for_its_part_before_the_at(merchant, query, asked):
    # The domain's trigrams are in nearly every row: asking the index for them read 6,400 index pages at a
    # million subscriptions, against 700 for the part before the "@" (bench/README.md, session 8).
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana.souza123456@example.com")
    SubscriptionFactory(merchant=merchant, customer=customer)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the planner use an index
    queryset = Subscription.objects.filter(selectors.subscriber_match_q(query)).order_by()

    plan = queryset.explain()

    index_conditions = [line for line in plan.splitlines() if "Index Cond: (upper(search_text)" in line]
    assert index_conditions and all(f"'{asked}'" in line for line in index_conditions), plan
    assert [sub.customer.name for sub in queryset] == (["Ana Souza"] if "souza" in query else [])


def test_a_short_page_still_picks_its_ids_with_a_whole_pages_limit(merchant):
    # With LIMIT 1 (an exact count of 1), PostgreSQL expected its estimate of ~100 matches of a rare
    # search to show up early in the date index and walked all of it instead of using the trigram index.
    SubscriptionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant, name="Ana Souza"))
    queryset = selectors.subscriber_search(
        selectors.subscriber_list_queryset().filter(merchant=merchant), query="souza"
    )
    paginator = LargeListPaginator(queryset, 25, count=1)

    with CaptureQueriesContext(connection) as captured:
        rows = list(paginator.page(1).object_list)

    assert [sub.customer.name for sub in rows] == ["Ana Souza"]
    (sql,) = [query["sql"] for query in captured.captured_queries]
    assert "LIMIT 25" in sql
