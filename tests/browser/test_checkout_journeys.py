"""A customer subscribes through a checkout link, in a browser context of their own (no login, a phone's
screen), and the merchant sees the result: card 4242 → Ativa with origin Checkout; boleto → Pendente
until "Simular pagamento" → Ativa (the customer's page updates by itself); a declined card → a message and
nothing active; a double click → one subscription."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from subscribers.choices import SubscriptionOrigin, SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import CheckoutLinkFactory, PlanFactory

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def customer_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="pt-BR", viewport=PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def link(merchant):
    plan = PlanFactory(merchant=merchant, name="Clube do Café", price=4990)
    return CheckoutLinkFactory(merchant=merchant, plan=plan)


def fill_details(page, *, email="ana@example.com", document="529.982.247-25"):
    page.get_by_label("Nome completo").fill("Ana Souza")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("CPF ou CNPJ").fill(document)


def test_card_4242_makes_an_active_subscription_the_merchant_sees_with_origin_checkout(
    customer_page, page, login, owner, link
):
    customer_page.goto(f"/c/{link.slug}/")
    expect(customer_page.locator("#checkout-merchant")).to_have_text("The Pacific")
    expect(customer_page.locator("#checkout-price")).to_contain_text("R$\xa049,90")
    fill_details(customer_page)
    customer_page.get_by_label("Cartão de crédito").check()
    customer_page.get_by_label("Número do cartão").fill("4242 4242 4242 4242")
    customer_page.get_by_role("button", name="Assinar").click()
    expect(customer_page.locator("#checkout-done")).to_have_text("Assinatura confirmada!")

    login(owner)
    page.goto("/planos/assinaturas/")
    row = page.locator("#list-results tr", has_text="Ana Souza")
    expect(row).to_contain_text("Ativa")
    subscription = Subscription.objects.get()
    assert subscription.origin == SubscriptionOrigin.CHECKOUT
    page.goto(subscription.get_absolute_url())
    expect(page.get_by_text("Checkout", exact=True)).to_be_visible()


def test_boleto_is_pending_until_simular_pagamento_then_active(customer_page, page, login, owner, link):
    customer_page.goto(f"/c/{link.slug}/")
    fill_details(customer_page)
    customer_page.get_by_label("Boleto").check()
    expect(customer_page.get_by_label("Número do cartão")).to_be_hidden()
    customer_page.get_by_role("button", name="Assinar").click()
    expect(customer_page.locator("#checkout-waiting")).to_be_visible()
    expect(customer_page.locator("#checkout-boleto-line")).to_have_value(re.compile(r"^\d{5}\.\d{5} "))
    assert Subscription.objects.get().status == SubscriptionStatus.PENDING

    login(owner)
    page.goto(f"/cobrancas/pagamentos/{Payment.objects.get().pk}/simular/")
    page.get_by_role("button", name="Simular pagamento").click()
    expect(page.get_by_text("Pagamento simulado. A fatura foi paga.")).to_be_visible()

    # The customer's page asks every few seconds and turns to the confirmation by itself.
    expect(customer_page.locator("#checkout-done")).to_be_visible()
    page.goto("/planos/assinaturas/")
    expect(page.locator("#list-results tr", has_text="Ana Souza")).to_contain_text("Ativa")


def test_a_declined_card_shows_a_message_and_nothing_is_active(customer_page, link):
    customer_page.goto(f"/c/{link.slug}/")
    fill_details(customer_page)
    customer_page.get_by_label("Cartão de crédito").check()
    customer_page.get_by_label("Número do cartão").fill("4000 0000 0000 0002")
    customer_page.get_by_role("button", name="Assinar").click()

    expect(customer_page.locator("#checkout-error")).to_contain_text("Cartão recusado pelo emissor")
    expect(customer_page.get_by_label("Número do cartão")).to_have_value("")
    assert not Subscription.objects.exists()


def test_a_double_click_makes_one_subscription(customer_page, link):
    customer_page.goto(f"/c/{link.slug}/")
    fill_details(customer_page)
    customer_page.get_by_label("Cartão de crédito").check()
    customer_page.get_by_label("Número do cartão").fill("4242 4242 4242 4242")
    customer_page.get_by_role("button", name="Assinar").dblclick()
    expect(customer_page.locator("#checkout-done")).to_be_visible()
    customer_page.reload()
    expect(customer_page.locator("#checkout-done")).to_be_visible()

    assert Subscription.objects.count() == 1
    assert Payment.objects.count() == 1


def test_pix_page_with_the_merchants_colour_breaks_no_content_security_rule(customer_page, link):
    from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS

    link.brand_color = "#7a2cbf"
    link.save()
    customer_page.add_init_script(COLLECT_VIOLATIONS)
    customer_page.goto(f"/c/{link.slug}/")
    expect(customer_page.locator(".checkout-header")).to_have_css("background-color", "rgb(122, 44, 191)")
    fill_details(customer_page)
    customer_page.get_by_label("Pix").check()
    customer_page.get_by_role("button", name="Assinar").click()

    expect(customer_page.locator("#checkout-pix-qr")).to_be_visible()
    expect(customer_page.locator("#checkout-pix-code")).to_have_value(re.compile(r"^000201"))
    assert customer_page.evaluate("window.__cspViolations || []") == []
