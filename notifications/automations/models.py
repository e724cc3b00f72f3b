"""Automations: rules, the provider integrations they push contacts to, and their runs.

Gathered in notifications/models.py, so they belong to the notifications app (and its migrations).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.models import Event
from notifications import attempt_notes, crypto
from notifications.automations.choices import ActionKind, IntegrationKind, RunOrigin, RunStatus, Trigger
from notifications.emails.choices import CustomerEmailKind
from notifications.fields import EncryptedSecretField
from notifications.retries import LeasedRetry
from plans.models import Plan


class ProviderIntegration(models.Model):
    """An e-mail marketing provider the merchant's automations push contacts to.

    The credential (a header name and a secret token) is stored encrypted (notifications/crypto.py) and
    never shown back: screens show the last four characters only, and editing offers "replace".
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="provider_integrations", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=120)
    kind = models.CharField(
        _("tipo"), max_length=20, choices=IntegrationKind.choices, default=IntegrationKind.GENERIC_HTTP
    )
    url = models.URLField(_("URL"), max_length=500)
    auth_header = models.CharField(_("cabeçalho de autenticação"), max_length=100, default="Authorization")
    token_encrypted = models.TextField(_("token (criptografado)"), blank=True, editable=False)
    token_last4 = models.CharField(_("final do token"), max_length=4, blank=True, editable=False)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("alterada em"), auto_now=True)

    class Meta:
        verbose_name = _("integração de e-mail marketing")
        verbose_name_plural = _("integrações de e-mail marketing")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("notifications:integration_detail", kwargs={"pk": self.pk})

    @property
    def masked_token(self) -> str:
        return crypto.mask(self.token_last4)

    def token(self) -> str:
        """The secret in clear, for the request to the provider only."""
        return crypto.decrypt(self.token_encrypted) if self.token_encrypted else ""


class Automation(models.Model):
    """A rule: when `trigger` happens to a subscription matching the conditions, do the action.

    Conditions left empty match everything; the amount range is in the merchant's currency (`currency`)
    and in minor units, compared with the subscription's amount. A failing run sets `last_error` (the
    error badge) until a later success clears it.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="automations", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=120)
    trigger = models.CharField(_("gatilho"), max_length=32, choices=Trigger.choices)
    # Conditions.
    plans = models.ManyToManyField(Plan, blank=True, related_name="+", verbose_name=_("planos"))
    payment_methods = models.JSONField(_("formas de pagamento"), default=list, blank=True)
    cancel_origins = models.JSONField(_("origens do cancelamento"), default=list, blank=True)
    amount_min = models.PositiveBigIntegerField(_("valor mínimo"), null=True, blank=True)
    amount_max = models.PositiveBigIntegerField(_("valor máximo"), null=True, blank=True)
    currency = models.CharField(_("moeda"), max_length=3, default="BRL")
    # Action.
    action = models.CharField(_("ação"), max_length=12, choices=ActionKind.choices)
    email_kind = models.CharField(_("e-mail"), max_length=32, choices=CustomerEmailKind.choices, blank=True)
    webhook_url = models.URLField(_("URL do webhook"), max_length=500, blank=True)
    # Encrypted in the column (notifications/fields.py), in clear on the instance.
    signing_secret = EncryptedSecretField(_("segredo de assinatura"), blank=True, editable=False)
    integration = models.ForeignKey(
        ProviderIntegration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="automations",
        verbose_name=_("integração"),
    )
    list_id = models.CharField(_("lista"), max_length=200, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # State.
    is_enabled = models.BooleanField(_("ativa"), default=True)
    # The last failed run's error (copied from it): free text, or our words as a code of
    # notifications/attempt_notes.py and its params, shown in the reader's language.
    last_error = models.CharField(_("último erro"), max_length=500, blank=True)
    last_error_code = models.CharField(_("código do erro"), max_length=40, blank=True)
    last_error_params = models.JSONField(_("parâmetros do erro"), default=dict, blank=True)
    last_error_at = models.DateTimeField(_("último erro em"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("última execução"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criada por"),
    )
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("alterada em"), auto_now=True)

    class Meta:
        verbose_name = _("automação")
        verbose_name_plural = _("automações")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["merchant", "is_enabled", "trigger"], name="automation_by_trigger")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("notifications:automation_detail", kwargs={"pk": self.pk})

    @property
    def last_error_display(self) -> str:
        """The last failure, in the active language: our coded sentence, else the stored text."""
        return attempt_notes.error_text(self.last_error_code, self.last_error_params, self.last_error)

    @property
    def masked_secret(self) -> str:
        return f"{self.signing_secret[:10]}…" if self.signing_secret else ""


class AutomationRun(LeasedRetry):
    """One execution of a rule for one event, retried like a webhook delivery until it succeeds or its
    attempts run out. The outbox consumer creates at most one per (rule, event); "Enviar teste" adds runs
    without an event. Claimed with a lease and executed outside any transaction, like WebhookDelivery
    (leased work, notifications/retries.py); a test run is never retried."""

    uid = models.UUIDField(_("identificador"), default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="automation_runs", verbose_name=_("lojista")
    )
    automation = models.ForeignKey(
        Automation, on_delete=models.CASCADE, related_name="runs", verbose_name=_("automação")
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="automation_runs",
        verbose_name=_("evento"),
    )
    event_type = models.CharField(_("tipo de evento"), max_length=64)
    origin = models.CharField(_("origem"), max_length=8, choices=RunOrigin.choices, default=RunOrigin.EVENT)
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING
    )

    class Meta:
        verbose_name = _("execução de automação")
        verbose_name_plural = _("execuções de automação")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["automation", "event"],
                condition=Q(origin="event"),
                name="automation_run_once_per_event",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="automation_run_due"),
            models.Index(fields=["automation", "-created_at"], name="automation_run_log"),
        ]

    def __str__(self):
        return f"{self.automation} ← {self.event_type}"

    def get_absolute_url(self):
        return self.automation.get_absolute_url()

    @property
    def is_retried(self) -> bool:
        return self.origin != RunOrigin.TEST
