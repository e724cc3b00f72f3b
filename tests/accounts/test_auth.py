from django.core import mail
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD


def test_login_with_the_right_password_lands_on_the_dashboard(client, owner):
    response = client.post(reverse("login"), {"username": owner.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:index")


def test_wrong_password_shows_a_translated_error(client, owner):
    response = client.post(reverse("login"), {"username": owner.username, "password": "errada"})
    assert response.status_code == 200
    assert "e senha corretos" in response.content.decode()


def test_repeated_failures_lock_the_account_with_a_clear_message(client, owner, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": owner.username, "password": "errada"})

    response = client.post(reverse("login"), {"username": owner.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert "Muitas tentativas de login sem sucesso" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(owner_client):
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert owner_client.get(reverse("dashboard:index")).status_code == 302


def test_password_reset_sends_an_email_with_a_working_link(client, owner):
    response = client.post(reverse("password_reset"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/conta/reset/" in mail.outbox[0].body


def test_a_user_without_merchant_gets_a_helpful_page(client, django_user_model):
    user = django_user_model.objects.create_user("sem-loja", password="x-senha-longa-1")
    client.force_login(user)
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 403
    assert "Você ainda não faz parte de nenhum lojista" in response.content.decode()
