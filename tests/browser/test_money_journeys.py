"""Money as a merchant clicks it (issue 11): an upgrade with a coupon previewed, confirmed and found on
the invoice at the previewed amount; a downgrade's credit on the customer page, then consumed by the
next invoice.

The clock is frozen (time-machine) for the whole process, live server included, so the preview and the
confirmation happen at the same instant and must agree to the centavo; it is moved to the end of the
period to run the billing service for the next one.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import time_machine
from playwright.sync_api import expect

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.selectors import credit_balance
from billing.services.billing_run import process_subscription
from plans.choices import CouponDuration, CouponKind
from subscribers.services import subscription_create
from tests.factories import CouponFactory, CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)
CHANGE = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SP)
END = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SP)


def test_upgrade_with_a_coupon_then_downgrade_credit_consumed_by_the_next_invoice(
    page, login, owner, merchant
):
    cem = PlanFactory(merchant=merchant, name="Plano Cem", price=10000)
    duzentos = PlanFactory(merchant=merchant, name="Plano Duzentos", price=20000)
    half = CouponFactory(
        merchant=merchant,
        code="METADE",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.FOREVER,
    )
    with time_machine.travel(START, tick=False) as clock:
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Beatriz Lima"),
            plan=cem,
            contract_date=START.date(),
            coupon=half,
        )
        process_subscription(subscription_id=subscription.pk, now=START)
        clock.move_to(CHANGE)
        login(owner)

        # Upgrade now: the preview says R$ 30,21 (half of the R$ 60,42 difference), before confirming.
        page.goto(f"/planos/assinaturas/{subscription.pk}/editar/")
        page.select_option("#id_plan", str(duzentos.pk))
        charged = page.locator("#preview-charged-now")
        expect(charged).to_have_text("R$\xa030,21")
        expect(page.locator("#preview-next-total")).to_have_text("R$\xa0100,00")
        page.get_by_role("button", name="Salvar").click()
        expect(page.get_by_text("Assinatura atualizada.")).to_be_visible()

        upgrade = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
        page.goto(upgrade.get_absolute_url())
        expect(page.locator("#invoice-totals")).to_contain_text("R$\xa030,21")
        assert upgrade.payments.get().amount == 3021

        # Downgrade at once: the preview says what goes to the credit balance.
        page.goto(f"/planos/assinaturas/{subscription.pk}/editar/")
        page.select_option("#id_plan", str(cem.pk))
        credited = page.locator("#preview-credited-now")
        expect(credited).to_have_text("R$\xa030,21")
        page.get_by_role("button", name="Salvar").click()
        expect(page.get_by_text("Assinatura atualizada.")).to_be_visible()

        page.goto(subscription.customer.get_absolute_url())
        panel = page.locator("#credit-balance-card")
        expect(panel.locator("#credit-balances")).to_contain_text("R$\xa030,21")
        expect(panel.locator("#credit-entries")).to_contain_text("Crédito de rateio")

        # The next period: R$ 50,00 (R$ 100 with the coupon), R$ 30,21 paid by the credit.
        clock.move_to(END)
        process_subscription(subscription_id=subscription.pk, now=END)
        renewal = Invoice.objects.get(subscription=subscription, period_start=END)
        assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (5000, 3021, 1979)
        login(owner)  # the session did not outlive the three weeks the clock moved
        page.goto(renewal.get_absolute_url())
        expect(page.locator("#invoice-credit-applied")).to_have_text("−R$\xa030,21")
        expect(page.locator("#invoice-amount-due")).to_have_text("R$\xa019,79")
        assert credit_balance(customer=subscription.customer, currency="BRL") == 0
        page.goto(subscription.customer.get_absolute_url())
        expect(page.locator("#credit-entries")).to_contain_text("Aplicado a fatura")
