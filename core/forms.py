"""Form fields shared by every app."""

from decimal import Decimal

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from core.money import DEFAULT_CURRENCY, to_major, to_minor

NON_ASCII_DIGITS_MESSAGE = _("Use apenas os algarismos 0 a 9.")


def refuse_non_ascii_number(value):
    """Raises the field's error for number text a person would not type on purpose.

    Python's int() and Decimal() read any Unicode digit and underscores: "١٠" (Arabic-Indic) became
    R$ 10,00 in a refund, "1_000" became 1000. What is left after a field's own clean-up (R$, spaces,
    separators) must be ASCII and have no "_"."""
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        raise forms.ValidationError(NON_ASCII_DIGITS_MESSAGE, code="invalid")


class AsciiDigitsMixin:
    """For number form fields: only the ASCII digits 0–9 are numbers (see refuse_non_ascii_number)."""

    def to_python(self, value):
        if isinstance(value, str):
            refuse_non_ascii_number(value.strip())
        return super().to_python(value)


class IntegerField(AsciiDigitsMixin, forms.IntegerField):
    """forms.IntegerField that takes only ASCII digits; every integer a person types goes through it."""


class MoneyInput(forms.TextInput):
    """A text input for amounts typed the Brazilian way ("1.234,56") or the machine way ("1234.56")."""

    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})


class MoneyField(forms.DecimalField):
    """Takes an amount in major units from a person and cleans it to integer minor units.

    The initial value (from a model's integer field) is shown back in major units, localized.
    """

    widget = MoneyInput
    default_error_messages = {
        "invalid": _("Informe um valor em reais, por exemplo 49,90."),
    }

    def __init__(self, *, currency=DEFAULT_CURRENCY, **kwargs):
        self.currency = currency
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            value = to_major(value, self.currency)
        return super().prepare_value(value)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("R$", "").replace("\xa0", "").replace(" ", "")
            # People type thousands separators ("1.234,56"); Django only strips them when
            # USE_THOUSAND_SEPARATOR is on, which would also put them in every number we print.
            decimal_sep = formats.get_format("DECIMAL_SEPARATOR")
            thousand_sep = formats.get_format("THOUSAND_SEPARATOR")
            if decimal_sep in value:
                whole, _sep, fraction = value.rpartition(decimal_sep)
                value = whole.replace(thousand_sep, "") + decimal_sep + fraction
            elif value.count(thousand_sep) and all(len(g) == 3 for g in value.split(thousand_sep)[1:]):
                value = value.replace(thousand_sep, "")
            refuse_non_ascii_number(value)
        return super().to_python(value)

    def clean(self, value):
        major = super().clean(value)
        if major is None:
            return None
        return to_minor(Decimal(major), self.currency)

    def has_changed(self, initial, data):
        try:
            return self.clean(data) != initial
        except forms.ValidationError:
            return True


class PercentField(forms.DecimalField):
    """A percentage typed the Brazilian way ("5,5"), the machine way ("5.5") or with a sign ("5,5%").

    `percent_range` (core.percent) gives the bounds, digits and the out-of-range message; the form's own
    `error_messages` add the rest (required, invalid, decimal places)."""

    def __init__(self, *, percent_range=None, **kwargs):
        kwargs.setdefault("localize", True)
        if percent_range is not None:
            range_kwargs = percent_range.form_field_kwargs()
            kwargs["error_messages"] = {
                **range_kwargs.pop("error_messages"),
                **kwargs.get("error_messages", {}),
            }
            kwargs = {**range_kwargs, **kwargs}
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip()
            refuse_non_ascii_number(value)
        return super().to_python(value)


def autocomplete(widget: forms.Widget, *, url: str = "") -> forms.Widget:
    """Marks a <select> for the autocomplete (tom-select, wired by static/js/autocomplete.js): typing a part
    of a label filters the options, arrows and Enter pick one. With `url` the options also come from that
    JSON search (`{"results": [{"value", "text"}]}`), for choices too many to list in the page. Without
    JavaScript the plain select stays. Returns the widget."""
    widget.attrs["data-autocomplete"] = "remote" if url else "local"
    if url:
        widget.attrs["data-autocomplete-url"] = url
    widget.attrs["data-autocomplete-none"] = _("Nada encontrado")
    widget.attrs["data-autocomplete-loading"] = _("Buscando…")
    widget.attrs["data-autocomplete-clear"] = _("Limpar")
    return widget


REASON_MAX_LENGTH = 2000


def reason_field(label=None, *, required=False, rows=3, required_message=None) -> forms.CharField:
    """The free-text "why" of an action (cancel, pause, refund, chargeback, balance adjustment): at most
    2,000 characters, with the limit said in the user's language. One definition so every action's reason
    has the same limit and message."""
    messages = {"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(
        label=label if label is not None else _("Motivo"),
        required=required,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages=messages,
    )


class ObjectActionForm(forms.Form):
    """A form for an action on one object of the merchant's (the generic action views pass `merchant`
    and `instance`): kept on the form so clean() and the view's service call can read them."""

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)
