"""Cancelar assinatura, Remover, and Cancelar selecionadas on Assinantes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from subscribers.choices import CancelOrigin, CancelWhen
from subscribers.forms.fields import ServiceErrorsMixin, date_input


class CancelForm(ServiceErrorsMixin, forms.Form):
    """Cancelar assinatura: when, who asked and why. Platform staff are recorded as "admin" by the
    service whatever they pick; support cancelling on a customer's behalf picks "Cliente"."""

    when = forms.ChoiceField(
        label=_("Quando"),
        choices=CancelWhen.choices,
        initial=CancelWhen.PERIOD_END,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando cancelar.")},
    )
    at_date = forms.DateField(
        label=_("Data do cancelamento"),
        required=False,
        widget=date_input(),
        help_text=_("Somente para “Em uma data escolhida”."),
        error_messages={"invalid": _("Informe uma data válida.")},
    )
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
    reason = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)


class RemoveForm(forms.Form):
    """Remover: revokes access now; the reason is optional."""

    reason = forms.CharField(
        label=_("Motivo (opcional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )


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
    reason = forms.CharField(
        label=_("Motivo"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Informe o motivo do cancelamento."),
            "max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres."),
        },
    )
