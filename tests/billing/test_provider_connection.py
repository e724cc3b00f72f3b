"""Provider connections: the Stripe key and webhook secret are encrypted at rest and rotatable, and
`client_for` talks to the configured API base (here the local Stripe stand-in) with the merchant's key."""

import pytest
import stripe
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import IntegrityError, connection

from billing.choices import PaymentProvider, StripeMode
from billing.gateways.stripe import client_for
from billing.models import ProviderConnection
from core import crypto
from tests.factories import ProviderConnectionFactory

pytestmark = pytest.mark.django_db


def _raw_columns(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, webhook_secret FROM billing_providerconnection WHERE id = %s", [pk])
        return cursor.fetchone()


def test_key_and_secret_are_encrypted_in_their_columns(merchant):
    conn = ProviderConnectionFactory(
        merchant=merchant, api_key="rk_test_abcd1234", webhook_secret="whsec_xyz9"
    )
    raw_key, raw_secret = _raw_columns(conn.pk)
    assert "rk_test_abcd1234" not in raw_key and "whsec_xyz9" not in raw_secret
    assert crypto.decrypt(raw_key) == "rk_test_abcd1234"
    fresh = ProviderConnection.objects.get(pk=conn.pk)
    assert (fresh.api_key, fresh.webhook_secret) == ("rk_test_abcd1234", "whsec_xyz9")
    assert fresh.api_key_masked == "••••1234"


def test_rotate_credential_keys_reencrypts_connections_with_the_new_first_key(merchant, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_ENCRYPTION_KEYS = old_key
    conn = ProviderConnectionFactory(
        merchant=merchant, api_key="rk_test_rotate", webhook_secret="whsec_rotate"
    )
    settings.CREDENTIALS_ENCRYPTION_KEYS = f"{new_key},{old_key}"
    call_command("rotate_credential_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Only the new key (and the derived development key) remain: the rows must still read back.
    settings.CREDENTIALS_ENCRYPTION_KEYS = new_key
    fresh = ProviderConnection.objects.get(pk=conn.pk)
    assert (fresh.api_key, fresh.webhook_secret) == ("rk_test_rotate", "whsec_rotate")


def test_one_connection_per_provider_and_mode_only_for_stripe(merchant):
    ProviderConnectionFactory(merchant=merchant)
    with pytest.raises(IntegrityError):
        ProviderConnectionFactory(merchant=merchant, mode=StripeMode.ENGINE)


def test_paypal_has_no_mode(merchant):
    with pytest.raises(IntegrityError):
        ProviderConnectionFactory(merchant=merchant, provider=PaymentProvider.PAYPAL, mode=StripeMode.MIRROR)


def test_client_for_calls_the_configured_api_base_with_the_merchants_key(merchant, stripe_server):
    conn = ProviderConnectionFactory(merchant=merchant, api_key="rk_test_51Merchant0001")
    account = client_for(conn).v1.accounts.retrieve_current()
    assert account.id == "acct_1Nv0FGQ9RKHgCVdK"
    method, path, headers = stripe_server.requests[-1]
    assert (method, path) == ("GET", "/v1/account")
    assert headers["Authorization"] == "Bearer rk_test_51Merchant0001"


def test_client_for_surfaces_a_revoked_key_as_the_librarys_authentication_error(merchant, stripe_server):
    stripe_server.fail_with(401)
    with pytest.raises(stripe.AuthenticationError):
        client_for(ProviderConnectionFactory(merchant=merchant)).v1.accounts.retrieve_current()
