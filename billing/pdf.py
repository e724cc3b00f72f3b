"""Invoice PDFs: templates/billing/invoice_pdf.html rendered by WeasyPrint.

The document is self-contained: inline CSS, the system's sans-serif font, no images or URLs, and a URL
fetcher that allows no protocol, so rendering never waits on the network. Money and dates are in
Brazilian Portuguese on the merchant's clock, whatever the language of the person downloading it.
"""

import logging

from django.template.loader import render_to_string
from django.utils import timezone, translation

from billing import selectors
from billing.models import Invoice

PDF_LANGUAGE = "pt-br"

# WeasyPrint logs every rendering step at INFO; one invoice would write seven lines to the server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"fatura-{invoice.number}.pdf"


def render_invoice_html(invoice: Invoice) -> str:
    """The HTML the PDF is made from (tests read it, since a PDF's text is not easily extracted)."""
    context = {"invoice": invoice, "merchant": invoice.merchant, "customer": invoice.customer}
    context.update(selectors.invoice_document(invoice))
    with translation.override(PDF_LANGUAGE), timezone.override(invoice.merchant.tzinfo):
        return render_to_string("billing/invoice_pdf.html", context)


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF document."""
    # Imported here: WeasyPrint takes about a second to import and only this path needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # No protocol allowed: a stray URL in the template is skipped instead of fetched.
    fetcher = URLFetcher(allowed_protocols=())
    return HTML(string=render_invoice_html(invoice), url_fetcher=fetcher).write_pdf()
