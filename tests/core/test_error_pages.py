"""404, 403, 500 and CSRF-failure pages: in the app's layout, in the user's language, with a way back."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_404_is_the_app_page_in_portuguese_with_a_way_back(owner_client):
    response = owner_client.get("/nao-existe/", HTTP_REFERER="http://testserver/planos/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Página não encontrada" in html
    assert 'class="app-nav' in html  # the layout's menu (the sidebar)
    assert 'id="error-home"' in html
    assert 'href="http://testserver/planos/" id="error-back"' in html


def test_404_in_english(owner_client):
    html = english(owner_client).get("/nao-existe/").content.decode()

    assert "Page not found" in html
    assert "Go to the dashboard" in html


def test_the_back_link_never_points_outside_the_site(owner_client):
    html = owner_client.get("/nao-existe/", HTTP_REFERER="https://evil.example/x").content.decode()

    assert "evil.example" not in html
    assert 'id="error-back"' not in html


def test_403_is_translated_and_in_the_layout(member_client, viewer):
    client = member_client(viewer)

    response = client.get(reverse("subscribers:subscription_create"))

    assert response.status_code == 403
    html = response.content.decode()
    assert "Acesso não permitido" in html
    assert "403 Forbidden" not in html
    assert 'class="app-nav' in html
    assert (
        "Access not allowed"
        in english(client).get(reverse("subscribers:subscription_create")).content.decode()
    )


def test_csrf_failure_page_says_what_to_do(member_client, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(reverse("accounts:switch_merchant"), {"merchant": "1"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "O formulário expirou" in html
    assert 'id="error-home"' in html
    english(client)
    assert "The form has expired" in client.post(reverse("accounts:switch_merchant")).content.decode()


@pytest.mark.urls("tests.core.error_urls")
def test_500_page_is_translated_and_offers_the_way_back(owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    response = client.get("/test-boom/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Algo deu errado" in html
    assert 'id="error-home"' in html
    assert "bootstrap.min.css" in html
    assert "Something went wrong" in english(client).get("/test-boom/").content.decode()


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith(".svg")
    assert client.get(response["Location"]).status_code == 200
