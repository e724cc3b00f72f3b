"""Cancelar assinatura, Remover, and Cancelar selecionadas on Assinantes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import ObjectActionForm, reason_field
from subscribers.choices import CancelOrigin, CancelWhen
from subscribers.forms.fields import ServiceErrorsMixin, optional_date_field


class CancelForm(ServiceErrorsMixin, ObjectActionForm):
    """Cancelar assinatura: when, who asked and why. Platform staff are recorded as "admin" by the
    service whatever they pick; support cancelling on a customer's behalf picks "Cliente"."""

    when = forms.ChoiceField(
        label=_("Quando"),
        choices=CancelWhen.choices,
        initial=CancelWhen.PERIOD_END,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando cancelar.")},
    )
    at_date = optional_date_field(_("Data do cancelamento"), _("Somente para “Em uma data escolhida”."))
    credit_unused_time = forms.BooleanField(
        label=_("Creditar o tempo não usado no saldo de crédito"),
        required=False,
        help_text=_(
            "Somente com “Imediatamente”: o acesso termina agora e o valor pago pelo resto do período vai "
            "para o saldo de crédito do cliente (que pode ser reembolsado)."
        ),
    )
    origin = forms.ChoiceField(
        label=_("Quem pediu"),
        choices=[
            (CancelOrigin.CUSTOMER, CancelOrigin.CUSTOMER.label),
            (CancelOrigin.SELLER, CancelOrigin.SELLER.label),
        ],
        widget=forms.RadioSelect,
        help_text=_("Se você está cancelando a pedido do cliente, escolha “Cliente”."),
        error_messages={"required": _("Informe quem pediu o cancelamento.")},
    )
    reason = reason_field()


class RemoveForm(forms.Form):
    """Remover: revokes access now; the reason is optional."""

    reason = reason_field(_("Motivo (opcional)"))


class BulkCancelForm(forms.Form):
    """Cancelar selecionadas (Assinantes): one cancellation applied to each selected subscription.

    Only "now" or "end of the current period" (a chosen date means little across many subscriptions);
    the reason is required, since it is the only trace of why a batch was ended.
    """

    when = forms.ChoiceField(
        label=_("Quando"),
        choices=[
            (CancelWhen.NOW, CancelWhen.NOW.label),
            (CancelWhen.PERIOD_END, CancelWhen.PERIOD_END.label),
        ],
        initial=CancelWhen.PERIOD_END,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando cancelar.")},
    )
    origin = forms.ChoiceField(
        label=_("Quem pediu"),
        choices=[
            (CancelOrigin.CUSTOMER, CancelOrigin.CUSTOMER.label),
            (CancelOrigin.SELLER, CancelOrigin.SELLER.label),
        ],
        initial=CancelOrigin.SELLER,
        widget=forms.RadioSelect,
        help_text=_("Se você está cancelando a pedido dos clientes, escolha “Cliente”."),
        error_messages={"required": _("Informe quem pediu o cancelamento.")},
    )
    reason = reason_field(required=True, required_message=_("Informe o motivo do cancelamento."))
