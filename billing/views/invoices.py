"""Cobranças > Faturas: the list, an invoice's page, its PDF and "Registrar pagamento"."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantActionView, MerchantDetailView, MerchantListView
from accounts.permissions import Action
from billing import selectors
from billing.filtersets import InvoiceFilterSet
from billing.forms import RecordPaymentForm
from billing.pdf import invoice_pdf_filename, render_invoice_pdf
from billing.services.charging import payment_record_manual
from billing.tables import InvoiceTable
from core.money import format_money


class InvoiceListView(MerchantListView):
    """Every invoice of the merchant, newest first, filterable by status, payment method and period."""

    queryset = selectors.invoice_list_queryset()
    filterset_class = InvoiceFilterSet
    table_class = InvoiceTable
    title = _("Faturas")
    empty_message = _("Nenhuma fatura ainda. Elas aparecem quando as assinaturas são cobradas.")
    empty_filtered_message = _("Nenhuma fatura encontrada para estes filtros.")


class InvoiceDetailView(MerchantDetailView):
    """One invoice: who owes what for which period, its lines and totals, payments and refunds."""

    queryset = selectors.invoice_detail_queryset()
    context_object_name = "invoice"
    template_name = "billing/invoice_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        document = selectors.invoice_document(self.object)
        context.update(document, title=str(self.object), can_record_payment=self.object.can_record_payment())
        return context


class InvoicePdfView(MerchantDetailView):
    """Baixar PDF: the invoice as a PDF attachment named fatura-<número>.pdf."""

    queryset = selectors.invoice_detail_queryset()
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        response = HttpResponse(render_invoice_pdf(self.object), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice_pdf_filename(self.object)}"'
        return response


class InvoiceRecordPaymentView(MerchantActionView):
    """Registrar pagamento: staff record an offline payment of the whole open amount."""

    queryset = selectors.invoice_detail_queryset()
    required_action = Action.MANAGE_BILLING
    template_name = "billing/invoice_record_payment.html"
    title = _("Registrar pagamento")
    confirm_label = _("Registrar pagamento")
    success_message = _("Pagamento registrado. A fatura está paga.")
    one_time_form = True  # a double submit must not record the payment twice

    def get(self, request, *args, **kwargs):
        if not self.object.can_record_payment():
            messages.error(request, _("Só é possível registrar pagamento de uma fatura em aberto."))
            return HttpResponseRedirect(self.object.get_absolute_url())
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or RecordPaymentForm()
        context["invoice"] = self.object
        context["question"] = _(
            "Registrar o pagamento de %(amount)s da fatura nº %(number)s de %(customer)s, recebido fora do "
            "sistema? A fatura fica paga."
        ) % {
            "amount": format_money(self.object.total - self.object.amount_paid, self.object.currency),
            "number": self.object.number,
            "customer": self.object.customer.name,
        }
        return context

    def post(self, request, *args, **kwargs):
        self.form = RecordPaymentForm(request.POST)
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(form=self.form))
        return super().post(request, *args, **kwargs)

    def perform(self, obj):
        payment_record_manual(
            invoice=obj, actor=self.request.user, reference=self.form.cleaned_data["reference"]
        )
