"""390 px wide (a phone): page headers with several buttons wrap instead of pushing the page sideways,
and tables sit in a horizontally scrolling box, so the document itself never scrolls sideways."""

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
