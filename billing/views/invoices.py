"""Cobranças > Faturas: the list, an invoice's page, its PDF and "Registrar pagamento"."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing import selectors
from billing.choices import Gateway, InvoiceAction, PaymentStatus
from billing.filtersets import InvoiceFilterSet
from billing.forms import RecordPaymentForm
from billing.pdf import invoice_pdf_filename, render_invoice_pdf
from billing.services.charging import payment_record_manual
from billing.services.invoice_actions import (
    invoice_action_refusal,
    invoice_charge_now,
    invoice_mark_uncollectible,
    invoice_void,
)
from billing.tables import InvoiceTable
from core.money import format_money
from core.views import MerchantActionView, MerchantDetailView, MerchantListView


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
        context.update(
            document,
            title=str(self.object),
            can_record_payment=self.object.can_record_payment(),
            # The buttons the transition table and the subscription allow, asked of the services' own rule.
            invoice_actions={
                action: invoice_action_refusal(self.object, action) is None
                for action in (InvoiceAction.CHARGE_NOW, InvoiceAction.VOID, InvoiceAction.MARK_UNCOLLECTIBLE)
            },
        )
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
        context["form"] = kwargs.get("form") or RecordPaymentForm(paypal=self._paypal())
        context["invoice"] = self.object
        context["question"] = _(
            "Registrar o pagamento de %(amount)s da fatura nº %(number)s de %(customer)s, recebido fora do "
            "sistema? A fatura fica paga."
        ) % {
            "amount": format_money(self.object.amount_due - self.object.amount_paid, self.object.currency),
            "number": self.object.number,
            "customer": self.object.customer.name,
        }
        return context

    def post(self, request, *args, **kwargs):
        self.form = RecordPaymentForm(request.POST, paypal=self._paypal())
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(form=self.form))
        return super().post(request, *args, **kwargs)

    def _paypal(self) -> bool:
        return self.object.subscription.provider == Gateway.PAYPAL

    def perform(self, obj):
        payment_record_manual(
            invoice=obj, actor=self.request.user, reference=self.form.cleaned_data["reference"]
        )


class _InvoiceActionView(MerchantActionView):
    """A staff action on one invoice (support and up): the page does not open when the invoice's status
    (INVOICE_ACTIONS) or its subscription does not allow it; the service refuses the same way."""

    queryset = selectors.invoice_detail_queryset()
    required_action = Action.COLLECT
    invoice_action = ""

    def _refusal(self):
        reason = invoice_action_refusal(self.object, self.invoice_action)
        return self.refuse([reason]) if reason else None

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)

    def amounts(self):
        return {
            "amount": format_money(self.object.total - self.object.amount_paid, self.object.currency),
            "number": self.object.number,
            "customer": self.object.customer.name,
        }


class InvoiceChargeNowView(_InvoiceActionView):
    """Cobrar agora: one more attempt at once on the payment method now on file."""

    invoice_action = InvoiceAction.CHARGE_NOW
    title = _("Cobrar agora")
    confirm_label = _("Cobrar agora")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = self.object.subscription
        context["question"] = _(
            "Cobrar agora %(amount)s da fatura nº %(number)s de %(customer)s (%(method)s)? É uma tentativa "
            "a mais: se for recusada, as novas tentativas automáticas continuam como estavam."
        ) % {**self.amounts(), "method": subscription.get_payment_method_display()}
        return context

    def perform(self, obj):
        payment = invoice_charge_now(invoice=obj, actor=self.request.user)
        if payment.status == PaymentStatus.SUCCEEDED:
            messages.success(self.request, _("Cobrança aprovada. A fatura está paga."))
        elif payment.status == PaymentStatus.PENDING:
            messages.success(
                self.request, _("Boleto/pix emitido. A fatura será paga quando o cliente pagar.")
            )
        else:
            messages.error(
                self.request,
                _("Cobrança recusada: %(message)s") % {"message": payment.failure_display},
            )


class InvoiceVoidView(_InvoiceActionView):
    """Anular: nothing is owed any more; its boleto/pix is withdrawn."""

    invoice_action = InvoiceAction.VOID
    title = _("Anular fatura")
    confirm_label = _("Anular fatura")
    confirm_class = "btn-danger"
    success_message = _("Fatura anulada. Nada mais é cobrado por ela.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = (
            _(
                "Anular a fatura nº %(number)s de %(customer)s (%(amount)s em aberto)? Nada mais é "
                "cobrado por ela, um boleto/pix pendente é cancelado e isto não pode ser desfeito."
            )
            % self.amounts()
        )
        return context

    def perform(self, obj):
        invoice_void(invoice=obj, actor=self.request.user)


class InvoiceMarkUncollectibleView(_InvoiceActionView):
    """Marcar como incobrável: stop collecting; the amount stays owed and a late payment may be recorded."""

    invoice_action = InvoiceAction.MARK_UNCOLLECTIBLE
    title = _("Marcar como incobrável")
    confirm_label = _("Marcar como incobrável")
    confirm_class = "btn-danger"
    success_message = _("Fatura marcada como incobrável. As tentativas de cobrança pararam.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = (
            _(
                "Marcar a fatura nº %(number)s de %(customer)s como incobrável? As tentativas de "
                "cobrança param e um boleto/pix pendente é cancelado; os %(amount)s continuam devidos "
                "e ainda é possível registrar o pagamento."
            )
            % self.amounts()
        )
        return context

    def perform(self, obj):
        invoice_mark_uncollectible(invoice=obj, actor=self.request.user)
