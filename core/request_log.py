"""One log line per request, with the request id that every other log line of that request carries.

The request id is the caller's X-Request-ID when it looks like one (a proxy or load balancer that already
assigned it, so its logs and ours join up), otherwise a new UUID; it is echoed on the response. The line
goes to the `recorrente.request` logger with structured fields (method, path, status, duration_ms,
merchant_id, user_id, request_id), so the JSON formatter of production (settings.LOGGING) writes one JSON
object per request.
"""

import contextvars
import logging
import re
import time
import uuid

logger = logging.getLogger("recorrente.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Passed through as given only when short and plain, so a client cannot inject lines or huge values.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record logged while a request is handled ("-" elsewhere)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def request_id_for(given: str) -> str:
    """The request's id: the caller's X-Request-ID when it looks like one, else a new one."""
    return given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex


def log_request(
    method: str, path: str, status: int, started: float, request_id: str, *, merchant_id=None, user_id=None
):
    """The one line per request (`started` from time.perf_counter()), with its structured fields."""
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "merchant_id": merchant_id,
        "user_id": user_id,
        "request_id": request_id,
    }
    logger.info("%s %s %s %.1fms", method, path, status, duration_ms, extra=fields)


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            user = getattr(request, "user", None)
            merchant = getattr(request, "merchant", None)
            log_request(
                request.method,
                request.path,
                status,
                started,
                request_id,
                merchant_id=getattr(merchant, "pk", None),
                user_id=user.pk if user is not None and user.is_authenticated else None,
            )
            request_id_var.reset(token)
