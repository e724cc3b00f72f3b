"""Assinantes > Exportar CSV is recorded for the merchant's audit (who, when, filters, rows, how it ended),
listed on Assinantes > Exportações, and tells the page's button when the download starts."""

import csv
import datetime as dt
import importlib
import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import translation

from subscribers import exports, selectors
from subscribers.choices import ExportStatus, SubscriptionStatus
from subscribers.models import SubscriberExport
from subscribers.services.exports import subscriber_export_start
from subscribers.tables import export_description
from tests.factories import (
    CustomerFactory,
    PlanFactory,
    SubscriberExportFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("subscribers:subscriber_export")
HISTORY_URL = reverse("subscribers:subscriber_export_list")


def subscriber(merchant, name, **fields):
    customer = CustomerFactory(merchant=merchant, name=name, email=f"{name.lower()}@example.com", handle="")
    return SubscriptionFactory(merchant=merchant, customer=customer, **fields)


def consume(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))[1:]


def test_export_is_recorded_with_user_filters_and_row_count(member_client, viewer, merchant):
    for name in ["Ana", "Bia", "Caio"]:
        subscriber(merchant, name)
    subscriber(merchant, "Dora", status=SubscriptionStatus.CANCELED)
    client = member_client(viewer)

    response = client.get(
        EXPORT_URL, {"status": "active", "sort": "-name", "delimiter": "semicolon", "q": ""}
    )
    started = SubscriberExport.objects.get()
    assert started.status == ExportStatus.STARTED and started.row_count is None
    rows = consume(response)

    export = SubscriberExport.objects.get()
    assert [row[0] for row in rows] == ["Caio", "Bia", "Ana"]
    assert export.merchant == merchant
    assert export.user == viewer
    assert export.status == ExportStatus.FINISHED
    assert export.row_count == 3
    assert export.finished_at is not None and export.finished_at >= export.created_at
    assert export.query == {"status": "active", "sort": "-name", "delimiter": "semicolon"}
    # Stored with no words of any language; named in the reader's language when shown.
    assert export.filters == [["status", "active"], ["sort", "-name"]] and export.description == ""
    assert export_description(export) == "Status: Ativa · Ordem: Nome (decrescente)"
    assert export.output_format == "human" and export.delimiter == ";"


def test_export_records_machine_format_and_comma(owner_client, merchant):
    subscriber(merchant, "Ana")

    response = owner_client.get(EXPORT_URL, {"format": "machine", "delimiter": "comma"})
    b"".join(response.streaming_content)

    export = SubscriberExport.objects.get()
    assert (export.output_format, export.delimiter, export.row_count) == ("machine", ",", 1)
    assert (export.filters, export.description) == ([], "")


def recorded_stream(merchant, user):
    """The body of an export as the view builds it: what the WSGI server iterates and then closes."""
    export = subscriber_export_start(
        merchant=merchant, user=user, query={}, filters=[], output_format="human", delimiter=";"
    )
    queryset = selectors.subscriber_list_queryset().filter(merchant=merchant)
    return export, exports.RecordedExport(export, queryset, delimiter=";", output_format="human")


def test_export_interrupted_by_the_browser_is_recorded_as_interrupted(owner, merchant):
    for name in ["Ana", "Bia"]:
        subscriber(merchant, name)
    export, body = recorded_stream(merchant, owner)

    chunks = iter(body)
    assert next(chunks).startswith(exports.BOM.encode())  # the header went out, then the browser went away
    body.close()  # what the server does when the client disconnects

    export.refresh_from_db()
    assert export.status == ExportStatus.INTERRUPTED
    assert export.row_count == 0
    assert export.finished_at is not None


def test_export_end_is_recorded_once(owner, merchant):
    subscriber(merchant, "Ana")
    export, body = recorded_stream(merchant, owner)

    text = b"".join(body).decode()
    body.close()  # the server closes every response after sending it

    export.refresh_from_db()
    assert export.status == ExportStatus.FINISHED
    assert export.row_count == 1 == len(text.splitlines()) - 1


def test_download_token_comes_back_as_a_cookie_when_the_download_starts(owner_client, merchant):
    subscriber(merchant, "Ana")

    response = owner_client.get(EXPORT_URL, {"download_token": "lq3x9k2abc"})

    cookie = response.cookies[exports.DOWNLOAD_COOKIE]
    assert cookie.value == "lq3x9k2abc"
    assert cookie["max-age"] == 120
    assert "download_token" not in SubscriberExport.objects.get().query
    consume(response)


def test_odd_download_token_sets_no_cookie(owner_client, merchant):
    response = owner_client.get(EXPORT_URL, {"download_token": "<script>"})

    assert exports.DOWNLOAD_COOKIE not in response.cookies
    consume(response)


def test_list_export_buttons_show_a_preparing_state(owner_client, merchant):
    subscriber(merchant, "Ana")

    html = owner_client.get(reverse("subscribers:subscriber_list")).content.decode()

    assert "js/export-download.js" in html
    assert 'data-export="current" data-preparing-label="Preparando exportação…"' in html
    assert f'href="{HISTORY_URL}"' in html


@pytest.mark.parametrize("role_fixture", ["owner", "manager", "support", "viewer"])
def test_every_role_that_exports_sees_the_merchants_exports_newest_first(
    request, member_client, merchant, other_merchant, role_fixture
):
    user = request.getfixturevalue(role_fixture)
    older = SubscriberExportFactory(
        merchant=merchant,
        user=user,
        description="Status: Ativa",
        row_count=1234,
        created_at=dt.datetime(2025, 3, 1, 15, tzinfo=dt.UTC),
    )
    newer = SubscriberExportFactory(
        merchant=merchant,
        user=UserFactory(first_name="Bruna", last_name="Lima"),
        query={"group": "inactive", "delimiter": "comma"},
        description="Situação: Inativos",
        status=ExportStatus.INTERRUPTED,
        row_count=7,
        created_at=dt.datetime(2025, 3, 2, 15, tzinfo=dt.UTC),
    )
    SubscriberExportFactory(merchant=other_merchant, description="Segredo do outro lojista")

    response = member_client(user).get(HISTORY_URL)

    assert response.status_code == 200
    records = [row.record for row in response.context["table"].page.object_list]
    assert records == [newer, older]
    html = response.content.decode()
    assert "Segredo do outro lojista" not in html
    assert "Bruna Lima" in html and "Interrompida" in html and "1.234" in html
    assert "02/03/2025 12:00" in html  # the merchant's clock (São Paulo)
    again = EXPORT_URL + "?" + urlencode({"group": "inactive", "delimiter": "comma"})
    assert f'href="{again.replace("&", "&amp;")}"' in html


def test_exports_page_filters_by_status(owner_client, merchant):
    SubscriberExportFactory(merchant=merchant, description="Concluída aqui", status=ExportStatus.FINISHED)
    SubscriberExportFactory(merchant=merchant, description="Falhou aqui", status=ExportStatus.FAILED)

    html = owner_client.get(HISTORY_URL, {"status": "failed"}).content.decode()

    assert "Falhou aqui" in html and "Concluída aqui" not in html


def test_exports_page_query_count_does_not_grow_with_rows(
    owner_client, merchant, django_assert_max_num_queries
):
    for n in range(30):
        SubscriberExportFactory(merchant=merchant, user=UserFactory(), description=f"Exportação {n}")

    with django_assert_max_num_queries(10):
        response = owner_client.get(HISTORY_URL)

    assert response.status_code == 200


def test_anonymous_cannot_see_exports(client):
    assert client.get(HISTORY_URL).status_code == 302


def test_the_exports_filters_read_in_each_readers_language(merchant, owner):
    from tests.billing.test_refund_reason_codes import reader

    plan = PlanFactory(merchant=merchant, name="Ouro")
    with translation.override("pt-br"):  # exported by a person reading Portuguese
        reader(owner, "pt-br").get(
            EXPORT_URL,
            {"status": "active", "plan": plan.pk, "subscribed_from": "2025-03-01", "sort": "-name"},
        )
    assert SubscriberExport.objects.get().filters == [
        ["status", "active"],
        ["plan", "Ouro"],
        ["subscribed_from", "2025-03-01"],
        ["sort", "-name"],
    ]

    english = reader(owner, "en").get(HISTORY_URL).content.decode()
    portuguese = reader(owner, "pt-br").get(HISTORY_URL).content.decode()

    assert "Status: Active · Plan: Ouro · Subscribed from: Mar 1, 2025 · Order: Name (descending)" in english
    assert "Status: Ativa · Plano: Ouro · Assinou de: 01/03/2025 · Ordem: Nome (decrescente)" in portuguese


def test_the_migration_rebuilds_the_filters_of_exports_recorded_before():
    migration = importlib.import_module("subscribers.migrations.0027_export_filters_in_readers_language")
    names = {7: "Ouro"}.get

    assert migration.filters_of(
        {"sort": "-name", "plan": "7", "status": "active", "delimiter": "comma"}, names, names
    ) == [["status", "active"], ["plan", "Ouro"], ["sort", "-name"]]
    assert migration.filters_of({"plan": "8"}, names, names) is None  # a plan deleted since
    assert migration.filters_of({"subscribed_from": "01/03/2025"}, names, names) is None
    assert migration.filters_of({"bogus": "1"}, names, names) is None
