"""The Painel as a merchant uses it: charts drawn, the period changed, a number followed to its list."""

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from plans.choices import IntervalUnit
from subscribers.choices import CancelOrigin, SubscriptionStatus
from tests.factories import PlanFactory, SubscriptionFactory


def _world(merchant):
    """This month: 3 new subscriptions, 1 cancellation; last month: 1 new, 2 cancellations."""
    today = merchant.localdate()
    first = today.replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=10)
    monthly = PlanFactory(merchant=merchant, name="Mensal", price=10000)
    annual = PlanFactory(merchant=merchant, name="Anual", price=120000, interval_unit=IntervalUnit.YEAR)
    long_ago = today - dt.timedelta(days=400)
    for plan in (monthly, monthly, annual):
        SubscriptionFactory(merchant=merchant, plan=plan, contract_date=first)
    SubscriptionFactory(merchant=merchant, plan=monthly, contract_date=last_month)
    noon = dt.time(12, 0)

    def ended_on(day):
        return dt.datetime.combine(day, noon, tzinfo=merchant.tzinfo)

    SubscriptionFactory(
        merchant=merchant,
        plan=monthly,
        contract_date=long_ago,
        status=SubscriptionStatus.CANCELED,
        ended_at=min(ended_on(first), timezone.now()),
        cancel_origin=CancelOrigin.CUSTOMER,
        cancel_reason="Preço alto",
    )
    for _ in range(2):
        SubscriptionFactory(
            merchant=merchant,
            plan=monthly,
            contract_date=long_ago,
            status=SubscriptionStatus.CANCELED,
            ended_at=ended_on(last_month),
            cancel_origin=CancelOrigin.SELLER,
        )


def test_the_dashboard_draws_its_charts_follows_the_period_and_drills_down(page, login, owner, merchant):
    _world(merchant)
    login(owner)

    # Charts are server-side SVG, with their numbers as text next to them.
    expect(page.locator("#chart-mrr svg[role=img]")).to_have_count(1)
    expect(page.locator("#chart-flow svg[role=img] rect")).not_to_have_count(0)
    expect(page.locator("#flow-table")).to_be_visible()
    expect(page.locator("#card-mrr [data-metric=mrr]")).to_have_text(
        "R$\xa0400,00"
    )  # 3 × R$ 100 + R$ 1.200 / 12
    expect(page.locator("#card-new [data-metric=new]")).to_have_text("3")
    expect(page.locator("#card-deactivated [data-metric=deactivated]")).to_have_text("1")

    # Picking a preset reloads the page with it in the URL (bookmarkable) and other numbers.
    page.select_option("#period-preset", "last_month")
    expect(page).to_have_url(re.compile(r"period=last_month"))
    expect(page.locator("#card-new [data-metric=new]")).to_have_text("1")
    expect(page.locator("#card-deactivated [data-metric=deactivated]")).to_have_text("2")
    expect(page.locator("#card-deactivated [data-delta=deactivated]")).to_contain_text("▲")

    # A number leads to the list that produced it, filtered, with as many rows.
    page.locator("#card-deactivated [data-metric=deactivated]").click()
    expect(page).to_have_url(
        re.compile(r"/planos/assinaturas/\?deactivated_from=\d{4}-\d\d-01&deactivated_to=")
    )
    expect(page.locator("#list-count")).to_contain_text("2 resultados")
    expect(page.locator("#subscription-counts [data-count=deactivated]")).to_have_text("2")


def test_a_custom_range_is_typed_and_applied(page, login, owner, merchant):
    _world(merchant)
    login(owner)
    today = merchant.localdate()
    start = today - dt.timedelta(days=100)

    page.fill("#period-start", start.isoformat())
    page.fill("#period-end", today.isoformat())
    page.get_by_role("button", name="Aplicar").click()

    expect(page).to_have_url(re.compile(r"period=custom"))
    expect(page.locator("#period-preset")).to_have_value("custom")
    expect(page.locator("#card-new [data-metric=new]")).to_have_text("4")
    expect(page.locator("#card-deactivated [data-metric=deactivated]")).to_have_text("3")
