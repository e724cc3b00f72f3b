"""The merchant's screens at a laptop's 1280 px and a phone's 390 px: every page is screenshotted into
var/screenshots/ (a test artifact, see docs/testing.md), no page scrolls sideways, every list fits with its
actions in view at 1280 px, the sidebar's entries each sit on one line, and on a phone the menu is an
offcanvas, the Assinantes filters fold into "Filtros (n)" and table rows become cards."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus
from tests.browser.test_content_security_policy import _pages
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    MembershipFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
# Every list's table box: its own width against what it needs (a table wider than its box scrolls inside it).
TABLE_OVERFLOWS = """() => [...document.querySelectorAll('.table-container')]
    .filter(box => box.scrollWidth > box.clientWidth + 1)
    .map(box => box.scrollWidth + ' > ' + box.clientWidth)"""


@pytest.fixture
def busy_merchant(merchant, owner):
    """A merchant whose lists are full the way a real one's are: long names, every status, a salesperson."""
    seller = UserFactory(username="vendedora", first_name="Maria Aparecida", last_name="dos Santos Oliveira")
    MembershipFactory(user=seller, merchant=merchant)
    plans = [
        PlanFactory(merchant=merchant, name=name, price=price)
        for name, price in (("Assinatura Premium Anual com Entrega", 119900), ("Digital", 1990))
    ]
    statuses = list(SubscriptionStatus)
    for n in range(12):
        customer = CustomerFactory(
            merchant=merchant,
            name=["Distribuidora Norte Ltda", "Maria Eduarda Albuquerque de Castro", "Ana Souza"][n % 3]
            + f" {n}",
            handle=f"cliente.com.nome.longo{n}",
        )
        subscription = SubscriptionFactory(
            merchant=merchant,
            customer=customer,
            plan=plans[n % 2],
            status=statuses[n % len(statuses)],
            payment_method=[PaymentMethod.CARD, PaymentMethod.BOLETO, PaymentMethod.PIX][n % 3],
            card_brand="Mastercard",
            card_last4="4444",
            salesperson=seller,
            cancel_origin=CancelOrigin.CUSTOMER if n % 4 == 0 else "",
        )
        invoice = InvoiceFactory(merchant=merchant, subscription=subscription, customer=customer)
        PaymentFactory(merchant=merchant, invoice=invoice)
    return merchant


def _name(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", url.strip("/").lower()).strip("-") or "painel"


def test_every_page_at_1280_and_390_px(page, login, owner, busy_merchant, client):
    client.force_login(owner)
    # Whole pages only: htmx fragments (the customer lookup's options, an e-mail preview) have no frame.
    urls = [url for url in _pages(client, busy_merchant) if b'id="app-sidebar"' in client.get(url).content]
    assert len(urls) > 40, urls
    login(owner)
    problems = []
    for device, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        folder = SCREENSHOTS / f"{width}"
        folder.mkdir(parents=True, exist_ok=True)
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / f"{_name(url)}.png"), full_page=True)
            if not page.evaluate(NO_SIDEWAYS_SCROLL):
                problems.append(f"{width} px {url}: the page scrolls sideways")
            if device == "desktop":
                problems += [f"1280 px {url}: a table scrolls ({o})" for o in page.evaluate(TABLE_OVERFLOWS)]
                actions = page.locator("th[data-column=actions]")
                if actions.count():
                    box = actions.first.bounding_box()
                    if box is None or box["x"] + box["width"] > width:
                        problems.append(f"1280 px {url}: the actions column is out of view")
    assert not problems, "\n".join(problems)


def test_the_sidebar_fits_one_line_per_entry_at_1280_px(page, login, owner, merchant):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(owner)

    sidebar = page.locator("#app-sidebar")
    expect(sidebar).to_be_visible()
    for section in ("Painel", "Planos", "Assinantes", "Cobranças", "Notificações", "Configurações"):
        expect(sidebar.get_by_text(section, exact=True).first).to_be_visible()
    expect(sidebar.locator("#merchant-switcher select")).to_be_visible()
    expect(sidebar.locator("#user-menu")).to_be_visible()
    heights = page.locator(".app-nav .nav-link").evaluate_all("links => links.map(l => l.offsetHeight)")
    line = page.locator(".app-nav .nav-link").first.evaluate(
        "l => parseFloat(getComputedStyle(l).lineHeight)"
    )
    assert heights and max(heights) < 2 * line, heights  # no entry wraps to a second line
    # The user menu holds "Sair".
    page.locator("#user-menu > button").click()
    expect(page.locator("#logout-button")).to_be_visible()


def test_on_a_phone_the_menu_filters_and_rows_fold(page, login, owner, busy_merchant):
    page.set_viewport_size({"width": 390, "height": 844})
    login(owner)

    expect(page.locator("#app-sidebar")).to_be_hidden()
    page.get_by_role("button", name="Abrir menu").click()
    expect(page.locator("#app-sidebar").get_by_role("link", name="Assinantes", exact=True)).to_be_visible()
    page.locator("#app-sidebar").get_by_role("link", name="Assinantes", exact=True).click()
    page.wait_for_url("**/assinantes/")

    # The eleven filters wait behind "Filtros (n)": the first row is on the first screen.
    expect(page.locator("#filters-panel")).to_be_hidden()
    expect(page.locator("#filters-toggle")).to_have_text(re.compile(r"Filtros \(0\)"))
    first_row = page.locator("#list-results tbody tr").first
    assert first_row.bounding_box()["y"] < 844
    # Rows are cards: no header row, each value labelled.
    expect(page.locator("#list-results thead")).to_be_hidden()
    assert first_row.locator("td[data-column=name]").get_attribute("data-label") == "Nome"

    page.goto(reverse("subscribers:subscriber_list") + "?status=active&payment_method=card")
    expect(page.locator("#filters-toggle")).to_have_text(re.compile(r"Filtros \(2\)"))
    page.locator("#filters-toggle").click()
    expect(page.locator("#filters-panel select[name=status]")).to_be_visible()
    page.select_option("#filters-panel select[name=plan]", index=1)
    expect(page.locator("#filters-toggle")).to_have_text(re.compile(r"Filtros \(3\)"))


def test_configurar_tabela_shows_a_chosen_column_and_keeps_it(page, login, owner, busy_merchant):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(owner)
    page.goto(reverse("subscribers:subscriber_list"))
    expect(page.locator("th[data-column=contact]")).to_have_count(0)

    page.locator("#table-config-button").click()
    page.locator("#table-config-contact").check()
    page.locator("#table-config-form").get_by_role("button", name="Salvar").click()

    expect(page.locator("th[data-column=contact]")).to_be_visible()
    page.reload()
    expect(page.locator("th[data-column=contact]")).to_be_visible()
    # The chosen column still leaves the actions in view.
    box = page.locator("th[data-column=actions]").bounding_box()
    assert box["x"] + box["width"] <= 1280


def test_a_pages_actions_line_up_at_390_and_1280_px(page, login, owner, merchant):
    """A subscription's and an invoice's buttons wrapped raggedly on a phone, each as wide as its label: now
    a grid of equal cells there, and one row on a laptop."""
    customer = CustomerFactory(merchant=merchant, name="Maria Eduarda Albuquerque de Castro")
    subscription = SubscriptionFactory(
        merchant=merchant,
        customer=customer,
        status=SubscriptionStatus.ACTIVE,
        payment_method=PaymentMethod.CARD,
    )
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, customer=customer)
    login(owner)
    boxes = (
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })"
    )
    pages = {
        "subscription-actions": subscription.get_absolute_url(),
        "invoice-actions": reverse("billing:invoice_detail", args=[invoice.pk]),
    }
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        for box_id, url in pages.items():
            page.goto(url)
            page.wait_for_load_state("networkidle")
            folder = SCREENSHOTS / f"{width}"
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{box_id}.png"), full_page=True)
            cells = page.locator(f"#{box_id} > *").evaluate_all(boxes)
            assert len(cells) >= 4, (url, cells)
            assert all(x >= 0 and x + w <= width for x, _y, w, _h in cells), cells
            if width == 390:
                # Two columns of equal buttons, every row as tall as its neighbour.
                assert len({round(x) for x, *_ in cells}) == 2, (url, cells)
                assert len({round(w) for _x, _y, w, _h in cells}) == 1, (url, cells)
                rows = {}
                for _x, y, _w, h in cells:
                    rows.setdefault(round(y), set()).add(round(h))
                assert all(len(heights) == 1 for heights in rows.values()), (url, cells)
            else:
                assert len({round(y) for _x, y, *_ in cells}) == 1, (url, cells)  # one row


def test_the_invoice_items_fit_their_card_on_a_phone(page, login, owner, merchant):
    """At 390 px the items table ran past its card, its last "Valor" columns scrolled out of sight: now each
    item is a labelled card inside the box, its amount in view; at 1280 px it stays a table."""
    invoice = InvoiceFactory(merchant=merchant, subtotal=1199000, total=1199000)
    InvoiceLineFactory(
        invoice=invoice,
        description="Assinatura Premium Anual com Entrega e Acesso Digital",
        quantity=10,
        unit_amount=119900,
    )
    PaymentFactory(merchant=merchant, invoice=invoice)
    login(owner)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("billing:invoice_detail", args=[invoice.pk]))
    for table in ("#invoice-lines", "#invoice-payments"):
        card = page.locator(table).locator("xpath=ancestor::div[contains(@class,'card-body')][1]")
        box = card.bounding_box()
        cells = page.locator(f"{table} tbody td").evaluate_all(
            "tds => tds.map(td => { const r = td.getBoundingClientRect(); return [r.x, r.x + r.width]; })"
        )
        assert cells and all(
            left >= box["x"] and right <= box["x"] + box["width"] for left, right in cells
        ), (table, box, cells)
    amount = page.locator("#invoice-lines td[data-column=amount]")
    amount.scroll_into_view_if_needed()
    expect(amount).to_be_in_viewport(ratio=1)
    expect(amount).to_contain_text("11.990,00")
    assert amount.get_attribute("data-label") == "Valor"
    expect(page.locator("#invoice-lines thead")).to_be_hidden()

    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("#invoice-lines thead")).to_be_visible()


def test_a_wrapped_label_keeps_apart_from_the_next_in_english(page, login, owner, merchant, live_server):
    """In English "Responsible salesperson" wraps at 1280 px and the next label ("Notify the customer") sat
    flush under it, as if one label; every label of a row-laid description list now keeps a gap."""
    subscription = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.ACTIVE)
    login(owner)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(subscription.get_absolute_url())
    expect(page.get_by_text("Responsible salesperson", exact=True)).to_be_visible()
    gaps = page.locator("dl.row").evaluate_all(
        """lists => lists.flatMap(dl => {
            // The text's box, not the cell's (a cell stretches to its row).
            const labels = [...dl.querySelectorAll(':scope > dt')].map(dt => {
                const range = document.createRange();
                range.selectNodeContents(dt);
                return range.getBoundingClientRect();
            });
            return labels.slice(1).map((r, i) => r.top - labels[i].bottom);
        })"""
    )
    assert gaps and min(gaps) >= 8, gaps  # a line's leading alone leaves about 5 px
