import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from notifications.catalog import TEST_EVENT_TYPE
from notifications.choices import (
    CustomerEmailKind,
    DeliveryOrigin,
    DeliveryStatus,
    DisabledReason,
    EmailSendingStatus,
)
from notifications.fields import EncryptedSecretField


class Event(models.Model):
    """The outbox: one row per domain event, written in the same transaction as the change it describes.

    Three consumers read it, each with its own marker so one being late never holds the others back:
    webhook fan-out (`processed_at`), customer e-mails (`emails_processed_at`) and automations
    (`automations_processed_at`). Partial indexes keep "what is left to do" cheap however long the table
    grows. `uid` is the id receivers see.
    """

    uid = models.UUIDField(_("identificador"), default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="events", verbose_name=_("lojista")
    )
    type = models.CharField(_("tipo"), max_length=64, db_index=True)
    payload = models.JSONField(_("dados"), default=dict)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processado em"), null=True, blank=True)
    emails_processed_at = models.DateTimeField(_("e-mails processados em"), null=True, blank=True)
    automations_processed_at = models.DateTimeField(_("automações processadas em"), null=True, blank=True)

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="event_webhooks_todo"),
            models.Index(
                fields=["id"], condition=Q(emails_processed_at__isnull=True), name="event_emails_todo"
            ),
            models.Index(
                fields=["id"],
                condition=Q(automations_processed_at__isnull=True),
                name="event_automations_todo",
            ),
        ]

    def __str__(self):
        return f"{self.type} ({self.uid})"


class WebhookEndpoint(models.Model):
    """A URL of the merchant's that receives the events it subscribed to, signed with its own secret.

    The secret is shown to the merchant once (after creation or rotation) and kept to sign deliveries;
    during a rotation's grace period the previous secret signs too, so receivers can switch without loss.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("lojista")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("descrição"), max_length=200, blank=True)
    all_event_types = models.BooleanField(_("todos os eventos"), default=True)
    event_types = models.JSONField(_("eventos"), default=list, blank=True)
    is_active = models.BooleanField(_("ativo"), default=True)
    # Encrypted in the column (notifications/fields.py), in clear on the instance.
    secret = EncryptedSecretField(_("segredo de assinatura"), editable=False)
    previous_secret = EncryptedSecretField(_("segredo anterior"), blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(_("segredo anterior vale até"), null=True, blank=True)
    secret_rotated_at = models.DateTimeField(_("segredo trocado em"), null=True, blank=True)
    # Health: when the current run of failures began (cleared by any success), and how many deliveries
    # in a row ended failed. Either one past its limit disables the endpoint (see services.dispatch).
    failing_since = models.DateTimeField(_("falhando desde"), null=True, blank=True)
    consecutive_failed_deliveries = models.PositiveIntegerField(_("entregas falhas seguidas"), default=0)
    disabled_at = models.DateTimeField(_("desativado em"), null=True, blank=True)
    disabled_reason = models.CharField(
        _("motivo da desativação"), max_length=16, choices=DisabledReason.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criado por"),
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("endpoint de webhook")
        verbose_name_plural = _("endpoints de webhook")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "is_active"], name="webhook_endpoint_active")]

    def __str__(self):
        return self.url

    def get_absolute_url(self):
        return reverse("notifications:endpoint_detail", kwargs={"pk": self.pk})

    def receives(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to `event_type` (the test event goes only where it is sent)."""
        if event_type == TEST_EVENT_TYPE:
            return False
        return self.all_event_types or event_type in self.event_types

    @property
    def masked_secret(self) -> str:
        """What the screens show after the one-time reveal: the prefix and four characters."""
        return f"{self.secret[:10]}…" if self.secret else ""

    @property
    def auto_disabled(self) -> bool:
        return not self.is_active and bool(self.disabled_reason)

    def signing_secrets(self, now) -> list[str]:
        """The secrets that sign a delivery sent at `now`: the current one, plus the previous one while its
        grace period lasts."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(models.Model):
    """One event to send to one endpoint, retried until it succeeds or its attempts run out.

    The outbox fan-out creates at most one per (endpoint, event); "Reenviar" and "Enviar teste" add
    more. A worker claims due deliveries by setting `claimed_until` (a lease) and `claim_token`, sends
    outside any transaction, then records the attempt; a worker that dies leaves the lease to expire,
    and the delivery is sent again — at least once, never lost.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_deliveries", verbose_name=_("lojista")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="webhook_deliveries", verbose_name=_("evento")
    )
    origin = models.CharField(
        _("origem"), max_length=8, choices=DeliveryOrigin.choices, default=DeliveryOrigin.EVENT
    )
    resend_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resends",
        verbose_name=_("reenvio de"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("reservada até"), null=True, blank=True)
    claim_token = models.UUIDField(_("reserva"), null=True, blank=True, editable=False)
    # The last attempt, copied here so the delivery log needs no query per row.
    last_attempt_at = models.DateTimeField(_("última tentativa"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("código HTTP"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("latência (ms)"), null=True, blank=True)
    last_response_excerpt = models.CharField(_("resposta"), max_length=500, blank=True)
    last_error = models.CharField(_("erro"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criada por"),
    )
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("concluída em"), null=True, blank=True)

    class Meta:
        verbose_name = _("entrega de webhook")
        verbose_name_plural = _("entregas de webhook")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=Q(origin="event"),
                name="webhook_delivery_once_per_endpoint_event",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self):
        return f"{self.event.type} → {self.endpoint.url}"

    def get_absolute_url(self):
        return reverse("notifications:delivery_detail", kwargs={"pk": self.pk})

    @property
    def can_resend(self) -> bool:
        """A delivery still being tried is not resent (it would only race itself)."""
        return self.status != DeliveryStatus.PENDING


class WebhookDeliveryAttempt(models.Model):
    """One HTTP request of a delivery and what came back (or why nothing did)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("entrega")
    )
    number = models.PositiveSmallIntegerField(_("tentativa"))
    attempted_at = models.DateTimeField(_("enviada em"))
    succeeded = models.BooleanField(_("sucesso"), default=False)
    status_code = models.PositiveSmallIntegerField(_("código HTTP"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latência (ms)"), null=True, blank=True)
    response_excerpt = models.CharField(_("resposta"), max_length=500, blank=True)
    error = models.CharField(_("erro"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("tentativa de entrega")
        verbose_name_plural = _("tentativas de entrega")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number"),
        ]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error}"


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


# Automations live in their own module (notifications/automations/); importing them here makes them models
# of this app.
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration  # noqa: E402

__all__ = [
    "Automation",
    "AutomationRun",
    "CustomerEmailSettings",
    "CustomerEmailTemplate",
    "EmailSending",
    "Event",
    "ProviderIntegration",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
]
