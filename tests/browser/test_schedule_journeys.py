"""Programação as a merchant clicks it: Nova assinatura with "Programar fases", a three-phase schedule
built in the editor (the running phase, a plan change with a quantity, a one-off price added with
"Adicionar fase"), and the timeline on the subscription page."""

import datetime as dt

from django.utils import formats, timezone
from playwright.sync_api import expect

from plans.choices import IntervalUnit
from subscribers.models import Subscription, SubscriptionSchedule
from tests.factories import CustomerFactory, PlanFactory


def short_date(value):
    return formats.date_format(timezone.localtime(value), "d/m/Y")


def test_owner_contracts_then_builds_a_three_phase_schedule_and_sees_its_timeline(
    page, login, owner, merchant
):
    PlanFactory(merchant=merchant, name="Impressa", price=10000)
    PlanFactory(merchant=merchant, name="Digital", price=4000)
    customer = CustomerFactory(merchant=merchant, name="Ana Souza")
    login(owner)

    # Nova assinatura with "Programar fases": the editor opens after contracting.
    page.goto("/planos/assinaturas/nova/")
    page.select_option("select[name=customer]", str(customer.pk))
    page.select_option("select[name=plan]", label="Impressa")
    page.check("input[name=plan_phases]")
    # The charge preview above the button re-renders on every change; let it settle so the click lands
    # on the button, not where it was a moment before.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Contratar").click()
    expect(page.get_by_role("heading", name="Programar fases")).to_be_visible()
    subscription = Subscription.objects.get(customer=customer)
    # Phase 1 is the running subscription's current period; the first form is phase 2.
    expect(page.locator("#schedule-attached-phase")).to_contain_text("Impressa")

    page.select_option("select[name=phases-0-plan]", label="Digital")
    page.fill("input[name=phases-0-quantity]", "2")
    page.fill("input[name=phases-0-iterations]", "2")
    page.get_by_role("button", name="Adicionar fase").click()
    page.fill("input[name=phases-1-price_name]", "Impressora em 6 vezes")
    page.fill("input[name=phases-1-price_amount]", "500,00")
    page.fill("input[name=phases-1-price_interval_count]", "1")
    page.select_option("select[name=phases-1-price_interval_unit]", IntervalUnit.MONTH.value)
    page.fill("input[name=phases-1-iterations]", "6")
    page.get_by_label("Cancelar: a assinatura termina com a última fase").check()
    # The Prévia follows the editor before anything is saved: the next invoices of the schedule as edited
    # (today's Impressa not billed yet, Digital × 2 for two months, then the one-off R$ 500 six times, and
    # the end it cancels on).
    preview = page.locator("#schedule-preview-table tr.schedule-preview-invoice")
    expect(preview).to_have_count(9)
    expect(preview.nth(0)).to_contain_text("R$ 100,00")
    expect(preview.nth(1)).to_contain_text("2 × Digital")
    expect(preview.nth(2)).to_contain_text("R$ 80,00")
    expect(preview.nth(3)).to_contain_text("Impressora em 6 vezes")
    expect(preview.nth(8)).to_contain_text("R$ 500,00")
    expect(page.locator("#schedule-preview-end")).to_be_visible()
    assert not SubscriptionSchedule.objects.filter(subscription=subscription).exists()
    page.screenshot(path="/tmp/schedule-editor.png", full_page=True)
    page.get_by_role("button", name="Salvar programação").click()

    expect(page.get_by_text("Programação salva.")).to_be_visible()
    schedule = SubscriptionSchedule.objects.get(subscription=subscription)
    phases = list(schedule.phases.order_by("position"))
    assert [p.price.name for p in phases] == ["Impressa", "Digital", "Impressora em 6 vezes"]

    timeline = page.locator("#schedule-timeline")
    items = timeline.locator("li.schedule-phase")
    expect(items).to_have_count(3)
    # The running phase is highlighted; each phase shows its dates, price and amount per period.
    expect(timeline.locator("li[data-current=true]")).to_have_attribute("data-position", "0")
    expect(items.nth(0)).to_contain_text("Atual")
    expect(items.nth(0)).to_contain_text("R$ 100,00 por período")
    expect(items.nth(1)).to_contain_text("Digital × 2")
    expect(items.nth(1)).to_contain_text("R$ 80,00 por período")
    expect(items.nth(1)).to_contain_text(f"{short_date(phases[1].start_at)} – {short_date(phases[1].end_at)}")
    expect(items.nth(2)).to_contain_text("Impressora em 6 vezes")
    expect(items.nth(2)).to_contain_text("R$ 500,00 por período")
    assert phases[2].end_at - phases[2].start_at > dt.timedelta(days=175)
    expect(page.locator("#schedule-end")).to_contain_text("a assinatura é cancelada")
    page.screenshot(path="/tmp/schedule-card.png", full_page=True)
