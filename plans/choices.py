from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges


class IntervalUnit(models.TextChoices):
    DAY = "day", _("dia(s)")
    WEEK = "week", _("semana(s)")
    MONTH = "month", _("mês(es)")
    YEAR = "year", _("ano(s)")


class IntervalPreset(models.TextChoices):
    """The periodicities merchants pick most; "custom" means every N days/weeks/months/years."""

    MONTHLY = "monthly", _("Mensal")
    QUARTERLY = "quarterly", _("Trimestral")
    SEMIANNUAL = "semiannual", _("Semestral")
    ANNUAL = "annual", _("Anual")
    CUSTOM = "custom", _("Personalizado")


# preset → (unit, count); the reverse lookup gives a plan its label.
PRESET_INTERVALS = {
    IntervalPreset.MONTHLY: (IntervalUnit.MONTH, 1),
    IntervalPreset.QUARTERLY: (IntervalUnit.MONTH, 3),
    IntervalPreset.SEMIANNUAL: (IntervalUnit.MONTH, 6),
    IntervalPreset.ANNUAL: (IntervalUnit.YEAR, 1),
}


class PlanStatus(models.TextChoices):
    """Where a plan stands for selling: derived from `is_active` and `archived_at`, never stored."""

    ACTIVE = "active", _("Ativo")
    INACTIVE = "inactive", _("Inativo")
    ARCHIVED = "archived", _("Arquivado")


register_badges(
    PlanStatus,
    {
        PlanStatus.ACTIVE: "text-bg-success",
        PlanStatus.INACTIVE: "text-bg-warning",
        PlanStatus.ARCHIVED: "text-bg-secondary",
    },
)


class CouponStatus(models.TextChoices):
    """Where a coupon stands: derived from `is_active` and `expires_at` (plans.selectors.coupon_status),
    never stored. Expired wins over switched off."""

    ACTIVE = "active", _("Ativo")
    INACTIVE = "inactive", _("Inativo")
    EXPIRED = "expired", _("Expirado")


register_badges(
    CouponStatus,
    {
        CouponStatus.ACTIVE: "text-bg-success",
        CouponStatus.INACTIVE: "text-bg-warning",
        CouponStatus.EXPIRED: "text-bg-secondary",
    },
)


class TaxRateStatus(models.TextChoices):
    """A tax rate offered for new subscriptions or not: `is_active` as the lists show it."""

    ACTIVE = "active", _("Ativo")
    INACTIVE = "inactive", _("Inativo")


register_badges(
    TaxRateStatus, {TaxRateStatus.ACTIVE: "text-bg-success", TaxRateStatus.INACTIVE: "text-bg-warning"}
)


# action → the statuses it is allowed from. Services refuse anything else; templates hide the button.
# An archived plan is read-only until it is unarchived; delete is always offered (it may still be
# refused when subscriptions reference the plan).
PLAN_ACTIONS = {
    "edit": {PlanStatus.ACTIVE, PlanStatus.INACTIVE},
    "archive": {PlanStatus.ACTIVE, PlanStatus.INACTIVE},
    "unarchive": {PlanStatus.ARCHIVED},
    "delete": {PlanStatus.ACTIVE, PlanStatus.INACTIVE, PlanStatus.ARCHIVED},
}


class CouponKind(models.TextChoices):
    PERCENT = "percent", _("Percentual")
    FIXED = "fixed", _("Valor fixo")


class CouponDuration(models.TextChoices):
    """How long a coupon keeps discounting a subscription's invoices (Stripe's once/repeating/forever)."""

    ONCE = "once", _("Só na primeira cobrança")
    REPEATING = "repeating", _("Por N meses")
    FOREVER = "forever", _("Para sempre")


class CheckoutLinkStatus(models.TextChoices):
    """Whether a checkout link's public page takes sign-ups now (CheckoutLink.public_refusal)."""

    OPEN = "open", _("No ar")
    INACTIVE = "inactive", _("Desativado")
    CLOSED = "closed", _("Encerrado")


register_badges(
    CheckoutLinkStatus,
    {
        CheckoutLinkStatus.OPEN: "text-bg-success",
        CheckoutLinkStatus.INACTIVE: "text-bg-secondary",
        CheckoutLinkStatus.CLOSED: "text-bg-warning",
    },
)
