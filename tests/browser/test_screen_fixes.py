"""The screens issue 17 fixed, in Chromium at 1280 px and on a 390 px phone: the subscription page greys a
refund that would be refused and shows an open boleto's line, the error pages keep the layout and a way
back, the cancel preview of a scheduled contract says it will not start. Screenshots go to
var/screenshots/ (test artifacts) to be looked at."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing.choices import InvoiceStatus, PaymentStatus
from subscribers.choices import PaymentMethod, SubscriptionStatus
from tests.factories import InvoiceFactory, PaymentFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)


def test_subscription_page_greys_a_refused_refund_and_shows_the_boleto_line(page, login, owner, merchant):
    canceled = SubscriptionFactory(
        merchant=merchant, status=SubscriptionStatus.CANCELED, payment_method="card"
    )
    awaiting = SubscriptionFactory(merchant=merchant, payment_method=PaymentMethod.BOLETO)
    invoice = InvoiceFactory(
        merchant=merchant, subscription=awaiting, subtotal=5990, status=InvoiceStatus.OPEN
    )
    PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        amount=5990,
        method=PaymentMethod.BOLETO,
        status=PaymentStatus.PENDING,
        gateway="sandbox",
        gateway_reference="sbx_boleto_123",
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    login(owner)

    page.goto(reverse("subscribers:subscription_detail", args=[canceled.pk]))
    refused = page.locator('[data-action-refused="refund"]')
    expect(refused).to_be_visible()
    expect(refused.locator("button")).to_be_disabled()
    expect(refused).to_have_attribute("title", "Esta assinatura não tem pagamento a reembolsar.")
    shoot(page, "subscription-refund-refused")

    page.goto(reverse("subscribers:subscription_detail", args=[awaiting.pk]))
    expect(page.locator("[data-boleto-line]")).to_be_visible()
    shoot(page, "subscription-open-boleto")


def test_error_page_keeps_the_layout_and_a_way_back(page, login, owner):
    login(owner)

    response = page.goto("/nao-existe/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()
    shoot(page, "error-404")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#error-home").click()
    page.wait_for_url("**/")


def test_cancel_preview_of_a_scheduled_contract_says_it_will_not_start(page, login, owner, merchant):
    scheduled = SubscriptionFactory(
        merchant=merchant,
        status=SubscriptionStatus.SCHEDULED,
        contract_date=timezone.localdate() + dt.timedelta(days=10),
        started_at=None,
        current_period_end=None,
    )
    login(owner)

    page.goto(reverse("subscribers:subscription_cancel", args=[scheduled.pk]))

    expect(page.locator("#cancel-never-starts")).to_contain_text("A assinatura não vai começar")
    shoot(page, "cancel-scheduled")


def test_painel_churn_note_at_both_widths(page, login, owner, merchant):
    SubscriptionFactory(merchant=merchant)
    login(owner)

    page.goto(reverse("dashboard:index"))

    expect(page.get_by_text("1 assinatura ativa", exact=True)).to_be_visible()
    shoot(page, "painel")
