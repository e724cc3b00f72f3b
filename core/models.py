"""Core tables: the outbox (Event), one-time tokens / idempotency keys, and worker heartbeats (so the web
side can tell which task clusters are alive)."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One used one-time form token, or one API `Idempotency-Key`: what a request that must happen once
    has already done.

    The row is inserted in the same transaction as the object the request creates (see
    `core.idempotency.once`), so the unique constraint decides which of two concurrent requests wins:
    the other waits for its commit and then finds the row, with what the first one produced (the object
    and the URL a form redirects to, or the status and body an API answer repeats).
    """

    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    # What the key is for: "form:subscribers:subscription_create", or "api:POST /api/v1/subscriptions".
    scope = models.CharField(_("escopo"), max_length=120)
    key = models.CharField(_("chave"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usuário"),
    )
    created_at = models.DateTimeField(_("usado em"), default=timezone.now, db_index=True)
    # A hash of the request (an API body): the same key sent with another request is refused.
    request_fingerprint = models.CharField(_("impressão da requisição"), max_length=64, blank=True)
    result_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result_id = models.CharField(_("id do resultado"), max_length=64, blank=True)
    result_url = models.CharField(_("endereço do resultado"), max_length=500, blank=True)
    response_status = models.PositiveSmallIntegerField(_("status da resposta"), null=True, blank=True)
    response_body = models.JSONField(_("corpo da resposta"), null=True, blank=True)

    class Meta:
        verbose_name = _("chave de idempotência")
        verbose_name_plural = _("chaves de idempotência")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "scope", "key"], name="idempotency_key_once"),
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"

    @property
    def result(self):
        """The object the first request created (None if it has been deleted since)."""
        if self.result_type_id is None or not self.result_id:
            return None
        return self.result_type.model_class()._default_manager.filter(pk=self.result_id).first()


class WorkerHeartbeat(models.Model):
    """One row per running worker process of a task cluster, touched every few seconds by the worker
    itself (core.heartbeat). A row whose `beat_at` is old belongs to a process that died or stopped:
    the billing run's reaper takes its work back and /healthz reports the cluster as down."""

    key = models.CharField(_("processo"), max_length=120, unique=True)  # host:pid:random
    cluster = models.CharField(_("cluster"), max_length=50, db_index=True)
    host = models.CharField(_("máquina"), max_length=100)
    pid = models.PositiveIntegerField(_("pid"))
    started_at = models.DateTimeField(_("início"))
    beat_at = models.DateTimeField(_("último sinal"), db_index=True)
    # The broker's id of the task this process is running (ORM broker), so a stop that has to kill the
    # process can put the task back at once.
    task_ack_id = models.CharField(_("tarefa em execução"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("sinal de vida de worker")
        verbose_name_plural = _("sinais de vida de workers")

    def __str__(self):
        return self.key


class Event(models.Model):
    """The outbox: one row per domain event, written in the same transaction as the change it describes
    (`core.outbox.emit`; the types are `core.events.EventType`).

    Three consumers in notifications read it, each with its own marker so one being late never holds the
    others back: webhook fan-out (`processed_at`), customer e-mails (`emails_processed_at`) and automations
    (`automations_processed_at`). Partial indexes keep "what is left to do" cheap however long the table
    grows. `uid` is the id receivers see. It lives in core because every app writes it.
    """

    uid = models.UUIDField(_("identificador"), default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="events", verbose_name=_("lojista")
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


class TableConfig(models.Model):
    """Which columns one user sees in one list ("Configurar tabela", as NetBox does it): saved per user, so
    the choice follows them across merchants and devices. `columns` lists the shown column names in table
    order; the always-shown ones (selection, actions) are not stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="table_configs",
        verbose_name=_("usuário"),
    )
    # The registry name of the table (core.table_config.CONFIGURABLE_TABLES), e.g. "assinantes".
    table = models.CharField(_("tabela"), max_length=60)
    columns = models.JSONField(_("colunas"), default=list)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    class Meta:
        verbose_name = _("configuração de tabela")
        verbose_name_plural = _("configurações de tabela")
        constraints = [models.UniqueConstraint(fields=["user", "table"], name="tableconfig_user_table_uniq")]

    def __str__(self):
        return f"{self.user} · {self.table}"
