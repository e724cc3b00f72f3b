"""The public checkout page (no login): /c/<slug>/. Thin views over billing/checkout/services.py.

Every answer for a link that is unknown, switched off, expired, full or whose plan is no longer sold is
the same 404, so the URL space says nothing about merchants or links. The page never says whether an
e-mail or CPF/CNPJ already belongs to a customer: the answer is the same either way."""

import base64
import io

import segno
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import ensure_csrf_cookie

from billing.checkout import services
from billing.checkout.forms import CheckoutForm
from billing.choices import PaymentStatus
from billing.gateways import payment_codes
from billing.models import Payment
from core.idempotency import AlreadyDone, InvalidToken, issue_form_token
from core.ratelimit import RateLimitMixin
from core.views import is_htmx
from plans.models import CheckoutLink
from plans.services import checkout_link_count
from subscribers.choices import SubscriptionStatus

LINK_KEY = "billing.checkout.views.link_key"
# How often the order page asks whether a boleto/pix was paid.
POLL_SECONDS = 3


def link_key(group, request) -> str:
    """django-ratelimit key: the link's slug, so one link's submissions are limited across all IPs."""
    return (request.resolver_match.kwargs.get("slug") or "")[:40]


def open_link(slug: str, *, now) -> CheckoutLink:
    """The link for `slug` when its page is open, else 404 (whatever the reason).

    One query by the unique slug, with what the page needs beside it: the merchant and its billing
    settings (the first-charge preview reads them: `BillingSettings.for_merchant` finds them already
    joined, or none), the plan with its current price version (the subscription drafted for the preview
    points at it) and the coupon. No ORDER BY: the slug is unique."""
    try:
        link = CheckoutLink.objects.select_related(
            "merchant", "merchant__billing_settings", "plan", "plan__current_price", "coupon"
        ).get(slug=slug)
    except CheckoutLink.DoesNotExist:
        raise Http404("checkout link") from None
    if link.public_refusal(now=now):
        raise Http404("checkout link")
    return link


def _plan_context(link: CheckoutLink, *, coupon, now) -> dict:
    try:
        total = services.first_charge_total(link=link, coupon=coupon, now=now)
    except ValidationError:
        total = None
    return {
        "link": link,
        "merchant": link.merchant,
        "plan": link.plan,
        "coupon": coupon,
        "first_total": total,
    }


@method_decorator(ensure_csrf_cookie, name="get")
class CheckoutPageView(RateLimitMixin, View):
    template_name = "billing/checkout/page.html"
    rate_limits = [
        ("public", "ip", ("GET",)),
        ("checkout", "ip", ("POST",)),
        ("checkout_link", LINK_KEY, ("POST",)),
    ]

    def get(self, request, slug):
        now = timezone.now()
        link = open_link(slug, now=now)
        checkout_link_count(link_id=link.pk, counter="visits")
        form = CheckoutForm(link=link, initial={"form_token": self._new_token(link)})
        return self._render(form, link, now=now)

    def post(self, request, slug):
        now = timezone.now()
        link = open_link(slug, now=now)
        form = CheckoutForm(request.POST, link=link)
        if form.is_bot:
            # Looks like any refusal, and nothing is counted or written.
            form.is_valid()
            form.add_error(None, _("Não foi possível concluir. Confira os dados e tente de novo."))
            return self._render(form, link, now=now, status=400)
        if not form.is_valid():
            return self._render(form, link, now=now)
        checkout_link_count(link_id=link.pk, counter="started")
        try:
            subscription = services.checkout_subscribe(
                link=link, form_token=form.cleaned_data["form_token"], now=now, **form.subscribe_fields()
            )
        except InvalidToken:
            form = self._with_new_token(form, link)
            form.add_error(None, _("A página ficou aberta tempo demais. Confira os dados e envie de novo."))
            return self._render(form, link, now=now)
        except AlreadyDone as done:
            # A double click, a reload or "back": the first submission's page, nothing done again.
            if done.record is not None and done.record.result_url:
                return HttpResponseRedirect(done.record.result_url)
            raise Http404("checkout replay") from None
        except ValidationError as exc:
            _add_errors(form, exc)
            return self._render(form, link, now=now)
        return HttpResponseRedirect(services.status_path(link=link, subscription=subscription))

    def _new_token(self, link) -> str:
        return issue_form_token(merchant=link.merchant, user=None, kind=services.form_kind(link))

    def _with_new_token(self, form, link):
        form.data = form.data.copy()
        form.data["form_token"] = self._new_token(link)
        return form

    def _render(self, form, link, *, now, status=200):
        context = _plan_context(link, coupon=link.coupon, now=now)
        context["form"] = form
        return render(self.request, self.template_name, context, status=status)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class CheckoutCouponView(RateLimitMixin, View):
    """The coupon field, checked live (htmx): the coupon's verdict and the first charge with it."""

    rate_limits = [("checkout_coupon", "ip", ("GET",))]

    def get(self, request, slug):
        now = timezone.now()
        link = open_link(slug, now=now)
        context = {"link": link, "plan": link.plan}
        try:
            coupon = services.coupon_for_code(link=link, code=request.GET.get("coupon_code", ""), now=now)
        except ValidationError as exc:
            context["coupon_error"] = exc.message_dict["coupon_code"][0]
            coupon = None
        context.update(_plan_context(link, coupon=coupon, now=now))
        return render(request, "billing/checkout/partials/summary.html", context)


class CheckoutStatusView(RateLimitMixin, View):
    """The sign-up's own page (signed address): confirmed, or the boleto line / pix code and its QR while
    it waits, asking every few seconds (htmx) until the payment settles."""

    rate_limits = [("public", "ip", ("GET",))]

    def get(self, request, slug, token):
        link = CheckoutLink.objects.select_related("merchant", "plan").filter(slug=slug).first()
        subscription = services.subscription_for_status_token(link=link, token=token) if link else None
        if subscription is None:
            raise Http404("checkout status")
        context = {
            "link": link,
            "merchant": link.merchant,
            "subscription": subscription,
            "poll": POLL_SECONDS,
        }
        done = subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
        context["done"] = done
        context["waiting"] = subscription.status == SubscriptionStatus.PENDING
        if done and link.success_url:
            separator = "&" if "?" in link.success_url else "?"
            context["next_url"] = (
                link.success_url + separator + urlencode({"subscription_id": subscription.pk})
            )
        if context["waiting"]:
            context.update(_awaiting(subscription))
        if is_htmx(request):
            response = render(request, "billing/checkout/partials/status.html", context)
            if done and context.get("next_url"):
                response["HX-Redirect"] = context["next_url"]
            return response
        return render(request, "billing/checkout/status.html", context)


def _awaiting(subscription) -> dict:
    payment = (
        Payment.objects.filter(invoice__subscription=subscription, status=PaymentStatus.PENDING)
        .order_by("-pk")
        .first()
    )
    if payment is None:
        return {}
    codes = payment_codes(payment)
    qr = ""
    if codes["pix_code"]:
        buffer = io.BytesIO()
        segno.make(codes["pix_code"], error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
        qr = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"payment": payment, "pix_qr": qr, **codes}


class CheckoutThemeView(View):
    """The link's colour as a stylesheet: the page allows no inline styles (Content-Security-Policy)."""

    def get(self, request, slug):
        link = open_link(slug, now=timezone.now())
        color = link.brand_color or "#0d6efd"
        css = f":root {{ --checkout-brand: {color}; }}\n"
        response = HttpResponse(css, content_type="text/css; charset=utf-8")
        response["Cache-Control"] = "public, max-age=300"
        return response
