"""Where a webhook may go: https to a public address (SSRF protection).

The rule, in one place for the form and for every send:

* the URL must be https://, except http:// to a loopback host (localhost, *.localhost, 127.0.0.0/8, ::1)
  while `settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES` is on (it follows DEBUG unless set);
* before each send the host is resolved and *every* address must be public: private, loopback,
  link-local, multicast, reserved, unspecified and other non-global addresses are refused unless the same
  switch is on. The request then goes to the address we checked (not to a second DNS answer), so a
  name that changes its answer between the check and the connection (DNS rebinding) gains nothing.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from notifications.attempt_notes import (
    ADDRESS_NOT_PUBLIC,
    HTTP_NOT_ALLOWED,
    INCOMPLETE_URL,
    INVALID_URL,
    LOCALHOST_REFUSED,
    NO_ADDRESS,
    RESOLVES_NOT_PUBLIC,
    UNRESOLVED,
    AddressKind,
    Note,
)

_NON_PUBLIC_KINDS = (
    # The specific kinds first: Python counts link-local, reserved and 0.0.0.0 as "private" too.
    ("is_loopback", AddressKind.LOOPBACK),
    ("is_unspecified", AddressKind.UNSPECIFIED),
    ("is_link_local", AddressKind.LINK_LOCAL),
    ("is_multicast", AddressKind.MULTICAST),
    ("is_reserved", AddressKind.RESERVED),
    ("is_private", AddressKind.PRIVATE),
)


class AddressRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks may not reach; `note` says why (a Note,
    stored as its code on the attempt and shown in the reader's language)."""

    def __init__(self, note: Note):
        super().__init__(note)
        self.note = note

    def __str__(self) -> str:
        return str(self.note)


def private_addresses_allowed() -> bool:
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES)


def is_loopback_host(host: str) -> bool:
    host = (host or "").lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def non_public_kind(address: str) -> str | None:
    """Why `address` is not a public unicast address ("loopback", "privado", …, in the active language),
    or None when it is."""
    kind = non_public_kind_code(address)
    return None if kind is None else str(AddressKind(kind).label)


def non_public_kind_code(address: str) -> str | None:
    """non_public_kind's AddressKind value (stored in a refusal's params), or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, kind in _NON_PUBLIC_KINDS:
        if getattr(ip, attribute):
            return kind.value
    if not ip.is_global:  # shared (100.64/10), documentation ranges and the like
        return AddressKind.NOT_PUBLIC.value
    return None


def url_refusal(url: str) -> str | None:
    """Why `url` may not be a webhook endpoint (a message for the merchant, in the active language), or
    None when it may."""
    refusal = url_refusal_note(url)
    return None if refusal is None else str(refusal)


def url_refusal_note(url: str) -> Note | None:
    """url_refusal's reason as a Note (what a send stores), or None when `url` may be used.

    Checks what can be known without DNS: scheme, host, literal IP addresses and loopback names.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for an invalid port
    except ValueError:
        return Note(INVALID_URL)
    if parts.scheme not in ("http", "https") or not host:
        return Note(INCOMPLETE_URL)
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not (loopback and private_addresses_allowed()):
        return Note(HTTP_NOT_ALLOWED)
    if private_addresses_allowed():
        return None
    if loopback:
        return Note(LOCALHOST_REFUSED)
    try:
        kind = non_public_kind_code(host)
    except ValueError:
        return None  # a name: resolved and checked before each send
    if kind:
        return Note(ADDRESS_NOT_PUBLIC, {"address": host, "kind": kind})
    return None


def resolve_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, in the resolver's order; raises AddressRefused when any of
    them is not public (unless private addresses are allowed) or the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(Note(UNRESOLVED, {"host": host, "error": str(exc)})) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise AddressRefused(Note(NO_ADDRESS, {"host": host}))
    if not private_addresses_allowed():
        for address in addresses:
            kind = non_public_kind_code(address)
            if kind:
                raise AddressRefused(
                    Note(RESOLVES_NOT_PUBLIC, {"host": host, "address": address, "kind": kind})
                )
    return addresses
