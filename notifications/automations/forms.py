from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MoneyField
from notifications.automations.choices import ActionKind, Trigger
from notifications.automations.models import Automation, ProviderIntegration
from notifications.automations.services import AUTOMATION_FIELDS
from notifications.emails.choices import CustomerEmailKind
from notifications.webhooks.services.security import url_refusal
from plans.models import Plan
from subscribers.choices import CancelOrigin, PaymentMethod


def _check_url(url: str) -> str:
    refusal = url_refusal(url) if url else None
    if refusal:
        raise forms.ValidationError(refusal, code="url_refused")
    return url


class AutomationForm(forms.ModelForm):
    """Create / edit a rule. The service checks the same rules again (and that what is chosen belongs to
    the merchant); the form gives each field its message."""

    trigger = forms.ChoiceField(label=_("Gatilho"), choices=[("", "—"), *Trigger.choices])
    plans = forms.ModelMultipleChoiceField(
        label=_("Planos"),
        queryset=Plan.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nenhum marcado: qualquer plano."),
    )
    payment_methods = forms.MultipleChoiceField(
        label=_("Formas de pagamento"),
        choices=PaymentMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nenhuma marcada: qualquer forma."),
    )
    cancel_origins = forms.MultipleChoiceField(
        label=_("Origem do cancelamento"),
        choices=CancelOrigin.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nenhuma marcada: qualquer origem (ou nenhuma)."),
    )
    amount_min = MoneyField(label=_("Valor mínimo"), required=False, min_value=0)
    amount_max = MoneyField(
        label=_("Valor máximo"),
        required=False,
        min_value=0,
        help_text=_("Comparado com o valor da assinatura por período, na moeda da loja."),
    )
    action = forms.ChoiceField(label=_("Ação"), choices=[("", "—"), *ActionKind.choices])
    email_kind = forms.ChoiceField(
        label=_("E-mail a enviar"), choices=[("", "—"), *CustomerEmailKind.choices], required=False
    )
    webhook_url = forms.URLField(
        label=_("URL do webhook"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Recebe o evento por POST, assinado como os webhooks (segredo próprio da automação)."),
    )
    integration = forms.ModelChoiceField(
        label=_("Integração"), queryset=ProviderIntegration.objects.none(), required=False
    )
    list_id = forms.CharField(label=_("Lista"), max_length=200, required=False)
    tags = forms.CharField(
        label=_("Tags"), max_length=500, required=False, help_text=_("Separadas por vírgula.")
    )

    class Meta:
        model = Automation
        fields = list(AUTOMATION_FIELDS)
        labels = {"name": _("Nome"), "is_enabled": _("Ativa")}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        self.fields["plans"].queryset = Plan.objects.filter(merchant=merchant).order_by("name", "pk")
        self.fields["integration"].queryset = ProviderIntegration.objects.filter(merchant=merchant)
        currency = merchant.currency if merchant else "BRL"
        self.fields["amount_min"].currency = self.fields["amount_max"].currency = currency
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_webhook_url(self):
        return _check_url(self.cleaned_data.get("webhook_url") or "")

    def clean_tags(self):
        return [tag.strip() for tag in (self.cleaned_data.get("tags") or "").split(",") if tag.strip()]

    def clean(self):
        cleaned = super().clean()
        amount_min, amount_max = cleaned.get("amount_min"), cleaned.get("amount_max")
        if amount_min is not None and amount_max is not None and amount_min > amount_max:
            self.add_error("amount_max", _("O valor máximo deve ser maior ou igual ao valor mínimo."))
        action = cleaned.get("action")
        if action == ActionKind.EMAIL and not cleaned.get("email_kind"):
            self.add_error("email_kind", _("Escolha o e-mail a enviar."))
        if (
            action == ActionKind.WEBHOOK
            and not cleaned.get("webhook_url")
            and "webhook_url" not in self.errors
        ):
            self.add_error("webhook_url", _("Informe a URL do webhook."))
        if action == ActionKind.PROVIDER:
            if not cleaned.get("integration"):
                self.add_error("integration", _("Escolha uma integração."))
            if not (cleaned.get("list_id") or "").strip():
                self.add_error("list_id", _("Informe a lista do provedor."))
        return cleaned

    def automation_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ProviderIntegrationForm(forms.ModelForm):
    """Create / edit an integration. The token is write-only: the page never renders it; editing shows
    its last four characters and an empty "replace" field."""

    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Endereço https:// que recebe os contatos por POST em JSON."),
    )
    token = forms.CharField(
        label=_("Token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Enviado no cabeçalho acima em cada requisição; guardado criptografado."),
    )

    class Meta:
        model = ProviderIntegration
        fields = ["name", "url", "auth_header", "token"]
        labels = {"name": _("Nome"), "auth_header": _("Cabeçalho de autenticação")}
        help_texts = {"auth_header": _("Por exemplo Authorization (com “Bearer …” no token) ou X-Api-Key.")}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["token"].label = _("Substituir o token")
            self.fields["token"].help_text = _(
                "Atual: %(masked)s. Deixe em branco para manter; o token nunca é mostrado de novo."
            ) % {"masked": self.instance.masked_token or "••••"}

    def clean_url(self):
        return _check_url(self.cleaned_data["url"])

    def clean_token(self):
        token = self.cleaned_data.get("token") or ""
        if not token and not self.instance.pk:
            raise forms.ValidationError(_("Informe o token."), code="required")
        return token

    def integration_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
