"""Pausar, Retomar (with the money preview) and Desfazer pausa agendada (docs/pause.md). Each write calls
one service of subscribers.services.pause; the buttons and pages follow the one action table."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from core.views import MerchantActionView, MerchantDetailView, MerchantUpdateView, ReturnToNextMixin
from subscribers import extension_points, services
from subscribers.choices import ResumeMode, SubscriptionAction
from subscribers.forms.pause import PauseForm, ResumeForm
from subscribers.models import Subscription
from subscribers.views.subscriptions import _OnlyWhenAllowedMixin, money_preview, subscription_queryset


class SubscriptionPauseView(ReturnToNextMixin, _OnlyWhenAllowedMixin, MerchantUpdateView):
    """Pause now, at the end of the current period or on a date; resumed by hand or on a date."""

    queryset = subscription_queryset()
    form_class = PauseForm
    template_name = "subscribers/subscription_pause.html"
    modal_template_name = "subscribers/partials/subscription_pause_modal.html"
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.PAUSE
    title = _("Pausar assinatura")
    success_message = _("Pausa registrada.")

    def perform(self, form):
        return services.subscription_pause(
            subscription=self.object, actor=self.request.user, **form.cleaned_data
        )


def resume_preview_context(subscription: Subscription, form: forms.Form) -> dict:
    """What resuming charges now and next for the mode and date in `form` (bound or not), computed by
    billing's functions through the extension point."""
    mode, at_date = ResumeMode.CONTINUE, None
    if form.is_bound:
        form.is_valid()
        mode = form.cleaned_data.get("mode") or mode
        at_date = form.cleaned_data.get("at_date")
    at = timezone.now()
    if at_date is not None:
        if at_date <= subscription.merchant.localdate(at):
            return {"preview_errors": [_("Escolha uma data futura; para hoje, deixe a data vazia.")]}
        at = subscription.merchant.start_of_day(at_date)
    try:
        money = money_preview(
            extension_points.resume_money_preview, subscription=subscription, mode=mode, at=at
        )
    except ValidationError as exc:
        return {"preview_errors": exc.messages}
    return {"preview": money, "resume_at": at, "resume_is_later": at_date is not None}


class SubscriptionResumeView(ReturnToNextMixin, _OnlyWhenAllowedMixin, MerchantUpdateView):
    """Resume now or on a date, starting a new period or continuing the cycle; the amounts are shown
    (and updated by htmx as the choice changes) before the user confirms."""

    queryset = subscription_queryset()
    form_class = ResumeForm
    template_name = "subscribers/subscription_resume.html"
    modal_template_name = "subscribers/partials/subscription_resume_modal.html"
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.RESUME
    title = _("Retomar assinatura")
    success_message = _("Retomada registrada.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(resume_preview_context(self.object, context["form"]))
        return context

    def perform(self, form):
        return services.subscription_resume(
            subscription=self.object, actor=self.request.user, **form.cleaned_data
        )


class SubscriptionResumePreviewView(MerchantDetailView):
    """htmx: the resume screen's amounts for the mode and date picked."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    template_name = "subscribers/partials/resume_preview.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ResumeForm(self.request.GET or None, merchant=self.request.merchant, instance=self.object)
        context.update(resume_preview_context(self.object, form))
        return context


class SubscriptionPauseCancelView(MerchantActionView):
    """Desfazer pausa agendada: take back a pause that has not started yet."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    title = _("Desfazer pausa agendada")
    confirm_label = _("Desfazer pausa agendada")
    success_message = _("Pausa agendada desfeita.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Desfazer a pausa agendada desta assinatura? Ela continua sendo cobrada.")
        return context

    def perform(self, obj):
        services.subscription_pause_cancel(subscription=obj, actor=self.request.user)
