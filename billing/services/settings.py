"""Configurações > Cobrança: the merchant's dunning policy and sandbox switches."""

from django.db import transaction

from billing.models import BillingSettings

EDITABLE_FIELDS = frozenset(
    {
        "retries",
        "retry_interval_hours",
        "final_action",
        "boleto_pix_expiry_days",
        "sandbox_disconnected",
        "backdate_max_periods",
        "backdate_max_days",
        "pause_coupons",
        "pause_access",
        "customers_may_pause",
        "portal_retention_coupon",
    }
)


@transaction.atomic
def billing_settings_update(*, merchant, **fields) -> BillingSettings:
    """Saves the merchant's billing settings, creating the row the first time they change the defaults.

    Only the policy fields may be given (anything else is a programming error, not user input); the model's
    validators run before saving, so an out-of-range value raises ValidationError and nothing is saved.
    Settings keep no history: the row holds the policy in force.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError("billing_settings_update() got unexpected fields: " + ", ".join(sorted(unknown)))
    settings, _created = BillingSettings.objects.select_for_update().get_or_create(merchant=merchant)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save(update_fields=sorted(fields) or None)
    # Keep `merchant.billing_settings` (what BillingSettings.for_merchant reads) pointing at the saved row.
    merchant.billing_settings = settings
    return settings
