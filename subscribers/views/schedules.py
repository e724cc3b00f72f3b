"""Programação: the phase editor, Liberar da programação, Cancelar programação e assinatura.

The editor posts the whole schedule (every phase, in order); one service call validates it and saves it
atomically, and its errors are put next to the field they are about (`phases-<n>-<field>`)."""

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from django.views.generic.detail import SingleObjectMixin

from accounts.permissions import Action
from core.views import MerchantActionView, MerchantScopedMixin, MerchantUpdateView
from subscribers.choices import PhaseProration, PhaseState, ScheduleEndBehavior, SubscriptionAction
from subscribers.forms.schedule import PhaseFormSet, ScheduleCancelForm, ScheduleForm, phase_initial
from subscribers.selectors import schedule_phases
from subscribers.services.schedules import (
    schedule_cancel,
    schedule_create,
    schedule_dry_run,
    schedule_release,
    schedule_update,
)
from subscribers.views.subscriptions import _OnlyWhenAllowedMixin, subscription_queryset

PREFIX = "phases"
_ERROR_KEY = re.compile(rf"^{PREFIX}-(\d+)-(\w+)$")
NEW_PHASE_DEFAULTS = {"quantity": "1", "proration": "prorate", "anchor": "automatic", "kind": "terms"}
NEW_PAUSE_DEFAULTS = {"kind": "pause", "resume_mode": "new_period"}


def _no_schedule(view):
    messages.error(view.request, _("Esta assinatura não tem uma programação em andamento."))
    return HttpResponseRedirect(view.object.get_absolute_url())


class SubscriptionScheduleView(_OnlyWhenAllowedMixin, MerchantScopedMixin, SingleObjectMixin, TemplateView):
    """Editar programação (or Programar fases, for a subscription without one): the phases in order,
    those that ended frozen, the running one limited, the rest free to add, remove and reorder."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.EDIT
    template_name = "subscribers/schedule_form.html"

    def setup_forms(self, data=None, *, add_phase=False, add_pause=False):
        subscription = self.object
        merchant = self.request.merchant
        self.schedule = subscription.live_schedule
        self.attached_phase = None  # a running subscription without a schedule: its terms become phase 1
        if self.schedule is not None:
            phases = schedule_phases(self.schedule)
            current = self.schedule.current_position
            states = [
                PhaseState.FUTURE
                if current is None or p.position > current
                else PhaseState.CURRENT
                if p.position == current
                else PhaseState.PAST
                for p in phases
            ]
            initial = [phase_initial(p, merchant, subscription.currency) for p in phases]
            end_behavior = self.schedule.end_behavior
        else:
            states = []
            initial = []
            end_behavior = ScheduleEndBehavior.RELEASE
            if subscription.status == "scheduled":
                initial = [
                    {
                        "plan": subscription.plan,
                        "quantity": subscription.quantity,
                        "coupon": subscription.coupon,
                        "tax_rates": list(subscription.tax_rates.all()),
                        "iterations": 1,
                    }
                ]
            else:
                self.attached_phase = {
                    "name": subscription.price_terms.name,
                    "quantity": subscription.quantity,
                    "start": subscription.current_period_start,
                    "end": subscription.current_period_end,
                }
        if data is not None and (add_phase or add_pause):
            # One more form, holding the defaults, so it is not reported as an incomplete phase.
            data = data.copy()
            total = int(data.get(f"{PREFIX}-TOTAL_FORMS") or 0)
            data[f"{PREFIX}-TOTAL_FORMS"] = str(total + 1)
            for name, value in (NEW_PAUSE_DEFAULTS if add_pause else NEW_PHASE_DEFAULTS).items():
                data[f"{PREFIX}-{total}-{name}"] = value
        extra = 1 if data is None and (not initial or self.attached_phase) else 0
        self.formset = PhaseFormSet(
            data, prefix=PREFIX, initial=initial, merchant=merchant, states=states, form_kwargs={}
        )
        if extra:
            self.formset.extra = extra
        self.form = ScheduleForm(data, initial={"end_behavior": end_behavior})
        self.schedule_errors = []

    def get(self, request, *args, **kwargs):
        refusal = self._refusal()
        if refusal:
            return refusal
        self.setup_forms()
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        refusal = self._refusal()
        if refusal:
            return refusal
        add_phase = "add_phase" in request.POST
        add_pause = "add_pause" in request.POST
        self.setup_forms(request.POST, add_phase=add_phase, add_pause=add_pause)
        if add_phase or add_pause:
            return self.render_to_response(self.get_context_data())
        forms_valid = self.formset.is_valid() & self.form.is_valid()  # both run: every form's errors
        if not forms_valid:
            # One round: the service also checks what could be read (ends, edit rules, dates…), so every
            # error is shown at once, each next to its field, not the service's after the form's are fixed.
            if self.formset.management_form.is_valid():
                forms_in_order, values = self.submission()
                values.pop("running_proration")
                try:
                    with schedule_dry_run(subscription=self.object, actor=request.user, **values):
                        pass
                except ValidationError as exc:
                    self._place_errors(exc, forms_in_order)
            return self.render_to_response(self.get_context_data())
        forms_in_order, values = self.submission()
        try:
            if self.schedule is None:
                values.pop("running_proration")
                schedule_create(subscription=self.object, actor=request.user, **values)
            else:
                schedule_update(schedule=self.schedule, actor=request.user, **values)
        except ValidationError as exc:
            self._place_errors(exc, forms_in_order)
            return self.render_to_response(self.get_context_data())
        messages.success(request, _("Programação salva."))
        return HttpResponseRedirect(self.object.get_absolute_url())

    def submission(self) -> tuple[list, dict]:
        """The valid forms' schedule, for the service: (the phase forms in order, its keyword arguments)."""
        merchant = self.request.merchant
        forms_in_order = [f for f in self._ordered_forms() if not f.is_blank]
        return forms_in_order, {
            "phases": [f.spec(merchant) for f in forms_in_order],
            "end_behavior": self.form.cleaned_data.get("end_behavior", ""),
            # No choice posted: nothing is billed now (money moves only when asked to).
            "running_proration": self.form.cleaned_data.get("running_proration") or PhaseProration.NONE,
        }

    def _ordered_forms(self):
        """The phases in the order asked (ORDER), without those marked for removal."""
        kept = [
            (form.cleaned_data.get("ORDER") or index + 1, index, form)
            for index, form in enumerate(self.formset.forms)
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        return [form for _order, _index, form in sorted(kept, key=lambda item: (item[0], item[1]))]

    def _place_errors(self, exc, forms_in_order):
        offset = 1 if self.schedule is None and self.attached_phase else 0
        if not hasattr(exc, "error_dict"):
            self.schedule_errors += exc.messages
            return
        for key, errors in exc.error_dict.items():
            match = _ERROR_KEY.match(key)
            if key in ("end_behavior", "running_proration"):
                if key not in self.form.errors:  # the form's own error on it says it already
                    self.form.add_error(key, errors)
            elif match and 0 <= int(match[1]) - offset < len(forms_in_order):
                form, name = forms_in_order[int(match[1]) - offset], match[2]
                if name in form.errors:
                    continue
                if name in form.fields and not form.fields[name].disabled:
                    form.add_error(name, errors)
                else:
                    form.add_error(None, errors)
            else:
                self.schedule_errors += [message for error in errors for message in error.messages]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            subscription=self.object,
            schedule=self.schedule,
            formset=self.formset,
            form=self.form,
            attached_phase=self.attached_phase,
            schedule_errors=self.schedule_errors,
            running=self.schedule is not None and self.schedule.current_position is not None,
            title=_("Editar programação") if self.schedule else _("Programar fases"),
            now=timezone.now(),
        )
        return context


class SubscriptionScheduleReleaseView(_OnlyWhenAllowedMixin, MerchantActionView):
    """Liberar da programação: the subscription keeps its current terms; later phases never happen."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.EDIT
    title = _("Liberar da programação")
    confirm_label = _("Liberar da programação")
    success_message = _("Assinatura liberada da programação.")

    def _refusal(self):
        return super()._refusal() or (None if self.object.live_schedule else _no_schedule(self))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "A assinatura continua nas condições de hoje e as próximas fases da programação não acontecem. "
            "Liberar?"
        )
        return context

    def perform(self, obj):
        schedule_release(schedule=obj.live_schedule, actor=self.request.user)


class SubscriptionScheduleCancelView(_OnlyWhenAllowedMixin, MerchantUpdateView):
    """Cancelar programação e assinatura: both end now, with who asked and why; access runs to the end of
    the paid period."""

    queryset = subscription_queryset()
    form_class = ScheduleCancelForm
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.CANCEL
    title = _("Cancelar programação e assinatura")
    success_message = _("Programação e assinatura canceladas.")

    def _refusal(self):
        return super()._refusal() or (None if self.object.live_schedule else _no_schedule(self))

    def perform(self, form):
        schedule = schedule_cancel(
            schedule=self.object.live_schedule, actor=self.request.user, **form.cleaned_data
        )
        return schedule.subscription
