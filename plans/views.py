import io

import segno
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from core.views import (
    MerchantActionView,
    MerchantCreateView,
    MerchantDetailView,
    MerchantListView,
    MerchantUpdateView,
)
from plans import selectors, services
from plans.choices import PLAN_ACTIONS
from plans.filtersets import CheckoutLinkFilterSet, CouponFilterSet, PlanFilterSet, TaxRateFilterSet
from plans.forms import CheckoutLinkForm, CouponForm, PlanForm, TaxRateForm
from plans.models import CheckoutLink, Coupon, Plan, TaxRate
from plans.tables import (
    CheckoutLinkTable,
    CouponTable,
    PlanTable,
    TaxRateTable,
    coupon_discount_display,
    coupon_duration_display,
    coupon_usage_display,
    percent_display,
)


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
        context["price_versions"] = self.object.prices.order_by("-version")[:20]
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
        return services.plan_create(merchant=self.request.merchant, **form.plan_fields())


class PlanUpdateView(MerchantUpdateView):
    model = Plan
    form_class = PlanForm
    template_name = "plans/plan_form.html"
    required_action = Action.MANAGE_CATALOG
    title = _("Editar plano")
    success_message = _("Plano salvo.")

    def perform(self, form):
        return services.plan_update(plan=self.object, **form.plan_fields())


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
        services.plan_archive(plan=obj)


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
        services.plan_unarchive(plan=obj)


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
        services.plan_delete(plan=obj)


# --- Coupons ---------------------------------------------------------------------------------------


class CouponListView(MerchantListView):
    queryset = selectors.coupon_list_queryset()
    filterset_class = CouponFilterSet
    table_class = CouponTable
    title = _("Cupons")
    create_url_name = "plans:coupon_create"
    create_action = Action.MANAGE_CATALOG
    create_label = _("Novo cupom")
    empty_message = _("Nenhum cupom ainda. Crie um código de desconto para oferecer aos seus clientes.")


class CouponDetailView(MerchantDetailView):
    model = Coupon
    queryset = selectors.coupon_list_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        coupon = self.object
        status = selectors.coupon_status(coupon, now=timezone.now())
        context.update(
            coupon_status=status,
            coupon_status_label=selectors.COUPON_STATUS_LABELS[status],
            discount_display=coupon_discount_display(coupon),
            duration_display=coupon_duration_display(coupon),
            usage_display=coupon_usage_display(coupon.redemptions, coupon.max_redemptions),
        )
        return context


class _CouponFormMixin:
    model = Coupon
    form_class = CouponForm
    template_name = "plans/coupon_form.html"
    required_action = Action.MANAGE_CATALOG

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("plans:coupon_list"))
        return super().get_context_data(**kwargs)


class CouponCreateView(_CouponFormMixin, MerchantCreateView):
    title = _("Novo cupom")
    success_message = _("Cupom criado.")

    def perform(self, form):
        return services.coupon_create(merchant=self.request.merchant, **form.coupon_fields())


class CouponUpdateView(_CouponFormMixin, MerchantUpdateView):
    title = _("Editar cupom")
    success_message = _("Cupom salvo.")

    def get_context_data(self, **kwargs):
        # The terms of a coupon in use are fixed; the page says so before the merchant tries.
        kwargs.setdefault("redemptions", self.object.subscriptions.count())
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.coupon_update(coupon=self.object, **form.coupon_fields())


class CouponDeactivateView(MerchantActionView):
    model = Coupon
    required_action = Action.MANAGE_CATALOG
    title = _("Desativar cupom")
    confirm_label = _("Desativar")
    confirm_class = "btn-warning"
    success_message = _("Cupom desativado. Ele não pode mais ser usado em novas assinaturas.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Desativar o cupom “%(code)s”? Ele não poderá mais ser usado, "
            "mas as assinaturas que já o usam mantêm o desconto."
        ) % {"code": self.object.code}
        return context

    def perform(self, obj):
        services.coupon_deactivate(coupon=obj)


# --- Tax rates -------------------------------------------------------------------------------------


class TaxRateListView(MerchantListView):
    queryset = selectors.tax_rate_list_queryset()
    filterset_class = TaxRateFilterSet
    table_class = TaxRateTable
    title = _("Impostos")
    create_url_name = "plans:taxrate_create"
    create_action = Action.MANAGE_CATALOG
    create_label = _("Novo imposto")
    empty_message = _("Nenhum imposto ainda. Cadastre as alíquotas (ISS, PIS…) que suas cobranças levam.")


class TaxRateDetailView(MerchantDetailView):
    model = TaxRate
    queryset = selectors.tax_rate_list_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["percentage_display"] = percent_display(self.object.percentage)
        return context


class _TaxRateFormMixin:
    model = TaxRate
    form_class = TaxRateForm
    template_name = "plans/taxrate_form.html"
    required_action = Action.MANAGE_CATALOG

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("plans:taxrate_list"))
        return super().get_context_data(**kwargs)


class TaxRateCreateView(_TaxRateFormMixin, MerchantCreateView):
    title = _("Novo imposto")
    success_message = _("Imposto criado.")

    def perform(self, form):
        return services.tax_rate_create(merchant=self.request.merchant, **form.tax_rate_fields())


class TaxRateUpdateView(_TaxRateFormMixin, MerchantUpdateView):
    title = _("Editar imposto")
    success_message = _("Imposto salvo.")

    def perform(self, form):
        return services.tax_rate_update(tax_rate=self.object, **form.tax_rate_fields())


# --- Checkout links --------------------------------------------------------------------------------


class CheckoutLinkListView(MerchantListView):
    queryset = selectors.checkout_link_list_queryset()
    filterset_class = CheckoutLinkFilterSet
    table_class = CheckoutLinkTable
    title = _("Links de pagamento")
    create_url_name = "plans:checkoutlink_create"
    create_action = Action.MANAGE_CATALOG
    create_label = _("Novo link")
    empty_message = _(
        "Nenhum link ainda. Crie um link de pagamento para um plano e compartilhe: o cliente assina sozinho."
    )


def checkout_public_url(request, link: CheckoutLink) -> str:
    # The page is billing's (it contracts and charges); a URL name is no import.
    return request.build_absolute_uri(reverse("checkout:page", kwargs={"slug": link.slug}))


class CheckoutLinkDetailView(MerchantDetailView):
    queryset = selectors.checkout_link_list_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        link = self.object
        now = timezone.now()
        context.update(
            public_url=checkout_public_url(self.request, link),
            link_status=link.status(now=now),
            closed_reason=link.public_refusal(now=now),
        )
        return context


class _CheckoutLinkFormMixin:
    model = CheckoutLink
    form_class = CheckoutLinkForm
    template_name = "plans/checkoutlink_form.html"
    required_action = Action.MANAGE_CATALOG

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("plans:checkoutlink_list"))
        return super().get_context_data(**kwargs)


class CheckoutLinkCreateView(_CheckoutLinkFormMixin, MerchantCreateView):
    title = _("Novo link de pagamento")
    success_message = _("Link criado. Copie o endereço ou baixe o QR code para compartilhar.")

    def get_initial(self):
        initial = super().get_initial()
        plan = self.request.GET.get("plan", "")
        if plan.isdigit():
            initial["plan"] = int(plan)
        return initial

    def perform(self, form):
        return services.checkout_link_create(merchant=self.request.merchant, **form.checkout_link_fields())


class CheckoutLinkUpdateView(_CheckoutLinkFormMixin, MerchantUpdateView):
    title = _("Editar link de pagamento")
    success_message = _("Link salvo.")

    def perform(self, form):
        return services.checkout_link_update(link=self.object, **form.checkout_link_fields())


class CheckoutLinkActivateView(MerchantActionView):
    model = CheckoutLink
    required_action = Action.MANAGE_CATALOG
    title = _("Ativar link")
    confirm_label = _("Ativar")
    success_message = _("Link ativado: a página pública está no ar.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Ativar o link “%(name)s”? A página pública volta a aceitar assinaturas.") % {
            "name": self.object
        }
        return context

    def perform(self, obj):
        services.checkout_link_set_active(link=obj, active=True)


class CheckoutLinkDeactivateView(MerchantActionView):
    model = CheckoutLink
    required_action = Action.MANAGE_CATALOG
    title = _("Desativar link")
    confirm_label = _("Desativar")
    confirm_class = "btn-warning"
    success_message = _("Link desativado: o endereço não abre mais.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Desativar o link “%(name)s”? Quem abrir o endereço verá “página não encontrada”; as assinaturas "
            "já feitas continuam."
        ) % {"name": self.object}
        return context

    def perform(self, obj):
        services.checkout_link_set_active(link=obj, active=False)


class _CheckoutLinkQRView(MerchantDetailView):
    """The link's public URL as a QR code, drawn on the server by segno (no script, no third party)."""

    model = CheckoutLink
    kind = ""

    def render_to_response(self, context, **response_kwargs):
        code = segno.make(checkout_public_url(self.request, self.object), error="m")
        buffer = io.BytesIO()
        if self.kind == "svg":
            code.save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
            content_type = "image/svg+xml"
        else:
            code.save(buffer, kind="png", scale=10, border=2)
            content_type = "image/png"
        response = HttpResponse(buffer.getvalue(), content_type=content_type)
        if self.request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="link-{self.object.pk}.{self.kind}"'
        return response


class CheckoutLinkQRPngView(_CheckoutLinkQRView):
    kind = "png"


class CheckoutLinkQRSvgView(_CheckoutLinkQRView):
    kind = "svg"
