import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.badges import render_badge
from core.tables import ChoiceFieldColumn
from notifications.emails.choices import EmailSendingStatus
from notifications.emails.models import EmailSending


def email_status_badge(sending: EmailSending) -> str:
    return render_badge(EmailSendingStatus, sending.status, title=sending.error_display)


class EmailSendingTable(tables.Table):
    """Notificações > E-mails enviados: one row per customer e-mail."""

    created_at = tables.DateTimeColumn(
        verbose_name=_("Criado em"), short=True, linkify=True, order_by=("created_at", "pk")
    )
    kind = tables.Column(verbose_name=_("E-mail"), order_by=("kind", "pk"))
    recipient = tables.Column(verbose_name=_("Destinatário"), order_by=("recipient", "pk"))
    subject = tables.Column(verbose_name=_("Assunto"), orderable=False)
    status = ChoiceFieldColumn(
        choices=EmailSendingStatus,
        title_accessor="error_display",
        verbose_name=_("Status"),
        order_by=("status", "-created_at", "-pk"),
    )
    sent_at = tables.DateTimeColumn(verbose_name=_("Enviado em"), short=True, order_by=("sent_at", "pk"))
    subscription = tables.Column(
        verbose_name=_("Assinatura"), accessor="subscription_id", order_by=("subscription_id", "pk")
    )

    class Meta:
        model = EmailSending
        fields = []
        sequence = ["created_at", "kind", "recipient", "subject", "status", "sent_at", "subscription"]
        attrs = {"class": "table table-hover align-middle mb-0", "id": "email-sendings"}

    def render_kind(self, record):
        return record.get_kind_display()

    def render_subject(self, value):
        return value if len(value) <= 70 else value[:70] + "…"

    def render_subscription(self, value):
        url = reverse("subscribers:subscription_detail", kwargs={"pk": value})
        return format_html('<a href="{}">#{}</a>', url, value)
