"""Notificações > E-mails: the customer e-mails, their editor with a live preview, and the sendings log."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View

from accounts.permissions import Action
from core.ratelimit import RateLimitMixin
from core.views import MerchantDetailView, MerchantListView, MerchantScopedMixin, MerchantTemplateView
from notifications.emails import selectors
from notifications.emails.choices import CustomerEmailKind, TemplateState
from notifications.emails.filtersets import EmailSendingFilterSet
from notifications.emails.forms import CustomerEmailSettingsForm, CustomerEmailTemplateForm
from notifications.emails.models import CustomerEmailSettings, CustomerEmailTemplate, EmailSending
from notifications.emails.services.customer_emails import (
    render_customer_email,
    send_test_email,
    template_sources,
)
from notifications.emails.services.email_context import KIND_HINTS, VARIABLES
from notifications.emails.services.email_templates import (
    customer_email_settings_update,
    customer_email_template_restore,
    customer_email_template_save,
)
from notifications.emails.tables import EmailSendingTable, email_status_badge


class CustomerEmailListView(MerchantTemplateView):
    """Every customer e-mail with its state (default, edited, off) and when it last went out."""

    template_name = "notifications/customer_email_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        kinds = selectors.customer_email_kinds(self.request.merchant)
        for item in kinds:
            item["hint"] = KIND_HINTS[item["kind"]]
        context.update(
            title=_("E-mails aos clientes"),
            kinds=kinds,
            email_settings=CustomerEmailSettings.for_merchant(self.request.merchant),
        )
        return context


# An e-mail's HTML is shown in a sandboxed srcdoc iframe (no scripts, no same-origin), which inherits the
# page's Content-Security-Policy; e-mails need inline styles (mail clients ignore stylesheets), so the
# pages that show one allow inline styles, and only styles.
email_preview_csp = method_decorator(csp_replace({"style-src": [SELF, UNSAFE_INLINE]}), name="dispatch")


class _KindMixin(MerchantScopedMixin):
    """Views about one kind of e-mail of the current merchant (`<kind>` in the URL, so another merchant's
    template cannot even be named). The model is named for the URL walk of the tests; an unknown kind is a
    404, before any role check."""

    model = CustomerEmailTemplate

    @staticmethod
    def url_kwargs_for(template: CustomerEmailTemplate) -> dict:
        """How the URL walk of the tests addresses a template: by its kind (see tests/urlwalk.py)."""
        return {"kind": template.kind}

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("kind") not in CustomerEmailKind.values:
            raise Http404
        self.kind = CustomerEmailKind(kwargs["kind"])
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self):
        return reverse("notifications:customer_email_edit", kwargs={"kind": self.kind})


def _preview(request, *, kind, overrides=None) -> dict:
    try:
        subject, text, html = render_customer_email(
            merchant=request.merchant, kind=kind, sample=True, overrides=overrides
        )
    except TemplateSyntaxError as exc:
        return {"preview_error": str(exc)}
    return {"preview_subject": subject, "preview_text": text, "preview_html": html}


@email_preview_csp
class CustomerEmailEditView(_KindMixin, FormView):
    """The editor: subject, text and HTML, the variables they may use, and a preview with sample data.
    Everyone sees it; saving needs "manage notifications"."""

    form_class = CustomerEmailTemplateForm
    template_name = "notifications/customer_email_form.html"
    write_action = Action.MANAGE_NOTIFICATIONS

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["merchant"] = self.request.merchant
        return kwargs

    def get_initial(self):
        row = CustomerEmailTemplate.objects.filter(merchant=self.request.merchant, kind=self.kind).first()
        return {
            **template_sources(merchant=self.request.merchant, kind=self.kind),
            "is_enabled": row is None or row.is_enabled,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        row = CustomerEmailTemplate.objects.filter(merchant=self.request.merchant, kind=self.kind).first()
        overrides = None
        if form.is_bound:
            overrides = {name: form.data.get(name, "") for name in ("subject", "body_text", "body_html")}
        context.update(
            title=self.kind.label,
            kind=self.kind,
            hint=KIND_HINTS[self.kind],
            row=row,
            is_customized=bool(row and row.is_customized),
            template_state=TemplateState.of(
                is_enabled=row is None or row.is_enabled, is_customized=bool(row and row.is_customized)
            ),
            variables=VARIABLES,
            variables_help=_(
                "Escreva %(example)s para o nome do cliente. Também valem %(if)s e %(with)s. Os valores "
                "já vêm formatados (datas dd/mm/aaaa no fuso da loja, valores em R$); variáveis vazias "
                "ficam em branco."
            )
            % {
                "example": "{{ cliente.nome }}",
                "if": "{% if … %}…{% endif %}",
                "with": "{% with … %}…{% endwith %}",
            },
            can_edit=self.request.membership.can(Action.MANAGE_NOTIFICATIONS),
            email_settings=CustomerEmailSettings.for_merchant(self.request.merchant),
            **_preview(self.request, kind=self.kind, overrides=overrides),
        )
        return context

    def form_valid(self, form):
        try:
            customer_email_template_save(
                merchant=self.request.merchant, actor=self.request.user, kind=self.kind, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("E-mail salvo."))
        return HttpResponseRedirect(self.get_success_url())


@email_preview_csp
class CustomerEmailPreviewView(_KindMixin, RateLimitMixin, View):
    """The live preview (htmx): the form's current text rendered with sample data; nothing is saved.
    Rendering unsaved text is part of editing, so POST needs the role that edits templates."""

    write_action = Action.MANAGE_NOTIFICATIONS
    rate_limits = [("email_preview", "user", ("POST",))]

    def post(self, request, *args, **kwargs):
        overrides = {name: request.POST.get(name, "") for name in ("subject", "body_text", "body_html")}
        context = _preview(request, kind=self.kind, overrides=overrides)
        return render(request, "notifications/partials/customer_email_preview.html", context)

    def get(self, request, *args, **kwargs):
        context = _preview(request, kind=self.kind)
        return render(request, "notifications/partials/customer_email_preview.html", context)


class CustomerEmailRestoreView(_KindMixin, View):
    """ "Restaurar padrão": forgets the merchant's text (POST only)."""

    required_action = Action.MANAGE_NOTIFICATIONS

    def post(self, request, *args, **kwargs):
        customer_email_template_restore(merchant=request.merchant, actor=request.user, kind=self.kind)
        messages.success(request, _("Texto padrão restaurado."))
        return HttpResponseRedirect(self.get_success_url())


class CustomerEmailSendTestView(_KindMixin, View):
    """ "Enviar teste": the e-mail with sample data to the signed-in user (POST only)."""

    required_action = Action.MANAGE_NOTIFICATIONS

    def post(self, request, *args, **kwargs):
        if not request.user.email:
            messages.error(request, _("Cadastre um e-mail no seu usuário para receber o teste."))
            return HttpResponseRedirect(self.get_success_url())
        try:
            send_test_email(merchant=request.merchant, kind=self.kind, to=request.user.email)
        except Exception as exc:  # the mail server's answer is what the user needs to see
            messages.error(request, _("Não foi possível enviar o teste: %(error)s") % {"error": exc})
        else:
            messages.success(request, _("Teste enviado para %(email)s.") % {"email": request.user.email})
        return HttpResponseRedirect(self.get_success_url())


class CustomerEmailSettingsView(MerchantScopedMixin, FormView):
    """Reply-to, access link and renewal reminder days, shared by every customer e-mail."""

    form_class = CustomerEmailSettingsForm
    template_name = "core/object_form.html"
    write_action = Action.MANAGE_NOTIFICATIONS

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["merchant"] = self.request.merchant
        kwargs["instance"] = CustomerEmailSettings.for_merchant(self.request.merchant)
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Configurações dos e-mails")
        context["cancel_url"] = reverse("notifications:customer_email_list")
        return context

    def form_valid(self, form):
        try:
            customer_email_settings_update(merchant=self.request.merchant, **form.settings_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Configurações salvas."))
        return HttpResponseRedirect(reverse("notifications:customer_email_list"))


class EmailSendingListView(MerchantListView):
    queryset = selectors.email_sending_list_queryset()
    filterset_class = EmailSendingFilterSet
    table_class = EmailSendingTable
    title = _("E-mails enviados")
    empty_message = _("Nenhum e-mail enviado aos clientes ainda.")
    empty_filtered_message = _("Nenhum e-mail encontrado para estes filtros.")


@email_preview_csp
class EmailSendingDetailView(MerchantDetailView):
    """One customer e-mail as it was sent: headers, text and HTML."""

    model = EmailSending
    context_object_name = "sending"
    template_name = "notifications/email_sending_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.object.subject, status_badge=email_status_badge(self.object))
        return context
