"""The screens of the credit balance and of the previews: the customer's "Saldo de crédito" panel,
"Ajustar saldo" (support and up), "Reembolsar saldo", the edit and cancel previews, and "Crédito
aplicado" on the invoice page and PDF."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import CreditEntry, Invoice
from billing.pdf import render_invoice_html
from billing.selectors import credit_balance
from billing.services.billing_run import process_subscription
from billing.services.credit import credit_adjust
from plans.choices import CouponDuration, CouponKind
from subscribers.services import subscription_create
from tests.factories import CouponFactory, CustomerFactory, PlanFactory

pytestmark = pytest.mark.django_db
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)
END = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SP)
CHANGE = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SP)


def paid(merchant, owner, plan, **terms):
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Ana Souza"),
            plan=plan,
            contract_date=START.date(),
            **terms,
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def subscription(merchant, owner):
    return paid(merchant, owner, PlanFactory(merchant=merchant, name="Cem", price=10000))


def test_the_customer_page_loads_the_credit_panel_with_balance_and_entries(
    member_client, merchant, viewer, support, subscription
):
    customer = subscription.customer
    credit_adjust(
        customer=customer, actor=support, currency="BRL", amount=1234, note="Cortesia de boas-vindas"
    )
    client = member_client(viewer)

    page = client.get(customer.get_absolute_url()).content.decode()
    panel = client.get(reverse("billing:customer_credit", args=[customer.pk])).content.decode()

    assert reverse("billing:customer_credit", args=[customer.pk]) in page
    assert "Saldo de crédito" in panel
    assert "R$\xa012,34" in panel
    assert "Cortesia de boas-vindas" in panel and "Ajuste manual" in panel
    assert "Ajustar saldo" not in panel  # a viewer only reads


def test_support_adjusts_the_balance_with_a_reason(member_client, support, subscription):
    customer = subscription.customer
    client = member_client(support)
    url = reverse("billing:customer_credit_adjust", args=[customer.pk])

    assert (
        "Ajustar saldo" in client.get(reverse("billing:customer_credit", args=[customer.pk])).content.decode()
    )
    response = client.post(
        url, {"direction": "credit", "currency": "BRL", "amount": "25,50", "note": "Atraso na entrega"}
    )
    refused = client.post(url, {"direction": "debit", "currency": "BRL", "amount": "30,00", "note": "Erro"})

    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    assert credit_balance(customer=customer, currency="BRL") == 2550
    entry = CreditEntry.objects.get()
    assert (entry.actor, entry.note) == (support, "Atraso na entrega")
    assert refused.status_code == 200
    assert "O saldo não pode ficar negativo" in refused.content.decode()


def test_a_viewer_cannot_adjust_or_refund_the_balance(member_client, viewer, subscription):
    client = member_client(viewer)
    customer = subscription.customer

    adjust = client.post(
        reverse("billing:customer_credit_adjust", args=[customer.pk]),
        {"direction": "credit", "currency": "BRL", "amount": "10,00", "note": "x"},
    )
    refund = client.post(reverse("billing:customer_credit_refund", args=[customer.pk]), {"currency": "BRL"})

    assert (adjust.status_code, refund.status_code) == (403, 403)
    assert not CreditEntry.objects.exists()


def test_support_refunds_the_balance_to_the_card(member_client, support, subscription):
    customer = subscription.customer
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=1500, note="Cortesia")

    response = member_client(support).post(
        reverse("billing:customer_credit_refund", args=[customer.pk]),
        {"currency": "BRL", "amount": "", "note": ""},
    )

    assert response.status_code == 302
    assert credit_balance(customer=customer, currency="BRL") == 0
    assert subscription.invoices.get().payments.get().amount_refunded == 1500


def test_the_edit_preview_shows_what_an_upgrade_with_a_coupon_charges(member_client, merchant, owner):
    half = CouponFactory(
        merchant=merchant,
        code="METADE",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.FOREVER,
    )
    subscription = paid(merchant, owner, PlanFactory(merchant=merchant, name="Cem", price=10000), coupon=half)
    duzentos = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    data = {
        "plan": duzentos.pk,
        "quantity": "1",
        "apply": "now",
        "payment_method": "card",
        "coupon": half.pk,
        "discount_type": "",
        "salesperson": "",
    }

    with time_machine.travel(CHANGE, tick=False):
        client = member_client(owner)
        preview = client.get(reverse("subscribers:subscription_change_preview", args=[subscription.pk]), data)
        page = client.get(reverse("subscribers:subscription_update", args=[subscription.pk]))

    content = preview.content.decode()
    assert 'id="preview-charged-now">R$\xa030,21<' in content
    assert 'id="preview-next-total">R$\xa0100,00<' in content
    assert "Nada é cobrado nem creditado agora." in page.content.decode()  # the current terms
    assert 'id="id_coupon"' in page.content.decode()


def test_the_cancel_preview_says_what_is_credited(member_client, owner, subscription):
    url = reverse("subscribers:subscription_cancel_preview", args=[subscription.pk])
    with time_machine.travel(CHANGE, tick=False):
        client = member_client(owner)
        with_credit = client.get(url, {"when": "now", "credit_unused_time": "on"}).content.decode()
        on_a_date = client.get(url, {"when": "date", "at_date": "2027-02-01"}).content.decode()

    assert "R$\xa060,42 do tempo não usado serão creditados" in with_credit
    assert "Nada é creditado: o período pago vai até 15/02/2027" in on_a_date


def test_the_invoice_page_and_pdf_show_the_credit_applied(
    member_client, merchant, owner, support, subscription
):
    credit_adjust(customer=subscription.customer, actor=support, currency="BRL", amount=4000, note="Bônus")
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    invoice = Invoice.objects.get(subscription=subscription, period_start=END)

    page = member_client(owner).get(invoice.get_absolute_url()).content.decode()
    pdf = render_invoice_html(invoice)

    assert 'id="invoice-credit-applied">−R$\xa040,00<' in page
    assert 'id="invoice-amount-due">R$\xa060,00<' in page
    assert "Crédito aplicado" in pdf and "R$\xa060,00" in pdf


def test_a_double_submitted_adjustment_or_balance_refund_happens_once(member_client, support, subscription):
    # A resent POST (reload after submit, a second tab, a double click without JavaScript) carries the
    # same one-time token as the first: it must not credit or refund the balance a second time.
    from core.views import FORM_ALREADY_SENT
    from tests.core.test_one_time_forms import form_token

    customer = subscription.customer
    client = member_client(support)
    adjust_url = reverse("billing:customer_credit_adjust", args=[customer.pk])
    adjust = {"direction": "credit", "currency": "BRL", "amount": "15,00", "note": "Cortesia"}
    adjust["form_token"] = form_token(client, adjust_url)

    client.post(adjust_url, adjust)
    replay = client.post(adjust_url, adjust)

    assert credit_balance(customer=customer, currency="BRL") == 1500
    assert replay.status_code == 302 and replay.url == customer.get_absolute_url()
    assert FORM_ALREADY_SENT in [str(m) for m in get_messages(replay.wsgi_request)]

    refund_url = reverse("billing:customer_credit_refund", args=[customer.pk])
    refund = {"currency": "BRL", "amount": "5,00", "note": "", "form_token": form_token(client, refund_url)}

    client.post(refund_url, refund)
    client.post(refund_url, refund)

    assert credit_balance(customer=customer, currency="BRL") == 1000
    assert subscription.invoices.get().payments.get().amount_refunded == 500


def test_the_subscription_page_shows_a_payment_partly_refunded_from_the_balance(
    member_client, support, subscription
):
    # The payment stays "Paga" after a partial refund: without the refunded amount beside it the
    # subscription's Transações read as if nothing had gone back to the card.
    customer = subscription.customer
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=1500, note="Cortesia")
    client = member_client(support)
    client.post(
        reverse("billing:customer_credit_refund", args=[customer.pk]),
        {"currency": "BRL", "amount": "15,00", "note": ""},
    )

    content = client.get(subscription.get_absolute_url()).content.decode()

    assert "Reembolsado: R$\xa015,00" in content
