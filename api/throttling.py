"""Rate limits per API key (docs/api.md, Rate limits): DRF's throttling, counted in Django's cache.

Two budgets per key, reads (GET/HEAD/OPTIONS) and writes (the rest), so a client polling hard cannot starve
its own writes. Over a budget the answer is 429 `rate_limit_error` with `Retry-After` (seconds). Rates are
settings.API_RATE_LIMITS ("N/s|m|h|d"), read at each request so a deployment (or a test) can change them;
like the screens' limits (core/ratelimit.py) they are shared across web processes only with a shared
cache (`REDIS_URL`).
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey


class _ApiKeyThrottle(SimpleRateThrottle):
    scope = ""
    methods_counted: bool = True  # whether this throttle counts safe (True) or unsafe (False) methods

    def __init__(self):
        # The rate is read when the request arrives (not at import, as DRF's default does).
        pass

    def allow_request(self, request, view):
        if (request.method in SAFE_METHODS) != self.methods_counted:
            return True
        self.rate = settings.API_RATE_LIMITS.get(self.scope) or None
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None  # no key: the 401 comes first, nothing to count
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class ApiKeyReadThrottle(_ApiKeyThrottle):
    scope = "read"
    methods_counted = True


class ApiKeyWriteThrottle(_ApiKeyThrottle):
    scope = "write"
    methods_counted = False
