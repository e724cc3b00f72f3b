"""SSRF: webhooks go over https to public addresses; local receivers need an explicit switch."""

import socket

import pytest

from notifications.webhooks.services.dispatch import send_delivery
from notifications.webhooks.services.security import (
    AddressRefused,
    is_loopback_host,
    non_public_kind,
    resolve_addresses,
    url_refusal,
)
from tests.factories import WebhookDeliveryFactory

PUBLIC_IP = "93.184.215.14"


# --- the URL rule (form and every send) ---------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/recorrente", "https://example.com:8443/a?b=1", f"https://{PUBLIC_IP}/x"],
)
def test_https_to_a_public_host_is_accepted(url):
    assert url_refusal(url) is None


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/x", "ftp://example.com/x", "example.com", "https://"]
)
def test_anything_but_https_with_a_host_is_refused(url):
    assert url_refusal(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:9000/hook",
        "https://localhost/hook",
        "http://127.0.0.1:9000/hook",
        "http://[::1]:9000/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.10/hook",
        "https://0.0.0.0/hook",
        "https://app.localhost/hook",
    ],
)
def test_local_and_private_urls_are_refused_in_production(url):
    assert url_refusal(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/hook", "http://127.0.0.1:9000/hook", "http://[::1]:9000/hook"]
)
def test_http_to_localhost_is_accepted_only_with_the_switch(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True

    assert url_refusal(url) is None


def test_with_the_switch_http_is_still_refused_for_other_hosts(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True

    assert url_refusal("http://hooks.example.com/x")
    assert url_refusal("http://10.0.0.5/x")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "privado"),
        ("172.16.0.1", "privado"),
        ("192.168.0.1", "privado"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reservado"),
        ("0.0.0.0", "não especificado"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "não público"),
        (PUBLIC_IP, None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(address, kind):
    assert non_public_kind(address) == kind


def test_loopback_host_names():
    assert (
        is_loopback_host("localhost") and is_loopback_host("LOCALHOST.") and is_loopback_host("a.localhost")
    )
    assert is_loopback_host("127.0.0.2") and is_loopback_host("[::1]")
    assert not is_loopback_host("example.com") and not is_loopback_host("10.0.0.1")


def test_a_name_resolving_to_loopback_is_refused():
    with pytest.raises(AddressRefused, match="loopback"):
        resolve_addresses("localhost", 443)


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)

    with pytest.raises(AddressRefused, match="10.0.0.7"):
        resolve_addresses("rebind.example.com", 443)


def test_a_public_name_resolves_to_its_addresses(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port))],
    )

    assert resolve_addresses("hooks.example.com", 443) == [PUBLIC_IP]


# --- refused before any connection ------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
    ],
)
def test_sending_to_a_refused_address_fails_without_connecting(url, merchant, monkeypatch):
    import httpx

    def no_network(*args, **kwargs):
        raise AssertionError("a refused address must not be connected to")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    delivery = WebhookDeliveryFactory(merchant=merchant, endpoint__url=url)

    result = send_delivery(delivery)

    assert not result.succeeded
    assert result.status_code is None
    assert result.error


@pytest.mark.django_db
def test_a_public_looking_name_that_resolves_to_loopback_is_refused_before_connecting(merchant, monkeypatch):
    import httpx

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
    )
    monkeypatch.setattr(httpx.Client, "send", lambda *a, **k: pytest.fail("must not connect"))
    delivery = WebhookDeliveryFactory(merchant=merchant, endpoint__url="https://intranet.example.com/hook")

    result = send_delivery(delivery)

    assert "127.0.0.1" in str(result.error) and "loopback" in str(result.error)


@pytest.mark.django_db
def test_the_request_goes_to_the_checked_address_with_the_hosts_name(
    merchant, receiver, allow_private, monkeypatch
):
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    resolved = []
    real_getaddrinfo = socket.getaddrinfo

    def pinned(host, *args, **kwargs):
        resolved.append(host)
        return real_getaddrinfo("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", pinned)
    delivery = WebhookDeliveryFactory(merchant=merchant, endpoint__url=f"http://hooks.localhost:{port}/hook")

    result = send_delivery(delivery)

    assert result.status_code == 200, result.error
    assert resolved[0] == "hooks.localhost"
    assert receiver.requests[0].headers["host"] == f"hooks.localhost:{port}"


@pytest.mark.django_db
def test_an_unexpected_error_costs_one_attempt_not_the_pass(merchant, monkeypatch):
    from notifications.webhooks.services import security

    def broken(*args, **kwargs):
        raise ValueError("surprise")

    monkeypatch.setattr("notifications.webhooks.services.dispatch.resolve_addresses", broken)
    assert security.resolve_addresses is not broken
    delivery = WebhookDeliveryFactory(merchant=merchant)

    result = send_delivery(delivery)

    assert result.error == "ValueError: surprise"
