"""Rate limits on the endpoints worth abusing, counted in Django's cache by django-ratelimit.

Each limit is a named group with a rate from settings.RATE_LIMITS (e.g. "20/10m": 20 requests per 10
minutes) and a key saying whose requests count together ("ip", "user", "post:email"…). A request over the
limit gets a 429 page in pt-BR with `Retry-After` (seconds until the window ends), and the view does not run.

    @rate_limit("password_reset", key="ip", methods=("POST",))            # a function view / as_view()
    class ExportView(MerchantScopedMixin, RateLimitMixin, View):            # a class-based view
        rate_limits = [("export", "user", ("GET",))]

Public endpoints (checkout and portal) use the "public" group keyed by IP. The counts live in the
`default` cache: with several web processes it must be shared (Redis, `REDIS_URL`), or each process counts
on its own and the real limit is multiplied by the number of processes.
"""

import functools
import math

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

from core.middleware import refusal_response


def over_limit(request, *, group: str, key, methods=None) -> int | None:
    """Counts this request in `group`; the seconds to wait when it is over the limit, else None. For a view
    that must count at a point of its own choosing (the Stripe webhook counts per connection only the
    deliveries whose signature is valid) and answer in its own format; the others use the decorator/mixin."""
    if methods and request.method not in methods:
        return None
    rate = settings.RATE_LIMITS.get(group)
    if not rate:
        return None
    # One counter per group and key: "password_reset" counts per IP and, separately, per e-mail.
    usage = get_usage(request, group=f"recorrente.{group}.{key}", key=key, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"])


def _same_site_referer(request) -> str:
    """The page the person came from, for "Voltar", when it is on this site."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return ""


def too_many_requests(request, *, retry_after: int):
    """The 429 answer: what happened and when to try again, in the person's language."""
    minutes = math.ceil(retry_after / 60)
    if retry_after < 60:
        wait = ngettext("%(count)d segundo", "%(count)d segundos", retry_after) % {"count": retry_after}
    else:
        wait = ngettext("%(count)d minuto", "%(count)d minutos", minutes) % {"count": minutes}
    response = refusal_response(
        request,
        status=429,
        heading=_("Muitas tentativas"),
        message=_("Você fez muitas solicitações em pouco tempo. Tente novamente em %(wait)s.")
        % {"wait": wait},
        back_url=_same_site_referer(request),
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(group: str, *, key: str = "ip", methods=("POST",)):
    """Decorates a view function: over the `group` limit, a 429 instead of the view."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            retry_after = over_limit(request, group=group, key=key, methods=methods)
            if retry_after is not None:
                return too_many_requests(request, retry_after=retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class RateLimitMixin:
    """For class-based views: `rate_limits = [(group, key, methods), …]`, checked in that order before the
    view runs. Put it to the right of the login and permission mixins, so their refusals come first and
    are not counted."""

    rate_limits: list[tuple[str, str, tuple[str, ...]]] = []

    def dispatch(self, request, *args, **kwargs):
        for group, key, methods in self.rate_limits:
            retry_after = over_limit(request, group=group, key=key, methods=methods)
            if retry_after is not None:
                return too_many_requests(request, retry_after=retry_after)
        return super().dispatch(request, *args, **kwargs)
