"""Planos > plano > Alterar preço (the screen, per role), the "Reajuste de preço" e-mail the notice sends,
the subscription page's notice and timeline, and the data migration that gave every existing plan its
version 1."""

import datetime as dt
import importlib
import zoneinfo

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.urls import reverse

from billing.services.price_changes import plan_price_change_apply
from core.events import EventType
from core.models import Event
from notifications.emails.choices import CustomerEmailKind
from notifications.emails.services.email_triggers import process_all_email_events
from notifications.models import EmailSending
from plans.models import Plan, PlanPrice
from subscribers.choices import SubscriptionStatus
from subscribers.models import PriceChangeNotice, Subscription
from subscribers.services import subscription_cancel
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=SP)
NEXT = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)

migration = importlib.import_module("plans.migrations.0005_plan_price_version_one")


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube", price=4990)


def active(merchant, plan, **fields):
    defaults = {
        "billing_cycle_anchor": NEXT - dt.timedelta(days=31),
        "current_period_end": NEXT,
        "next_invoice_at": NEXT,
    }
    return SubscriptionFactory(merchant=merchant, plan=plan, **{**defaults, **fields})


def url(plan):
    return reverse("billing:plan_price_change", args=[plan.pk])


def form(**fields):
    return {"amount": "59,90", "existing": "migrate", "notice_days": "30", **fields}


# --- the screen ---------------------------------------------------------------------------------------
def test_the_plan_page_offers_alterar_preco_to_managers_only(member_client, manager, viewer, plan):
    assert url(plan) in member_client(manager).get(plan.get_absolute_url()).content.decode()
    assert url(plan) not in member_client(viewer).get(plan.get_absolute_url()).content.decode()
    assert member_client(viewer).get(url(plan)).status_code == 403
    assert member_client(viewer).post(url(plan), form(confirm="5990:migrate:30")).status_code == 403
    assert PlanPrice.objects.filter(plan=plan).count() == 1


def test_another_merchants_plan_is_a_404(member_client, manager, other_merchant):
    assert member_client(manager).get(url(PlanFactory(merchant=other_merchant))).status_code == 404


def test_ver_previa_shows_the_figures_and_writes_nothing(member_client, manager, merchant, plan):
    active(merchant, plan)
    active(merchant, plan, quantity=2)

    with time_machine.travel(NOW, tick=False):
        response = member_client(manager).post(url(plan), form())

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-preview="count">2<' in page
    assert "149,70" in page and "179,70" in page  # MRR: 49,90 + 99,80 now, 59,90 + 119,80 after
    assert "15/02/2027" in page  # the first renewal after the notice (ends 09/02)
    assert 'name="confirm" value="5990:migrate:30"' in page
    assert PlanPrice.objects.filter(plan=plan).count() == 1
    assert not PriceChangeNotice.objects.exists()


def test_confirmar_changes_the_price_and_notifies_the_subscriptions(member_client, manager, merchant, plan):
    sub = active(merchant, plan)

    with time_machine.travel(NOW, tick=False):
        response = member_client(manager).post(url(plan), form(confirm="5990:migrate:30"))

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.price, plan.current_price.version) == (5990, 2)
    notice = PriceChangeNotice.objects.get(subscription=sub)
    assert (notice.old_amount, notice.new_amount) == (4990, 5990)


def test_a_confirmation_of_other_values_than_previewed_shows_their_preview_first(
    member_client, manager, merchant, plan
):
    active(merchant, plan)

    response = member_client(manager).post(url(plan), form(amount="69,90", confirm="5990:migrate:30"))

    assert response.status_code == 200
    assert 'name="confirm" value="6990:migrate:30"' in response.content.decode()
    assert PlanPrice.objects.filter(plan=plan).count() == 1


def test_new_subscriptions_only_keeps_the_existing_ones(member_client, manager, merchant, plan):
    sub = active(merchant, plan)

    member_client(manager).post(url(plan), form(existing="new_only", confirm="5990:new_only:30"))

    sub.refresh_from_db()
    assert (sub.plan_price.amount, sub.next_plan_price_id) == (4990, None)
    assert Plan.objects.get(pk=plan.pk).price == 5990


def test_an_invalid_price_is_refused_with_a_message(member_client, manager, plan):
    response = member_client(manager).post(url(plan), form(amount="abc"))

    assert response.status_code == 200
    assert "Informe um valor" in response.content.decode()
    assert PlanPrice.objects.filter(plan=plan).count() == 1


# --- the subscription page and the e-mail ---------------------------------------------------------------
def test_the_subscription_page_shows_the_notice_and_the_timeline_line(member_client, viewer, merchant, plan):
    sub = active(merchant, plan)
    with time_machine.travel(NOW, tick=False):
        plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)

    page = member_client(viewer).get(sub.get_absolute_url()).content.decode()

    assert 'id="price-notice"' in page
    assert "R$\xa049,90 → R$\xa059,90 a partir de 15/02/2027" in page
    assert "Reajuste de preço avisado" in page


def test_the_notice_sends_the_reajuste_de_preco_email_with_both_amounts_and_the_date(
    merchant, plan, django_capture_on_commit_callbacks
):
    active(
        merchant, plan, customer=CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    )
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
        process_all_email_events(now=NOW)

    sending = EmailSending.objects.get(kind=CustomerEmailKind.PRICE_CHANGE)
    assert sending.recipient == "ana@example.com"
    (message,) = mail.outbox
    assert message.subject == "Reajuste de preço do plano Clube a partir de 15/02/2027"
    assert "Hoje você paga R$\xa049,90 (Mensal)" in message.body
    assert "o valor passa a ser R$\xa059,90" in message.body


def test_no_email_for_a_subscription_canceled_before_the_notice_went_out(
    merchant, plan, django_capture_on_commit_callbacks
):
    sub = active(merchant, plan)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
        subscription_cancel(subscription=sub, actor=None, origin="customer", when="now", now=NOW)
        process_all_email_events(now=NOW)

    assert not EmailSending.objects.filter(kind=CustomerEmailKind.PRICE_CHANGE).exists()
    assert Event.objects.filter(type=EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED).count() == 1


# --- the data migration ----------------------------------------------------------------------------------
def test_the_migration_gives_every_plan_version_one_and_points_its_subscriptions_at_it(merchant):
    plans = [PlanFactory(merchant=merchant, price=price) for price in (4990, 12000)]
    subs = [SubscriptionFactory(merchant=merchant, plan=plan) for plan in plans for _ in range(2)]
    ended = SubscriptionFactory(merchant=merchant, plan=plans[0], status=SubscriptionStatus.CANCELED)
    # As the code before price versions left them.
    Subscription.objects.update(plan_price=None)
    Plan.objects.update(current_price=None)
    PlanPrice.objects.all().delete()

    migration.forwards(apps, None)

    for plan in plans:
        plan.refresh_from_db()
        assert (plan.current_price.version, plan.current_price.amount) == (1, plan.price)
        assert plan.current_price.valid_from == plan.created_at
    for sub in [*subs, ended]:
        sub.refresh_from_db()
        assert sub.plan_price.plan_id == sub.plan_id and sub.plan_price.amount == sub.plan.price
    assert PlanPrice.objects.count() == 2

    migration.forwards(apps, None)  # again: nothing more
    assert PlanPrice.objects.count() == 2
