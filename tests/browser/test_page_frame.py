"""The page frame as a merchant meets it: at 390 px (a phone) page headers with several buttons wrap
instead of pushing the page sideways and tables scroll inside their box, so the document itself never
scrolls sideways; and a page loads without a console error (no /favicon.ico 404)."""

import pytest

from tests.factories import (
    CustomerFactory,
    EmailSendingFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
)

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def test_lists_and_details_fit_a_phone_width(phone, login, owner, merchant):
    customer = CustomerFactory(merchant=merchant, name="Distribuidora Norte Ltda")
    subscription = SubscriptionFactory(
        merchant=merchant, customer=customer, plan=PlanFactory(merchant=merchant, name="Impressa")
    )
    EmailSendingFactory(
        merchant=merchant,
        subscription=subscription,
        kind="boleto_issued",
        subject="Boleto de R$ 89,90 para pagamento até 08/12/2026",
    )
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, customer=customer)
    login(owner)
    for path in (
        "/planos/assinaturas/",
        "/assinantes/",
        "/cobrancas/execucoes/",
        f"/planos/assinaturas/{subscription.pk}/",
        f"/cobrancas/faturas/{invoice.pk}/",
    ):
        phone.goto(path)
        assert phone.evaluate(NO_SIDEWAYS_SCROLL), f"{path} scrolls sideways at 390 px"


def test_the_login_page_loads_without_a_console_error(page):
    # Without a declared icon Chromium asks for /favicon.ico, a 404 that every console shows as an error
    # and that hides real ones when looking for CSP or JavaScript problems.
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto("/conta/login/")
    page.wait_for_load_state("networkidle")

    assert errors == []
