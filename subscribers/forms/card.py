"""Alterar cartão."""

from django import forms
from django.utils.translation import gettext_lazy as _

from subscribers.validators import card_digits


class ChangeCardForm(forms.Form):
    """Alterar cartão: the new card number (in the sandbox, a test card; see billing.gateways.sandbox)."""

    card_number = forms.CharField(
        label=_("Número do novo cartão"),
        max_length=40,
        help_text=_("Teste: 4242 4242 4242 4242 é aprovado; 4000 0000 0000 0002 é recusado."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
        error_messages={"required": _("Informe o número do cartão.")},
    )

    def clean_card_number(self):
        return card_digits(self.cleaned_data["card_number"])
