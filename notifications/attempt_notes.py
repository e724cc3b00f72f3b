"""Our own words on an attempt of leased work (a webhook delivery, an automation run): why it failed, or
what an "Enviar teste" e-mail did. They are kept as a code and its parameters (`last_note_code`,
`last_note_params` on the row, `note_code`, `note_params` on a delivery's attempt log, `last_error_code`,
`last_error_params` on an automation) and translated when shown, so a merchant reading in English sees
English whatever language the worker ran in. The mechanism is subscribers/timeline.py's (`reason_text`),
with this module's sentences. `last_error` and `last_response_excerpt` keep what is truly free text: an
exception's or a receiver's own words (inside a coded sentence they are a parameter, verbatim), and the rows
written before these codes existed.

Adding a sentence: a code here with its pt-BR sentence (placeholders `%(name)s`), its English in
locale/en, and `Note(CODE, {...})` as the outcome's `error` (or `response_excerpt`). A code is never
renamed or removed: old rows keep it."""

from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from subscribers import timeline


class AddressKind(models.TextChoices):
    """Why an address may not receive webhooks (security.non_public_kind), named in the reader's language."""

    LOOPBACK = "loopback", _("loopback")
    UNSPECIFIED = "unspecified", _("não especificado")
    LINK_LOCAL = "link_local", _("link-local")
    MULTICAST = "multicast", _("multicast")
    RESERVED = "reserved", _("reservado")
    PRIVATE = "private", _("privado")
    NOT_PUBLIC = "not_public", _("não público")


# Sending (notifications/webhooks/services/dispatch.py), for webhooks and automations alike.
CONNECT_TIMEOUT = "connect_timeout"
READ_TIMEOUT = "read_timeout"
CONNECTION_FAILED = "connection_failed"
HTTP_FAILED = "http_failed"
# Where a request may go (notifications/webhooks/services/security.py).
INVALID_URL = "invalid_url"
INCOMPLETE_URL = "incomplete_url"
HTTP_NOT_ALLOWED = "http_not_allowed"
LOCALHOST_REFUSED = "localhost_refused"
ADDRESS_NOT_PUBLIC = "address_not_public"
UNRESOLVED = "unresolved"
NO_ADDRESS = "no_address"
RESOLVES_NOT_PUBLIC = "resolves_not_public"
# Work ended before it was done.
ENDPOINT_DISABLED = "endpoint_disabled"
AUTOMATION_DISABLED = "automation_disabled"
TEST_INTERRUPTED = "test_interrupted"
# Automations (notifications/automations/runner.py, integrations.py).
NO_CUSTOMER_EMAIL = "no_customer_email"
SUBSCRIPTION_GONE = "subscription_gone"
CREDENTIAL_UNREADABLE = "credential_unreadable"
UNKNOWN_INTEGRATION = "unknown_integration"

ERRORS = {
    # `seconds`: the timeout setting.
    CONNECT_TIMEOUT: _("Tempo de conexão esgotado (%(seconds)s s)."),
    READ_TIMEOUT: _("Tempo de resposta esgotado (%(seconds)s s)."),
    # `error`: the network library's words, verbatim.
    CONNECTION_FAILED: _("Falha de conexão: %(error)s"),
    # `code`: the HTTP status; `response`: the start of the receiver's answer, verbatim.
    HTTP_FAILED: _("HTTP %(code)s: %(response)s"),
    INVALID_URL: _("Informe uma URL válida."),
    INCOMPLETE_URL: _("Informe uma URL completa, começando com https://."),
    HTTP_NOT_ALLOWED: _(
        "Use uma URL https://. Endereços http:// só são aceitos para localhost em desenvolvimento."
    ),
    LOCALHOST_REFUSED: _("Endereços locais (localhost) não podem receber webhooks."),
    # `address`: the URL's host; `kind`: an AddressKind value, named in the reader's language.
    ADDRESS_NOT_PUBLIC: _("O endereço %(address)s não é público (%(kind)s) e não pode receber webhooks."),
    # `error`: the resolver's words, verbatim.
    UNRESOLVED: _("Não foi possível resolver %(host)s: %(error)s"),
    NO_ADDRESS: _("Não foi possível resolver %(host)s."),
    RESOLVES_NOT_PUBLIC: _("Endereço recusado: %(host)s resolve para %(address)s (%(kind)s)."),
    ENDPOINT_DISABLED: _("Endpoint desativado."),
    AUTOMATION_DISABLED: _("Automação desativada."),
    TEST_INTERRUPTED: _("O teste foi interrompido antes de terminar."),
    NO_CUSTOMER_EMAIL: _("O evento não traz o e-mail do cliente."),
    SUBSCRIPTION_GONE: _("A assinatura do evento não existe mais."),
    CREDENTIAL_UNREADABLE: _("Não foi possível ler a credencial da integração; cadastre o token de novo."),
    # `integration_kind`: the integration's kind as stored.
    UNKNOWN_INTEGRATION: _("Tipo de integração desconhecido: %(integration_kind)s"),
}

# What a successful attempt did, when our own code (not a receiver) says it.
SENT_TO = "sent_to"
RESPONSES = {
    # `email`: the test e-mail's recipient.
    SENT_TO: _("Enviado para %(email)s"),
}

CHOICE_PARAMS = {"kind": (AddressKind, False)}


class Note(NamedTuple):
    """Our words on an attempt: a code of ERRORS or RESPONSES and its params. `str()` is the sentence in
    the active language (for a message shown at once, or a log line)."""

    code: str
    params: dict = {}  # noqa: RUF012 — a NamedTuple's default, never mutated

    def __str__(self) -> str:
        return error_text(self.code, self.params) or response_text(self.code, self.params)


def error_text(code: str, params: dict | None, fallback: str = "") -> str:
    """Why an attempt failed, in the active language; `fallback` (the stored text) without a known code."""
    return timeline.reason_text(code, params, fallback, messages=ERRORS, choice_params=CHOICE_PARAMS)


def response_text(code: str, params: dict | None, fallback: str = "") -> str:
    """What a successful attempt did in our words, in the active language; else `fallback` (the answer)."""
    return timeline.reason_text(code, params, fallback, messages=RESPONSES, choice_params=CHOICE_PARAMS)


def stored(error, response_excerpt, limit: int) -> tuple[str, str, str, dict]:
    """(error, response excerpt, note code, note params) to store for an outcome whose error or response
    is free text or a Note: free text is kept verbatim (cut at `limit`), a Note as its code and params."""
    note = next((value for value in (error, response_excerpt) if isinstance(value, Note)), None)
    error = "" if isinstance(error, Note) else (error or "")[:limit]
    response_excerpt = "" if isinstance(response_excerpt, Note) else (response_excerpt or "")[:limit]
    if note is None:
        return error, response_excerpt, "", {}
    return error, response_excerpt, note.code, dict(note.params)
