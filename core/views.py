"""The project's generic views, configured per screen with a few attributes (after NetBox).

    class PlanListView(MerchantListView):
        queryset = selectors.plan_list_queryset()
        filterset_class = PlanFilterSet
        table_class = PlanTable

Writes go through `perform()`, which subclasses implement by calling one service; a
`ValidationError` raised by the service lands on the form, so nothing is half-saved and the user
sees why.

Create forms (and the other forms that make something: refunds, chargebacks, manual payments) carry a
one-time token (`OneTimeFormMixin`, `core.idempotency`): a second submission of the same rendering —
a double click, a browser retry — creates nothing and lands on what the first one created.

Merchant scoping (`MerchantScopedMixin`) comes first in every one of them. It reads what the accounts
middleware put on the request (`request.merchant`, `request.membership`) and asks the membership
whether the role may do the view's action; the permission table itself stays in
`accounts/permissions.py`, so `core` does not import `accounts` (docs/architecture.md: apps and their
direction).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, FormView, TemplateView
from django.views.generic.detail import SingleObjectMixin
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import table_config
from core.idempotency import (
    FORM_TOKEN_FIELD,
    AlreadyDone,
    InvalidToken,
    form_scope,
    issue_form_token,
    once,
    read_form_token,
)
from core.models import IdempotencyKey
from core.pagination import DEFAULT_PER_PAGE, BoundedPaginator


# Order matters and is fixed here: sign-in, then the merchant, then the object looked up *inside that
# merchant* (another tenant's object is a 404 for every role), and only then the role check (403).
class MerchantScopedMixin(LoginRequiredMixin):
    """Requires a membership, scopes `get_queryset()` to the current merchant and checks the role."""

    # An `accounts.permissions.Action` (a str enum); viewing by default.
    required_action: str = "view"
    # Needed for POST when it differs from the page's (a viewer reads the settings, an owner saves them).
    write_action: str | None = None
    merchant_field = "merchant"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.merchant is None:
            return render(request, "accounts/no_merchant.html", status=403)
        if isinstance(self, SingleObjectMixin) and (
            self.pk_url_kwarg in kwargs or self.slug_url_kwarg in kwargs
        ):
            self.object = self.get_object()
        if not request.membership.can(self.get_required_action()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_required_action(self):
        if self.write_action is not None and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            return self.write_action
        return self.required_action

    def get_queryset(self):
        return super().get_queryset().filter(**{self.merchant_field: self.request.merchant})

    def get_object(self, queryset=None):
        # dispatch() already looked the object up to apply the 404-before-403 rule; reuse it.
        cached = getattr(self, "object", None)
        if queryset is None and cached is not None:
            return cached
        return super().get_object(queryset)


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
    create_action: str | None = None  # an accounts.permissions.Action
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

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        config = table_config.config_for(self.get_table_class())
        if config is not None:
            # "Configurar tabela": the columns this user chose to hide (or the table's default) are left out.
            self.visible_columns = table_config.visible_columns(
                user=self.request.user, config=config, session=self.request.session
            )
            hidden = [name for name, _header in config.choices() if name not in self.visible_columns]
            kwargs["exclude"] = (*kwargs.get("exclude", ()), *hidden)
        return kwargs

    def table_config_context(self) -> dict | None:
        """What the "Configurar tabela" dialog shows: every hideable column, checked when shown."""
        config = table_config.config_for(self.get_table_class())
        if config is None:
            return None
        visible = getattr(self, "visible_columns", None)
        if visible is None:
            visible = table_config.visible_columns(
                user=self.request.user, config=config, session=self.request.session
            )
        return {
            "name": config.name,
            "columns": [
                {"name": name, "header": header, "shown": name in visible}
                for name, header in config.choices()
            ],
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context.get("filter")
        context.update(
            title=self.title,
            create_url_name=self.create_url_name,
            can_create=bool(
                self.create_url_name and self.request.membership.can(self.create_action or "view")
            ),
            create_label=self.create_label,
            is_filtered=bool(
                filterset and any(filterset.form.data.get(name) for name in filterset.form.fields)
            ),
            # "Filtros (n)" on a phone, where the filters are folded.
            active_filter_count=sum(
                1 for name in (filterset.form.fields if filterset else ()) if filterset.form.data.get(name)
            ),
            empty_message=self.empty_message,
            empty_filtered_message=self.empty_filtered_message,
            table_config=self.table_config_context(),
        )
        return context


class MerchantDetailView(MerchantScopedMixin, DetailView):
    template_name_suffix = "_detail"


FORM_ALREADY_SENT = _(
    "Este formulário já tinha sido enviado: nada foi feito de novo. Este é o resultado do primeiro envio."
)
FORM_TOKEN_INVALID = _(
    "Este formulário expirou ou não pôde ser verificado. Confira os dados e envie de novo."
)


class OneTimeFormMixin:
    """A write form that must take effect once per rendering.

    The form gets a hidden signed token (merchant + user + form); `run_once(perform)` consumes it in the
    transaction of the service call. A replay (same token) redirects to what the first submission
    produced, with a message, instead of doing it again. A POST without a token (a script, an old test
    client) is not protected but still works, like an API call without `Idempotency-Key`; a token that
    is forged, expired or issued to someone else is refused.
    """

    one_time_form = True

    def dispatch(self, request, *args, **kwargs):
        # After the permission checks (MerchantScopedMixin comes first): a replay is answered before the
        # view re-checks its own rules, which would otherwise refuse it ("already charged back").
        # Only a fast path: the insert in `run_once` is what decides between concurrent requests.
        if request.method == "POST" and self.one_time_form and self.posted_form_token():
            record = self._used_token_record()
            if record is not None:
                return self.replayed(record)
        return super().dispatch(request, *args, **kwargs)

    def _used_token_record(self):
        try:
            key = read_form_token(
                self.posted_form_token(),
                merchant=self.request.merchant,
                user=self.request.user,
                kind=self.form_token_kind(),
            )
        except InvalidToken:
            return None
        return IdempotencyKey.objects.filter(
            merchant=self.request.merchant, scope=form_scope(self.form_token_kind()), key=key
        ).first()

    def form_token_kind(self) -> str:
        return self.request.resolver_match.view_name

    def new_form_token(self) -> str:
        return issue_form_token(
            merchant=self.request.merchant, user=self.request.user, kind=self.form_token_kind()
        )

    def posted_form_token(self) -> str:
        return self.request.POST.get(FORM_TOKEN_FIELD, "")

    def run_once(self, perform, *, result_url=None):
        """`perform()` inside the token's transaction; returns its result, or an HttpResponseRedirect
        when the token was already used. Raises InvalidToken for a token that is not ours."""
        token = self.posted_form_token() if self.one_time_form else ""
        if not token:
            return perform()
        key = read_form_token(
            token, merchant=self.request.merchant, user=self.request.user, kind=self.form_token_kind()
        )
        try:
            with once(
                merchant=self.request.merchant,
                scope=form_scope(self.form_token_kind()),
                key=key,
                user=self.request.user,
            ) as use:
                use.result = perform()
                if use.result is not None and hasattr(use.result, "pk"):
                    self.object = use.result
                use.result_url = result_url() if result_url else ""
                return use.result
        except AlreadyDone as done:
            return self.replayed(done.record)

    def replayed(self, record):
        messages.info(self.request, FORM_ALREADY_SENT)
        url = (record.result_url if record is not None else "") or self.request.path
        return HttpResponseRedirect(url)


class _ServiceFormMixin(OneTimeFormMixin):
    """Runs `perform(form)` (one service call) and maps its ValidationError onto the form."""

    success_message = _("Salvo.")
    title = ""
    one_time_form = False

    def perform(self, form):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.one_time_form:
            form.fields[FORM_TOKEN_FIELD] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=self.new_form_token()
            )
        return form

    def form_valid(self, form):
        # The token is the view's business (read from the POST); the services get the form's own fields.
        form.cleaned_data.pop(FORM_TOKEN_FIELD, None)
        try:
            result = self.run_once(lambda: self.perform(form), result_url=self.get_success_url)
        except InvalidToken:
            form.add_error(None, FORM_TOKEN_INVALID)
            return self.form_invalid(self._with_new_token(form))
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if isinstance(result, HttpResponseRedirect):
            return result
        self.object = result
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())

    def _with_new_token(self, form):
        form.data = form.data.copy()
        form.data[form.add_prefix(FORM_TOKEN_FIELD)] = self.new_form_token()
        return form

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
    one_time_form = True

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


class MerchantActionView(MerchantScopedMixin, OneTimeFormMixin, SingleObjectMixin, TemplateView):
    """A confirmation page (GET) and an action (POST) on one object, e.g. archive or delete."""

    template_name = "core/object_confirm.html"
    title = ""
    question = ""
    confirm_label = _("Confirmar")
    confirm_class = "btn-primary"
    success_message = ""
    # Actions that make something (a manual payment) set this and render `form_token` in their form.
    one_time_form = False

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
            result = self.run_once(lambda: self.perform(self.object), result_url=self.get_success_url)
        except InvalidToken:
            messages.error(request, FORM_TOKEN_INVALID)
            return HttpResponseRedirect(request.path)
        except ValidationError as exc:
            return self.refuse(exc.messages)
        if isinstance(result, HttpResponseRedirect):
            return result
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
        if self.one_time_form:
            context["form_token"] = self.new_form_token()
        return context
