"""Walks the project's URLconf so generic tests can cover every URL pattern, including future ones."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# URL names (namespace:name) that are not merchant screens: sign-in, password reset, language switch,
# signed callbacks.
# Django admin is staff-only and tested on its own. Anything not listed here is walked.
PUBLIC_URL_NAMES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    # The sandbox's signed callback: no session, authenticated by its HMAC (see test_sandbox_callback.py).
    "billing:sandbox_callback",
    # The public checkout page of a checkout link: no session, addressed by an unguessable slug (and the
    # order page by a signed token); unknown, closed and foreign addresses are 404
    # (tests/billing/test_checkout_views.py).
    "checkout:page",
    "checkout:coupon",
    "checkout:theme",
    "checkout:status",
    # Stripe's webhooks: no session, found by the connection's token and authenticated by Stripe-Signature
    # (tests/billing/test_stripe_webhooks.py, including another merchant's token and secret).
    "billing:stripe_webhook",
    # Health check: no session, no tenant data (database up, live worker counts); see tests/test_health.py.
    "healthz",
    # Merchant logos (public pages show them): no session, served only by a random name that is some
    # merchant's current logo (tests/accounts/test_merchant_logo.py).
    "merchant_logo",
    # A redirect to the static icon: no session, no tenant data (tests/core/test_error_pages.py).
    "favicon",
}
SKIPPED_NAMESPACES = {"admin"}
# Minha assinatura (subscribers/portal/): the customers' pages, no team sign-in. Walked apart, with a portal
# session as the actor (portal_routes(), tests/subscribers/portal/test_portal_isolation.py).
PORTAL_NAMESPACE = "portal"
# The REST API (api/): no session, a merchant's API key. Walked apart with a key (api_routes(),
# tests/api/test_api_isolation.py).
API_NAMESPACE = "api"


@dataclass
class Route:
    name: str
    route: str
    view_class: type | None
    kwargs: list[str]

    @property
    def model(self):
        view = self.view_class
        if view is None:
            return None
        model = getattr(view, "model", None)
        if model is None and getattr(view, "queryset", None) is not None:
            model = view.queryset.model
        return model

    def url_kwargs(self, obj) -> dict:
        """The URL's kwargs for one of `obj`'s merchant's objects: its pk, unless the view addresses its
        objects another way (`url_kwargs_for`, e.g. an e-mail template by its kind within the merchant)."""
        build = getattr(self.view_class, "url_kwargs_for", None)
        return build(obj) if build else {kwarg: obj.pk for kwarg in self.kwargs}


def iter_routes(
    resolver=None, prefix="", namespace="", skipped=SKIPPED_NAMESPACES | {PORTAL_NAMESPACE, API_NAMESPACE}
):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            if ns in skipped:
                continue
            yield from iter_routes(entry, prefix + str(entry.pattern), full_ns, skipped)
        elif isinstance(entry, URLPattern):
            if not entry.name:
                continue
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            if name in PUBLIC_URL_NAMES:
                continue
            route = prefix + str(entry.pattern)
            yield Route(
                name=name,
                route=route,
                view_class=getattr(entry.callback, "view_class", None),
                kwargs=re.findall(r"<(?:\w+:)?(\w+)>", route),
            )


def merchant_routes():
    return sorted(iter_routes(), key=lambda r: r.name)


def portal_routes():
    """Every route of the customer portal (namespace `portal`), however many are added later."""
    routes = iter_routes(skipped=SKIPPED_NAMESPACES)
    return sorted((r for r in routes if r.name.startswith(f"{PORTAL_NAMESPACE}:")), key=lambda r: r.name)


def api_routes():
    """Every route of the REST API (namespace `api`), however many are added later."""
    routes = iter_routes(skipped=SKIPPED_NAMESPACES)
    return sorted((r for r in routes if r.name.startswith(f"{API_NAMESPACE}:")), key=lambda r: r.name)
