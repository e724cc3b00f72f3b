"""Nova assinatura's autocompletes (tom-select): any customer of a large merchant is found by typing and
picked from the keyboard, and so are the plan and the salesperson."""

from playwright.sync_api import expect

from subscribers.forms.contract import CUSTOMER_CHOICES_SHOWN
from subscribers.models import Subscription
from tests.factories import CustomerFactory, PlanFactory


def test_the_35th_customer_is_typed_picked_with_the_keyboard_and_contracted(page, login, owner, merchant):
    PlanFactory(merchant=merchant, name="Básico", price=2990)
    PlanFactory(merchant=merchant, name="Impressa", price=8990)
    for number in range(CUSTOMER_CHOICES_SHOWN + 4):
        CustomerFactory(merchant=merchant, name=f"Cliente {number:02d}")
    # Alphabetically last: not among the customers the page lists up front.
    zelia = CustomerFactory(merchant=merchant, name="Zélia Quintana", email="zelia@example.com")
    login(owner)

    page.goto("/planos/assinaturas/nova/")
    page.locator("#id_customer-ts-control").click()
    page.keyboard.type("Quint")
    expect(page.locator("#id_customer-ts-dropdown .option")).to_have_text(
        ["Zélia Quintana — zelia@example.com"]
    )
    page.keyboard.press("Enter")
    expect(page.locator("#id_customer")).to_have_value(str(zelia.pk))

    # The plan, too, from the keyboard: focus, type a part of its name, Enter.
    page.locator("#id_plan-ts-control").click()
    page.keyboard.type("impr")
    expect(page.locator("#id_plan-ts-dropdown .option")).to_have_text(["Impressa"])
    page.keyboard.press("Enter")
    expect(page.locator("#id_plan")).to_have_value(str(merchant.plans.get(name="Impressa").pk))

    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Contratar").click()

    expect(page.get_by_text("Assinatura contratada.")).to_be_visible()
    subscription = Subscription.objects.get(customer=zelia)
    assert (subscription.plan.name, subscription.salesperson) == ("Impressa", owner)
