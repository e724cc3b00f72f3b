import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.money import CURRENCY_CHOICES, DEFAULT_CURRENCY, format_money
from core.percent import DISCOUNT_PERCENT, TAX_PERCENT
from plans.choices import (
    PLAN_ACTIONS,
    PRESET_INTERVALS,
    CheckoutLinkStatus,
    CouponDuration,
    CouponKind,
    IntervalPreset,
    IntervalUnit,
    PlanStatus,
)

# Smallest price per currency a plan may have (minor units). BRL: R$ 5,00, the gateways' floor.
MINIMUM_PRICE = {"BRL": 500}


class Plan(models.Model):
    """What a merchant sells: a price charged every interval, optionally with a trial or N installments."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="plans", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=120)
    description = models.TextField(_("descrição"), blank=True)
    price = models.BigIntegerField(_("preço"), help_text=_("Em centavos."), validators=[MinValueValidator(0)])
    currency = models.CharField(_("moeda"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    interval_unit = models.CharField(
        _("unidade do intervalo"), max_length=10, choices=IntervalUnit.choices, default=IntervalUnit.MONTH
    )
    interval_count = models.PositiveSmallIntegerField(
        _("a cada"), default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    trial_days = models.PositiveSmallIntegerField(
        _("dias de teste"), default=0, validators=[MaxValueValidator(365)]
    )
    installments = models.PositiveSmallIntegerField(
        _("número de parcelas"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Vazio: cobra até ser cancelada."),
    )
    is_active = models.BooleanField(
        _("ativo"), default=True, help_text=_("Disponível para novas assinaturas.")
    )
    archived_at = models.DateTimeField(_("arquivado em"), null=True, blank=True)
    # The price version new subscriptions are contracted on (its amount is `price`, kept beside it so the
    # catalog's lists and forms read one column). Written only by plans.services.prices.
    current_price = models.ForeignKey(
        "PlanPrice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("versão de preço atual"),
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("plano")
        verbose_name_plural = _("planos")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["merchant", "is_active", "archived_at"], name="plan_merchant_active_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="plan_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(interval_count__gte=1), name="plan_interval_count_positive"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("plans:plan_detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        minimum = MINIMUM_PRICE.get(self.currency)
        if minimum is not None and self.price is not None and self.price < minimum:
            raise ValidationError(
                {
                    "price": ValidationError(
                        _("O preço mínimo de um plano em %(currency)s é %(minimum)s."),
                        code="price_below_minimum",
                        params={"currency": self.currency, "minimum": format_money(minimum, self.currency)},
                    )
                }
            )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def status(self) -> PlanStatus:
        if self.is_archived:
            return PlanStatus.ARCHIVED
        return PlanStatus.ACTIVE if self.is_active else PlanStatus.INACTIVE

    def can(self, action: str) -> bool:
        """True when `action` ("edit", "archive", "unarchive", "delete") is allowed in this status."""
        return self.status in PLAN_ACTIONS[action]

    @property
    def interval_preset(self) -> str:
        for preset, (unit, count) in PRESET_INTERVALS.items():
            if (self.interval_unit, self.interval_count) == (unit, count):
                return preset
        return IntervalPreset.CUSTOM

    @property
    def interval_label(self) -> str:
        preset = self.interval_preset
        if preset != IntervalPreset.CUSTOM:
            return str(IntervalPreset(preset).label)
        return _("A cada %(count)s %(unit)s") % {
            "count": self.interval_count,
            "unit": IntervalUnit(self.interval_unit).label,
        }

    @property
    def price_display(self) -> str:
        return format_money(self.price, self.currency)


class PlanPrice(models.Model):
    """One version of a plan's price (amount, currency, valid from). Subscriptions keep the version they
    were contracted on (`Subscription.plan_price`) until the merchant migrates them after a notice; the
    versions are never edited or deleted while the plan exists, so every invoice's price can be traced."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices", verbose_name=_("plano"))
    version = models.PositiveIntegerField(_("versão"))
    amount = models.BigIntegerField(
        _("valor"), help_text=_("Em centavos."), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("moeda"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    valid_from = models.DateTimeField(_("válido desde"))
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("versão de preço")
        verbose_name_plural = _("versões de preço")
        ordering = ["plan", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="plan_price_version_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="plan_price_amount_not_negative"),
        ]

    def __str__(self):
        return _("%(plan)s v%(version)s — %(amount)s") % {
            "plan": self.plan.name,
            "version": self.version,
            "amount": self.amount_display,
        }

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)


def coupon_expired_q(*, now) -> Q:
    """The coupons whose validity is over at `now` (Coupon.is_expired as a condition)."""
    return Q(expires_at__isnull=False, expires_at__lte=now)


class CouponQuerySet(models.QuerySet):
    def with_redemptions(self):
        """`redemptions`: how many subscriptions use each coupon (one query for a page)."""
        return self.annotate(redemptions=Count("subscriptions"))

    def redeemable(self, *, now):
        """The coupons Coupon.redemption_refusal lets through at `now`, as one query: the same rule for a
        list (tests/plans/test_coupon_redemption_rule.py keeps the two in step)."""
        return (
            self.with_redemptions()
            .filter(is_active=True)
            .exclude(coupon_expired_q(now=now))
            .filter(Q(max_redemptions__isnull=True) | Q(max_redemptions__gt=F("redemptions")))
        )


class Coupon(models.Model):
    """A discount a merchant hands out by code: percent or fixed, once / N months / forever."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("lojista")
    )
    code = models.CharField(_("código"), max_length=40, help_text=_("Letras, números e hífen; maiúsculas."))
    name = models.CharField(_("nome"), max_length=120, blank=True)
    kind = models.CharField(_("tipo"), max_length=10, choices=CouponKind.choices, default=CouponKind.PERCENT)
    percent_off = models.DecimalField(
        _("desconto (%)"),
        null=True,
        blank=True,
        **DISCOUNT_PERCENT.model_field_kwargs(),
    )
    amount_off = models.BigIntegerField(
        _("desconto (valor)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    currency = models.CharField(_("moeda"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    duration = models.CharField(
        _("duração"), max_length=10, choices=CouponDuration.choices, default=CouponDuration.ONCE
    )
    duration_in_months = models.PositiveSmallIntegerField(
        _("meses"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    max_redemptions = models.PositiveIntegerField(
        _("limite de usos"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Vazio: sem limite."),
    )
    expires_at = models.DateTimeField(_("válido até"), null=True, blank=True)
    is_active = models.BooleanField(_("ativo"), default=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    objects = CouponQuerySet.as_manager()

    class Meta:
        verbose_name = _("cupom")
        verbose_name_plural = _("cupons")
        ordering = ["code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"],
                name="coupon_unique_code_per_merchant",
                violation_error_message=_("Já existe um cupom com este código."),
            ),
        ]

    def __str__(self):
        return self.code

    def get_absolute_url(self):
        return reverse("plans:coupon_detail", kwargs={"pk": self.pk})

    def is_expired(self, *, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def redemption_refusal(self, *, now, redemptions: int | None = None) -> str | None:
        """Why the coupon cannot be applied to a subscription at `now` (switched off, expired, used up),
        or None when it can: the one redeemability rule that the contract services enforce and the
        subscription forms' coupon lists follow (CouponQuerySet.redeemable). `redemptions` is the
        `with_redemptions` annotation when the caller has it, else counted here."""
        if not self.is_active:
            return _("Este cupom está desativado.")
        if self.is_expired(now=now):
            return _("Este cupom expirou.")
        if self.max_redemptions is not None:
            if redemptions is None:
                redemptions = self.subscriptions.count()
            if redemptions >= self.max_redemptions:
                return _("Este cupom já foi usado o número máximo de vezes.")
        return None


class TaxRate(models.Model):
    """A tax applied to invoice lines: a percentage, added on top (exclusive) or already in the price
    (inclusive)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="tax_rates", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=80, help_text=_("Por exemplo: ISS."))
    description = models.CharField(_("descrição"), max_length=200, blank=True)
    percentage = models.DecimalField(
        _("alíquota (%)"),
        **TAX_PERCENT.model_field_kwargs(),
    )
    inclusive = models.BooleanField(
        _("incluso no preço"),
        default=False,
        help_text=_("Marque se o preço do plano já inclui este imposto."),
    )
    is_active = models.BooleanField(_("ativo"), default=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("imposto")
        verbose_name_plural = _("impostos")
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.percentage.normalize():f}%)"

    def get_absolute_url(self):
        return reverse("plans:taxrate_detail", kwargs={"pk": self.pk})


def new_checkout_slug() -> str:
    """An unguessable public identifier (96 random bits): the link's URL says nothing about the merchant,
    the plan or how many links exist."""
    return secrets.token_urlsafe(12)


BRAND_COLOR_VALIDATOR = RegexValidator(
    r"^#[0-9A-Fa-f]{6}$", _("Use uma cor no formato #RRGGBB, por exemplo #0d6efd.")
)


class CheckoutLink(models.Model):
    """A shareable public page where a customer subscribes to a plan by themselves (Planos > Links de
    pagamento). The page itself is served by billing (it contracts and charges); the catalog keeps the
    link's terms and its conversion counts."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="checkout_links", verbose_name=_("lojista")
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="checkout_links", verbose_name=_("plano")
    )
    name = models.CharField(
        _("nome interno"), max_length=120, blank=True, help_text=_("Só você vê. Vazio: o nome do plano.")
    )
    slug = models.CharField(_("identificador público"), max_length=32, unique=True, default=new_checkout_slug)
    coupon = models.ForeignKey(
        Coupon,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkout_links",
        verbose_name=_("cupom pré-aplicado"),
    )
    allow_card = models.BooleanField(_("cartão de crédito"), default=True)
    allow_boleto = models.BooleanField(_("boleto"), default=True)
    allow_pix = models.BooleanField(_("pix"), default=True)
    max_completions = models.PositiveIntegerField(
        _("limite de assinaturas"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Vazio: sem limite."),
    )
    expires_at = models.DateTimeField(_("válido até"), null=True, blank=True)
    success_url = models.URLField(
        _("endereço após o pagamento"),
        blank=True,
        help_text=_(
            "O cliente é levado para lá com ?subscription_id=… ao concluir. Vazio: página de sucesso."
        ),
    )
    brand_color = models.CharField(
        _("cor da página"), max_length=7, blank=True, validators=[BRAND_COLOR_VALIDATOR]
    )
    is_active = models.BooleanField(_("ativo"), default=True)
    # Conversion counts (no third-party tracking): page views, submissions that reached payment, and
    # subscriptions contracted through the link.
    visits = models.PositiveBigIntegerField(_("visitas"), default=0)
    started = models.PositiveBigIntegerField(_("iniciados"), default=0)
    completed = models.PositiveBigIntegerField(_("concluídos"), default=0)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("link de pagamento")
        verbose_name_plural = _("links de pagamento")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "is_active"], name="checkoutlink_merchant_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_card=True) | Q(allow_boleto=True) | Q(allow_pix=True),
                name="checkoutlink_some_payment_method",
                violation_error_message=_("Escolha ao menos uma forma de pagamento."),
            ),
        ]

    def __str__(self):
        return self.name or self.plan.name

    def get_absolute_url(self):
        return reverse("plans:checkoutlink_detail", kwargs={"pk": self.pk})

    @property
    def payment_methods(self) -> list[str]:
        """The allowed methods as the subscription's payment_method values, in the page's order."""
        return [
            method
            for method, allowed in (
                ("card", self.allow_card),
                ("boleto", self.allow_boleto),
                ("pix", self.allow_pix),
            )
            if allowed
        ]

    def is_sold_out(self) -> bool:
        return self.max_completions is not None and self.completed >= self.max_completions

    def status(self, *, now) -> str:
        """Open, switched off, or closed (expired, limit reached, plan no longer sold)."""
        if not self.is_active:
            return CheckoutLinkStatus.INACTIVE
        return CheckoutLinkStatus.CLOSED if self.public_refusal(now=now) else CheckoutLinkStatus.OPEN

    def public_refusal(self, *, now) -> str | None:
        """Why the public page is closed (switched off, expired, limit reached, plan no longer sold), or
        None when customers may subscribe. The page answers 404 whatever the reason, so a visitor learns
        nothing about the merchant; the merchant's screen shows the reason."""
        if not self.is_active:
            return _("Link desativado.")
        if self.expires_at is not None and self.expires_at <= now:
            return _("Link expirado.")
        if self.is_sold_out():
            return _("Limite de assinaturas atingido.")
        if not self.plan.is_active or self.plan.is_archived:
            return _("O plano não está à venda.")
        return None
