"""Tax rates applied to invoice lines."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.percent import TAX_PERCENT
from plans.models import TaxRate

TAX_RATE_EDITABLE_FIELDS = ["name", "description", "percentage", "inclusive", "is_active"]


def _validate_tax_rate(tax_rate: TaxRate) -> None:
    errors: dict[str, list] = {}
    if not (tax_rate.name or "").strip():
        errors["name"] = [ValidationError(_("Informe o nome do imposto."), code="required")]
    if tax_rate.percentage is None:
        errors["percentage"] = [ValidationError(_("Informe a alíquota."), code="required")]
    elif tax_rate.percentage not in TAX_PERCENT:
        errors["percentage"] = [ValidationError(str(TAX_PERCENT.message), code="percentage_out_of_range")]
    try:
        tax_rate.full_clean(exclude=list(errors))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tax_rate_create(
    *,
    merchant: Merchant,
    name: str,
    percentage: Decimal,
    inclusive: bool = False,
    description: str = "",
    is_active: bool = True,
) -> TaxRate:
    """Adds a tax rate (e.g. ISS 5%) that subscriptions can carry: added on top, or already in the price."""
    tax_rate = TaxRate(
        merchant=merchant,
        name=name.strip(),
        description=description,
        percentage=percentage,
        inclusive=inclusive,
        is_active=is_active,
    )
    _validate_tax_rate(tax_rate)
    tax_rate.save()
    return tax_rate


@transaction.atomic
def tax_rate_update(
    *,
    tax_rate: TaxRate,
    name: str,
    description: str,
    percentage: Decimal,
    inclusive: bool,
    is_active: bool,
) -> TaxRate:
    """Replaces a tax rate's fields. Invoices already issued keep the rate they were computed with."""
    tax_rate.name = name.strip()
    tax_rate.description = description
    tax_rate.percentage = percentage
    tax_rate.inclusive = inclusive
    tax_rate.is_active = is_active
    _validate_tax_rate(tax_rate)
    tax_rate.save(update_fields=TAX_RATE_EDITABLE_FIELDS)
    return tax_rate
