"""Exportar CSV as a merchant clicks it: the button waits for the download, the file holds the filtered
rows, and the export is on Assinantes > Exportações, from where it can be run again."""

import re
from pathlib import Path

from playwright.sync_api import expect

from subscribers.choices import ExportStatus, SubscriptionStatus
from subscribers.models import SubscriberExport
from tests.factories import CustomerFactory, SubscriptionFactory


def test_export_button_waits_for_the_download_and_the_export_is_recorded(page, login, owner, merchant):
    for name, status in [
        ("Ana Souza", SubscriptionStatus.ACTIVE),
        ("Bruno Lima", SubscriptionStatus.CANCELED),
    ]:
        customer = CustomerFactory(
            merchant=merchant, name=name, email=f"{name.split()[0].lower()}@example.com"
        )
        SubscriptionFactory(merchant=merchant, customer=customer, status=status)
    login(owner)
    page.goto("/assinantes/?status=active")
    button = page.locator('a.btn[data-export="current"]')

    with page.expect_download() as download_info:
        button.click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")

    assert "Ana Souza" in text and "Bruno Lima" not in text
    # The response's cookie told the page the download had started: the button is back to normal.
    expect(button).not_to_have_attribute("aria-busy", "true")
    expect(button).to_have_text(re.compile("Exportar CSV"))
    assert page.url.endswith("/assinantes/?status=active")

    page.get_by_role("button", name="Exportar", exact=True).click()
    page.get_by_role("link", name="Exportações").click()
    expect(page.get_by_text("Status: Ativa")).to_be_visible()
    export = SubscriberExport.objects.get()
    assert (export.user, export.query) == (owner, {"status": "active"})

    with page.expect_download() as again_info:
        page.get_by_role("link", name=re.compile("Exportar de novo")).click()
    again = Path(again_info.value.path()).read_text(encoding="utf-8-sig")
    assert again.splitlines()[1:] == text.splitlines()[1:]
    page.reload()
    assert (
        list(SubscriberExport.objects.values_list("status", "row_count")) == [(ExportStatus.FINISHED, 1)] * 2
    )
