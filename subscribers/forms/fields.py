"""The pieces the subscription forms are built from: service-error mapping, choice fields, widgets."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from plans.choices import CouponDuration
from plans.models import Coupon
from plans.tables import coupon_discount_display


class ServiceErrorsMixin:
    """A service reports errors per field; a field this form does not show (the customer, when it is
    fixed by the page) is reported above the form instead of breaking it."""

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                super().add_error(name if name in self.fields else None, errors)
            return
        super().add_error(field, error)


class SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def optional_date_field(label, help_text="") -> forms.DateField:
    """An optional date picker ("on a chosen date", "resume on") with the one invalid-date message."""
    return forms.DateField(
        label=label,
        required=False,
        widget=date_input(),
        help_text=help_text,
        error_messages={"invalid": _("Informe uma data válida.")},
    )


class TaxRateChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        label = str(obj)
        if obj.inclusive:
            label = _("%(tax)s, incluso no preço") % {"tax": label}
        if not obj.is_active:
            label = _("%(tax)s — desativado") % {"tax": label}
        return label


def coupon_label(coupon: Coupon) -> str:
    """ "BEMVINDO — 50% por 6 meses", "DEZ — R$ 10,00 uma vez": the code, the discount and how long."""
    if coupon.duration == CouponDuration.REPEATING and coupon.duration_in_months:
        count = coupon.duration_in_months
        duration = ngettext("por %(count)s mês", "por %(count)s meses", count) % {"count": count}
    elif coupon.duration == CouponDuration.FOREVER:
        duration = _("para sempre")
    else:
        duration = _("uma vez")
    return _("%(code)s — %(discount)s %(duration)s") % {
        "code": coupon.code,
        "discount": coupon_discount_display(coupon),
        "duration": duration,
    }


class CouponChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return coupon_label(obj)


class CardNumberInput(forms.TextInput):
    """A card number typed in is never written back into the page (not even after an error)."""

    def format_value(self, value):
        return None
