"""What the customer does in Minha assinatura, through the same services as the team's screens, with the
customer as actor and origin "customer"; the timeline says "pelo cliente (portal)"."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from billing.models import Refund
from core.events import EventType
from core.models import Event
from subscribers.choices import CancelOrigin, EventKind, SubscriptionOrigin, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_process_due
from tests.billing.test_refunds import START, paid_subscription
from tests.factories import InvoiceFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def url(name, subscription_or_invoice):
    return reverse(
        f"portal:{name}",
        kwargs={"slug": subscription_or_invoice.merchant.slug, "pk": subscription_or_invoice.pk},
    )


def test_cancel_with_a_reason_ends_the_subscription_at_once_as_the_customers_request(
    portal_client, merchant, customer, subscription, owner_client
):
    client = portal_client(customer)
    page = client.get(url("cancel", subscription))
    assert "Cancelamento registrado" not in page.content.decode()

    response = client.post(url("cancel", subscription), {"reason": "price", "details": "Muito caro agora"})

    assert response.status_code == 302 and response["Location"] == url("cancel_done", subscription)
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER
    assert subscription.cancel_reason_display == "Está caro para mim: Muito caro agora"
    assert subscription.canceled_by is None
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCELED)
    assert entry.actor is None and entry.origin == CancelOrigin.CUSTOMER
    assert entry.data["channel"] == "portal" and entry.data["customer"] == customer.pk
    assert Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_CANCELED).count() == 1
    detail = owner_client.get(reverse("subscribers:subscription_detail", args=[subscription.pk]))
    assert "Pelo cliente (portal)" in detail.content.decode()


def canceled_by_cell(owner_client, subscription) -> str:
    detail = owner_client.get(reverse("subscribers:subscription_detail", args=[subscription.pk]))
    page = detail.content.decode()
    return page.split('id="canceled-by">', 1)[1].split("</dd>", 1)[0]


def test_the_merchant_sees_the_customer_as_who_cancelled_in_the_portal(
    portal_client, customer, subscription, owner_client
):
    portal_client(customer).post(url("cancel", subscription), {"reason": "price"})

    assert canceled_by_cell(owner_client, subscription) == "Ana Souza (ana@example.com), pelo portal"


def test_a_portal_cancellation_carried_out_at_period_end_still_names_the_customer(
    portal_client, merchant, customer, subscription, owner_client
):
    merchant.portal_cancel_at_period_end = True
    merchant.save()
    portal_client(customer).post(url("cancel", subscription), {"reason": "not_using"})
    subscription.refresh_from_db()

    subscription_process_due(now=subscription.cancel_at + dt.timedelta(minutes=1))

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert canceled_by_cell(owner_client, subscription) == "Ana Souza (ana@example.com), pelo portal"


def test_a_cancellation_by_the_team_still_names_the_user(owner, owner_client, subscription):
    subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.SELLER)

    assert canceled_by_cell(owner_client, subscription) == (owner.get_full_name() or owner.username)


def test_the_retention_offer_appears_only_after_the_request(portal_client, merchant, customer, subscription):
    merchant.portal_retention_offer = "Volte com 50% de desconto: cupom VOLTA50"
    merchant.save()
    client = portal_client(customer)

    before = client.get(url("cancel", subscription)).content.decode()
    client.post(url("cancel", subscription), {"reason": "other"})
    after = client.get(url("cancel_done", subscription)).content.decode()

    assert "VOLTA50" not in before
    assert "VOLTA50" in after


def test_a_merchant_may_let_a_portal_cancellation_run_to_the_end_of_the_paid_period(
    portal_client, merchant, customer, subscription
):
    merchant.portal_cancel_at_period_end = True
    merchant.save()

    portal_client(customer).post(url("cancel", subscription), {"reason": "not_using"})

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_requested_at is not None
    assert subscription.cancel_at == subscription.current_period_end
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER


def test_cancel_needs_a_reason(portal_client, customer, subscription):
    response = portal_client(customer).post(url("cancel", subscription), {"reason": ""})

    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


def test_withdrawal_within_seven_days_of_an_online_sign_up_refunds_in_full(
    portal_client, merchant, owner, customer
):
    plan = PlanFactory(merchant=merchant, price=4990)
    subscription = paid_subscription(merchant, owner, plan, cancel=False, origin=SubscriptionOrigin.CHECKOUT)
    with time_machine.travel(START + dt.timedelta(days=6), tick=False):
        client = portal_client(subscription.customer)
        page = client.get(url("cancel", subscription)).content.decode()
        client.post(url("cancel", subscription), {"reason": "other"})

    assert "direito de arrependimento" in page
    subscription.refresh_from_db()
    assert subscription.status == S.REFUNDED
    refund = Refund.objects.get(payment__invoice__subscription=subscription)
    assert refund.status == "succeeded" and refund.amount == 4990
    assert "CDC art. 49" in refund.reason_display


def test_after_seven_days_a_cancellation_refunds_nothing(portal_client, merchant, owner):
    plan = PlanFactory(merchant=merchant, price=4990)
    subscription = paid_subscription(merchant, owner, plan, cancel=False, origin=SubscriptionOrigin.CHECKOUT)
    with time_machine.travel(START + dt.timedelta(days=8), tick=False):
        portal_client(subscription.customer).post(url("cancel", subscription), {"reason": "other"})

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert not Refund.objects.filter(payment__invoice__subscription=subscription).exists()


def test_change_plan_shows_the_preview_then_prorates_as_the_customers_edit(portal_client, merchant, owner):
    plan = PlanFactory(merchant=merchant, name="Básico", price=4990)
    bigger = PlanFactory(merchant=merchant, name="Premium", price=9990)
    PlanFactory(merchant=merchant, name="Arquivado", price=1000, is_active=False)
    subscription = paid_subscription(merchant, owner, plan, cancel=False)
    with time_machine.travel(START + dt.timedelta(days=10), tick=False):
        client = portal_client(subscription.customer)
        page = client.get(url("change_plan", subscription)).content.decode()
        preview = client.get(url("change_plan_preview", subscription), {"plan": bigger.pk}).content.decode()
        response = client.post(url("change_plan", subscription), {"plan": bigger.pk})

    assert "Premium" in page and "Arquivado" not in page
    assert "Cobrado agora" in preview and 'id="preview-charged-now"' in preview
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.plan == bigger
    entry = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).latest("pk")
    assert entry.data["channel"] == "portal" and "proration" in entry.data


def test_change_plan_refuses_another_merchants_plan(portal_client, other_merchant, customer, subscription):
    foreign = PlanFactory(merchant=other_merchant, price=100)

    response = portal_client(customer).post(url("change_plan", subscription), {"plan": foreign.pk})

    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.plan != foreign


def test_change_card(portal_client, customer, subscription):
    response = portal_client(customer).post(
        url("change_card", subscription), {"card_number": "5555 5555 5555 4444"}
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.card_last4 == "4444"
    entry = SubscriptionEvent.objects.filter(subscription=subscription).latest("pk")
    assert entry.data["channel"] == "portal"


def test_invoices_are_listed_and_downloaded_as_pdf(portal_client, merchant, customer, subscription):
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, number=77)
    client = portal_client(customer)

    home = client.get(reverse("portal:home", kwargs={"slug": merchant.slug})).content.decode()
    response = client.get(url("invoice_pdf", invoice))

    assert "nº 77" in home
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="fatura-77.pdf"' in response["Content-Disposition"]


def test_home_lists_only_the_customers_own_subscriptions(portal_client, merchant, customer, subscription):
    other = SubscriptionFactory(
        merchant=merchant, plan=PlanFactory(merchant=merchant, name="Plano do Vizinho")
    )

    home = (
        portal_client(customer).get(reverse("portal:home", kwargs={"slug": merchant.slug})).content.decode()
    )

    assert "Clube Mensal" in home
    assert "Plano do Vizinho" not in home and other.customer.email not in home


def test_home_queries_do_not_grow_with_rows(portal_client, merchant, customer, django_assert_max_num_queries):
    for _n in range(8):
        subscription = SubscriptionFactory(merchant=merchant, customer=customer)
        InvoiceFactory(merchant=merchant, subscription=subscription)
    client = portal_client(customer)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("portal:home", kwargs={"slug": merchant.slug}))

    assert response.status_code == 200
