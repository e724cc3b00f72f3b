"""Entering Minha assinatura: the e-mail form, the magic link (signed, 1 hour, once) and the session."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from core.models import IdempotencyKey
from subscribers.portal.session import PORTAL_SESSION_AGE
from subscribers.portal.tokens import MAGIC_LINK_SCOPE, issue_magic_token
from tests.factories import CustomerFactory
from tests.subscribers.portal.conftest import request_link

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|name="csrf-token" content=")[^"]+')


def login_url(merchant):
    return reverse("portal:login", kwargs={"slug": merchant.slug})


def home_url(merchant):
    return reverse("portal:home", kwargs={"slug": merchant.slug})


def test_a_customer_gets_a_link_that_opens_their_portal(client, merchant, customer, subscription):
    link = request_link(client, merchant, "ANA@example.com ")

    assert link is not None
    assert mail.outbox[-1].to == ["ana@example.com"]
    assert merchant.name in mail.outbox[-1].subject
    assert "60 minutos" in mail.outbox[-1].body
    # Opening the link only asks to confirm: an e-mail scanner following it does not use it up.
    assert client.get(link).status_code == 200
    assert client.get(home_url(merchant)).status_code == 302

    response = client.post(link)

    assert response.status_code == 302 and response["Location"] == home_url(merchant)
    home = client.get(home_url(merchant))
    assert home.status_code == 200
    assert "Clube Mensal" in home.content.decode()


def test_the_answer_is_the_same_whether_or_not_the_email_is_a_customers(
    client, merchant, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(login_url(merchant), {"email": customer.email})
        unknown = client.post(login_url(merchant), {"email": "ninguem@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert CSRF.sub("", known.content.decode()) == CSRF.sub("", unknown.content.decode())
    assert 'id="portal-link-sent"' in known.content.decode()
    assert [m.to for m in mail.outbox] == [[customer.email]]


def test_another_merchants_customer_gets_no_link(client, merchant, other_merchant):
    CustomerFactory(merchant=other_merchant, email="bia@example.com")

    assert request_link(client, merchant, "bia@example.com") is None


def test_a_link_used_twice_is_refused(client, merchant, customer):
    link = request_link(client, merchant, customer.email)
    assert client.post(link).status_code == 302
    client.logout()
    client.cookies.clear()

    again = client.post(link)

    assert again.status_code == 410
    assert "Link inválido ou expirado" in again.content.decode()
    assert client.get(link).status_code == 410
    assert client.get(home_url(merchant)).status_code == 302  # no session was opened
    assert IdempotencyKey.objects.filter(merchant=merchant, scope=MAGIC_LINK_SCOPE).count() == 1


def test_a_link_is_valid_for_one_hour(client, merchant, customer):
    start = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        token = issue_magic_token(customer=customer)
    url = reverse("portal:enter", kwargs={"slug": merchant.slug, "token": token})

    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        assert client.get(url).status_code == 410
        assert client.post(url).status_code == 410
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        assert client.post(url).status_code == 302


def test_a_forged_or_foreign_link_is_refused(client, merchant, other_merchant, customer):
    token = issue_magic_token(customer=customer)
    foreign = reverse("portal:enter", kwargs={"slug": other_merchant.slug, "token": token})
    forged = reverse("portal:enter", kwargs={"slug": merchant.slug, "token": token[:-2] + "xx"})

    assert client.post(foreign).status_code == 410
    assert client.post(forged).status_code == 410
    assert client.get(home_url(merchant)).status_code == 302


def test_the_portal_session_ends_after_its_age(portal_client, merchant, customer):
    start = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        client = portal_client(customer)
        assert client.get(home_url(merchant)).status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=PORTAL_SESSION_AGE + 1), tick=False):
        assert client.get(home_url(merchant)).status_code == 302


def test_leaving_the_portal_closes_the_session(portal_client, merchant, customer):
    client = portal_client(customer)

    client.post(reverse("portal:logout", kwargs={"slug": merchant.slug}))

    assert client.get(home_url(merchant)).status_code == 302


def test_an_unknown_merchant_is_404(client):
    assert client.get(reverse("portal:login", kwargs={"slug": "nao-existe"})).status_code == 404
