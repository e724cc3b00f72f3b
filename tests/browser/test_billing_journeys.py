"""Billing as a merchant clicks it: a boleto invoice paid with "Simular pagamento", its PDF, the runs."""

import re

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice
from billing.services.billing_run import billing_run_start, process_chunk
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_create
from tests.factories import CustomerFactory, PlanFactory


def test_a_boleto_invoice_is_paid_with_simular_pagamento_and_downloads_as_pdf(page, login, owner, merchant):
    customer = CustomerFactory(merchant=merchant, name="Carla Mendes", document="52998224725")
    plan = PlanFactory(merchant=merchant, name="Impressa", price=8990)
    subscription = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=customer,
        plan=plan,
        contract_date=timezone.localdate(),
        payment_method=PaymentMethod.BOLETO,
    )
    billing_run_start(dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids))
    invoice = Invoice.objects.get(subscription=subscription)
    login(owner)

    page.get_by_role("link", name="Faturas").click()
    page.locator("#list-results").get_by_role("link", name=re.compile(str(invoice.number))).first.click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Em aberto")
    expect(page.get_by_text("529.982.247-25")).to_be_visible()
    expect(page.get_by_text("R$\xa089,90").first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Baixar PDF")).click()
    assert download.value.suggested_filename == f"fatura-{invoice.number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.get_by_role("link", name="Simular pagamento").click()
    page.get_by_role("button", name="Simular pagamento").click()
    expect(page.get_by_text("Pagamento simulado. A fatura foi paga.")).to_be_visible()
    expect(heading).to_contain_text("Paga")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE

    page.goto(subscription.get_absolute_url())
    expect(page.get_by_text(f"{invoice.number}").first).to_be_visible()
    page.goto("/cobrancas/execucoes/")
    expect(page.locator("#list-results")).to_contain_text("Concluída")


def test_support_fixes_a_past_due_card_and_charges_the_open_invoice_now(
    page, login, owner, support, merchant
):
    customer = CustomerFactory(merchant=merchant, name="Davi Rocha")
    plan = PlanFactory(merchant=merchant, name="Clube", price=5990)
    subscription = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=customer,
        plan=plan,
        contract_date=timezone.localdate(),
        payment_token="4000 0000 0000 0002",
    )
    billing_run_start(dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    invoice = Invoice.objects.get(subscription=subscription)
    login(support)

    page.goto(subscription.get_absolute_url())
    page.get_by_role("link", name="Alterar cartão").click()
    page.get_by_label("Número do novo cartão").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Salvar o novo cartão").click()
    expect(page.get_by_text("Cartão alterado. As próximas cobranças usam o novo cartão.")).to_be_visible()

    page.goto(invoice.get_absolute_url())
    expect(page.get_by_role("link", name="Anular")).to_be_visible()
    page.get_by_role("link", name="Cobrar agora").click()
    expect(page.get_by_text("É uma tentativa a mais")).to_be_visible()
    page.get_by_role("button", name="Cobrar agora").click()
    expect(page.get_by_text("Cobrança aprovada. A fatura está paga.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paga")
    expect(page.get_by_role("link", name="Cobrar agora")).to_have_count(0)
    expect(page.get_by_role("link", name="Anular")).to_have_count(0)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
