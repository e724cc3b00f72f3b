"""Próximas faturas and Simular inadimplência as a merchant sees them on a subscription page: the card
loads by itself, shows the coupon ending and the scheduled cancellation; the simulation opens inside it."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import time_machine
from playwright.sync_api import expect

from plans.choices import CouponDuration, CouponKind
from subscribers.services import subscription_create
from tests.factories import CouponFactory, CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)
TODAY = dt.datetime(2027, 1, 20, 9, 0, tzinfo=SP)


def test_the_card_shows_the_next_invoices_and_the_dunning_simulation(page, login, viewer, owner, merchant):
    plan = PlanFactory(merchant=merchant, name="Digital", price=10000)
    coupon = CouponFactory(
        merchant=merchant,
        code="DOIS",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.REPEATING,
        duration_in_months=2,
    )
    with time_machine.travel(START, tick=False) as clock:
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Beatriz Lima"),
            plan=plan,
            contract_date=START.date(),
            coupon=coupon,
        )
        clock.move_to(TODAY)
        login(viewer)

        page.goto(f"/planos/assinaturas/{subscription.pk}/")

        # The first invoice (15/01) is not billed yet in this test: it is the first of the twelve.
        rows = page.locator("#upcoming-invoices-table tr.upcoming-invoice")
        expect(rows).to_have_count(12)
        expect(rows.nth(0)).to_contain_text("15/01/2027")
        expect(rows.nth(0)).to_contain_text("R$\xa050,00")
        expect(rows.nth(2)).to_contain_text("Fim do cupom DOIS")
        expect(rows.nth(2)).to_contain_text("R$\xa0100,00")

        page.click("#dunning-simulate")
        steps = page.locator("#dunning-steps li.dunning-step")
        expect(steps).to_have_count(5)
        expect(page.locator("#dunning-simulation-result")).to_contain_text("Ativa → Pagamento pendente")
        expect(page.locator("#dunning-outcome")).to_contain_text("O acesso termina em 17/01/2027")


def test_on_a_phone_each_upcoming_invoice_is_a_card_with_its_amounts_in_view(page, login, owner, merchant):
    plan = PlanFactory(merchant=merchant, name="Digital", price=10000)
    with time_machine.travel(START, tick=False) as clock:
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Beatriz Lima"),
            plan=plan,
            contract_date=START.date(),
        )
        clock.move_to(TODAY)
        page.set_viewport_size({"width": 390, "height": 844})
        login(owner)

        page.goto(f"/planos/assinaturas/{subscription.pk}/")

        first = page.locator("#upcoming-invoices-table tr.upcoming-invoice").first
        expect(first).to_contain_text("R$\xa0100,00")
        due = first.locator('td[data-label="A cobrar"]')
        due.scroll_into_view_if_needed()
        expect(due).to_be_in_viewport()
        box = due.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path="var/screenshots/upcoming-invoices-390.png", full_page=True)
        # Nothing of the card hides behind a sideways scroll.
        assert page.evaluate(
            "() => { const box = document.querySelector('#upcoming-invoices-table').parentElement;"
            " return box.scrollWidth <= box.clientWidth; }"
        )
