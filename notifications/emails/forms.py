from django import forms
from django.template import TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from core.forms import IntegerField
from notifications.emails.models import CustomerEmailSettings
from notifications.emails.services.email_context import check_template


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
