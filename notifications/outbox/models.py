"""The outbox table the three consumers (webhooks, customer e-mails, automations) read."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant


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
