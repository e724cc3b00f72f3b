"""On PostgreSQL the export's rows are written by the database (COPY, every cell formatted in SQL); the
Python path (SQLite) formats them row by row. Both must give the same bytes for the same rows."""

import datetime as dt
import zoneinfo

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from billing.choices import PaymentStatus
from billing.services.last_payment import sync_last_payment_status
from subscribers import exports, selectors
from subscribers.choices import CancelOrigin, ExportStatus, PaymentMethod, SubscriptionStatus
from subscribers.filtersets import SubscriberFilterSet
from subscribers.models import SubscriberExport
from subscribers.services.exports import subscriber_export_start
from subscribers.tables import SubscriberTable
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

UTC = dt.UTC
NAMES = [
    'Ana; "Bia", a segunda',
    "linha\nquebrada",
    "volta\rao início",
    "\rCR",
    "\tTab",
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\\.",
    " espaço ",
    "Conceição Müller",
    "Ana-Maria",
    "'já citada",
]


def world(merchant):
    """Subscriptions covering every column's cases: quoting, formulas, statuses, dates near midnight,
    amounts and currencies, card display, salespeople, last payments."""
    plans = [
        PlanFactory(merchant=merchant, name="Mensal"),
        PlanFactory(merchant=merchant, name="=Plano perigoso", currency="USD"),
    ]
    sellers = [
        None,
        UserFactory(first_name="Bruna", last_name="Lima"),
        UserFactory(first_name="", last_name="", username="so_usuario"),
        UserFactory(first_name=" Caio", last_name="", username="caio"),
        UserFactory(first_name="-Dani", last_name="Ré", username="dani"),
    ]
    statuses = list(SubscriptionStatus)
    amounts = [0, 5, 99, 100, 4990, 123456, -150, 100000000, 123456789012]
    midnight = dt.datetime(2025, 4, 2, 2, 30, tzinfo=UTC)  # 1 April in São Paulo, 2 April in UTC
    rows = []
    for n, name in enumerate(NAMES * 3):
        status = statuses[n % len(statuses)]
        ended = status in (
            SubscriptionStatus.CANCELED,
            SubscriptionStatus.EXPIRED,
            SubscriptionStatus.REFUNDED,
        )
        customer = CustomerFactory(
            merchant=merchant,
            name=name,
            email=f"cliente{n}@example.com",
            handle="" if n % 3 == 0 else f"cliente{n}",
            document="" if n % 2 else "12345678909",
        )
        plan = plans[n % 2]
        sub = SubscriptionFactory(
            merchant=merchant,
            customer=customer,
            plan=plan,
            currency=plan.currency,
            status=status,
            amount=amounts[n % len(amounts)],
            payment_method=list(PaymentMethod)[n % 4],
            card_brand=["", "Visa", "=Brand"][n % 3],
            card_last4="" if n % 4 == 1 else "4242",
            contract_date=dt.date(2024, 1, 1) + dt.timedelta(days=13 * n),
            billing_cycle_anchor=midnight + dt.timedelta(days=n),
            started_at=None if n % 5 == 0 else midnight,
            current_period_end=None if n % 7 == 3 else midnight + dt.timedelta(days=30 + n),
            cancel_at=midnight + dt.timedelta(days=20) if n % 4 == 2 else None,
            access_until=midnight + dt.timedelta(days=n) if n % 2 else None,
            ended_at=midnight + dt.timedelta(hours=n) if ended else None,
            cancel_origin=list(CancelOrigin)[n % 3] if ended else "",
            salesperson=sellers[n % len(sellers)],
            provider_id=["", "sub_123", "+5511999", "@prov"][n % 4],
        )
        for day, payment_status in enumerate(list(PaymentStatus)[: n % 3]):
            payment = PaymentFactory(
                merchant=merchant,
                invoice=InvoiceFactory(merchant=merchant, subscription=sub),
                status=payment_status,
            )
            type(payment).objects.filter(pk=payment.pk).update(
                created_at=dt.datetime(2025, 1, 1 + day, tzinfo=UTC)
            )
        sync_last_payment_status([sub.pk])  # dates rewritten behind the ORM's back
        rows.append(sub)
    return rows


def both_paths(queryset, **options):
    python = b"".join(exports.stream_csv_rows(queryset, counter=[0], **options))
    counter = [0]
    database = b"".join(exports.stream_csv_copy(queryset, counter=counter, **options))
    return python, database, counter[0]


@pytest.mark.parametrize("output_format", [exports.HUMAN, exports.MACHINE])
@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_database_and_python_write_the_same_bytes(merchant, output_format, delimiter, language):
    rows = world(merchant)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)

    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python, database, counted = both_paths(queryset, delimiter=delimiter, output_format=output_format)

    assert database == python
    assert counted == len(rows)
    assert b"'=HYPERLINK" in database and b'"linha\nquebrada"' in database


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "name"},
        {"sort": "-last_payment_status"},
        {"sort": "salesperson", "group": "inactive"},
        {"status": "active", "sort": "-amount"},
        {"q": "ana", "sort": "contract_date"},
    ],
)
def test_same_bytes_for_filtered_sorted_exports(merchant, params):
    world(merchant)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    filtered = SubscriberFilterSet(params, queryset=queryset, merchant=merchant).qs
    rows = SubscriberTable(filtered, order_by=params.get("sort")).data.data

    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python, database, counted = both_paths(rows, delimiter=";", output_format=exports.HUMAN)

    assert database == python
    assert counted == rows.count()


@pytest.mark.parametrize(
    ("order", "keys_first"),
    [
        (("-contract_date", "-pk"), True),
        (("plan_id", "customer__name", "pk"), True),
        (("plan", "-pk"), False),
    ],
)
def test_the_sort_keys_are_selected_before_the_cells_unless_the_order_names_a_relation(
    merchant, order, keys_first
):
    # PostgreSQL sorts the rows as selected: keys after eighteen text cells cost a walk over the cells on
    # every tie. Ordered by a relation ("plan": the plan's own ordering, by name) the ORDER BY stays as is.
    plans = [PlanFactory(merchant=merchant, name=name) for name in ("Zeta", "Alfa")]
    for n in range(6):
        SubscriptionFactory(
            merchant=merchant,
            plan=plans[n % 2],
            customer=CustomerFactory(merchant=merchant, name=f"Cliente {5 - n}"),
            contract_date=dt.date(2025, 1, 1 + n // 2),
        )
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant).order_by(*order)

    sql = str(exports.copy_queryset(queryset).query)
    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python, database, counted = both_paths(queryset, delimiter=";", output_format=exports.HUMAN)

    assert database == python and counted == 6
    selected = sql.split(" FROM ")[0]
    if keys_first:
        assert selected.index(f"export_key_{len(order) - 1}") < selected.index("export_cell_0")
    else:
        assert "export_key_" not in sql


@pytest.mark.parametrize("most", [16, 1])
def test_few_salespeople_cells_are_chosen_by_id_with_the_same_bytes(merchant, monkeypatch, most):
    # Up to MAX_SALESPEOPLE_BY_ID the Vendedor cell is picked by the salesperson's id among cells written
    # once each (no join to the users); past it, written from the joined user on every row as before.
    monkeypatch.setattr(exports, "MAX_SALESPEOPLE_BY_ID", most)
    sellers = [
        UserFactory(first_name=" Caio", last_name="", username="caio"),
        UserFactory(first_name="-Dani", last_name="Ré", username="dani"),
        UserFactory(first_name="", last_name="", username="so_usuario"),
    ]
    for seller in [*sellers, None]:
        SubscriptionFactory(merchant=merchant, salesperson=seller)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    walks = selectors.subscriber_sort_walks(merchant=merchant)

    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python = b"".join(
            exports.stream_csv_rows(queryset, delimiter=";", output_format="human", counter=[0])
        )
        database = b"".join(
            exports.stream_csv_copy(queryset, delimiter=";", output_format="human", counter=[0], walks=walks)
        )
        head, _rest = exports._segments(queryset, "human", walks)

    assert database == python
    assert b";'-Dani R\xc3\xa9;" in database and b";Caio;" in database and b";so_usuario;" in database
    assert ("auth_user" in str(head.query)) is (most == 1)


@pytest.mark.parametrize("first_rows", [1, 3, 7])
def test_the_first_rows_and_the_rest_join_without_a_gap_or_a_repeat(merchant, monkeypatch, first_rows):
    # The database path sends its first FIRST_ROWS rows by one COPY (so the download starts at once) and
    # the rest by a second: together exactly the one-statement bytes, counted once.
    rows = world(merchant)
    monkeypatch.setattr(exports, "FIRST_ROWS", first_rows)
    queryset = SubscriberTable(
        selectors.subscriber_list_queryset().filter(merchant=merchant), order_by="-amount"
    ).data.data

    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python, database, counted = both_paths(queryset, delimiter=";", output_format=exports.HUMAN)

    assert database == python
    assert counted == len(rows) > first_rows


@pytest.mark.parametrize("output_format", [exports.HUMAN, exports.MACHINE])
def test_the_export_writes_days_in_its_date_style_and_gives_the_callers_back(merchant, output_format):
    # The cells write days as the date type's text under the export's DateStyle (cheaper than to_char) and
    # instants' days by the export's TimeZone (cheaper than AT TIME ZONE per cell): inside a caller's
    # transaction (here the test's) the caller's own style and zone are put back afterwards.
    ended = dt.datetime(2025, 12, 31, 2, 30, tzinfo=UTC)  # 30 December in São Paulo
    SubscriptionFactory(merchant=merchant, contract_date=dt.date(2025, 12, 31), ended_at=ended)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('DateStyle'), current_setting('TimeZone')")
        before = cursor.fetchone()

    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        database = b"".join(
            exports.stream_csv_copy(queryset, delimiter=";", output_format=output_format, counter=[0])
        )

    machine = output_format == exports.MACHINE
    assert (b"2025-12-31" if machine else b"31/12/2025") in database
    assert (b"2025-12-30" if machine else b"30/12/2025") in database
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('DateStyle'), current_setting('TimeZone')")
        assert cursor.fetchone() == before
    assert queryset.values_list("contract_date", "ended_at").get() == (dt.date(2025, 12, 31), ended)


def test_days_across_daylight_saving_changes_are_the_merchants(merchant):
    # Instants become days by the export's TimeZone: across São Paulo's last DST changes (clocks forward
    # at midnight on 4 November 2018, back from midnight to 23:00 on 17 February 2019) as Python says.
    instants = [
        (dt.datetime(2018, 11, 4, 2, 59, tzinfo=UTC), "03/11/2018"),  # 23:59 BRT
        (dt.datetime(2018, 11, 4, 3, 0, tzinfo=UTC), "04/11/2018"),  # 01:00 BRST (00:00 skipped)
        (dt.datetime(2019, 2, 17, 1, 59, tzinfo=UTC), "16/02/2019"),  # 23:59 BRST
        (dt.datetime(2019, 2, 17, 2, 0, tzinfo=UTC), "16/02/2019"),  # 23:00 BRT again
        (dt.datetime(2019, 2, 17, 3, 0, tzinfo=UTC), "17/02/2019"),  # 00:00 BRT
    ]
    for n, (instant, _day) in enumerate(instants):
        SubscriptionFactory(
            merchant=merchant,
            contract_date=dt.date(2019, 1, 1 + n),
            access_until=instant,
            ended_at=instant,
        )
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)

    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        python, database, _counted = both_paths(queryset, delimiter=";", output_format=exports.HUMAN)

    assert database == python
    rows = database.decode().splitlines()  # newest contract first
    assert [row.split(";")[13:15] for row in rows] == [[day, day] for _instant, day in reversed(instants)]


def test_the_first_row_is_sent_before_the_rest_is_read(merchant, monkeypatch):
    world(merchant)
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    monkeypatch.setattr(exports, "FIRST_ROWS", 5)

    chunks = exports.stream_csv_copy(queryset, delimiter=";", output_format=exports.HUMAN, counter=[0])

    assert next(chunks).count(b"\n") == 1  # one row, not a 256 KB buffer
    assert b"".join(chunks).count(b"\n") >= 4


def test_the_download_is_the_database_path_and_records_the_copy_row_count(owner_client, merchant):
    rows = world(merchant)

    response = owner_client.get(reverse("subscribers:subscriber_export"), {"sort": "name"})
    body = b"".join(response.streaming_content)

    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    ordered = SubscriberTable(queryset, order_by="name").data.data
    with timezone.override(merchant.tzinfo):
        header = exports.csv_line(exports.header(), ";")
        python = b"".join(exports.stream_csv_rows(ordered, delimiter=";", output_format="human", counter=[0]))
    assert body == (exports.BOM + header).encode() + python
    export = SubscriberExport.objects.get(merchant=merchant)
    # Names with line breaks make more lines than rows: the count is the COPY's, not the lines'.
    assert export.row_count == len(rows) < body.count(b"\n") - 1


def test_a_copy_failing_after_its_first_rows_raises_its_error_and_the_connection_stays_usable(merchant):
    # The rows are taken from libpq directly (exports._copy): an error after some rows (here the
    # third row divides by zero, rows streamed unsorted) still ends the download with PostgreSQL's error.
    subscriptions = [SubscriptionFactory(merchant=merchant) for _ in range(3)]
    queryset = (
        selectors.subscriber_list_queryset()
        .filter(merchant=merchant)
        .extra(where=["1 / (subscribers_subscription.id - %s) IS NOT NULL"], params=[subscriptions[-1].pk])
        .order_by()
    )

    with pytest.raises(psycopg.errors.DivisionByZero):
        b"".join(exports.stream_csv_copy(queryset, delimiter=";", output_format="human", counter=[0]))

    assert selectors.subscriber_list_queryset().filter(merchant=merchant).count() == 3


def test_export_interrupted_during_the_copy_is_recorded_and_the_connection_stays_usable(
    owner, merchant, monkeypatch
):
    monkeypatch.setattr(exports, "COPY_CHUNK_BYTES", 1)  # one chunk per row
    for name in ["Ana", "Bia", "Caio"]:
        SubscriptionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant, name=name))
    export = subscriber_export_start(
        merchant=merchant, user=owner, query={}, filters=[], output_format="human", delimiter=";"
    )
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    body = exports.RecordedExport(export, queryset, delimiter=";", output_format="human")

    chunks = iter(body)
    next(chunks)  # BOM and header
    first = next(chunks)  # the first row, from inside the COPY
    body.close()  # the browser went away mid-COPY

    export.refresh_from_db()
    assert first.count(b"\n") == 1
    assert export.status == ExportStatus.INTERRUPTED
    assert export.row_count == 1
    assert SubscriberExport.objects.filter(merchant=merchant).count() == 1  # the connection still works
