"""Assinantes > Exportar CSV: same rows and order as the list, formats, CSV injection, permissions."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from accounts.choices import Role
from billing.choices import PaymentStatus
from billing.services.last_payment import sync_last_payment_status
from subscribers import selectors
from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus
from subscribers.filtersets import SubscriberFilterSet
from subscribers.tables import SubscriberTable
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    MembershipFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    show_every_column,
)

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("subscribers:subscriber_export")
UTC = dt.UTC


def subscriber(merchant, name, **fields):
    customer = CustomerFactory(
        merchant=merchant, name=name, email=f"{name.lower()[:20]}@example.com", handle=""
    )
    return SubscriptionFactory(merchant=merchant, customer=customer, **fields)


def download(client, **params):
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode("utf-8")


def parse(text, delimiter=";"):
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))
    return rows[0], rows[1:]


def test_response_streams_a_bom_prefixed_semicolon_csv_attachment(owner_client, merchant):
    subscriber(merchant, "Ana")

    with time_machine.travel(dt.datetime(2025, 3, 20, 15, 4, tzinfo=UTC), tick=False):
        response, text = download(owner_client)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="assinantes-20250320-1204.csv"'
    header, rows = parse(text)
    assert header[0] == "Nome"
    assert rows[0][0] == "Ana"
    assert text.splitlines()[0].count(";") == len(header) - 1


def test_comma_delimiter_on_request(owner_client, merchant):
    subscriber(merchant, "Ana, a primeira")

    _, text = download(owner_client, delimiter="comma")

    header, rows = parse(text, delimiter=",")
    assert rows[0][0] == "Ana, a primeira"
    assert len(rows[0]) == len(header)


def test_human_format_dates_money_and_labels(owner_client, merchant):
    sub = subscriber(
        merchant,
        "Ana",
        amount=123456,
        payment_method=PaymentMethod.CARD,
        card_brand="Visa",
        card_last4="4242",
        contract_date=dt.date(2025, 3, 7),
        status=SubscriptionStatus.CANCELED,
        cancel_origin=CancelOrigin.CUSTOMER,
        ended_at=dt.datetime(2025, 4, 2, 2, 30, tzinfo=UTC),
        access_until=dt.datetime(2025, 4, 30, 15, tzinfo=UTC),
    )
    PaymentFactory(merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=sub))

    _, text = download(owner_client)

    header, rows = parse(text)
    row = dict(zip(header, rows[0], strict=True))
    assert row["Valor"] == "1.234,56"
    assert row["Moeda"] == "BRL"
    assert row["Forma de pagamento"] == "Visa •••• 4242"
    assert row["Último pagamento"] == "Paga"
    assert row["Status"] == "Cancelada"
    assert row["Assinou em"] == "07/03/2025"
    assert row["Acesso até"] == "30/04/2025"
    assert row["Encerrada em"] == "01/04/2025"  # the merchant's day (São Paulo)
    assert row["Quem cancelou"] == "Cliente"
    assert row["Próxima cobrança"] == ""


def test_machine_format_iso_dates_and_centavos(owner_client, merchant):
    subscriber(
        merchant,
        "Ana",
        amount=123456,
        payment_method=PaymentMethod.PIX,
        contract_date=dt.date(2025, 3, 7),
        status=SubscriptionStatus.CANCELED,
        cancel_origin=CancelOrigin.SELLER,
        ended_at=dt.datetime(2025, 4, 2, 12, tzinfo=UTC),
    )

    _, text = download(owner_client, format="machine")

    header, rows = parse(text)
    row = dict(zip(header, rows[0], strict=True))
    assert row["Valor"] == "123456"
    assert row["Forma de pagamento"] == "pix"
    assert row["Status"] == "canceled"
    assert row["Assinou em"] == "2025-03-07"
    assert row["Encerrada em"] == "2025-04-02"
    assert row["Quem cancelou"] == "seller"
    assert row["Último pagamento"] == ""


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
)
def test_formula_cells_are_neutralized(owner_client, merchant, name):
    subscriber(merchant, name)

    _, text = download(owner_client)

    _, rows = parse(text)
    assert rows[0][0] == "'" + name


def test_plain_names_are_untouched(owner_client, merchant):
    subscriber(merchant, "Ana-Maria")

    _, rows = parse(download(owner_client)[1])

    assert rows[0][0] == "Ana-Maria"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "active", "sort": "name"},
        {"payment_method": "pix", "subscribed_from": "2025-02-01", "sort": "-amount"},
        {"group": "inactive", "q": "cli", "sort": "contract_date"},
    ],
)
def test_export_rows_equal_the_filtered_sorted_list(owner_client, merchant, params, monkeypatch):
    show_every_column(monkeypatch, "assinantes")  # the list sorts by shown columns only
    plans = [PlanFactory(merchant=merchant, name=f"Plano {n}") for n in range(2)]
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED]
    methods = [PaymentMethod.PIX, PaymentMethod.CARD]
    for n in range(18):
        subscriber(
            merchant,
            f"Cliente {17 - n:02d}",
            plan=plans[n % 2],
            status=statuses[n % 3],
            payment_method=methods[n % 2],
            amount=1000 + (n % 5) * 100,
            contract_date=dt.date(2025, 1, 1) + dt.timedelta(days=7 * n),
        )
    subscriber(merchant, "Nao Cli", status=SubscriptionStatus.CANCELED, payment_method=PaymentMethod.PIX)

    _, rows = parse(download(owner_client, **params)[1])

    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    filtered = SubscriberFilterSet(params, queryset=queryset, merchant=merchant).qs
    expected = list(SubscriberTable(filtered, order_by=params["sort"]).data.data)
    assert expected, "the combination must select something"
    assert [row[0] for row in rows] == [sub.customer.name for sub in expected]
    # The list shows the same rows in the same order.
    listed = owner_client.get(reverse("subscribers:subscriber_list"), {**params, "per_page": 100})
    assert [row[0] for row in rows] == [
        r.record.customer.name for r in listed.context["table"].page.object_list
    ]


def test_shortcut_active_and_inactive(owner_client, merchant):
    subscriber(merchant, "Ativa")
    subscriber(merchant, "Cancelada", status=SubscriptionStatus.CANCELED)
    subscriber(merchant, "Expirada", status=SubscriptionStatus.EXPIRED)
    subscriber(merchant, "Reembolsada", status=SubscriptionStatus.REFUNDED)
    subscriber(merchant, "Atrasada", status=SubscriptionStatus.PAST_DUE)

    _, active = parse(download(owner_client, status="active")[1])
    _, inactive = parse(download(owner_client, group="inactive")[1])

    assert [r[0] for r in active] == ["Ativa"]
    assert sorted(r[0] for r in inactive) == ["Cancelada", "Expirada", "Reembolsada"]


def test_last_payment_is_the_newest(owner_client, merchant):
    sub = subscriber(merchant, "Ana")
    for status, day in [(PaymentStatus.SUCCEEDED, 1), (PaymentStatus.REFUNDED, 3), (PaymentStatus.FAILED, 2)]:
        payment = PaymentFactory(
            merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=sub), status=status
        )
        type(payment).objects.filter(pk=payment.pk).update(created_at=dt.datetime(2025, 1, day, tzinfo=UTC))
    sync_last_payment_status([sub.pk])  # dates rewritten behind the ORM's back

    header, rows = parse(download(owner_client)[1])

    assert dict(zip(header, rows[0], strict=True))["Último pagamento"] == "Reembolsada"


def test_viewer_can_export_and_never_sees_another_merchant(member_client, viewer, merchant, other_merchant):
    subscriber(merchant, "Ana")
    subscriber(other_merchant, "Segredo")

    _, text = download(member_client(viewer))

    assert "Ana" in text
    assert "Segredo" not in text


def test_member_of_another_merchant_exports_only_their_own(client, merchant, other_merchant):
    subscriber(merchant, "Ana")
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider, merchant=other_merchant, role=Role.OWNER)
    client.force_login(outsider)

    _, text = download(client)

    assert "Ana" not in text


def test_anonymous_is_sent_to_login(client):
    assert client.get(EXPORT_URL).status_code == 302


def test_export_reads_in_one_query_per_chunk(owner_client, merchant, django_assert_max_num_queries):
    for n in range(50):
        subscriber(merchant, f"Cliente {n}")
    owner_client.get(EXPORT_URL)

    # The reads stay a fixed handful per chunk; the audit record adds its INSERT and its closing UPDATE,
    # and PostgreSQL one statement of settings for the export's transaction (and, inside the test's
    # transaction, one putting the DateStyle back), and one finding the salespeople (one more reading their
    # cells when there are some: exports.salesperson_cells).
    with django_assert_max_num_queries(12):
        _, rows = parse(download(owner_client)[1])

    assert len(rows) == 50


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (PaymentStatus.PARTIALLY_REFUNDED, "Parcialmente reembolsada"),
        (PaymentStatus.CHARGED_BACK, "Contestada (chargeback)"),
    ],
)
def test_the_new_payment_statuses_have_their_labels_in_the_list_and_the_export(
    owner_client, merchant, status, label
):
    sub = subscriber(merchant, "Ana")
    PaymentFactory(
        merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=sub), status=status
    )
    sub.refresh_from_db()
    assert sub.last_payment_status == status

    header, rows = parse(download(owner_client)[1])
    assert dict(zip(header, rows[0], strict=True))["Último pagamento"] == label
    assert label in owner_client.get(reverse("subscribers:subscriber_list")).content.decode()
