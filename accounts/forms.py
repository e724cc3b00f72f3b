import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import ApiKeyMode, ApiKeyRole
from accounts.logos import ACCEPT, LOGO_MAX_BYTES, LOGO_MAX_SIDE, inspect_logo
from accounts.models import Merchant

_COMMON_TIMEZONES = [
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Cuiaba",
    "America/Belem",
    "America/Fortaleza",
    "America/Recife",
    "America/Bahia",
    "America/Rio_Branco",
    "America/Noronha",
    "UTC",
]


class MerchantSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Fuso horário"))

    class Meta:
        model = Merchant
        fields = ["name", "currency", "timezone", "portal_cancel_at_period_end", "portal_retention_offer"]
        widgets = {"portal_retention_offer": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones())
        ordered = _COMMON_TIMEZONES + [z for z in zones if z not in _COMMON_TIMEZONES]
        self.fields["timezone"].choices = [(z, z.replace("_", " ")) for z in ordered]


class MerchantLogoForm(forms.Form):
    """Configurações > Logotipo: one image file, checked here for the message and again by the service."""

    logo = forms.FileField(
        label=_("Arquivo do logotipo"),
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per request, in the visitor's language.
        self.fields["logo"].help_text = _(
            "PNG, JPEG ou WebP, até %(kb)s KB e %(side)s × %(side)s pixels. SVG não é aceito."
        ) % {"kb": LOGO_MAX_BYTES // 1024, "side": LOGO_MAX_SIDE}

    def clean_logo(self):
        upload = self.cleaned_data["logo"]
        inspect_logo(upload)
        return upload


class ApiKeyForm(forms.Form):
    """Configurações > API: a new key's name, permission and environment (the secret is generated)."""

    name = forms.CharField(label=_("Nome"), max_length=80, help_text=_("Por exemplo: Site da loja."))
    role = forms.ChoiceField(label=_("Permissão"), choices=ApiKeyRole.choices, initial=ApiKeyRole.READ_ONLY)
    mode = forms.ChoiceField(label=_("Ambiente"), choices=ApiKeyMode.choices, initial=ApiKeyMode.LIVE)
