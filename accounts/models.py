import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import ApiKeyMode, ApiKeyRole, Role
from accounts.logos import logo_upload_to
from accounts.permissions import role_can
from core.money import CURRENCY_CHOICES, DEFAULT_CURRENCY

TIMEZONE_DEFAULT = "America/Sao_Paulo"


class Merchant(models.Model):
    """The tenant: a business selling subscriptions. Every merchant-facing row belongs to one."""

    name = models.CharField(_("nome"), max_length=120)
    slug = models.SlugField(_("identificador"), max_length=60, unique=True)
    currency = models.CharField(
        _("moeda padrão"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    timezone = models.CharField(_("fuso horário"), max_length=64, default=TIMEZONE_DEFAULT)
    # Minha assinatura (the customer portal, docs/portal.md): when a cancellation the customer asks for
    # there ends the subscription, and the offer shown only after the request (never before it).
    portal_cancel_at_period_end = models.BooleanField(
        _("cancelamento pelo portal vale no fim do período pago"),
        default=False,
        help_text=_(
            "Desmarcado: a assinatura termina assim que o cliente pede. Marcado: o pedido é registrado na "
            "hora e o acesso segue até o fim do período já pago."
        ),
    )
    portal_retention_offer = models.TextField(
        _("oferta de retenção"),
        blank=True,
        help_text=_(
            "Mostrada ao cliente somente depois que ele pede o cancelamento no portal, por exemplo: "
            "“Volte: 3 meses pela metade do preço com o cupom VOLTA50”. Em branco: nenhuma oferta."
        ),
    )
    # Shown on the public checkout page, the customer portal and customer e-mails; written only by
    # accounts.services.merchant_logo_set / merchant_logo_remove (checked by accounts/logos.py). Indexed:
    # the file view (accounts.views.merchant_logo_file) looks the merchant up by it.
    logo = models.FileField(
        _("logotipo"), upload_to=logo_upload_to, blank=True, max_length=100, db_index=True
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("lojista")
        verbose_name_plural = _("lojistas")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        """The merchant's time zone: "today", "day of month" and every date shown follow it."""
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return timezone.get_default_timezone()

    def localdate(self, now=None) -> dt.date:
        """Today (or `now`'s date) on the merchant's clock."""
        return (now or timezone.now()).astimezone(self.tzinfo).date()

    def start_of_day(self, day: dt.date) -> dt.datetime:
        """Midnight of `day` on the merchant's clock, as an aware datetime."""
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tzinfo)


class Membership(models.Model):
    """Ties a user to a merchant with one role; a user may belong to several merchants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("usuário"),
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("lojista")
    )
    role = models.CharField(_("papel"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("vínculo")
        verbose_name_plural = _("vínculos")
        ordering = ["merchant__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.merchant} ({self.get_role_display()})"

    def can(self, action) -> bool:
        return role_can(self.role, action)


class ApiKey(models.Model):
    """A merchant's key for the REST API (docs/api.md). Only the SHA-256 of the secret is stored: the
    full key is shown once, when it is created. A plain (unsalted, fast) hash is enough because the
    secret is 32 random bytes: nobody can guess it or build a table of candidates, so the slow, salted
    hashes meant for people's passwords would only slow every API request down."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=80)
    role = models.CharField(_("permissão"), max_length=12, choices=ApiKeyRole.choices)
    mode = models.CharField(_("ambiente"), max_length=4, choices=ApiKeyMode.choices, default=ApiKeyMode.LIVE)
    # The first characters of the key ("rk_live_AbCd"), shown in the list so a person can tell keys apart.
    prefix = models.CharField(_("início da chave"), max_length=20)
    secret_hash = models.CharField(_("hash da chave"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criada por"),
    )
    created_at = models.DateTimeField(_("criada em"), default=timezone.now)
    last_used_at = models.DateTimeField(_("último uso em"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revogada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("chave de API")
        verbose_name_plural = _("chaves de API")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def get_absolute_url(self):
        return reverse("accounts:api_keys")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.role == ApiKeyRole.READ_WRITE
