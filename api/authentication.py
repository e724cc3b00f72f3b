"""Bearer authentication with a merchant's API key (accounts.ApiKey)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.services import api_key_authenticate


class ApiKeyPrincipal:
    """Who is calling: the key, standing in for a user (DRF asks `request.user.is_authenticated`)."""

    is_authenticated = True
    is_anonymous = False
    # DRF also sets it as the Django request's user: the request log reads `pk` (no team member here).
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key
        self.merchant = key.merchant

    def __str__(self):
        return str(self.key)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer rk_live_…`. A missing, unknown or revoked key is a 401; the key's merchant
    scopes every query of the request (`request.auth.merchant`)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not secret.strip():
            raise exceptions.AuthenticationFailed(_("Use o cabeçalho Authorization: Bearer <chave>."))
        key = api_key_authenticate(secret.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("Chave de API inválida ou revogada."))
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when the key is missing.
        return self.keyword
