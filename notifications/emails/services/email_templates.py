"""Notificações > E-mails: the merchant's changes to the customer e-mails and their shared settings."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import TemplateSyntaxError
from django.utils.translation import gettext as _

from notifications.emails.choices import CustomerEmailKind
from notifications.emails.models import CustomerEmailSettings, CustomerEmailTemplate
from notifications.emails.services.customer_emails import PARTS, default_source
from notifications.emails.services.email_context import check_template

SETTINGS_FIELDS = frozenset({"reply_to", "access_url", "renewal_reminder_days"})


def validate_sources(sources: dict) -> None:
    """Raises ValidationError, per field and in pt-BR, for every part that is not a valid template."""
    errors = {}
    for part in PARTS:
        try:
            check_template(sources.get(part) or "")
        except TemplateSyntaxError as exc:
            errors[part] = ValidationError(str(exc), code="template_syntax")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def customer_email_template_save(
    *, merchant, actor, kind: str, subject: str, body_text: str, body_html: str, is_enabled: bool = True
) -> CustomerEmailTemplate:
    """Saves the merchant's version of `kind`. A part equal to the default is stored blank, so it keeps
    following the default; templates that do not compile (or use a refused tag) are refused."""
    kind = CustomerEmailKind(kind)
    sources = {"subject": subject, "body_text": body_text, "body_html": body_html}
    validate_sources(sources)
    if not (subject or "").strip():
        raise ValidationError({"subject": ValidationError(_("Informe o assunto."), code="required")})
    row, _created = CustomerEmailTemplate.objects.select_for_update().get_or_create(
        merchant=merchant, kind=kind
    )
    for part, value in sources.items():
        value = (value or "").replace("\r\n", "\n")
        setattr(row, part, "" if value.strip() == default_source(kind, part).strip() else value)
    row.is_enabled = is_enabled
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def customer_email_template_restore(*, merchant, actor, kind: str) -> None:
    """ "Restaurar padrão": forgets the merchant's text for `kind`. The row goes away unless it still says
    the kind is turned off (restoring the text does not turn an e-mail back on)."""
    row = CustomerEmailTemplate.objects.select_for_update().filter(merchant=merchant, kind=kind).first()
    if row is None:
        return
    if row.is_enabled:
        row.delete()
        return
    row.subject, row.body_text, row.body_html = "", "", ""
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.save()


@transaction.atomic
def customer_email_settings_update(*, merchant, **fields) -> CustomerEmailSettings:
    """Saves reply-to, access link and reminder days (validated: 1 to 30 days); nothing half-saved."""
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise TypeError(
            "customer_email_settings_update() got unexpected fields: " + ", ".join(sorted(unknown))
        )
    email_settings, _created = CustomerEmailSettings.objects.select_for_update().get_or_create(
        merchant=merchant
    )
    for name, value in fields.items():
        setattr(email_settings, name, value)
    email_settings.full_clean()
    email_settings.save()
    merchant.customer_email_settings = email_settings
    return email_settings
