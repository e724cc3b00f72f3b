"""Assinantes as support clicks it: filter by status and "Últimos 30 dias", export the filtered rows and
read the file, see why a boleto subscription cannot be refunded (and be refused when forcing it), refund
a card one from its row and land back on the same filters, and cancel a selection with a reason."""

import csv
import datetime as dt
import re
from urllib.parse import urlsplit

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing.choices import PaymentStatus
from billing.models import Refund
from billing.services.billing_run import billing_run_start, process_chunk
from billing.services.refunds import BOLETO_NOT_REFUNDABLE
from subscribers.choices import CancelOrigin, CancelWhen, PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services import subscription_cancel, subscription_create
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory, PlanFactory, SubscriptionFactory

S = SubscriptionStatus


def days_ago(days):
    return timezone.localdate() - dt.timedelta(days=days)


def canceled_after_paying_by_card(merchant, owner, plan, name, *, contracted):
    """Contracted through the service, its first charge paid by the sandbox card, then canceled now."""
    subscription = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=CustomerFactory(merchant=merchant, name=name),
        plan=plan,
        contract_date=contracted,
        payment_method=PaymentMethod.CARD,
    )
    billing_run_start(dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids))
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.NOW
    )
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    return subscription


def listed(merchant, name, *, contracted, **fields):
    return SubscriptionFactory(
        merchant=merchant,
        customer=CustomerFactory(merchant=merchant, name=name),
        contract_date=contracted,
        **fields,
    )


def test_filter_export_and_the_boleto_refund_refusal(page, login, owner, merchant):
    plan = PlanFactory(merchant=merchant, name="Impressa", price=4990)
    card = canceled_after_paying_by_card(merchant, owner, plan, "Ana Cartão", contracted=days_ago(5))
    boleto = listed(
        merchant,
        "Bruno Boleto",
        contracted=days_ago(12),
        plan=plan,
        status=S.CANCELED,
        payment_method=PaymentMethod.BOLETO,
        ended_at=timezone.now(),
    )
    PaymentFactory(
        merchant=merchant,
        invoice=InvoiceFactory(merchant=merchant, subscription=boleto, number=9001),
        method=PaymentMethod.BOLETO,
        status=PaymentStatus.SUCCEEDED,
    )
    listed(
        merchant,
        "Caio Antigo",
        contracted=days_ago(45),
        plan=plan,
        status=S.CANCELED,
        ended_at=timezone.now(),
    )
    listed(merchant, "Duda Ativa", contracted=days_ago(3), plan=plan, status=S.ACTIVE)
    listed(merchant, "Eva Atrasada", contracted=days_ago(20), plan=plan, status=S.PAST_DUE)
    login(owner)

    page.get_by_role("link", name="Assinantes", exact=True).click()
    results = page.locator("#list-results")
    expect(results).to_contain_text("Duda Ativa")
    # The rows are in the HTML before the page's scripts have run; a filter changed earlier than htmx binds
    # the form is not sent (a person cannot be that fast; a loaded CI machine made the test that fast).
    page.wait_for_load_state("networkidle")

    page.select_option("select[name=status]", "canceled")
    expect(results).not_to_contain_text("Duda Ativa")
    page.select_option("select[name=subscribed]", "last_30")
    expect(results).not_to_contain_text("Caio Antigo")
    expect(page).to_have_url(
        re.compile(r"status=canceled.*subscribed=last_30|subscribed=last_30.*status=canceled")
    )
    expect(results.locator("tbody tr")).to_have_count(2)

    with page.expect_download() as download:
        page.locator("[data-export=current]").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0][0] == "Nome"
    assert sorted(row[0] for row in rows[1:]) == ["Ana Cartão", "Bruno Boleto"]

    # The boleto row: Reembolsar is disabled and says the refund service's rule.
    boleto_row = results.locator("tr", has_text="Bruno Boleto")
    refusal = boleto_row.locator("[data-row-action-disabled=refund]")
    expect(refusal.locator("button")).to_be_disabled()
    expect(refusal).to_contain_text(f"Reembolso indisponível: {BOLETO_NOT_REFUNDABLE}")
    refusal.hover()
    expect(page.locator(".tooltip")).to_contain_text(str(BOLETO_NOT_REFUNDABLE))

    # Forcing it: the refund page does not open, and a POST is refused back on the list with the rule.
    list_url = page.url
    page.goto(reverse("billing:subscription_refund", args=[boleto.pk]))
    expect(page.get_by_role("alert").filter(has_text=str(BOLETO_NOT_REFUNDABLE))).to_be_visible()
    page.goto(list_url)
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    parts = urlsplit(list_url)
    path = f"{parts.path}?{parts.query}"
    response = page.request.post(
        reverse("billing:subscription_refund", args=[boleto.pk]),
        form={"csrfmiddlewaretoken": token, "next": path},
        max_redirects=0,
    )
    assert response.status == 302 and response.headers["location"] == path
    page.goto(list_url)
    expect(page.get_by_role("alert").filter(has_text=str(BOLETO_NOT_REFUNDABLE))).to_be_visible()
    assert not Refund.objects.exists()

    # The card row: Reembolsar opens the confirmation in a modal and comes back to the same filters.
    results.locator("tr", has_text="Ana Cartão").locator("[data-row-action=refund]").click()
    modal = page.locator("#action-modal")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("R$\xa049,90")
    modal.get_by_role("button", name="Confirmar reembolso").click()
    expect(page.get_by_text("Reembolso de R$\xa049,90 concluído.")).to_be_visible()
    assert page.url == list_url
    card.refresh_from_db()
    assert card.status == S.REFUNDED


def test_support_cancels_a_selection_with_a_reason(page, login, support, merchant):
    plan = PlanFactory(merchant=merchant, name="Digital")
    first = listed(merchant, "Ana Ativa", contracted=days_ago(2), plan=plan, status=S.ACTIVE)
    second = listed(merchant, "Bia Teste", contracted=days_ago(2), plan=plan, status=S.TRIALING)
    ended = listed(merchant, "Caio Expirado", contracted=days_ago(2), plan=plan, status=S.EXPIRED)
    listed(merchant, "Outro Plano", contracted=days_ago(2), status=S.ACTIVE)
    login(support)

    page.goto(reverse("subscribers:subscriber_list") + f"?plan={plan.pk}")
    results = page.locator("#list-results")
    expect(results.locator("tbody tr")).to_have_count(3)
    expect(page.locator("#bulk-cancel-button")).to_be_disabled()
    page.locator("#select-all").check()
    expect(page.locator("#bulk-count")).to_have_text("3")
    page.locator("#bulk-cancel-button").click()

    modal = page.locator("#action-modal")
    expect(modal).to_contain_text("2 assinaturas serão canceladas.")
    expect(modal).to_contain_text("1 será ignorada, pois não pode ser cancelada:")
    expect(modal).to_contain_text("Uma assinatura expirada não pode ser cancelada.")
    modal.get_by_label("Imediatamente").check()
    modal.get_by_role("button", name="Cancelar assinaturas").click()
    expect(modal).to_contain_text("Informe o motivo do cancelamento.")
    modal.get_by_label("Motivo").fill("Plano descontinuado")
    modal.get_by_role("button", name="Cancelar assinaturas").click()

    expect(page.get_by_text("2 canceladas, 1 ignorada")).to_be_visible()
    assert f"plan={plan.pk}" in page.url
    statuses = dict(Subscription.objects.filter(plan=plan).values_list("pk", "status"))
    assert statuses == {first.pk: S.CANCELED, second.pk: S.CANCELED, ended.pk: S.EXPIRED}
    assert Subscription.objects.get(pk=first.pk).cancel_reason == "Plano descontinuado"
