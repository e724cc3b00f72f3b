"""Cobranças > Pagamentos, "Simular pagamento" and the sandbox's signed callback."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from accounts.permissions import Action
from billing import selectors
from billing.choices import Gateway, PaymentStatus
from billing.filtersets import PaymentFilterSet
from billing.gateways.sandbox import sandbox_callback_secret, verify_sandbox_callback
from billing.models import Payment
from billing.services.charging import payment_settle
from billing.tables import PaymentTable
from core.money import format_money
from core.views import MerchantActionView, MerchantListView

SIGNATURE_HEADER = "X-Sandbox-Signature"
# A callback body is two short fields; anything much larger is not one.
MAX_CALLBACK_BYTES = 4096


class PaymentListView(MerchantListView):
    """Every payment attempt of the merchant, newest first, with why the failed ones failed."""

    queryset = selectors.payment_list_queryset()
    filterset_class = PaymentFilterSet
    table_class = PaymentTable
    title = _("Pagamentos")
    empty_message = _("Nenhum pagamento ainda.")
    empty_filtered_message = _("Nenhum pagamento encontrado para estes filtros.")


class PaymentSettleView(MerchantActionView):
    """Simular pagamento: pays a pending sandbox boleto or pix, as the customer's bank would."""

    queryset = selectors.payment_detail_queryset()
    required_action = Action.MANAGE_BILLING
    title = _("Simular pagamento")
    confirm_label = _("Simular pagamento")
    success_message = _("Pagamento simulado. A fatura foi paga.")

    def dispatch(self, request, *args, **kwargs):
        if not settings.SANDBOX_GATEWAY_ENABLED:
            raise Http404("sandbox disabled")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Simular o pagamento de %(amount)s (%(method)s) da fatura nº %(number)s? No sandbox, isto faz o "
            "papel do banco do cliente."
        ) % {
            "amount": format_money(self.object.amount, self.object.currency),
            "method": self.object.get_method_display(),
            "number": self.object.invoice.number,
        }
        return context

    def perform(self, obj):
        payment_settle(payment=obj)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@method_decorator(csrf_exempt, name="dispatch")
class SandboxCallbackView(View):
    """The sandbox "bank" telling us a boleto or pix was paid: POST {"merchant": id, "reference": "…"},
    signed with the merchant's callback secret in X-Sandbox-Signature (HMAC-SHA256 of the raw body).

    Public (no session, no CSRF token): the signature is the authentication. Answers 400 for a bad body or
    signature, 404 when no sandbox payment of that merchant has the reference, 409 when it is not pending
    (or the sandbox refuses to settle it), 200 once settled. A 404 for everything when
    settings.SANDBOX_GATEWAY_ENABLED is off (production), as if the URL did not exist.
    """

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if not settings.SANDBOX_GATEWAY_ENABLED:
            raise Http404("sandbox disabled")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        body = request.body
        if len(body) > MAX_CALLBACK_BYTES:
            return _error(400, gettext("Corpo da requisição grande demais."))
        try:
            data = json.loads(body)
            merchant_id = data["merchant"]
            reference = data["reference"]
        except (ValueError, TypeError, KeyError):
            return _error(400, gettext("Corpo inválido: esperado JSON com merchant e reference."))
        if not isinstance(merchant_id, int) or isinstance(merchant_id, bool) or merchant_id <= 0:
            return _error(400, gettext("Corpo inválido: merchant deve ser um número."))
        if not isinstance(reference, str) or not reference.strip():
            return _error(400, gettext("Corpo inválido: reference deve ser um texto."))
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not verify_sandbox_callback(body, signature, sandbox_callback_secret(merchant_id)):
            return _error(400, gettext("Assinatura inválida."))

        payment = (
            Payment.objects.filter(
                merchant_id=merchant_id, gateway=Gateway.SANDBOX, gateway_reference=reference
            )
            .order_by("-pk")
            .first()
        )
        if payment is None:
            return _error(404, gettext("Pagamento não encontrado."))
        if payment.status != PaymentStatus.PENDING:
            return _error(409, gettext("O pagamento não está pendente."))
        try:
            payment = payment_settle(payment=payment)
        except ValidationError as exc:
            return _error(409, " ".join(exc.messages))
        return JsonResponse({"payment": payment.pk, "status": payment.status})
