from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from accounts.models import ApiKey


class ApiKeyRole(permissions.BasePermission):
    """Any active key reads; only a read-write key writes (403 otherwise)."""

    message = _("Esta chave de API é somente leitura.")

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        return request.method in permissions.SAFE_METHODS or key.can_write
