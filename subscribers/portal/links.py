"""The portal's address for places with no request to build it from (e-mails): settings.PUBLIC_URL."""

from django.conf import settings
from django.urls import reverse


def portal_url(merchant) -> str:
    """The absolute URL of the merchant's Minha assinatura, or "" when PUBLIC_URL is not set."""
    base = (settings.PUBLIC_URL or "").rstrip("/")
    if not base:
        return ""
    return base + reverse("portal:login", kwargs={"slug": merchant.slug})
