"""Invoice PDFs: WeasyPrint renders templates/billing/invoice_pdf.html, self-contained, in pt-BR."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from billing.choices import InvoiceStatus
from billing.pdf import invoice_pdf_filename, render_invoice_html, render_invoice_pdf
from billing.selectors import invoice_detail_queryset
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    PaymentFactory,
    RefundFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def invoice(merchant):
    customer = CustomerFactory(
        merchant=merchant, name="Ana Souza", document="12345678909", phone="11999990000"
    )
    subscription = SubscriptionFactory(merchant=merchant, customer=customer)
    invoice = InvoiceFactory(
        merchant=merchant,
        subscription=subscription,
        number=2048,
        subtotal=123456,
        discount=23456,
        tax=5000,
        status=InvoiceStatus.PAID,
        amount_paid=105000,
        # 02:00 UTC on 1 March is 28 February in São Paulo (the merchant's clock).
        period_start=dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
        period_end=dt.datetime(2026, 4, 1, 2, 0, tzinfo=UTC),
        due_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
    )
    InvoiceLineFactory(
        invoice=invoice,
        description="Clube do Vinho",
        quantity=2,
        unit_amount=61728,
        amount=123456,
        discount_amount=23456,
        tax_amount=5000,
    )
    payment = PaymentFactory(merchant=merchant, invoice=invoice, amount=105000)
    RefundFactory(merchant=merchant, payment=payment, amount=5000)
    return invoice_detail_queryset().get(pk=invoice.pk)


def test_the_pdf_is_a_pdf(invoice):
    assert render_invoice_pdf(invoice).startswith(b"%PDF")


def test_the_document_has_number_parties_lines_and_totals_in_portuguese(invoice, merchant):
    html = render_invoice_html(invoice)

    for text in [
        "Fatura nº 2048",
        merchant.name,
        "Ana Souza",
        "CPF: 123.456.789-09",
        "Clube do Vinho",
        "R$\xa0617,28",  # unit
        "R$\xa01.234,56",  # subtotal
        "−R$\xa0234,56",  # discount
        "R$\xa050,00",  # tax
        "R$\xa01.050,00",  # total and paid
        "28/02/2026 – 31/03/2026",  # the period on the merchant's clock
        "Vencimento: 28/02/2026",
        "Paga",
        "Reembolsos",
    ]:
        assert text in html, text


def test_the_document_is_portuguese_whatever_the_readers_language(invoice):
    with translation.override("en"):
        html = render_invoice_html(invoice)
    assert "Fatura nº 2048" in html and "R$\xa01.234,56" in html


def test_the_document_loads_nothing_from_outside(invoice):
    html = render_invoice_html(invoice)
    assert not re.search(r"(src|href)=|url\(|@import|https?://", html)


def test_the_pdf_renders_many_times(invoice):
    # Not a benchmark (no timed asserts): twenty renders in a row must simply work.
    documents = [render_invoice_pdf(invoice) for _ in range(20)]
    assert all(document.startswith(b"%PDF") for document in documents)


def test_download_is_an_attachment_named_after_the_number(owner_client, invoice):
    response = owner_client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="fatura-2048.pdf"'
    assert response.content.startswith(b"%PDF")
    assert invoice_pdf_filename(invoice) == "fatura-2048.pdf"


def test_viewers_may_download(member_client, viewer, invoice):
    assert member_client(viewer).get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 200


def test_another_merchants_pdf_is_404(owner_client, other_merchant):
    foreign = InvoiceFactory(merchant=other_merchant)
    assert owner_client.get(reverse("billing:invoice_pdf", args=[foreign.pk])).status_code == 404


def test_an_invoice_without_lines_or_document_still_renders(merchant):
    invoice = InvoiceFactory(merchant=merchant)
    html = render_invoice_html(invoice)
    assert "Fatura sem itens." in html and "CPF" not in html
    assert render_invoice_pdf(invoice).startswith(b"%PDF")
