"""Customer e-mails: the merchant's settings and template changes, and the log of every e-mail sent."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.models import Event
from notifications.emails.choices import SKIPPED_REASON, CustomerEmailKind, EmailSendingStatus

RENEWAL_REMINDER_DAYS_DEFAULT = 3


class CustomerEmailSettings(models.Model):
    """What every customer e-mail of a merchant shares: the reply-to address, the link to what the customer
    bought, and how many days before a renewal the reminder goes out. Merchants without a row use the
    defaults."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="customer_email_settings", verbose_name=_("lojista")
    )
    reply_to = models.EmailField(
        _("responder para"),
        blank=True,
        help_text=_("As respostas dos clientes vão para este e-mail (por exemplo, o do seu suporte)."),
    )
    access_url = models.URLField(
        _("link de acesso"),
        max_length=500,
        blank=True,
        help_text=_("Onde o cliente acessa o que assinou (área de membros, app, site)."),
    )
    renewal_reminder_days = models.PositiveSmallIntegerField(
        _("lembrete de renovação (dias antes)"),
        default=RENEWAL_REMINDER_DAYS_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("De 1 a 30 dias antes da próxima cobrança."),
    )
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("configuração de e-mails aos clientes")
        verbose_name_plural = _("configurações de e-mails aos clientes")

    def __str__(self):
        return str(self.merchant)

    @classmethod
    def for_merchant(cls, merchant) -> "CustomerEmailSettings":
        """The merchant's settings, or unsaved defaults when they never changed them."""
        try:
            return merchant.customer_email_settings
        except cls.DoesNotExist:
            return cls(merchant=merchant)


class CustomerEmailTemplate(models.Model):
    """A merchant's changes to one kind of customer e-mail. A blank subject or body means "the default"
    (the file in templates/notifications/customer_emails/), so a merchant who only changes the subject
    keeps getting improvements to the default body. No row at all: the default, enabled."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="customer_email_templates", verbose_name=_("lojista")
    )
    kind = models.CharField(_("e-mail"), max_length=32, choices=CustomerEmailKind.choices)
    subject = models.CharField(_("assunto"), max_length=255, blank=True)
    body_text = models.TextField(_("texto"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    is_enabled = models.BooleanField(_("ativo"), default=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("atualizado por"),
    )

    class Meta:
        verbose_name = _("modelo de e-mail ao cliente")
        verbose_name_plural = _("modelos de e-mail ao cliente")
        ordering = ["merchant", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "kind"], name="customer_email_template_once_per_kind"
            ),
        ]

    def __str__(self):
        return self.get_kind_display()

    def get_absolute_url(self):
        return reverse("notifications:customer_email_edit", kwargs={"kind": self.kind})

    @property
    def is_customized(self) -> bool:
        return bool(self.subject or self.body_text or self.body_html)


class EmailSending(models.Model):
    """One customer e-mail: what was rendered, to whom, why, and whether the mail server took it.

    Written in the transaction of whatever caused it and sent after that transaction commits. The unique
    (merchant, dedupe_key) makes "this event" or "this period's reminder" e-mail the customer at most
    once, however many workers process it at the same time.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="email_sendings", verbose_name=_("lojista")
    )
    kind = models.CharField(_("e-mail"), max_length=32, choices=CustomerEmailKind.choices)
    recipient = models.EmailField(_("destinatário"), max_length=254)
    subject = models.CharField(_("assunto"), max_length=255)
    body_text = models.TextField(_("texto"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    subscription = models.ForeignKey(
        "subscribers.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_sendings",
        verbose_name=_("assinatura"),
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_sendings",
        verbose_name=_("evento"),
    )
    dedupe_key = models.CharField(_("chave de deduplicação"), max_length=120, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=EmailSendingStatus.choices, default=EmailSendingStatus.PENDING
    )
    error = models.CharField(_("erro"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("enviado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail enviado")
        verbose_name_plural = _("e-mails enviados")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "dedupe_key"], name="email_sending_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="email_sending_log"),
            models.Index(fields=["subscription", "-created_at"], name="email_sending_subscription"),
            models.Index(fields=["status", "created_at"], name="email_sending_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient}"

    def get_absolute_url(self):
        return reverse("notifications:email_sending_detail", kwargs={"pk": self.pk})

    @property
    def error_display(self) -> str:
        """Why it was not sent, in the active language. A skip has one reason (its kind is turned off), shown
        from the status; `error` holds a mail server's or a template's own words, verbatim."""
        if self.status == EmailSendingStatus.SKIPPED and not self.error:
            return str(SKIPPED_REASON)
        return self.error
