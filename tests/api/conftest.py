import pytest
from rest_framework.test import APIClient

from accounts.choices import ApiKeyMode, ApiKeyRole
from accounts.services import api_key_create


def make_key(merchant, role=ApiKeyRole.READ_ONLY, mode=ApiKeyMode.LIVE):
    return api_key_create(merchant=merchant, name="Site", role=role, mode=mode)


@pytest.fixture
def api_key(merchant):
    return make_key(merchant)


@pytest.fixture
def api(api_key):
    """A client authenticated with a read-only key of `merchant`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client


def client_for(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def rw_key(merchant):
    return make_key(merchant, role=ApiKeyRole.READ_WRITE)


@pytest.fixture
def api_rw(rw_key):
    """A client authenticated with a read-write key of `merchant`."""
    return client_for(rw_key[1])
