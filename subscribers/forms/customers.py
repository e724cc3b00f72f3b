"""Clientes > Novo / Editar."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import BaseValidator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from localflavor.br.forms import BRCNPJField, BRCPFField, BRStateChoiceField, BRZipCodeField
from localflavor.br.validators import BRPostalCodeValidator

from subscribers.models import ADDRESS_FIELDS, Customer
from subscribers.validators import (
    CNPJ_LENGTH,
    CPF_LENGTH,
    DIGITS_RE,
    DOCUMENT_MESSAGES,
    STATE_CHOICES,
    STATE_MESSAGE,
    normalize_document,
    normalize_email,
    normalize_handle,
    normalize_phone,
    normalize_postal_code,
    normalize_state,
    normalize_text,
    validate_phone,
    validate_postal_code,
)


class PostalCodeField(BRZipCodeField):
    """localflavor's CEP field, taking the ways people type a CEP ("01310100", "01.310-100") and giving
    "01310-100". Its own checks (length, then the "00000-000" pattern) would answer "123" twice in two
    styles: they are replaced by the same pattern with our one message (`validate_postal_code`)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=10, **kwargs)  # "01.310-100" fits the box
        self.validators = [
            *(v for v in self.validators if not isinstance(v, BRPostalCodeValidator | BaseValidator)),
            validate_postal_code,
        ]

    def to_python(self, value):
        return normalize_postal_code(super().to_python(value))


class StateField(BRStateChoiceField):
    """localflavor's UF choice (the 27 of STATE_CHOICES), with an empty choice first: the address is
    optional."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid": STATE_MESSAGE})
        super().__init__(**kwargs)
        # The codes people write on an envelope ("MG"), which also fit a narrow box on a phone.
        self.widget.choices = [("", "—"), *((code, code) for code, _name in STATE_CHOICES)]

    def to_python(self, value):
        return normalize_state(super().to_python(value))


def address_fieldset() -> Fieldset:
    """The address block of the customer forms: CEP first (what people know by heart), UF last."""
    return Fieldset(
        _("Endereço"),
        HTML(
            format_html(
                '<p class="small text-muted mb-2" id="customer-address-help">{}</p>',
                _(
                    "Opcional: deixe tudo em branco, ou preencha ao menos CEP, logradouro, número, "
                    "cidade e UF."
                ),
            )
        ),
        Row(
            Column("address_postal_code", css_class="col-sm-4"),
            Column("address_street", css_class="col-sm-8"),
        ),
        Row(
            Column("address_number", css_class="col-5 col-sm-3"),
            Column("address_complement", css_class="col-7 col-sm-5"),
            Column("address_district", css_class="col-sm-4"),
        ),
        Row(
            Column("address_city", css_class="col-8 col-sm-9"),
            Column("address_state", css_class="col-4 col-sm-3"),
        ),
        css_id="customer-address",
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
    address_postal_code = PostalCodeField(
        label=_("CEP"),
        required=False,
        help_text=_("Com ou sem hífen."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    address_state = StateField(label=_("UF"), required=False)

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone", *ADDRESS_FIELDS]
        labels = {
            "name": _("Nome"),
            "email": _("E-mail"),
            "handle": _("@usuário"),
            "phone": _("Telefone"),
            "address_street": _("Logradouro"),
            "address_number": _("Número"),
            "address_complement": _("Complemento"),
            "address_district": _("Bairro"),
            "address_city": _("Cidade"),
        }
        help_texts = {
            "handle": _("Com ou sem o @; letras, números, ponto, hífen e sublinhado."),
            "phone": _("Com DDD, por exemplo (11) 91234-5678; de outro país, com + e o código do país."),
            "address_number": _("Sem número: s/n."),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "handle": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "@"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "address_street": forms.TextInput(
                attrs={"autocomplete": "address-line1", "placeholder": _("Rua, avenida…")}
            ),
            "address_complement": forms.TextInput(
                attrs={"autocomplete": "address-line2", "placeholder": _("Apto, bloco, sala…")}
            ),
            "address_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["document"] = self.instance.document_display
            self.initial["phone"] = self.instance.phone_display
        # The address as one titled block; the page draws it with {% crispy form %} inside its own <form>,
        # and fields a view adds later (the one-time token) are drawn after it.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.render_unmentioned_fields = True
        self.helper.layout = Layout(
            *(name for name in self.fields if name not in ADDRESS_FIELDS), address_fieldset()
        )

    def _post_clean(self):
        refused = [field for field in ADDRESS_FIELDS if field in self.errors]
        super()._post_clean()  # the model's rules, among them "all of the address or none of it"
        for field in refused:
            # A CEP refused for its format is left out of the model's check, so it also looks missing:
            # one message per field, the one that says what is wrong with what was typed.
            kept = [error for error in self.errors[field].as_data() if error.code != "address_incomplete"]
            self.errors[field] = self.error_class(kept, renderer=self.renderer)

    def clean_address_street(self):
        return normalize_text(self.cleaned_data["address_street"])

    def clean_address_number(self):
        return normalize_text(self.cleaned_data["address_number"])

    def clean_address_complement(self):
        return normalize_text(self.cleaned_data["address_complement"])

    def clean_address_district(self):
        return normalize_text(self.cleaned_data["address_district"])

    def clean_address_city(self):
        return normalize_text(self.cleaned_data["address_city"])

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
