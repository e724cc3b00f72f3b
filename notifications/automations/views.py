"""Notificações > Automações and Notificações > Integrações."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_tables2 import RequestConfig

from accounts.permissions import Action
from core.pagination import BoundedPaginator
from core.views import (
    MerchantActionView,
    MerchantCreateView,
    MerchantDetailView,
    MerchantListView,
    MerchantUpdateView,
    is_htmx,
)
from notifications.automations import runner, selectors, services
from notifications.automations.choices import RunStatus
from notifications.automations.filtersets import AutomationFilterSet, ProviderIntegrationFilterSet
from notifications.automations.forms import AutomationForm, ProviderIntegrationForm
from notifications.automations.models import Automation, ProviderIntegration
from notifications.automations.tables import (
    AutomationRunTable,
    AutomationTable,
    ProviderIntegrationTable,
    action_display,
    automation_status_badge,
)
from notifications.retries import MAX_ATTEMPTS

# A webhook rule's signing secret is shown once, on the rule's page right after it was created.
REVEAL_SESSION_KEY = "automation_secret_reveal"
RUN_LOG_PER_PAGE = 25


class AutomationListView(MerchantListView):
    queryset = selectors.automation_list_queryset()
    filterset_class = AutomationFilterSet
    table_class = AutomationTable
    title = _("Automações")
    create_url_name = "notifications:automation_create"
    create_action = Action.MANAGE_NOTIFICATIONS
    create_label = _("Nova automação")
    empty_message = _(
        "Nenhuma automação ainda. Crie uma regra para agir quando uma assinatura for cancelada, "
        "ficar com pagamento pendente, for reembolsada…"
    )
    empty_filtered_message = _("Nenhuma automação encontrada para estes filtros.")


class AutomationDetailView(MerchantDetailView):
    """The rule, its error badge and its run log."""

    queryset = Automation.objects.select_related("integration")
    context_object_name = "automation"
    template_name = "notifications/automations_detail.html"
    partial_template_name = "notifications/automations_run_log.html"

    def get_template_names(self):
        return [self.partial_template_name if is_htmx(self.request) else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        automation = self.object
        table = AutomationRunTable(selectors.run_log_queryset(automation))
        RequestConfig(
            self.request, paginate={"per_page": RUN_LOG_PER_PAGE, "paginator_class": BoundedPaginator}
        ).configure(table)
        revealed = None
        reveal = self.request.session.get(REVEAL_SESSION_KEY)
        if not is_htmx(self.request) and reveal and reveal.get("automation") == automation.pk:
            revealed = reveal.get("secret")
            del self.request.session[REVEAL_SESSION_KEY]
        context.update(
            title=str(automation),
            table=table,
            status_badge=automation_status_badge(automation),
            action_display=action_display(automation),
            plans=list(automation.plans.order_by("name")),
            payment_methods=", ".join(_label(automation, "payment_methods")),
            cancel_origins=", ".join(_label(automation, "cancel_origins")),
            max_attempts=MAX_ATTEMPTS,
            revealed_secret=revealed,
        )
        return context


def _label(automation, field):
    from subscribers.choices import CancelOrigin, PaymentMethod

    choices = dict(PaymentMethod.choices if field == "payment_methods" else CancelOrigin.choices)
    return [str(choices.get(value, value)) for value in getattr(automation, field)]


class _AutomationFormMixin:
    model = Automation
    form_class = AutomationForm
    template_name = "notifications/automations_form.html"
    required_action = Action.MANAGE_NOTIFICATIONS

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("notifications:automation_list"))
        return super().get_context_data(**kwargs)


class AutomationCreateView(_AutomationFormMixin, MerchantCreateView):
    title = _("Nova automação")
    success_message = _("Automação criada.")

    def perform(self, form):
        automation = services.automation_create(
            merchant=self.request.merchant, actor=self.request.user, **form.automation_fields()
        )
        if automation.signing_secret:
            self.request.session[REVEAL_SESSION_KEY] = {
                "automation": automation.pk,
                "secret": automation.signing_secret,
            }
        return automation


class AutomationUpdateView(_AutomationFormMixin, MerchantUpdateView):
    title = _("Editar automação")
    success_message = _("Automação salva.")

    def perform(self, form):
        had_secret = bool(self.object.signing_secret)
        automation = services.automation_update(automation=self.object, **form.automation_fields())
        if automation.signing_secret and not had_secret:
            self.request.session[REVEAL_SESSION_KEY] = {
                "automation": automation.pk,
                "secret": automation.signing_secret,
            }
        return automation


class AutomationToggleView(MerchantActionView):
    """Ativar / Desativar."""

    model = Automation
    required_action = Action.MANAGE_NOTIFICATIONS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.is_enabled:
            context.update(
                title=_("Desativar automação"),
                confirm_label=_("Desativar"),
                confirm_class="btn-warning",
                question=_(
                    "Desativar “%(name)s”? Ela deixa de agir sobre novos eventos e as execuções que "
                    "aguardam nova tentativa são encerradas."
                )
                % {"name": self.object.name},
            )
        else:
            context.update(
                title=_("Ativar automação"),
                confirm_label=_("Ativar"),
                question=_("Ativar “%(name)s”? Ela passa a agir sobre os próximos eventos.")
                % {"name": self.object.name},
            )
        return context

    def perform(self, obj):
        enabled = not obj.is_enabled
        services.automation_set_enabled(automation=obj, enabled=enabled)
        self.success_message = _("Automação ativada.") if enabled else _("Automação desativada.")


class AutomationSendTestView(MerchantActionView):
    """Runs the action now with a sample event and says how it went (the run log keeps it)."""

    model = Automation
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Enviar teste")
    confirm_label = _("Enviar teste")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Executar a ação de “%(name)s” agora com um evento de exemplo (%(type)s)?"
        ) % {"name": self.object.name, "type": self.object.get_trigger_display()}
        return context

    def post(self, request, *args, **kwargs):
        try:
            run = runner.automation_send_test(automation=self.object, actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(self.object.get_absolute_url())
        if run.status == RunStatus.SUCCEEDED:
            messages.success(request, _("Teste executado com sucesso."))
        else:
            messages.error(request, _("O teste falhou: %(error)s") % {"error": run.last_error_display})
        return HttpResponseRedirect(self.object.get_absolute_url())


class AutomationDeleteView(MerchantActionView):
    model = Automation
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Excluir automação")
    confirm_label = _("Excluir automação")
    confirm_class = "btn-danger"
    success_message = _("Automação excluída.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Excluir a automação “%(name)s”? Ela deixa de agir e o registro de execuções dela "
            "(%(count)s execução(ões)) é apagado. Os eventos continuam no Recorrente."
        ) % {"name": self.object.name, "count": self.object.runs.count()}
        return context

    def get_success_url(self):
        return reverse("notifications:automation_list")

    def perform(self, obj):
        services.automation_delete(automation=obj)


# --- integrations -----------------------------------------------------------------------------------------
class ProviderIntegrationListView(MerchantListView):
    queryset = selectors.integration_list_queryset()
    filterset_class = ProviderIntegrationFilterSet
    table_class = ProviderIntegrationTable
    title = _("Integrações de e-mail marketing")
    create_url_name = "notifications:integration_create"
    create_action = Action.MANAGE_NOTIFICATIONS
    create_label = _("Nova integração")
    empty_message = _(
        "Nenhuma integração ainda. Cadastre o endereço e o token do seu provedor de e-mail marketing para "
        "que as automações enviem contatos às listas dele."
    )
    empty_filtered_message = _("Nenhuma integração encontrada para estes filtros.")


class ProviderIntegrationDetailView(MerchantDetailView):
    model = ProviderIntegration
    context_object_name = "integration"
    template_name = "notifications/automations_integration_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=str(self.object), automations=list(self.object.automations.order_by("name")))
        return context


class _IntegrationFormMixin:
    model = ProviderIntegration
    form_class = ProviderIntegrationForm
    template_name = "notifications/automations_integration_form.html"
    required_action = Action.MANAGE_NOTIFICATIONS

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("notifications:integration_list"))
        return super().get_context_data(**kwargs)


class ProviderIntegrationCreateView(_IntegrationFormMixin, MerchantCreateView):
    title = _("Nova integração")
    success_message = _("Integração criada. O token fica guardado criptografado e não é mostrado de novo.")

    def perform(self, form):
        return services.integration_create(merchant=self.request.merchant, **form.integration_fields())


class ProviderIntegrationUpdateView(_IntegrationFormMixin, MerchantUpdateView):
    title = _("Editar integração")
    success_message = _("Integração salva.")

    def perform(self, form):
        return services.integration_update(integration=self.object, **form.integration_fields())


class ProviderIntegrationDeleteView(MerchantActionView):
    model = ProviderIntegration
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Excluir integração")
    confirm_label = _("Excluir integração")
    confirm_class = "btn-danger"
    success_message = _("Integração excluída.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Excluir a integração “%(name)s”?") % {"name": self.object.name}
        return context

    def get_success_url(self):
        return reverse("notifications:integration_list")

    def perform(self, obj):
        services.integration_delete(integration=obj)
