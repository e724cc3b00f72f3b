"""The portal's forms: the e-mail that asks for a link, cancel (reason list + free text), plan choice."""

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from subscribers import timeline
from subscribers.choices import PaymentMethod, PortalCancelReason
from subscribers.forms.card import ChangeCardForm
from subscribers.forms.customers import CustomerForm
from subscribers.models import ADDRESS_FIELDS
from subscribers.portal import selectors
from subscribers.validators import card_digits

__all__ = [
    "ChangeCardForm",
    "PortalCancelForm",
    "PortalDetailsForm",
    "PortalEmailForm",
    "PortalPauseForm",
    "PortalPaymentMethodForm",
    "PortalPlanForm",
]


class PortalEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Seu e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={"required": _("Informe seu e-mail."), "invalid": _("Informe um e-mail válido.")},
    )


class PortalCancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Por que você quer cancelar?"),
        choices=PortalCancelReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha um motivo.")},
    )
    details = forms.CharField(
        label=_("Quer contar mais? (opcional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_params(self) -> dict:
        """The reason as it is kept: the option's value (shown as its label in the reader's language, not
        the customer's) and what the customer wrote, verbatim (subscribers/timeline.py)."""
        return timeline.customer_reason_params(self.cleaned_data["reason"], self.cleaned_data.get("details"))


class PortalPlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Novo plano"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": _("Escolha um dos planos disponíveis.")},
    )

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = selectors.plans_offered(subscription)
        self.fields["plan"].initial = subscription.pending_plan_id or subscription.plan_id
        self.fields["plan"].label_from_instance = selectors.plan_label


class PortalPauseForm(forms.Form):
    """Pausar: the options `portal_pause_options` gives, each labelled with when access ends."""

    when = forms.ChoiceField(
        label=_("Quando pausar"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Escolha quando pausar."),
            "invalid_choice": _("Escolha uma das opções de pausa."),
        },
    )

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["when"].choices = [
            (
                option["when"],
                _("%(label)s — acesso até %(date)s")
                % {
                    "label": option["label"],
                    "date": formats.date_format(option["access_until"], "SHORT_DATE_FORMAT"),
                },
            )
            for option in options
        ]
        self.fields["when"].initial = options[0]["when"] if options else None


class PortalPaymentMethodForm(forms.Form):
    """Trocar forma de pagamento: the new method; the card number when it is a card."""

    payment_method = forms.ChoiceField(
        label=_("Nova forma de pagamento"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Escolha a forma de pagamento."),
            "invalid_choice": _("Escolha uma das formas de pagamento disponíveis."),
        },
    )
    card_number = forms.CharField(
        label=_("Número do cartão"),
        required=False,
        max_length=40,
        help_text=_("Somente para cartão. Teste: 4242 4242 4242 4242 é aprovado."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].choices = [(method, PaymentMethod(method).label) for method in methods]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("payment_method") != PaymentMethod.CARD:
            cleaned["card_number"] = ""
            return cleaned
        raw = (cleaned.get("card_number") or "").strip()
        if not raw:
            self.add_error("card_number", _("Informe o número do cartão."))
            return cleaned
        try:
            cleaned["card_number"] = card_digits(raw)
        except forms.ValidationError as exc:
            self.add_error("card_number", exc)
        return cleaned


class PortalDetailsForm(CustomerForm):
    """Meus dados: the e-mail, phone and postal address the customer may change themselves, with the
    labels, widgets, cleaning and layout of the team's customer form (Clientes > Editar). Name and CPF/CNPJ
    are the merchant's record of who bought: shown, not editable here."""

    # A declared field of CustomerForm: taken out, or it would be editable (and required by nothing).
    document = None

    class Meta(CustomerForm.Meta):
        fields = ["email", "phone", *ADDRESS_FIELDS]
