from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.catalog import subscribable_event_type_choices
from notifications.webhooks.models import WebhookEndpoint
from notifications.webhooks.services.security import url_refusal


class WebhookEndpointForm(forms.ModelForm):
    """Create / edit an endpoint: where to send, which events, on or off. The secret is never a field."""

    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Endereço https:// que recebe os eventos por POST."),
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/recorrente"}),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Eventos"),
        required=False,
        choices=subscribable_event_type_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Usados quando “Todos os eventos” está desmarcado. Veja Notificações > Eventos."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "all_event_types", "event_types", "is_active"]
        labels = {"all_event_types": _("Todos os eventos"), "is_active": _("Ativo")}
        help_texts = {"description": _("Para você reconhecer o endpoint, por exemplo “ERP” ou “CRM”.")}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)

    def clean_url(self):
        url = self.cleaned_data["url"]
        refusal = url_refusal(url)
        if refusal:
            raise forms.ValidationError(refusal, code="url_refused")
        return url

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("all_event_types") and not cleaned.get("event_types"):
            self.add_error("event_types", _("Escolha ao menos um evento, ou marque “Todos os eventos”."))
        return cleaned

    def endpoint_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
