"""Customer e-mails: rendering (the merchant's version or the default), recording and sending.

`send_customer_email` is the one way an e-mail reaches a merchant's customer (the outbox consumer, the
reminders and automations call it). It renders in pt-BR, records an EmailSending in the caller's
transaction and sends it after that transaction commits, through Django's e-mail backend (text + HTML).
It never raises into the caller: a render or mail-server failure is recorded on the row.

A kind the merchant turned off is recorded as "skipped" (so the log says why nothing went out, and the
same event does not e-mail later if the kind is turned back on). A `dedupe_key` already used by the
merchant records nothing and returns None: the unique constraint is what keeps two workers from
e-mailing the same event twice.
"""

import datetime as dt
import logging
import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from notifications.emails.choices import CustomerEmailKind, EmailSendingStatus
from notifications.emails.models import CustomerEmailSettings, CustomerEmailTemplate, EmailSending
from notifications.emails.services.email_context import base_context, plain, render_string, sample_context

logger = logging.getLogger(__name__)

DEFAULTS_DIR = "notifications/customer_emails"
LAYOUT_TEMPLATE = f"{DEFAULTS_DIR}/_layout.html"
ERROR_CHARS = 500
# A sending still queued after this long lost its worker between commit and send: it is sent again.
STALE_AFTER_MINUTES = 10
PARTS = ("subject", "body_text", "body_html")
_SUFFIX = {"subject": "subject.txt", "body_text": "txt", "body_html": "html"}


def default_source(kind: str, part: str) -> str:
    """The default template's source for one part ("subject", "body_text", "body_html") of `kind`."""
    CustomerEmailKind(kind)
    return get_template(f"{DEFAULTS_DIR}/{kind}.{_SUFFIX[part]}").template.source


def template_sources(*, merchant, kind: str, overrides: dict | None = None) -> dict:
    """{part: source}: the `overrides` given (the edit form's unsaved text), else the merchant's saved
    version, else the default — part by part."""
    row = CustomerEmailTemplate.objects.filter(merchant=merchant, kind=kind).first()
    sources = {}
    for part in PARTS:
        value = (overrides or {}).get(part)
        if value is None and row is not None:
            value = getattr(row, part)
        sources[part] = value or default_source(kind, part)
    return sources


def _layout(*, html_body: str, context: dict, subject: str) -> str:
    # The body was rendered by the restricted engine with autoescape on: it is the merchant's HTML.
    return render_to_string(
        LAYOUT_TEMPLATE,
        {
            "content": mark_safe(html_body),
            "loja": context.get("loja", {}),
            "portal": context.get("portal", ""),
            "subject": subject,
        },
    )


def render_customer_email(
    *, merchant, kind: str, subscription=None, sample: bool = False, overrides=None, extra=None
) -> tuple[str, str, str]:
    """(subject, text, html) of `kind` for `subscription`, or for made-up data with `sample` (the preview,
    "Enviar teste"). Raises TemplateSyntaxError for a broken template (the edit form shows it)."""
    email_settings = CustomerEmailSettings.for_merchant(merchant)
    if sample or subscription is None:
        context = sample_context(merchant=merchant, email_settings=email_settings)
    else:
        context = base_context(merchant=merchant, subscription=subscription, email_settings=email_settings)
    for key, value in plain(extra or {}).items():
        if isinstance(value, dict) and isinstance(context.get(key), dict):
            context[key] = {**context[key], **value}
        else:
            context[key] = value
    sources = template_sources(merchant=merchant, kind=kind, overrides=overrides)
    # One line (headers cannot hold newlines); the no-break space inside "R$ 1,00" stays.
    subject = re.sub(r"[ \t\r\n]+", " ", render_string(sources["subject"], context, html=False)).strip()
    text = render_string(sources["body_text"], context, html=False).strip() + "\n"
    html = _layout(
        html_body=render_string(sources["body_html"], context, html=True), context=context, subject=subject
    )
    return subject, text, html


def is_enabled(*, merchant, kind: str) -> bool:
    return not CustomerEmailTemplate.objects.filter(merchant=merchant, kind=kind, is_enabled=False).exists()


def send_customer_email(
    *, kind: str, subscription, event=None, dedupe_key: str | None = None, extra: dict | None = None
) -> EmailSending | None:
    """Renders `kind` for the subscription's customer, records it and sends it after commit.

    Returns the EmailSending (pending, or failed/skipped), or None when `dedupe_key` was already used by
    this merchant (nothing more is sent). An event without an explicit key dedupes on the event and kind.
    """
    kind = CustomerEmailKind(kind)
    merchant = subscription.merchant
    if dedupe_key is None and event is not None:
        dedupe_key = f"event:{event.uid}:{kind}"
    sending = EmailSending(
        merchant=merchant,
        kind=kind,
        recipient=subscription.customer.email,
        subscription=subscription,
        event=event,
        dedupe_key=dedupe_key,
    )
    try:
        if not is_enabled(merchant=merchant, kind=kind):
            # Its reason is the status (EmailSending.error_display names it in the reader's language).
            sending.status = EmailSendingStatus.SKIPPED
            sending.subject = str(kind.label)
        else:
            sending.subject, sending.body_text, sending.body_html = render_customer_email(
                merchant=merchant, kind=kind, subscription=subscription, extra=extra
            )
    except Exception as exc:  # a broken template must cost this e-mail, not the caller's transaction
        logger.exception("customer e-mail %s for subscription %s: render failed", kind, subscription.pk)
        sending.status = EmailSendingStatus.FAILED
        sending.error = f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS]
        sending.subject = sending.subject or str(kind.label)
    sending.subject = sending.subject[:255]
    try:
        with transaction.atomic():  # a savepoint: a duplicate key leaves the caller's transaction intact
            sending.save()
    except IntegrityError:
        return None
    if sending.status == EmailSendingStatus.PENDING:
        transaction.on_commit(lambda: deliver_sending(sending.pk), robust=True)
    return sending


def _message(sending: EmailSending) -> EmailMultiAlternatives:
    email_settings = CustomerEmailSettings.for_merchant(sending.merchant)
    message = EmailMultiAlternatives(
        subject=sending.subject,
        body=sending.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[sending.recipient],
        reply_to=[email_settings.reply_to] if email_settings.reply_to else None,
    )
    if sending.body_html:
        message.attach_alternative(sending.body_html, "text/html")
    return message


def deliver_sending(sending_pk: int) -> EmailSending | None:
    """Hands one queued e-mail to the mail server and records the outcome; never raises.

    The row stays locked while it is sent, so the stale-sending sweep of another worker skips it; a
    worker that dies mid-send leaves it queued and the sweep sends it again later (at least once)."""
    try:
        with transaction.atomic():
            sending = (
                EmailSending.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("merchant")
                .filter(pk=sending_pk, status=EmailSendingStatus.PENDING)
                .first()
            )
            if sending is None:
                return None
            try:
                _message(sending).send()
            except Exception as exc:
                logger.warning("customer e-mail %s: sending failed: %s", sending.pk, exc)
                sending.status = EmailSendingStatus.FAILED
                sending.error = f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS]
            else:
                sending.status = EmailSendingStatus.SENT
                sending.sent_at = timezone.now()
            sending.save(update_fields=["status", "error", "sent_at"])
            return sending
    except Exception:
        logger.exception("customer e-mail %s: could not be recorded", sending_pk)
        return None


def deliver_stale_sendings(*, now=None) -> int:
    """Sends e-mails left queued by a worker that died between its commit and the send."""
    now = now or timezone.now()
    stale = EmailSending.objects.filter(
        status=EmailSendingStatus.PENDING, created_at__lte=now - dt.timedelta(minutes=STALE_AFTER_MINUTES)
    ).values_list("pk", flat=True)[:500]
    return sum(1 for pk in list(stale) if deliver_sending(pk) is not None)


def send_test_email(*, merchant, kind: str, to: str, overrides: dict | None = None) -> None:
    """ "Enviar teste": the sample e-mail to the person editing it (not recorded in the customers' log)."""
    subject, text, html = render_customer_email(
        merchant=merchant, kind=kind, sample=True, overrides=overrides
    )
    email_settings = CustomerEmailSettings.for_merchant(merchant)
    message = EmailMultiAlternatives(
        subject=f"[TESTE] {subject}",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[email_settings.reply_to] if email_settings.reply_to else None,
    )
    message.attach_alternative(html, "text/html")
    message.send()
