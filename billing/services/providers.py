"""Configurações > Pagamentos: connecting Stripe (tested against its API before it is saved), rotating its
key and webhook secret, disconnecting; PayPal in manual tracking mode (no credentials)."""

from __future__ import annotations

import stripe
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import PaymentProvider, StripeMode
from billing.gateways.stripe import client_for
from billing.models import ProviderConnection


def stripe_check_key(api_key: str) -> str:
    """The Stripe account id the key opens, or ValidationError with what Stripe answered."""
    try:
        account = client_for(api_key=api_key).v1.accounts.retrieve_current()
    except stripe.AuthenticationError as exc:
        raise ValidationError({"api_key": _("A Stripe recusou a chave.")}, code="stripe_auth") from exc
    except stripe.PermissionError:
        # A restricted key may not read the account: it still authenticated.
        return ""
    except stripe.StripeError as exc:
        raise ValidationError(
            _("Não foi possível falar com a Stripe: %(error)s") % {"error": exc.user_message or exc}
        ) from exc
    return account.id


def _check_formats(api_key: str, webhook_secret: str) -> None:
    errors = {}
    if api_key and not api_key.startswith(("rk_", "sk_")):
        errors["api_key"] = _("Use uma chave restrita (rk_…) ou secreta (sk_…) da Stripe.")
    if webhook_secret and not webhook_secret.startswith("whsec_"):
        errors["webhook_secret"] = _("O segredo de assinatura do webhook começa com whsec_.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def stripe_connect(*, merchant, api_key: str, webhook_secret: str, mode: str = StripeMode.MIRROR, now=None):
    """Connects (or reconnects) Stripe after checking the key against Stripe's API."""
    api_key, webhook_secret = (api_key or "").strip(), (webhook_secret or "").strip()
    if not api_key or not webhook_secret:
        raise ValidationError(_("Informe a chave e o segredo de assinatura do webhook."), code="required")
    if mode not in StripeMode.values:
        raise ValidationError({"mode": _("Escolha quem cobra as renovações.")})
    _check_formats(api_key, webhook_secret)
    account_id = stripe_check_key(api_key)
    connection, _created = ProviderConnection.objects.select_for_update().get_or_create(
        merchant=merchant, provider=PaymentProvider.STRIPE
    )
    connection.mode = mode
    connection.api_key, connection.api_key_last4 = api_key, api_key[-4:]
    connection.webhook_secret, connection.webhook_secret_last4 = webhook_secret, webhook_secret[-4:]
    connection.account_id = account_id
    connection.is_active = True
    connection.checked_at = now or timezone.now()
    connection.save()
    return connection


@transaction.atomic
def stripe_rotate(*, connection: ProviderConnection, api_key: str = "", webhook_secret: str = "", now=None):
    """Replaces the key and/or the webhook secret (a blank one is kept); a new key is checked first."""
    api_key, webhook_secret = (api_key or "").strip(), (webhook_secret or "").strip()
    if not api_key and not webhook_secret:
        raise ValidationError(_("Informe uma nova chave ou um novo segredo."), code="required")
    _check_formats(api_key, webhook_secret)
    connection = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
    if api_key:
        connection.account_id = stripe_check_key(api_key) or connection.account_id
        connection.api_key, connection.api_key_last4 = api_key, api_key[-4:]
        connection.checked_at = now or timezone.now()
    if webhook_secret:
        connection.webhook_secret, connection.webhook_secret_last4 = webhook_secret, webhook_secret[-4:]
    connection.save()
    return connection


def stripe_test(*, connection: ProviderConnection, now=None) -> str:
    """Testar conexão: the stored key against Stripe's API."""
    account_id = stripe_check_key(connection.api_key)
    ProviderConnection.objects.filter(pk=connection.pk).update(checked_at=now or timezone.now())
    return account_id


@transaction.atomic
def provider_disconnect(*, connection: ProviderConnection) -> None:
    """Forgets the credentials (the webhook URL stops answering); subscriptions and events stay."""
    connection = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
    connection.api_key = connection.webhook_secret = ""
    connection.api_key_last4 = connection.webhook_secret_last4 = ""
    connection.is_active = False
    connection.save()


@transaction.atomic
def paypal_enable(*, merchant) -> ProviderConnection:
    """PayPal in manual tracking mode: subscriptions carry the PayPal subscription id and each payment is
    recorded by hand with the PayPal transaction id. No credentials, nothing charged by us."""
    connection, _created = ProviderConnection.objects.get_or_create(
        merchant=merchant, provider=PaymentProvider.PAYPAL
    )
    if not connection.is_active:
        connection.is_active = True
        connection.save(update_fields=["is_active", "updated_at"])
    return connection
