"""What a merchant clicks on day one: sign in, create a plan, find it, filter, switch language."""

import re

from playwright.sync_api import expect

from accounts.choices import Role
from plans.models import Plan
from tests.factories import MembershipFactory, PlanFactory


def test_owner_creates_a_plan_sees_it_in_the_list_and_filters_it(page, login, owner, merchant):
    PlanFactory(merchant=merchant, name="Impressa", price=8990)
    login(owner)

    page.get_by_role("button", name="Planos").click()
    page.get_by_role("link", name="Planos", exact=True).click()
    expect(page.get_by_role("heading", name="Planos")).to_be_visible()
    page.get_by_role("link", name=re.compile("Novo plano")).first.click()

    page.fill("input[name=name]", "Digital Premium")
    page.fill("input[name=price]", "1.234,56")
    page.select_option("select[name=interval_preset]", "quarterly")
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("Digital Premium").first).to_be_visible()
    plan = Plan.objects.get(merchant=merchant, name="Digital Premium")
    assert (plan.price, plan.interval_unit, plan.interval_count) == (123456, "month", 3)

    page.goto("/planos/")
    table = page.locator("#list-results")
    expect(table.get_by_text("Digital Premium")).to_be_visible()
    expect(table.get_by_text("R$\xa01.234,56")).to_be_visible()
    expect(table.get_by_text("Impressa")).to_be_visible()

    # Filtering applies as you type (htmx) and ends up in the URL, so the view can be shared.
    page.fill("input[name=q]", "premium")
    expect(table.get_by_text("Impressa")).to_have_count(0)
    expect(table.get_by_text("Digital Premium")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=premium"))

    page.select_option("select[name=interval]", "monthly")
    expect(table.get_by_text("Nenhum resultado para estes filtros.")).to_be_visible()


def test_the_price_minimum_is_explained_next_to_the_field(page, login, owner):
    login(owner)
    page.goto("/planos/novo/")
    page.fill("input[name=name]", "Barato demais")
    page.fill("input[name=price]", "4,99")
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("O preço mínimo de um plano em BRL é R$\xa05,00.")).to_be_visible()
    assert not Plan.objects.filter(name="Barato demais").exists()


def test_switching_language_translates_the_interface(page, login, owner):
    login(owner)
    expect(page.get_by_role("link", name="Painel")).to_be_visible()

    # The language is in the user menu at the top of the sidebar.
    page.locator("#user-menu > button").click()
    page.select_option("#language-switcher select", "en")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Plans", exact=True)).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"

    page.locator("#user-menu > button").click()
    page.select_option("#language-switcher select", "pt-br")
    expect(page.get_by_role("link", name="Painel")).to_be_visible()


def test_merchant_switcher_changes_the_tenant(page, login, owner, merchant, other_merchant):
    MembershipFactory(user=owner, merchant=other_merchant, role=Role.VIEWER)
    PlanFactory(merchant=other_merchant, name="Plano da Outra Loja")
    login(owner)

    page.goto("/planos/")
    expect(page.get_by_text("Plano da Outra Loja")).to_have_count(0)
    with page.expect_navigation():
        page.select_option("#merchant-switcher select", str(other_merchant.pk))
    # The switcher keeps you on the same screen, now showing the other merchant's plans.
    expect(page).to_have_url(re.compile(r"/planos/$"))
    expect(page.get_by_text("Plano da Outra Loja")).to_be_visible()
