"""What the customer portal (subscribers/portal/) asks of billing, provided as extension points in
`BillingConfig.ready()`: the customer's invoices, one invoice's PDF, and the withdrawal refund."""

from django.http import Http404

from billing.choices import InvoiceStatus
from billing.models import Invoice
from billing.pdf import invoice_pdf_filename, render_invoice_pdf
from billing.services.refunds import subscription_refund


def _customer_invoices(customer):
    # Drafts are billing's work in progress, never a document the customer owes.
    return (
        Invoice.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("subscription__plan")
    )


def customer_invoices(*, customer, limit: int = 50) -> list[Invoice]:
    """The customer's invoices for Minha assinatura, newest first."""
    return list(_customer_invoices(customer).order_by("-created_at", "-pk")[:limit])


def customer_invoice_pdf(*, customer, invoice_id: int) -> tuple[str, bytes]:
    """(filename, PDF) of one of the customer's invoices; any other invoice is a 404."""
    invoice = (
        _customer_invoices(customer).select_related("merchant", "customer").filter(pk=invoice_id).first()
    )
    if invoice is None:
        raise Http404
    return invoice_pdf_filename(invoice), render_invoice_pdf(invoice)


def withdrawal_refund(*, subscription, actor, reason: str, now):
    """The full refund of a withdrawal (CDC art. 49): the refund service itself, so its rules (card and
    pix only, nothing refunded twice) apply."""
    return subscription_refund(subscription=subscription, actor=actor, reason=reason, now=now)
