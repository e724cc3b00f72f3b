"""One subscription: contract, page with timeline, edit, cancel, remove, re-add, delete.

Each write view calls one service; which buttons a page offers and which pages open come from the one
action table (`Subscription.can`), and the services check it again under a lock.
"""

import contextlib

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic.detail import SingleObjectMixin

from accounts.permissions import Action
from core.money import format_money
from core.views import (
    MerchantActionView,
    MerchantCreateView,
    MerchantDetailView,
    MerchantScopedMixin,
    MerchantUpdateView,
    ReturnToNextMixin,
)
from subscribers import extension_points, services, timeline
from subscribers.choices import (
    BackdateBilling,
    CancelWhen,
    EventKind,
    PriceNoticeStatus,
    SubscriptionAction,
    SubscriptionStatus,
)
from subscribers.forms.cancel import CancelForm, RemoveForm
from subscribers.forms.card import ChangeCardForm
from subscribers.forms.contract import SubscriptionForm
from subscribers.forms.edit import SubscriptionUpdateForm
from subscribers.models import Customer, Subscription
from subscribers.services import deletion_summary, refusal_message
from subscribers.tables import short_date


def subscription_queryset():
    """Subscriptions with what their pages print on every row (scoped to the merchant by the views)."""
    return Subscription.objects.select_related(
        "merchant", "customer", "plan", "plan_price", "salesperson", "canceled_by", "created_by"
    )


def allowed_actions(subscription: Subscription) -> dict[str, bool]:
    """{"edit": True, "cancel": False, …} for the templates, which cannot pass arguments to `can()`."""
    return {action: subscription.can(action) for action in SubscriptionAction.values}


def with_display(subscription: Subscription) -> Subscription:
    """Adds what the templates need to draw a subscription: its allowed actions (the status badge is
    `{% badge %}`, core.badges)."""
    subscription.allowed = allowed_actions(subscription)
    return subscription


class _OnlyWhenAllowedMixin:
    """Pages for an action the subscription's status does not allow do not open: the subscription's page
    shows why instead. The service refuses the same way if the status changes in between."""

    subscription_action: str = ""

    def _refusal(self):
        if self.object.can(self.subscription_action):
            return None
        return self.refuse([refusal_message(self.object, self.subscription_action)])

    def refuse(self, reasons):
        for reason in reasons:
            messages.error(self.request, reason)
        return HttpResponseRedirect(self.object.get_absolute_url())

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)


# --- contract --------------------------------------------------------------------------------------
_PREVIEW_BLOCKERS = (
    "quantity",
    "discount_percent",
    "discount_amount",
    "discount_periods",
    "coupon",
    "tax_rates",
)


def contract_preview_context(form, merchant) -> dict:
    """What contracting the terms in `form` (bound) charges now, per backdating choice: the amounts come
    from `subscription_contract_preview`, i.e. from the functions that bill. Empty until a plan and a
    date are chosen; the service's refusal (a date out of bounds) is shown instead of amounts."""
    if not form.is_bound:
        return {}
    form.is_valid()
    data = form.cleaned_data
    contract_date, plan = data.get("contract_date"), data.get("plan")
    if contract_date is None or plan is None or any(name in form.errors for name in _PREVIEW_BLOCKERS):
        return {}
    discount_type = data.get("discount_type") or ""
    try:
        preview = services.subscription_contract_preview(
            merchant=merchant,
            plan=plan,
            contract_date=contract_date,
            quantity=data.get("quantity") or 1,
            payment_method=data.get("payment_method") or "card",
            discount_type="" if discount_type == "coupon" else discount_type,
            discount_percent=data.get("discount_percent"),
            discount_amount=data.get("discount_amount"),
            discount_periods=data.get("discount_periods"),
            coupon=data.get("coupon"),
            tax_rates=data.get("tax_rates") or (),
        )
    except ValidationError as exc:
        return {"preview_errors": exc.messages}
    chosen = data.get("backdate_billing") or form.data.get(form.add_prefix("backdate_billing"))
    options = []
    for choice, drafts in preview.items():
        options.append(
            {
                "value": choice,
                "label": BackdateBilling(choice).label,
                "amount": sum(draft.totals.total for draft in drafts),
                "invoices": len(drafts),
                "next_charge": drafts[-1].period_end if drafts else None,
                "checked": choice == (chosen or BackdateBilling.PERIODS),
            }
        )
    return {
        "preview_backdated": contract_date < merchant.localdate(),
        "preview_options": options,
        "preview_currency": plan.currency,
        "preview_contract_date": contract_date,
        "backdate_field_name": form.add_prefix("backdate_billing"),
        "backdate_errors": form.errors.get("backdate_billing", []),
    }


def contract_charge_message(subscription, backdate_billing: str) -> str:
    """The success message of a contract: what it charges now, stated from the invoices billing drafts
    for it (the same ones the billing run then issues)."""
    today = subscription.merchant.localdate()
    if subscription.contract_date >= today:
        return str(_("Assinatura contratada."))
    drafts = services.first_invoices(
        subscription=subscription, tax_rates=subscription.tax_rates.all(), now=subscription.created_at
    )
    amount = format_money(sum(draft.totals.total for draft in drafts), subscription.currency)
    date = formats.date_format(subscription.contract_date, "SHORT_DATE_FORMAT")
    if backdate_billing == BackdateBilling.PRORATED:
        return _(
            "Assinatura contratada. Cobrança agora: %(amount)s — o tempo desde %(date)s, proporcional, e o "
            "primeiro período a partir de hoje."
        ) % {"amount": amount, "date": date}
    if backdate_billing == BackdateBilling.TODAY:
        return _(
            "Assinatura contratada. Cobrança agora: %(amount)s — o primeiro período a partir de hoje; o "
            "tempo desde %(date)s não é cobrado."
        ) % {"amount": amount, "date": date}
    return ngettext(
        "Assinatura contratada. Cobrança agora: %(amount)s — %(count)d período inteiro desde %(date)s.",
        "Assinatura contratada. Cobrança agora: %(amount)s — %(count)d períodos inteiros desde %(date)s.",
        len(drafts),
    ) % {"amount": amount, "count": len(drafts), "date": date}


class SubscriptionContractPreviewView(MerchantScopedMixin, View):
    """Nova assinatura's "Cobrança retroativa" box, redrawn by htmx as the form changes (POST: the form may
    hold a card number, which must not travel in a URL). Reads only."""

    required_action = Action.MANAGE_SUBSCRIPTIONS

    def post(self, request, *args, **kwargs):
        form = SubscriptionForm(request.POST, merchant=request.merchant, actor=request.user)
        context = contract_preview_context(form, request.merchant)
        # This box is the showing of the amounts: the "choose one" refusal belongs to a form sent without
        # it, not to the merchant still filling the form in (it read as an error beside a checked choice).
        context.pop("backdate_errors", None)
        return render(request, "subscribers/partials/contract_preview.html", context)


class SubscriptionCreateView(MerchantCreateView):
    """Planos > Assinaturas > Nova assinatura: contract a plan for one of the merchant's customers."""

    model = Subscription
    form_class = SubscriptionForm
    template_name = "subscribers/subscription_form.html"
    required_action = Action.MANAGE_SUBSCRIPTIONS
    title = _("Nova assinatura")
    success_message = _("Assinatura contratada.")

    def get_customer(self):
        return None

    def get_initial(self):
        initial = super().get_initial()
        customer = self.request.GET.get("customer", "")
        if customer.isdigit():
            initial["customer"] = int(customer)
        return initial

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(customer=self.get_customer(), actor=self.request.user)
        return kwargs

    def get_context_data(self, **kwargs):
        customer = self.get_customer()
        kwargs.setdefault("fixed_customer", customer)
        kwargs.setdefault(
            "cancel_url",
            customer.get_absolute_url() + "?tab=recorrencias"
            if customer
            else reverse("subscribers:subscription_list"),
        )
        context = super().get_context_data(**kwargs)
        context.update(contract_preview_context(context["form"], self.request.merchant))
        return context

    def perform(self, form):
        data = form.contract_fields()
        customer = self.get_customer()
        if customer is not None:
            data["customer"] = customer
        subscription = services.subscription_create(
            merchant=self.request.merchant, actor=self.request.user, **data
        )
        self.success_message = contract_charge_message(subscription, data["backdate_billing"])
        self.plan_phases = form.cleaned_data.get("plan_phases") and not subscription.is_ended
        return subscription

    def get_success_url(self):
        # "Programar fases": the schedule editor opens with the new subscription's terms as phase 1.
        if getattr(self, "plan_phases", False):
            return reverse("subscribers:subscription_schedule", args=[self.object.pk])
        return super().get_success_url()


class CustomerSubscriptionCreateView(SubscriptionCreateView, SingleObjectMixin):
    """A customer's Recorrências tab → Nova > Contratar plano: the same form with the customer fixed.

    The URL's pk is the customer, looked up inside the merchant (404 otherwise) before anything else.
    """

    model = Customer
    queryset = Customer.objects.all()
    context_object_name = "customer"

    def dispatch(self, request, *args, **kwargs):
        self.customer = None
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        self.customer = super().get_object(queryset)
        return self.customer

    def get_customer(self):
        return self.customer

    def get_initial(self):
        return {}


# --- the subscription's page -----------------------------------------------------------------------
class SubscriptionDetailView(MerchantDetailView):
    """All of a subscription's terms, the actions its status allows, and its audit timeline."""

    queryset = subscription_queryset()
    required_action = Action.VIEW

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = with_display(self.object)
        events = list(subscription.events.select_related("actor").order_by("-created_at", "-pk"))
        for event in events:
            event.changed_fields = _changed_fields(event)
            # "Cancela em …" on a scheduling (and on its undoing: the date that was taken back).
            if event.kind in (EventKind.CANCEL_SCHEDULED, EventKind.CANCEL_REVERTED):
                event.cancel_on = parse_datetime((event.data or {}).get("cancel_at") or "")
        # The buttons the status allows may still be refused by the action's own rule (no payment left to
        # refund, money already moved for a delete): asked here as the services ask, shown greyed with why.
        refusals = {
            action: services.action_refusal(subscription, action) if subscription.allowed[action] else None
            for action in (SubscriptionAction.REFUND, SubscriptionAction.DELETE)
        }
        context.update(
            title=str(subscription),
            allowed=subscription.allowed,
            refusals=refusals,
            events=events,
            cancel_requester=cancellation_requester(subscription, events),
            cancel_scheduled=subscription.cancel_at is not None and not subscription.is_ended,
            price_notice=subscription.price_notices.filter(status=PriceNoticeStatus.SCHEDULED).first(),
        )
        return context


_CANCEL_REQUEST_KINDS = (EventKind.CANCELED, EventKind.CANCEL_SCHEDULED)


def cancellation_requester(subscription: Subscription, events) -> Customer | None:
    """The customer, when the cancellation on record was their own request in the portal (no user to show
    under "Cancelada por"). Read from the timeline already loaded (newest first): the latest cancel entry
    made by someone — a scheduled cancellation carried out later is recorded again by the system, with
    nobody, and that entry is skipped."""
    if not subscription.cancel_requested_at or subscription.canceled_by_id:
        return None
    for event in events:
        if event.kind not in _CANCEL_REQUEST_KINDS:
            continue
        data = event.data or {}
        if event.actor_id or data.get("by"):
            by_customer = data.get("by") == "customer" and data.get("customer") == subscription.customer_id
            return subscription.customer if by_customer else None
    return None


def _changed_fields(event) -> list[str]:
    if event.kind == EventKind.CUSTOMER_UPDATED:
        # Its coded line says the same ("Dados do cliente alterados: …"): shown as "Alterado: …" instead.
        return timeline.changed_field_labels((event.reason_params or {}).get("fields", []))
    if event.kind != EventKind.EDITED:
        return []
    names = []
    for name in (event.data or {}).get("changes", {}):
        try:
            names.append(str(Subscription._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:  # a field renamed since the event was written
            names.append(name)
    return names


# --- edit ------------------------------------------------------------------------------------------
class SubscriptionUpdateView(_OnlyWhenAllowedMixin, MerchantUpdateView):
    """Plan, quantity, discount, salesperson, payment method; not offered once the subscription ended.
    A plan or quantity change applies now (prorated by billing) or at the next renewal, as chosen."""

    queryset = subscription_queryset()
    form_class = SubscriptionUpdateForm
    template_name = "subscribers/subscription_form.html"
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.EDIT
    title = _("Editar assinatura")
    success_message = _("Assinatura atualizada.")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("fixed_customer", self.object.customer)
        context = super().get_context_data(**kwargs)
        context.update(change_preview_context(self.object, context["form"]))
        return context

    def perform(self, form):
        subscription = services.subscription_update(
            subscription=self.object, actor=self.request.user, **form.cleaned_data
        )
        if subscription.pending_plan_id or subscription.pending_quantity:
            messages.info(
                self.request, _("A mudança de plano ou quantidade vale a partir da próxima renovação.")
            )
        return subscription


def money_preview(point, **values) -> dict | None:
    """What billing says a change does to the customer's money (its functions, behind an extension point:
    subscribers may not import billing), or None when the values cannot be previewed."""
    try:
        return point(**values)
    except ValidationError:
        return None


def change_preview_context(subscription: Subscription, form: forms.Form) -> dict:
    """The edit screen's "Valores": charged or credited now and the next invoice, for the form's values
    (bound) or the subscription's current terms."""
    if form.is_bound:
        if not form.is_valid():
            return {"money_preview": None}
        values = dict(form.cleaned_data)
    else:
        values = {
            "plan": subscription.pending_plan or subscription.plan,
            "quantity": subscription.pending_quantity or subscription.quantity,
            "apply": form.initial.get("apply") or "now",
            "discount_type": subscription.discount_type,
            "discount_percent": subscription.discount_percent,
            "discount_amount": subscription.discount_amount,
            "discount_periods": subscription.discount_periods,
        }
    return {
        "money_preview": money_preview(
            extension_points.change_money_preview, subscription=subscription, **values
        )
    }


class SubscriptionChangePreviewView(MerchantDetailView):
    """htmx: the edit screen's "Valores" for the values being edited (nothing is saved)."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    template_name = "subscribers/partials/change_preview.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SubscriptionUpdateForm(
            self.request.GET or None, merchant=self.request.merchant, instance=self.object
        )
        context.update(change_preview_context(self.object, form))
        return context


# --- cancel ----------------------------------------------------------------------------------------
def cancel_preview_context(subscription: Subscription, form: forms.Form) -> dict:
    """What the cancel screen says before confirming, for the option chosen in `form` (bound or not)."""
    if form.is_bound:
        form.is_valid()
        when = form.cleaned_data.get("when") or CancelWhen.PERIOD_END
        at_date = form.cleaned_data.get("at_date")
        if "at_date" in form.errors and when == CancelWhen.DATE:
            return {"preview_errors": form.errors["at_date"]}
    else:
        when = form.initial.get("when") or form.fields["when"].initial
        at_date = form.initial.get("at_date")
    try:
        effective_at, access_until = services.cancellation_preview(
            subscription=subscription, when=when, at_date=at_date
        )
    except ValidationError as exc:
        return {"preview_errors": exc.messages}
    credit = bool(form.is_bound and form.cleaned_data.get("credit_unused_time"))
    money = money_preview(
        extension_points.cancel_money_preview,
        subscription=subscription,
        when=when,
        credit_unused_time=credit,
        effective_at=effective_at,
    )
    if money and money["credited"]:
        access_until = effective_at  # the unused time is given back: access ends with the cancellation
    # A scheduled contract cancelled before its first day was never usable: the page says it will not
    # start instead of "poderá usar até" a day on which it had not begun.
    never_starts = subscription.status == SubscriptionStatus.SCHEDULED and effective_at <= (
        subscription.merchant.start_of_day(subscription.contract_date)
    )
    return {
        "never_starts": never_starts,
        "cancel_is_later": effective_at > timezone.now(),
        "preview_when": when,
        "effective_at": effective_at,
        "access_until": access_until,
        "money": money,
    }


class SubscriptionCancelView(_OnlyWhenAllowedMixin, MerchantUpdateView):
    """Cancel now, at the end of the period or on a date; the page says until when the customer keeps
    access before the user confirms (updated by htmx as the option changes)."""

    queryset = subscription_queryset()
    form_class = CancelForm
    template_name = "subscribers/subscription_cancel.html"
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.CANCEL
    title = _("Cancelar assinatura")
    success_message = _("Cancelamento registrado.")

    def get_initial(self):
        # ?when=…&at_date=… preselects an option (links, and the page without JavaScript).
        initial = super().get_initial()
        when = self.request.GET.get("when")
        if when in CancelWhen.values:
            initial["when"] = when
        if self.request.GET.get("at_date"):
            with contextlib.suppress(ValidationError):
                initial["at_date"] = forms.DateField().clean(self.request.GET["at_date"])
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(cancel_preview_context(self.object, context["form"]))
        return context

    def perform(self, form):
        return services.subscription_cancel(
            subscription=self.object, actor=self.request.user, **form.cleaned_data
        )


class SubscriptionCancelPreviewView(MerchantDetailView):
    """htmx: "O cliente poderá usar o serviço até …" for the option picked on the cancel screen."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    template_name = "subscribers/partials/cancel_preview.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = CancelForm(self.request.GET or None, merchant=self.request.merchant, instance=self.object)
        context.update(cancel_preview_context(self.object, form))
        return context


# --- remove, re-add, delete ------------------------------------------------------------------------
class SubscriptionRemoveView(ReturnToNextMixin, _OnlyWhenAllowedMixin, MerchantActionView):
    """Revoke access now: an immediate cancellation by the seller, without refund. Also opened as a
    modal from a row of Assinantes, which it returns to (`next`)."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.REMOVE
    template_name = "subscribers/subscription_confirm_remove.html"
    modal_template_name = "subscribers/partials/subscriber_remove_modal.html"
    title = _("Remover assinatura")
    confirm_label = _("Remover e revogar o acesso")
    confirm_class = "btn-danger"
    success_message = _("Assinatura removida. O acesso do cliente foi revogado.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or RemoveForm()
        context["question"] = _(
            "Remover a assinatura de %(customer)s ao plano “%(plan)s”? O acesso é revogado agora, "
            "a assinatura é cancelada pelo vendedor e nada é reembolsado."
        ) % {"customer": self.object.customer.name, "plan": self.object.plan.name}
        return context

    def post(self, request, *args, **kwargs):
        self.form = RemoveForm(request.POST)
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(form=self.form))
        return super().post(request, *args, **kwargs)

    def perform(self, obj):
        services.subscription_remove(
            subscription=obj, actor=self.request.user, reason=self.form.cleaned_data["reason"]
        )


class SubscriptionReaddView(ReturnToNextMixin, _OnlyWhenAllowedMixin, MerchantActionView):
    """Re-grant access to a running subscription and send the access e-mail again. Also opened as a
    modal from a row of Assinantes, which it returns to (`next`)."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.READD
    template_name = "subscribers/subscription_confirm_readd.html"
    modal_template_name = "subscribers/partials/subscriber_readd_modal.html"
    title = _("Readicionar assinatura")
    confirm_label = _("Readicionar e reenviar o acesso")
    success_message = _("Acesso liberado. O e-mail de acesso foi reenviado ao cliente.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Liberar novamente o acesso de %(customer)s ao plano “%(plan)s” e reenviar o e-mail de acesso "
            "para %(email)s?"
        ) % {
            "customer": self.object.customer.name,
            "plan": self.object.plan.name,
            "email": self.object.customer.email,
        }
        return context

    def perform(self, obj):
        services.subscription_readd(subscription=obj, actor=self.request.user)


class SubscriptionCancelRevertView(_OnlyWhenAllowedMixin, MerchantActionView):
    """Desfazer cancelamento: take back a cancellation scheduled for a later date."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.REVERT_CANCEL
    title = _("Desfazer cancelamento")
    confirm_label = _("Desfazer cancelamento")
    success_message = _("Cancelamento desfeito. A assinatura continua e será renovada normalmente.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Desfazer o cancelamento da assinatura de %(customer)s ao plano “%(plan)s”, agendado para "
            "%(date)s? A assinatura continua e volta a ser renovada no seu ciclo."
        ) % {
            "customer": self.object.customer.name,
            "plan": self.object.plan.name,
            "date": short_date(self.object.cancel_at),
        }
        return context

    def perform(self, obj):
        services.subscription_cancel_revert(subscription=obj, actor=self.request.user)


class SubscriptionDeleteView(_OnlyWhenAllowedMixin, MerchantActionView):
    """Delete for good, only within one month of the contract date; says what goes before it goes."""

    queryset = subscription_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    subscription_action = SubscriptionAction.DELETE
    template_name = "subscribers/subscription_confirm_delete.html"
    title = _("Excluir assinatura")
    confirm_label = _("Excluir permanentemente")
    confirm_class = "btn-danger"
    success_message = _("Assinatura excluída. Um registro da exclusão fica disponível para os proprietários.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = deletion_summary(self.object)
        context["confirm_blocked"] = bool(context["summary"]["blocked_reason"])
        context["question"] = _(
            "Excluir permanentemente a assinatura de %(customer)s ao plano “%(plan)s”? "
            "Esta ação não pode ser desfeita."
        ) % {"customer": self.object.customer.name, "plan": self.object.plan.name}
        return context

    def get_success_url(self):
        return reverse("subscribers:subscription_list")

    def perform(self, obj):
        services.subscription_delete(subscription=obj, actor=self.request.user)


class SubscriptionChangeCardView(_OnlyWhenAllowedMixin, MerchantActionView):
    """Alterar cartão: replace the card on file of a subscription paid by card (a past-due card fixed); the
    next retry, or "Cobrar agora" on its open invoice, charges the new card."""

    queryset = subscription_queryset()
    required_action = Action.COLLECT
    subscription_action = SubscriptionAction.CHANGE_CARD
    template_name = "subscribers/subscription_change_card.html"
    title = _("Alterar cartão")
    confirm_label = _("Salvar o novo cartão")
    success_message = _("Cartão alterado. As próximas cobranças usam o novo cartão.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or ChangeCardForm()
        context["question"] = _(
            "Trocar o cartão da assinatura de %(customer)s ao plano “%(plan)s” (hoje: %(card)s)? As próximas "
            "cobranças, inclusive as novas tentativas de uma fatura em aberto, usam o novo cartão."
        ) % {
            "customer": self.object.customer.name,
            "plan": self.object.plan.name,
            "card": (
                _("final %(last4)s") % {"last4": self.object.card_last4}
                if self.object.card_last4
                else _("cartão de teste padrão")
            ),
        }
        return context

    def post(self, request, *args, **kwargs):
        self.form = ChangeCardForm(request.POST)
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(form=self.form))
        return super().post(request, *args, **kwargs)

    def perform(self, obj):
        services.subscription_change_card(
            subscription=obj, actor=self.request.user, card_number=self.form.cleaned_data["card_number"]
        )
