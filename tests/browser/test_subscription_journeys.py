"""Subscriptions as merchants click them: contract through both paths, cancel on a customer's behalf,
and the delete window."""

import datetime as dt
import re

from django.utils import formats, timezone
from playwright.sync_api import expect

from accounts.choices import Role
from subscribers.choices import CancelOrigin, SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, SubscriptionFactory, UserFactory


def short_date(value):
    return formats.date_format(
        timezone.localtime(value) if isinstance(value, dt.datetime) else value, "d/m/Y"
    )


def test_owner_contracts_from_the_subscriptions_list_and_from_the_customers_page(
    page, login, owner, merchant
):
    PlanFactory(merchant=merchant, name="Impressa", price=8990)
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    login(owner)

    # Path 1: Planos > Assinaturas > Nova assinatura
    page.get_by_role("link", name="Assinaturas", exact=True).click()
    page.get_by_role("link", name=re.compile("Nova assinatura")).first.click()
    page.select_option("select[name=customer]", str(customer.pk))
    page.select_option("select[name=plan]", label="Impressa")
    page.fill("input[name=quantity]", "2")
    # The charge preview above the button re-renders on every change; let it settle so the click lands
    # on the button, not where it was a moment before.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Contratar").click()

    expect(page.get_by_text("Assinatura contratada.")).to_be_visible()
    first = Subscription.objects.get(customer=customer)
    assert (first.status, first.quantity, first.amount) == (SubscriptionStatus.ACTIVE, 2, 17980)
    expect(page.locator("#subscription-timeline")).to_contain_text("Contratada")

    # Path 2: the customer's page → Recorrências → Nova > Contratar plano
    page.goto(customer.get_absolute_url() + "?tab=recorrencias")
    page.click("#customer-subscription-new")
    page.get_by_role("link", name="Contratar plano").click()
    expect(page.get_by_text("Ana Souza").first).to_be_visible()
    page.select_option("select[name=plan]", label="Impressa")
    page.select_option("select[name=payment_method]", "boleto")
    # The charge preview above the button re-renders on every change; let it settle so the click lands
    # on the button, not where it was a moment before.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Contratar").click()

    expect(page.get_by_text("Assinatura contratada.")).to_be_visible()
    second = Subscription.objects.filter(customer=customer).exclude(pk=first.pk).get()
    assert second.status == SubscriptionStatus.PENDING  # boleto waits for payment

    page.goto(customer.get_absolute_url() + "?tab=recorrencias")
    expect(page.locator("#tab-recorrencias-pane")).to_contain_text("Pendente")
    expect(page.locator("#tab-recorrencias-pane")).to_contain_text("Ativa")


def test_support_cancels_on_the_customers_behalf_and_sees_until_when_they_can_use_it(page, login, merchant):
    support = UserFactory(username="suporte", first_name="Sérgio")
    MembershipFactory(user=support, merchant=merchant, role=Role.SUPPORT)
    subscription = SubscriptionFactory(
        merchant=merchant,
        customer=CustomerFactory(merchant=merchant, name="Bruno Lima"),
        current_period_end=timezone.now() + dt.timedelta(days=12),
    )
    login(support)

    page.goto(subscription.customer.get_absolute_url() + "?tab=recorrencias")
    page.locator("#tab-recorrencias-pane").get_by_role("link", name="Cancelar").click()

    period_end = short_date(subscription.current_period_end)
    expect(page.locator("#cancel-preview")).to_contain_text(
        f"O cliente poderá usar o serviço até {period_end}"
    )
    page.get_by_label("Imediatamente").check()
    expect(page.locator("#cancel-preview")).to_contain_text(f"até {period_end}")
    page.get_by_label("Cliente").check()
    page.fill("textarea[name=reason]", "Mudou de cidade.")
    page.get_by_role("button", name="Confirmar cancelamento").click()

    expect(page.get_by_text("Cancelamento registrado.")).to_be_visible()
    expect(page.locator("#access-until")).to_have_text(period_end)
    timeline = page.locator("#subscription-timeline")
    expect(timeline).to_contain_text("Mudou de cidade.")
    expect(timeline).to_contain_text("Cliente")
    expect(timeline).to_contain_text("Por Sérgio")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_origin) == (
        SubscriptionStatus.CANCELED,
        CancelOrigin.CUSTOMER,
    )


def test_deleting_an_old_subscription_is_not_offered_and_refused(page, login, owner, merchant):
    today = timezone.localdate()
    old = SubscriptionFactory(merchant=merchant, contract_date=today - dt.timedelta(days=45))
    login(owner)

    page.goto(old.get_absolute_url())
    expect(page.get_by_role("link", name="Excluir")).to_have_count(0)

    page.goto(old.get_absolute_url() + "excluir/")
    expect(page.get_by_text("só podia ser excluída até")).to_be_visible()
    assert Subscription.objects.filter(pk=old.pk).exists()


def _open_new_subscription(page, login, owner, merchant):
    PlanFactory(merchant=merchant, name="Impressa", price=8990)
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    login(owner)
    page.get_by_role("link", name="Assinaturas", exact=True).click()
    page.get_by_role("link", name=re.compile("Nova assinatura")).first.click()
    page.select_option("select[name=customer]", str(customer.pk))
    page.select_option("select[name=plan]", label="Impressa")
    # The charge preview is redrawn (htmx) after each choice and moves what is below it: let it settle.
    expect(page.get_by_text("Cobrança ao contratar: R$ 89,90.")).to_be_visible()
    page.wait_for_load_state("networkidle")
    return customer


def test_a_double_click_on_contratar_contracts_once(page, login, owner, merchant):
    customer = _open_new_subscription(page, login, owner, merchant)
    button = page.get_by_role("button", name="Contratar")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.mouse.click(x, y)
    page.wait_for_timeout(50)
    page.mouse.click(x, y)

    expect(page.get_by_text("Assinatura contratada.")).to_be_visible()
    assert Subscription.objects.filter(customer=customer).count() == 1


def test_two_submits_50_ms_apart_without_the_button_guard_still_contract_once(page, login, owner, merchant):
    # The server's one-time token, not the script, is what guarantees it: switch the script off for this form.
    customer = _open_new_subscription(page, login, owner, merchant)
    page.evaluate("document.getElementById('subscription-form').setAttribute('data-allow-resubmit', '')")

    page.evaluate(
        """() => new Promise((resolve) => {
            const form = document.getElementById('subscription-form');
            form.requestSubmit();
            setTimeout(() => { form.requestSubmit(); resolve(); }, 50);
        })"""
    )

    expect(page.locator("#subscription-timeline")).to_contain_text("Contratada")
    assert Subscription.objects.filter(customer=customer).count() == 1


def test_a_backdated_contract_shows_what_each_choice_charges_before_saving(page, login, owner, merchant):
    customer = _open_new_subscription(page, login, owner, merchant)
    ten_days_ago = timezone.localdate() - dt.timedelta(days=10)

    page.fill("input[name=contract_date]", ten_days_ago.isoformat())
    page.locator("input[name=contract_date]").dispatch_event("change")

    box = page.locator("#contract-preview-choices")
    expect(box).to_contain_text("Cobrança retroativa")
    expect(box.locator('[data-choice="periods"]')).to_have_text("R$\xa089,90")
    expect(box.locator('[data-choice="today"]')).to_have_text("R$\xa089,90")
    expect(box.locator('[data-choice="prorated"]')).to_contain_text("R$")
    expect(page.locator("#backdate-periods")).to_be_checked()  # today's behaviour stays the default
    page.wait_for_load_state("networkidle")
    page.check("#backdate-today")
    # Checking the radio re-renders the preview; the newest request replaces an older one still in flight
    # (hx-sync), so the choice survives the swap.
    page.wait_for_load_state("networkidle")
    expect(page.locator("#backdate-today")).to_be_checked()
    page.get_by_role("button", name="Contratar").click()

    expect(
        page.get_by_text("Cobrança agora: R$\xa089,90 — o primeiro período a partir de hoje")
    ).to_be_visible()
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.contract_date == ten_days_ago
    assert timezone.localtime(subscription.billing_cycle_anchor).date() == timezone.localdate()
