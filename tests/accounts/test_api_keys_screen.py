"""Configurações > API: create (the secret shown once), list, revoke; who may do it."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.choices import ApiKeyRole, Role
from accounts.models import ApiKey
from tests.api.conftest import make_key
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _login(client, merchant, role):
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return membership.user


def test_creating_a_key_shows_the_secret_once_and_it_works(client, merchant):
    user = _login(client, merchant, Role.MANAGER)

    response = client.post(
        reverse("accounts:api_keys"), {"name": "Site da loja", "role": ApiKeyRole.READ_ONLY, "mode": "live"}
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_secret"]
    assert secret.startswith("rk_live_") and secret in response.content.decode()
    key = ApiKey.objects.get(merchant=merchant)
    assert (key.name, key.role, key.created_by) == ("Site da loja", ApiKeyRole.READ_ONLY, user)
    # The list shows only the prefix from now on.
    listing = client.get(reverse("accounts:api_keys")).content.decode()
    assert key.prefix in listing and secret not in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/customers").status_code == 200


def test_an_invalid_form_creates_nothing(client, merchant):
    _login(client, merchant, Role.OWNER)
    response = client.post(reverse("accounts:api_keys"), {"name": "", "role": "root", "mode": "live"})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_revoking_a_key_stops_it(client, merchant):
    _login(client, merchant, Role.OWNER)
    key, secret = make_key(merchant)

    response = client.post(reverse("accounts:api_key_revoke", kwargs={"pk": key.pk}))

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/customers").status_code == 401


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.VIEWER])
def test_roles_without_manage_settings_see_the_list_but_cannot_create_or_revoke(client, merchant, role):
    _login(client, merchant, role)
    key, _secret = make_key(merchant)

    page = client.get(reverse("accounts:api_keys"))
    assert page.status_code == 200
    assert key.prefix in page.content.decode()
    assert reverse("accounts:api_key_revoke", kwargs={"pk": key.pk}) not in page.content.decode()

    assert (
        client.post(
            reverse("accounts:api_keys"), {"name": "x", "role": "read_write", "mode": "live"}
        ).status_code
        == 403
    )
    assert client.post(reverse("accounts:api_key_revoke", kwargs={"pk": key.pk})).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_the_settings_page_links_to_the_api_screen(client, merchant):
    _login(client, merchant, Role.VIEWER)
    assert reverse("accounts:api_keys") in client.get(reverse("accounts:settings")).content.decode()
