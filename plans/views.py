from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.generic import (
    MerchantActionView,
    MerchantCreateView,
    MerchantDetailView,
    MerchantListView,
    MerchantUpdateView,
)
from accounts.permissions import Action
from plans import selectors, services
from plans.choices import PLAN_ACTIONS
from plans.filtersets import PlanFilterSet
from plans.forms import PlanForm
from plans.models import Plan
from plans.tables import PlanTable


class PlanListView(MerchantListView):
    queryset = selectors.plan_list_queryset()
    filterset_class = PlanFilterSet
    table_class = PlanTable
    title = _("Planos")
    create_url_name = "plans:plan_create"
    create_action = Action.MANAGE_CATALOG
    create_label = _("Novo plano")
    empty_message = _("Nenhum plano ainda. Crie o primeiro para começar a vender assinaturas.")


class PlanDetailView(MerchantDetailView):
    model = Plan

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Which buttons the plan's status allows; the role check is `can.manage_catalog` in the template.
        context["plan_can"] = {action: self.object.can(action) for action in PLAN_ACTIONS}
        return context


class PlanCreateView(MerchantCreateView):
    model = Plan
    form_class = PlanForm
    template_name = "plans/plan_form.html"
    required_action = Action.MANAGE_CATALOG
    title = _("Novo plano")
    success_message = _("Plano criado.")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("plans:plan_list"))
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.plan_create(
            merchant=self.request.merchant, actor=self.request.user, **form.plan_fields()
        )


class PlanUpdateView(MerchantUpdateView):
    model = Plan
    form_class = PlanForm
    template_name = "plans/plan_form.html"
    required_action = Action.MANAGE_CATALOG
    title = _("Editar plano")
    success_message = _("Plano salvo.")

    def perform(self, form):
        return services.plan_update(plan=self.object, actor=self.request.user, **form.plan_fields())


class PlanArchiveView(MerchantActionView):
    model = Plan
    required_action = Action.MANAGE_CATALOG
    title = _("Arquivar plano")
    confirm_label = _("Arquivar")
    confirm_class = "btn-warning"
    success_message = _("Plano arquivado. Ele não aparece mais para novas assinaturas.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Arquivar o plano “%(name)s”? Ele deixa de ser vendido e some da lista, "
            "mas as assinaturas existentes continuam."
        ) % {"name": self.object.name}
        return context

    def perform(self, obj):
        services.plan_archive(plan=obj, actor=self.request.user)


class PlanUnarchiveView(MerchantActionView):
    model = Plan
    required_action = Action.MANAGE_CATALOG
    title = _("Desarquivar plano")
    confirm_label = _("Desarquivar")
    success_message = _(
        "Plano desarquivado. Ele está inativo: edite-o e marque “Ativo” para voltar a vendê-lo."
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Desarquivar o plano “%(name)s”? Ele volta para a lista como inativo.") % {
            "name": self.object.name
        }
        return context

    def perform(self, obj):
        services.plan_unarchive(plan=obj, actor=self.request.user)


class PlanDeleteView(MerchantActionView):
    model = Plan
    required_action = Action.MANAGE_CATALOG
    title = _("Excluir plano")
    confirm_label = _("Excluir permanentemente")
    confirm_class = "btn-danger"
    success_message = _("Plano excluído.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Excluir o plano “%(name)s” permanentemente? Esta ação não pode ser desfeita. "
            "Um plano com assinaturas não pode ser excluído, apenas arquivado."
        ) % {"name": self.object.name}
        return context

    def get_success_url(self):
        return reverse("plans:plan_list")

    def perform(self, obj):
        services.plan_delete(plan=obj, actor=self.request.user)
