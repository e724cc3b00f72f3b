"""Clientes > Novo / Editar."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from localflavor.br.forms import BRCNPJField, BRCPFField

from subscribers.models import Customer
from subscribers.validators import (
    CNPJ_LENGTH,
    CPF_LENGTH,
    DIGITS_RE,
    DOCUMENT_MESSAGES,
    normalize_document,
    normalize_email,
    normalize_handle,
    normalize_phone,
    validate_phone,
)


class CustomerForm(forms.ModelForm):
    """Cadastro e edição de cliente. Cleans what a person types; `customer_create` / `customer_update`
    apply the same rules again for every other caller."""

    document = forms.CharField(
        label=_("CPF/CNPJ"),
        required=False,
        max_length=18,  # "11.222.333/0001-81"
        help_text=_("CPF ou CNPJ, com ou sem pontuação."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone"]
        labels = {
            "name": _("Nome"),
            "email": _("E-mail"),
            "handle": _("@usuário"),
            "phone": _("Telefone"),
        }
        help_texts = {
            "handle": _("Com ou sem o @; letras, números, ponto, hífen e sublinhado."),
            "phone": _("Com DDD, por exemplo (11) 91234-5678; de outro país, com + e o código do país."),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "handle": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "@"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["document"] = self.instance.document_display
            self.initial["phone"] = self.instance.phone_display

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_handle(self):
        return normalize_handle(self.cleaned_data["handle"])

    def clean_phone(self):
        """E.164 ("+5511912345678") from the ways people write a Brazilian number, or a foreign one."""
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_phone(phone)
        return phone

    def clean_document(self):
        """Either a CPF (11 digits) or a CNPJ (14), checked by localflavor; returns the digits only."""
        digits = normalize_document(self.cleaned_data["document"])
        if not digits:
            return ""
        if not DIGITS_RE.fullmatch(digits):
            raise ValidationError(DOCUMENT_MESSAGES["characters"], code="invalid_characters")
        if len(digits) == CPF_LENGTH:
            message = DOCUMENT_MESSAGES["cpf"]
            field = BRCPFField(error_messages={"invalid": message, "max_digits": message})
        elif len(digits) == CNPJ_LENGTH:
            message = DOCUMENT_MESSAGES["cnpj"]
            field = BRCNPJField(error_messages={"invalid": message, "max_digits": message})
        else:
            raise ValidationError(DOCUMENT_MESSAGES["length"], code="invalid_length")
        field.clean(digits)
        return digits
