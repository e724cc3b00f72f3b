"""One date format per language on every screen: dd/mm/aaaa in Portuguese, "Jan 10, 2025" in English —
never mm/dd on one page and dd/mm on the next (Painel, Assinaturas, Assinantes, Exportações, detail)."""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from subscribers.models import SubscriberExport
from tests.factories import CustomerFactory, SubscriberExportFactory, SubscriptionFactory, show_every_column

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 1, 20, 15, 0, tzinfo=dt.UTC)  # 20/01/2025 12:00 in São Paulo


@pytest.fixture
def world(merchant, owner, monkeypatch):
    # Every date column shown, whatever "Configurar tabela" hides by default.
    show_every_column(monkeypatch, "assinantes")
    show_every_column(monkeypatch, "assinaturas")
    with time_machine.travel(NOW, tick=False):
        customer = CustomerFactory(merchant=merchant, name="Ana Souza")
        subscription = SubscriptionFactory(
            merchant=merchant,
            customer=customer,
            contract_date=dt.date(2025, 1, 10),
            current_period_end=dt.datetime(2025, 2, 10, 15, 0, tzinfo=dt.UTC),
        )
        export = SubscriberExportFactory(merchant=merchant, user=owner)
        SubscriberExport.objects.filter(pk=export.pk).update(created_at=NOW)
        yield subscription


PAGES = [
    ("subscribers:subscription_list", None),
    ("subscribers:subscriber_list", None),
    ("subscribers:subscriber_export_list", None),
    ("subscribers:subscription_detail", "pk"),
]

# Every numeric day/month/year in a page (dd/mm/yyyy or mm/dd/yyyy).
NUMERIC_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def page(client, name, world, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse(name, args=[world.pk]) if name.endswith("detail") else reverse(name)
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("name", "_arg"), PAGES)
def test_portuguese_pages_show_dd_mm_yyyy(owner_client, world, name, _arg):
    html = page(owner_client, name, world, "pt-br")

    assert "10/01/2025" in html or "20/01/2025" in html
    assert not [d for d in NUMERIC_DATE.findall(html) if int(d[3:5]) > 12]  # never mm/dd


@pytest.mark.parametrize(("name", "_arg"), PAGES)
def test_english_pages_show_one_unambiguous_format(owner_client, world, name, _arg):
    html = page(owner_client, name, world, "en")

    assert "Jan 10, 2025" in html or "Jan 20, 2025" in html
    assert NUMERIC_DATE.findall(html) == []


def test_the_exports_list_shows_date_and_time_in_the_language(owner_client, world):
    assert "20/01/2025 12:00" in page(owner_client, "subscribers:subscriber_export_list", world, "pt-br")
    assert "Jan 20, 2025 12:00" in page(owner_client, "subscribers:subscriber_export_list", world, "en")


def test_the_subscriber_list_dates_follow_the_language(owner_client, world):
    pt = page(owner_client, "subscribers:subscriber_list", world, "pt-br")
    en = page(owner_client, "subscribers:subscriber_list", world, "en")

    assert "10/01/2025" in pt and "10/02/2025" in pt  # contract date, next charge
    assert "Jan 10, 2025" in en and "Feb 10, 2025" in en


def test_the_dashboard_period_follows_the_language(owner_client, world):
    with time_machine.travel(NOW, tick=False):
        owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        en = owner_client.get(reverse("dashboard:index")).content.decode()
        owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
        pt = owner_client.get(reverse("dashboard:index")).content.decode()

    assert "Jan 1, 2025" in en and "Jan 20, 2025" in en
    assert NUMERIC_DATE.findall(en) == []
    assert "01/01/2025" in pt and "20/01/2025" in pt
