"""The public checkout form: what a customer types. Field checks only; the contract's rules are the
services' (billing/checkout/services.py)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.idempotency import FORM_TOKEN_FIELD
from subscribers.choices import PaymentMethod
from subscribers.forms.fields import CardNumberInput
from subscribers.validators import (
    card_digits,
    normalize_document,
    normalize_phone,
    validate_document,
    validate_phone,
)

# A field no person sees or fills (hidden by CSS, out of the tab order): a bot filling every input does.
HONEYPOT_FIELD = "website"


class _DirectInput:
    """Writes the <input> in Python rather than through Django's widget templates (input.html including
    attrs.html, per field): the same markup — type, name, value, then the attributes in their order, False
    left out and True written bare, as attrs.html does — at a fraction of the cost. The public page is
    the hottest page of the app and the widget templates were ~2 ms of its ~9 ms of CPU
    (bench/checkout.py); tests/billing/test_checkout.py compares the markup with Django's."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<input type="{}" name="{}"', widget["type"], widget["name"])]
        if widget["value"] is not None:
            parts.append(format_html(' value="{}"', widget["value"]))
        for attr, attr_value in widget["attrs"].items():
            if attr_value is True:
                parts.append(format_html(" {}", attr))
            elif attr_value is not False:
                parts.append(format_html(' {}="{}"', attr, attr_value))
        return mark_safe("".join(parts) + ">")  # every part escaped by format_html


class _TextInput(_DirectInput, forms.TextInput):
    pass


class _EmailInput(_DirectInput, forms.EmailInput):
    pass


class _HiddenInput(_DirectInput, forms.HiddenInput):
    pass


class _CardNumberInput(_DirectInput, CardNumberInput):
    pass


class CheckoutForm(forms.Form):
    name = forms.CharField(
        label=_("Nome completo"),
        max_length=150,
        error_messages={"required": _("Informe seu nome.")},
        widget=_TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        error_messages={"required": _("Informe seu e-mail."), "invalid": _("Informe um e-mail válido.")},
        widget=_EmailInput(attrs={"autocomplete": "email"}),
    )
    document = forms.CharField(
        label=_("CPF ou CNPJ"),
        max_length=20,
        error_messages={"required": _("Informe seu CPF ou CNPJ.")},
        widget=_TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Celular"),
        max_length=20,
        required=False,
        widget=_TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    payment_method = forms.ChoiceField(
        label=_("Forma de pagamento"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha a forma de pagamento.")},
    )
    card_number = forms.CharField(
        label=_("Número do cartão"),
        max_length=30,
        required=False,
        widget=_CardNumberInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    coupon_code = forms.CharField(label=_("Cupom de desconto"), max_length=40, required=False)
    website = forms.CharField(
        required=False,
        label=_("Deixe este campo em branco"),
        widget=_TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(required=False, widget=_HiddenInput)

    def __init__(self, *args, link, **kwargs):
        self.link = link
        super().__init__(*args, **kwargs)
        methods = link.payment_methods
        self.fields["payment_method"].choices = [(m, PaymentMethod(m).label) for m in methods]
        if len(methods) == 1:
            self.fields["payment_method"].initial = methods[0]
        if link.coupon_id:
            # The link's coupon is applied by the link itself: nothing to type.
            del self.fields["coupon_code"]
        for name in ("name", "email", "document", "phone", "card_number", "website"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields and name != "payment_method":
                classes = self.fields[name].widget.attrs.get("class", "")
                self.fields[name].widget.attrs["class"] = f"{classes} is-invalid".strip()

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix(HONEYPOT_FIELD)))

    def clean_document(self):
        document = normalize_document(self.cleaned_data["document"])
        validate_document(document)
        return document

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        validate_phone(phone)
        return phone

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("payment_method") == PaymentMethod.CARD:
            raw = cleaned_data.get("card_number", "")
            if not raw:
                self.add_error("card_number", _("Informe o número do cartão."))
            else:
                try:
                    cleaned_data["card_number"] = card_digits(raw)
                except ValidationError as error:
                    self.add_error("card_number", error)
        else:
            cleaned_data["card_number"] = ""
        return cleaned_data

    def subscribe_fields(self) -> dict:
        """The cleaned values as `checkout_subscribe` takes them."""
        data = {
            name: self.cleaned_data.get(name, "")
            for name in ("name", "email", "document", "phone", "payment_method", "card_number", "coupon_code")
        }
        return data


__all__ = ["FORM_TOKEN_FIELD", "HONEYPOT_FIELD", "CheckoutForm"]
