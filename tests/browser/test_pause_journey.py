"""Pausar / retomar as a merchant clicks it on Assinantes: pause from a row, see Pausada, resume with the
money preview."""

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice
from subscribers.choices import SubscriptionStatus
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory


def test_owner_pauses_from_the_list_and_resumes_with_the_preview(page, login, owner, merchant):
    now = timezone.now()
    subscription = SubscriptionFactory(
        merchant=merchant,
        customer=CustomerFactory(merchant=merchant, name="Carla Dias"),
        plan=PlanFactory(merchant=merchant, name="Clube", price=3000),
        billing_cycle_anchor=now - dt.timedelta(days=20),
        current_period_start=now - dt.timedelta(days=20),
        current_period_end=now + dt.timedelta(days=10),
        next_invoice_at=now + dt.timedelta(days=10),
    )
    login(owner)
    page.goto("/assinantes/")
    row = page.locator("tr", has_text="Carla Dias")

    row.locator('[data-row-action="pause"]').click()
    modal = page.locator("#action-modal")
    expect(modal.get_by_role("heading", name="Pausar assinatura")).to_be_visible()
    modal.get_by_role("button", name="Confirmar pausa").click()

    expect(page.get_by_text("Pausa registrada.")).to_be_visible()
    expect(row).to_contain_text("Pausada")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAUSED

    row.locator('[data-row-action="resume"]').click()
    expect(modal.get_by_role("heading", name="Retomar assinatura")).to_be_visible()
    # Continuing inside the paid period charges nothing; a new period charges a whole one now.
    expect(modal.locator("#resume-charge-now")).to_contain_text("Nada é cobrado na retomada")
    modal.get_by_label(re.compile("Começar um novo período")).check()
    expect(modal.locator("#resume-charge-now")).to_contain_text(re.compile(r"Cobrado agora: R\$\s30,00"))
    page.wait_for_load_state("networkidle")
    modal.get_by_role("button", name="Confirmar retomada").click()

    expect(page.get_by_text("Retomada registrada.")).to_be_visible()
    expect(row).to_contain_text("Ativa")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert list(Invoice.objects.filter(subscription=subscription).values_list("total", flat=True)) == [3000]
