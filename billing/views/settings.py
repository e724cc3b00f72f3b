"""Configurações > Cobrança: the merchant's dunning policy. Everyone reads it; managers and owners save it."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.forms import BillingSettingsForm
from billing.models import BillingSettings
from billing.services.settings import billing_settings_update
from core.views import MerchantUpdateView


class BillingSettingsView(MerchantUpdateView):
    """The form edits the merchant's row, or the defaults when they never saved one (created on save)."""

    model = BillingSettings
    form_class = BillingSettingsForm
    template_name = "billing/settings.html"
    required_action = Action.VIEW
    write_action = Action.MANAGE_SETTINGS
    title = _("Cobrança")
    success_message = _("Configurações de cobrança salvas.")

    def dispatch(self, request, *args, **kwargs):
        merchant = getattr(request, "merchant", None)
        self.object = BillingSettings.for_merchant(merchant) if merchant is not None else None
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        return billing_settings_update(merchant=self.request.merchant, **form.settings_fields())

    def get_success_url(self):
        return reverse("billing:settings")
