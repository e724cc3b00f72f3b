"""Every number links to the list that produced it: follow the link, count the rows the list shows."""

import re
from html import unescape

import pytest
from django.urls import reverse

from dashboard import services


def listed(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["table"].paginator.count


def hrefs(html: str, pattern: str) -> list[str]:
    return [unescape(href) for href in re.findall(pattern, html)]


@pytest.fixture
def page(owner_client, world):
    def get(**params):
        response = owner_client.get(reverse("dashboard:index"), params)
        assert response.status_code == 200
        return response

    return get


@pytest.mark.parametrize("source", ["live", "stored"])
@pytest.mark.parametrize("preset", ["this_month", "last_month", "last_90", "this_year"])
def test_card_links_list_exactly_the_counted_rows(page, owner_client, world, preset, source):
    if source == "stored":
        services.snapshot_refresh(merchant=world.merchant)
    response = page(period=preset)
    dashboard = response.context["dashboard"]
    cards = {card.key: card for row in response.context["cards"].values() for card in row}

    expected = {
        "active": dashboard.active,
        "trialing": dashboard.trialing,
        "past_due": dashboard.past_due,
        "new": dashboard.new.current,
        "deactivated": dashboard.deactivated.current,
        "churn": dashboard.deactivated.current,  # the churn's numerator
        "mrr": dashboard.mrr_subscriptions,
        "arr": dashboard.mrr_subscriptions,
    }
    for key, count in expected.items():
        for figure in cards[key].figures:
            assert listed(owner_client, figure.url) == count, (key, figure.url)
    links = {link_id: url for link_id, _text, url in cards["revenue"].links}
    assert listed(owner_client, links["link-revenue-succeeded"]) == dashboard.payments_succeeded
    assert listed(owner_client, links["link-revenue-refunded"]) == dashboard.payments_refunded
    # Refunds have no list of their own: their card has no link (its definition says so).
    assert not any(figure.url for figure in cards["refunds"].figures) and not cards["refunds"].links


def test_the_links_are_in_the_page_and_carry_the_period(page, owner_client):
    html = page(period="this_month").content.decode()
    deactivated = hrefs(html, r'href="([^"]*deactivated_from=2026-03-01[^"]*)"')
    assert deactivated and "deactivated_to=2026-03-15" in deactivated[0]
    assert listed(owner_client, deactivated[0]) == 2
    new = hrefs(html, r'href="([^"]*contracted_from=2026-03-01&amp;contracted_to=2026-03-15[^"]*)"')
    assert listed(owner_client, new[0]) == 3
    assert hrefs(html, r'href="([^"]*status=active)"')


def test_monthly_flow_links_list_each_months_rows(page, owner_client):
    flow = page(period="this_month").context["flow"]
    for row in flow["rows"]:
        assert listed(owner_client, row["new_url"]) == row["new"], row["month"]
        assert listed(owner_client, row["deactivated_url"]) == row["deactivated"], row["month"]


def test_payment_method_links_list_the_methods_payments(page, owner_client):
    response = page(period="this_month")
    rows = response.context["breakdowns"]["methods"]
    numbers = response.context["dashboard"].by_method
    assert [row["method"] for row in rows] == ["pix", "card"]
    for row, counted in zip(rows, numbers, strict=True):
        assert listed(owner_client, row["succeeded_url"]) == counted["succeeded"], row["method"]
        assert listed(owner_client, row["refunded_url"]) == counted["refunded"], row["method"]
