"""The project's generic views, configured per screen with a few attributes (after NetBox).

    class PlanListView(MerchantListView):
        queryset = selectors.plan_list_queryset()
        filterset_class = PlanFilterSet
        table_class = PlanTable

Writes go through `perform()`, which subclasses implement by calling one service; a
`ValidationError` raised by the service lands on the form, so nothing is half-saved and the user
sees why.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, FormView, TemplateView
from django.views.generic.detail import SingleObjectMixin
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.mixins import MerchantScopedMixin
from accounts.permissions import Action
from core.pagination import DEFAULT_PER_PAGE, BoundedPaginator


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def safe_next_url(request) -> str:
    """The `next` parameter (form first, then query string) when it is a URL on this site, else "".

    Lets an action opened from a filtered list send the user back to the same filters; anything that
    would leave the site (another host, another scheme, `//evil`) is dropped.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


class ReturnToNextMixin:
    """For a confirmation view on one object that may be opened from a list (row actions).

    Success and refusals go back to a same-site `next` when given (the object's page otherwise), the
    "Voltar" link and the form's hidden `next` come from the context, and an htmx request gets the
    `modal_template_name` fragment, drawn inside the list's Bootstrap modal. A refusal met by an htmx
    request is shown inside the modal instead of redirecting it.
    """

    modal_template_name = ""

    def get_next_url(self) -> str:
        return safe_next_url(self.request)

    def get_back_url(self) -> str:
        return self.get_next_url() or self.object.get_absolute_url()

    def get_success_url(self):
        return self.get_next_url() or super().get_success_url()

    def get_template_names(self):
        if self.modal_template_name and is_htmx(self.request):
            return [self.modal_template_name]
        return super().get_template_names()

    def refuse(self, reasons):
        """The response for an action that may not happen: `reasons` (messages) shown to the user."""
        if is_htmx(self.request):
            return render(
                self.request,
                "core/partials/refusal_modal.html",
                {"title": self.title, "reasons": list(reasons), "object": self.object},
            )
        for reason in reasons:
            messages.error(self.request, reason)
        return HttpResponseRedirect(self.get_back_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(next_url=self.get_next_url(), back_url=self.get_back_url())
        return context


class MerchantTemplateView(MerchantScopedMixin, TemplateView):
    """A page inside the current merchant that is not about one object or a list."""


class MerchantListView(MerchantScopedMixin, SingleTableMixin, FilterView):
    """Filterset + table + sorting + pagination; htmx requests get only the results partial."""

    template_name = "core/object_list.html"
    partial_template_name = "core/partials/list_results.html"
    table_pagination = {"per_page": DEFAULT_PER_PAGE}
    paginator_class = BoundedPaginator
    title = ""
    create_url_name: str | None = None
    create_action: Action | None = None
    create_label = _("Novo")
    empty_message = _("Nada por aqui ainda.")
    empty_filtered_message = _("Nenhum resultado para estes filtros.")

    def get_template_names(self):
        if is_htmx(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["merchant"] = self.request.merchant
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context.get("filter")
        context.update(
            title=self.title,
            create_url_name=self.create_url_name,
            can_create=bool(
                self.create_url_name and self.request.membership.can(self.create_action or Action.VIEW)
            ),
            create_label=self.create_label,
            is_filtered=bool(
                filterset and any(filterset.form.data.get(name) for name in filterset.form.fields)
            ),
            empty_message=self.empty_message,
            empty_filtered_message=self.empty_filtered_message,
        )
        return context


class MerchantDetailView(MerchantScopedMixin, DetailView):
    template_name_suffix = "_detail"


class _ServiceFormMixin:
    """Runs `perform(form)` (one service call) and maps its ValidationError onto the form."""

    success_message = _("Salvo.")
    title = ""

    def perform(self, form):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        return context


class MerchantCreateView(MerchantScopedMixin, _ServiceFormMixin, FormView):
    """A create form: the form is built with the merchant so its choices stay inside the tenant."""

    template_name = "core/object_form.html"
    object = None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["merchant"] = self.request.merchant
        return kwargs


class MerchantUpdateView(MerchantScopedMixin, _ServiceFormMixin, SingleObjectMixin, FormView):
    """An edit form for one object of the current merchant."""

    template_name = "core/object_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["merchant"] = self.request.merchant
        kwargs["instance"] = self.object
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs.setdefault("object", self.object)
        return super().get_context_data(**kwargs)


class MerchantActionView(MerchantScopedMixin, SingleObjectMixin, TemplateView):
    """A confirmation page (GET) and an action (POST) on one object, e.g. archive or delete."""

    template_name = "core/object_confirm.html"
    title = ""
    question = ""
    confirm_label = _("Confirmar")
    confirm_class = "btn-primary"
    success_message = ""

    def perform(self, obj):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def get_success_url(self):
        return self.object.get_absolute_url()

    def refuse(self, reasons):
        for reason in reasons:
            messages.error(self.request, reason)
        return HttpResponseRedirect(self.object.get_absolute_url())

    def post(self, request, *args, **kwargs):
        try:
            self.perform(self.object)
        except ValidationError as exc:
            return self.refuse(exc.messages)
        if self.success_message:
            messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            title=self.title,
            question=self.question,
            confirm_label=self.confirm_label,
            confirm_class=self.confirm_class,
        )
        return context
