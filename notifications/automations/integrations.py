"""E-mail marketing providers behind one interface: `push_contact` puts a contact on a list.

One adapter for now, the generic HTTP/JSON one: it POSTs

    {"email": "...", "name": "...", "list": "<list id>", "tags": ["..."], "event": "<event type>"}

(plus `"test": true` from "Enviar teste") to the integration's URL with its credential header, through
the webhooks' sender: same SSRF rule, address pinning, timeouts, no redirects. Real providers (Mailchimp,
RD Station, …) are more adapters registered in ADAPTERS.
"""

import datetime as dt
import json
from typing import Protocol

from django.utils import timezone

from notifications.attempt_notes import CREDENTIAL_UNREADABLE, HTTP_FAILED, UNKNOWN_INTEGRATION, Note
from notifications.automations.choices import IntegrationKind
from notifications.crypto import CredentialUnreadable
from notifications.webhooks.services.dispatch import AttemptResult, post_json


class IntegrationError(Exception):
    """The provider did not take the contact. `retryable` is False when trying again cannot help (a
    configuration problem); `retry_after` is the provider's Retry-After, if any."""

    def __init__(
        self,
        message: str | Note,
        *,
        status_code: int | None = None,
        response_excerpt: str = "",
        retry_after: dt.timedelta | None = None,
        retryable: bool = True,
    ):
        super().__init__(message)
        # Stored on the run as it is: a Note as its code (shown in the reader's language), text verbatim.
        self.error = message
        self.status_code = status_code
        self.response_excerpt = response_excerpt
        self.retry_after = retry_after
        self.retryable = retryable


class ProviderAdapter(Protocol):
    def push_contact(
        self,
        integration,
        contact: dict,
        list_id: str,
        *,
        tags: list[str],
        event_type: str,
        test: bool = False,
    ) -> AttemptResult:
        """Adds or updates `contact` ({"email", "name"}) on `list_id`; raises IntegrationError when the
        provider refuses or cannot be reached. Returns the successful answer (for the run log)."""


def failure_message(result: AttemptResult) -> str | Note:
    if result.error:
        return result.error
    return Note(HTTP_FAILED, {"code": result.status_code, "response": result.response_excerpt[:200] or "—"})


class GenericHttpAdapter:
    """POSTs the contact as JSON to the integration's URL; any 2xx is success."""

    def push_contact(self, integration, contact, list_id, *, tags, event_type, test=False):
        try:
            token = integration.token()
        except CredentialUnreadable as exc:
            raise IntegrationError(Note(CREDENTIAL_UNREADABLE), retryable=False) from exc
        document = {
            "email": contact.get("email") or "",
            "name": contact.get("name") or "",
            "list": list_id,
            "tags": list(tags),
            "event": event_type,
        }
        if test:
            document["test"] = True
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "user-agent": "Recorrente-Automations/1"}
        if integration.auth_header and token:
            headers[integration.auth_header] = token
        result = post_json(integration.url, headers=headers, body=body, now=timezone.now())
        if not result.succeeded:
            raise IntegrationError(
                failure_message(result),
                status_code=result.status_code,
                response_excerpt=result.response_excerpt,
                retry_after=result.retry_after,
            )
        return result


ADAPTERS: dict[str, ProviderAdapter] = {IntegrationKind.GENERIC_HTTP: GenericHttpAdapter()}


def adapter_for(integration) -> ProviderAdapter:
    try:
        return ADAPTERS[integration.kind]
    except KeyError:
        raise IntegrationError(
            Note(UNKNOWN_INTEGRATION, {"integration_kind": integration.kind}), retryable=False
        ) from None
