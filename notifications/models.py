import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant


class Event(models.Model):
    """The outbox: one row per domain event, written in the same transaction as the change it describes.

    Webhook deliveries and automations are driven from here later; `uid` is the id receivers see.
    """

    uid = models.UUIDField(_("identificador"), default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="events", verbose_name=_("lojista")
    )
    type = models.CharField(_("tipo"), max_length=64, db_index=True)
    payload = models.JSONField(_("dados"), default=dict)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.type} ({self.uid})"
