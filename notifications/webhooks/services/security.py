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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_NON_PUBLIC_KINDS = (
    # The specific kinds first: Python counts link-local, reserved and 0.0.0.0 as "private" too.
    ("is_loopback", gettext_lazy("loopback")),
    ("is_unspecified", gettext_lazy("não especificado")),
    ("is_link_local", gettext_lazy("link-local")),
    ("is_multicast", gettext_lazy("multicast")),
    ("is_reserved", gettext_lazy("reservado")),
    ("is_private", gettext_lazy("privado")),
)


class AddressRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


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
    """Why `address` is not a public unicast address ("loopback", "privado", …), or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, kind in _NON_PUBLIC_KINDS:
        if getattr(ip, attribute):
            return str(kind)
    if not ip.is_global:  # shared (100.64/10), documentation ranges and the like
        return str(gettext_lazy("não público"))
    return None


def url_refusal(url: str) -> str | None:
    """Why `url` may not be a webhook endpoint (a message for the merchant), or None when it may.

    Checks what can be known without DNS: scheme, host, literal IP addresses and loopback names.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for an invalid port
    except ValueError:
        return _("Informe uma URL válida.")
    if parts.scheme not in ("http", "https") or not host:
        return _("Informe uma URL completa, começando com https://.")
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not (loopback and private_addresses_allowed()):
        return _("Use uma URL https://. Endereços http:// só são aceitos para localhost em desenvolvimento.")
    if private_addresses_allowed():
        return None
    if loopback:
        return _("Endereços locais (localhost) não podem receber webhooks.")
    try:
        kind = non_public_kind(host)
    except ValueError:
        return None  # a name: resolved and checked before each send
    if kind:
        return _("O endereço %(address)s não é público (%(kind)s) e não pode receber webhooks.") % {
            "address": host,
            "kind": kind,
        }
    return None


def resolve_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, in the resolver's order; raises AddressRefused when any of
    them is not public (unless private addresses are allowed) or the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(
            _("Não foi possível resolver %(host)s: %(error)s") % {"host": host, "error": exc}
        ) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise AddressRefused(_("Não foi possível resolver %(host)s.") % {"host": host})
    if not private_addresses_allowed():
        for address in addresses:
            kind = non_public_kind(address)
            if kind:
                raise AddressRefused(
                    _("Endereço recusado: %(host)s resolve para %(address)s (%(kind)s).")
                    % {"host": host, "address": address, "kind": kind}
                )
    return addresses
