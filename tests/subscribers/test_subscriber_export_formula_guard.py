"""The CSV formula guard's rule (docs/subscriber-export.md): data cells a spreadsheet would run as a formula
get a leading apostrophe; the header is written as it is; handles are exported without their "@"."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation

from subscribers import exports
from subscribers.columns import FORMULA_PREFIXES, neutralize
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Ana-Maria", "Ana-Maria"),
        ("anasouza", "anasouza"),
        ("R$ 1.234,56", "R$ 1.234,56"),
        ("", ""),
    ],
)
def test_neutralize_quotes_only_cells_a_spreadsheet_would_run(cell, written):
    assert neutralize(cell) == written


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_no_header_starts_with_a_formula_character(language):
    with translation.override(language):
        headers = exports.header()

    assert not [header for header in headers if header.startswith(FORMULA_PREFIXES)]


def rows(client):
    response = client.get(reverse("subscribers:subscriber_export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_header_is_written_as_it_is_and_handles_have_no_apostrophe(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", handle="anasouza")
    SubscriptionFactory(merchant=merchant, customer=customer)

    header, row = rows(owner_client)

    assert header == [str(name) for name in exports.header()]
    assert header[1] == "Usuário"
    assert not any(name.startswith("'") for name in header)
    assert row[1] == "anasouza"


def test_a_handle_that_a_spreadsheet_would_run_is_still_quoted(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", handle="-ana")
    SubscriptionFactory(merchant=merchant, customer=customer)

    _header, row = rows(owner_client)

    assert row[1] == "'-ana"
