"""Minha assinatura: the customer's own pages, opened by a magic link (docs/portal.md).

No team sign-in here and no merchant data: every view finds the merchant by its slug and the customer from
the portal session (`session.py`), and looks objects up *inside that customer* — another customer's or
another merchant's subscription or invoice is a 404. Each write is one call into `portal/services.py`.
Responses are rendered at once (not lazily) inside the merchant's time zone.
"""

import base64
import copy
import io

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Merchant
from core.ratelimit import RateLimitMixin
from subscribers import extension_points
from subscribers.actors import CustomerActor
from subscribers.choices import SubscriptionAction, SubscriptionStatus
from subscribers.portal import selectors, services
from subscribers.portal.forms import (
    ChangeCardForm,
    PortalCancelForm,
    PortalDetailsForm,
    PortalEmailForm,
    PortalPauseForm,
    PortalPaymentMethodForm,
    PortalPlanForm,
)
from subscribers.portal.session import portal_customer, portal_login, portal_logout
from subscribers.portal.tokens import InvalidMagicLink, check_magic_token, redeem_magic_token
from subscribers.services.changes import kept_discount
from subscribers.services.ending import cancellation_preview


class PortalView(RateLimitMixin, View):
    """The merchant by slug, the session's customer (sign-in page otherwise), the merchant's clock."""

    login_required = True
    # What the URL's `pk` names, for the isolation walk over portal URLs (tests/urlwalk.py).
    portal_object = None
    # Public pages: every write counts per IP; the expensive reads (PDF) too.
    rate_limits = [("public", "ip", ("POST",))]

    def dispatch(self, request, *args, **kwargs):
        self.merchant = get_object_or_404(Merchant, slug=kwargs.pop("slug"))
        self.customer = portal_customer(request, self.merchant)
        if self.login_required and self.customer is None:
            return redirect("portal:login", slug=self.merchant.slug)
        with timezone.override(self.merchant.tzinfo):
            response = super().dispatch(request, *args, **kwargs)
        # A customer's invoices and subscriptions: never kept by a shared cache or the browser's history.
        add_never_cache_headers(response)
        return response

    def render(self, template, context=None, status=200):
        base = {"merchant": self.merchant, "customer": self.customer, "slug": self.merchant.slug}
        return render(self.request, template, {**base, **(context or {})}, status=status)

    def home(self):
        return redirect("portal:home", slug=self.merchant.slug)


class SubscriptionPortalView(PortalView):
    """A page about one of the customer's subscriptions: anybody else's is a 404."""

    portal_object = "subscription"

    def get_subscription(self, pk):
        subscription = selectors.customer_subscription(self.customer, pk)
        if subscription is None:
            raise Http404
        return subscription


# --- entering --------------------------------------------------------------------------------------
class PortalLoginView(PortalView):
    """Asks for the e-mail and sends the link; the answer is the same whether or not it is a customer's."""

    login_required = False
    rate_limits = [
        ("public", "ip", ("POST",)),
        ("portal_link", "ip", ("POST",)),
        ("portal_link", "post:email", ("POST",)),
    ]

    def get(self, request):
        return self.render("portal/login.html", {"form": PortalEmailForm()})

    def post(self, request):
        form = PortalEmailForm(request.POST)
        if not form.is_valid():
            return self.render("portal/login.html", {"form": form})

        def link_for(token):
            return request.build_absolute_uri(
                reverse("portal:enter", kwargs={"slug": self.merchant.slug, "token": token})
            )

        services.portal_link_request(
            merchant=self.merchant, email=form.cleaned_data["email"], link_for=link_for
        )
        return self.render("portal/login.html", {"form": PortalEmailForm(), "sent": True})


class PortalEnterView(PortalView):
    """The magic link: GET asks to confirm (mail scanners that open links must not use it up), POST uses
    it once and opens the portal session."""

    login_required = False
    rate_limits = [("public", "ip", ("GET", "POST"))]

    def get(self, request, token):
        try:
            check_magic_token(token, merchant=self.merchant)
        except InvalidMagicLink:
            return self.refused()
        return self.render("portal/enter.html")

    def post(self, request, token):
        try:
            customer = redeem_magic_token(token, merchant=self.merchant)
        except InvalidMagicLink:
            return self.refused()
        portal_login(request, customer)
        return self.home()

    def refused(self):
        return self.render("portal/link_refused.html", {"form": PortalEmailForm()}, status=410)


class PortalLogoutView(PortalView):
    login_required = False
    http_method_names = ["post"]

    def post(self, request):
        portal_logout(request)
        return redirect("portal:login", slug=self.merchant.slug)


# --- reading ---------------------------------------------------------------------------------------
class PortalHomeView(PortalView):
    """Minha assinatura: the subscriptions and the invoices."""

    def get(self, request):
        subscriptions = list(selectors.customer_subscriptions(self.customer))
        may_pause = services.customers_may_pause(self.merchant)
        for subscription in subscriptions:
            subscription.portal_may_pause = may_pause and subscription.can(SubscriptionAction.PAUSE)
            subscription.portal_may_resume = may_pause and _resumable(subscription)
        invoices = extension_points.customer_invoices(customer=self.customer)
        return self.render(
            "portal/home.html",
            {"subscriptions": subscriptions, "invoices": invoices, "reissuable_methods": ("boleto", "pix")},
        )


class PortalInvoicePdfView(PortalView):
    portal_object = "invoice"
    rate_limits = [("public", "ip", ("GET",))]

    def get(self, request, pk):
        filename, pdf = extension_points.customer_invoice_pdf(customer=self.customer, invoice_id=pk)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- acting ----------------------------------------------------------------------------------------
class PortalDetailsView(PortalView):
    """Meus dados: e-mail, phone and address editable, name and CPF/CNPJ shown. Always the session's own
    customer (no id in the URL, none read from the form)."""

    def form(self, data=None):
        # A copy: a ModelForm writes what was typed onto its instance, and the page frame shows the
        # session's customer, which must keep the saved values when the form is refused.
        return PortalDetailsForm(data, instance=copy.copy(self.customer), merchant=self.merchant)

    def get(self, request):
        return self.render("portal/details.html", {"form": self.form()})

    def post(self, request):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                services.portal_update_details(customer=self.customer, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Dados atualizados."))
                return self.home()
        return self.render("portal/details.html", {"form": form}, status=400)


class PortalCancelView(SubscriptionPortalView):
    """Cancelar: reason list + free text, then the cancellation; the retention offer only afterwards."""

    def context(self, subscription, form):
        now = timezone.now()
        withdrawal = services.withdrawal_window_open(subscription, now=now)
        at_period_end = self.merchant.portal_cancel_at_period_end and not withdrawal
        _effective, access_until = cancellation_preview(
            subscription=subscription, when="period_end" if at_period_end else "now", now=now
        )
        return {
            "subscription": subscription,
            "form": form,
            "withdrawal": withdrawal,
            "at_period_end": at_period_end,
            "access_until": access_until,
            "allowed": subscription.can(SubscriptionAction.CANCEL),
        }

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return self.render("portal/cancel.html", self.context(subscription, PortalCancelForm()))

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = PortalCancelForm(request.POST)
        if form.is_valid():
            # The merchant's one-click offer comes only now, after the request, and the request is
            # recorded before it is shown (services.portal_cancel, hold_for_offer).
            offer = services.retention_offer(subscription)
            try:
                result = services.portal_cancel(
                    subscription=subscription,
                    customer=self.customer,
                    reason_params=form.reason_params(),
                    hold_for_offer=offer is not None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if result.refund_error:
                    messages.warning(request, result.refund_error)
                if offer is not None:
                    context = {"subscription": result.subscription, "form": form, "offer": offer}
                    return self.render("portal/retention.html", context)
                return redirect("portal:cancel_done", slug=self.merchant.slug, pk=subscription.pk)
        return self.render("portal/cancel.html", self.context(subscription, form), status=400)


class PortalCancelDoneView(SubscriptionPortalView):
    """After the request, and only then: what happens now and the merchant's retention offer."""

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        if not subscription.cancel_requested_at:
            return self.home()
        return self.render(
            "portal/cancel_done.html",
            {
                "subscription": subscription,
                "refunded": subscription.status == SubscriptionStatus.REFUNDED,
                "offer": self.merchant.portal_retention_offer,
            },
        )


class PortalChangePlanView(SubscriptionPortalView):
    """Trocar de plano, with the edit screen's money preview (billing's, through the extension point)."""

    def context(self, subscription, form):
        return {"subscription": subscription, "form": form, **self.preview(subscription, form)}

    def preview(self, subscription, form):
        plan = None
        if form.is_bound:
            if form.is_valid():
                plan = form.cleaned_data["plan"]
        else:
            plan = subscription.pending_plan or subscription.plan
        if plan is None:
            return {"money_preview": None}
        try:
            money = extension_points.change_money_preview(
                subscription=subscription,
                plan=plan,
                quantity=subscription.quantity,
                apply="now",
                **kept_discount(subscription),
            )
        except ValidationError:
            money = None
        return {"money_preview": money}

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        form = PortalPlanForm(request.GET or None, subscription=subscription)
        return self.render("portal/change_plan.html", self.context(subscription, form))

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = PortalPlanForm(request.POST, subscription=subscription)
        if form.is_valid():
            try:
                services.portal_change_plan(
                    subscription=subscription, customer=self.customer, plan=form.cleaned_data["plan"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Plano alterado."))
                return self.home()
        return self.render("portal/change_plan.html", self.context(subscription, form), status=400)


class PortalChangePlanPreviewView(PortalChangePlanView):
    """htmx: the "Valores" box for the plan being chosen (nothing is saved)."""

    http_method_names = ["get"]

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        form = PortalPlanForm(request.GET or None, subscription=subscription)
        return self.render("subscribers/partials/change_preview.html", self.preview(subscription, form))


class PortalChangeCardView(SubscriptionPortalView):
    """Trocar cartão (sandbox: a test card number; a real provider collects it on its hosted fields)."""

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return self.render(
            "portal/change_card.html", {"subscription": subscription, "form": ChangeCardForm()}
        )

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = ChangeCardForm(request.POST)
        if form.is_valid():
            try:
                services.portal_change_card(
                    subscription=subscription,
                    customer=self.customer,
                    card_number=form.cleaned_data["card_number"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Cartão alterado."))
                return self.home()
        return self.render(
            "portal/change_card.html", {"subscription": subscription, "form": form}, status=400
        )


def _resumable(subscription) -> bool:
    """Paused, or with a pause scheduled that has not started yet (then "Retomar" takes it back)."""
    if subscription.can(SubscriptionAction.RESUME):
        return True
    return subscription.pause_at is not None and subscription.status != SubscriptionStatus.PAUSED


class _PausePortalView(SubscriptionPortalView):
    """Pages that exist only where the merchant lets customers pause (Configurações > Cobrança); elsewhere
    they are not found, like any page the portal does not offer."""

    def get_subscription(self, pk):
        subscription = super().get_subscription(pk)
        if not services.customers_may_pause(self.merchant):
            raise Http404
        return subscription


class PortalPauseView(_PausePortalView):
    """Pausar: now or at the end of the paid period, each option showing until when access runs."""

    def context(self, subscription, form):
        return {
            "subscription": subscription,
            "form": form,
            "allowed": subscription.can(SubscriptionAction.PAUSE),
        }

    def form(self, subscription, data=None):
        return PortalPauseForm(data, options=services.portal_pause_options(subscription))

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return self.render("portal/pause.html", self.context(subscription, self.form(subscription)))

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = self.form(subscription, request.POST)
        if form.is_valid():
            try:
                subscription = services.portal_pause(
                    subscription=subscription, customer=self.customer, when=form.cleaned_data["when"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if subscription.status == SubscriptionStatus.PAUSED:
                    messages.success(request, _("Assinatura pausada. Para voltar, use “Retomar”."))
                else:
                    messages.success(
                        request,
                        _("Pausa agendada para %(date)s.")
                        % {"date": formats.date_format(subscription.pause_at, "SHORT_DATE_FORMAT")},
                    )
                return self.home()
        return self.render("portal/pause.html", self.context(subscription, form), status=400)


class PortalResumeView(_PausePortalView):
    """Retomar: resumes now, continuing the cycle, with what it charges shown first (billing's preview);
    a pause not started yet is taken back."""

    def context(self, subscription, error=None):
        context = {"subscription": subscription, "allowed": _resumable(subscription), "error": error}
        if subscription.status == SubscriptionStatus.PAUSED:
            try:
                context["preview"] = extension_points.resume_money_preview(
                    subscription=subscription, mode=services.PORTAL_RESUME_MODE, at=timezone.now()
                )
            except ValidationError as exc:
                context["preview_errors"] = exc.messages
        return context

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return self.render("portal/resume.html", self.context(subscription))

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        was_paused = subscription.status == SubscriptionStatus.PAUSED
        try:
            services.portal_resume(subscription=subscription, customer=self.customer)
        except ValidationError as exc:
            return self.render("portal/resume.html", self.context(subscription, exc.messages), status=400)
        messages.success(request, _("Assinatura retomada.") if was_paused else _("Pausa agendada desfeita."))
        return self.home()


class PortalPaymentMethodView(SubscriptionPortalView):
    """Trocar forma de pagamento (card ↔ boleto ↔ pix), from the next invoice on."""

    def context(self, subscription, form):
        return {
            "subscription": subscription,
            "form": form,
            "allowed": subscription.can(SubscriptionAction.EDIT),
        }

    def form(self, subscription, data=None):
        return PortalPaymentMethodForm(data, methods=services.portal_payment_methods(subscription))

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return self.render("portal/payment_method.html", self.context(subscription, self.form(subscription)))

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = self.form(subscription, request.POST)
        if form.is_valid():
            try:
                services.portal_change_payment_method(
                    subscription=subscription,
                    customer=self.customer,
                    payment_method=form.cleaned_data["payment_method"],
                    card_number=form.cleaned_data["card_number"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Forma de pagamento alterada; vale a partir da próxima fatura."))
                return self.home()
        return self.render("portal/payment_method.html", self.context(subscription, form), status=400)


def pix_qr_data_uri(code: str) -> str:
    """The pix copia-e-cola as a QR code, drawn on the server (no script, no third party)."""
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


class PortalChargeView(PortalView):
    """Pagar: an open invoice's boleto line or pix copia-e-cola (with its QR), and the *2ª via* when it
    lapsed or lapses soon (billing's `customer_charge_reissue`: the old one withdrawn, one new one even on a
    double click)."""

    portal_object = "invoice"

    def charge(self, pk):
        for charge in extension_points.customer_open_charges(customer=self.customer):
            if charge["invoice"].pk == pk:
                return charge
        raise Http404

    def get(self, request, pk):
        charge = self.charge(pk)
        qr = pix_qr_data_uri(charge["pix_code"]) if charge["pix_code"] else ""
        return self.render("portal/charge.html", {"charge": charge, "pix_qr": qr})

    def post(self, request, pk):
        charge = self.charge(pk)
        try:
            replaces = int(request.POST.get("replaces") or 0)
        except ValueError:
            replaces = -1
        try:
            extension_points.customer_charge_reissue(
                customer=self.customer,
                invoice_id=charge["invoice"].pk,
                replaces=replaces,
                actor=CustomerActor(customer_id=self.customer.pk),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("2ª via gerada. Use o novo código abaixo; o anterior foi cancelado."))
        return redirect("portal:charge", slug=self.merchant.slug, pk=pk)


class PortalRetentionView(SubscriptionPortalView):
    """Aceitar a oferta de retenção: one click after the cancellation request keeps the subscription with
    the merchant's coupon (the edit service: timeline and `subscription.updated`)."""

    def get(self, request, pk):
        subscription = self.get_subscription(pk)
        return redirect("portal:cancel", slug=self.merchant.slug, pk=subscription.pk)

    def post(self, request, pk):
        subscription = self.get_subscription(pk)
        form = PortalCancelForm(request.POST)
        if not form.is_valid():
            return redirect("portal:cancel", slug=self.merchant.slug, pk=subscription.pk)
        try:
            services.portal_accept_retention(
                subscription=subscription, customer=self.customer, reason_params=form.reason_params()
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("portal:cancel", slug=self.merchant.slug, pk=subscription.pk)
        messages.success(
            request, _("Oferta aceita: sua assinatura continua, com o desconto a partir da próxima fatura.")
        )
        return self.home()
