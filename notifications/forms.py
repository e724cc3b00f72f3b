from django import forms
from django.template import TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from core.forms import IntegerField
from notifications.catalog import subscribable_event_type_choices
from notifications.models import CustomerEmailSettings, WebhookEndpoint
from notifications.services.email_context import check_template
from notifications.services.security import url_refusal


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


def _template_field(value: str) -> str:
    try:
        check_template(value or "")
    except TemplateSyntaxError as exc:
        raise forms.ValidationError(str(exc), code="template_syntax") from exc
    return value


class CustomerEmailTemplateForm(forms.Form):
    """One customer e-mail: subject, text and HTML (Django template syntax, restricted), on or off."""

    subject = forms.CharField(label=_("Assunto"), max_length=255)
    body_text = forms.CharField(
        label=_("Texto"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace small"}),
        help_text=_("A versão em texto puro, para quem não vê HTML."),
    )
    body_html = forms.CharField(
        label=_("HTML"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace small"}),
        help_text=_("O conteúdo do e-mail; o cabeçalho e o rodapé com o nome da loja são acrescentados."),
    )
    is_enabled = forms.BooleanField(label=_("Enviar este e-mail"), required=False)

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)

    def clean_subject(self):
        return _template_field(self.cleaned_data["subject"])

    def clean_body_text(self):
        return _template_field(self.cleaned_data["body_text"])

    def clean_body_html(self):
        return _template_field(self.cleaned_data["body_html"])


class CustomerEmailSettingsForm(forms.ModelForm):
    """What all customer e-mails share: reply-to, access link, renewal reminder days."""

    access_url = forms.URLField(
        label=_("Link de acesso"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Onde o cliente acessa o que assinou; aparece como botão “Acessar” (variável {{ link }})."
        ),
    )

    class Meta:
        model = CustomerEmailSettings
        fields = ["reply_to", "access_url", "renewal_reminder_days"]
        field_classes = {"renewal_reminder_days": IntegerField}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)

    def settings_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
