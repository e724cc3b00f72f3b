"""E-mails to the merchant's team about webhooks, sent after commit, always in pt-BR."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.models import Membership
from notifications.webhooks.models import WebhookEndpoint


def send_endpoint_disabled(endpoint_pk: int) -> bool:
    """Tells the merchant's owners that an endpoint was disabled automatically, and why."""
    endpoint = WebhookEndpoint.objects.select_related("merchant").filter(pk=endpoint_pk).first()
    if endpoint is None or endpoint.is_active:
        return False
    recipients = sorted(
        {
            email
            for email in Membership.objects.filter(merchant=endpoint.merchant, role=Role.OWNER).values_list(
                "user__email", flat=True
            )
            if email
        }
    )
    if not recipients:
        return False
    with translation.override("pt-br"), timezone.override(endpoint.merchant.tzinfo):
        context = {"endpoint": endpoint, "merchant": endpoint.merchant}
        send_mail(
            translation.gettext("Webhook desativado em %(merchant)s") % {"merchant": endpoint.merchant.name},
            render_to_string("notifications/emails/endpoint_disabled.txt", context),
            None,
            recipients,
        )
    return True
