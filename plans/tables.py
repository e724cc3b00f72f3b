from decimal import Decimal

import django_tables2 as tables
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.badges import badge_label, render_badge
from core.money import format_money
from core.tables import ChoiceFieldColumn
from plans import selectors
from plans.choices import (
    CheckoutLinkStatus,
    CouponDuration,
    CouponKind,
    CouponStatus,
    PlanStatus,
    TaxRateStatus,
)

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


def percent_display(value: Decimal) -> str:
    """Decimal("5.5000") → "5,5%" in pt-BR: no trailing zeros, the language's decimal separator."""
    return f"{formats.number_format(value.normalize())}%"


def coupon_discount_display(coupon) -> str:
    if coupon.kind == CouponKind.FIXED:
        return format_money(coupon.amount_off, coupon.currency)
    return percent_display(coupon.percent_off) if coupon.percent_off is not None else "—"


def coupon_duration_display(coupon) -> str:
    if coupon.duration == CouponDuration.REPEATING and coupon.duration_in_months:
        count = coupon.duration_in_months
        return ngettext("Por %(count)s mês", "Por %(count)s meses", count) % {"count": count}
    return str(CouponDuration(coupon.duration).label)


def coupon_usage_display(redemptions: int, max_redemptions: int | None) -> str:
    """ "usos: 3 de 100", or "usos: 3 (sem limite)" when the coupon has no limit."""
    if max_redemptions is None:
        return _("usos: %(count)s (sem limite)") % {"count": redemptions}
    return _("usos: %(count)s de %(limit)s") % {"count": redemptions, "limit": max_redemptions}


class PlanTable(tables.Table):
    """The Planos list. Columns read only the row and the selector's annotations: no queries per row."""

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    price = tables.Column(
        verbose_name=_("Preço"),
        order_by=("price", "name", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}},
    )
    interval = tables.Column(
        verbose_name=_("Intervalo"),
        accessor="interval_label",
        order_by=("interval_days", "name", "pk"),
    )
    trial_days = tables.Column(
        verbose_name=_("Dias de teste"), attrs=_RIGHT, order_by=("trial_days", "name", "pk")
    )
    installments = tables.Column(verbose_name=_("Parcelas"), default=_("Até cancelar"), attrs=_RIGHT)
    status = ChoiceFieldColumn(
        choices=PlanStatus,
        verbose_name=_("Status"),
        order_by=("archived", "-is_active", "name", "pk"),
    )
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        sequence = ["name", "price", "interval", "trial_days", "installments", "status", "created_at"]
        order_by = "name"

    def render_price(self, value, record):
        return format_money(value, record.currency)

    def render_trial_days(self, value):
        if not value:
            return "—"
        return ngettext("%(count)s dia", "%(count)s dias", value) % {"count": value}

    def render_installments(self, value):
        return ngettext("%(count)s parcela", "%(count)s parcelas", value) % {"count": value}

    def order_installments(self, queryset, is_descending):
        # An empty value means "until cancelled", the longest plan: last going up, first going down,
        # on SQLite and PostgreSQL alike (they disagree on where NULL sorts by default).
        column = F("installments")
        ordering = column.desc(nulls_first=True) if is_descending else column.asc(nulls_last=True)
        return queryset.order_by(ordering, "name", "pk"), True


class CouponTable(tables.Table):
    """The Cupons list. Usage comes from the selector's `redemptions` annotation: no queries per row."""

    code = tables.Column(verbose_name=_("Código"), linkify=True, order_by=("code", "pk"))
    name = tables.Column(verbose_name=_("Nome"), default="—", order_by=("name", "code", "pk"))
    discount = tables.Column(verbose_name=_("Desconto"), accessor="pk", orderable=False, attrs=_RIGHT)
    duration = tables.Column(verbose_name=_("Duração"), order_by=("duration", "duration_in_months", "code"))
    redemptions = tables.Column(verbose_name=_("Usos"), order_by=("redemptions", "code", "pk"))
    expires_at = tables.DateTimeColumn(
        verbose_name=_("Válido até"), short=True, default="—", order_by=("expires_at", "code", "pk")
    )
    status = tables.Column(verbose_name=_("Status"), accessor="is_active", order_by=("-is_active", "code"))

    class Meta:
        sequence = ["code", "name", "discount", "duration", "redemptions", "expires_at", "status"]
        order_by = "code"

    def render_discount(self, record):
        return coupon_discount_display(record)

    def value_discount(self, record):
        return coupon_discount_display(record)

    def render_duration(self, record):
        return coupon_duration_display(record)

    def render_redemptions(self, value, record):
        return coupon_usage_display(value, record.max_redemptions)

    def render_status(self, record):
        return render_badge(CouponStatus, selectors.coupon_status(record, now=self._now()))

    def value_status(self, record):
        return badge_label(CouponStatus, selectors.coupon_status(record, now=self._now()))

    def _now(self):
        # One clock for the whole page, so two rows never disagree about the same instant.
        if not hasattr(self, "_rendered_at"):
            self._rendered_at = timezone.now()
        return self._rendered_at


class TaxRateTable(tables.Table):
    """The Impostos list; `subscription_count` is the selector's annotation."""

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    percentage = tables.Column(
        verbose_name=_("Alíquota"), attrs=_RIGHT, order_by=("percentage", "name", "pk")
    )
    inclusive = tables.Column(verbose_name=_("Cobrança"), order_by=("inclusive", "name", "pk"))
    subscription_count = tables.Column(
        verbose_name=_("Assinaturas"), attrs=_RIGHT, order_by=("subscription_count", "name", "pk")
    )
    status = tables.Column(verbose_name=_("Status"), accessor="is_active", order_by=("-is_active", "name"))
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        sequence = ["name", "percentage", "inclusive", "subscription_count", "status", "created_at"]
        order_by = "name"

    def render_percentage(self, value):
        return percent_display(value)

    def render_inclusive(self, value):
        return _("Incluso no preço") if value else _("Adicionado ao preço")

    def render_status(self, value):
        return render_badge(TaxRateStatus, TaxRateStatus.ACTIVE if value else TaxRateStatus.INACTIVE)

    def value_status(self, value):
        return badge_label(TaxRateStatus, TaxRateStatus.ACTIVE if value else TaxRateStatus.INACTIVE)


class CheckoutLinkTable(tables.Table):
    """Links de pagamento, with the conversion counts kept on each row (no query per row)."""

    name = tables.Column(verbose_name=_("Link"), accessor="pk", linkify=True, order_by=("name", "pk"))
    plan = tables.Column(verbose_name=_("Plano"), accessor="plan__name", order_by=("plan__name", "pk"))
    visits = tables.Column(verbose_name=_("Visitas"), attrs=_RIGHT, order_by=("visits", "pk"))
    started = tables.Column(verbose_name=_("Iniciados"), attrs=_RIGHT, order_by=("started", "pk"))
    completed = tables.Column(verbose_name=_("Concluídos"), attrs=_RIGHT, order_by=("completed", "pk"))
    status = tables.Column(verbose_name=_("Status"), accessor="is_active", order_by=("-is_active", "pk"))
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        sequence = ["name", "plan", "visits", "started", "completed", "status", "created_at"]
        order_by = "-created_at"

    def render_name(self, record):
        return str(record)

    def value_name(self, record):
        return str(record)

    def render_status(self, record):
        return render_badge(CheckoutLinkStatus, record.status(now=self._now()))

    def value_status(self, record):
        return badge_label(CheckoutLinkStatus, record.status(now=self._now()))

    def _now(self):
        if not hasattr(self, "_rendered_at"):
            self._rendered_at = timezone.now()
        return self._rendered_at
