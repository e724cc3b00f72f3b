"""A WSGI handler that serves a few URLs through a short middleware list and a small URLconf, and hands every
other request to the full Django handler.

Built for Stripe's webhook (config/wsgi.py): a delivery needs no session, user, merchant, locale, CSRF,
CSP or static files, yet the full stack and the full URLconf cost more CPU than the endpoint's own work
(bench/README.md, "Stripe webhook ingest"). Everything else is Django's own WSGIHandler: the request
signals (so CONN_MAX_AGE and the connection health checks behave as for any request), WSGIRequest,
exception-to-response conversion, `django.request` logging of 4xx/5xx, ATOMIC_REQUESTS. The views are the
same view objects the full URLconf routes to (a test checks both URLconfs agree).

The middleware list must hold only middleware without process_view / process_exception /
process_template_response hooks (the ones the lean list needs have none); it is checked at start-up.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, get_path_info
from django.urls import Resolver404, get_resolver, set_urlconf
from django.utils.module_loading import import_string

_MATCH = "recorrente.lean_wsgi.match"
_HOOKS = ("process_view", "process_exception", "process_template_response")


class LeanWSGIHandler(WSGIHandler):
    """Serves the paths `urlconf` resolves through `middleware` (dotted paths, outermost first); passes
    every other request to `fallback` (the full Django WSGI application)."""

    def __init__(self, *, urlconf: str, middleware: list[str], fallback):
        self.urlconf = urlconf
        self.middleware = list(middleware)
        self.fallback = fallback
        super().__init__()

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(self.middleware):
            instance = import_string(path)(handler)
            if hooks := [hook for hook in _HOOKS if hasattr(instance, hook)]:
                raise ImproperlyConfigured(f"{path} has {', '.join(hooks)}: not supported by LeanWSGIHandler")
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def match(self, path_info: str):
        """The small URLconf's match for `path_info`, or None (the request goes to the full handler)."""
        try:
            return get_resolver(self.urlconf).resolve(path_info)
        except Resolver404:
            return None

    def __call__(self, environ, start_response):
        match = self.match(get_path_info(environ))
        if match is None:
            return self.fallback(environ, start_response)
        environ[_MATCH] = match
        return super().__call__(environ, start_response)

    def get_response(self, request):
        request.urlconf = self.urlconf  # the error handlers (and reverse) use the small URLconf
        return super().get_response(request)

    def resolve_request(self, request):
        # Resolved once already, to choose this handler.
        set_urlconf(self.urlconf)
        request.resolver_match = request.META.pop(_MATCH)
        return request.resolver_match
