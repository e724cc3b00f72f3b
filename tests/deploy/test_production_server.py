"""The web server (granian, `python -m config.web`) + whitenoise with the production environment, behind
an "HTTPS proxy" (X-Forwarded-Proto)."""

import json
import re
import time

from tests.deploy.conftest import HOST, OWNER_PASSWORD

ONE_YEAR = 31536000


def _max_age(cache_control: str) -> int:
    return int(re.search(r"max-age=(\d+)", cache_control).group(1))


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_css_bootstrap_and_htmx_are_served_with_hashed_names_and_a_far_future_cache(production_server):
    with production_server.client() as client:
        page = client.get("/conta/login/")
        assert page.status_code == 200
        assets = _asset_urls(page.text)
        wanted = ("bootstrap.min", "bootstrap.bundle.min", "bootstrap-icons.min", "htmx.min", "recorrente")
        for name in wanted:
            assert any(f"/{name}." in url for url in assets), (name, assets)
        for url in assets:
            # Hashed: bootstrap.min.4bc73c7ba870.css (and the favicon, favicon.1ffe8edb0475.svg)
            assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url), url
            response = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, url
            assert _max_age(response.headers["Cache-Control"]) >= ONE_YEAR, url
            assert "immutable" in response.headers["Cache-Control"], url
        font = client.get(
            re.search(
                r"url\(\"?([^\")]+woff2[^\")]*)", client.get(next(u for u in assets if "icons" in u)).text
            )
            .group(1)
            .replace("fonts/", "/static/vendor/bootstrap-icons/fonts/")
        )
        assert font.status_code == 200


def test_plain_http_is_redirected_to_https(production_server):
    with production_server.client(headers={"X-Forwarded-Proto": "http"}) as client:
        response = client.get("/conta/login/")
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/conta/login/"


def _cookie_header(*responses) -> str:
    """The cookies a browser would send back over https (httpx keeps Secure cookies from http:// URLs)."""
    jar = {}
    for response in responses:
        for cookie in response.headers.get_list("Set-Cookie"):
            name, value = cookie.split(";", 1)[0].split("=", 1)
            jar[name] = value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def test_login_through_the_https_proxy_succeeds_and_sets_secure_cookies(production_server):
    with production_server.client() as client:
        form = client.get("/conta/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        response = client.post(
            "/conta/login/",
            data={"username": "dona", "password": OWNER_PASSWORD, "csrfmiddlewaretoken": token},
            headers={
                "Origin": f"https://{HOST}",
                "Referer": f"https://{HOST}/conta/login/",
                "Cookie": _cookie_header(form),
            },
        )
        assert response.status_code == 302, response.text[:500]
        assert response.headers["Location"] == "/"
        set_cookies = response.headers.get_list("Set-Cookie")
        session = next(c for c in set_cookies if c.startswith("sessionid="))
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
        csrf = next(c for c in form.headers.get_list("Set-Cookie") if c.startswith("csrftoken="))
        assert "Secure" in csrf and "SameSite=Lax" in csrf
        dashboard = client.get("/", headers={"Cookie": _cookie_header(form, response)})
        assert dashboard.status_code == 200
        assert "Loja de Produção" in dashboard.text


def test_security_headers(production_server):
    with production_server.client() as client:
        response = client.get("/conta/login/")
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_the_sandbox_callback_does_not_exist_in_production(production_server):
    with production_server.client() as client:
        response = client.post(
            "/cobrancas/sandbox/callback/",
            content=b'{"merchant": 1, "reference": "x"}',
            headers={"X-Sandbox-Signature": "00"},
        )
    assert response.status_code == 404


def test_one_json_log_line_per_request_with_the_request_id_passed_through(production_server):
    with production_server.client(headers={"X-Request-ID": "req-abc-123"}) as client:
        response = client.get("/conta/login/?probe=1")
    assert response.headers["X-Request-ID"] == "req-abc-123"
    with production_server.client() as client:
        generated = client.get("/conta/login/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)

    records = [json.loads(line) for line in production_server.log_lines() if line.startswith("{")]
    line = next(
        r for r in records if r.get("request_id") == "req-abc-123" and r["logger"] == "recorrente.request"
    )
    assert line["method"] == "GET" and line["path"] == "/conta/login/" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert line["user_id"] is None and line["merchant_id"] is None
    assert any(r.get("request_id") == generated for r in records)


def test_a_stripe_delivery_through_the_web_server_takes_the_lean_path_is_stored_and_logged(production_server):
    """config/wsgi.py serves Stripe's webhook without the site's middleware (core/lean_wsgi.py): verified
    with the connection's secret, stored pending, one JSON log line, the security headers still there."""
    from tests.deploy.conftest import manage
    from tests.stripe_server import event, fixture, sign

    secret = "whsec_production_0001"
    created = manage(
        production_server.env,
        "shell",
        "-c",
        "from accounts.models import Merchant; from billing.models import ProviderConnection; "
        "c = ProviderConnection.objects.create(merchant=Merchant.objects.get(), provider='stripe', "
        f"mode='mirror', webhook_secret='{secret}'); print(c.webhook_token)",
    )
    path = f"/cobrancas/webhooks/stripe/{created.stdout.split()[-1]}/"
    body = event("customer.subscription.updated", fixture("subscription"), created=1, event_id="evt_prod_1")
    headers = {"Stripe-Signature": sign(body, secret, int(time.time())), "X-Request-ID": "stripe-delivery-1"}
    with production_server.client() as client:
        stored = client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
        again = client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
        forged = client.post(path, content=body, headers={"Stripe-Signature": sign(body, "whsec_x", 1)})
    assert stored.status_code == 200 and stored.json()["outcome"] == "stored"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert forged.status_code == 400
    assert stored.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "set-cookie" not in stored.headers and "content-security-policy" not in stored.headers

    count = manage(
        production_server.env,
        "shell",
        "-c",
        "from billing.models import ProviderEvent; print(ProviderEvent.objects.filter("
        "event_id='evt_prod_1', signature_valid=True, status='pending').count())",
    )
    assert count.stdout.split()[-1] == "1"
    records = [json.loads(line) for line in production_server.log_lines() if line.startswith("{")]
    line = next(
        r
        for r in records
        if r.get("request_id") == "stripe-delivery-1" and r["logger"] == "recorrente.request"
    )
    assert (line["method"], line["path"], line["status"]) == ("POST", path, 200)
