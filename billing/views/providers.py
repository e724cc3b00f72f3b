"""Configurações > Pagamentos (connect Stripe, rotate, test, disconnect; PayPal manual tracking) and the
inbound events screens: Notificações > Eventos recebidos (Reprocessar) and Ressincronizar per subscription."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import Action
from billing import selectors
from billing.choices import PaymentProvider, StripeMode
from billing.filtersets import ProviderEventFilterSet
from billing.models import ProviderConnection, ProviderEvent
from billing.services.provider_events import provider_events_reprocess
from billing.services.providers import (
    paypal_enable,
    provider_disconnect,
    stripe_connect,
    stripe_rotate,
    stripe_test,
)
from billing.services.stripe_sync import resync_subscription
from billing.tables import ProviderEventTable
from core.views import MerchantActionView, MerchantDetailView, MerchantListView, MerchantScopedMixin
from subscribers.models import Subscription


class StripeConnectForm(forms.Form):
    api_key = forms.CharField(
        label=_("Chave de API restrita"), widget=forms.PasswordInput(render_value=False)
    )
    webhook_secret = forms.CharField(
        label=_("Segredo de assinatura do webhook"), widget=forms.PasswordInput(render_value=False)
    )
    mode = forms.ChoiceField(label=_("Quem cobra as renovações"), choices=StripeMode.choices)


class StripeRotateForm(forms.Form):
    api_key = forms.CharField(
        label=_("Nova chave de API"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    webhook_secret = forms.CharField(
        label=_("Novo segredo do webhook"), required=False, widget=forms.PasswordInput(render_value=False)
    )


class PaymentProvidersView(MerchantScopedMixin, TemplateView):
    """Everyone with access reads it; owners and managers (manage_settings) change it. Secrets are never
    rendered back: only their last four characters."""

    template_name = "billing/providers.html"
    required_action = Action.VIEW
    write_action = Action.MANAGE_SETTINGS

    def connections(self):
        return {c.provider: c for c in ProviderConnection.objects.filter(merchant=self.request.merchant)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        found = self.connections()
        stripe = found.get(PaymentProvider.STRIPE)
        context.update(
            title=_("Pagamentos"),
            stripe=stripe,
            paypal=found.get(PaymentProvider.PAYPAL),
            connect_form=kwargs.get("connect_form") or StripeConnectForm(initial={"mode": StripeMode.MIRROR}),
            rotate_form=kwargs.get("rotate_form") or StripeRotateForm(),
            webhook_url=self.request.build_absolute_uri(
                reverse("billing:stripe_webhook", args=[stripe.webhook_token])
            )
            if stripe
            else "",
        )
        return context

    def post(self, request, *args, **kwargs):
        if not request.membership.can(self.write_action):
            messages.error(request, _("Você não tem permissão para alterar os pagamentos."))
            return HttpResponseRedirect(request.path)
        op = request.POST.get("op")
        found = self.connections()
        stripe = found.get(PaymentProvider.STRIPE)
        try:
            if op == "connect":
                form = StripeConnectForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(connect_form=form))
                stripe_connect(merchant=request.merchant, **form.cleaned_data)
                messages.success(request, _("Stripe conectada. Cole a URL do webhook no painel da Stripe."))
            elif op == "rotate" and stripe is not None and stripe.is_active:
                form = StripeRotateForm(request.POST)
                form.is_valid()
                stripe_rotate(connection=stripe, **form.cleaned_data)
                messages.success(request, _("Credenciais da Stripe trocadas."))
            elif op == "test" and stripe is not None and stripe.is_active:
                account = stripe_test(connection=stripe)
                messages.success(
                    request, _("Conexão com a Stripe funcionando (%(account)s).") % {"account": account}
                )
            elif op == "disconnect" and stripe is not None:
                provider_disconnect(connection=stripe)
                messages.success(request, _("Stripe desconectada."))
            elif op == "paypal":
                paypal_enable(merchant=request.merchant)
                messages.success(request, _("PayPal em modo de acompanhamento manual."))
            elif op == "paypal_off" and PaymentProvider.PAYPAL in found:
                provider_disconnect(connection=found[PaymentProvider.PAYPAL])
                messages.success(request, _("PayPal desativado."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return HttpResponseRedirect(reverse("billing:providers"))


class ProviderEventListView(MerchantListView):
    """Notificações > Eventos recebidos: every inbound provider event, filterable, with Reprocessar."""

    queryset = selectors.provider_event_queryset()
    filterset_class = ProviderEventFilterSet
    table_class = ProviderEventTable
    template_name = "billing/provider_event_list.html"
    title = _("Eventos recebidos")
    empty_message = _("Nenhum evento recebido dos provedores de pagamento.")
    empty_filtered_message = _("Nenhum evento encontrado para estes filtros.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failed_count"] = failed_events_count(self.request.merchant)
        # The bulk buttons only where they can act: selecting needs events, "all failed" needs a failure.
        context["has_events"] = (
            context["failed_count"] > 0
            or selectors.provider_event_queryset().filter(merchant=self.request.merchant).exists()
        )
        return context


class ProviderEventDetailView(MerchantDetailView):
    """One inbound event: its raw body and headers, what it did or the error it raised."""

    queryset = selectors.provider_event_queryset()
    context_object_name = "provider_event"
    template_name = "billing/provider_event_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = str(self.object)
        return context


class ProviderEventReprocessView(MerchantActionView):
    queryset = ProviderEvent.objects.all()
    required_action = Action.MANAGE_BILLING
    title = _("Reprocessar evento")
    question = _("Processar este evento de novo? Um evento mais antigo que o estado já aplicado é ignorado.")
    confirm_label = _("Reprocessar")
    success_message = _("Evento enviado para reprocessamento.")

    def perform(self, obj):
        provider_events_reprocess(merchant=self.request.merchant, ids=[obj.pk])


class ProviderEventBulkReprocessView(MerchantScopedMixin, View):
    """Reprocessar selecionados (or every failed one with `failed=1`)."""

    required_action = Action.MANAGE_BILLING
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        if request.POST.get("failed"):
            ids = list(selectors.provider_events_failed(request.merchant).values_list("pk", flat=True)[:1000])
        count = provider_events_reprocess(merchant=request.merchant, ids=ids)
        messages.success(request, _("%(count)s evento(s) enviados para reprocessamento.") % {"count": count})
        return HttpResponseRedirect(reverse("billing:provider_event_list"))


class SubscriptionResyncView(MerchantActionView):
    """Ressincronizar: a Stripe subscription brought to what Stripe says now."""

    # Every subscription of the merchant, so the usual order holds (another merchant's is a 404, a role
    # without the right a 403); one not billed by Stripe is then refused with the reason.
    queryset = Subscription.objects.all()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    title = _("Ressincronizar com a Stripe")
    question = _("Buscar a assinatura na Stripe agora e aplicar a situação de lá?")
    confirm_label = _("Ressincronizar")

    def refusal(self, obj):
        if obj.provider != PaymentProvider.STRIPE or not obj.provider_id:
            return [_("Esta assinatura não é cobrada pela Stripe: não há o que ressincronizar.")]
        return []

    def get(self, request, *args, **kwargs):
        if reasons := self.refusal(self.object):
            return self.refuse(reasons)
        return super().get(request, *args, **kwargs)

    def perform(self, obj):
        if reasons := self.refusal(obj):
            raise ValidationError(reasons)
        note = resync_subscription(subscription=obj, now=timezone.now())
        messages.info(self.request, str(note))  # read now, in the request's language


def failed_events_count(merchant) -> int:
    return selectors.provider_events_failed(merchant).count()
