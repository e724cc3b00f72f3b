"""Minha assinatura as a customer clicks it: the magic link read from the mail outbox, the invoices and a
PDF, a plan change with its money preview, a cancellation with a reason — then the merchant sees it."""

import re

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice
from billing.services.billing_run import process_subscription
from subscribers.services import subscription_create
from tests.factories import CustomerFactory, PlanFactory

LINK = re.compile(r"https?://\S+/portal/[\w-]+/entrar/\S+/")


def test_the_customer_manages_and_cancels_through_the_magic_link(
    browser, live_server, page, login, owner, merchant
):
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    basic = PlanFactory(merchant=merchant, name="Básico", price=4990)
    premium = PlanFactory(merchant=merchant, name="Premium", price=9990)
    subscription = subscription_create(
        merchant=merchant, actor=owner, customer=customer, plan=basic, contract_date=timezone.localdate()
    )
    process_subscription(subscription_id=subscription.pk, now=timezone.now())
    invoice = Invoice.objects.get(subscription=subscription)
    mail.outbox.clear()

    # The customer, in a browser of their own (no team sign-in), asks for the link.
    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", viewport={"width": 390, "height": 844}
    )
    customer_page = context.new_page()
    customer_page.goto(f"/portal/{merchant.slug}/")
    customer_page.get_by_label("Seu e-mail").fill("ana@example.com")
    customer_page.get_by_role("button", name="Enviar link de acesso").click()
    expect(customer_page.locator("#portal-link-sent")).to_be_visible()
    link = LINK.search(mail.outbox[-1].body).group(0)

    customer_page.goto(link)
    customer_page.get_by_role("button", name="Acessar minha assinatura").click()
    expect(customer_page.get_by_role("heading", name="Minha assinatura")).to_be_visible()
    expect(customer_page.locator("#portal-invoices")).to_contain_text(f"nº {invoice.number}")

    with customer_page.expect_download() as download:
        customer_page.get_by_role("link", name=re.compile("Baixar PDF")).first.click()
    assert download.value.suggested_filename == f"fatura-{invoice.number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    customer_page.get_by_role("link", name="Trocar de plano").click()
    customer_page.get_by_label("Novo plano").select_option(str(premium.pk))
    expect(customer_page.locator("#preview-charged-now")).to_be_visible()
    customer_page.get_by_role("button", name="Confirmar troca").click()
    expect(customer_page.get_by_text("Plano alterado.")).to_be_visible()
    expect(customer_page.locator(f"#portal-subscription-{subscription.pk}")).to_contain_text("Premium")

    customer_page.get_by_role("link", name="Cancelar assinatura").click()
    customer_page.get_by_label("Está caro para mim").check()
    customer_page.get_by_label("Quer contar mais? (opcional)").fill("Vou voltar no ano que vem")
    customer_page.get_by_role("button", name="Confirmar cancelamento").click()
    expect(customer_page.locator("#portal-cancel-done")).to_contain_text("cancelada")
    context.close()

    # The merchant sees it: Cancelada, asked by the customer, through the portal.
    login(owner)
    page.goto(f"/planos/assinaturas/{subscription.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelada")
    # "Quem pediu": the cancellation's origin.
    expect(page.locator("#subscription-dates").get_by_text("Cliente", exact=True)).to_be_visible()
    timeline = page.locator("#subscription-timeline")
    expect(timeline).to_contain_text("Pelo cliente (portal)")
    expect(timeline).to_contain_text("Está caro para mim: Vou voltar no ano que vem")
