"""Customer e-mails of the subscription lifecycle, sent after commit, always in pt-BR."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from subscribers.models import Subscription


def _send(subscription_pk: int, template: str, subject: str) -> bool:
    subscription = (
        Subscription.objects.select_related("customer", "plan", "merchant").filter(pk=subscription_pk).first()
    )
    if subscription is None:
        return False

    # Dates read as the merchant's customers see them: pt-BR, in the merchant's timezone.
    with translation.override("pt-br"), timezone.override(subscription.merchant.tzinfo):
        context = {
            "subscription": subscription,
            "customer": subscription.customer,
            "merchant": subscription.merchant,
        }
        body = render_to_string(f"subscribers/emails/{template}.txt", context)
        html = render_to_string(f"subscribers/emails/{template}.html", context)
        send_mail(
            translation.gettext(subject) % {"merchant": subscription.merchant.name},
            body,
            None,
            [subscription.customer.email],
            html_message=html,
        )
    return True


def send_subscription_created(subscription_pk: int) -> bool:
    return _send(
        subscription_pk, "subscription_created", translation.gettext_noop("Sua assinatura em %(merchant)s")
    )


def send_access(subscription_pk: int) -> bool:
    return _send(subscription_pk, "access", translation.gettext_noop("Seu acesso em %(merchant)s"))
