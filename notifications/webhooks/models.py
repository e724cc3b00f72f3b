"""Webhooks: the merchant's endpoints, one delivery per (endpoint, event) and each HTTP attempt of it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.models import Event
from notifications import attempt_notes
from notifications.catalog import TEST_EVENT_TYPE
from notifications.fields import EncryptedSecretField
from notifications.retries import LeasedRetry
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus, DisabledReason


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


class WebhookDelivery(LeasedRetry):
    """One event to send to one endpoint, retried until it succeeds or its attempts run out.

    The outbox fan-out creates at most one per (endpoint, event); "Reenviar" and "Enviar teste" add
    more. Claimed, sent and recorded as leased work (notifications/retries.py): a worker that dies leaves
    the lease to expire, and the delivery is sent again — at least once, never lost.
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
    # Beside the last attempt LeasedRetry keeps: only webhooks measure the receiver's latency.
    last_latency_ms = models.PositiveIntegerField(_("latência (ms)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criada por"),
    )

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
    # The receiver's or an exception's own words; ours are a code of notifications/attempt_notes.py and
    # its params, shown in the reader's language.
    response_excerpt = models.CharField(_("resposta"), max_length=500, blank=True)
    error = models.CharField(_("erro"), max_length=500, blank=True)
    note_code = models.CharField(_("código da observação"), max_length=40, blank=True)
    note_params = models.JSONField(_("parâmetros da observação"), default=dict, blank=True)

    class Meta:
        verbose_name = _("tentativa de entrega")
        verbose_name_plural = _("tentativas de entrega")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number"),
        ]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error_display}"

    @property
    def error_display(self) -> str:
        """Why it failed, in the active language: our coded sentence, else the stored text."""
        return attempt_notes.error_text(self.note_code, self.note_params, self.error)

    @property
    def response_display(self) -> str:
        return attempt_notes.response_text(self.note_code, self.note_params, self.response_excerpt)
