"""Key rotation of stored credentials: new key first, `manage.py rotate_credentials`, drop the old key."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from notifications.automations import crypto
from notifications.automations.models import ProviderIntegration
from tests.factories import ProviderIntegrationFactory

pytestmark = pytest.mark.django_db


def test_rotation_re_encrypts_every_token_so_the_old_key_can_be_removed(settings, merchant):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_ENCRYPTION_KEYS = old_key
    integrations = [ProviderIntegrationFactory(merchant=merchant, token=f"Bearer tok_{n}") for n in range(3)]

    settings.CREDENTIALS_ENCRYPTION_KEYS = f"{new_key},{old_key}"
    call_command("rotate_credentials")
    settings.CREDENTIALS_ENCRYPTION_KEYS = new_key

    for n, integration in enumerate(integrations):
        assert ProviderIntegration.objects.get(pk=integration.pk).token() == f"Bearer tok_{n}"


def test_values_encrypted_with_the_development_key_are_moved_with_include_derived_key(settings, merchant):
    settings.CREDENTIALS_ENCRYPTION_KEYS = ""  # an install that ran on the key derived from SECRET_KEY
    integration = ProviderIntegrationFactory(merchant=merchant, token="Bearer tok_antigo")
    settings.CREDENTIALS_ENCRYPTION_KEYS = Fernet.generate_key().decode()

    with pytest.raises(CommandError):
        call_command("rotate_credentials")
    call_command("rotate_credentials", "--include-derived-key")

    assert ProviderIntegration.objects.get(pk=integration.pk).token() == "Bearer tok_antigo"


def test_a_value_no_key_decrypts_stops_the_rotation_without_changing_anything(settings, merchant):
    settings.CREDENTIALS_ENCRYPTION_KEYS = Fernet.generate_key().decode()
    readable = ProviderIntegrationFactory(merchant=merchant, token="Bearer tok_ok")
    before = ProviderIntegration.objects.get(pk=readable.pk).token_encrypted
    lost = ProviderIntegrationFactory(merchant=merchant)
    ProviderIntegration.objects.filter(pk=lost.pk).update(
        token_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    )

    with pytest.raises(CommandError, match="No configured key decrypts"):
        call_command("rotate_credentials")

    assert ProviderIntegration.objects.get(pk=readable.pk).token_encrypted == before
    assert crypto.decrypt(before) == "Bearer tok_ok"
