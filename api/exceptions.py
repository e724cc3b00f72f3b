"""One error object for every API error (docs/api.md, Errors):

    {"error": {"type": "...", "code": "...", "message": "...", "fields": {"field": ["..."]}}}

`message` is in the request's language (Accept-Language: pt-BR by default, or en), `code` is stable for
programs, `fields` only on validation errors.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.serializers import ADDRESS_KEYS

ERROR_TYPES = {
    status.HTTP_400_BAD_REQUEST: "invalid_request_error",
    status.HTTP_401_UNAUTHORIZED: "authentication_error",
    status.HTTP_403_FORBIDDEN: "permission_error",
    status.HTTP_404_NOT_FOUND: "not_found_error",
    status.HTTP_405_METHOD_NOT_ALLOWED: "invalid_request_error",
    status.HTTP_406_NOT_ACCEPTABLE: "invalid_request_error",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "invalid_request_error",
    # The only 422: an Idempotency-Key used for another request (api/idempotency.py), as Stripe names it.
    status.HTTP_422_UNPROCESSABLE_ENTITY: "idempotency_error",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limit_error",
}


def _first_code(codes):
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _flat_fields(detail, prefix: str = ""):
    """(name, messages) per field, nested bodies flattened to one level: a list of objects' errors
    (`phases`: [{}, {"quantity": [...]}]) become `phases[1].quantity`, an object's own errors its name."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            if not prefix:
                key = str(name)
            elif name == "non_field_errors":
                key = prefix
            elif isinstance(name, int):  # a list field's item (ListField errors are keyed by index)
                key = f"{prefix}[{name}]"
            else:
                key = f"{prefix}.{name}"
            yield from _flat_fields(value, key)
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            yield from _flat_fields(item, f"{prefix}[{index}]")
    elif isinstance(detail, list):
        yield prefix, [str(message) for message in detail]
    else:
        yield prefix, [str(detail)]


_API_FIELD_NAMES = {
    NON_FIELD_ERRORS: "non_field_errors",
    **{field: f"address.{key}" for field, key in ADDRESS_KEYS.items()},
}


def _api_field_name(name: str) -> str:
    return _API_FIELD_NAMES.get(name, name)


def error_body(*, status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"type": ERROR_TYPES.get(status_code, "api_error"), "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc, context):
    """DRF's handler (status, headers such as WWW-Authenticate), with our body instead of `detail`."""
    if isinstance(exc, DjangoValidationError):
        # A service's refusal (the same ValidationError the screens show on their forms), with its codes;
        # its field names are the API's (the services and the request bodies name them alike), but for the
        # address's parts, nested in the bodies ("address_postal_code" is "address.postal_code").
        detail = get_error_detail(exc)
        if isinstance(detail, dict):
            detail = {_api_field_name(k): v for k, v in detail.items()}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 page, logged and reported as every other
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {}
        for name, messages in _flat_fields(detail):
            fields.setdefault(name, []).extend(messages)
        body = error_body(
            status_code=response.status_code,
            code=_first_code(exc.get_codes()),
            message=_("Dados inválidos."),
            fields=fields,
        )
    else:
        body = error_body(
            status_code=response.status_code, code=_first_code(exc.get_codes()), message=str(exc.detail)
        )
    return Response(body, status=response.status_code, headers=dict(response.items()))
