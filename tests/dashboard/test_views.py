"""The Painel page: who may see it, what it shows when there is nothing yet, its charts and its queries."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from dashboard import services
from plans.choices import IntervalUnit
from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus
from tests.factories import PaymentFactory, PlanFactory, RefundFactory, SubscriptionFactory

URL = reverse("dashboard:index")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_sees_the_dashboard(role, member_client, merchant):
    from tests.conftest import _member

    client = member_client(_member(merchant, role))
    SubscriptionFactory(merchant=merchant)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["dashboard"].active == 1


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_new_merchant_is_told_to_create_a_plan(owner_client, merchant):
    html = owner_client.get(URL).content.decode()
    assert 'id="dashboard-empty"' in html
    assert "Crie um plano" in html
    assert reverse("plans:plan_create") in html
    assert "<svg" not in html.split('id="definitions"')[0]


def test_a_viewer_is_not_offered_to_create_a_plan(member_client, viewer, merchant):
    html = member_client(viewer).get(URL).content.decode()
    assert "Crie um plano" in html
    assert reverse("plans:plan_create") not in html


def test_a_merchant_with_plans_but_no_subscriptions_is_told_to_sell_one(owner_client, merchant):
    PlanFactory(merchant=merchant)
    html = owner_client.get(URL).content.decode()
    assert "Nenhuma assinatura ainda" in html
    assert reverse("subscribers:subscription_create") in html


def test_charts_are_svg_with_title_desc_and_their_numbers_as_text(owner_client, world):
    response = owner_client.get(URL)
    html = response.content.decode()
    for chart in ("chart-mrr", "chart-flow", "chart-origin", "chart-reasons", "chart-methods"):
        assert f'id="{chart}"' in html
    assert html.count('role="img"') == 3  # MRR in BRL, MRR in USD, new × cancelled
    assert '<title id="mrr-title-BRL">MRR em BRL nos últimos 12 meses</title>' in html
    assert '<desc id="flow-desc">' in html
    # The numbers are in the page as text too: MRR at 28/02 and the month's flow table.
    assert "R$\xa0823,46" in html
    assert "Preço alto" in html and "Cliente" in html and "Pix" in html


def test_cards_show_money_in_brazilian_format_with_deltas_and_definitions(owner_client, world):
    html = owner_client.get(URL).content.decode()
    assert "R$\xa0566,80" in html  # MRR, BRL
    assert "US$\xa0150,00" in html  # MRR, USD
    assert "R$\xa06.801,56" in html  # ARR, BRL
    assert "18,18%" in html  # churn: 2 of 11 at risk
    assert "2 de 11 em risco (8 em vigor no início)" in html
    assert "+8,18 p.p." in html
    assert "▲" in html and "▼" in html
    assert 'title="Assinaturas com a situação Ativa agora' in html
    assert 'id="definitions"' in html and "Definições" in html
    assert "01/03/2026 a 15/03/2026" in html and "01/02/2026 a 15/02/2026" in html


def test_changing_the_period_changes_the_numbers(owner_client, world):
    this_month = owner_client.get(URL, {"period": "this_month"}).context["dashboard"]
    last_month = owner_client.get(URL, {"period": "last_month"}).context["dashboard"]
    assert this_month.new.current == 3 and last_month.new.current == 2


def test_an_invalid_custom_range_says_why(owner_client, world):
    response = owner_client.get(URL, {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"})
    html = response.content.decode()
    assert "A data final vem antes da inicial." in html
    assert response.context["period"].preset == "this_month"


def test_the_stored_snapshot_says_when_it_was_taken(owner_client, world):
    services.snapshot_refresh(merchant=world.merchant)
    html = owner_client.get(URL).content.decode()
    assert 'id="taken-at"' in html
    assert "Atualizado às 12:00 de 15/03/2026" in html


def test_the_page_is_translated(owner_client, world):
    owner_client.post(reverse("set_language"), {"language": "en", "next": URL})
    html = owner_client.get(URL).content.decode()
    assert "Active subscriptions" in html and "Definitions" in html
    assert "Assinaturas ativas" not in html


# --- queries ---------------------------------------------------------------------------------------------
def _many_rows(merchant, n=40):
    today = timezone.localdate()
    plans = [
        PlanFactory(merchant=merchant, price=4990),
        PlanFactory(merchant=merchant, price=12990, interval_count=3),
        PlanFactory(merchant=merchant, price=49900, interval_unit=IntervalUnit.YEAR),
        PlanFactory(merchant=merchant, price=990, currency="USD"),
    ]
    statuses = [
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.CANCELED,
    ]
    for index in range(n):
        plan = plans[index % len(plans)]
        status = statuses[index % len(statuses)]
        subscription = SubscriptionFactory(
            merchant=merchant,
            plan=plan,
            currency=plan.currency,
            status=status,
            contract_date=today - dt.timedelta(days=index * 9),
            ended_at=timezone.now() - dt.timedelta(days=index)
            if status == SubscriptionStatus.CANCELED
            else None,
            cancel_origin=CancelOrigin.CUSTOMER if status == SubscriptionStatus.CANCELED else "",
            cancel_reason=f"Motivo {index % 7}" if status == SubscriptionStatus.CANCELED else "",
        )
        payment = PaymentFactory(
            merchant=merchant,
            invoice__subscription=subscription,
            currency=plan.currency,
            method=[PaymentMethod.CARD, PaymentMethod.PIX, PaymentMethod.BOLETO][index % 3],
        )
        if index % 5 == 0:
            RefundFactory(merchant=merchant, payment=payment, amount=100)


# The page's frame (session, user, membership, the base template's alerts) costs a few queries of its own.
FRAME_TABLES = ("django_session", "auth_user", "accounts_membership", "notifications_")


def own_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if not any(f'FROM "{table}' in q["sql"] for table in FRAME_TABLES)]


@pytest.mark.parametrize("preset", ["this_month", "this_year", "last_90"])
def test_the_live_dashboard_runs_a_fixed_handful_of_queries(
    owner_client, merchant, preset, django_assert_max_num_queries
):
    _many_rows(merchant)
    owner_client.get(URL)  # warm the session and the translation catalogue
    with django_assert_max_num_queries(15) as captured:
        response = owner_client.get(URL, {"period": preset})
    assert response.context["dashboard"].subscriptions == 40
    # snapshot?, state (2), running subscriptions (2), new, deactivated, payments, refunds, churn's others
    assert len(own_queries(captured)) == 10


def test_the_stored_dashboard_reads_the_snapshot_and_its_facts(
    owner_client, merchant, django_assert_max_num_queries
):
    _many_rows(merchant)
    services.snapshot_refresh(merchant=merchant)
    owner_client.get(URL)
    with django_assert_max_num_queries(9) as captured:
        response = owner_client.get(URL, {"period": "this_year"})
    assert response.context["dashboard"].taken_at is not None
    # snapshot, its facts, the churn's others (the period's deactivations only, by index)
    assert len(own_queries(captured)) == 4
