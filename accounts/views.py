from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts import selectors, services
from accounts.forms import ApiKeyForm, MerchantLogoForm, MerchantSettingsForm
from accounts.logos import CONTENT_TYPES, LOGO_DIR, NAME_RE
from accounts.middleware import SESSION_KEY
from accounts.models import ApiKey, Merchant
from accounts.permissions import Action
from core import table_config
from core.views import MerchantActionView, MerchantTemplateView, MerchantUpdateView, safe_next_url


class SwitchMerchantView(View):
    """The header switcher: only merchants the user belongs to; anything else is a 404."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.user.is_authenticated:
            raise Http404
        try:
            merchant_id = int(request.POST.get("merchant", ""))
        except ValueError as exc:
            raise Http404 from exc
        membership = selectors.pick_membership(request.memberships, merchant_id)
        if membership is None or membership.merchant_id != merchant_id:
            raise Http404
        request.session[SESSION_KEY] = membership.merchant_id
        next_url = request.POST.get("next") or reverse("dashboard:index")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("dashboard:index")
        # Another merchant's object under the same URL would be a 404: land on the dashboard instead.
        if next_url.rstrip("/").split("/")[-1].isdigit():
            next_url = reverse("dashboard:index")
        return HttpResponseRedirect(next_url)


class CurrentMerchantUpdateView(MerchantUpdateView):
    """A form on the current merchant itself (no id in the address): everyone reads, managers save."""

    model = Merchant
    required_action = Action.VIEW
    write_action = Action.MANAGE_SETTINGS

    def dispatch(self, request, *args, **kwargs):
        self.object = getattr(request, "merchant", None)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        del kwargs["merchant"]
        return kwargs


class MerchantSettingsView(CurrentMerchantUpdateView):
    """Configurações: the merchant's profile and who has access."""

    form_class = MerchantSettingsForm
    template_name = "accounts/settings.html"
    title = _("Configurações")
    success_message = _("Configurações salvas.")

    def perform(self, form):
        return services.merchant_update(merchant=self.object, **form.cleaned_data)

    def get_success_url(self):
        return reverse("accounts:settings")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The customer portal (subscribers.portal), named by its URL: accounts imports nothing above it.
        context["portal_url"] = self.request.build_absolute_uri(
            reverse("portal:login", kwargs={"slug": self.object.slug})
        )
        context["memberships"] = self.object.memberships.select_related("user").order_by(
            "role", "user__username"
        )
        return context


class TableConfigView(LoginRequiredMixin, View):
    """ "Configurar tabela": saves which columns of one list the signed-in user sees (or resets them to the
    table's default) and goes back to the list, filters and sort kept. Per user, so no merchant object is
    involved; an unknown table is a 404."""

    http_method_names = ["post"]

    def post(self, request):
        config = table_config.CONFIGURABLE_TABLES.get(request.POST.get("table", ""))
        if config is None:
            raise Http404
        columns = None if "reset" in request.POST else request.POST.getlist("columns")
        table_config.table_config_save(
            user=request.user, config=config, columns=columns, session=request.session
        )
        return HttpResponseRedirect(safe_next_url(request) or reverse("dashboard:index"))


class ApiKeyListView(MerchantTemplateView):
    """Configurações > API: the merchant's keys; owners and managers create and revoke them.

    A new key's secret is in the response to the POST that created it and nowhere else (only its hash is
    stored), so this view renders the page instead of redirecting, and tells caches not to keep it.
    """

    template_name = "accounts/api_keys.html"
    required_action = Action.VIEW
    write_action = Action.MANAGE_SETTINGS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["keys"] = selectors.api_keys(merchant=self.request.merchant)
        context.setdefault("form", ApiKeyForm())
        context["title"] = _("API")
        return context

    def post(self, request, *args, **kwargs):
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        key, secret = services.api_key_create(
            merchant=request.merchant, user=request.user, **form.cleaned_data
        )
        response = render(
            request,
            self.template_name,
            self.get_context_data(new_key=key, new_secret=secret),
        )
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(MerchantActionView):
    """Revoke an API key: requests with it are refused (401) from then on."""

    model = ApiKey
    required_action = Action.MANAGE_SETTINGS
    title = _("Revogar chave de API")
    question = _("Sistemas que usam esta chave deixam de acessar a API imediatamente. Revogar?")
    confirm_label = _("Revogar")
    confirm_class = "btn-danger"
    success_message = _("Chave revogada.")

    def perform(self, obj):
        return services.api_key_revoke(key=obj)


class MerchantLogoView(CurrentMerchantUpdateView):
    """Configurações > Logotipo: the current logo, a new file to replace it, and the way to remove it."""

    form_class = MerchantLogoForm
    template_name = "accounts/logo.html"
    title = _("Logotipo")
    success_message = _("Logotipo salvo.")

    def perform(self, form):
        return services.merchant_logo_set(merchant=self.object, upload=form.cleaned_data["logo"])

    def get_success_url(self):
        return reverse("accounts:logo")


class MerchantLogoRemoveView(MerchantActionView):
    """Removes the logo (the pages go back to the merchant's name alone)."""

    model = Merchant
    required_action = Action.MANAGE_SETTINGS
    title = _("Remover logotipo")
    question = _("Remover o logotipo? A página de pagamento, o portal e os e-mails mostram só o seu nome.")
    confirm_label = _("Remover")
    confirm_class = "btn-danger"
    success_message = _("Logotipo removido.")

    def dispatch(self, request, *args, **kwargs):
        self.object = getattr(request, "merchant", None)
        return super().dispatch(request, *args, **kwargs)

    def perform(self, obj):
        return services.merchant_logo_remove(merchant=obj)

    def get_success_url(self):
        return reverse("accounts:logo")

    def get_context_data(self, **kwargs):
        # The merchant has no page of its own (get_absolute_url): "Voltar" goes to the logo's screen.
        return super().get_context_data(back_url=self.get_success_url(), **kwargs)


def merchant_logo_file(request, name):
    """A merchant's logo from Django's storage (no login: it is shown on public pages).

    Served only while it is some merchant's current logo, by a name that is random (accounts/logos.py),
    so the address reveals nothing and cannot be walked. A name is never reused, so browsers and proxies
    may keep it for a year. The type comes from the extension the upload check chose, never from the
    file; `nosniff` and a CSP that allows nothing keep a crafted file from acting as a page."""
    if not NAME_RE.fullmatch(name):
        raise Http404("logo")
    stored = f"{LOGO_DIR}/{name}"
    if not Merchant.objects.filter(logo=stored).exists():
        raise Http404("logo")
    try:
        handle = default_storage.open(stored, "rb")
    except FileNotFoundError:
        raise Http404("logo") from None
    response = FileResponse(handle, content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-site"
    return response
