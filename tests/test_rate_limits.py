"""Rate limits (django-ratelimit, counted in the cache): sign-in per IP across usernames, password reset per
IP and per e-mail, CSV exports and the e-mail preview per user, public endpoints per IP. Over the limit: a
429 page in pt-BR with Retry-After, and the view does not run."""

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.choices import Role
from core.ratelimit import rate_limit
from subscribers.models import SubscriberExport
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("login")
RESET_URL = reverse("password_reset")


@pytest.fixture(autouse=True)
def limits_on(settings, rate_limits_on):
    settings.AXES_ENABLED = False  # axes' own lock (per username + IP) is not what these tests look at


def assert_429(response):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    content = response.content.decode()
    assert "Muitas tentativas" in content
    assert "Tente novamente em" in content


def test_sign_in_is_limited_per_ip_across_usernames(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/10m"}
    UserFactory(username="ana", password="certa-123")

    answers = [
        client.post(LOGIN_URL, {"username": f"usuario{n}", "password": "errada"}).status_code
        for n in range(3)
    ]
    blocked = client.post(LOGIN_URL, {"username": "ana", "password": "certa-123"})

    assert answers == [200, 200, 200]  # the form again, with its error
    assert_429(blocked)
    assert "_auth_user_id" not in client.session  # the view did not run: nobody signed in
    other_ip = client.post(LOGIN_URL, {"username": "ana", "password": "certa-123"}, REMOTE_ADDR="203.0.113.9")
    assert other_ip.status_code == 302


def test_the_sign_in_page_itself_is_not_counted(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/10m"}

    for _ in range(5):
        assert client.get(LOGIN_URL).status_code == 200


def test_password_reset_is_limited_per_ip(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/h"}
    UserFactory(username="ana", email="ana@example.com")

    for n in range(2):
        assert client.post(RESET_URL, {"email": f"p{n}@example.com"}).status_code == 302
    blocked = client.post(RESET_URL, {"email": "ana@example.com"})

    assert_429(blocked)
    assert mail.outbox == []


def test_password_reset_is_limited_per_email_across_ips(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/h"}
    UserFactory(username="ana", email="ana@example.com")

    for n in range(2):
        client.post(RESET_URL, {"email": "ana@example.com"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
    blocked = client.post(RESET_URL, {"email": "ana@example.com"}, REMOTE_ADDR="198.51.100.50")

    assert_429(blocked)
    assert len(mail.outbox) == 2


def test_csv_exports_are_limited_per_user_and_a_refused_one_is_not_recorded(client, merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/10m"}
    url = reverse("subscribers:subscriber_export")
    first, second = UserFactory(username="leitor1"), UserFactory(username="leitor2")
    for user in (first, second):
        MembershipFactory(user=user, merchant=merchant, role=Role.VIEWER)
    client.force_login(first)

    for _ in range(2):
        response = client.get(url)
        b"".join(response.streaming_content)
        assert response.status_code == 200
    blocked = client.get(url)

    assert_429(blocked)
    assert SubscriberExport.objects.count() == 2
    client.force_login(second)  # another person of the same merchant has their own count
    assert client.get(url).status_code == 200


def test_the_email_preview_is_limited_per_user(client, merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_preview": "2/m"}
    owner = UserFactory(username="dono")
    MembershipFactory(user=owner, merchant=merchant, role=Role.OWNER)
    client.force_login(owner)
    url = reverse("notifications:customer_email_preview", args=["subscription_created"])
    data = {"subject": "Oi", "body_text": "Oi", "body_html": "<p>Oi</p>"}

    assert [client.post(url, data).status_code for _ in range(2)] == [200, 200]
    assert_429(client.post(url, data))


def test_a_role_that_may_not_preview_is_refused_before_it_is_counted(client, merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_preview": "1/m"}
    viewer = UserFactory(username="leitor")
    MembershipFactory(user=viewer, merchant=merchant, role=Role.VIEWER)
    client.force_login(viewer)
    url = reverse("notifications:customer_email_preview", args=["subscription_created"])

    assert [client.post(url, {}).status_code for _ in range(3)] == [403, 403, 403]


def test_the_public_decorator_limits_any_view_per_ip(settings):
    """What checkout and portal views will use: @rate_limit("public", key="ip", methods=...)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public": "2/m"}
    calls = []

    @rate_limit("public", key="ip", methods=("GET", "POST"))
    def checkout(request):
        calls.append(request)
        return HttpResponse("ok")

    factory = RequestFactory()
    answers = [checkout(factory.get("/checkout/x/")) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert len(calls) == 2
    assert int(answers[2]["Retry-After"]) <= 60
    assert checkout(factory.get("/checkout/x/", REMOTE_ADDR="192.0.2.7")).status_code == 200


def test_the_sandbox_callback_is_a_limited_public_endpoint(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public": "2/m"}
    url = reverse("billing:sandbox_callback")

    answers = [client.post(url, b"{}", content_type="application/json").status_code for _ in range(3)]

    assert answers[:2] != [429, 429] and answers[2] == 429


def test_the_429_page_speaks_english_too(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/10m"}
    client.post(LOGIN_URL, {"username": "x", "password": "y"})

    response = client.post(LOGIN_URL, {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert "Too many" in response.content.decode()


def test_the_429_page_links_back_only_to_this_site(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public": "1/m"}

    @rate_limit("public", key="ip", methods=("GET",))
    def page(request):
        return HttpResponse("ok")

    factory = RequestFactory()
    page(factory.get("/x/"))
    inside = page(factory.get("/x/", HTTP_REFERER="http://testserver/assinantes/"))
    outside = page(factory.get("/x/", HTTP_REFERER="https://evil.example/"))

    assert 'href="http://testserver/assinantes/"' in inside.content.decode()
    assert "evil.example" not in outside.content.decode()
